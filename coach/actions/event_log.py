"""Provides the event log: a sink that writes the decisions as JSON lines, one per change.

`coach run --events FILE` writes it, so a script (benchmarks/bench_live.py) can tell when
the coach noticed a slouch, an absence or a rep, without scraping the dashboard.
Each line is one object:

- ``wall_s``: the wall clock (Unix seconds) when the snapshot reached the sink;
- ``t_s``: its stream time; ``analysed``: snapshots so far (= frames through the pose stage);
- ``fps``: the analysis rate the coach wants now (null where unknown);
- ``pose``: a pose of the user is seen; ``calibrating``: the neutral is still being recorded;
- ``state``: "upright", "slouched", "away" or "unknown"; ``activity``: "still", "moving",
  "away" or null;
- ``set``: the rep counter shown (``movement``, ``reps``, ``phase``) or null;
- ``events``: what happened at this moment: ``nudge``, ``outcome``, ``set`` (a finished set),
  ``rep`` (a rep of a prompted or guided set, with the count so far), ``band_widened``
  (after "I'm sitting fine": the cue, its new threshold, total widening and re-centring).

A line is written whenever any of pose, calibrating, state, activity, fps or the counter
changes, whenever something happens, and at least once per `heartbeat_s` of stream time
(so the analysed count can be read over any stretch).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from coach.records import BandWidened, Event, Interruption, Nudge, PromptResolved, SetCompleted
from coach.safe.outputs import json_safe
from coach.safe.private_files import open_private

if TYPE_CHECKING:
    from coach.records import Frame, Snapshot


def event_json(event: Event) -> dict[str, Any]:
    """One event as a small JSON object."""
    if isinstance(event, Nudge):
        return {
            "type": "nudge",
            "reason": event.reason,
            "movement": event.movement,
            "prompt_id": event.prompt_id,
        }
    if isinstance(event, PromptResolved):
        return {"type": "outcome", "prompt_id": event.prompt_id, "outcome": event.outcome}
    if isinstance(event, SetCompleted):
        return {
            "type": "set",
            "movement": event.movement,
            "reps": event.reps,
            "per_side": event.per_side,
            "start_s": round(event.start_s, 3),
            "end_s": round(event.end_s, 3),
            "recognised": event.recognised,
        }
    if isinstance(event, Interruption):
        return {
            "type": "interruption",
            "condition": event.condition,
            "start_s": round(event.start_s, 3),
            "end_s": round(event.end_s, 3),
        }
    if isinstance(event, BandWidened):
        return {
            "type": "band_widened",
            "reason": event.reason,
            "cue": event.cue,
            "new_threshold": round(event.new_threshold, 2),
            "factor": round(event.factor, 3),
            "recentred": round(event.recentred, 2),
        }
    raise TypeError(f"not an event: {event!r}")  # pragma: no cover - Event is closed


class EventLog:
    """Sink that writes one JSON line per change of the decisions (see the module doc)."""

    def __init__(
        self,
        path: Path,
        *,
        rate: Callable[[], float | None] | None = None,
        clock: Callable[[], float] = time.time,
        heartbeat_s: float = 1.0,
    ) -> None:
        """`rate` returns the analysis rate wanted now; `clock` is the wall clock (for tests)."""
        self._out: TextIO = open_private(path)  # a log of someone's posture: theirs only
        self._rate = rate
        self._clock = clock
        self._heartbeat_s = heartbeat_s
        self._analysed = 0
        self._last_key: tuple[object, ...] | None = None
        self._last_t_s: float | None = None

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Count the snapshot; write a line if anything changed or happened."""
        self._analysed += 1
        fps = self._rate() if self._rate is not None else None
        counter = snapshot.counter
        set_now = (
            None
            if counter is None
            else {"movement": counter.movement, "reps": counter.reps, "phase": counter.phase}
        )
        key = (
            snapshot.sample.pose is not None,
            snapshot.calibrating is None,
            snapshot.state,
            snapshot.activity,
            fps,
            None if set_now is None else tuple(set_now.values()),
        )
        events = [event_json(e) for e in snapshot.events]
        if snapshot.rep is not None:
            # The set's last rep may end the set: then the count is the finished set's.
            done = [e.reps for e in snapshot.events if isinstance(e, SetCompleted)]
            reps = counter.reps if counter is not None else (done[0] if done else None)
            events.append({"type": "rep", "reps": reps, "partial": snapshot.rep.partial})
        due = self._last_t_s is None or snapshot.t_s - self._last_t_s >= self._heartbeat_s
        if key == self._last_key and not events and not due:
            return
        self._last_key = key
        self._last_t_s = snapshot.t_s
        line = {
            "wall_s": round(self._clock(), 4),
            "t_s": round(snapshot.t_s, 4),
            "analysed": self._analysed,
            "fps": fps,
            "pose": key[0],
            "calibrating": not key[1],
            "state": snapshot.state,
            "activity": snapshot.activity,
            "set": set_now,
            "events": events,
        }
        self._out.write(json.dumps(json_safe(line), allow_nan=False) + "\n")
        self._out.flush()  # a reader follows the file live; a kill loses no line

    def close(self) -> None:
        """Close the file."""
        self._out.close()


def read_event_log(path: Path) -> list[dict[str, Any]]:
    """The lines of an event log (a last line cut short by a kill is left out)."""
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return lines
