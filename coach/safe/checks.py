"""Provides the checks of what the user types, at the edge: names, paths and numbers in range.

Each raises `ConfigError` with one line naming the option, what is wrong and what to give,
so nothing out of range reaches the stages (or SQLite, or the file system) to fail there.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Final

from coach.errors import ConfigError
from coach.safe.printable import printable

NAME_MAX_CHARS: Final = 64
MAX_REPS: Final = 1000
"""The most reps one set may count or log: more is a typo (and would overflow the totals)."""
# POSIX limits most file systems share: a name of 255 bytes, a path of 4095 (and a NUL).
_PART_MAX_BYTES: Final = 255
_PATH_MAX_BYTES: Final = 4095
_SHOWN_CHARS: Final = 60


def shown(text: str) -> str:
    """A value quoted in a message: cut short when long (a 5000-character name), and printable
    (repr escapes control characters; `printable` whatever repr leaves)."""
    if len(text) > _SHOWN_CHARS:
        text = f"{text[: _SHOWN_CHARS - 1]}…"
    return printable(repr(text))


def check_name(name: str, what: str, *, or_else: str = "") -> str:
    """A name the coach turns into a file name (a profile): 1-64 characters, no path in it.

    `or_else`: what else the option takes, added to the message (", or a .json path").

    Raises:
        ConfigError: empty, with `/`, `\\`, `..` or a control character, or too long.
    """
    if not name:
        raise ConfigError(f"{what} must not be empty")
    if not name.isprintable() or any(c in name for c in "/\\") or ".." in name:
        raise ConfigError(
            f"{what} {shown(name)} is not a plain name: use letters, digits, '-', '_' or '.' "
            f"(no '/', '..' or control characters){or_else}"
        )
    if len(name) > NAME_MAX_CHARS:
        raise ConfigError(
            f"{what} {shown(name)} is too long: use at most {NAME_MAX_CHARS} characters"
        )
    return name


def check_path_text(text: str, option: str) -> Path:
    """A path as typed: not empty, and within the file system's limits (else one line, not OSError).

    Raises:
        ConfigError: empty, or a name over 255 bytes, or the whole over 4095.
    """
    if not text:
        raise ConfigError(f"{option} must not be empty; give a file name")
    if "\0" in text:
        raise ConfigError(f"{option} {shown(text)} holds a NUL character; give a file name")
    try:
        data = os.fsencode(text)
    except UnicodeEncodeError:  # a lone surrogate no file system name can hold
        raise ConfigError(f"{option} {shown(text)} is not a valid file name") from None
    longest = max(len(part) for part in data.split(b"/"))
    if longest > _PART_MAX_BYTES or len(data) > _PATH_MAX_BYTES:
        raise ConfigError(
            f"{option} {shown(text)} is too long for a file name "
            f"(at most {_PART_MAX_BYTES} bytes a name, {_PATH_MAX_BYTES} in all)"
        )
    return Path(text)


def _mode(path: Path) -> int | None:
    """The file's type and mode bits (following links), or None when there is nothing there."""
    try:
        return path.expanduser().stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise ConfigError(f"cannot look at {printable(str(path))}: {exc.strerror}") from None


def check_not_special(
    path: Path,
    option: str,
    *,
    folder_ok: bool = False,
    folder_only: bool = False,
    stream_ok: bool = False,
) -> Path:
    """Refuse a device, pipe or socket (and a folder unless `folder_ok`) where a file is wanted.

    A device read never ends (/dev/zero), a pipe blocks, and neither may be replaced or
    have its mode changed. `folder_only`: a folder is wanted (anything else there is
    refused); `stream_ok`: a pipe or terminal is fine (written to, never replaced). A
    missing path passes: whoever opens or creates it says what is wrong.

    Raises:
        ConfigError: the path names something of the wrong kind.
    """
    mode = _mode(path)
    if mode is None:
        return path
    shown_path = printable(str(path))
    if folder_only:
        if stat.S_ISDIR(mode):
            return path
        raise ConfigError(f"{option} {shown_path} is a file, not a folder; give a folder")
    if stat.S_ISREG(mode) or (folder_ok and stat.S_ISDIR(mode)):
        return path
    if stream_ok and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
        return path
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{option} {shown_path} is a folder; give a file name")
    raise ConfigError(
        f"{option} {shown_path} is not a regular file (a device, pipe or socket); give a file name"
    )


def check_input_file(path: Path, option: str) -> Path:
    """A file the command reads: it exists and is a regular file.

    Raises:
        ConfigError: missing, a folder, or a device, pipe or socket.
    """
    check_not_special(path, option)
    if _mode(path) is None:
        raise ConfigError(f"{option} {printable(str(path))} does not exist; check the path")
    return path


def _range_text(lowest: float, highest: float, unit: str) -> str:
    return f"from {lowest:g} to {highest:g}{unit}"


def number_in_range(
    value: float, option: str, lowest: float, highest: float, *, unit: str = ""
) -> float:
    """A number option: finite, more than `lowest` and at most `highest`.

    Raises:
        ConfigError: NaN, infinite or out of range.
    """
    if not (math.isfinite(value) and lowest < value <= highest):
        raise ConfigError(
            f"{option} must be a number more than {lowest:g} and at most {highest:g}{unit}, "
            f"not {value:g}"
        )
    return value


def whole_number(text: str | int, option: str, lowest: int, highest: int, *, unit: str = "") -> int:
    """A whole-number option, from `lowest` to `highest` (typed as text, or parsed already).

    Raises:
        ConfigError: not a whole number, or out of range.
    """
    wrong = f"{option} must be a whole number {_range_text(lowest, highest, unit)}"
    if isinstance(text, int):
        number = text
    else:
        stripped = text.strip()
        # int() reads "١٢" and "1_000" too; a count is typed in plain digits.
        if not (stripped.isascii() and stripped.lstrip("+-").isdigit()) or len(stripped) > 12:
            raise ConfigError(f"{wrong}, not {shown(text)}")
        number = int(stripped)
    if not lowest <= number <= highest:
        raise ConfigError(f"{wrong}, not {shown(str(number))}")
    return number
