"""Provides the video file source: every frame in order, timestamped from the frame rate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from coach.errors import VideoUnreadable
from coach.records import Frame, ImageArray, SkippedFrame
from coach.safe.closing import ClosesOnExit
from coach.safe.printable import printable
from coach.source.gate import FrameGate, skipped_frame, thumbnail

# A video that stops this far short of its container's frame count is truncated.
_TRUNCATED_FRACTION = 0.95


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
        return printable(self.path.name)

    @property
    def duration_s(self) -> float | None:
        """The video's length by its header (None when the container does not say)."""
        return self.frame_count / self.fps if self.frame_count > 0 else None

    def frames(self, gate: FrameGate | None = None) -> Iterator[Frame | SkippedFrame]:
        """Yield each frame in order with its stream timestamp.

        With a `gate`, a frame that is not due is read past without being decoded, and a
        due one it does not admit (its thumbnail unchanged) is not analysed: both come as
        a `SkippedFrame`. Decoding is most of the cost of reading a video.
        """
        index = 0
        while True:
            t_s = index / self.fps
            if gate is not None and not gate.is_due(t_s):
                if not self._capture.grab():
                    break
                yield SkippedFrame(t_s=t_s, index=index)
                index += 1
                continue
            ok, decoded = self._capture.read()
            if not ok or decoded is None:
                break
            image: ImageArray = np.ascontiguousarray(decoded, dtype=np.uint8)
            skipped = None if gate is None else skipped_frame(gate, t_s, index, thumbnail(image))
            yield skipped or Frame(image=image, t_s=t_s, index=index)
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
