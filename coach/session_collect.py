"""Provides `collected`: a session on a file, unpaced, keeping every snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from coach.config import Config
from coach.movements import MovementLibrary
from coach.records import Frame, Snapshot
from coach.session import Session
from coach.session_options import SessionOptions, SessionResult


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
class Collected:
    """Every snapshot of a session, and its result."""

    snapshots: list[Snapshot]
    result: SessionResult


def collected(options: SessionOptions, config: Config, library: MovementLibrary) -> Collected:
    """Run a session on a file, unpaced, keeping every snapshot (the acceptance tests,
    evaluations and benchmarks run the code the commands run this way)."""
    collector = SnapshotCollector()
    result = Session(options, config, library).run(lambda _opened: [collector])
    if result.stopped is not None:
        raise result.stopped
    return Collected(collector.snapshots, result)
