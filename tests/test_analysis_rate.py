"""Tests the adaptive analysis rate: rare while nothing changes, up at once when something does."""

from __future__ import annotations

import dataclasses

import numpy as np

from coach.config import LoopConfig
from coach.decisions.analysis_rate import AnalysisRate, RateInputs
from coach.landmarks import Landmark
from coach.records import Pose
from tests.conftest import make_pose

LOOP = LoopConfig()


def inputs(pose: Pose | None, score: float | None = None, **flags: bool) -> RateInputs:
    return RateInputs(
        pose=pose,
        slouch_score=score,
        exercising=flags.get("exercising", False),
        settling=flags.get("settling", False),
        away=flags.get("away", False),
    )


def typing(pose: Pose, t_s: float) -> Pose:
    """The same seated pose with the hands somewhere else (keys, mouse)."""
    xyz = pose.image_xyz.copy()
    for wrist in (Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST):
        xyz[wrist, :2] += np.float32(0.05 * np.sin(7 * t_s))
    return dataclasses.replace(pose, image_xyz=xyz, t_s=t_s)


def test_sitting_still_or_typing_is_looked_at_once_a_second() -> None:
    rate = AnalysisRate(LOOP)
    fps = [rate.update(inputs(typing(make_pose(), float(t))), float(t)).fps for t in range(60)]
    assert fps[-1] == LOOP.idle_fps == 1.0
    assert all(f == LOOP.idle_fps for f in fps)


def test_a_move_of_the_head_or_shoulders_raises_the_rate_at_once_then_it_settles() -> None:
    rate = AnalysisRate(LOOP)
    for t in range(10):
        rate.update(inputs(make_pose(float(t))), float(t))
    # The user shifts sideways by a fifth of a shoulder width between two looks.
    moved = make_pose(10.0, centre_x=0.5 + 0.2 * 0.36 * 480 / 640)
    assert rate.update(inputs(moved), 10.0).fps == LOOP.posture_fps
    # Still again: the higher rate holds for settle_s after the last change, then drops.
    t = 10.0
    while t < 10.0 + LOOP.settle_s - 0.2:
        t += 0.2
        assert rate.update(inputs(dataclasses.replace(moved, t_s=t)), t).fps == LOOP.posture_fps
    assert rate.update(inputs(moved), 10.0 + LOOP.settle_s + 0.1).fps == LOOP.idle_fps


def test_jitter_smaller_than_the_wake_threshold_does_not_raise_it() -> None:
    rate = AnalysisRate(LOOP)
    rng = np.random.default_rng(1)
    base = make_pose()
    for t in range(60):
        xyz = base.image_xyz + rng.normal(0, 0.004, base.image_xyz.shape).astype(np.float32)
        assert rate.update(inputs(dataclasses.replace(base, image_xyz=xyz)), float(t)).fps == 1.0


def test_arriving_and_leaving_raise_it() -> None:
    rate = AnalysisRate(LOOP)
    rate.update(inputs(None, away=True), 0.0)
    assert rate.update(inputs(None, away=True), 1.0).fps == min(LOOP.away_fps, LOOP.idle_fps)
    assert rate.update(inputs(make_pose(2.0)), 2.0).fps == LOOP.posture_fps  # someone sat down
    rate.update(inputs(make_pose(9.0)), 9.0)
    assert rate.update(inputs(None), 10.0).fps == LOOP.posture_fps  # gone: confirm it quickly


def test_a_set_or_a_calibration_or_an_open_prompt_keep_it_up() -> None:
    rate = AnalysisRate(LOOP)
    assert rate.update(inputs(make_pose(), exercising=True), 0.0).fps == LOOP.exercise_fps
    assert rate.update(inputs(make_pose(), settling=True), 30.0).fps == LOOP.posture_fps
    assert rate.update(inputs(make_pose()), 60.0).fps == LOOP.idle_fps


def test_a_posture_on_the_move_raises_it() -> None:
    rate = AnalysisRate(LOOP)
    for t in range(5):
        assert rate.update(inputs(make_pose(float(t)), score=1.0), float(t)).fps == LOOP.idle_fps
    # The score climbs toward a slouch (no landmark moves much on its own): look closer.
    assert rate.update(inputs(make_pose(5.0), score=5.0), 5.0).fps == LOOP.posture_fps


def test_quiet_only_while_upright_and_still_watching_the_head_and_shoulders() -> None:
    rate = AnalysisRate(LOOP)
    for t in range(20):
        plan = rate.update(inputs(make_pose(float(t))), float(t))
    assert plan.quiet and plan.watch is not None
    left, top, right, bottom = plan.watch
    pose = make_pose()
    nose_x, nose_y = pose.image_xyz[Landmark.NOSE, :2]
    assert left < nose_x < right and top < nose_y < bottom
    assert left > 0.0 and right < 1.0  # a part of the picture, not all of it
    slouching = rate.update(dataclasses.replace(inputs(make_pose(20.0)), posture_ok=False), 20.0)
    assert slouching.fps == LOOP.idle_fps and not slouching.quiet  # its nudge comes on time
    assert not rate.update(inputs(make_pose(21.0), exercising=True), 21.0).quiet


def test_away_is_quiet_over_the_whole_picture() -> None:
    rate = AnalysisRate(LOOP)
    for t in range(20):
        plan = rate.update(inputs(None, away=True), float(t))
    assert plan.quiet and plan.watch is None
