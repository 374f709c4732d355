"""Acceptance tests: the real pose model on a real photo and on every sample clip (no mocks)."""

from __future__ import annotations

import dataclasses
import itertools
from functools import cache
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest

from coach.config import Config, LoopConfig, NudgeConfig, PromptConfig
from coach.features.geometry import roll_deg
from coach.landmarks import Landmark
from coach.movements import load_library
from coach.pose.estimator import PoseEstimator
from coach.records import Frame, Tracking
from coach.session_collect import Collected, collected
from coach.session_options import Mode, SessionOptions
from testkit.evaluation import inside, load_truth, slouch_agreement
from tests.conftest import MODEL, sample_clip

pytestmark = pytest.mark.slow

CALIBRATE_S = 5.0


@cache
def analysed(name: str, fps: float | None = None, hold_s: float = 45.0) -> Collected:
    """Each clip is analysed once per test session (the model is the slow part), by the
    session `coach run` runs, on the file as fast as it decodes.

    `fps` None: the coach's own adaptive rate; else analysed at that rate throughout.
    """
    config = dataclasses.replace(
        Config(),
        loop=LoopConfig() if fps is None else LoopConfig(idle_fps=fps, posture_fps=fps),
        nudge=NudgeConfig(hold_s=hold_s),
        prompts=PromptConfig(cooldown_s=60.0),
    )
    options = SessionOptions(Mode.RUN, str(sample_clip(name)), model=MODEL, calibrate_s=CALIBRATE_S)
    return collected(options, config, load_library())


def test_the_model_finds_grace_hopper_in_the_real_photo(model_path: Path) -> None:
    image = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    assert image is not None
    with PoseEstimator(model_path, Config().pose) as estimator:
        sample = estimator.estimate(Frame(image=image, t_s=0.0, index=0))
    pose = sample.pose
    assert pose is not None and sample.tracking is Tracking.OK
    nose, left, right = (
        pose.pixels(lm) for lm in (Landmark.NOSE, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)
    )
    assert nose[1] < min(left[1], right[1])  # the head is above the shoulders
    assert min(left[0], right[0]) < nose[0] < max(left[0], right[0])
    assert abs(left[0] - right[0]) > 0.5 * image.shape[1]  # a head-and-shoulders portrait


@pytest.mark.parametrize(
    "name",
    ["neutral", "slouch", "forward_head_grades", "cat_cow", "lateral_flexion", "still_moving_away"],
)
def test_a_person_is_found_in_every_frame_they_are_in(name: str, model_path: Path) -> None:
    run = analysed(name)
    truth = load_truth(sample_clip(name))
    times, present = truth["tracks"]["t_s"], truth["tracks"]["present"]
    found = missed = ghosts = away_frames = 0
    for snap in run.snapshots:
        i = min(range(len(times)), key=lambda k: abs(times[k] - snap.t_s))
        seen = snap.sample.tracking is not Tracking.NO_PERSON
        # Allow a second after the clip's abrupt cut to an empty scene (the tracker lets go;
        # real people take longer than one frame to leave).
        recent = present[max(0, i - 15) : i + 1]
        settled = all(recent) or not any(recent)
        if present[i]:
            found += seen
            missed += not seen
        elif settled:
            away_frames += 1
            ghosts += seen
    assert missed == 0 and found > 0
    assert ghosts == 0
    if name == "still_moving_away":
        assert away_frames >= 25  # analysed at the lower away rate (2 fps)


def test_shoulder_line_follows_the_known_lean(model_path: Path) -> None:
    run = analysed("lateral_flexion", fps=15.0)
    truth = load_truth(sample_clip("lateral_flexion"))
    times, lean = np.array(truth["tracks"]["t_s"]), np.array(truth["tracks"]["lean_deg"])
    measured, expected = [], []
    for snap in run.snapshots:
        pose = snap.sample.pose
        if pose is None or not snap.sample.usable:
            continue
        # The tracked (smoothed) landmarks themselves, not a posture metric.
        measured.append(roll_deg(pose, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER))
        expected.append(float(np.interp(snap.t_s, times, lean)))
    measured_arr, expected_arr = np.array(measured), np.array(expected)
    # The photo's own shoulder line is not level: remove the offset seen while upright.
    rest = np.abs(expected_arr) < 0.5
    errors_arr = measured_arr - np.median(measured_arr[rest] - expected_arr[rest]) - expected_arr
    assert len(errors_arr) > 400
    assert np.mean(np.abs(errors_arr)) < 3.0, np.mean(np.abs(errors_arr))
    assert np.max(np.abs(errors_arr)) < 8.0


def test_slouch_clip_state_agrees_with_the_truth(model_path: Path) -> None:
    run = analysed("slouch", hold_s=10.0)
    truth = load_truth(sample_clip("slouch"))
    score = slouch_agreement(
        run.snapshots, truth["slouch_intervals_s"], after_s=CALIBRATE_S, margin_s=3.0
    )
    assert score.agreement >= 0.95, score
    nudges = [s.nudge for s in run.snapshots if s.nudge is not None]
    assert len(nudges) == 2  # one per episode (10 s hold), none elsewhere
    assert all(inside(n.t_s, truth["slouch_intervals_s"]) for n in nudges)
    for name in ("glance_intervals_s", "look_up_intervals_s"):
        assert all(s.state == "upright" for s in run.snapshots if inside(s.t_s, truth[name]))


def test_forward_head_grows_with_each_grade_and_the_end_is_flagged(model_path: Path) -> None:
    run = analysed("forward_head_grades")
    truth = load_truth(sample_clip("forward_head_grades"))
    means, slouched = [], []
    for grade in truth["grades"]:
        window = [s for s in run.snapshots if grade["start_s"] + 2.0 <= s.t_s < grade["end_s"]]
        means.append(np.mean([s.metrics.forward_head for s in window if s.metrics is not None]))
        slouched.append(np.mean([s.state == "slouched" for s in window]))
    assert all(b > a for a, b in itertools.pairwise(means)), means
    assert slouched[0] == 0.0
    assert min(slouched[-2:]) >= 0.9
    look_up = [s for s in run.snapshots if inside(s.t_s, truth["look_up_intervals_s"])]
    assert look_up and all(s.state != "slouched" for s in look_up)
    assert np.mean([s.metrics.forward_head for s in look_up if s.metrics is not None]) < 8.0


def test_neutral_sitting_is_never_slouched(model_path: Path) -> None:
    run = analysed("neutral")
    after = [s for s in run.snapshots if s.t_s >= CALIBRATE_S]
    assert after and all(s.state == "upright" for s in after)
