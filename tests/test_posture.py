"""Tests for posture cues and metrics on the synthetic body, from front, oblique and side cameras."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from coach.features.posture import PostureCues, measure_cues, median_cues, posture_metrics
from coach.features.view import classify_view, shoulder_yaw_deg
from coach.synthetic import BodyPose, Camera, synthetic_pose

VIEWS = {"front": 0.0, "oblique": 45.0, "side": 90.0}


def metrics_for(body: BodyPose, yaw_deg: float, neutral_body: BodyPose | None = None):
    camera = Camera(yaw_deg=yaw_deg)
    neutral = measure_cues(synthetic_pose(neutral_body or BodyPose(), camera))
    cues = measure_cues(synthetic_pose(body, camera))
    assert neutral is not None and cues is not None
    return posture_metrics(cues, neutral)


@pytest.mark.parametrize(("view", "yaw"), list(VIEWS.items()))
def test_view_is_detected_from_the_landmarks(view: str, yaw: float) -> None:
    pose = synthetic_pose(BodyPose(), Camera(yaw_deg=yaw))
    assert classify_view(shoulder_yaw_deg(pose)) == view
    cues = measure_cues(pose)
    assert cues is not None and cues.view == view


@pytest.mark.parametrize("yaw", VIEWS.values())
def test_neutral_reads_zero(yaw: float) -> None:
    m = metrics_for(BodyPose(), yaw)
    assert m is not None
    assert abs(m.forward_head) < 1e-6 and abs(m.thoracic_rounding) < 1e-6


@pytest.mark.parametrize("yaw", VIEWS.values())
def test_forward_head_grows_with_each_grade(yaw: float) -> None:
    values = []
    for forward_m in (0.0, 0.02, 0.04, 0.06, 0.08):
        m = metrics_for(BodyPose(forward_head_m=forward_m), yaw)
        assert m is not None
        values.append(m.forward_head)
    assert all(b > a + 2.0 for a, b in itertools.pairwise(values)), values
    assert values[-1] >= 15.0  # the end of the range is a slouch in every view


@pytest.mark.parametrize("yaw", VIEWS.values())
def test_rounding_grows_with_the_slump(yaw: float) -> None:
    values = []
    for rounding in (0.0, 0.5, 1.0):
        m = metrics_for(BodyPose(rounding=rounding), yaw)
        assert m is not None
        values.append(m.thoracic_rounding)
    assert values[0] < values[1] < values[2]
    assert values[2] >= 15.0


@pytest.mark.parametrize("yaw", VIEWS.values())
@pytest.mark.parametrize("pitch_deg", [-25.0, 20.0, 35.0])
def test_looking_down_or_up_is_not_forward_head(yaw: float, pitch_deg: float) -> None:
    m = metrics_for(BodyPose(pitch_deg=pitch_deg), yaw)
    assert m is not None
    assert m.forward_head < 8.0 and m.thoracic_rounding < 8.0
    if pitch_deg > 0:
        assert m.pitch_change > 0.15  # the glance itself is seen, as a nod
    else:
        assert m.pitch_change < -0.15


def test_lateral_lean_is_measured_from_the_front() -> None:
    m = metrics_for(BodyPose(lean_deg=12.0), 0.0)
    assert m is not None
    assert m.lean_deg == pytest.approx(12.0, abs=1.0)
    assert m.forward_head < 8.0 and m.thoracic_rounding < 8.0


def test_untrustworthy_frames_give_no_value() -> None:
    camera = Camera()
    hidden = synthetic_pose(BodyPose(), camera, visibility=0.2)
    assert measure_cues(hidden) is None
    out_of_frame = synthetic_pose(BodyPose(shift_m=(0.6, 0.0, 0.0)), camera)
    assert measure_cues(out_of_frame) is None
    # Head turned far to the side while the shoulders face the camera.
    turned = synthetic_pose(BodyPose(), camera)
    turned.image_xyz[0, 0] += 0.05
    assert measure_cues(turned) is None


def test_median_cues_ignores_outliers() -> None:
    camera = Camera()
    cues = [
        measure_cues(synthetic_pose(BodyPose(), camera, noise_px=1.0, rng=np.random.default_rng(i)))
        for i in range(9)
    ]
    cues.append(measure_cues(synthetic_pose(BodyPose(forward_head_m=0.2), camera)))
    typed = [c for c in cues if isinstance(c, PostureCues)]
    neutral = median_cues(typed)
    clean = measure_cues(synthetic_pose(BodyPose(), camera))
    assert clean is not None
    assert neutral.head_size == pytest.approx(clean.head_size, rel=0.02)
    assert math.isnan(neutral.ear_shoulder_deg)
