"""`coach doctor` for real: no camera here and a local MJPEG camera, the pose model whole and
damaged, the history intact and damaged, a private D-Bus session with dunst, trayer under Xvfb,
PortAudio with and without an output device, and the exit status."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach.actions.controls import Controls
from coach.actions.tray import Tray
from coach.config import PoseConfig, SourceConfig
from coach.desktop import autostart
from coach.desktop.doctor import (
    CheckResult,
    Status,
    check_autostart,
    check_camera,
    check_history,
    check_lock_signals,
    check_model,
    check_network_promise,
    check_notifications,
    check_tray,
)
from tests.conftest import REPO, sample_clip
from tests.dbus_session import DesktopServices, private_bus
from tests.desktop_bus import desktop_services
from tests.mjpeg_camera import SteadyCamera

COACH = [sys.executable, "-m", "coach"]
NO_BUS = "unix:path=/nonexistent/coach-test-bus"
NO_CAMERA = "97"
"""A webcam index no machine has, so "no camera" is the same everywhere."""


def _doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **(env or {})}
    for name in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        if env is None or name not in env:
            environ.pop(name, None)
    environ.setdefault("DBUS_SYSTEM_BUS_ADDRESS", NO_BUS)  # not this machine's logind
    return subprocess.run(
        [*COACH, "doctor", *args], capture_output=True, text=True, timeout=120, env=environ
    )


def _lines(output: str) -> dict[str, str]:
    """The check lines by check name: {"camera": "fail camera  ...", ...}."""
    return {line.split()[1]: line for line in output.splitlines()[:-1]}


def test_no_camera_is_one_line_with_what_to_do_and_exit_1():
    result = _doctor(NO_CAMERA)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = _lines(result.stdout)
    assert list(lines) == [
        "camera",
        "pose",
        "history",
        "notifications",
        "sound",
        "tray",
        "lock",
        "autostart",
        "offline",
    ]
    assert lines["camera"].startswith(f"fail camera        camera {NO_CAMERA} cannot be opened")
    assert "pass a video file or stream URL" in lines["camera"]
    assert lines["pose"].startswith("ok   pose model")
    assert lines["history"].startswith("ok   history       no history yet")
    assert result.stdout.splitlines()[-1] == "coach cannot run until the fail lines are fixed"
    # Plain text when not a terminal: no ✓ / ✗ for a script to trip on.
    assert "✓" not in result.stdout and "✗" not in result.stdout


def test_a_local_mjpeg_camera_passes_and_coaching_can_run():
    camera = SteadyCamera()
    try:
        result = _doctor(camera.url)
    finally:
        camera.close()
    assert result.returncode == 0, result.stdout + result.stderr
    camera_line = _lines(result.stdout)["camera"]
    assert camera_line.startswith("ok   camera        http://127.0.0.1:")
    assert camera_line.endswith(": a 640x480 frame read")
    # The optional extras may be missing here: warnings, never failures.
    assert "fail" not in result.stdout.replace("fail lines", "")
    assert result.stdout.splitlines()[-1] == "coach can run"


def test_no_camera_with_a_fallback_video_is_a_warning_and_exit_0():
    result = _doctor(NO_CAMERA, "--fallback-video", str(sample_clip("neutral")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert _lines(result.stdout)["camera"].startswith("warn camera")
    assert "coach run falls back to" in result.stdout


def test_a_stream_that_never_answers_times_out(tmp_path):
    started = time.monotonic()
    result = check_camera(
        "http://127.0.0.1:9/cam.mjpg", SourceConfig(stream_open_timeout_s=2.0), timeout_s=2.0
    )
    assert result.status is Status.FAIL and "cannot be reached" in result.detail
    assert time.monotonic() - started < 10


def test_the_model_loads_and_a_damaged_or_missing_one_fails(model_path, tmp_path):
    assert check_model(model_path, PoseConfig()).status is Status.OK
    truncated = tmp_path / "truncated.task"
    truncated.write_bytes(model_path.read_bytes()[: 1 << 20])
    damaged = check_model(truncated, PoseConfig())
    assert damaged.status is Status.FAIL and "not a MediaPipe .task bundle" in damaged.detail
    garbage = tmp_path / "garbage.task"
    with zipfile.ZipFile(garbage, "w") as bundle:
        bundle.writestr("pose_detector.tflite", b"not a model")
        bundle.writestr("pose_landmarks_detector.tflite", b"not a model")
    wrong = check_model(garbage, PoseConfig())
    assert wrong.status is Status.FAIL and "not a usable TFLite model" in wrong.detail
    missing = check_model(tmp_path / "none.task", PoseConfig())
    assert missing.status is Status.FAIL and "does not exist" in missing.detail
    result = _doctor(NO_CAMERA, "--model", str(truncated))
    assert result.returncode == 1 and _lines(result.stdout)["pose"].startswith("fail pose model")


def _history(path: Path) -> Path:
    from coach.history.session_log import SessionLog

    log = SessionLog(path)
    log.start_session("doctor test", 1_700_000_000.0)
    log.close()
    return path


def test_an_intact_history_passes(tmp_path):
    db = _history(tmp_path / "history.sqlite3")
    result = check_history(db)
    assert result == CheckResult("history", Status.OK, f"{db} is intact and writable")


def test_a_history_that_is_not_a_database_fails_with_what_to_do(tmp_path):
    db = tmp_path / "history.sqlite3"
    db.write_bytes(b"this is not SQLite " * 512)
    result = check_history(db)
    assert result.status is Status.FAIL
    assert (
        "not a usable coach history database" in result.detail and "move it aside" in result.detail
    )
    doctor = _doctor(NO_CAMERA, "--db", str(db))
    assert doctor.returncode == 1 and _lines(doctor.stdout)["history"].startswith("fail history")


def test_a_history_with_a_damaged_page_fails_quick_check(tmp_path):
    db = _history(tmp_path / "history.sqlite3")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")  # fold the WAL into the file
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sessions'").fetchone()[0]
    conn.close()
    with db.open("r+b") as handle:  # scribble over the sessions table's b-tree page
        handle.seek((root - 1) * page_size)
        handle.write(b"\x0d" + b"\xff" * 64)
    result = check_history(db)
    assert result.status is Status.FAIL and "damaged" in result.detail, result


def test_a_history_whose_folder_cannot_be_made_fails(tmp_path):
    (tmp_path / "blocker").write_text("a file where the folder goes")
    result = check_history(tmp_path / "blocker" / "coach" / "history.sqlite3")
    assert result.status is Status.FAIL and "cannot hold the folder" in result.detail


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only files and folders")
def test_a_read_only_history_fails(tmp_path):
    db = _history(tmp_path / "data" / "history.sqlite3")
    for path in (db, db.parent):
        path.chmod(0o500 if path.is_dir() else 0o400)
    try:
        result = check_history(db)
    finally:
        db.parent.chmod(0o700)
    assert result.status is Status.FAIL and "read-only" in result.detail


def test_the_network_promise_names_the_runtime(monkeypatch):
    result = check_network_promise()
    assert result.status is Status.OK and "LiteRT" in result.detail
    monkeypatch.setitem(sys.modules, "mediapipe", types.ModuleType("mediapipe"))
    assert check_network_promise().status is Status.FAIL


def _sound(home: Path) -> str:
    env = {**os.environ, "HOME": str(home)}
    code = "from coach.desktop.doctor import check_sound; print(check_sound().line(symbols=False))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _portaudio() -> bool:
    import ctypes.util

    return ctypes.util.find_library("portaudio") is not None


@pytest.mark.skipif(not _portaudio(), reason="PortAudio missing (Debian package libportaudio2)")
def test_sound_with_and_without_an_output_device(private_home):
    cards = Path("/proc/asound/cards")
    if not cards.exists() or "no soundcards" in cards.read_text():
        # No sound card (CI, containers): nothing to play the chime on.
        assert _sound(private_home).startswith("warn sound         no chime: no sound output")
    # A real ALSA device that plays into nothing: PortAudio lists it as the default output.
    (private_home / ".asoundrc").write_text("pcm.!default { type null }\n")
    assert _sound(private_home) == "ok   sound         chime plays on default"


@pytest.fixture
def session_bus(tmp_path: Path) -> Iterator[str]:
    """A private dbus-daemon (no activatable services); its address."""
    with private_bus(tmp_path) as address:
        yield address


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed (make setup installs it where it can)")
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL)


def _until_ok(check, timeout_s: float = 15.0) -> CheckResult:
    deadline = time.monotonic() + timeout_s
    while (result := check()).status is not Status.OK and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def test_notifications_missing_bus_missing_daemon_then_dunst(session_bus, virtual_display):
    assert check_notifications({}).status is Status.WARN
    nobody = check_notifications({"DBUS_SESSION_BUS_ADDRESS": session_bus})
    assert nobody.status is Status.WARN and "no notification daemon" in nobody.detail
    env = {"DBUS_SESSION_BUS_ADDRESS": session_bus, "DISPLAY": virtual_display}
    dunst = _start(["dunst"], env)
    try:
        result = _until_ok(lambda: check_notifications(env))
        assert result.status is Status.OK, result
        assert result.detail.startswith("dunst ") and result.detail.endswith("with action buttons")
        doctor = _doctor(NO_CAMERA, env=env)
        assert _lines(doctor.stdout)["notifications"].startswith("ok   notifications dunst")
    finally:
        dunst.terminate()
        dunst.wait(timeout=10)
    gone = check_notifications({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
    assert gone.status is Status.WARN and "did not answer" in gone.detail


def _tray_start_problem(address: str, monkeypatch) -> str | None:
    """What `coach start`'s tray says on this bus (None: its icon is shown)."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    tray = Tray(Controls(pause_s=60.0), open_report=lambda: None)
    try:
        return tray.start()
    finally:
        tray.stop()


def test_doctor_and_coach_start_agree_on_an_xembed_only_tray_and_on_a_tray_host(
    session_bus, virtual_display, monkeypatch
):
    env = {"DBUS_SESSION_BUS_ADDRESS": session_bus, "DISPLAY": virtual_display}
    missing = check_tray(env)
    assert missing.status is Status.WARN
    assert (
        f"a StatusNotifierWatcher on the session bus and an XEmbed tray on {virtual_display}"
        in (missing.detail)
    )
    assert "no tray host" in check_tray({}).detail
    trayer = _start(["trayer", "--edge", "top"], env)  # an XEmbed tray, and nothing else
    try:
        deadline = time.monotonic() + 15.0
        while not (xembed := check_tray(env)).detail.startswith("only an XEmbed"):
            assert time.monotonic() < deadline, xembed
            time.sleep(0.1)
        start_problem = _tray_start_problem(session_bus, monkeypatch)
    finally:
        trayer.terminate()
        trayer.wait(timeout=10)
    # Found, and named as not enough: `coach start` refuses it, and doctor says so.
    assert xembed.status is Status.WARN, xembed
    assert xembed.detail.startswith(
        f"only an XEmbed tray on {virtual_display}, which `coach start` cannot use"
    )
    assert "terminal view" in xembed.detail and "snixembed" in xembed.fix
    assert start_problem is not None and "StatusNotifierWatcher" in start_problem
    # A StatusNotifierItem host: both say the icon is shown.
    services = DesktopServices(session_bus)
    try:
        assert check_tray(env) == CheckResult(
            "tray", Status.OK, "a StatusNotifierWatcher with a host: `coach start` shows its icon"
        )
        assert _tray_start_problem(session_bus, monkeypatch) is None
    finally:
        services.close()


def test_lock_and_sleep_signals_none_then_logind_and_screensavers(tmp_path):
    none = check_lock_signals({"DBUS_SYSTEM_BUS_ADDRESS": NO_BUS})
    assert none.status is Status.WARN
    assert none.detail.startswith("no lock or sleep signals (no logind (")
    assert "no session bus): the camera stays on" in none.detail
    with desktop_services(tmp_path / "all") as desk:
        found = check_lock_signals(desk.env)
        assert found == CheckResult(
            "lock & sleep",
            Status.OK,
            "logind (sleep, session lock), org.freedesktop.ScreenSaver, org.gnome.ScreenSaver",
        )
        assert found.line(symbols=True).startswith("✓ lock & sleep  logind")
        desk.stop_screensaver("gnome")
        desk.stop_screensaver("freedesktop")
        assert check_lock_signals(desk.env).detail == "logind (sleep, session lock)"
    with desktop_services(tmp_path / "mate", screensavers=("mate",), logind=False) as desk:
        assert check_lock_signals(desk.env) == CheckResult(
            "lock & sleep", Status.OK, "org.mate.ScreenSaver, no logind, so sleep is not seen"
        )
    with desktop_services(tmp_path / "bare", screensavers=(), logind=False) as desk:
        bare = check_lock_signals(desk.env)
        assert bare.status is Status.WARN
        assert "(no logind on the system bus; no screensaver on the session bus)" in bare.detail


def test_the_checkout_is_not_on_the_path_of_these_checks():
    """The checks above run the worktree's coach (PYTHONPATH), not an older installed one."""
    import coach.desktop.doctor

    assert Path(coach.desktop.doctor.__file__).is_relative_to(REPO)


def test_autostart_says_whether_the_coach_starts_at_login_and_comes_back(
    private_home: Path, tmp_path: Path
) -> None:
    found = check_autostart()
    assert found.status is Status.OK and found.detail.startswith("off: the coach runs when you")
    program = tmp_path / "coach"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    autostart.enable([str(program), "start"])  # what an older coach wrote
    found = check_autostart()
    assert found.status is Status.WARN and found.detail.endswith("not again if it is killed")
    assert found.fix == "run `coach autostart on` to update it"
    autostart.enable([str(program), "start", "--respawn"])
    found = check_autostart()
    assert found.status is Status.OK and found.detail.endswith("and again if it is killed")
    program.unlink()
    found = check_autostart()
    assert found.status is Status.WARN and "no longer exists" in found.detail
