"""Tests for the plain-socket MJPEG reader against a local HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from coach.mjpeg_stream import open_mjpeg


def _jpeg(level: int) -> bytes:
    image = np.full((48, 64, 3), level, dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return bytes(encoded)


PICTURES = [_jpeg(40), _jpeg(120), _jpeg(200)]


Reply = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Reply], str]]:
    """Serve `reply` for every GET on 127.0.0.1; returns the URL."""
    servers: list[ThreadingHTTPServer] = []
    seen: list[dict[str, str]] = []

    def start(reply: Reply) -> str:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                seen.append(dict(self.headers))
                reply(self)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/cam.mjpg"

    start.seen = seen  # type: ignore[attr-defined]
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _multipart(
    handler: BaseHTTPRequestHandler, parts: list[bytes], boundary: str = "frame"
) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", f'multipart/x-mixed-replace; boundary="{boundary}"')
    handler.end_headers()
    for part in parts:
        handler.wfile.write(part)


def _pictures(stream_url: str) -> list[bytes]:
    stream = open_mjpeg(stream_url, 2.0, 2.0)
    assert stream is not None
    got = []
    while stream.grab():
        ok, packet = stream.retrieve()
        assert ok and packet.ndim == 1
        got.append(packet.tobytes())
    stream.release()
    return got


def test_parts_with_a_length_are_read_whole(serve) -> None:
    parts = [
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(p) + p + b"\r\n"
        for p in PICTURES
    ]
    assert _pictures(serve(lambda h: _multipart(h, parts))) == PICTURES


def test_parts_without_a_length_run_to_the_next_boundary(serve) -> None:
    parts = [b"--cam\r\nContent-Type: image/jpeg\r\n\r\n" + p + b"\r\n" for p in PICTURES]
    got = _pictures(serve(lambda h: _multipart(h, [*parts, b"--cam--\r\n"], "cam")))
    assert got == PICTURES
    assert all(
        cv2.imdecode(np.frombuffer(g, np.uint8), cv2.IMREAD_GRAYSCALE) is not None for g in got
    )


def test_a_picture_cut_short_ends_the_stream(serve) -> None:
    whole = b"--frame\r\nContent-Length: %d\r\n\r\n" % len(PICTURES[0]) + PICTURES[0] + b"\r\n"
    cut = b"--frame\r\nContent-Length: %d\r\n\r\n" % len(PICTURES[1]) + PICTURES[1][:100]
    assert _pictures(serve(lambda h: _multipart(h, [whole, cut]))) == [PICTURES[0]]


def test_credentials_in_the_url_are_sent_as_basic_auth(serve) -> None:
    part = b"--frame\r\nContent-Length: %d\r\n\r\n" % len(PICTURES[0]) + PICTURES[0] + b"\r\n"
    url = serve(lambda h: _multipart(h, [part]))
    _pictures(url.replace("http://", "http://me:p%40ss@"))
    # "me:p@ss" in base64
    assert serve.seen[-1]["Authorization"] == "Basic bWU6cEBzcw=="


def test_anything_but_mjpeg_is_left_to_ffmpeg(serve) -> None:
    def plain(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "video/mp4")
        handler.end_headers()

    def missing(handler: BaseHTTPRequestHandler) -> None:
        handler.send_error(404)

    assert open_mjpeg(serve(plain), 2.0, 2.0) is None
    assert open_mjpeg(serve(missing), 2.0, 2.0) is None
    assert open_mjpeg("rtsp://127.0.0.1:1/cam", 2.0, 2.0) is None


def test_a_server_that_sends_no_picture_is_not_a_camera(serve) -> None:
    with pytest.raises(ConnectionError):
        open_mjpeg(serve(lambda h: _multipart(h, [])), 2.0, 2.0)


def test_a_silent_stream_gives_up_after_the_read_timeout(serve) -> None:
    release = threading.Event()
    part = b"--frame\r\nContent-Length: %d\r\n\r\n" % len(PICTURES[0]) + PICTURES[0] + b"\r\n"

    def stall(handler: BaseHTTPRequestHandler) -> None:
        _multipart(handler, [part])
        handler.wfile.flush()
        release.wait(10.0)

    stream = open_mjpeg(serve(stall), 2.0, 0.5)
    assert stream is not None
    assert stream.grab()  # the first picture
    assert not stream.grab()  # nothing more within 0.5 s
    release.set()
    stream.release()
