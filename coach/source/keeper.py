"""Provides the camera keeper: a live source that comes and goes, held open for a coach that stays."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Protocol

from coach.errors import SourceError
from coach.records import (
    Condition,
    Frame,
    ImageArray,
    Interruption,
    LiveStatus,
    Look,
    SkippedFrame,
)
from coach.source.clock import stream_clock
from coach.source.gate import FrameGate


class KeptSource(Protocol):
    """A live camera or stream the keeper opens, reads, wakes and releases."""

    @property
    def description(self) -> str:
        """The source's label."""

    @property
    def fps(self) -> float:
        """Its frame rate."""

    def frames(
        self, gate: FrameGate | None = None, interrupted: Callable[[], bool] | None = None
    ) -> Iterator[Frame | SkippedFrame]:
        """Frames until interrupted or closed; raises SourceError once the source is lost."""

    def wake(self) -> None:
        """Make a waiting `frames()` ask `interrupted` at once."""

    def close(self) -> None:
        """Release the device."""


@dataclass(frozen=True)
class Backoff:
    """How long to wait between tries to open a missing or busy camera."""

    first_s: float = 2.0
    most_s: float = 60.0

    def delays(self) -> Iterator[float]:
        """2, 4, 8, ... seconds, at most `most_s`."""
        delay_s = self.first_s
        while True:
            yield delay_s
            delay_s = min(self.most_s, delay_s * 2.0)


class CameraKeeper:
    """Holds a live source open for the loop, and lets go of it whenever it should.

    The camera is opened when the loop asks for frames; while it is missing, busy or lost
    the keeper says so once (NO_CAMERA), retries with backoff and carries on by itself when
    it answers again. While `held()` gives a status (paused, locked, asleep) the camera
    is released: a `hold_changed()` from any thread makes the keeper let go of it within a
    fraction of a second. Each stretch without frames is told to the analysis
    (`on_interruption`, on the loop's thread, before the frame that ends it), so it is never
    taken for sitting still.

    `give_up_s`: a bounded wait for scripts: after this long without a camera the frames end
    with the source's error (None: never give up).
    """

    _POLL_S = 0.25

    def __init__(
        self,
        open_source: Callable[[float], KeptSource],
        held: Callable[[], LiveStatus | None],
        stopped: Callable[[], bool],
        on_status: Callable[[LiveStatus], None],
        on_interruption: Callable[[Interruption], None],
        *,
        where: str,
        backoff: Backoff | None = None,
        give_up_s: float | None = None,
        clock: Callable[[], float] = stream_clock,
        idle: Callable[[], None] = lambda: None,
    ) -> None:
        """`open_source(origin_s)`: opens the camera with stream time 0 at `origin_s` on
        `clock` (raises SourceError when it cannot); `where`: the camera's name for the user;
        `idle`: called on the loop's thread about every quarter second while no frames come
        (a settings change is applied there; it may `reopen()` another camera)."""
        self._idle = idle
        self._open_source = open_source
        self._held = held
        self._stopped = stopped
        self._on_status = on_status
        self._on_interruption = on_interruption
        self._where = where
        self._backoff = backoff or Backoff()
        self._give_up_s = give_up_s
        self._clock = clock
        self._origin_s = clock()
        self._source: KeptSource | None = None
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._released.set()
        self._wakeup = threading.Event()
        self._reopen = threading.Event()
        self._gap_from_s: float | None = None
        self._gap_condition: Condition | None = None
        self._missing_since_s: float | None = None
        self._status: LiveStatus | None = None
        self.description = where
        self.fps = 0.0

    def now_s(self) -> float:
        """Stream time now (0 is the keeper's creation)."""
        return self._clock() - self._origin_s

    # -- told from other threads ---------------------------------------------------------

    def hold_changed(self, wait_s: float = 1.0) -> bool:
        """Something `held()` answers changed: look at once. When the coach is now held,
        wait up to `wait_s` for the camera to be released; True once it is."""
        self._wakeup.set()
        with self._lock:
            source = self._source
        if source is not None:
            source.wake()
        if self._held() is None:
            return True
        return self._released.wait(wait_s)

    def reopen(self) -> None:
        """Let go of the camera and open it again (`open_source` may now open another one:
        the camera setting changed)."""
        self._reopen.set()
        with self._lock:
            source = self._source
        if source is not None:
            source.wake()

    # -- the loop's side -----------------------------------------------------------------

    def frames(self, gate: FrameGate | None = None) -> Generator[Frame | SkippedFrame]:
        """Frames from the camera for as long as the loop runs, through every absence; the
        camera is released whenever they end (a stop, an error, the loop closing them)."""
        try:
            while not self._stopped():
                status = self._held()
                if status is not None:
                    self._wait_while_held(status)
                    continue
                self._reopen.clear()
                source = self._open()
                if source is None:
                    continue
                try:
                    for item in source.frames(_FreshLook(gate), self._interrupt):
                        self._end_gap(item.t_s)
                        yield item
                        if self._interrupt():
                            break
                except SourceError as exc:
                    self._release()
                    self._lost(exc, self._backoff.first_s)
                    continue
                self._release()
        finally:
            self._release()

    # -- inside ----------------------------------------------------------------------------

    def _interrupt(self) -> bool:
        return self._stopped() or self._held() is not None or self._reopen.is_set()

    def _say(self, status: LiveStatus) -> None:
        """Tell a change once: an outage is said once, whatever each try answers; a pause
        is said again as its minutes run down."""
        old = self._status
        if old is not None and old.condition is status.condition is Condition.NO_CAMERA:
            return
        if old is None or (old.condition, old.detail) != (status.condition, status.detail):
            self._status = status
            self._on_status(status)

    def _start_gap(self, condition: Condition) -> None:
        if self._gap_from_s is None:
            self._gap_from_s = self.now_s()
        # What the stretch is called is what it was most: locked beats no camera.
        if self._gap_condition is None or condition in (Condition.LOCKED, Condition.ASLEEP):
            self._gap_condition = condition

    def _end_gap(self, t_s: float) -> None:
        if self._gap_from_s is None:
            return
        condition = self._gap_condition or Condition.NO_CAMERA
        self._on_interruption(Interruption(self._gap_from_s, max(t_s, self._gap_from_s), condition))
        self._gap_from_s = self._gap_condition = self._missing_since_s = None
        self._say(LiveStatus(Condition.COACHING, f"{self._where} is back; coaching again"))

    def _release(self) -> None:
        with self._lock:
            source, self._source = self._source, None
        if source is not None:
            source.close()
        self._released.set()

    def _wait_while_held(self, status: LiveStatus) -> None:
        self._release()
        while not self._stopped():
            self._start_gap(status.condition)
            self._say(status)
            self._wakeup.wait(self._POLL_S)
            self._wakeup.clear()
            self._idle()
            now = self._held()
            if now is None:
                return
            status = now

    def _open(self) -> KeptSource | None:
        """The camera, opened; None when it cannot be (said once, then retried with backoff)."""
        delays = self._backoff.delays()
        while not self._stopped() and self._held() is None:
            try:
                source = self._open_source(self._origin_s)
            except SourceError as exc:
                self._lost(exc, next(delays))
                continue
            with self._lock:
                self._source = source
            self._released.clear()
            self.description, self.fps = source.description, source.fps
            if self._held() is not None:  # locked while it opened: let go at once
                self._release()
                return None
            return source
        return None

    def _lost(self, error: SourceError, delay_s: float) -> None:
        """No camera: say so (once per change), give up if the wait is bounded, else wait."""
        self._start_gap(Condition.NO_CAMERA)
        if self._missing_since_s is None:
            self._missing_since_s = self.now_s()
        gone_s = self.now_s() - self._missing_since_s
        if self._give_up_s is not None:
            if gone_s >= self._give_up_s:
                raise error
            delay_s = min(delay_s, max(0.1, self._give_up_s - gone_s))
        detail = f"{_first_clause(str(error))}; trying again by itself"
        self._say(LiveStatus(Condition.NO_CAMERA, detail, retry_in_s=delay_s))
        deadline = time.monotonic() + delay_s
        while not self._stopped() and self._held() is None:
            left_s = deadline - time.monotonic()
            if self._reopen.is_set():  # another camera chosen: try it now
                self._reopen.clear()
                return
            if left_s <= 0:
                return
            self._wakeup.wait(min(self._POLL_S, left_s))
            self._wakeup.clear()
            self._idle()


class _FreshLook:
    """The loop's gate, but the first frame after the camera opens is analysed in full: the
    picture before a gap says nothing about the user after it."""

    def __init__(self, gate: FrameGate | None) -> None:
        self._gate = gate
        self._fresh = True

    def is_due(self, t_s: float) -> bool:
        return self._gate is None or self._gate.is_due(t_s)

    def admit(self, t_s: float, thumb: ImageArray | None = None) -> Look:
        if self._gate is None:
            return Look.ANALYSE
        if not self._fresh:
            return self._gate.admit(t_s, thumb)
        look = self._gate.admit(t_s, None)  # no thumbnail to compare: analysed when due
        self._fresh = look is not Look.ANALYSE
        return look


def _first_clause(message: str) -> str:
    """The part of an error that says what is wrong (not the advice after the semicolon)."""
    return message.split(";", 1)[0].strip()
