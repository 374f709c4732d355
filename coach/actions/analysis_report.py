"""Provides the `coach analyze --json` report, built from snapshots at about 1 Hz."""

from __future__ import annotations

from typing import Any

from coach.records import Frame, Snapshot


class AnalysisReport:
    """Collects a sample per period of stream time and builds the published JSON object.

    Keys are a contract: later versions add keys, never rename them.
    """

    def __init__(self, sample_period_s: float) -> None:
        self.sample_period_s = sample_period_s
        self._samples: list[dict[str, Any]] = []
        self._next_sample_s: float | None = None
        self.last_snapshot: Snapshot | None = None

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Keep the first snapshot of each sample period."""
        self.last_snapshot = snapshot
        if self._next_sample_s is None:
            self._next_sample_s = snapshot.t_s
        if snapshot.t_s + 1e-9 < self._next_sample_s:
            return
        self._samples.append({"t_s": round(snapshot.t_s, 3), "state": snapshot.state})
        while self._next_sample_s <= snapshot.t_s + 1e-9:
            self._next_sample_s += self.sample_period_s

    def close(self) -> None:
        """Nothing to release."""

    def build(
        self, *, frames: int, duration_s: float, fps: float, view: str | None
    ) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return {
            "frames": frames,
            "duration_s": round(duration_s, 3),
            "fps": round(fps, 3),
            "view": view or "front",
            "samples": list(self._samples),
        }
