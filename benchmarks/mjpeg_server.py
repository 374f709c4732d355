"""A live MJPEG camera on 127.0.0.1 that plays a rendered session (benchmarks/live_session.py).

Run as its own process, so its CPU time is not the coach's:

    python benchmarks/mjpeg_server.py FOLDER [--fps 30]

It prints ``PORT n`` once listening and ``START wall_s`` when the first frame goes out.
Like a camera, it keeps time: the session starts with the first connection, and every
connection (a reconnect too) gets the frame due now, late frames being skipped. After the
last frame it keeps repeating the last second, until it is terminated. The JPEG bytes are
read from the cache as they are: serving costs a memory copy per frame, no encoding.
"""

from __future__ import annotations

import argparse
import contextlib
import mmap
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import numpy as np

_HEAD = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"


class Frames:
    """The session's JPEG frames, mapped from the cache (frames.bin and index.npy)."""

    def __init__(self, folder: Path) -> None:
        self._offsets = np.load(folder / "index.npy")
        self._file = (folder / "frames.bin").open("rb")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> bytes:
        return self._map[int(self._offsets[i]) : int(self._offsets[i + 1])]

    def close(self) -> None:
        self._map.close()
        self._file.close()


class LiveClock:
    """The session's clock: it starts with the first frame served, once for all connections."""

    def __init__(self, fps: float, announce: bool = True) -> None:
        self.fps = fps
        self._lock = threading.Lock()
        self._t0: float | None = None
        self.start_wall_s: float | None = None
        self._announce = announce

    def start(self) -> float:
        """The monotonic time of frame 0 (now, for the first caller)."""
        with self._lock:
            if self._t0 is None:
                self._t0 = time.monotonic()
                self.start_wall_s = time.time()
                if self._announce:
                    print(f"START {self.start_wall_s:.6f}", flush=True)
            return self._t0

    def due(self, t0: float) -> int:
        """The frame due now."""
        return int((time.monotonic() - t0) * self.fps)


def frame_at(i: int, n: int, fps: float) -> int:
    """Which stored frame plays as frame `i`: past the end, the last second over and over."""
    if i < n:
        return i
    loop = max(1, min(n, round(fps)))
    return n - loop + (i - n) % loop


def serve(out: BinaryIO, frames: Frames, clock: LiveClock, stop: threading.Event) -> int:
    """Write frames to one connection as they fall due; returns how many were written."""
    t0 = clock.start()
    sent = 0
    last = -1
    while not stop.is_set():
        i = clock.due(t0)
        if i == last:
            time.sleep(max(0.0, t0 + (i + 1) / clock.fps - time.monotonic()))
            continue
        out.write(mjpeg_part(frames[frame_at(i, len(frames), clock.fps)]))
        last = i
        sent += 1
    return sent


def mjpeg_part(jpeg: bytes) -> bytes:
    """One JPEG picture as a part of an MJPEG stream (`mjpeg_handler`'s boundary)."""
    return _HEAD % len(jpeg) + jpeg + b"\r\n"


def mjpeg_handler(stream: Callable[[BinaryIO], object]) -> type[BaseHTTPRequestHandler]:
    """A request handler whose every GET is an MJPEG stream: the headers, then `stream(out)`
    writes its parts (`mjpeg_part`) until it returns or the client hangs up. Quiet (no log)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                stream(self.wfile)

    return Handler


def make_server(
    frames: Frames, clock: LiveClock, stop: threading.Event, port: int = 0
) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 whose every GET is the live MJPEG stream."""
    handler = mjpeg_handler(lambda out: serve(out, frames, clock, stop))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a rendered session (frames.bin, index.npy)")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args(argv)
    frames = Frames(args.folder)
    stop = threading.Event()
    server = make_server(frames, LiveClock(args.fps), stop, args.port)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        frames.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
