"""Provides `coach install-desktop`: the applications-menu launcher and the coach's icon (XDG).

A wheel cannot place files in the user's data folder, so the program does: on
`coach install-desktop`, `coach autostart on` and the first `coach start`. Only files the coach
wrote are ever replaced or removed; the launcher carries a marker, and the icons count as ours
when they hold our bytes or sit beside our launcher.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from coach.desktop.autostart import Platform, current_platform, exec_value, launch_command
from coach.desktop.icon import icon_path
from coach.errors import ConfigError
from coach.safe.outputs import AtomicFile

LAUNCHER_NAME: Final = "coach.desktop"
ICON_NAME: Final = "coach"
_MARKER_KEY: Final = "X-Coach-Launcher"
# The icon theme's folders: the SVG for any size, the PNG for hosts that want a bitmap.
_ICON_FOLDERS: Final = (("scalable", "svg"), ("128x128", "png"))


class Outcome(enum.Enum):
    """What happened to one file."""

    WRITTEN = "written"
    UNCHANGED = "up to date"
    FOREIGN = "left alone (not written by coach)"
    REMOVED = "removed"
    ABSENT = "not there"


@dataclass(frozen=True)
class Placed:
    """One file of the desktop integration: where it goes and its exact bytes."""

    path: Path
    content: bytes


@dataclass(frozen=True)
class Result:
    """What `install` or `remove` did to each file."""

    outcomes: tuple[tuple[Path, Outcome], ...]

    def lines(self) -> list[str]:
        """One line per file, for the terminal."""
        return [f"{outcome.value}: {path}" for path, outcome in self.outcomes]

    @property
    def launcher(self) -> Outcome:
        """What happened to the launcher entry (the first file)."""
        return self.outcomes[0][1]


def icon_bytes(suffix: str) -> bytes:
    """The coach's icon as shipped in the package (`svg` or `png`)."""
    return icon_path(suffix).read_bytes()


def data_home(env: Mapping[str, str], home: Path) -> Path:
    """$XDG_DATA_HOME, else ~/.local/share (the XDG Base Directory default)."""
    value = env.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else home / ".local" / "share"


def launcher_entry(command: Sequence[str]) -> bytes:
    """The applications-menu entry that starts the coach in the tray (desktop-file-validate clean)."""
    lines = [
        "# Written by `coach install-desktop`; `coach install-desktop --remove` removes it.",
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",
        "Name=Coach",
        "GenericName=Posture coach",
        "Comment=Nudges you to sit up and move, from the webcam, offline",
        f"Exec={exec_value(command)}",
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "Categories=Utility;",
        "Keywords=posture;slouch;ergonomics;break;stretch;webcam;",
        "StartupNotify=false",
        f"{_MARKER_KEY}=true",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def planned(command: Sequence[str], env: Mapping[str, str], home: Path) -> list[Placed]:
    """The launcher, then the icons: paths under the XDG data home and their bytes (pure)."""
    root = data_home(env, home)
    placed = [Placed(root / "applications" / LAUNCHER_NAME, launcher_entry(command))]
    for folder, suffix in _ICON_FOLDERS:
        path = root / "icons" / "hicolor" / folder / "apps" / f"{ICON_NAME}.{suffix}"
        placed.append(Placed(path, icon_bytes(suffix)))
    return placed


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}); check its permissions") from exc


def _is_our_launcher(content: bytes | None) -> bool:
    return content is not None and f"{_MARKER_KEY}=true".encode() in content.splitlines()


def _write(path: Path, content: bytes) -> None:
    try:
        target = AtomicFile(path)
        try:
            target.temp.write_bytes(content)
            target.commit()
        except BaseException:
            target.discard()
            raise
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path} ({exc.strerror}); check that folder is writable"
        ) from exc


def _here(env: Mapping[str, str] | None, home: Path | None) -> tuple[Mapping[str, str], Path]:
    if current_platform() is not Platform.LINUX:
        raise ConfigError(
            f"the applications-menu launcher is for Linux desktops (XDG) for now, not "
            f"{sys.platform}; start the coach with `coach start`"
        )
    return (os.environ if env is None else env), (Path.home() if home is None else home)


def install(
    command: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Result:
    """Write (or refresh) the launcher and the icons; never over a file another program wrote."""
    env, home = _here(env, home)
    launcher, *icons = planned(command or launch_command(), env, home)
    existing = _read(launcher.path)
    ours_before = _is_our_launcher(existing)
    outcomes = [(launcher.path, _place(launcher, existing, owned=existing is None or ours_before))]
    for icon in icons:
        current = _read(icon.path)
        # An icon that differs is an older coach's when our launcher was already beside it.
        outcomes.append((icon.path, _place(icon, current, owned=current is None or ours_before)))
    return Result(tuple(outcomes))


def _place(file: Placed, current: bytes | None, *, owned: bool) -> Outcome:
    if current == file.content:
        return Outcome.UNCHANGED
    if not owned:
        return Outcome.FOREIGN
    _write(file.path, file.content)
    return Outcome.WRITTEN


def installed(*, env: Mapping[str, str] | None = None, home: Path | None = None) -> bool:
    """Whether our launcher is in place (so the first `coach start` need not write it)."""
    env, home = _here(env, home)
    return _is_our_launcher(_read(planned(["coach"], env, home)[0].path))


def remove(*, env: Mapping[str, str] | None = None, home: Path | None = None) -> Result:
    """Remove our launcher and, if it was ours, the icons beside it (or icons holding our bytes)."""
    env, home = _here(env, home)
    launcher, *icons = planned(["coach"], env, home)
    existing = _read(launcher.path)
    ours = _is_our_launcher(existing)
    outcomes = [(launcher.path, _unlink(launcher.path, existing, owned=ours))]
    for icon in icons:
        current = _read(icon.path)
        outcomes.append((icon.path, _unlink(icon.path, current, ours or current == icon.content)))
    return Result(tuple(outcomes))


def _unlink(path: Path, current: bytes | None, owned: bool) -> Outcome:
    if current is None:
        return Outcome.ABSENT
    if not owned:
        return Outcome.FOREIGN
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot remove {path} ({exc.strerror})") from exc
    return Outcome.REMOVED


_FIRST_START_STAMP: Final = "launcher-offered"


def _stamp() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("coach", appauthor=False)) / _FIRST_START_STAMP


def first_start_due() -> bool:
    """Whether `coach start` should install the launcher: on Linux, once, and not if present."""
    if current_platform() is not Platform.LINUX or _stamp().exists():
        return False
    return not installed()


def install_on_first_start() -> Result:
    """Install, and remember it was offered, so a later `--remove` is not undone by a start."""
    result = install()
    try:
        _stamp().parent.mkdir(parents=True, exist_ok=True)
        _stamp().touch()
    except OSError as exc:
        raise ConfigError(f"cannot write {_stamp()} ({exc.strerror})") from exc
    return result
