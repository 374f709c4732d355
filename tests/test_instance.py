"""One coach per user: the lock (a session-bus name, an flock'd socket) and its remote control."""

from __future__ import annotations

import json
import math
import os
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach.cli import main
from coach.desktop.control_socket import LOCK_NAME, SOCKET_NAME
from coach.desktop.instance import Channel, InstanceLock, RemoteClient, find_running
from coach.errors import AlreadyRunning, RemoteFailed
from tests.conftest import REPO
from tests.dbus_session import private_bus
from tests.mjpeg_camera import COACH, SteadyCamera, private_env, start_coach, wait_for


class Recording:
    """A RemoteTarget that keeps what it was asked, from whichever thread asked it."""

    def __init__(self, state: str = "upright") -> None:
        self.calls: list[tuple[str, float | None]] = []
        self.threads: set[str] = set()
        self.state = state

    def pause(self, for_s: float | None) -> None:
        self.threads.add(threading.current_thread().name)
        self.calls.append(("pause", for_s))

    def resume(self) -> None:
        self.calls.append(("resume", None))

    def reload(self) -> None:
        self.calls.append(("reload", None))

    def status(self) -> dict[str, object]:
        return {"pid": os.getpid(), "state": self.state}


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG_RUNTIME_DIR (0700, as logind makes it) and no session bus."""
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    return folder


@pytest.fixture
def bus(tmp_path: Path, runtime: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address


def _ask(path: Path, line: bytes) -> dict[str, object]:
    """One raw request on the socket, as a script would send it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        sock.connect(str(path))
        sock.sendall(line)
        reply = sock.makefile("rb").readline()
    found = json.loads(reply)
    assert isinstance(found, dict)
    return found


def test_without_a_bus_the_socket_is_the_lock_and_speaks_one_json_line(runtime: Path) -> None:
    target = Recording()
    lock = InstanceLock(target)
    assert lock.start() is None
    try:
        folder = runtime / "coach"
        path = folder / SOCKET_NAME
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_ISSOCK(path.stat().st_mode)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert (folder / LOCK_NAME).read_text().strip() == str(os.getpid())

        other = InstanceLock(Recording()).start()
        assert other is not None and other.channel is Channel.SOCKET
        assert other.describe().startswith(f"coach is already running (pid {os.getpid()})")

        client = find_running()
        assert client is not None and client.channel is Channel.SOCKET
        assert client.status() == {"pid": os.getpid(), "state": "upright"}
        client.pause(30)
        client.pause(None)
        client.resume()
        client.reload()
        assert target.calls == [
            ("pause", 1800.0),
            ("pause", None),
            ("resume", None),
            ("reload", None),
        ]
        target.calls.pop()
        assert target.threads == {"coach-control"}  # never the caller's thread

        assert _ask(path, b'{"cmd": "pause", "minutes": 0}\n') == {"ok": True}
        assert target.calls[-1] == ("pause", None)  # 0: the configured pause
        refused = _ask(path, b'{"cmd": "pause", "minutes": 100000}\n')
        assert refused["ok"] is False and "1440" in str(refused["error"])
        assert _ask(path, b'{"cmd": "dance"}\n')["ok"] is False
        assert _ask(path, b"not json\n")["ok"] is False
        assert _ask(path, b'{"cmd": "status"}\n')["status"] == {
            "pid": os.getpid(),
            "state": "upright",
        }
        assert len(target.calls) == 4
        with pytest.raises(ValueError):
            client.pause(math.inf)  # refused before anything is sent
    finally:
        lock.stop()
    assert not path.exists()
    assert find_running() is None
    lock.stop()  # twice is harmless


def test_a_stale_socket_file_is_taken_over(runtime: Path) -> None:
    folder = runtime / "coach"
    folder.mkdir(mode=0o700)
    path = folder / SOCKET_NAME
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))  # a coach that crashed: its socket file stays, nobody listens
    (folder / LOCK_NAME).write_text("999999\n")
    assert find_running() is None
    target = Recording("slouched")
    with InstanceLock(target):
        client = find_running()
        assert client is not None
        assert client.status()["state"] == "slouched"
        assert client.pid() == os.getpid()


def test_of_many_coaches_started_at_once_exactly_one_gets_the_lock(bus: str) -> None:
    locks = [InstanceLock(Recording()) for _ in range(6)]
    results: list[RemoteClient | None] = [None] * len(locks)
    barrier = threading.Barrier(len(locks))

    def start(i: int) -> None:
        barrier.wait()
        results[i] = locks[i].start()

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(locks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    try:
        assert sum(result is None for result in results) == 1
    finally:
        for lock in locks:
            lock.stop()


def test_on_a_session_bus_the_name_is_the_lock_and_pause_works_over_it(
    bus: str, tmp_path: Path
) -> None:
    target = Recording()
    first = InstanceLock(target)
    assert first.start() is None
    assert first.notes == []
    try:
        # Another runtime folder (another login's), so only the bus name can tell.
        second = InstanceLock(Recording(), folder=tmp_path / "elsewhere")
        other = second.start()
        assert other is not None and other.channel is Channel.BUS
        assert not (tmp_path / "elsewhere" / SOCKET_NAME).exists()  # it let go of everything

        client = find_running()
        assert client is not None and client.channel is Channel.BUS
        assert client.pid() == os.getpid()
        client.pause(15)
        client.pause(None)  # sent as Pause(0)
        client.resume()
        client.reload()
        assert target.calls == [
            ("pause", 900.0),
            ("pause", None),
            ("resume", None),
            ("reload", None),
        ]
        with pytest.raises(RemoteFailed, match="1440"):
            RemoteClient(Channel.BUS, bus_address=bus)._bus_call("Pause", "d", [5000.0])
        # The socket is served beside the bus name.
        socket_client = RemoteClient(
            Channel.SOCKET, socket_path=tmp_path / "run" / "coach" / SOCKET_NAME
        )
        assert socket_client.status()["pid"] == os.getpid()
    finally:
        first.stop()
    assert find_running() is None
    with InstanceLock(Recording()) as again:  # the name was given back
        assert again.notes == []
        with pytest.raises(AlreadyRunning, match="already running"):
            InstanceLock(Recording(), folder=tmp_path / "elsewhere").__enter__()


def test_a_bus_that_does_not_answer_leaves_the_socket_to_decide(
    runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={runtime}/no-bus")
    lock = InstanceLock(Recording())
    try:
        assert lock.start() is None
        assert len(lock.notes) == 1 and "session bus did not answer" in lock.notes[0]
        client = find_running()
        assert client is not None and client.channel is Channel.SOCKET
    finally:
        lock.stop()


def test_the_remote_commands_with_no_coach_running_say_so_in_one_line(
    runtime: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["status"], ["status", "--json"], ["pause"], ["pause", "5"], ["resume"]):
        assert main(command) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err.strip().splitlines() == [
            "coach: error: no coach is running; start it with `coach start`"
        ]
    for bad in ("0", "-3", "nan", "inf", "1441", "soon"):
        assert main(["pause", bad]) == 2
        out, err = capsys.readouterr()
        assert len(err.strip().splitlines()) == 1
        assert "MINUTES must be a number above 0 and up to 1440" in err


def test_coach_status_with_nothing_running_exits_1_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [*COACH, "status"], cwd=REPO, env=private_env(tmp_path), capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == "coach: error: no coach is running; start it with `coach start`"


def _coach(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A short `coach ARGS` with the test's private folders, within 30 s."""
    return subprocess.run(
        [*COACH, *args],
        cwd=REPO,
        env={**private_env(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def _status(tmp_path: Path, env: dict[str, str]) -> dict[str, object]:
    done = _coach(tmp_path, env, "status", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert isinstance(found, dict)
    return found


def _second_coach_and_remote_control(
    tmp_path: Path, env: dict[str, str], camera: SteadyCamera
) -> None:
    """With one `coach run` on the camera: a second coach stops at once, and pause and
    resume from another process reach the first."""
    first = start_coach(tmp_path, "run", camera.url, "--no-window", "--no-history", env=env)
    stderr = tmp_path / "stderr.txt"
    try:
        wait_for(
            lambda: _coach(tmp_path, env, "status").returncode == 0 or first.poll() is not None,
            60,
            "the first coach to answer",
        )
        assert first.poll() is None, stderr.read_text()
        wait_for(lambda: _status(tmp_path, env)["state"] != "starting", 60, "its first snapshot")
        status = _status(tmp_path, env)
        assert status["pid"] == first.pid
        assert status["paused"] is False
        assert str(status["source"]).startswith("http://127.0.0.1")
        assert _coach(tmp_path, env, "status").stdout.startswith("coach is running since ")

        again = _coach(tmp_path, env, "start", camera.url, "--no-history")
        assert again.returncode == 0, again.stderr
        assert f"coach is already running (pid {first.pid})" in again.stderr
        assert "coach runs in the tray" not in again.stderr  # it stopped before anything
        twice = _coach(tmp_path, env, "run", camera.url, "--no-window", "--no-history")
        assert twice.returncode == 1
        assert twice.stderr.strip().splitlines() == [
            f"coach: error: coach is already running (pid {first.pid}); see it with "
            "`coach status`, pause it with `coach pause`"
        ]

        paused = _coach(tmp_path, env, "pause", "1")
        assert paused.returncode == 0, paused.stderr
        assert paused.stdout == "Paused the running coach for 1 min (camera released).\n"
        wait_for(lambda: _status(tmp_path, env)["paused"] is True, 20, "the coach to pause")
        assert _status(tmp_path, env)["paused_until"] is not None
        wait_for(lambda: "camera released" in stderr.read_text(), 20, "the camera released")
        assert ": paused until " in _coach(tmp_path, env, "status").stdout

        resumed = _coach(tmp_path, env, "resume")
        assert resumed.returncode == 0 and resumed.stdout == "Resumed the running coach.\n"
        wait_for(lambda: _status(tmp_path, env)["paused"] is False, 30, "the coach to resume")
        first.terminate()
        assert first.wait(timeout=30) == 0, stderr.read_text()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert _coach(tmp_path, env, "status").returncode == 1  # the lock went with it


@pytest.mark.slow
def test_a_second_coach_start_finds_the_first_over_the_session_bus(tmp_path: Path) -> None:
    camera = SteadyCamera()
    try:
        with private_bus(tmp_path) as address:
            _second_coach_and_remote_control(
                tmp_path, {"DBUS_SESSION_BUS_ADDRESS": address}, camera
            )
    finally:
        camera.close()


@pytest.mark.slow
def test_without_a_bus_the_socket_does_the_same_and_a_stale_one_is_taken_over(
    tmp_path: Path,
) -> None:
    folder = Path(private_env(tmp_path)["XDG_RUNTIME_DIR"]) / "coach"
    folder.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(folder / SOCKET_NAME))  # left by a coach that crashed
    camera = SteadyCamera()
    try:
        _second_coach_and_remote_control(tmp_path, {}, camera)
    finally:
        camera.close()
    assert not (folder / SOCKET_NAME).exists()
