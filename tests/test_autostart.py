"""`coach autostart`: a real XDG entry checked by desktop-file-validate; the macOS and Windows files."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coach.desktop import autostart
from coach.desktop.autostart import (
    Platform,
    State,
    build_entry,
    command_of,
    launch_command,
    parse_exec,
)
from coach.errors import ConfigError

COACH = [sys.executable, "-m", "coach"]
VALIDATE = shutil.which("desktop-file-validate")
needs_validator = pytest.mark.skipif(
    VALIDATE is None, reason="desktop-file-validate missing (Debian package desktop-file-utils)"
)
AWKWARD = '/opt/my apps/co$t "100%" \\ `x`/coach'
"""A program path with every character the Desktop Entry spec makes us quote or escape."""


def _coach(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COACH, *args], capture_output=True, text=True, timeout=60, check=False)


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    assert VALIDATE is not None
    return subprocess.run([VALIDATE, str(path)], capture_output=True, text=True, check=False)


@needs_validator
def test_on_writes_an_entry_desktop_file_validate_accepts_and_off_removes_it(private_home):
    entry = private_home / ".config" / "autostart" / "coach.desktop"
    on = _coach("autostart", "on")
    assert on.returncode == 0, on.stderr
    assert f"autostart: on ({entry} starts {sys.executable} -m coach start --respawn)" in on.stdout
    result = _validate(entry)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    text = entry.read_text()
    for key in ("Type=Application", "Name=Coach", "Terminal=false", "X-GNOME-Autostart-enabled"):
        assert key in text
    assert parse_exec(text.split("Exec=")[1].splitlines()[0]) == [*COACH, "start", "--respawn"]
    icon = Path(text.split("\nIcon=")[1].splitlines()[0])  # the coach's own icon, a real PNG
    assert icon.is_absolute() and icon.name == "coach.png"
    assert icon.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in entry.parent.iterdir()] == ["coach.desktop"]  # no temp file left

    status = _coach("autostart", "status")
    assert status.returncode == 0 and status.stdout.startswith("autostart: on (")
    off = _coach("autostart", "off")
    assert off.returncode == 0 and off.stdout.startswith("autostart: off (no ")
    assert not entry.exists() and entry.parent.is_dir()


def test_the_installed_entry_point_is_started_by_its_absolute_path(tmp_path, monkeypatch):
    """Run as `coach` (the console script), the login starts that script, not `python -m`."""
    script = tmp_path / "bin" / "coach"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    monkeypatch.chdir(tmp_path)
    # ...with --respawn: what starts the coach for the day starts it again if it is killed.
    assert launch_command("bin/coach", "/usr/bin/python3") == [str(script), "start", "--respawn"]
    assert launch_command("/usr/bin/pytest", "/venv/bin/python") == [
        "/venv/bin/python",
        "-m",
        "coach",
        "start",
        "--respawn",
    ]
    assert launch_command(str(tmp_path / "gone" / "coach"), "/p") == [
        "/p",
        "-m",
        "coach",
        "start",
        "--respawn",
    ]


@needs_validator
def test_a_path_with_spaces_quotes_and_percent_is_quoted_per_the_spec(tmp_path):
    entry = build_entry(Platform.LINUX, [AWKWARD, "start"], {}, tmp_path)
    assert entry.path == tmp_path / ".config" / "autostart" / "coach.desktop"
    entry.path.parent.mkdir(parents=True)
    entry.path.write_bytes(entry.content)
    result = _validate(entry.path)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    assert command_of(Platform.LINUX, entry.content) == [AWKWARD, "start"]
    exec_line = next(x for x in entry.content.decode().splitlines() if x.startswith("Exec="))
    # Quoted, `"`, `$`, backquote and backslash escaped, "%" doubled, backslashes doubled again.
    assert exec_line == (
        'Exec="/opt/my apps/co\\\\$t \\\\"100%%\\\\" \\\\\\\\ \\\\`x\\\\`/coach" start'
    )


def test_status_says_when_the_coach_it_starts_is_gone(private_home, tmp_path):
    program = tmp_path / "coach"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    assert autostart.enable([str(program), "start"]).state is State.ON
    program.unlink()
    found = autostart.status()
    assert found.state is State.BROKEN
    assert "no longer exists" in found.describe()
    result = _coach("autostart", "status")
    assert result.returncode == 1 and f"starts {program}, which no longer exists" in result.stdout
    assert autostart.disable().state is State.OFF


def test_status_says_an_entry_from_before_respawn_should_be_written_again(private_home, tmp_path):
    program = tmp_path / "coach"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    assert autostart.enable([str(program), "start"]).state is State.ON  # an older coach's
    old = autostart.status().describe()
    assert old.endswith(
        "is not started again if it is killed: run `coach autostart on` to update it"
    )
    assert autostart.enable([str(program), "start", "--respawn"]).state is State.ON
    assert autostart.status().describe() == (
        f"autostart: on ({autostart.status().path} starts {program} start --respawn)"
    )


def test_off_and_on_leave_another_programs_file_alone(private_home):
    entry = private_home / ".config" / "autostart" / "coach.desktop"
    entry.parent.mkdir(parents=True)
    foreign = "[Desktop Entry]\nType=Application\nName=Another coach\nExec=other-coach\n"
    entry.write_text(foreign)
    off = _coach("autostart", "off")
    assert off.returncode == 1 and "not written by coach" in off.stdout
    assert entry.read_text() == foreign
    with pytest.raises(ConfigError, match="not written by coach"):
        autostart.enable()
    on = _coach("autostart", "on")
    assert on.returncode == 1 and "coach: error:" in on.stderr and "Traceback" not in on.stderr
    assert entry.read_text() == foreign


def test_xdg_config_home_is_honoured(tmp_path):
    entry = build_entry(Platform.LINUX, ["/c", "start"], {"XDG_CONFIG_HOME": "/x/cfg"}, tmp_path)
    assert entry.path == Path("/x/cfg/autostart/coach.desktop")


def test_macos_launch_agent_round_trips_through_plistlib(tmp_path):
    command = [AWKWARD, "start"]
    entry = build_entry(Platform.MACOS, command, {}, tmp_path)
    assert entry.path == (
        tmp_path / "Library" / "LaunchAgents" / "io.github.coach.start-at-login.plist"
    )
    agent = plistlib.loads(entry.content)
    assert agent["Label"] == entry.path.stem
    assert agent["ProgramArguments"] == command
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] is False
    assert agent["LimitLoadToSessionType"] == "Aqua"
    assert entry.content.startswith(b"<?xml")
    assert command_of(Platform.MACOS, entry.content) == command
    other = plistlib.dumps({"Label": "com.example.other", "ProgramArguments": ["/x"]})
    assert command_of(Platform.MACOS, other) is None


def test_windows_startup_script_hides_the_console_and_names_the_program(tmp_path):
    program = "C:\\Users\\Zoë Å\\pipx\\venvs\\coach\\Scripts\\coach.exe"
    appdata = "C:\\Users\\Zoë Å\\AppData\\Roaming"
    entry = build_entry(Platform.WINDOWS, [program, "start"], {"APPDATA": appdata}, tmp_path)
    assert entry.path == (
        Path(appdata)
        / "Microsoft"
        / "Windows"
        / "Start Menu"
        / "Programs"
        / "Startup"
        / "coach.vbs"
    )
    assert entry.content.startswith(b"\xff\xfe")  # UTF-16 with a BOM: WSH reads any user name
    text = entry.content.decode("utf-16")
    assert "\r\n" in text
    run = next(x for x in text.splitlines() if x.startswith("CreateObject"))
    assert run == f'CreateObject("WScript.Shell").Run """{program}"" start", 0, False'
    assert command_of(Platform.WINDOWS, entry.content) == [program]
    plain = build_entry(Platform.WINDOWS, ["C:\\coach.exe", "start"], {}, tmp_path)
    assert plain.path.is_relative_to(tmp_path / "AppData" / "Roaming")
    assert command_of(Platform.WINDOWS, plain.content) == ["C:\\coach.exe"]
    assert command_of(Platform.WINDOWS, "' someone else\r\n".encode("utf-16")) is None


@pytest.mark.parametrize(
    ("name", "platform"),
    [("linux", Platform.LINUX), ("darwin", Platform.MACOS), ("win32", Platform.WINDOWS)],
)
def test_current_platform(name, platform):
    assert autostart.current_platform(name) is platform


def test_a_path_with_a_line_break_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="line break"):
        build_entry(Platform.LINUX, ["/a\nb/coach", "start"], {}, tmp_path)


def test_on_cannot_write_is_one_line(private_home):
    (private_home / ".config").mkdir()
    (private_home / ".config" / "autostart").write_text("a file where the folder goes")
    result = _coach("autostart", "on")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot write" in result.stderr
    assert os.listdir(private_home / ".config") == ["autostart"]


@needs_validator
def test_run_as_the_console_script_the_login_starts_that_script(private_home):
    script = Path(sys.executable).parent / "coach"
    if not script.is_file():
        pytest.skip(f"no console script beside {sys.executable} (not installed with pip)")
    result = subprocess.run(
        [str(script), "autostart", "on"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    entry = private_home / ".config" / "autostart" / "coach.desktop"
    assert f"\nExec={script} start --respawn\n" in entry.read_text()
    assert _validate(entry).returncode == 0


def test_the_login_entry_bakes_in_no_setting_and_its_coach_reads_the_settings_file(
    private_home: Path,
) -> None:
    """Start at login runs a bare `coach start --respawn`, which loads the user's settings file: what
    the user chose (here a camera that is not connected and a bounded wait) is what it does."""
    assert autostart.enable().state is State.ON
    entry = private_home / ".config" / "autostart" / "coach.desktop"
    command = command_of(Platform.LINUX, entry.read_bytes())
    assert command == [*COACH, "start", "--respawn"]  # no --config, no SOURCE, no setting
    settings = private_home / ".config" / "coach" / "config.toml"
    settings.parent.mkdir()
    settings.write_text('[nudge]\nstyle = ["blink"]\n')
    run = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1
    assert f"{settings} [nudge] style: 'blink' is not one of" in run.stderr
    settings.write_text(
        '[source]\ncamera = "camera:Desk Cam"\ngive_up_s = 0.5\n[prompts]\nworking_hours = ""\n'
    )
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL
    )
    assert run.returncode == 1
    assert "camera 'Desk Cam' is not connected" in run.stderr.splitlines()[-1]
