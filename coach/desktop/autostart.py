"""Provides `coach autostart on|off|status`: start the coach at login on Linux, macOS and Windows.

Each platform has a pure writer (what file, what bytes) so all three are tested anywhere; only
`enable`, `disable` and `status` touch the disk, and `disable` removes a file only if we wrote it.
"""

from __future__ import annotations

import enum
import os
import plistlib
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from coach.desktop.icon import icon_path
from coach.errors import ConfigError
from coach.safe.outputs import AtomicFile

START_VERB: Final = "start"
"""The no-terminal mode a login starts (`coach start` = `coach run --tray`)."""
RESPAWN_FLAG: Final = "--respawn"
START_ARGS: Final = (START_VERB, RESPAWN_FLAG)
"""What a login or the app menu runs: the tray coach, started again if it is killed."""
LAUNCH_AGENT_LABEL: Final = "io.github.coach.start-at-login"
_MARKER_KEY: Final = "X-Coach-Autostart"
_WINDOWS_MARKER: Final = "' Written by `coach autostart on`"
_WINDOWS_RUN: Final = 'CreateObject("WScript.Shell").Run "'


class Platform(enum.Enum):
    """Where the entry is written; each has its own autostart mechanism."""

    LINUX = "linux"
    MACOS = "macos"
    WINDOWS = "windows"


def current_platform(name: str = sys.platform) -> Platform:
    """The platform of this interpreter (any other Unix uses the XDG entry, as Linux does)."""
    if name == "darwin":
        return Platform.MACOS
    if name.startswith(("win32", "cygwin")):
        return Platform.WINDOWS
    return Platform.LINUX


@dataclass(frozen=True)
class Entry:
    """An autostart file: where it goes and its exact bytes."""

    path: Path
    content: bytes


def launch_command(argv0: str | None = None, executable: str | None = None) -> list[str]:
    """The absolute command a login runs: the `coach` entry point this was started as, if it
    was (kept unresolved, so a pipx symlink survives a reinstall), else `python -m coach`."""
    script = Path(sys.argv[0] if argv0 is None else argv0)
    if script.stem.lower() == "coach" and script.suffix.lower() in ("", ".exe"):
        found = script if script.is_file() else script.with_suffix(".exe")
        if found.is_file():
            return [os.path.abspath(found), *START_ARGS]
    python = sys.executable if executable is None else executable
    return [os.path.abspath(python), "-m", "coach", *START_ARGS]


def entry_path(platform: Platform, env: Mapping[str, str], home: Path) -> Path:
    """Where the platform looks for per-user login items."""
    if platform is Platform.MACOS:
        return home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
    if platform is Platform.WINDOWS:
        appdata = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
        startup = appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
        return startup / "coach.vbs"
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return config / "autostart" / "coach.desktop"


def build_entry(
    platform: Platform,
    command: Sequence[str],
    env: Mapping[str, str],
    home: Path,
    icon: Path | None = None,
) -> Entry:
    """The autostart file for `platform` that runs `command` at login (pure: nothing written).

    `icon`: the XDG entry's Icon (None: the coach's own, shipped in the package)."""
    path = entry_path(platform, env, home)
    if platform is Platform.MACOS:
        return Entry(path, _launch_agent(command))
    if platform is Platform.WINDOWS:
        return Entry(path, _startup_script(command))
    return Entry(path, _desktop_entry(command, icon_path() if icon is None else icon))


# Desktop Entry spec, "The Exec key": an argument with any of these is quoted.
_EXEC_RESERVED: Final = frozenset(" \t\n\"'\\><~|&;$*?#()`")


def _exec_argument(arg: str) -> str:
    """One argument of an Exec value, quoted and escaped as the Desktop Entry spec asks."""
    if "\n" in arg or "\r" in arg:
        raise ConfigError(f"cannot start {arg!r} at login: its path has a line break; move it")
    if arg and not _EXEC_RESERVED.intersection(arg):
        quoted = arg
    else:
        quoted = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
    # "%" starts a field code; then the string-value escape (applied before the quoting rule
    # when read) doubles every backslash, so a literal one in a quoted argument is four.
    return quoted.replace("%", "%%").replace("\\", "\\\\")


def _icon_value(icon: Path) -> str:
    """An absolute icon path as an Icon value (the string escape: a backslash doubled)."""
    text = str(icon.absolute())
    if "\n" in text or "\r" in text:
        raise ConfigError(f"cannot name the icon {text!r} at login: its path has a line break")
    return text.replace("\\", "\\\\")


def exec_value(command: Sequence[str]) -> str:
    """A desktop entry's Exec value that runs `command` (each argument quoted as needed)."""
    return " ".join(_exec_argument(arg) for arg in command)


def _desktop_entry(command: Sequence[str], icon: Path) -> bytes:
    """An XDG autostart entry that desktop-file-validate accepts (Type and Name included)."""
    lines = [
        "# Written by `coach autostart on`; `coach autostart off` removes it.",
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",  # the newest desktop-file-validate 0.26 (Debian 12) knows
        "Name=Coach",
        "GenericName=Posture coach",
        "Comment=Webcam posture and movement coach, started at login",
        f"Exec={exec_value(command)}",
        f"Icon={_icon_value(icon)}",  # the coach's own, not a generic one
        "Terminal=false",
        "Categories=Utility;",
        "StartupNotify=false",
        "X-GNOME-Autostart-enabled=true",
        # Let the tray host and the notification daemon come up first.
        "X-GNOME-Autostart-Delay=10",
        f"{_MARKER_KEY}=true",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


_VALUE_ESCAPES: Final = {"s": " ", "n": "\n", "t": "\t", "r": "\r"}


def parse_exec(value: str) -> list[str]:
    """Split an Exec value back into arguments (the reverse of `_desktop_entry`'s quoting)."""
    text = re.sub(r"\\(.)", lambda m: _VALUE_ESCAPES.get(m[1], m[1]), value)
    args: list[str] = []
    current: list[str] | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            current = current or []
            i += 1
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                current.append(text[i])
                i += 1
        elif char == " ":
            if current is not None:
                args.append("".join(current))
            current = None
        else:
            current = current or []
            current.append(char)
        i += 1
    if current is not None:
        args.append("".join(current))
    return [arg.replace("%%", "%") for arg in args]


def _launch_agent(command: Sequence[str]) -> bytes:
    """A LaunchAgent that runs the coach once per GUI login (not kept alive: quit means quit)."""
    agent = {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "KeepAlive": False,
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Interactive",
    }
    return plistlib.dumps(agent, fmt=plistlib.FMT_XML)


def _startup_script(command: Sequence[str]) -> bytes:
    """A Startup-folder VBScript that runs the coach with no console window.

    Windows Script Host ships with every Windows and its Run(..., 0) hides the console a
    console-script `coach.exe` would open; a .lnk needs COM (pywin32) to write, a .cmd
    flashes a console. UTF-16 with a BOM is what WSH reads for non-ASCII user folders.
    """
    line = subprocess.list2cmdline(list(command)).replace('"', '""')
    text = "\r\n".join(
        [
            f"{_WINDOWS_MARKER}; `coach autostart off` removes it.",
            f'{_WINDOWS_RUN}{line}", 0, False',
            "",
        ]
    )
    return b"\xff\xfe" + text.encode("utf-16-le")


def command_of(platform: Platform, content: bytes) -> list[str] | None:
    """The command an entry we wrote starts, or None when the file is not ours."""
    try:
        if platform is Platform.MACOS:
            agent = plistlib.loads(content)
            if not isinstance(agent, dict) or agent.get("Label") != LAUNCH_AGENT_LABEL:
                return None
            arguments = agent.get("ProgramArguments")
            return [str(a) for a in arguments] if isinstance(arguments, list) else None
        if platform is Platform.WINDOWS:
            lines = content.decode("utf-16").splitlines()
            if not lines or not lines[0].startswith(_WINDOWS_MARKER):
                return None
            run = next((x for x in lines if x.startswith(_WINDOWS_RUN)), None)
            return None if run is None else [_windows_program(run)]
        lines = content.decode("utf-8").splitlines()
        if f"{_MARKER_KEY}=true" not in lines:
            return None
        return parse_exec(next((x[len("Exec=") :] for x in lines if x.startswith("Exec=")), ""))
    except (ValueError, plistlib.InvalidFileException, UnicodeDecodeError):
        return None


def _windows_program(run_line: str) -> str:
    """The program of a `CreateObject(...).Run "..."` line (list2cmdline quotes it when needed)."""
    line = run_line[len(_WINDOWS_RUN) :].rsplit('", 0, False', 1)[0].replace('""', '"')
    if line.startswith('"'):
        return line[1:].split('"', 1)[0]
    return line.split(" ", 1)[0]


class State(enum.Enum):
    """What `coach autostart status` found."""

    ON = "on"
    OFF = "off"
    BROKEN = "on, but broken"
    FOREIGN = "off (another program's file is there)"


@dataclass(frozen=True)
class Status:
    """The autostart entry's state, its path and the program it starts."""

    state: State
    path: Path
    command: tuple[str, ...] = ()

    @property
    def respawns(self) -> bool:
        """Whether the coach it starts is started again if killed (entries written before
        `--respawn` start one that is not)."""
        return RESPAWN_FLAG in self.command

    def describe(self) -> str:
        """One line for the terminal."""
        program = self.command[0] if self.command else "nothing"
        if self.state is State.ON:
            line = f"autostart: on ({self.path} starts {' '.join(self.command)})"
            if not self.respawns:
                line += (
                    "; that coach is not started again if it is killed: run "
                    "`coach autostart on` to update it"
                )
            return line
        if self.state is State.BROKEN:
            return (
                f"autostart: on, but {self.path} starts {program}, which no longer exists; "
                "run `coach autostart on` again from the coach you use"
            )
        if self.state is State.FOREIGN:
            return f"autostart: off ({self.path} exists but was not written by coach; left alone)"
        return f"autostart: off (no {self.path}); `coach autostart on` starts the coach at login"


def _here() -> tuple[Platform, Mapping[str, str], Path]:
    return current_platform(), os.environ, Path.home()


def status() -> Status:
    """Whether the coach starts at login, and whether what it starts is still there."""
    platform, env, home = _here()
    path = entry_path(platform, env, home)
    try:
        content = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return Status(State.OFF, path)
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}); check its permissions") from exc
    command = command_of(platform, content)
    if command is None:
        return Status(State.FOREIGN, path)
    program = command[0] if command else ""
    runs = bool(program) and Path(program).is_file() and os.access(program, os.X_OK)
    return Status(State.ON if runs else State.BROKEN, path, tuple(command))


def enable(command: Sequence[str] | None = None) -> Status:
    """Write (or replace) our entry, whole or not at all; never over another program's file."""
    platform, env, home = _here()
    entry = build_entry(platform, command or launch_command(), env, home)
    if status().state is State.FOREIGN:
        raise ConfigError(
            f"{entry.path} exists and was not written by coach; remove it yourself "
            "if you want `coach autostart on` to write it"
        )
    try:
        target = AtomicFile(entry.path, private=True)  # 0600 in 0700 folders, whatever the umask
        try:
            target.temp.write_bytes(entry.content)
            target.commit()
        except BaseException:
            target.discard()
            raise
    except OSError as exc:
        raise ConfigError(
            f"cannot write {entry.path} ({exc.strerror}); check that folder is writable"
        ) from exc
    return status()


def disable() -> Status:
    """Remove our entry; a file there that another program wrote stays."""
    found = status()
    if found.state in (State.ON, State.BROKEN):
        try:
            found.path.unlink(missing_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot remove {found.path} ({exc.strerror})") from exc
    return status()
