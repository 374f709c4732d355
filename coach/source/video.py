"""Provides the video file source: every frame in order, timestamped from the frame rate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from coach.errors import VideoUnreadable
from coach.records import Frame, SkippedFrame
from coach.safe.closing import ClosesOnExit
from coach.safe.printable import printable
from coach.source.capture import OPEN_ERRORS, bgr_picture, decoded_frames
from coach.source.gate import FrameGate, skipped_frame, thumbnail

# A video that stops this far short of its container's frame count is truncated.
_TRUNCATED_FRACTION = 0.95
# Packets in a row that fail to decode before the rest of the file is taken as unreadable
# (a damaged stretch is skipped, as players do).
_BAD_PACKETS = 64


class VideoFileSource(ClosesOnExit):
    """Reads every frame of a video file; timestamps come from the frame rate, not the clock."""

    live = False

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise VideoUnreadable(f"video file {path} does not exist; check the path")
        if path.is_dir():
            raise VideoUnreadable(f"{path} is a folder, not a video file")
        unreadable = VideoUnreadable(
            f"{path} is not a readable video (corrupt, truncated or an unknown format); "
            "try re-encoding it, e.g. with ffmpeg -i IN -c:v libx264 OUT.mp4"
        )
        try:
            self._container: InputContainer = av.open(str(path))
        except OPEN_ERRORS as exc:
            raise unreadable from exc
        if not self._container.streams.video:
            self._container.close()
            raise unreadable
        self._stream: VideoStream = self._container.streams.video[0]
        # Frame threads: a file is read as fast as it decodes, latency does not matter.
        self._stream.thread_type = "AUTO"
        rate = self._stream.average_rate
        fps = float(rate) if rate else 0.0
        # Some containers report 0 or absurd rates; 30 fps is the common default.
        self.fps = fps if 1.0 <= fps <= 240.0 else 30.0
        self.frame_count = self._stream.frames or self._estimated_frames()

    def _estimated_frames(self) -> int:
        """Frames by the duration, where the header does not count them (Matroska, WebM)."""
        stream = self._stream
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif self._container.duration is not None:
            seconds = self._container.duration / av.time_base
        else:
            return 0
        return max(round(seconds * self.fps), 0)

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

        With a `gate`, a frame that is not due is read past without being converted to a
        picture, and a due one it does not admit (its thumbnail unchanged) is not analysed:
        both come as a `SkippedFrame`. Converting is much of the cost of reading a video.
        """
        index = 0
        for decoded in decoded_frames(self._container.demux(self._stream), _BAD_PACKETS):
            t_s = index / self.fps
            if gate is not None and not gate.is_due(t_s):
                yield SkippedFrame(t_s=t_s, index=index)
                index += 1
                continue
            image = bgr_picture(decoded)
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
        self._container.close()
