"""A coach left running through faults: a camera unplugged and back, locks, sleeps, stops, a second start.

Real processes on a real desktop of the test's own: a private session bus with a recording
notification server and tray watcher, a private system bus with logind and screensaver
stand-ins (tests/desktop_bus.py), and an MJPEG camera on 127.0.0.1 that can be unplugged
(a connection is then closed at once, as a missing camera fails to open). Used by
tests/test_soak.py (a short run in `make test`) and benchmarks/soak.py (`make soak`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

from benchmarks.mjpeg_server import mjpeg_handler, mjpeg_part
from coach.actions.event_log import read_event_log
from coach.safe.closing import ClosesOnExit
from tests.dbus_session import DesktopServices
from tests.desktop_bus import DesktopBus, desktop_services
from tests.mjpeg_camera import neutral_jpegs, start_coach, wait_for

# Quick retries and a short stall limit, so a test sees each fault end within seconds.
SOAK_CONFIG = """\
[source]
stream_read_timeout_s = 2
retry_first_s = 1
retry_most_s = 4

[stationary]
gap_break_s = 15
"""


class SwitchableCamera(ClosesOnExit):
    """An MJPEG camera on 127.0.0.1 at `fps` that can be unplugged and plugged back in, and
    that counts the readers it is serving (0 means the coach let go of it)."""

    def __init__(self, *, plugged: bool = True, fps: float = 15.0) -> None:
        self.jpegs = neutral_jpegs(60)
        self.fps = fps
        self._plugged = threading.Event()
        if plugged:
            self._plugged.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._readers = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), mjpeg_handler(self._serve))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cam.mjpg"

    @property
    def readers(self) -> int:
        """Connections being served now."""
        with self._lock:
            return self._readers

    def plug(self) -> None:
        self._plugged.set()

    def unplug(self) -> None:
        """Every reader is cut off, and new ones get nothing until `plug()`."""
        self._plugged.clear()

    def _serve(self, out: BinaryIO) -> None:
        if not self._plugged.is_set():
            return  # an empty answer: nothing to decode, the open fails
        with self._lock:
            self._readers += 1
        try:
            i = 0
            while self._plugged.is_set() and not self._closed.is_set():
                out.write(mjpeg_part(self.jpegs[i % len(self.jpegs)]))
                i += 1
                time.sleep(1.0 / self.fps)
        finally:
            with self._lock:
                self._readers -= 1

    def close(self) -> None:
        self._closed.set()
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Fault:
    """One fault survived: what it was, when it ended (wall s), and how long until a posture
    snapshot came again after it ended (the coaching lost to it beyond the fault itself)."""

    name: str
    ended_wall_s: float
    resumed_after_s: float | None = None


@dataclass
class SoakCoach:
    """A `coach run --tray` process on the soak desktop, and what it has said."""

    tmp_path: Path
    proc: subprocess.Popen[bytes]
    desk: DesktopBus
    services: DesktopServices
    camera: SwitchableCamera
    events: Path
    db: Path
    faults: list[Fault] = field(default_factory=list)
    started_wall_s: float = field(default_factory=time.time)

    @property
    def log(self) -> str:
        path = self.tmp_path / "xdg_state_home" / "coach" / "log" / "coach.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    @property
    def stderr(self) -> str:
        return (self.tmp_path / "stderr.txt").read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tooltip(self) -> str:
        watcher = self.services.watcher
        assert watcher is not None
        if not watcher.items:
            return ""
        return str(self.services.item_property(watcher.items[0], "ToolTip")[3])

    def notifications(self) -> list[str]:
        return [n.title for n in self.services.notifications.received]

    def lines(self) -> list[dict[str, Any]]:
        return read_event_log(self.events) if self.events.exists() else []

    def posture_after(self, wall_s: float) -> float | None:
        """When (wall s) the first snapshot with a pose came after `wall_s`."""
        for line in self.lines():
            if line["wall_s"] > wall_s and line["pose"]:
                return float(line["wall_s"])
        return None

    def wait_coaching(self, timeout_s: float, after_wall_s: float | None = None) -> float:
        """Wait for a snapshot with a pose (after `after_wall_s`); its wall time."""
        since = after_wall_s if after_wall_s is not None else 0.0
        found: list[float] = []

        def seen() -> bool:
            when = self.posture_after(since)
            if when is not None:
                found.append(when)
            return bool(found) or not self.alive()

        wait_for(seen, timeout_s, "coaching (a snapshot with a pose)")
        assert self.alive(), self.stderr
        return found[0]

    def survived(self, name: str, timeout_s: float = 60.0) -> Fault:
        """The fault just ended: wait for coaching to resume and keep the figure."""
        ended = time.time()
        resumed = self.wait_coaching(timeout_s, after_wall_s=ended)
        fault = Fault(name, ended, resumed - ended)
        self.faults.append(fault)
        return fault

    def stop_and_continue(self, stopped_s: float) -> None:
        """SIGSTOP, then SIGCONT: what a suspend does to the process's clock."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        time.sleep(stopped_s)
        os.kill(self.proc.pid, signal.SIGCONT)

    def quit(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def interruptions(self) -> list[dict[str, Any]]:
        return [e for line in self.lines() for e in line["events"] if e["type"] == "interruption"]

    def history(self) -> list[tuple[float, float, str]]:
        """The posture rows: (wall start, seconds covered, state)."""
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            return [
                (t, w, s)
                for t, w, s in conn.execute(
                    "SELECT t, window_s, state FROM posture_samples ORDER BY t"
                )
            ]


@contextlib.contextmanager
def soak_coach(tmp_path: Path, *, plugged: bool = True) -> Iterator[SoakCoach]:
    """A coach in the tray on the soak desktop, its camera plugged in or not yet."""
    config = tmp_path / "soak.toml"
    config.write_text(SOAK_CONFIG)
    camera = SwitchableCamera(plugged=plugged)
    with desktop_services(tmp_path) as desk:
        services = DesktopServices(desk.env["DBUS_SESSION_BUS_ADDRESS"])
        events, db = tmp_path / "events.jsonl", tmp_path / "coach.sqlite3"
        env = {**desk.env, "XDG_RUNTIME_DIR": str(tmp_path / "runtime")}
        (tmp_path / "runtime").mkdir(mode=0o700, exist_ok=True)
        proc = start_coach(
            tmp_path,
            "run",
            "--tray",
            "--no-window",
            camera.url,
            "--config",
            str(config),
            "--calibrate-seconds",
            "3",
            "--events",
            str(events),
            "--db",
            str(db),
            env=env,
        )
        coach = SoakCoach(tmp_path, proc, desk, services, camera, events, db)
        try:
            yield coach
        finally:
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    os.kill(proc.pid, signal.SIGCONT)
                proc.kill()
                proc.wait()
            services.close()
            camera.close()


def second_start(coach: SoakCoach) -> subprocess.CompletedProcess[str]:
    """`coach start` again on the same desktop: it must find the first and leave it be."""
    from tests.mjpeg_camera import COACH, private_env

    env = {
        **private_env(coach.tmp_path),
        **coach.desk.env,
        "XDG_RUNTIME_DIR": str(coach.tmp_path / "runtime"),
    }
    return subprocess.run(
        [*COACH, "start", coach.camera.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
