"""Tests that a desk sitter's everyday moves count no reps: side leans without a tempo, neck
stretches, nodding while leaning in (issue 21: the real desk recordings count none)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from coach.config import RepConfig
from coach.features.rep_signals import ear_roll_deg, shoulder_roll_deg, view_context
from coach.records import CountableMovement, Pose
from testkit.synthetic import BodyPose, Camera, synthetic_pose
from tests.rep_streams import count_both, ease, pose_stream

CAT_COW, LATERAL_FLEXION = CountableMovement.CAT_COW, CountableMovement.LATERAL_FLEXION
CONFIG = RepConfig()
DESK = Camera()
FPS = 15.0


def _bump(t_s: float, start_s: float, move_s: float, hold_s: float) -> float:
    back_s = start_s + move_s + hold_s
    return ease(t_s, start_s, start_s + move_s) - ease(t_s, back_s, back_s + move_s)


def _desk(body_at: Callable[[float], BodyPose], duration_s: float) -> Iterator[tuple[float, Pose]]:
    """A desk webcam's stream: the desk hides the hips, as in the real desk recordings."""
    return pose_stream(body_at, duration_s, DESK, seed=5, fps=FPS, hips=False)


@pytest.mark.parametrize("steady", [True, False], ids=["steady-tempo", "leans-held-at-random"])
def test_side_leans_make_a_set_only_at_a_steady_tempo(steady: bool) -> None:
    # Five bends a rep every 7 s, left and right in turn: the same period either way, but at
    # a desk one lean is held long and the next let go at once (the real recording held one
    # 9 s between two of 2-3 s), while a set keeps its tempo.
    holds_s = [2.0] * 5 if steady else [0.3, 4.0, 0.3, 4.0, 0.3]
    ends_s = [9.0 + 7.0 * i for i in range(5)]
    bumps = [(end_s - 2.0 - hold_s, hold_s) for end_s, hold_s in zip(ends_s, holds_s, strict=True)]

    def body_at(t_s: float) -> BodyPose:
        lean = sum((-1.0) ** i * _bump(t_s, s, 1.0, h) for i, (s, h) in enumerate(bumps))
        return BodyPose(lean_deg=16.0 * lean)

    counter, recognised = count_both(LATERAL_FLEXION, _desk(body_at, 48.0), CONFIG)
    assert counter.reps == 5  # counted when asked for, whatever the tempo
    assert recognised == (5 if steady else 0)


@pytest.mark.parametrize("neck", [True, False], ids=["neck-stretch", "side-bend"])
def test_a_neck_stretch_is_no_side_bend(neck: bool) -> None:
    # The head tilts 35 degrees toward each shoulder, the shoulders follow a little (6); the
    # control bends the trunk 16 degrees, the head riding along.
    starts_s = [3.0 + 5.0 * i for i in range(4)]

    def body_at(t_s: float) -> BodyPose:
        out = sum((-1.0) ** i * _bump(t_s, s, 1.0, 1.5) for i, s in enumerate(starts_s))
        if neck:
            return BodyPose(lean_deg=6.0 * out, head_roll_deg=29.0 * out)
        return BodyPose(lean_deg=16.0 * out)

    counter, recognised = count_both(LATERAL_FLEXION, _desk(body_at, 26.0), CONFIG)
    assert (counter.reps, recognised) == ((0, 0) if neck else (4, 4))


def test_the_head_roll_of_a_neck_stretch_is_several_times_the_shoulders() -> None:
    # What the rule reads: a side bend rolls the ears about as far as the shoulders; a neck
    # stretch rolls them several times as far.
    neutral = synthetic_pose(BodyPose(), DESK)
    context = view_context(neutral, CONFIG.min_visibility)

    def rolls(body: BodyPose) -> tuple[float, float]:
        pose = synthetic_pose(body, DESK)
        return ear_roll_deg(pose, context), shoulder_roll_deg(pose, context)

    ears, shoulders = rolls(BodyPose(lean_deg=16.0))
    assert 0.7 * shoulders < ears < 1.3 * shoulders
    ears, shoulders = rolls(BodyPose(lean_deg=6.0, head_roll_deg=29.0))
    assert ears > CONFIG.lateral_max_head_roll_ratio * shoulders > 0.0


@pytest.mark.parametrize("spine", [True, False], ids=["cat-cow", "nodding-leaning-in"])
def test_nodding_while_leaning_in_is_no_cat_cow(spine: bool) -> None:
    # Leaning in toward the screen lifts the trunk signal at both poles (the shoulders grow in
    # the image): with a nod up and down it spans cow to cat, yet the spine never rounds.
    starts_s = [3.0 + 2.2 * k for k in range(10)]

    def body_at(t_s: float) -> BodyPose:
        out = [_bump(t_s, s, 0.8, 0.6) for s in starts_s]
        cow, cat = sum(out[0::2]), sum(out[1::2])
        if spine:
            return BodyPose(
                extension=0.9 * cow,
                rounding=0.8 * cat,
                pitch_deg=-20.0 * cow + 25.0 * cat,
                forward_head_m=0.015 * cat,
            )
        return BodyPose(
            pitch_deg=-20.0 * cow + 25.0 * cat,
            extension=0.3 * cow,
            shift_m=(0.0, 0.0, -0.25 * (cow + 0.8 * cat)),
        )

    counter, recognised = count_both(CAT_COW, _desk(body_at, 28.0), CONFIG)
    assert (counter.reps, recognised) == ((5, 5) if spine else (0, 0))
