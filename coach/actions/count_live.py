"""Provides the live guided-set sink: the big count in the terminal."""

from __future__ import annotations

import dataclasses
import time

from rich.console import Console
from rich.live import Live

from coach.actions.count_view import render_count
from coach.movements import Movement
from coach.records import Frame, SetCompleted, Snapshot
from coach.statuses import CounterStatus


class GuidedSetView:
    """Shows the count live, and the final count once the set is done."""

    def __init__(self, console: Console, movement: Movement, refresh_hz: float = 8.0) -> None:
        self._movement = movement
        self._period_s = 1.0 / refresh_hz
        self._last_draw = 0.0
        self._first_t_s: float | None = None
        self._last: CounterStatus | None = None
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._live.start()

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Redraw the count (at once for a rep or the set's end)."""
        if self._first_t_s is None:
            self._first_t_s = snapshot.t_s
        counter = snapshot.counter
        ended = False
        for event in snapshot.events:
            if isinstance(event, SetCompleted):
                ended = True
                if self._last is not None:  # show the final count, back at neutral
                    counter = dataclasses.replace(
                        self._last, reps=event.reps, per_side=event.per_side, phase="neutral"
                    )
        if counter is None:
            return
        self._last = counter
        now = time.perf_counter()
        if now - self._last_draw < self._period_s and snapshot.rep is None and not ended:
            return
        self._last_draw = now
        view = render_count(
            counter,
            movement_name=self._movement.name,
            cues=self._movement.cues,
            elapsed_s=snapshot.t_s - self._first_t_s,
        )
        self._live.update(view, refresh=True)

    def close(self) -> None:
        """Leave the last count on screen."""
        self._live.stop()
