"""The app log: private and rotated, every decision of a live coach in it, errors never silent."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from coach import cli
from coach.actions.activity_log import ActivityLog, interruption_line, nudge_line, set_line
from coach.actions.controls import Controls
from coach.actions.tray_icons import TrayState, argb_pixmap, draw_icon
from coach.config import Config, NudgeConfig, PromptConfig
from coach.desktop.app_log import (
    LOG_BACKUPS,
    LOG_NAME,
    close_app_log,
    current_log,
    file_console,
    logged_thread_exceptions,
    open_app_log,
)
from coach.movements import load_library
from coach.pose.landmark_file import LandmarkWriter
from coach.records import (
    Command,
    Condition,
    Interruption,
    LiveStatus,
    Nudge,
    PoseSample,
    Reason,
    SetCompleted,
)
from coach.session import Session
from coach.session_options import Mode, SessionOptions
from testkit.synthetic import BodyPose
from tests.conftest import REPO
from tests.dbus_session import DesktopServices, private_bus
from tests.mjpeg_camera import COACH, private_env, start_coach, wait_for
from tests.test_event_log import FPS, SLOUCHED, script
from tests.test_exercise import cat_cow_body

DEMO_TOML = (
    '[nudge]\nhold_s = 5.0\n[prompts]\ncooldown_s = 20.0\nrespond_s = 20.0\nworking_hours = ""\n'
)


@pytest.fixture(autouse=True)
def _no_log_left_open() -> Iterator[None]:
    """Each test opens its own log; none is left writing into another test's folder."""
    yield
    close_app_log()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _record(path: Path, samples: list[PoseSample]) -> Path:
    with LandmarkWriter(path, source="synthetic desk", fps=FPS, image_size=(640, 480)) as writer:
        for sample in samples:
            writer.write(sample)
    return path


def _desk(path: Path) -> Path:
    """Upright 10 s, slouched 25 s, upright 30 s, then a cat-cow set and a rest."""
    cat_cow = (cat_cow_body, 5 * 4.0)
    parts = [(BodyPose(), 10.0), (SLOUCHED, 25.0), (BodyPose(), 30.0), cat_cow, (BodyPose(), 10.0)]
    return _record(path, script(parts, seed=1))  # type: ignore[arg-type]


def _messages(log: Path) -> list[str]:
    """Each line without its time stamp: "LEVEL logger: message"."""
    return [line.split(" ", 2)[2] for line in log.read_text().splitlines() if line[:2] == "20"]


def test_the_log_is_0600_under_umask_000_and_stays_so_through_rotation(tmp_path: Path) -> None:
    folder = tmp_path / "state" / "coach" / "log"
    old = os.umask(0)
    try:
        path = open_app_log(folder)
        assert open_app_log(folder) == path == folder / LOG_NAME  # idempotent: one handler
        handlers = logging.getLogger("coach").handlers
        assert sum(isinstance(h, logging.FileHandler) for h in handlers) == 1
        assert _mode(path) == 0o600 and _mode(folder) == 0o700 and _mode(folder.parent) == 0o700
        logger = logging.getLogger("coach.test")
        for i in range(5 * 1100):  # about 5 MB: four rotations
            logger.info("line %d %s", i, "x" * 900)
    finally:
        os.umask(old)
    rotated = sorted(folder.glob(f"{LOG_NAME}.*"))
    assert [p.name for p in rotated] == [f"{LOG_NAME}.{n}" for n in range(1, LOG_BACKUPS + 1)]
    assert all(_mode(p) == 0o600 for p in [path, *rotated])
    assert all(p.stat().st_size <= 1_000_000 for p in [path, *rotated])
    assert "INFO coach.test: line 5499" in path.read_text()


def test_an_existing_log_keeps_its_mode_and_the_tray_console_writes_into_it(
    tmp_path: Path,
) -> None:
    (tmp_path / LOG_NAME).write_text("an older line\n")
    (tmp_path / LOG_NAME).chmod(0o640)  # not created by this coach: not its to change
    console, path = file_console(tmp_path)
    console.print("Opening today's report: /tmp/x")
    assert current_log() == path and _mode(path) == 0o640
    lines = path.read_text().splitlines()
    assert lines[0] == "an older line"
    assert lines[1].endswith("INFO coach.console: Opening today's report: /tmp/x")


def _log_of(tmp_path: Path) -> Path:
    return tmp_path / "xdg_state_home" / "coach" / "log" / LOG_NAME


def test_coach_run_logs_start_calibration_nudges_outcomes_sets_and_stop(tmp_path: Path) -> None:
    recording = _desk(tmp_path / "desk.jsonl")
    demo = tmp_path / "demo.toml"
    demo.write_text(DEMO_TOML)
    env = {**private_env(tmp_path), "COACH_LOG_LEVEL": "debug"}
    args = ["run", str(recording), "--no-window", "--no-history", "--calibrate-seconds", "3"]
    done = subprocess.run(
        [*COACH, *args, "--config", str(demo)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Done:" in done.stderr  # the terminal still shows the dashboard's end
    log = _log_of(tmp_path)
    assert _mode(log) == 0o600 and _mode(log.parent) == 0o700
    lines = _messages(log)
    assert lines[0].startswith("INFO coach.session: coach started: pid ")
    assert f"in the terminal, source {recording}, calibrating from the first 3 s" in lines[0]
    assert f"config {demo}" in lines[0]
    expected = [
        "INFO coach.activity: session started: desk.jsonl",
        "INFO coach.activity: [0:00:00] calibrating: sit tall…",
        "INFO coach.activity: [0:00:03] calibrated",
    ]
    activity = [line for line in lines if " coach.activity: " in line]
    assert activity[:3] == expected
    text = "\n".join(lines)
    assert "DEBUG coach.activity: [0:00:" in text and "posture: upright → slouched" in text
    nudges = [line for line in lines if "nudge: forward_head → " in line]
    assert nudges and "(prompt 1)" in nudges[0]
    outcomes = [line for line in lines if "INFO coach.activity: [" in line and "prompt 1 " in line]
    assert len(outcomes) == 1 and "prompt 1 ignored after 20 s" in outcomes[0]
    sets = [line for line in lines if "set: cat-cow, " in line]
    assert len(sets) == 1 and "recognised (unprompted)" in sets[0], text
    assert activity[-1].startswith("INFO coach.activity: session ended: 0:01:")
    assert "nudges: " in activity[-1] and "sets: 1" in activity[-1]
    assert lines[-1] == "INFO coach.session: coach stopped: the source ended"


def test_pauses_snoozes_answers_and_the_live_status_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="coach")
    recording = _record(
        tmp_path / "d.jsonl", script([(BodyPose(), 10.0), (SLOUCHED, 20.0), (BodyPose(), 30.0)])
    )
    config = Config(nudge=NudgeConfig(hold_s=5.0), prompts=PromptConfig(working_hours=""))
    controls = Controls(pause_s=600.0)
    asked: list[tuple[float, Command, float | None]] = [
        (22.0, Command.DONE, None),
        (30.0, Command.SNOOZE, None),
        (40.0, Command.PAUSE, 5.0),
    ]

    def press(sample: PoseSample) -> None:
        if asked and sample.t_s >= asked[0][0]:
            _t, command, for_s = asked.pop(0)
            controls.push(command, for_s)

    options = SessionOptions(Mode.RUN, str(recording), calibrate_s=3.0)
    sinks: list[ActivityLog] = []

    def sinks_for(opened: object) -> list[ActivityLog]:
        sinks.append(ActivityLog("d.jsonl"))
        return sinks

    session = Session(options, config, load_library())
    session.run(sinks_for, on_sample=press, controls=controls)  # type: ignore[arg-type]
    activity = sinks[0]
    activity.status(LiveStatus(Condition.NO_CAMERA, "camera 0 is busy in another app", 5.0))
    activity.status(LiveStatus(Condition.NO_CAMERA, "camera 0 is busy in another app", 10.0))
    activity.status(LiveStatus(Condition.COACHING, "camera 0 is back"))
    activity.status(LiveStatus(Condition.LOCKED, "the screen is locked: camera released"))
    activity.close()  # closed by the loop already: said once only
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "coach.activity"]
    messages = [m for _level, m in said]
    assert messages[0] == "session started: d.jsonl"
    (done,) = [m for m in messages if " done after " in m]
    assert done.startswith("[0:00:22] prompt 1 done after ")
    assert "[0:00:30] prompts snoozed for 15 min" in messages
    assert "[0:00:40] paused (meeting mode) for 5 s" in messages
    assert "[0:00:45] pause over: coaching again" in messages
    (ended,) = [m for m in messages if m.startswith("session ended")]
    assert ended.startswith("session ended: 0:00:5")  # the last snapshot's stream time
    assert ended.endswith(" of d.jsonl; nudges: 1, prompts done: 1")
    assert said[-4:] == [
        ("WARNING", "no camera: camera 0 is busy in another app; retrying in 5 s"),
        ("DEBUG", "no camera: camera 0 is busy in another app; retrying in 10 s"),
        ("INFO", "coaching: camera 0 is back"),
        ("INFO", "locked: the screen is locked: camera released"),
    ]


def test_event_lines_name_the_reason_movement_counts_and_how_a_set_came() -> None:
    nudge = Nudge(68.0, Reason.FORWARD_HEAD, "neck-waves", "t", "m", prompt_id=3)
    assert nudge_line(nudge) == "nudge: forward_head → neck-waves (prompt 3)"
    sides = SetCompleted(90.0, "lateral-flexion", 8, 50.0, 90.0, per_side={"left": 4, "right": 4})
    assert set_line(sides) == "set: lateral-flexion, 8 reps (left 4, right 4) in 40 s, guided"
    prompted = SetCompleted(90.0, "cat-cow", 1, 80.0, 90.0, prompt_id=3)
    assert set_line(prompted) == "set: cat-cow, 1 rep in 10 s, prompted (prompt 3)"
    locked = Interruption(100.0, 820.0, Condition.LOCKED)
    assert interruption_line(locked) == "interruption: locked for 12 min (a break)"
    lost = Interruption(100.0, 130.0, Condition.NO_CAMERA)
    assert interruption_line(lost) == "interruption: no camera for 30 s (neither sitting nor away)"


def _boom(*_args: object) -> None:
    raise RuntimeError("boom\nsecond line")


def test_an_unexpected_error_is_one_line_a_traceback_in_the_log_and_status_70(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = _record(tmp_path / "d.jsonl", script([(BodyPose(), 6.0)]))
    monkeypatch.setattr("coach.analyzer.Analyzer.finish", _boom)
    status = cli.main(["run", str(recording), "--no-window", "--no-history"])
    assert status == 70
    err = capsys.readouterr().err
    log = platformdirs.user_log_path("coach", appauthor=False) / LOG_NAME
    # (Off a terminal, the dashboard's last frame has no newline: the line follows it.)
    (line,) = [line[line.index("coach: ") :] for line in err.splitlines() if "unexpected" in line]
    assert line == f"coach: unexpected error: RuntimeError: boom second line; details in {log}"
    assert "Traceback" not in err
    text = log.read_text()
    assert "ERROR coach.crash: unexpected error: RuntimeError: boom second line\n" in text
    assert (
        "Traceback (most recent call last):" in text
        and 'in _boom\n    raise RuntimeError("boom' in text
    )
    # A non-live command that fails the same way says so the same way (it opens the log).
    close_app_log()
    monkeypatch.setattr("coach.cli._cmd_autostart", _boom)
    assert cli.main(["autostart", "status"]) == 70
    assert capsys.readouterr().err.startswith("coach: unexpected error: RuntimeError")
    assert text.count("Traceback") + 1 == log.read_text().count("Traceback")


def test_a_user_error_is_one_line_status_1_and_an_error_in_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[nudge]\nhold_s = -1\n")
    assert cli.main(["run", "0", "--config", str(bad), "--no-window"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("coach: error: ") and len(err.splitlines()) == 1
    assert "Traceback" not in err
    lines = _messages(platformdirs.user_log_path("coach", appauthor=False) / LOG_NAME)
    assert lines == [f"ERROR coach.session: coach stopped: {err.removeprefix('coach: error: ')}"]


def test_an_exception_on_a_background_thread_is_logged_with_its_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = open_app_log(tmp_path)
    with logged_thread_exceptions():
        thread = threading.Thread(target=_boom, name="coach-worker")
        thread.start()
        thread.join()
    err = capsys.readouterr().err
    assert err == (
        "coach: unexpected error in thread coach-worker: RuntimeError: boom second line; "
        f"details in {path}\n"
    )
    text = path.read_text()
    assert "ERROR coach.crash: unexpected error in thread coach-worker: RuntimeError" in text
    assert "Traceback (most recent call last):" in text


# ---- a tray coach stopped by an error: a notification and an icon that stays ----


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[tuple[str, DesktopServices]]:
    with private_bus(tmp_path) as address:
        services = DesktopServices(address)
        yield address, services
        services.close()


def _entries(services: DesktopServices, item: str) -> dict[str, int]:
    return {props["label"]: i for i, props, _ in services.menu_layout(item) if "label" in props}


def _stopped_tray(
    tmp_path: Path, bus: tuple[str, DesktopServices], source: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """`coach start SOURCE` (a recording with only its header: a session that fails once
    it has begun) until its icon shows the error; (process, item)."""
    _record(source, [])
    address, services = bus
    opener = tmp_path / "bin" / "xdg-open"  # records what "Open the log" asks to open
    opener.parent.mkdir()
    opener.write_text(f'#!/bin/sh\necho "$1" >> {tmp_path / "opened.txt"}\n')
    opener.chmod(0o755)
    path = f"{opener.parent}{os.pathsep}{os.environ['PATH']}"
    env = {"DBUS_SESSION_BUS_ADDRESS": address, "PATH": path}
    proc = start_coach(tmp_path, "start", str(source), "--no-history", env=env)
    assert services.watcher is not None
    watcher = services.watcher
    wait_for(lambda: watcher.items or proc.poll() is not None, 30, "the icon")
    assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
    item = watcher.items[0]
    wait_for(lambda: services.notifications.received, 30, "the notification")
    return proc, item


def test_a_fatal_error_in_the_tray_is_a_notification_and_an_error_icon_until_quit(
    tmp_path: Path, bus: tuple[str, DesktopServices]
) -> None:
    _address, services = bus
    empty = tmp_path / "empty.jsonl"
    proc, item = _stopped_tray(tmp_path, bus, empty)
    try:
        (notified,) = services.notifications.received
        line = (
            f"{empty} holds only a header; nothing to analyse: "
            "re-record it with `coach record --landmarks OUT`"
        )
        assert (notified.app_name, notified.title) == ("coach", "coach stopped")
        assert notified.body == f"{line}; see the log"
        assert "Open the log" in notified.actions.values()  # (and the default action)
        wait_for(lambda: services.item_property(item, "ToolTip")[3] == line, 10, "the tooltip")
        pixmap = services.item_property(item, "IconPixmap")[0]
        assert pixmap[2] == argb_pixmap(draw_icon(TrayState.ERROR, 22))[2]
        entries = _entries(services, item)
        assert list(entries) == [f"Coach stopped: {line}", "Try again", "Open the log", "Quit"]
        services.click(item, entries["Open the log"])
        log = _log_of(tmp_path)
        opened = tmp_path / "opened.txt"
        wait_for(opened.exists, 10, "xdg-open")
        assert opened.read_text() == f"{log}\n"
        assert proc.poll() is None  # still up: nothing vanished
        services.click(item, entries["Quit"])
        assert proc.wait(timeout=20) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = _messages(log)
    assert lines[0].startswith("INFO coach.session: coach started: pid ")
    assert "in the tray, source " in lines[0]
    assert f"ERROR coach.session: session stopped by an error: {line}" in lines
    assert lines[-1] == f"INFO coach.session: coach stopped: user quit after an error ({line})"
    assert _mode(log) == 0o600


def test_try_again_from_the_tray_runs_a_new_session(
    tmp_path: Path, bus: tuple[str, DesktopServices]
) -> None:
    _address, services = bus
    recording = tmp_path / "later.jsonl"
    proc, item = _stopped_tray(tmp_path, bus, recording)
    try:
        _record(recording, script([(BodyPose(), 6.0)]))  # the recording the error asked for
        services.click(item, _entries(services, item)["Try again"])
        assert proc.wait(timeout=30) == 0  # the new session ran to the recording's end
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = _messages(_log_of(tmp_path))
    assert "INFO coach.session: trying again (asked from the tray)" in lines
    after = lines[lines.index("INFO coach.session: trying again (asked from the tray)") :]
    assert "INFO coach.activity: session started: later.jsonl" in after
    assert lines[-1] == "INFO coach.session: coach stopped: the source ended"


# `coach start` with a bug planted: Analyzer.finish raises at the end of the session.
_PLANTED = """
import sys
import coach.analyzer
from coach.cli import main

def boom(*args):
    raise RuntimeError("boom\\nsecond line")

coach.analyzer.Analyzer.finish = boom
raise SystemExit(main(sys.argv[1:]))
"""


def test_an_unexpected_error_in_the_tray_keeps_the_icon_and_quits_with_70(
    tmp_path: Path, bus: tuple[str, DesktopServices]
) -> None:
    address, services = bus
    recording = _record(tmp_path / "d.jsonl", script([(BodyPose(), 4.0)]))
    proc = subprocess.Popen(
        [sys.executable, "-c", _PLANTED, "start", str(recording), "--no-history"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**private_env(tmp_path), "DBUS_SESSION_BUS_ADDRESS": address},
    )
    try:
        assert services.watcher is not None
        watcher = services.watcher
        wait_for(lambda: watcher.items or proc.poll() is not None, 30, "the icon")
        wait_for(lambda: services.notifications.received, 30, "the notification")
        line = "unexpected error: RuntimeError: boom second line"
        assert services.notifications.received[0].body == f"{line}; see the log"
        item = watcher.items[0]
        wait_for(lambda: services.item_property(item, "ToolTip")[3] == line, 10, "the tooltip")
        assert proc.poll() is None
        services.click(item, _entries(services, item)["Quit"])
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 70
    assert b"Traceback" not in err
    text = _log_of(tmp_path).read_text()
    assert f"ERROR coach.session: session stopped by an {line}\nTraceback" in text
    assert "in boom\n" in text
    assert f"coach stopped: user quit after an error ({line})" in text


def test_an_error_before_the_tray_is_up_is_a_notification_too(
    tmp_path: Path, bus: tuple[str, DesktopServices]
) -> None:
    address, services = bus
    bad = tmp_path / "bad.toml"
    bad.write_text("[nudge]\nhold_s = -1\n")
    env = {"DBUS_SESSION_BUS_ADDRESS": address}
    proc = start_coach(tmp_path, "start", "--config", str(bad), env=env)
    assert proc.wait(timeout=30) == 1
    stderr = (tmp_path / "stderr.txt").read_text().strip()
    assert stderr.startswith("coach: error: ") and len(stderr.splitlines()) == 1
    line = stderr.removeprefix("coach: error: ")
    (notified,) = services.notifications.received
    assert (notified.title, notified.body) == ("coach stopped", f"{line}; see the log")
    assert _messages(_log_of(tmp_path)) == [f"ERROR coach.session: coach stopped: {line}"]


def test_a_log_that_cannot_be_opened_is_an_oserror_not_a_hang(tmp_path: Path) -> None:
    (tmp_path / LOG_NAME).symlink_to(tmp_path / "gone" / "coach.log")  # points nowhere
    with pytest.raises(OSError):
        open_app_log(tmp_path)
    assert current_log() is None
