"""Provides `StreamProgress`: a sink moving a progress bar along a file's stream time."""

from __future__ import annotations

import contextlib
from typing import Final

from coach.progress import ProgressBars, Unit
from coach.records import Frame, Snapshot

_STEP_S: Final = 0.5
"""Stream time between two bar updates (the bar redraws on its own clock anyway)."""


class StreamProgress:
    """Sink that shows how much of a video or recording is done, and the time left."""

    def __init__(self, bars: ProgressBars, description: str, total_s: float | None) -> None:
        self._stack = contextlib.ExitStack()
        self._report = self._stack.enter_context(bars(description, total_s, Unit.STREAM_S))
        self._shown_s = float("-inf")

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Move the bar to the snapshot's stream time."""
        if snapshot.t_s - self._shown_s >= _STEP_S:
            self._shown_s = snapshot.t_s
            self._report(snapshot.t_s)

    def close(self) -> None:
        """Take the bar off the screen."""
        self._stack.close()
