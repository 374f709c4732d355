"""The source stage without OpenCV: PyAV reads clips and streams, simplejpeg decodes MJPEG.

OpenCV stays a test dependency: it made the sample clips, and here it is the reference the
new readers are held to (the same frames, sizes and turns as before).
"""

from __future__ import annotations

import errno
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

import av
import cv2
import numpy as np
import pytest

from coach.config import SourceConfig
from coach.errors import CameraUnavailable, StreamUnreachable, VideoUnreadable
from coach.records import Look
from coach.source import LiveSource, SourceKind, SourceSpec, VideoFileSource, thumbnail
from coach.source import capture as capture_module
from coach.source.jpeg import decoded_jpeg, jpeg_thumbnail
from tests.conftest import MODEL, REPO, sample_clip
from tests.mjpeg_camera import SteadyCamera, _MjpegServer

# Run in a child with `import cv2` and `import PIL` made to fail: they are dev-only.
NO_OPENCV = """
import sys
from pathlib import Path

sys.modules["cv2"] = None  # any `import cv2` from here on raises ImportError
sys.modules["PIL"] = None

from coach.config import SourceConfig
from coach.errors import CameraUnavailable, StreamUnreachable, VideoUnreadable
from coach.records import Look
from coach.source import LiveSource, SourceKind, SourceSpec, VideoFileSource
from coach.source.cameras import Camera, with_sizes


class Glance:
    def is_due(self, t_s):
        return True

    def admit(self, t_s, thumb=None):
        thumbs.append(thumb.shape)  # glanced at first: a JPEG decoded to a grey eighth
        return Look.UNCHANGED if len(thumbs) % 2 else Look.ANALYSE


thumbs = []
with VideoFileSource(Path(sys.argv[1])) as video:
    images = [frame.image for frame, _ in zip(video.frames(), range(10))]
assert [i.shape for i in images] == [(480, 640, 3)] * 10, [i.shape for i in images]
with LiveSource(SourceSpec(SourceKind.STREAM, sys.argv[2]), SourceConfig()) as live:
    seen = []
    for item in live.frames(Glance()):
        seen.append(getattr(item, "image", None))
        if len(seen) == 4:
            break
assert [s is None for s in seen] == [True, False, True, False], seen
assert seen[1].shape == (480, 640, 3) and thumbs == [(60, 80)] * 4, thumbs
(looked,) = with_sizes([Camera(63, "gone", None, Path(sys.argv[3]))], timeout_s=2.0)
assert looked.busy
from coach.actions.tray_icons import TrayState, argb_pixmap, draw_icon
from coach.config import PoseConfig
from coach.pose.estimator import PoseEstimator

from coach.records import Frame

with PoseEstimator(Path(sys.argv[4]), PoseConfig()) as estimator:
    sample = estimator.estimate(Frame(image=images[0], t_s=0.0, index=0))
assert sample.pose is not None and sample.brightness is not None, sample
assert argb_pixmap(draw_icon(TrayState.UPRIGHT))[0] > 0
assert sys.modules["cv2"] is None and sys.modules["PIL"] is None
print("read without OpenCV")
"""


def test_clips_streams_and_cameras_are_read_without_opencv(tmp_path: Path) -> None:
    with SteadyCamera() as camera:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                NO_OPENCV,
                str(sample_clip("neutral")),
                camera.url,
                str(tmp_path / "video63"),
                str(MODEL),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "read without OpenCV" in result.stdout


def test_a_clip_gives_the_frames_opencv_gave() -> None:
    clip = sample_clip("neutral")
    capture = cv2.VideoCapture(str(clip))
    expected = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        expected.append(image)
    fps, count = capture.get(cv2.CAP_PROP_FPS), int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    with VideoFileSource(clip) as video:
        assert (video.fps, video.frame_count) == (fps, count)
        frames = list(video.frames())
    assert [f.index for f in frames] == list(range(len(expected)))
    assert [f.t_s for f in frames] == [i / fps for i in range(len(expected))]
    for frame, image in zip(frames, expected, strict=True):
        got = frame.image
        assert got.dtype == np.uint8 and got.shape == image.shape and got.flags.c_contiguous
        # The same decoder; only the colour conversion may round differently.
        assert np.abs(got.astype(np.int16) - image).mean() < 1.0


def _rotated_copy(clip: Path, out: Path) -> Path:
    """`clip` with its track's display matrix set to a quarter turn, as a phone held upright
    writes it (the pictures themselves unchanged)."""
    data = clip.read_bytes()
    matrix_at = data.index(b"tkhd") - 4 + 48  # a version 0 track header's matrix
    quarter_turn = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    out.write_bytes(data[:matrix_at] + quarter_turn + data[matrix_at + 36 :])
    return out


def test_a_video_from_a_phone_held_upright_is_turned_upright_as_before(tmp_path: Path) -> None:
    clip = _rotated_copy(sample_clip("neutral"), tmp_path / "upright.mp4")
    capture = cv2.VideoCapture(str(clip))
    ok, expected = capture.read()
    capture.release()
    assert ok and expected.shape == (640, 480, 3)  # OpenCV turns it by the matrix
    with VideoFileSource(clip) as video:
        image = next(iter(video.frames())).image
    assert image.shape == expected.shape and image.flags.c_contiguous
    assert np.abs(image.astype(np.int16) - expected).mean() < 1.0


def test_frames_not_due_are_skipped_and_due_ones_are_glanced_at() -> None:
    asked: list[np.ndarray | None] = []

    class EveryThird:
        def is_due(self, t_s: float) -> bool:
            return round(t_s * 15) % 3 == 0

        def admit(self, t_s: float, thumb: np.ndarray | None = None) -> Look:
            asked.append(thumb)
            return Look.ANALYSE

    with VideoFileSource(sample_clip("neutral")) as video:
        items = list(video.frames(EveryThird()))
    analysed = [item.index for item in items if hasattr(item, "image")]
    assert len(items) == 300 and analysed == list(range(0, 300, 3))
    assert all(thumb is not None and thumb.shape == (60, 80) for thumb in asked)


@pytest.mark.parametrize(("width", "height"), [(640, 480), (854, 480), (641, 479), (7, 5)])
def test_a_jpeg_glance_is_the_size_of_a_thumbnail(width: int, height: int) -> None:
    rng = np.random.default_rng(width)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", image)[1].tobytes()
    small = jpeg_thumbnail(jpeg)
    assert small is not None and small.dtype == np.uint8 and small.ndim == 2
    assert small.shape == thumbnail(image).shape
    full = decoded_jpeg(jpeg)
    reference = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert full is not None and np.array_equal(full, reference)  # libjpeg both, as before


def test_a_broken_jpeg_decodes_to_none() -> None:
    for broken in (b"", b"\x00\xffnot a jpeg\xd8" * 50):
        assert jpeg_thumbnail(broken) is None and decoded_jpeg(broken) is None


class _OneBrokenPicture(_MjpegServer):
    """A 30 fps camera whose sixth picture is not a JPEG (framed as one, so the stream goes on)."""

    def __init__(self) -> None:
        super().__init__(30)

    def serve(self, out: BinaryIO, *, first: bool) -> None:
        for i in range(600):
            if self.stop.is_set():
                return
            jpeg = b"\xff\xd8 not a picture" * 40 if i == 5 else self.jpegs[i % len(self.jpegs)]
            self.write_frame(out, jpeg)
            time.sleep(1 / 30)


def test_a_broken_picture_on_a_stream_is_dropped_not_a_reconnect() -> None:
    notices: list[str] = []
    with (
        _OneBrokenPicture() as camera,
        LiveSource(
            SourceSpec(SourceKind.STREAM, camera.url), SourceConfig(), notices.append
        ) as live,
    ):
        indices = []
        for frame in live.frames():
            indices.append(frame.index)
            if len(indices) == 12:
                break
    assert 5 not in indices and indices == sorted(indices)
    assert notices == [] and camera.connections == 1


def test_a_stream_that_is_not_mjpeg_is_decoded_and_its_end_is_a_drop() -> None:
    """MPEG-4 video (as H.264 from an RTSP camera would be): decoded packet by packet; a
    local file stands in for the camera, read as fast as it decodes."""
    config = SourceConfig(reconnect_s=0.0)
    spec = SourceSpec(SourceKind.STREAM, str(sample_clip("neutral")))
    images = []
    with (
        LiveSource(spec, config) as live,
        pytest.raises(StreamUnreachable, match="stopped delivering frames"),
    ):
        assert live.fps == 15.0
        for frame in live.frames():
            images.append(frame.image)
    assert len(images) >= 3
    assert all(i.shape == (480, 640, 3) and i.flags.c_contiguous for i in images)


def test_a_webcam_is_asked_for_mjpeg_at_the_set_size_then_taken_as_it_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[str, str | None, dict[str, str] | None]] = []

    def busy(file: str, format: str | None = None, options: dict[str, str] | None = None):  # noqa: A002
        asked.append((file, format, options))
        raise av.error.OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(capture_module.av, "open", busy)
    config = SourceConfig(camera_width_px=1280, camera_height_px=720, camera_fps=15.0)
    with pytest.raises(CameraUnavailable, match=r"camera 2 cannot be opened .*busy") as caught:
        LiveSource(SourceSpec(SourceKind.CAMERA, "2"), config)
    assert "\n" not in str(caught.value)
    wanted = {"video_size": "1280x720", "framerate": "15"}
    assert asked == [
        ("/dev/video2", "v4l2", {**wanted, "input_format": "mjpeg"}),
        ("/dev/video2", "v4l2", wanted),
        ("/dev/video2", "v4l2", {}),
    ]


def test_a_camera_node_that_is_not_there_is_unavailable_in_one_line() -> None:
    with pytest.raises(CameraUnavailable, match="camera /dev/video63 cannot be opened"):
        LiveSource(SourceSpec(SourceKind.CAMERA, "/dev/video63"), SourceConfig())


def test_a_video_cut_short_says_where_it_stopped(tmp_path: Path) -> None:
    """Its index at the front (as a streaming-ready MP4 has it): it opens, then breaks off."""
    source = av.open(str(sample_clip("neutral")))
    whole = tmp_path / "whole.mp4"
    with av.open(str(whole), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    source.close()
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with (
        VideoFileSource(cut) as video,
        pytest.raises(VideoUnreadable, match=r"stopped decoding at frame \d+ of 300"),
    ):
        for _ in video.frames():
            pass
