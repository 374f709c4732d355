"""Time without frames (locked, asleep, paused, no camera, the coach stopped) is never sitting still."""

from __future__ import annotations

import dataclasses

from coach.analyzer import Analyzer
from coach.config import Config
from coach.movements import load_library
from coach.records import (
    Condition,
    Interruption,
    Nudge,
    PoseSample,
    Reason,
    Snapshot,
)
from testkit.synthetic import scenario

STILL_MINUTES = 3.0


def config() -> Config:
    base = Config()
    return dataclasses.replace(
        base,
        stationary=dataclasses.replace(base.stationary, still_minutes=STILL_MINUTES),
        prompts=dataclasses.replace(base.prompts, working_hours=""),
    )


def sitting(seconds: float, start_s: float, seed: int) -> list[PoseSample]:
    samples, _ = scenario([("still", seconds)], fps=1.0, seed=seed)
    return [s.at(start_s + s.t_s) for s in samples]


def replay(
    before_s: float, gap_s: float, after_s: float, told: Condition | None
) -> tuple[list[Snapshot], list[Snapshot]]:
    """Sit `before_s`, nothing for `gap_s` (told as `told`, or not told at all), sit `after_s`."""
    analyzer = Analyzer(config(), load_library(), calibrate_s=5.0)
    first = [analyzer.update(s) for s in sitting(before_s, 0.0, seed=1)]
    back_s = before_s + gap_s
    if told is not None:
        analyzer.interrupted(Interruption(first[-1].t_s, back_s, told))
    second = [analyzer.update(s) for s in sitting(after_s, back_s, seed=2)]
    return first, second


def stillness_nudges(snapshots: list[Snapshot]) -> list[Nudge]:
    return [
        e
        for s in snapshots
        for e in s.events
        if isinstance(e, Nudge) and e.reason is Reason.STATIONARY
    ]


def test_a_locked_hour_is_a_break_not_a_still_stretch() -> None:
    first, second = replay(120.0, 3600.0, 60.0, Condition.LOCKED)
    assert first[-1].seated_s >= 110.0
    # The sitting timer starts again at the unlock; no prompt for the hour locked.
    assert second[-1].seated_s <= 61.0
    assert stillness_nudges(second) == []
    told = [e for e in second[0].events if isinstance(e, Interruption)]
    assert told and told[0].condition is Condition.LOCKED


def test_a_suspend_that_nobody_announced_is_a_break_too() -> None:
    # The coach was stopped (SIGSTOP) or the machine slept without a word: 3 hours pass
    # between two frames. That must not become a 3-hour sitting stretch and a nudge.
    _, second = replay(120.0, 3 * 3600.0, 60.0, None)
    assert second[-1].seated_s <= 61.0
    assert stillness_nudges(second) == []
    told = [e for e in second[0].events if isinstance(e, Interruption)]
    assert told and told[0].rest and told[0].duration_s >= 3 * 3600.0 - 1.0


def test_time_without_a_camera_counts_as_neither_sitting_nor_a_break() -> None:
    first, second = replay(120.0, 600.0, 30.0, Condition.NO_CAMERA)
    before = first[-1].seated_s
    # The sitting timer carries on from where it stopped: the 10 minutes are not in it.
    assert before + 25.0 <= second[-1].seated_s <= before + 32.0


def test_the_sitting_timer_still_prompts_when_no_time_is_lost() -> None:
    # Control: without any gap, the same sitting earns its prompt (the tests above can fail).
    analyzer = Analyzer(config(), load_library(), calibrate_s=5.0)
    snapshots = [analyzer.update(s) for s in sitting(STILL_MINUTES * 60 + 30, 0.0, seed=1)]
    assert stillness_nudges(snapshots)
