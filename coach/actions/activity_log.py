"""Provides the activity log: a sink that writes a live coach's decisions to the app log."""

from __future__ import annotations

import logging
import threading
from collections import Counter

from coach.records import (
    Condition,
    Event,
    Frame,
    Interruption,
    LiveStatus,
    Nudge,
    PostureState,
    PromptResolved,
    SetCompleted,
    Snapshot,
)


def at(t_s: float) -> str:
    """Stream time as h:mm:ss (a replay's lines all carry the same wall-clock time)."""
    whole = max(0, round(t_s))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _lasting(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def nudge_line(nudge: Nudge) -> str:
    """ "nudge: forward_head → neck-waves (prompt 3)"."""
    extra = "".join(f" + {m}" for m in nudge.extra_movements)
    return f"nudge: {nudge.reason} → {nudge.movement}{extra} (prompt {nudge.prompt_id})"


def set_line(done: SetCompleted) -> str:
    """ "set: lateral-flexion, 8 reps (left 4, right 4) in 42 s, prompted (prompt 3)"."""
    sides = ""
    if done.per_side:
        sides = " (" + ", ".join(f"{side} {n}" for side, n in done.per_side.items()) + ")"
    if done.recognised:
        how = "recognised (unprompted)"
    elif done.prompt_id is not None:
        how = f"prompted (prompt {done.prompt_id})"
    else:
        how = "guided"
    reps = "rep" if done.reps == 1 else "reps"
    took_s = done.end_s - done.start_s
    return f"set: {done.movement}, {done.reps} {reps}{sides} in {took_s:.0f} s, {how}"


def interruption_line(gap: Interruption) -> str:
    """ "interruption: locked for 12 min (a break)"."""
    counted = "a break" if gap.rest else "neither sitting nor away"
    return f"interruption: {gap.condition.replace('_', ' ')} for {_lasting(gap.duration_s)} ({counted})"


class ActivityLog:
    """Sink that logs what a live coach decides, as it happens (logger "coach.activity").

    INFO: the session's start and end, calibration, nudges, what became of each prompt,
    sets with their counts, pauses and snoozes, interruptions (no frames: the camera
    released or lost), and the coach's condition (`status`);
    WARNING: a camera or seat that seems to have moved, no camera; DEBUG: each change of
    the posture state.
    """

    def __init__(self, label: str, logger: logging.Logger | None = None) -> None:
        """`label`: the source as it may be shown (credentials redacted)."""
        self._log = logger or logging.getLogger("coach.activity")
        self._label = label
        self._nudges: dict[int, Nudge] = {}
        self._counts: Counter[str] = Counter()
        self._calibrating = False
        self._recalibrate = False
        self._paused = False
        self._snoozed = False
        self._state: PostureState | None = None
        self._first_t_s: float | None = None
        self._last_t_s = 0.0
        self._status: LiveStatus | None = None
        self._lock = threading.Lock()  # `status` comes from the camera's thread
        self._closed = False
        self._log.info("session started: %s", label)

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Log what changed at this snapshot."""
        t_s = snapshot.t_s
        if self._first_t_s is None:
            self._first_t_s = t_s
        self._last_t_s = t_s
        self._calibration(snapshot)
        for event in snapshot.events:
            self._event(event)
        if snapshot.recalibrate and not self._recalibrate:
            self._say(
                logging.WARNING,
                t_s,
                "the camera or seat seems to have moved: recalibrating is suggested",
            )
        self._recalibrate = snapshot.recalibrate
        self._pause(snapshot)
        if snapshot.state is not self._state:
            if self._state is not None:
                self._say(logging.DEBUG, t_s, f"posture: {self._state} → {snapshot.state}")
            self._state = snapshot.state

    def _calibration(self, snapshot: Snapshot) -> None:
        calibrating = snapshot.calibrating is not None
        if calibrating and not self._calibrating:
            self._say(logging.INFO, snapshot.t_s, "calibrating: sit tall…")
        elif self._calibrating and not calibrating:
            self._say(logging.INFO, snapshot.t_s, "calibrated")
        self._calibrating = calibrating

    def _pause(self, snapshot: Snapshot) -> None:
        t_s = snapshot.t_s
        self._paused = self._quiet_edge(
            t_s,
            snapshot.paused_until_s,
            self._paused,
            "paused (meeting mode) for",
            "pause over: coaching again",
        )
        self._snoozed = self._quiet_edge(
            t_s, snapshot.snoozed_until_s, self._snoozed, "prompts snoozed for", "snooze over"
        )

    def _quiet_edge(
        self, t_s: float, until_s: float | None, was: bool, started: str, ended: str
    ) -> bool:
        """Log where a pause or snooze begins (with how long it lasts) or ends; whether it is on."""
        if until_s is not None and not was:
            self._say(logging.INFO, t_s, f"{started} {_lasting(until_s - t_s)}")
        elif until_s is None and was:
            self._say(logging.INFO, t_s, ended)
        return until_s is not None

    def _event(self, event: Event) -> None:
        if isinstance(event, Nudge):
            self._nudges[event.prompt_id] = event
            self._counts["nudges"] += 1
            self._say(logging.INFO, event.t_s, nudge_line(event))
        elif isinstance(event, PromptResolved):
            self._counts[f"prompts {event.outcome}"] += 1
            self._say(logging.INFO, event.t_s, self._outcome_line(event))
        elif isinstance(event, SetCompleted):
            self._counts["sets"] += 1
            self._say(logging.INFO, event.t_s, set_line(event))
        elif isinstance(event, Interruption):
            self._counts["interruptions"] += 1
            self._say(logging.INFO, event.end_s, interruption_line(event))
        else:  # "I'm sitting fine": that person's upright band, widened
            self._counts["bands widened"] += 1
            self._say(
                logging.INFO,
                event.t_s,
                f"sitting fine, said the user: {event.cue} band widened to "
                f"{event.new_threshold:.1f} (x{event.factor:.2f})",
            )

    def _say(self, level: int, t_s: float, text: str) -> None:
        self._log.log(level, "[%s] %s", at(t_s), text)

    def _outcome_line(self, resolved: PromptResolved) -> str:
        nudge = self._nudges.pop(resolved.prompt_id, None)
        line = f"prompt {resolved.prompt_id} {resolved.outcome}"
        if nudge is None:
            return line
        line += f" after {resolved.t_s - nudge.t_s:.0f} s ({nudge.movement})"
        if resolved.correction_s is not None:
            line += f"; upright again after {resolved.correction_s:.1f} s"
        return line

    def status(self, status: LiveStatus) -> None:
        """Log a change of the coach's condition (INFO; no camera: WARNING), with its detail."""
        with self._lock:
            previous, self._status = self._status, status
        retry = "" if status.retry_in_s is None else f"; retrying in {status.retry_in_s:.0f} s"
        text = f"{status.condition.replace('_', ' ')}: {status.detail}{retry}"
        if previous is not None and (previous.condition, previous.detail) == (
            status.condition,
            status.detail,
        ):
            self._log.debug("%s", text)  # the same again (another retry)
            return
        level = logging.WARNING if status.condition is Condition.NO_CAMERA else logging.INFO
        self._log.log(level, "%s", text)

    def close(self) -> None:
        """Log the session's end, with what happened in it."""
        if self._closed:
            return
        self._closed = True
        covered_s = 0.0 if self._first_t_s is None else self._last_t_s - self._first_t_s
        counts = ", ".join(f"{what}: {n}" for what, n in sorted(self._counts.items()))
        self._log.info(
            "session ended: %s of %s%s", at(covered_s), self._label, f"; {counts}" if counts else ""
        )
