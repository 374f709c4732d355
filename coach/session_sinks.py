"""Provides the session's small pieces: pacing and limits on stream time, and the sinks it keeps for itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from coach.errors import CalibrationError
from coach.records import (
    BandWidened,
    Condition,
    Frame,
    Hold,
    LiveStatus,
    SetCompleted,
    Snapshot,
)

if TYPE_CHECKING:
    from coach.actions.controls import Controls
    from coach.calibration import Profile


class Timestamped(Protocol):
    @property
    def t_s(self) -> float: ...


T = TypeVar("T", bound=Timestamped)


def paced(frames: Iterable[T]) -> Iterator[T]:
    """Release video frames at their own timestamps, as a camera would."""
    started: float | None = None
    for frame in frames:
        now = time.monotonic()
        if started is None:
            started = now - frame.t_s
        delay_s = started + frame.t_s - now
        if delay_s > 0:
            time.sleep(delay_s)
        yield frame


def limited(items: Iterable[T], max_seconds: float | None) -> Iterator[T]:
    """Stop after `max_seconds` of stream time (None: never)."""
    first: float | None = None
    for item in items:
        first = item.t_s if first is None else first
        if max_seconds is not None and item.t_s - first > max_seconds:
            return
        yield item


@dataclass
class Tally:
    """Sink the session keeps for its result (the sets that ended, the frame size) and
    for meeting mode (the pause the analysis decided, on stream time)."""

    sets: list[SetCompleted] = field(default_factory=list)
    image_size: tuple[int, int] | None = None
    paused_until_s: float | None = None
    last_t_s: float = 0.0
    last_at_s: float = 0.0
    """When (monotonic seconds) the last snapshot came: stream time runs on from it."""

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        if snapshot.sample.pose is not None:
            self.image_size = snapshot.sample.pose.image_size
        self.sets.extend(e for e in snapshot.events if isinstance(e, SetCompleted))
        self.paused_until_s = snapshot.paused_until_s
        self.last_t_s, self.last_at_s = snapshot.t_s, time.monotonic()

    def paused_for_s(self) -> float:
        """Seconds of pause left: a live stream's time runs with the clock while no frame
        comes (the camera is released)."""
        if self.paused_until_s is None:
            return 0.0
        now_s = self.last_t_s + (time.monotonic() - self.last_at_s)
        return max(0.0, self.paused_until_s - now_s)

    def close(self) -> None:
        """Nothing to release."""


class WidenKeeper:
    """Sink that keeps the user's "I'm sitting fine" answers (`BandWidened`) in the profile in
    use, so the widened band holds in the next session too (a new calibration drops it)."""

    def __init__(self, path: Path, profile: Profile, warn: Callable[[str], None]) -> None:
        self._path = path
        self._profile = profile
        self._warn = warn

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        from coach.calibration import save_profile, with_widened

        widened = [e for e in snapshot.events if isinstance(e, BandWidened)]
        if not widened:
            return
        bands = dict(self._profile.widened)
        for event in widened:
            bands[event.cue] = event.factor
        self._profile = with_widened(self._profile, bands)
        try:
            save_profile(self._profile, self._path)
        except CalibrationError as exc:  # a full disk must not stop the coaching
            self._warn(str(exc))

    def close(self) -> None:
        """Nothing to release."""


def held_status(controls: Controls, tally: Tally) -> LiveStatus | None:
    """Why a live coach holds its camera released now (asleep, locked, paused), or None."""
    hold = controls.holding()
    if hold is Hold.ASLEEP:
        return LiveStatus(Condition.ASLEEP, "asleep: camera released until the machine wakes")
    if hold is Hold.LOCKED:
        return LiveStatus(Condition.LOCKED, "screen locked: camera released until it is unlocked")
    left_s = 0.0 if controls.resuming() else tally.paused_for_s()
    if left_s <= 0:
        return None
    return LiveStatus(
        Condition.PAUSED,
        f"paused (meeting mode): camera released, resuming in {int(left_s // 60) + 1} min; "
        "press r to resume now",
    )
