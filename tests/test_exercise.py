"""Tests the rep counters inside the whole analyzer: prompted sets, unprompted sets, posture held."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from coach.analyzer import Analyzer
from coach.config import Config, PromptConfig, StationaryConfig
from coach.decisions.stages import GuidedSet
from coach.movements import load_library
from coach.records import Nudge, PromptResolved, SetCompleted, Snapshot
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample

FPS = 15.0


def cat_cow_body(phase_s: float, period_s: float = 4.0) -> BodyPose:
    """Cow (chest up, chin up) then cat (rounded, chin down), smoothly, 2 s each."""
    x = math.sin(2 * math.pi * phase_s / period_s)
    return BodyPose(
        extension=max(x, 0.0), rounding=max(-x, 0.0), pitch_deg=-15.0 * x if x > 0 else -25.0 * x
    )


def lateral_body(phase_s: float, period_s: float = 8.0) -> BodyPose:
    return BodyPose(lean_deg=16.0 * math.sin(2 * math.pi * phase_s / period_s))


def stream(analyzer: Analyzer, bodies, start_s: float, rng) -> tuple[list[Snapshot], float]:
    snaps = []
    t = start_s
    for body in bodies:
        pose = synthetic_pose(body, Camera(), noise_px=0.5, rng=rng)
        snaps.append(analyzer.update(synthetic_sample(pose, t)))
        t += 1.0 / FPS
    return snaps, t


def events(snaps: list[Snapshot], kind: type) -> list:
    return [e for s in snaps for e in s.events if isinstance(e, kind)]


def test_a_prompted_set_is_counted_and_recorded_against_the_prompt() -> None:
    config = dataclasses.replace(Config(), stationary=StationaryConfig(still_minutes=0.25))
    analyzer = Analyzer(config, load_library(), calibrate_s=3.0)
    rng = np.random.default_rng(0)
    snaps, t = stream(analyzer, [BodyPose()] * int(20 * FPS), 0.0, rng)
    (nudge,) = events(snaps, Nudge)
    assert nudge.reason == "stationary"
    movement = nudge.extra_movements[0]
    assert analyzer.look_plan.fps == config.loop.exercise_fps  # the counter is armed
    body = cat_cow_body if movement == "cat-cow" else lateral_body
    period = 4.0 if movement == "cat-cow" else 8.0
    reps = load_library().get(movement).reps or 5
    moves = [body(i / FPS, period) for i in range(int(reps * period * FPS))]
    snaps, t = stream(
        analyzer, [BodyPose()] * int(3 * FPS) + moves + [BodyPose()] * int(10 * FPS), t, rng
    )
    (done,) = events(snaps, SetCompleted)
    assert done.prompt_id == nudge.prompt_id and not done.recognised
    assert done.movement == movement
    if movement == "lateral-flexion":
        assert done.per_side == {"left": reps, "right": reps}
    else:
        assert done.reps == reps
    outcome = [r for r in events(snaps, PromptResolved) if r.prompt_id == nudge.prompt_id]
    assert outcome and outcome[0].outcome == "done"
    # Mid-set the posture verdict is held: a "cat" is not a slouch.
    assert all(s.state != "slouched" for s in snaps)


def test_an_unprompted_set_is_recognised_and_fidgeting_is_not() -> None:
    analyzer = Analyzer(Config(), load_library(), calibrate_s=3.0)
    rng = np.random.default_rng(1)
    snaps, t = stream(analyzer, [BodyPose()] * int(10 * FPS), 0.0, rng)
    fidget = [
        BodyPose(shift_m=(0.01 * math.sin(i / 7), 0, 0), lean_deg=2 * math.sin(i / 5))
        for i in range(int(30 * FPS))
    ]
    snaps, t = stream(analyzer, fidget, t, rng)
    assert not events(snaps, SetCompleted)
    moves = [cat_cow_body(i / FPS) for i in range(int(5 * 4.0 * FPS))]
    snaps, t = stream(analyzer, moves + [BodyPose()] * int(10 * FPS), t, rng)
    (done,) = events(snaps, SetCompleted)
    assert done.recognised and done.movement == "cat-cow" and done.reps == 5
    assert done.prompt_id is None


def test_an_armed_counter_nobody_starts_lets_go() -> None:
    config = dataclasses.replace(
        Config(),
        stationary=StationaryConfig(still_minutes=0.25),
        prompts=PromptConfig(respond_s=20.0),
    )
    analyzer = Analyzer(config, load_library(), calibrate_s=3.0)
    rng = np.random.default_rng(2)
    snaps, t = stream(analyzer, [BodyPose()] * int(20 * FPS), 0.0, rng)
    assert events(snaps, Nudge) and analyzer.exercise.active
    snaps, t = stream(analyzer, [BodyPose()] * int(25 * FPS), t, rng)
    assert not analyzer.exercise.active
    assert analyzer.look_plan.fps <= config.loop.posture_fps  # back from the exercise rate
    assert [r.outcome for r in events(snaps, PromptResolved)] == ["ignored"]


def test_a_guided_set_counts_from_the_first_phase() -> None:
    analyzer = Analyzer(Config(), load_library(), calibrate_s=3.0, guided=GuidedSet("cat-cow", 4))
    rng = np.random.default_rng(3)
    moves = [cat_cow_body(i / FPS) for i in range(int(4 * 4.0 * FPS))]
    snaps, _ = stream(
        analyzer, [BodyPose()] * int(4 * FPS) + moves + [BodyPose()] * int(3 * FPS), 0.0, rng
    )
    (done,) = events(snaps, SetCompleted)
    assert done.reps == 4 and "Target reached: 4 of 4." in done.feedback
    counted = [s.counter.reps for s in snaps if s.counter is not None]
    assert counted == sorted(counted)  # the live count only goes up


def test_a_recognised_set_ends_when_its_rhythm_stops_and_a_slouch_is_judged_again() -> None:
    analyzer = Analyzer(Config(), load_library(), calibrate_s=3.0)
    rng = np.random.default_rng(2)
    snaps, t = stream(analyzer, [BodyPose()] * int(10 * FPS), 0.0, rng)
    moves = [cat_cow_body(i / FPS) for i in range(int(4 * 4.0 * FPS))]
    snaps, t = stream(analyzer, moves, t, rng)
    assert analyzer.exercise.moving_on_purpose  # recognised: its "cat" is no slouch
    set_over_s = t
    # Then a long slouch with the head bobbing (reading, typing): no rhythm, no rep.
    slouch = [
        BodyPose(rounding=0.8, forward_head_m=0.04, pitch_deg=8.0 + 6.0 * math.sin(i / 9))
        for i in range(int(60 * FPS))
    ]
    snaps, t = stream(analyzer, slouch, t, rng)
    (done,) = events(snaps, SetCompleted)
    assert done.recognised and done.movement == "cat-cow"
    assert done.t_s - set_over_s <= Config().reps.recognise_max_period_s + 2.0
    assert snaps[-1].state == "slouched"
