"""Provides the session recorder: a sink that logs 5-s posture windows and every event."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from coach.history.rows import PostureSampleRow, RepRecord, SessionRef, SetRecord
from coach.history.schema import ACTIVITIES, STATES
from coach.history.session_log import SessionLog
from coach.records import (
    BandWidened,
    Interruption,
    Nudge,
    PostureState,
    PromptResolved,
    SetCompleted,
)

if TYPE_CHECKING:
    from coach.records import Frame, Snapshot

# A gap longer than this between two snapshots (a stalled camera) is not credited to the
# state before it: the excess counts as "unknown".
MAX_CREDIT_S = 2.0


class _Window:
    """What one posture window has accumulated so far."""

    def __init__(self, start_s: float) -> None:
        self.start_s = start_s
        self.state_s: defaultdict[str, float] = defaultdict(float)
        self.activity_s: defaultdict[str, float] = defaultdict(float)
        self.forward_head: list[float] = []
        self.thoracic_rounding: list[float] = []
        self.seated_s: float | None = None
        self.saved = False
        """Whether a checkpoint of this window is in the log (its later rows replace it)."""

    @property
    def covered_s(self) -> float:
        return sum(self.state_s.values())

    def row(self, wall_t: float) -> PostureSampleRow:
        # Ties go to the earlier state in STATES order, i.e. to "upright" before "slouched".
        state = max(STATES, key=lambda s: (self.state_s[s], -STATES.index(s)))
        activity = (
            max(self.activity_s, key=lambda a: self.activity_s[a]) if self.activity_s else None
        )
        return PostureSampleRow(
            t=wall_t,
            window_s=self.covered_s,
            state=state,
            upright_s=self.state_s[PostureState.UPRIGHT],
            slouched_s=self.state_s[PostureState.SLOUCHED],
            away_s=self.state_s[PostureState.AWAY],
            unknown_s=self.state_s[PostureState.UNKNOWN],
            forward_head_mean=statistics.fmean(self.forward_head) if self.forward_head else None,
            thoracic_rounding_mean=(
                statistics.fmean(self.thoracic_rounding) if self.thoracic_rounding else None
            ),
            activity=activity,
            seated_s=self.seated_s,
        )


class SessionRecorder:
    """Sink: one session in the history per run; posture in windows, events as they come.

    Stream time maps to wall time as `wall_start + (t_s - first t_s)`. Each interval
    between two snapshots is credited to the earlier snapshot's state and activity, and
    split at window boundaries, so the seconds of a day add up exactly.

    The window still filling up is saved again every `checkpoint_s` of stream time (the
    log replaces it), so a killed process loses about `checkpoint_s` plus the log's
    commit interval, not a whole window.

    A replay (a file read faster than real time) would end in the future if mapped from
    its start, so it is held back and logged when it ends: it starts when the run started,
    or later if that would end it in the future, in which case it ends at the close. A
    replay killed outright is not logged (the file can be run again).
    """

    def __init__(
        self,
        log: SessionLog,
        source: str,
        wall_start: datetime.datetime | None,
        *,
        window_s: float = 5.0,
        checkpoint_s: float = 0.5,
        replay: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`wall_start` None: the wall time of the first snapshot (`clock`, epoch seconds)."""
        self._log = log
        self._source = source
        # A naive wall_start is local time, as datetime.timestamp() assumes.
        self._wall_start_epoch_s = None if wall_start is None else wall_start.timestamp()
        self._window_len_s = window_s
        self._checkpoint_s = checkpoint_s
        self._clock = clock
        self._deferred: list[Callable[[], None]] | None = [] if replay else None
        self._session: SessionRef | None = None
        self._first_t_s = 0.0
        self._checkpoint_t_s = 0.0
        self._last: Snapshot | None = None
        self._window: _Window | None = None
        self._closed = False

    def wall(self, t_s: float) -> float:
        """The wall-clock time (epoch seconds) of a stream timestamp."""
        if self._wall_start_epoch_s is None:
            self._wall_start_epoch_s = self._clock()
        return self._wall_start_epoch_s + (t_s - self._first_t_s)

    def _write(self, action: Callable[[], None]) -> None:
        """Do one log call now, or, for a replay, once its place in time is known."""
        if self._deferred is None:
            action()
        else:
            self._deferred.append(action)

    def _start(self, t_s: float) -> None:
        self._session = self._log.start_session(self._source, self.wall(t_s))

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Take one snapshot: extend the current window, log its events."""
        if self._closed:
            return
        t_s = snapshot.t_s
        if self._window is None:
            self._first_t_s = self._checkpoint_t_s = t_s
            self._write(lambda: self._start(t_s))
            self._window = _Window(t_s)
        interruption = next((e for e in snapshot.events if isinstance(e, Interruption)), None)
        if interruption is not None and self._last is not None:
            # Declared time with no camera (locked, asleep, paused, camera lost): not
            # credited to anything; the rows resume when the frames do.
            self._credit(self._last, self._last.t_s, max(self._last.t_s, interruption.start_s))
            self._emit(self._current_window())
            self._window = _Window(t_s)
            self._checkpoint_t_s = t_s
        elif self._last is not None and t_s > self._last.t_s:
            self._credit(self._last, self._last.t_s, t_s)
        self._observe(snapshot)
        self._last = snapshot
        for event in snapshot.events:
            # Interruptions shape the windows above; widened bands live in the profile.
            if not isinstance(event, Interruption | BandWidened):
                self._write(functools.partial(self._record, event))
        if t_s - self._checkpoint_t_s >= self._checkpoint_s and self._deferred is None:
            self._checkpoint_t_s = t_s
            self._emit(self._current_window())

    def _credit(self, snapshot: Snapshot, from_s: float, to_s: float) -> None:
        """Credit [from_s, to_s) to the snapshot's state, window by window."""
        credited_until_s = min(to_s, from_s + MAX_CREDIT_S)
        start_s = from_s
        while start_s < to_s:
            window = self._current_window()
            end_s = min(to_s, window.start_s + self._window_len_s)
            known_end_s = min(end_s, credited_until_s)
            if known_end_s > start_s:
                # A state or activity the log does not know (a newer analyzer) is "unknown".
                state = snapshot.state if snapshot.state in STATES else PostureState.UNKNOWN
                window.state_s[state] += known_end_s - start_s
                if snapshot.activity in ACTIVITIES:
                    window.activity_s[snapshot.activity] += known_end_s - start_s
            if end_s > max(start_s, credited_until_s):
                window.state_s[PostureState.UNKNOWN] += end_s - max(start_s, credited_until_s)
            start_s = end_s
            if end_s >= window.start_s + self._window_len_s:
                self._emit(window)
                self._window = _Window(window.start_s + self._window_len_s)

    def _current_window(self) -> _Window:
        assert self._window is not None  # set with the session, on the first snapshot
        return self._window

    def _observe(self, snapshot: Snapshot) -> None:
        window = self._current_window()
        if snapshot.metrics is not None:
            window.forward_head.append(snapshot.metrics.forward_head)
            window.thoracic_rounding.append(snapshot.metrics.thoracic_rounding)
        window.seated_s = snapshot.seated_s

    def _emit(self, window: _Window) -> None:
        """Log a window: a checkpoint while it fills up, its final row once it is full."""
        if window.covered_s <= 0:
            return
        if self._deferred is not None:
            row, start_s = window.row(0.0), window.start_s  # its wall time is known at the end
            self._deferred.append(
                lambda: self._save(dataclasses.replace(row, t=self.wall(start_s)), False)
            )
            return
        self._save(window.row(self.wall(window.start_s)), window.saved)
        window.saved = True

    def _save(self, row: PostureSampleRow, replace: bool) -> None:
        assert self._session is not None  # started before any window is logged
        if replace:
            self._log.save_sample(self._session, row)
        else:
            self._log.add_sample(self._session, row)

    def _record(self, event: Nudge | PromptResolved | SetCompleted) -> None:
        assert self._session is not None
        if isinstance(event, Nudge):
            self._log.add_prompt(
                self._session, event.prompt_id, self.wall(event.t_s), event.reason, event.movement
            )
        elif isinstance(event, PromptResolved):
            self._log.resolve_prompt(
                self._session,
                event.prompt_id,
                event.outcome,
                self.wall(event.t_s),
                event.correction_s,
            )
        else:
            self._log.add_set(self._session, set_record(event, self.wall(event.start_s)))

    def close(self) -> None:
        """Log the last partial window and end the session cleanly."""
        if self._closed:
            return
        self._closed = True
        if self._window is None or self._last is None:
            return
        self._emit(self._current_window())
        last_t_s = self._last.t_s
        if self._deferred is not None:
            now = self._clock()
            start = self._wall_start_epoch_s if self._wall_start_epoch_s is not None else now
            # Where the run started, unless the replay would then end in the future.
            self._wall_start_epoch_s = min(start, now - (last_t_s - self._first_t_s))
            for action in self._deferred:
                action()
            self._deferred = None
        assert self._session is not None
        self._log.end_session(self._session, self.wall(last_t_s))


def set_record(event: SetCompleted, wall_start: float) -> SetRecord:
    """A camera-counted set as the log stores it (rep times relative to the set's start)."""
    phases = [p for rep in event.reps_detail if not rep.partial for p in rep.phase_s]
    per_side = event.per_side or {}
    return SetRecord(
        t=wall_start,
        movement=event.movement,
        reps=event.reps,
        source="camera",
        duration_s=max(0.0, event.end_s - event.start_s),
        per_side_left=per_side.get("left"),
        per_side_right=per_side.get("right"),
        mean_phase_s=statistics.fmean(phases) if phases else None,
        partial_reps=sum(1 for rep in event.reps_detail if rep.partial),
        feedback=event.feedback,
        prompt_id=event.prompt_id,
        recognised=event.recognised,
        reps_detail=tuple(
            RepRecord(
                index=i,
                start_s=rep.start_s - event.start_s,
                end_s=rep.end_s - event.start_s,
                phase_s=rep.phase_s,
                range=rep.range,
                partial=rep.partial,
                side=rep.side,
            )
            for i, rep in enumerate(event.reps_detail)
        ),
    )
