"""Provides the latest nudge text while it is fresh, for the on-screen views."""

from __future__ import annotations

from coach.records import Snapshot


class RecentNudge:
    """Keeps the last nudge's message for `show_s` of stream time after it fired."""

    def __init__(self, show_s: float) -> None:
        self.show_s = show_s
        self._latest: tuple[float, str] | None = None

    def update(self, snapshot: Snapshot) -> str | None:
        """Take note of a nudge in this snapshot; returns the message to show now, if any."""
        if snapshot.nudge is not None:
            self._latest = (snapshot.t_s, snapshot.nudge.message)
        if self._latest is None or snapshot.t_s - self._latest[0] > self.show_s:
            return None
        return self._latest[1]
