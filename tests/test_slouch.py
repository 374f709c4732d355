"""Tests for the slouch state machine and nudge timing on scripted, timestamped sequences."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from coach.config import NudgeConfig, PromptConfig, SlouchConfig, StationaryConfig
from coach.decisions.hysteresis import DebouncedSwitch
from coach.decisions.nudge import PostureNudger
from coach.decisions.prompts import PromptPolicy
from coach.decisions.slouch import SlouchDetector
from coach.decisions.stationary import ActivityStatus
from coach.features.posture import PostureMetrics
from coach.movements import load_library
from coach.records import Activity, PostureState, Reason, SlouchCue

FPS = 5.0
AWAY_AFTER_S = StationaryConfig().away_after_s


def m(forward: float = 0.0, rounding: float = 0.0, pitch: float = 0.0) -> PostureMetrics:
    return PostureMetrics(forward, rounding, 0.0, pitch)


def script(
    *segments: tuple[float, PostureMetrics | None, bool],
) -> Iterable[tuple[float, PostureMetrics | None, bool]]:
    """(duration_s, metrics, person_seen) segments → timestamped frames at 5 fps."""
    t_s = 0.0
    for duration_s, metrics, seen in segments:
        for _ in range(round(duration_s * FPS)):
            yield t_s, metrics, seen
            t_s += 1.0 / FPS


def states(detector: SlouchDetector, frames) -> list[tuple[float, PostureState]]:
    return [(t, detector.update(mm, seen, t).state) for t, mm, seen in frames]


def test_debounced_switch_needs_continuous_evidence() -> None:
    switch = DebouncedSwitch(on_after_s=2.0, off_after_s=1.0)
    assert not switch.update(True, 0.0)
    assert not switch.update(True, 1.9)
    assert not switch.update(None, 2.1)  # a gap in the evidence restarts the wait
    assert not switch.update(True, 2.2)
    assert switch.update(True, 4.2)
    assert switch.update(False, 4.5)
    assert not switch.update(False, 5.5)


def test_enter_and_exit_thresholds_with_minimum_durations() -> None:
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    frames = list(
        script(
            (10, m(), True), (20, m(forward=25), True), (10, m(forward=15), True), (10, m(), True)
        )
    )
    result = states(detector, frames)
    slouched = [t for t, s in result if s is PostureState.SLOUCHED]
    assert result[0][1] is PostureState.UPRIGHT
    # 2 s after the metric crossed the enter threshold: between the looks at 9.8 and 10.0 s,
    # dated midway (9.9 s), as a change seen once a second is dated half a second back.
    assert 11.9 - 1e-6 <= slouched[0] <= 12.4
    # Between the thresholds (a score of 7.5 is below enter 10, above exit 6) it holds.
    assert any(30 < t < 40 for t in slouched)
    assert 40.6 <= slouched[-1] <= 41.0  # upright 1 s after falling below the exit threshold


def test_a_glance_at_the_keyboard_never_counts() -> None:
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    frames = script((10, m(), True), (3, m(forward=20, pitch=0.35), True), (10, m(), True))
    assert all(s is PostureState.UPRIGHT for _, s in states(detector, frames))


def test_a_brief_spike_is_ignored() -> None:
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    frames = script((10, m(), True), (1.5, m(rounding=30), True), (10, m(), True))
    assert all(s is PostureState.UPRIGHT for _, s in states(detector, frames))


def test_away_after_a_while_and_brief_misses_are_held() -> None:
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    frames = list(
        script(
            (10, m(forward=30), True), (1, None, False), (5, m(forward=30), True), (10, None, False)
        )
    )
    result = states(detector, frames)
    missed = [s for t, s in result if 10.0 <= t < 11.0]
    assert missed and all(s is PostureState.SLOUCHED for s in missed)  # a missed second is held
    assert result[-1][1] is PostureState.AWAY
    away = [t for t, s in result if s is PostureState.AWAY]
    assert abs(away[0] - 19.0) < 0.3


def test_reason_names_the_worse_problem() -> None:
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    for t, mm, seen in script((5, m(rounding=40, forward=16), True)):
        status = detector.update(mm, seen, t)
    assert status.reason is Reason.THORACIC_ROUNDING


def seated(t_s: float) -> ActivityStatus:
    """A user sitting still since t=0 (well under the stillness interval)."""
    return ActivityStatus(Activity.STILL, 0.0, t_s, t_s, False)


def test_nudge_after_hold_then_cooldown_and_rotation() -> None:
    policy = PromptPolicy(
        NudgeConfig(hold_s=30.0),
        PromptConfig(cooldown_s=60.0, working_hours=""),
        StationaryConfig(),
        load_library(),
    )
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    nudges = []
    for t, mm, seen in script((5, m(), True), (200, m(forward=30), True)):
        status = detector.update(mm, seen, t)
        nudge, _ = policy.update(t, status, seated(t))
        if nudge:
            nudges.append(nudge)
    times = [n.t_s for n in nudges]
    assert abs(times[0] - 37.0) < 0.3  # 5 s upright + 2 s to enter + 30 s hold
    assert all(abs(b - a - 60.0) < 0.3 for a, b in itertools.pairwise(times))
    assert all(n.reason == "forward_head" for n in nudges)
    ids = [n.movement for n in nudges]
    assert all(a != b for a, b in itertools.pairwise(ids))
    assert set(ids) == {"neck-waves", "chin-tuck"}
    assert "Try" in nudges[0].message


def test_next_nudge_countdown() -> None:
    nudger = PostureNudger(NudgeConfig(hold_s=45.0), PromptConfig().cooldown_s)
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    for t, mm, seen in script((10, m(rounding=30), True)):
        status = detector.update(mm, seen, t)
    wait = nudger.next_in_s(status, t)
    assert wait is not None and abs(wait - (45.0 - (t - status.since_s))) < 1e-6


def test_a_glance_at_the_keyboard_does_not_flip_the_state() -> None:
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    nod = m(forward=25, rounding=15, pitch=0.2)
    frames = list(script((10, m(), True), (2.5, nod, True), (10, m(), True)))
    assert all(s is PostureState.UPRIGHT for _, s in states(detector, frames))


def test_a_head_kept_down_is_a_slouch_however_it_is_pitched() -> None:
    config = SlouchConfig()
    detector = SlouchDetector(config, AWAY_AFTER_S)
    nod = m(forward=25, rounding=15, pitch=0.2)
    frames = list(script((10, m(), True), (30, nod, True)))
    slouched = [t for t, s in states(detector, frames) if s is PostureState.SLOUCHED]
    assert slouched, "a sustained head-down slouch must be caught"
    assert slouched[0] <= 10.0 + config.glance_s + config.enter_after_s + 0.5
    assert slouched[-1] == frames[-1][0]


def test_a_recentred_measure_flags_only_with_the_other_one() -> None:
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    # The user said they sit fine with the head 30 points lower than at calibration: that
    # reading is taken halfway to the exit threshold (8), 30 - 4 points re-centred.
    assert detector.recentre(SlouchCue.ROUNDING, m(rounding=30.0)) == 26.0
    drift = states(detector, script((10.0, m(rounding=30.0), True)))
    assert drift[-1][1] is PostureState.UPRIGHT
    # Sinking further, the nose still as high above the shoulders: not a slouch on its own...
    lower = states(detector, script((10.0, m(forward=2.0, rounding=60.0), True)))
    assert {s for _, s in lower} == {PostureState.UPRIGHT}
    # ...with the head also coming down toward the shoulders, it is.
    slump = states(detector, script((10.0, m(forward=10.0, rounding=60.0), True)))
    assert slump[-1][1] is PostureState.SLOUCHED
    # Forward head was never re-centred: it carries a slouch on its own as before.
    fresh = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    fresh.recentre(SlouchCue.ROUNDING, m(rounding=30.0))
    alone = states(fresh, script((10.0, m(forward=20.0, rounding=0.0), True)))
    assert alone[-1][1] is PostureState.SLOUCHED


def test_recentring_is_bounded() -> None:
    config = SlouchConfig()
    detector = SlouchDetector(config, AWAY_AFTER_S)
    for _ in range(5):
        detector.recentre(SlouchCue.SCORE, m(forward=200.0, rounding=-5.0))
    assert detector.recentred == {SlouchCue.FORWARD_HEAD: config.recentre_max}
    assert detector.recentre(SlouchCue.FORWARD_HEAD, None) == config.recentre_max


def test_recentring_takes_how_the_user_sat_over_the_last_seconds_not_an_earlier_slump() -> None:
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    # A real slump (rounding 60) for 10 s, then the user sits fine but lower (rounding 20-30)
    # and answers the nudge: the re-centring is what they sat like lately, not the slump.
    frames = list(script((10.0, m(rounding=60.0), True)))
    frames += [(10.0 + i / FPS, m(rounding=20.0 + 10.0 * (i % 2)), True) for i in range(50)]
    assert states(detector, frames)[-1][1] is PostureState.SLOUCHED
    assert 21.0 <= detector.recentre(SlouchCue.ROUNDING, m(rounding=20.0)) <= 26.0


def test_sitting_fine_leaves_room_for_a_slump_a_little_deeper_than_the_one_vouched_for() -> None:
    detector = SlouchDetector(SlouchConfig(), AWAY_AFTER_S)
    vouched = m(forward=20, rounding=20)
    frames = list(script((10, vouched, True)))
    assert states(detector, frames)[-1][1] is PostureState.SLOUCHED
    t_s = frames[-1][0]
    detector.recentre(SlouchCue.SCORE, vouched)
    detector.settle_upright(t_s)
    # The posture vouched for reads upright with room to spare: nothing is pending.
    assert detector.score_clear(vouched)
    later = [(t_s + 0.2 + t, mm, seen) for t, mm, seen in script((10, vouched, True))]
    assert all(s is PostureState.UPRIGHT for _, s in states(detector, later))
    # Both measures 7 points worse than that is a slouch again (re-centring on the vouched
    # reading itself read it as 7 points, under the score's threshold of 8: never caught).
    deeper = [(later[-1][0] + 0.2 + t, mm, seen) for t, mm, seen in script((5, m(27, 27), True))]
    assert states(detector, deeper)[-1][1] is PostureState.SLOUCHED
