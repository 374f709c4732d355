"""`coach start --respawn`: a coach killed outright is started again; one that stops on purpose,
or keeps dying, is not."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach import respawn
from coach.desktop.app_log import close_app_log
from coach.respawn import CRASHES_ENV, GOODBYE, MAX_CRASHES, WINDOW_S, recent_crashes
from tests.conftest import REPO
from tests.dbus_session import DesktopServices, private_bus
from tests.mjpeg_camera import (
    COACH,
    SteadyCamera,
    private_env,
    process_running,
    start_coach,
    wait_for,
)


def _marker_command(marker: Path) -> list[str]:
    """A command that records that it ran, and with which crash list."""
    code = "import os, sys; open(sys.argv[1], 'w').write(os.environ.get('COACH_CRASHES', ''))"
    return [sys.executable, "-c", code, str(marker)]


@pytest.fixture
def no_delay(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The watchdog in this process, starting again at once; its app log closed after."""
    monkeypatch.setattr(respawn, "DELAY_S", 0.0)
    yield
    close_app_log()


def test_a_goodbye_starts_nothing(tmp_path: Path, no_delay: None) -> None:
    marker = tmp_path / "ran"
    log = tmp_path / "coach.log"
    argv = ["--log", str(log), "--", *_marker_command(marker)]
    assert respawn.main(argv, io.BytesIO(b"some noise" + GOODBYE)) == 0
    time.sleep(1.0)
    assert not marker.exists() and not log.exists()


def test_a_pipe_that_closes_without_a_goodbye_starts_the_command_again(
    tmp_path: Path, no_delay: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    log = tmp_path / "coach.log"
    earlier = time.time() - 60.0
    monkeypatch.setenv(CRASHES_ENV, f"{earlier:.3f},{time.time() - 2 * WINDOW_S:.3f},junk")
    # Half a goodbye is no goodbye: the coach died while saying it.
    assert (
        respawn.main(["--log", str(log), "--", *_marker_command(marker)], io.BytesIO(b"good")) == 0
    )
    wait_for(marker.exists, 10, "the command to run again")
    wait_for(lambda: marker.read_text() != "", 5, "the command to write its crash list")
    crashes = [float(t) for t in marker.read_text().split(",")]
    assert len(crashes) == 2 and abs(crashes[0] - earlier) < 0.01  # the stale one dropped
    assert "coach stopped unexpectedly (killed or crashed); starting it again" in log.read_text()


def test_a_coach_that_keeps_dying_is_not_started_again_and_the_desktop_is_told(
    tmp_path: Path, no_delay: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    log = tmp_path / "coach.log"
    with private_bus(tmp_path) as address:
        services = DesktopServices(address, watcher=False)
        try:
            monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
            _keeps_dying(marker, log, monkeypatch)
            wait_for(lambda: services.notifications.received, 30, "the notification")
            (notified,) = services.notifications.received
            assert notified.title == "coach stopped"
            assert notified.body.startswith(f"it stopped unexpectedly {MAX_CRASHES} times in 10")
        finally:
            services.close()


def _keeps_dying(marker: Path, log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watchdog as its own process, its coach dead at once (stdin at its end) for the
    fifth time in ten minutes."""
    now = time.time()
    monkeypatch.setenv(CRASHES_ENV, ",".join(f"{now - 30 * k:.3f}" for k in range(MAX_CRASHES - 1)))
    done = subprocess.run(
        [sys.executable, "-m", "coach.respawn", "--log", str(log), "--", *_marker_command(marker)],
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    time.sleep(1.0)
    assert not marker.exists()
    assert f"coach stopped unexpectedly {MAX_CRASHES} times in 10 minutes" in log.read_text()


def test_recent_crashes_keeps_the_window_and_ignores_junk() -> None:
    now = 10_000.0
    assert recent_crashes(f"{now - 5},x,,{now - WINDOW_S - 1},{now + 50}", now) == [now - 5]


def test_a_process_killed_outright_is_started_again_and_one_that_disarms_is_not(
    tmp_path: Path,
) -> None:
    """The real pipe: a process arms its watchdog, then dies by SIGKILL (or disarms, exits)."""
    for how, expected in (("kill", True), ("disarm", False)):
        marker = tmp_path / f"ran-{how}"
        code = (
            "import os, signal, sys, json\n"
            "from coach.respawn import Watchdog\n"
            "dog = Watchdog.arm(json.loads(sys.argv[1]), None)\n"
            "print(dog.pid, flush=True)\n"
            "if sys.argv[2] == 'kill':\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            "dog.disarm()\n"
        )
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop(CRASHES_ENV, None)
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(_marker_command(marker)), how],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        watchdog_pid = int(done.stdout.split()[0])
        wait_for(lambda pid=watchdog_pid: not process_running(pid), 15, "the watchdog to end")
        if expected:
            wait_for(marker.exists, 15, "the command started again")
        else:
            time.sleep(1.5)
            assert not marker.exists(), how


def _processes_of(tmp_path: Path) -> Iterator[int]:
    """Every process whose command line names this test's folder (coaches, watchdogs)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(tmp_path).encode() in cmdline and int(entry.name) != os.getpid():
            yield int(entry.name)


def _status_pid(tmp_path: Path) -> int | None:
    done = subprocess.run(
        [*COACH, "status", "--json"],
        cwd=REPO,
        env=private_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        return None
    found = json.loads(done.stdout)
    return int(found["pid"]) if found.get("state") != "starting" else None


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_coach_start_respawn_comes_back_after_kill_9_and_stays_gone_after_a_stop(
    tmp_path: Path,
) -> None:
    marker_arg = str(tmp_path / "history.sqlite3")  # names the test folder in the command line
    with SteadyCamera() as camera:
        first = start_coach(tmp_path, "start", camera.url, "--db", marker_arg, "--respawn")
        try:
            wait_for(lambda: _status_pid(tmp_path) is not None, 90, "the coach to answer")
            assert _status_pid(tmp_path) == first.pid
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            wait_for(lambda: _status_pid(tmp_path) not in (None, first.pid), 90, "a coach again")
            again = _status_pid(tmp_path)
            assert again is not None
            logs = list(tmp_path.rglob("coach.log"))
            assert len(logs) == 1
            text = logs[0].read_text()
            assert "coach stopped unexpectedly (killed or crashed); starting it again" in text
            assert (
                "coach started again after it stopped unexpectedly (1 time in 10 minutes)" in text
            )
            # A stop on purpose (logout, `kill`) is the end: nothing comes back.
            os.kill(again, signal.SIGTERM)
            wait_for(lambda: not list(_processes_of(tmp_path)), 60, "every coach process to end")
            time.sleep(2.0)
            assert _status_pid(tmp_path) is None
        finally:
            for pid in _processes_of(tmp_path):
                os.kill(pid, signal.SIGKILL)
            if first.poll() is None:
                first.kill()
