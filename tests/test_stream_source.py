"""Tests the live source on a real MJPEG stream served on localhost: stale frames are dropped."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import pytest

from coach.config import Config, SourceConfig
from coach.errors import StreamUnreachable
from coach.pose import PoseEstimator
from coach.source import LiveSource, SourceSpec
from tests.conftest import sample_clip

pytestmark = pytest.mark.slow


def _jpeg_frames() -> list[bytes]:
    capture = cv2.VideoCapture(str(sample_clip("neutral")))
    frames = []
    while len(frames) < 60:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(cv2.imencode(".jpg", image)[1].tobytes())
    capture.release()
    return frames


@pytest.fixture
def mjpeg_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, threading.Event]]:
    """An MJPEG camera on 127.0.0.1 at 30 fps; setting the event ends the stream.

    Parametrised indirectly with a number, each connection drops after that many frames.
    """
    frames = _jpeg_frames()
    stop = threading.Event()
    per_connection = getattr(request, "param", 3000)

    class Camera(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            try:
                for i in range(per_connection):
                    if stop.is_set():
                        return
                    jpg = frames[i % len(frames)]
                    head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                    self.wfile.write(head % len(jpg) + jpg + b"\r\n")
                    time.sleep(1 / 30)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cam.mjpg", stop
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def test_a_slow_consumer_gets_the_newest_frames(mjpeg_url, model_path) -> None:
    url, _ = mjpeg_url
    indices, stamps = [], []
    with (
        LiveSource(SourceSpec("stream", url), SourceConfig()) as source,
        PoseEstimator(model_path, Config().pose) as estimator,
    ):
        for frame in source.frames():
            sample = estimator.estimate(frame)
            assert sample.pose is not None  # the person in the stream is tracked
            indices.append(frame.index)
            stamps.append(frame.t_s)
            time.sleep(0.15)  # a consumer slower than the 30 fps camera
            if len(indices) == 8:
                break
    steps = [b - a for a, b in itertools.pairwise(indices)]
    assert min(steps) >= 3, indices  # stale frames were dropped, not queued
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert stamps[-1] - stamps[0] == pytest.approx(7 * (stamps[1] - stamps[0]), rel=0.5)


def test_a_stream_that_stops_is_reported(mjpeg_url) -> None:
    url, stop = mjpeg_url
    config = SourceConfig(stream_read_timeout_s=2.0, reconnect_s=2.0)
    with LiveSource(SourceSpec("stream", url), config) as source, pytest.raises(StreamUnreachable):
        for i, _frame in enumerate(source.frames()):
            if i == 3:
                stop.set()


@pytest.mark.parametrize("mjpeg_url", [20], indirect=True)
def test_a_dropped_stream_is_reopened(mjpeg_url) -> None:
    url, _ = mjpeg_url
    indices, stamps = [], []
    config = SourceConfig(stream_read_timeout_s=2.0, reconnect_s=10.0)
    with LiveSource(SourceSpec("stream", url), config) as source:
        for frame in source.frames():
            indices.append(frame.index)
            stamps.append(frame.t_s)
            if len(indices) == 50:  # the camera drops every 20 frames
                break
    assert all(b > a for a, b in itertools.pairwise(indices))
    assert all(b > a for a, b in itertools.pairwise(stamps))
