"""Provides the live source: a webcam or stream read on a thread that keeps only the newest frame."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from coach.config import SourceConfig
from coach.errors import CameraUnavailable, StreamUnreachable
from coach.records import Frame, ImageArray, SkippedFrame
from coach.safe.closing import ClosesOnExit
from coach.safe.redact import redact
from coach.source.cameras import resolve_camera
from coach.source.capture import Capture, open_camera, open_stream
from coach.source.clock import stream_clock
from coach.source.gate import EveryFrame, FrameGate, skipped_frame, thumbnail
from coach.source.jpeg import decoded_jpeg, jpeg_thumbnail
from coach.source.spec import SourceKind, SourceSpec


class LiveSource(ClosesOnExit):
    """A webcam or stream read on a background thread that keeps only the newest frame.

    The analysis loop may be slower than the camera; reading on a thread and
    handing over only the latest frame means the coach never falls behind real time.

    Each reader thread owns its capture and alone releases it: releasing a capture
    while another thread is inside its grab() crashes the process (FFmpeg frees what
    the read is using). A reader stuck in grab() on a stalled camera is abandoned (it is
    a daemon, and releases its capture itself once grab() returns) and a fresh
    capture is opened beside it.
    """

    live = True

    # How long close() waits for the reader to leave grab() before abandoning it.
    _JOIN_S = 0.5
    # Pictures in a row that do not decode before the stream counts as broken.
    _BROKEN_PICTURES = 3

    def __init__(
        self,
        spec: SourceSpec,
        config: SourceConfig,
        on_notice: Callable[[str], None] | None = None,
        origin_s: float | None = None,
    ) -> None:
        """`origin_s`: stream time 0 on `stream_clock()` (default: now), so a source opened
        again by the camera keeper carries on the same timeline."""
        self.spec = spec
        self._config = config
        self._notice = on_notice
        self._cond = threading.Condition()
        self._latest: tuple[ImageArray | bytes, float, int] | None = None
        self._failed = False
        self._stalled = False
        """The failed read had waited out the read timeout: a stall, not a drop."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_index = 0
        self._waiting = False
        """The loop waits for a frame: the reader hands over the next due one."""
        self._gate: FrameGate = EveryFrame()
        self._last_grab_s = time.monotonic()
        capture = self._open()
        # Read before the reader starts: from then on only the reader touches the capture.
        self.fps = capture.fps or config.camera_fps
        self.frame_count = 0
        self._t0 = stream_clock() if origin_s is None else origin_s
        self._interrupted: Callable[[], bool] = lambda: False
        self._start_reader(capture)

    @property
    def description(self) -> str:
        """A short label for views and logs."""
        return str(self.spec)

    @property
    def duration_s(self) -> float | None:
        """A camera or stream has no end to reach: None."""
        return None

    def _open(self) -> Capture:
        if self.spec.kind is SourceKind.CAMERA:
            # A camera named by identity is looked up at each opening: replugged, it has
            # another index.
            index = resolve_camera(self.spec.target)
            return open_camera(index, self._config, self.spec.target)
        return open_stream(self.spec.target, self._config, str(self.spec))

    def _start_reader(self, capture: Capture) -> None:
        with self._cond:
            self._stop = threading.Event()
            self._latest = None
            self._failed = self._stalled = False
        self._thread = threading.Thread(
            target=self._read_forever, args=(capture, self._stop), name="coach-capture", daemon=True
        )
        self._thread.start()

    def _read_forever(self, capture: Capture, stop: threading.Event) -> None:
        try:
            stall_s = 0.9 * self._config.stream_read_timeout_s
            while not stop.is_set():
                started = time.monotonic()
                # grab() takes the picture off the camera or stream (an MJPEG one stays a
                # JPEG); only a frame the loop is waiting for and is due is retrieved (a JPEG
                # for the loop to glance at or decode, any other converted to BGR).
                ok = capture.grab()
                returned = time.monotonic()
                t_s = stream_clock() - self._t0
                with self._cond:
                    if stop.is_set():  # an abandoned reader whose read returns late
                        return
                    if not ok:
                        self._failed = True
                        self._stalled = returned - started >= stall_s
                        self._cond.notify_all()
                        return
                    index = self._next_index
                    self._next_index += 1
                    self._last_grab_s = returned
                    wanted = self._waiting and self._gate.is_due(t_s)
                if not wanted:
                    continue
                image = capture.retrieve()
                with self._cond:
                    if stop.is_set():
                        return
                    if image is None:
                        # Nothing to hand over: the stream ended or broke.
                        self._failed = True
                        self._stalled = False
                        self._cond.notify_all()
                        return
                    # Frame numbers carry on across a reconnect, like the timestamps.
                    self._latest = (image, t_s, index)
                    self._cond.notify_all()
        finally:
            capture.release()

    def wake(self) -> None:
        """Make a waiting `frames()` look at once whether it is interrupted (any thread)."""
        with self._cond:
            self._cond.notify_all()

    def frames(
        self, gate: FrameGate | None = None, interrupted: Callable[[], bool] | None = None
    ) -> Iterator[Frame | SkippedFrame]:
        """Yield a fresh frame each time the consumer is ready; stale ones are dropped.

        Only a frame handed over is decoded, and with a `gate` only once it is due (the
        analysis loop's rate) and admitted: a frame whose thumbnail shows nothing new is
        handed over as a `SkippedFrame`. So a camera sending 30 frames a second to a
        coach looking once a second costs one decode a second. A stream that stalls or
        drops is reopened (the user is told), for up to `reconnect_s`; frames then carry
        on with the same clock.

        `interrupted`: asked while waiting (at least twice a second, and on `wake()`); once it
        says True the frames end, so the keeper can release the camera (a lock, a pause).
        """
        last_index = -1
        timeout_s = self._config.stream_read_timeout_s
        what = "camera" if self.spec.kind is SourceKind.CAMERA else "stream"
        where = f"{what} {redact(self.spec.target)}"  # said to the user: no password
        reconnected = False
        broken = 0
        self._gate = gate if gate is not None else EveryFrame()
        self._interrupted = interrupted if interrupted is not None else (lambda: False)
        while True:
            with self._cond:
                self._waiting = True
                self._last_grab_s = time.monotonic()
                while (self._latest is None or self._latest[2] == last_index) and not self._failed:
                    # A stall is a camera that sends nothing, not a frame that is not yet due.
                    remaining = self._last_grab_s + timeout_s - time.monotonic()
                    if remaining <= 0 or self._stop.is_set() or self._interrupted():
                        break
                    self._cond.wait(min(remaining, 0.5))
                self._waiting = False
                latest = self._latest
                stopped = self._stop.is_set() or self._interrupted()
                dropped = self._failed and not self._stalled
            if latest is not None and latest[2] != last_index:
                raw, t_s, last_index = latest
                frame = self._decode(raw, t_s, last_index)
                if frame is not None:
                    broken = 0
                    if reconnected:
                        reconnected = False
                        self._say(f"{where} is back; coaching resumed")
                    yield frame
                    continue
                # A picture that does not decode is dropped; several in a row: the stream broke.
                broken += 1
                if broken < self._BROKEN_PICTURES:
                    continue
                dropped, stopped = True, False
            if stopped:
                return
            reason = (
                "stopped delivering frames"
                if dropped
                else f"stalled (no frame for {timeout_s:g} s)"
            )
            error = CameraUnavailable if self.spec.kind is SourceKind.CAMERA else StreamUnreachable
            if self._config.reconnect_s <= 0:  # the caller reopens it (the camera keeper)
                self.close()
                raise error(f"{where} {reason} (unplugged, or taken by another app?)")
            self._say(f"{where} {reason}; reconnecting (for up to {self._config.reconnect_s:g} s)…")
            if self._reconnect():
                reconnected = True
                continue
            raise error(
                f"{where} {reason} and could not be reopened for "
                f"{self._config.reconnect_s:g} s (unplugged, or taken by another app?); "
                "reconnect it and start the coach again"
            )

    def _decode(
        self, raw: ImageArray | bytes, t_s: float, index: int
    ) -> Frame | SkippedFrame | None:
        """The frame the gate admits, decoded; a skipped one; None: it does not decode."""
        if isinstance(raw, np.ndarray):  # the capture decoded it already
            skipped = skipped_frame(self._gate, t_s, index, thumbnail(raw))
            return skipped or Frame(image=raw, t_s=t_s, index=index)
        thumb = jpeg_thumbnail(raw)  # an undecoded JPEG
        if thumb is None:
            return None
        skipped = skipped_frame(self._gate, t_s, index, thumb)
        if skipped is not None:
            return skipped
        image = decoded_jpeg(raw)
        return None if image is None else Frame(image=image, t_s=t_s, index=index)

    def _say(self, message: str) -> None:
        if self._notice is not None:
            self._notice(message)

    def _reconnect(self) -> bool:
        """Reopen a stalled or dropped camera or stream within `reconnect_s`; True once open."""
        deadline = time.monotonic() + self._config.reconnect_s
        self.close()
        if self._config.reconnect_s <= 0:  # reconnecting is turned off
            return False
        while True:
            try:
                self.resume()
                return True
            except (CameraUnavailable, StreamUnreachable):
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    return False
                time.sleep(min(1.0, left_s))

    def close(self) -> None:
        """Stop the reader; it releases the device itself (now, or when its grab() returns)."""
        with self._cond:
            self._stop.set()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self._JOIN_S)

    def suspend(self) -> None:
        """Let go of the camera (meeting mode: another app may use it)."""
        self.close()

    def resume(self) -> None:
        """Take the camera back; timestamps carry on from the same origin."""
        self._start_reader(self._open())
