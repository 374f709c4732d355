"""The live stage: a set or a calibration asked for from the tray starts at the next sample."""

from __future__ import annotations

from coach.analyzer import Analyzer
from coach.config import Config
from coach.live_stage import LiveStage
from coach.movements import load_library
from coach.records import Command, PoseSample
from tests.conftest import make_pose, sample_of

CALIBRATE_S = 2.0


def _stage() -> tuple[LiveStage, list[Analyzer], list[Analyzer]]:
    config = Config()
    library = load_library()
    fresh: list[Analyzer] = []
    saved: list[Analyzer] = []

    def recalibrating() -> Analyzer:
        fresh.append(Analyzer(config, library, calibrate_s=CALIBRATE_S))
        return fresh[-1]

    def on_calibrated(analyzer: Analyzer, _sample: PoseSample) -> None:
        saved.append(analyzer)

    first = Analyzer(config, library, calibrate_s=CALIBRATE_S)
    return LiveStage(first, recalibrating, on_calibrated), fresh, saved


def test_a_set_from_the_tray_starts_a_guided_counter_at_the_next_sample() -> None:
    stage, _, _ = _stage()
    t = 0.0
    for _ in range(20):  # calibrated and seated
        snapshot = stage.update(sample_of(make_pose(t), t))
        t += 0.2
    assert snapshot.calibrating is None and snapshot.counter is None
    stage.command(Command.START_CAT_COW)
    snapshot = stage.update(sample_of(make_pose(t), t))
    assert snapshot.counter is not None
    assert stage.look_plan.fps == Config().loop.exercise_fps  # a set is watched closely
    assert snapshot.counter.movement == "cat-cow"


def test_calibrate_from_the_tray_records_a_new_neutral_and_saves_it() -> None:
    stage, fresh, saved = _stage()
    t = 0.0
    for _ in range(20):
        stage.update(sample_of(make_pose(t), t))
        t += 0.2
    before = stage.analyzer
    stage.command(Command.CALIBRATE)
    snapshot = stage.update(sample_of(make_pose(t, shoulder_y=0.7), t))
    assert stage.analyzer is not before and fresh == [stage.analyzer]
    assert snapshot.calibrating is not None and not saved
    for _ in range(int(CALIBRATE_S / 0.2) + 5):
        t += 0.2
        snapshot = stage.update(sample_of(make_pose(t, shoulder_y=0.7), t))
    assert snapshot.calibrating is None
    assert saved == [stage.analyzer] and stage.analyzer.calibrated_neutral is not None


def test_a_pause_from_the_tray_lasts_as_long_as_asked_on_stream_time() -> None:
    config = Config()
    analyzer = Analyzer(config, load_library(), calibrate_s=CALIBRATE_S)
    stage = LiveStage(analyzer, lambda: analyzer, lambda _a, _s: None, lambda: 900.0)
    t = 0.0
    for _ in range(20):
        stage.update(sample_of(make_pose(t), t))
        t += 0.2
    stage.command(Command.PAUSE)
    snapshot = stage.update(sample_of(make_pose(t), t))
    assert snapshot.paused_until_s == t + 900.0
    later = t + 900.0
    assert stage.update(sample_of(make_pose(later), later)).paused_until_s is None
