"""Provides the guided-set recorder: `coach count` keeps its set in the history as it goes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from coach.actions.session_recorder import set_record
from coach.history.rows import SessionRef
from coach.history.session_log import SessionLog
from coach.records import Frame, RepDetail, SetCompleted, Snapshot


class GuidedSetRecorder:
    """Sink: one session per guided set; the set is saved again at every rep (the log
    replaces it), so a killed `coach count` keeps the reps counted so far, as `coach run`
    keeps its posture windows; `finish` saves the whole set.

    Stream time maps to wall time as `anchor + t_s`, unless that lies in the future (a
    clip read faster than real time): then the set ends now.
    """

    def __init__(
        self,
        log: SessionLog,
        source: str,
        anchor_s: float,
        movement: str,
        *,
        fatigue_before: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`anchor_s`: the wall time (epoch seconds) of stream time 0."""
        self._log = log
        self._source = source
        self._anchor_s = anchor_s
        self._movement = movement
        self._fatigue_before = fatigue_before
        self._clock = clock
        self._session: SessionRef | None = None
        self._reps: list[RepDetail] = []

    def started_at(self, last_t_s: float) -> float:
        """The wall time of stream time 0, with stream time `last_t_s` not in the future."""
        return min(self._anchor_s, self._clock() - last_t_s)

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Save the set so far whenever a rep is counted."""
        if snapshot.rep is None or any(isinstance(e, SetCompleted) for e in snapshot.events):
            return  # no new rep; or the set ended, and `finish` saves it whole
        self._reps.append(snapshot.rep)
        counter = snapshot.counter
        so_far = SetCompleted(
            t_s=snapshot.t_s,
            movement=self._movement,
            reps=counter.reps if counter is not None else sum(not r.partial for r in self._reps),
            start_s=self._reps[0].start_s,
            end_s=snapshot.rep.end_s,
            per_side=None if counter is None else counter.per_side,
            reps_detail=tuple(self._reps),
        )
        self._save(so_far, self.started_at(snapshot.t_s), self._fatigue_before, None)

    def _save(
        self, done: SetCompleted, started_at: float, before: int | None, after: int | None
    ) -> SessionRef:
        if self._session is None:
            self._session = self._log.start_session(f"coach count: {self._source}", started_at)
        record = set_record(done, started_at + done.start_s)
        record = dataclasses.replace(record, fatigue_before=before, fatigue_after=after)
        self._log.save_set(self._session, record)
        return self._session

    def finish(self, done: SetCompleted | None, *, before: int | None, after: int | None) -> None:
        """Save the whole set (replacing its checkpoint) and end the session; without a set,
        end a session a checkpoint started."""
        if done is None:
            if self._session is not None:
                self._log.end_session(self._session, self._clock())
            return
        started_at = self.started_at(done.end_s)
        session = self._save(done, started_at, before, after)
        self._log.end_session(session, started_at + done.end_s)

    def close(self) -> None:
        """Nothing to release: `finish` ends the set once its ratings are known."""
