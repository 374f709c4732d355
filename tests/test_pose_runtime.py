"""Tests the pose stage's own BlazePose graph: the geometry on NumPy, and wrong models refused."""

from __future__ import annotations

import math
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from coach.pose.graph import (
    ANCHOR_COUNT,
    Detection,
    Region,
    letterbox,
    refine_from_heatmap,
    region_from_points,
    region_overlap,
    ssd_anchors,
    unletterbox,
    weighted_nms,
)
from coach.pose.model_store import TASK_DETECTOR_NAME, TASK_LANDMARKS_NAME
from tests.conftest import REPO, sample_clip

COACH = [sys.executable, "-m", "coach"]


def test_anchors_match_the_detector_outputs() -> None:
    anchors = ssd_anchors()
    assert anchors.shape == (ANCHOR_COUNT, 2)
    # Stride 8: a 28 x 28 map with two anchors per cell, first cell centred at half a cell.
    assert anchors[0] == pytest.approx([0.5 / 28, 0.5 / 28])
    assert anchors[1] == pytest.approx(anchors[0])
    assert anchors[2] == pytest.approx([1.5 / 28, 0.5 / 28])
    # The last anchors: stride 32 (a 7 x 7 map, three layers, six per cell), bottom right.
    assert anchors[-1] == pytest.approx([6.5 / 7, 6.5 / 7])
    assert (anchors[-6:] == anchors[-1]).all()


def test_letterbox_round_trips() -> None:
    scale, offset_x, offset_y = letterbox(640, 480, 224)
    assert scale == pytest.approx(224 / 640)
    assert offset_x == pytest.approx(0.0)
    assert offset_y == pytest.approx((224 - 480 * scale) / 2)
    frame_point = np.array([[0.25, 0.75]], dtype=np.float32)
    in_square = np.array(
        [[(0.25 * 640 * scale + offset_x) / 224, (0.75 * 480 * scale + offset_y) / 224]],
        dtype=np.float32,
    )
    assert unletterbox(in_square, (640, 480), 224) == pytest.approx(frame_point, abs=1e-6)


def test_an_upright_body_gives_an_unrotated_square_region() -> None:
    # Hips' centre at (320, 300) px, the scale point straight above it, 100 px away.
    region = region_from_points(np.array([0.5, 0.625]), np.array([0.5, 200 / 480]), (640, 480))
    assert region.rotation_rad == pytest.approx(0.0, abs=1e-9)
    assert region.size_px == pytest.approx(2 * 100 * 1.25)
    assert (region.centre_x_px, region.centre_y_px) == pytest.approx((320, 300))


def test_a_body_lying_to_the_right_turns_the_region_a_quarter() -> None:
    region = region_from_points(np.array([0.5, 0.5]), np.array([0.6, 0.5]), (640, 480))
    assert region.rotation_rad == pytest.approx(math.pi / 2)
    # The crop's top edge (its "up") lies toward the scale point.
    top_middle = region.to_frame_px(np.array([[0.5, 0.0]], dtype=np.float32))[0]
    assert top_middle[0] > region.centre_x_px
    assert top_middle[1] == pytest.approx(region.centre_y_px, abs=1e-3)


def test_crop_corners_and_projection_agree() -> None:
    region = Region(centre_x_px=300, centre_y_px=200, size_px=160, rotation_rad=0.4)
    corners = region.corners_px()
    projected = region.to_frame_px(np.array([[0, 0], [1, 0], [0, 1]], dtype=np.float32))
    assert projected == pytest.approx(corners, abs=1e-3)


def test_overlap_of_a_region_with_itself_and_a_distant_one() -> None:
    region = Region(100, 100, 50, 0.0)
    assert region_overlap(region, region) == pytest.approx(1.0)
    assert region_overlap(region, Region(400, 400, 50, 0.0)) == 0.0


def test_weighted_nms_merges_overlapping_boxes_by_score() -> None:
    def detection(score: float, x: float) -> Detection:
        box = np.array([x, 0.1, x + 0.2, 0.3], dtype=np.float32)
        return Detection(score, box, np.full((4, 2), x, dtype=np.float32))

    merged = weighted_nms([detection(0.9, 0.10), detection(0.3, 0.12), detection(0.8, 0.7)])
    assert [round(d.score, 2) for d in merged] == [0.9, 0.8]
    assert merged[0].box[0] == pytest.approx((0.9 * 0.10 + 0.3 * 0.12) / 1.2)
    assert merged[1].box[0] == pytest.approx(0.7)


def test_heatmap_moves_a_landmark_to_its_peak_and_ignores_weak_ones() -> None:
    heatmap = np.full((64, 64, 2), -10.0, dtype=np.float32)
    heatmap[33, 31, 0] = 10.0  # row 33, column 31: a confident peak near the landmark
    crop_xy = np.array([[32 / 64, 32 / 64], [0.2, 0.2]], dtype=np.float32)
    refined = refine_from_heatmap(crop_xy, heatmap)
    assert refined[0] == pytest.approx([31 / 64, 33 / 64], abs=1e-3)
    assert refined[1] == pytest.approx([0.2, 0.2])  # no confident cell: left alone


def _bundle(path: Path, detector: bytes, landmarks: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr(TASK_DETECTOR_NAME, detector)
        bundle.writestr(TASK_LANDMARKS_NAME, landmarks)
    return path


def _one_line_error(model: Path) -> str:
    result = subprocess.run(
        [*COACH, "analyze", str(sample_clip("neutral")), "--model", str(model)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 1, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("which", ["swapped", "garbage"])
def test_a_bundle_with_the_right_names_but_wrong_models_is_one_line(
    tmp_path: Path, model_path: Path, which: str
) -> None:
    with zipfile.ZipFile(model_path) as real:
        detector, landmarks = real.read(TASK_DETECTOR_NAME), real.read(TASK_LANDMARKS_NAME)
    if which == "swapped":
        bad = _bundle(tmp_path / "swapped.task", landmarks, detector)
        expected = "not a BlazePose model"
    else:
        bad = _bundle(tmp_path / "garbage.task", b"TFL3" + bytes(64), landmarks)
        expected = "not a usable TFLite model"
    line = _one_line_error(bad)
    assert line.startswith("coach: error:")
    assert expected in line
