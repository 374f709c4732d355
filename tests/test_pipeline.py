"""Tests for the loop: the rate gate, replay, and the sinks' contract."""

from __future__ import annotations

from coach.analyzer import Analyzer, Snapshot
from coach.config import Config
from coach.movements import load_library
from coach.pipeline import LoopStats, RateGate, replayed_samples, run
from coach.records import Frame
from tests.conftest import make_pose, sample_of


def test_rate_gate_takes_every_third_frame_of_15fps_at_5fps() -> None:
    gate = RateGate(lambda: 5.0)
    admitted = [i for i in range(30) if gate.admit(i / 15)]
    assert admitted == list(range(0, 30, 3))


def test_rate_gate_follows_a_changing_rate() -> None:
    rate = [5.0]
    gate = RateGate(lambda: rate[0])
    first = sum(gate.admit(i / 30) for i in range(30))
    rate[0] = 15.0
    second = sum(gate.admit(1 + i / 30) for i in range(30))
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
        run(replayed_samples(samples, RateGate(lambda: 5.0), stats), analyzer, [sink], stats)
        assert sink.closed
        results.append([(s.t_s, s.state, s.view) for s in sink.snapshots])
    assert results[0] == results[1]
    assert stats.frames_read == 120 and stats.frames_analysed == 40
    states = [state for _, state, _ in results[0]]
    assert states[6:20] == ["upright"] * 14 and states[-1] == "away"
