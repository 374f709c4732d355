"""Provides the `coach analyze --json` report, built from snapshots at about 1 Hz."""

from __future__ import annotations

from typing import Any

from coach.records import Activity, CountableMovement, Frame, PostureState, SetCompleted, Snapshot

CAT_COW, LATERAL_FLEXION = CountableMovement.CAT_COW, CountableMovement.LATERAL_FLEXION


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


class IntervalTracker:
    """Turns a per-snapshot on/off signal into [start, end] intervals of stream time."""

    def __init__(self) -> None:
        self.intervals: list[list[float]] = []
        self._start_s: float | None = None
        self._last_s = 0.0

    def update(self, on: bool, t_s: float) -> None:
        """Feed the signal at `t_s`."""
        if on and self._start_s is None:
            self._start_s = t_s
        elif not on and self._start_s is not None:
            self.intervals.append([self._start_s, t_s])
            self._start_s = None
        self._last_s = t_s

    def finish(self) -> list[list[float]]:
        """Close an open interval at the last timestamp; returns all intervals."""
        if self._start_s is not None:
            self.intervals.append([self._start_s, self._last_s])
            self._start_s = None
        return self.intervals


class ActivityIntervals:
    """Still and away intervals from the backdated activity changes of the snapshots."""

    def __init__(self) -> None:
        self.intervals: dict[str, list[list[float]]] = {a: [] for a in Activity}
        self._current: str | None = None
        self._start_s = 0.0
        self._last_s = 0.0

    def update(self, activity: str | None, since_s: float, t_s: float) -> None:
        """Feed the activity at `t_s` and when it began."""
        self._last_s = t_s
        if activity == self._current:
            return
        if self._current is not None:
            self.intervals[self._current].append([self._start_s, since_s])
        self._current, self._start_s = activity, since_s

    def finish(self) -> dict[str, list[list[float]]]:
        """Close the open interval; returns all intervals by activity."""
        if self._current is not None:
            self.intervals[self._current].append([self._start_s, self._last_s])
            self._current = None
        return self.intervals


class AnalysisReport:
    """Collects a sample per period of stream time and builds the published JSON object.

    Keys are a contract: later versions add keys, never rename them.
    """

    def __init__(self, sample_period_s: float, min_still_interval_s: float = 5.0) -> None:
        self.sample_period_s = sample_period_s
        self.min_still_interval_s = min_still_interval_s
        self._activity = ActivityIntervals()
        self._samples: list[dict[str, Any]] = []
        self._next_sample_s: float | None = None
        self._slouch = IntervalTracker()
        self._nudges: list[dict[str, Any]] = []
        self._reps: dict[str, Any] = {CAT_COW: 0, LATERAL_FLEXION: {"left": 0, "right": 0}}

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Track intervals on every snapshot; keep the first snapshot of each sample period."""
        self._slouch.update(snapshot.state == PostureState.SLOUCHED, snapshot.t_s)
        self._activity.update(snapshot.activity, snapshot.activity_since_s, snapshot.t_s)
        if snapshot.nudge is not None:
            n = snapshot.nudge
            self._nudges.append(
                {"t_s": round(n.t_s, 2), "reason": n.reason, "movement": n.movement}
            )
        for event in snapshot.events:
            if isinstance(event, SetCompleted):
                self.add_set(event)
        if self._next_sample_s is None:
            self._next_sample_s = snapshot.t_s
        if snapshot.t_s + 1e-9 < self._next_sample_s:
            return
        metrics = snapshot.metrics
        self._samples.append(
            {
                "t_s": round(snapshot.t_s, 3),
                "state": snapshot.state,
                "forward_head": _round(metrics.forward_head if metrics else None),
                "thoracic_rounding": _round(metrics.thoracic_rounding if metrics else None),
                # "still" / "moving" / "away", None until the user is first seen.
                "activity": snapshot.activity,
                # While slouched, the measure that carried it (`SlouchCue`: "score",
                # "forward_head", "rounding", "out_of_frame", "side_lean"); else None.
                "why": snapshot.slouch.why,
            }
        )
        while self._next_sample_s <= snapshot.t_s + 1e-9:
            self._next_sample_s += self.sample_period_s

    def add_set(self, done: SetCompleted) -> None:
        """Count a finished set's reps (also called for a set still open when the file ends)."""
        if done.movement == LATERAL_FLEXION:
            sides = done.per_side or {}
            for side in ("left", "right"):
                self._reps[LATERAL_FLEXION][side] += int(sides.get(side, 0))
        elif done.movement == CAT_COW:
            self._reps[CAT_COW] += done.reps

    def close(self) -> None:
        """Nothing to release."""

    def build(
        self, *, frames: int, duration_s: float, fps: float, view: str | None
    ) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        intervals = [[round(a, 2), round(b, 2)] for a, b in self._slouch.finish()]
        activity = self._activity.finish()
        still = [
            [round(a, 2), round(b, 2)]
            for a, b in activity[Activity.STILL]
            if b - a >= self.min_still_interval_s
        ]
        away = [[round(a, 2), round(b, 2)] for a, b in activity[Activity.AWAY]]
        return {
            "frames": frames,
            "duration_s": round(duration_s, 3),
            "fps": round(fps, 3),
            "view": view or "front",
            "samples": list(self._samples),
            "slouch": {
                "seconds": round(sum(b - a for a, b in intervals), 2),
                "intervals_s": intervals,
            },
            "nudges": list(self._nudges),
            "reps": self._reps,
            "stationary": {
                "longest_still_s": round(max((b - a for a, b in still), default=0.0), 2),
                "still_intervals_s": still,
                "away_intervals_s": away,
            },
        }
