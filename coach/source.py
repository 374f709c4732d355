"""Provides frame sources: webcam index, video file and stream URL, each yielding timestamped frames."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from coach.closing import ClosesOnExit
from coach.config import SourceConfig
from coach.errors import CameraUnavailable, StreamUnreachable, VideoUnreadable
from coach.landmark_file import SUFFIXES
from coach.records import Frame
from coach.redact import redact

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)

# A video that stops this far short of its container's frame count is truncated.
_TRUNCATED_FRACTION = 0.95


@dataclass(frozen=True)
class SourceSpec:
    """What the user asked to read: a camera index, a video path, a stream URL or landmarks."""

    kind: str
    """One of "camera", "video", "stream", "landmarks"."""
    target: str
    """The index, path or URL as given: only the capture opens it (it may hold a password)."""

    @property
    def is_live(self) -> bool:
        """Live sources run in real time and drop stale frames."""
        return self.kind in ("camera", "stream")

    def __str__(self) -> str:
        """What may be shown, logged or stored: a stream's credentials are redacted."""
        return f"camera {self.target}" if self.kind == "camera" else redact(self.target)


def parse_source(text: str) -> SourceSpec:
    """Classify a SOURCE argument: "0" is a webcam, "rtsp://..." a stream, else a file."""
    if text.isdigit():
        return SourceSpec("camera", text)
    if _URL.match(text):
        return SourceSpec("stream", text)
    lower = text.lower()
    if lower.endswith(SUFFIXES):
        return SourceSpec("landmarks", text)
    return SourceSpec("video", text)


class VideoFileSource(ClosesOnExit):
    """Reads every frame of a video file; timestamps come from the frame rate, not the clock."""

    live = False

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise VideoUnreadable(f"video file {path} does not exist; check the path")
        if path.is_dir():
            raise VideoUnreadable(f"{path} is a folder, not a video file")
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise VideoUnreadable(
                f"{path} is not a readable video (corrupt, truncated or an unknown format); "
                "try re-encoding it, e.g. with ffmpeg -i IN -c:v libx264 OUT.mp4"
            )
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        # Some containers report 0 or absurd rates; 30 fps is the common default.
        self.fps = fps if 1.0 <= fps <= 240.0 else 30.0
        self.frame_count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

    @property
    def description(self) -> str:
        """A short label for views and logs."""
        return self.path.name

    def frames(self) -> Iterator[Frame]:
        """Yield each frame in order with its stream timestamp."""
        index = 0
        while True:
            ok, image = self._capture.read()
            if not ok or image is None:
                break
            yield Frame(image=np.ascontiguousarray(image), t_s=index / self.fps, index=index)
            index += 1
        if index == 0:
            raise VideoUnreadable(
                f"{self.path} has no decodable frames (corrupt or truncated); "
                "check the file plays, or re-encode it"
            )
        if self.frame_count > 0 and index < _TRUNCATED_FRACTION * self.frame_count:
            raise VideoUnreadable(
                f"{self.path} stopped decoding at frame {index} of {self.frame_count} "
                "(truncated or corrupt); re-encode or re-record the file"
            )

    def close(self) -> None:
        """Release the decoder."""
        self._capture.release()


class LiveSource(ClosesOnExit):
    """A webcam or stream read on a background thread that keeps only the newest frame.

    The analysis loop may be slower than the camera; reading on a thread and
    handing over only the latest frame means the coach never falls behind real time.
    """

    live = True

    def __init__(self, spec: SourceSpec, config: SourceConfig) -> None:
        self.spec = spec
        self._config = config
        self._capture = self._open()
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0) or config.camera_fps
        self.frame_count = 0
        self._cond = threading.Condition()
        self._latest: tuple[Any, float, int] | None = None
        self._failed = False
        self._stop = threading.Event()
        self._next_index = 0
        self._t0 = time.monotonic()
        self._thread = threading.Thread(
            target=self._read_forever, name="coach-capture", daemon=True
        )
        self._thread.start()

    @property
    def description(self) -> str:
        """A short label for views and logs."""
        return str(self.spec)

    def _open(self) -> Any:
        if self.spec.kind == "camera":
            capture = cv2.VideoCapture(int(self.spec.target))
            if not capture.isOpened():
                raise CameraUnavailable(
                    f"camera {self.spec.target} cannot be opened (missing, busy in another app, "
                    "or not permitted); close other camera apps, or pass a video file or stream URL"
                )
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._config.camera_width_px)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._config.camera_height_px)
            capture.set(cv2.CAP_PROP_FPS, self._config.camera_fps)
            # A one-frame driver buffer keeps latency low where the backend honours it.
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            return capture
        timeout_ms = int(self._config.stream_open_timeout_s * 1000)
        capture = cv2.VideoCapture(
            self.spec.target,
            cv2.CAP_FFMPEG,
            [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                timeout_ms,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                timeout_ms,
            ],
        )
        if not capture.isOpened():
            raise StreamUnreachable(
                f"stream {self.spec} cannot be reached or decoded; check the URL, "
                "that the camera is on and on this network"
            )
        return capture

    def _read_forever(self) -> None:
        # Frame numbers carry on across a reconnect, like the timestamps.
        index = self._next_index
        while not self._stop.is_set():
            ok, image = self._capture.read()
            if not ok or image is None:
                with self._cond:
                    self._failed = True
                    self._cond.notify_all()
                return
            t_s = time.monotonic() - self._t0
            with self._cond:
                self._latest = (image, t_s, index)
                self._cond.notify_all()
            index += 1
            self._next_index = index

    def frames(self) -> Iterator[Frame]:
        """Yield the newest frame each time the consumer is ready; stale ones are dropped."""
        last_index = -1
        timeout_s = self._config.stream_read_timeout_s
        while True:
            with self._cond:
                deadline = time.monotonic() + timeout_s
                while (self._latest is None or self._latest[2] == last_index) and not self._failed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._stop.is_set():
                        break
                    self._cond.wait(remaining)
                latest, failed = self._latest, self._failed
            if latest is not None and latest[2] != last_index:
                image, t_s, last_index = latest
                yield Frame(image=image, t_s=t_s, index=last_index)
                continue
            if self._stop.is_set():
                return
            if self._reconnect():
                last_index = -1
                continue
            what = "camera" if self.spec.kind == "camera" else "stream"
            reason = "stopped delivering frames" if failed else f"sent no frame for {timeout_s:g} s"
            error = CameraUnavailable if self.spec.kind == "camera" else StreamUnreachable
            raise error(
                f"{what} {redact(self.spec.target)} {reason} and could not be reopened for "
                f"{self._config.reconnect_s:g} s (unplugged, or taken by another app?); "
                "reconnect it and start the coach again"
            )

    def _reconnect(self) -> bool:
        """Try to reopen a dropped camera or stream for `reconnect_s`; True once it delivers."""
        deadline = time.monotonic() + self._config.reconnect_s
        while time.monotonic() < deadline:
            self.close()
            try:
                self.resume()
                return True
            except (CameraUnavailable, StreamUnreachable):
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        return False

    def close(self) -> None:
        """Stop the reader thread and release the device."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=2.0)
        self._capture.release()

    def suspend(self) -> None:
        """Let go of the camera (meeting mode: another app may use it)."""
        self.close()

    def resume(self) -> None:
        """Take the camera back; timestamps carry on from the same origin."""
        self._capture = self._open()
        self._stop = threading.Event()
        self._latest = None
        self._failed = False
        self._thread = threading.Thread(
            target=self._read_forever, name="coach-capture", daemon=True
        )
        self._thread.start()


FrameSource = VideoFileSource | LiveSource


def open_frames(spec: SourceSpec, config: SourceConfig) -> FrameSource:
    """Open a camera, stream or video file for reading frames."""
    if spec.kind == "video":
        return VideoFileSource(Path(spec.target).expanduser())
    if spec.kind in ("camera", "stream"):
        return LiveSource(spec, config)
    raise ValueError(f"not a frame source: {spec.kind}")
