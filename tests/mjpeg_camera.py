"""A misbehaving MJPEG camera on 127.0.0.1, and private-folder helpers for `coach` subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import cv2

from benchmarks.mjpeg_server import mjpeg_handler, mjpeg_part
from coach.safe.closing import ClosesOnExit
from tests.conftest import REPO, sample_clip

COACH = [sys.executable, "-m", "coach"]


def private_env(tmp_path: Path) -> dict[str, str]:
    """The environment for a `coach` subprocess that never touches the user's folders."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path / "home")}
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    # A runtime folder of its own: the coach's lock and control socket live there.
    runtime = tmp_path / "xdg_runtime_dir"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env.pop("DISPLAY", None)  # no preview window
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # a test passes its private bus when it wants one
    return env


def start_coach(
    tmp_path: Path,
    *args: str,
    stdout: int = subprocess.DEVNULL,
    stderr: int | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`coach ARGS` as a real process with private folders; stderr to tmp_path/stderr.txt."""
    with (tmp_path / "stderr.txt").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [*COACH, *args],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=log if stderr is None else stderr,
            cwd=REPO,
            env={**private_env(tmp_path), **(env or {})},
        )


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    """Poll `condition()` every 0.1 s; fail the test (not hang) after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.1)


def process_running(pid: int) -> bool:
    """Whether a process runs (a zombie has ended: only its parent has not collected it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in "ZX"


def neutral_jpegs(count: int) -> list[bytes]:
    """The first `count` frames of the neutral sample clip, as JPEG pictures."""
    capture = cv2.VideoCapture(str(sample_clip("neutral")))
    frames: list[bytes] = []
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(cv2.imencode(".jpg", image)[1].tobytes())
    capture.release()
    return frames


class _MjpegServer(ClosesOnExit):
    """An MJPEG camera on 127.0.0.1, serving from the start: each GET is answered by
    `serve(out, first=...)` with the neutral clip's first `frame_count` frames in `jpegs`;
    `stop` is set on close, and every connection must then end."""

    def __init__(self, frame_count: int) -> None:
        self.jpegs = neutral_jpegs(frame_count)
        self.connections = 0
        self.stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), mjpeg_handler(self._connected))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/cam.mjpg"

    def _connected(self, out: BinaryIO) -> None:
        self.connections += 1
        self.serve(out, first=self.connections == 1)

    def serve(self, out: BinaryIO, *, first: bool) -> None:
        """Write one connection's stream to `out`."""
        raise NotImplementedError

    @staticmethod
    def write_frame(out: BinaryIO, jpg: bytes) -> None:
        out.write(mjpeg_part(jpg))

    def close(self) -> None:
        """End every connection and stop serving."""
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class SteadyCamera(_MjpegServer):
    """An MJPEG camera on 127.0.0.1 at 30 fps that takes any path, user and password;
    each connection ends after `frames_per_connection` frames, and `stop` ends them all."""

    def __init__(self, frames_per_connection: int = 3000) -> None:
        super().__init__(60)
        self.frames_per_connection = frames_per_connection

    def serve(self, out: BinaryIO, *, first: bool) -> None:
        for i in range(self.frames_per_connection):
            if self.stop.is_set():
                return
            self.write_frame(out, self.jpegs[i % len(self.jpegs)])
            time.sleep(1 / 30)


class MjpegCamera(_MjpegServer):
    """Serves the neutral clip as MJPEG at 15 fps; the first connection misbehaves.

    Once `break_now()` is called the first connection, by `fault`: "stall" keeps the
    connection open and sends nothing more; "drop" closes it; "garbage" sends bytes
    that are not JPEG. Every later connection (a reconnect) serves frames normally.
    """

    def __init__(self, fault: str) -> None:
        super().__init__(45)
        self.fault = fault
        self._broken = threading.Event()

    def serve(self, out: BinaryIO, *, first: bool) -> None:
        i = 0
        while not self.stop.is_set():
            if first and self._broken.is_set():
                if self.fault == "drop":
                    return
                if self.fault == "stall":
                    self.stop.wait()  # the connection stays open, silent
                    return
                out.write(b"\x00\xffnot a jpeg\xd8" * 500)  # garbage
            else:
                self.write_frame(out, self.jpegs[i % len(self.jpegs)])
                i += 1
            time.sleep(1 / 15)

    def break_now(self) -> None:
        """Make the first connection misbehave from now on."""
        self._broken.set()
