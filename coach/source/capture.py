"""Provides PyAV (FFmpeg) reading: a webcam or stream a picture at a time, and the decoding
and BGR conversion video files share with it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from coach.config import SourceConfig
from coach.errors import CameraUnavailable, StreamUnreachable
from coach.records import ImageArray

OPEN_ERRORS = (av.FFmpegError, OSError, ValueError)
"""What PyAV raises for a device, URL or file it cannot open (ValueError: no such demuxer)."""
_READ_ENDS = (StopIteration, av.FFmpegError, OSError)
"""How reading packets ends: the end, a drop (EIO), garbage (InvalidData) or the read
timeout (Exit)."""
# A stream whose pictures keep failing to decode has broken, not dropped a frame.
_BAD_PACKETS = 30


def decoded_frames(
    packets: Iterator[av.Packet[VideoStream]], bad_in_a_row: int
) -> Iterator[VideoFrame]:
    """The pictures of a stream's packets in order, until it ends or breaks off, or
    `bad_in_a_row` packets in a row fail to decode (fewer are skipped, as players do)."""
    bad = 0
    while True:
        try:
            packet = next(packets)
        except _READ_ENDS:
            return
        try:
            frames = packet.decode()  # the last, empty packet flushes the decoder
        except av.FFmpegError:
            bad += 1
            if bad >= bad_in_a_row:
                return
            continue
        bad = 0
        yield from frames


def bgr_picture(frame: VideoFrame) -> ImageArray:
    """A decoded frame as BGR, turned upright where the stream says (a phone held upright).

    One scaling thread: swscale's own threads cost more waiting for each other than they
    save on a 640 x 480 frame (a third of the speed on a busy machine).
    """
    image = frame.to_ndarray(format="bgr24", threads=1)
    quarter_turns = round(frame.rotation / 90) % 4  # counter-clockwise, as stored
    if quarter_turns:
        image = np.rot90(image, quarter_turns)
    return np.ascontiguousarray(image, dtype=np.uint8)


class Capture(Protocol):
    """A camera or stream read by one reader thread, which alone releases it."""

    @property
    def fps(self) -> float:
        """Its frame rate (0: it does not say)."""

    def grab(self) -> bool:
        """Take the next picture off the device; False once it ends, breaks or stalls."""

    def retrieve(self) -> ImageArray | bytes | None:
        """The picture grabbed last: an MJPEG one as its JPEG (decoded only if analysed),
        any other decoded (BGR); None if there is none."""

    def release(self) -> None:
        """Close the device."""


class AvCapture:
    """A PyAV container's first video stream, a picture at a time.

    MJPEG (most webcams and IP cameras) comes as whole JPEG pictures: they are kept as
    bytes, so a frame the loop does not look at is never decoded. Any other codec
    (H.264 over RTSP, raw YUYV from a webcam) is decoded packet by packet, as it must be,
    and converted to BGR only when retrieved.
    """

    def __init__(self, container: InputContainer) -> None:
        self._container = container
        self._stream: VideoStream = container.streams.video[0]
        self._jpeg = self._stream.codec_context.name == "mjpeg"
        self._packets: Iterator[av.Packet[VideoStream]] = container.demux(self._stream)
        self._frames = decoded_frames(self._packets, _BAD_PACKETS)
        self._picture: bytes | VideoFrame | None = None
        # What FFmpeg guesses when the stream does not say (as OpenCV reported it).
        rate = self._stream.guessed_rate or self._stream.average_rate
        self._fps = float(rate) if rate else 0.0

    @property
    def fps(self) -> float:
        return self._fps

    def grab(self) -> bool:
        if not self._jpeg:
            self._picture = next(self._frames, None)
            return self._picture is not None
        try:
            packet = next(self._packets)
        except _READ_ENDS:
            return False
        if packet.size == 0:  # the flush packet: the stream has ended
            return False
        self._picture = bytes(packet)
        return True

    def retrieve(self) -> ImageArray | bytes | None:
        picture = self._picture
        return bgr_picture(picture) if isinstance(picture, VideoFrame) else picture

    def release(self) -> None:
        self._container.close()


def open_camera(index: int, config: SourceConfig, label: str) -> AvCapture:
    """Camera `index` at the configured size and rate, MJPEG where it offers it (`label`:
    the camera as the user named it).

    Raises:
        CameraUnavailable: it is missing, busy in another app, or not permitted.
    """
    device, driver = _device(index)
    if device is None:
        raise _unavailable(label)
    wanted = {
        "video_size": f"{config.camera_width_px}x{config.camera_height_px}",
        "framerate": f"{config.camera_fps:g}",
    }
    # MJPEG first: it is what a USB camera sends at this size and rate, and the coach then
    # decodes only the pictures it analyses. A camera that offers neither the format nor
    # the size is opened as it comes.
    mjpeg = {"v4l2": "input_format", "dshow": "vcodec"}.get(driver)
    first = [{**wanted, mjpeg: "mjpeg"}] if mjpeg else []
    tries: list[dict[str, str]] = [*first, wanted, {}]
    for options in tries:
        try:
            container = av.open(device, format=driver, options=options)
        except OPEN_ERRORS:
            continue
        if container.streams.video:
            return AvCapture(container)
        container.close()
    raise _unavailable(label)


def _unavailable(label: str) -> CameraUnavailable:
    return CameraUnavailable(
        f"camera {label} cannot be opened (missing, busy in another app, "
        "or not permitted); close other camera apps, or pass a video file or stream URL"
    )


def open_stream(url: str, config: SourceConfig, label: str) -> AvCapture:
    """A stream URL (MJPEG over HTTP, RTSP, ...), FFmpeg finding its format (`label`: the
    URL as it may be shown, without a password).

    A read that waits longer than `stream_read_timeout_s` fails, so a reader on a stream
    that stalls with its connection open leaves grab() about when the stall is noticed.

    Raises:
        StreamUnreachable: it cannot be reached, or holds no video.
    """
    # RTSP over TCP where the camera allows it (UDP loses pictures on Wi-Fi), as OpenCV did.
    options = {"rtsp_flags": "prefer_tcp"} if url.lower().startswith("rtsp") else {}
    timeout = (config.stream_open_timeout_s, config.stream_read_timeout_s)
    try:
        container = av.open(url, options=options, timeout=timeout)
    except OPEN_ERRORS:
        container = None
    if container is not None and container.streams.video:
        return AvCapture(container)
    if container is not None:
        container.close()
    raise StreamUnreachable(
        f"stream {label} cannot be reached or decoded; check the URL, "
        "that the camera is on and on this network"
    )


def probe_size(node: Path, timeout_s: float) -> tuple[int, int] | None:
    """The width and height camera `node` delivers as it comes; None: it will not open
    (busy in another app, not permitted, or not a camera)."""
    try:
        container = av.open(str(node), format="v4l2", timeout=timeout_s)
    except OPEN_ERRORS:
        return None
    try:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        return (stream.width, stream.height) if stream.width and stream.height else None
    finally:
        container.close()


def _device(index: int) -> tuple[str | None, str]:
    """What FFmpeg opens for camera `index` (None: there is no such camera), and its input
    device (demuxer)."""
    if sys.platform == "darwin":
        return f"{index}:none", "avfoundation"  # video device `index`, no audio
    if sys.platform == "win32":  # DirectShow opens cameras by name: the index-th one listed
        try:
            cameras = [d for d in av.enumerate_input_devices("dshow") if "video" in d.media_types]
        except OPEN_ERRORS:
            cameras = []
        return (f"video={cameras[index].name}" if index < len(cameras) else None), "dshow"
    return f"/dev/video{index}", "v4l2"
