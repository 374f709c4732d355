"""Provides whole-file analysis: a video or landmark recording through every stage, as fast as it decodes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from coach.analyzer import Analyzer, Snapshot
from coach.config import Config
from coach.movements import MovementLibrary, load_library
from coach.pipeline import LoopStats, RateGate, analysed_frames, replayed_samples, run
from coach.pose.landmark_file import LandmarkReader
from coach.records import Frame


class SnapshotCollector:
    """Sink that keeps every snapshot (for evaluation and tests)."""

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Keep the snapshot."""
        self.snapshots.append(snapshot)

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class OfflineRun:
    """The result of analysing one file."""

    snapshots: list[Snapshot]
    stats: LoopStats
    source_fps: float


def analyze_file(
    path: Path,
    config: Config,
    *,
    model: Path | None = None,
    calibrate_s: float | None = None,
    library: MovementLibrary | None = None,
) -> OfflineRun:
    """Run a video (needs `model`) or a landmark file through every stage."""
    analyzer = Analyzer(config, library or load_library(), calibrate_s=calibrate_s)
    collector = SnapshotCollector()
    stats = LoopStats()
    gate = RateGate(lambda: analyzer.look_plan, config.loop)
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        reader = LandmarkReader(path)
        run(replayed_samples(reader.samples(), gate, stats), analyzer, [collector], stats)
        return OfflineRun(collector.snapshots, stats, reader.fps)
    if model is None:
        raise ValueError("a video needs a pose model")
    from coach.pose.estimator import PoseEstimator
    from coach.source import VideoFileSource

    with VideoFileSource(path) as source, PoseEstimator(model, config.pose) as estimator:
        frames = source.frames(gate)
        run(analysed_frames(frames, estimator, stats), analyzer, [collector], stats)
        return OfflineRun(collector.snapshots, stats, source.fps)
