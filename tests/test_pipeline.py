"""Tests for the loop: the rate gate, replay, and the sinks' contract."""

from __future__ import annotations

import numpy as np

from coach.analyzer import Analyzer
from coach.config import Config, LoopConfig
from coach.decisions.analysis_rate import LookPlan
from coach.movements import load_library
from coach.pipeline import LoopStats, RateGate, replayed_samples, run
from coach.records import Frame, Look, Snapshot
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample
from tests.conftest import make_pose, sample_of


def test_rate_gate_takes_every_third_frame_of_15fps_at_5fps() -> None:
    gate = RateGate(lambda: LookPlan(5.0))
    admitted = [i for i in range(30) if gate.admit(i / 15) is Look.ANALYSE]
    assert admitted == list(range(0, 30, 3))


def test_rate_gate_follows_a_changing_rate() -> None:
    rate = [5.0]
    gate = RateGate(lambda: LookPlan(rate[0]))
    first = sum(gate.admit(i / 30) is Look.ANALYSE for i in range(30))
    rate[0] = 15.0
    second = sum(gate.admit(1 + i / 30) is Look.ANALYSE for i in range(30))
    assert first == 5 and second == 15


class _Collect:
    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self.closed = False

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        self.snapshots.append(snapshot)

    def close(self) -> None:
        self.closed = True


def test_replay_runs_every_stage_deterministically() -> None:
    samples = [sample_of(make_pose(i / 15) if i < 60 else None, i / 15) for i in range(120)]
    results = []
    for _ in range(2):
        analyzer = Analyzer(Config(), load_library(), calibrate_s=1.0)
        stats = LoopStats()
        sink = _Collect()
        run(
            replayed_samples(samples, RateGate(lambda: LookPlan(5.0)), stats),
            analyzer,
            [sink],
            stats,
        )
        assert sink.closed
        results.append([(s.t_s, s.state, s.view) for s in sink.snapshots])
    assert results[0] == results[1]
    assert stats.frames_read == 120 and stats.frames_analysed == 40
    states = [state for _, state, _ in results[0]]
    assert states[6:20] == ["upright"] * 14 and states[-1] == "away"


def _thumb(level: int = 100, square_at: tuple[int, int] | None = None) -> np.ndarray:
    thumb = np.full((60, 80), level, dtype=np.uint8)
    if square_at is not None:
        y, x = square_at
        thumb[y : y + 12, x : x + 12] = 220
    return thumb


def _looks(gate: RateGate, thumbs: list[tuple[float, np.ndarray]]) -> list[Look]:
    return [gate.admit(t, thumb) for t, thumb in thumbs if gate.is_due(t)]


QUIET = LookPlan(1.0, quiet=True, watch=(0.25, 0.0, 0.75, 0.6))


def test_quiet_gate_runs_the_model_only_when_the_watched_picture_changes() -> None:
    gate = RateGate(lambda: QUIET, LoopConfig(quiet_look_s=10.0))
    still = [(i / 30, _thumb(square_at=(10, 30))) for i in range(0, 30 * 9)]
    looks = _looks(gate, still)
    assert looks.count(Look.ANALYSE) == 1  # the first frame only
    assert looks.count(Look.UNCHANGED) == 8  # the last pose carried on once a second
    assert len(looks) == 1 + 4 * 9 - 1  # glanced at 4 a second
    moved = [(9 + i / 30, _thumb(square_at=(20, 40))) for i in range(30)]
    assert _looks(gate, moved)[0] is Look.ANALYSE  # at the first glance after the move


def test_quiet_gate_ignores_exposure_changes_and_the_unwatched_part() -> None:
    gate = RateGate(lambda: QUIET, LoopConfig(quiet_look_s=10.0))
    assert gate.admit(0.0, _thumb(100)) is Look.ANALYSE
    darker = [(1 + i / 4, _thumb(70)) for i in range(8)]  # auto-exposure, no movement
    assert Look.ANALYSE not in _looks(gate, darker)
    hands = [(3 + i / 4, _thumb(70, square_at=(45, 5))) for i in range(8)]  # outside the watch
    assert Look.ANALYSE not in _looks(gate, hands)


def test_quiet_gate_still_looks_every_quiet_look_s_and_at_a_key() -> None:
    woken = [False]
    gate = RateGate(lambda: QUIET, LoopConfig(quiet_look_s=10.0), wake=lambda: woken[0])
    still = [(i / 4, _thumb()) for i in range(4 * 25)]
    analysed = [t for t, thumb in still if gate.admit(t, thumb) is Look.ANALYSE]
    assert analysed == [0.0, 10.0, 20.0]
    woken[0] = True
    assert gate.admit(25.0, _thumb()) is Look.ANALYSE


def test_gate_without_thumbnails_or_not_quiet_analyses_at_the_plans_rate() -> None:
    quiet_replay = RateGate(lambda: QUIET)
    assert sum(quiet_replay.admit(i / 30) is Look.ANALYSE for i in range(300)) == 10
    busy = RateGate(lambda: LookPlan(5.0))
    assert sum(busy.admit(i / 30, _thumb()) is Look.ANALYSE for i in range(300)) == 50


def _creep_flip_s(gated: bool) -> tuple[float, int]:
    """A slow creep into a slouch, fed at 30 fps through the gate and the analyzer; the time
    the state flips and the pose inferences it took. With `gated`, the thumbnail never
    changes (the worst case: a creep too slow for the change detector)."""
    config = Config()
    analyzer = Analyzer(config, load_library(), calibrate_s=3.0)
    gate = RateGate(lambda: analyzer.look_plan, LoopConfig(glance=gated))
    thumb = _thumb()
    last = None
    inferences = 0
    for i in range(30 * 150):
        t_s = i / 30
        if not gate.is_due(t_s):
            continue
        look = gate.admit(t_s, thumb if gated else None)
        if look is Look.SKIP:
            continue
        if look is Look.ANALYSE or last is None:
            # Upright for 30 s, then the head drifts forward and the back rounds over 90 s.
            creep = min(max((t_s - 30.0) / 90.0, 0.0), 1.0)
            body = BodyPose(forward_head_m=0.09 * creep, rounding=0.7 * creep)
            last = synthetic_sample(synthetic_pose(body, Camera(), t_s=t_s), t_s)
            inferences += 1
        snapshot = analyzer.update(last.at(t_s))
        if snapshot.state == "slouched":
            return t_s, inferences
    raise AssertionError("the creep never flipped the state")


def test_a_creep_too_slow_for_the_thumbnail_is_caught_as_soon_as_looking_closely() -> None:
    # Once the score leaves the upright band the plan is no longer quiet, so the coach looks
    # once a second from there and the periodic look only has to notice the band is left.
    closely_s, closely_n = _creep_flip_s(gated=False)
    glancing_s, glancing_n = _creep_flip_s(gated=True)
    assert glancing_s - closely_s <= 2.0, (closely_s, glancing_s)
    assert glancing_n < closely_n / 2, (closely_n, glancing_n)
