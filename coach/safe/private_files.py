"""Provides private folders and files: the history holds health notes, so only the user reads it.

Folders the coach creates are 0700 and its data files 0600, whatever the umask. The mode of
anything else is the user's: only a regular file or folder of the coach's own (in its own
data folder, or a file it recognises as its own) is ever tightened, and then only loses
group and other bits (a read-only file stays read-only). Never a device, a link or a folder
the user named. On Windows chmod only sets the read-only flag, so every call is a no-op there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO, Final, TextIO

PRIVATE_DIR_MODE: Final = 0o700
PRIVATE_FILE_MODE: Final = 0o600
_POSIX: Final = os.name == "posix"


def tighten(path: Path) -> None:
    """Take group and other permissions off an existing file or folder of the coach's own.

    Best effort. A device node (/dev/null, even as root), a pipe or a symbolic link is
    left alone, and so is anything another user owns: only the caller knows the file is
    the coach's, but nothing else is ever the coach's to change.
    """
    if not _POSIX:
        return
    try:
        found = path.lstat()
        if not (stat.S_ISREG(found.st_mode) or stat.S_ISDIR(found.st_mode)):
            return
        if found.st_uid != os.geteuid():
            return
        mode = stat.S_IMODE(found.st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)
    except OSError:
        pass  # gone meanwhile: nothing to tighten


def private_dir(path: Path, *, tighten_existing: bool = False) -> Path:
    """Create a folder (and missing parents) as 0700; optionally tighten it if it exists.

    Raises:
        OSError: the folder cannot be created.
    """
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # created meanwhile by another process
        if _POSIX:
            folder.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask
    if tighten_existing and not missing:
        tighten(path)
    return path


def create_private_file(path: Path, *, tighten_existing: bool = False) -> bool:
    """Create an empty 0600 file unless something is there; True when it was created.

    An existing file keeps its content and its mode, unless `tighten_existing` (the caller
    knows it is the coach's own, e.g. in the coach's data folder).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        if tighten_existing:
            tighten(path)
        return False
    if _POSIX:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # a umask like 0o277 would leave it unreadable
    os.close(fd)
    return True


def open_private_exclusive(path: Path) -> TextIO:
    """Open a new 0600 file for writing text; never an existing one.

    Raises:
        FileExistsError: the file exists; OSError: it cannot be created.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    return os.fdopen(fd, "w", encoding="utf-8")


def _private_fd(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    tighten(path)  # an existing file keeps its mode through O_CREAT (a device: untouched)
    return fd


def open_private(path: Path, *, newline: str | None = None) -> TextIO:
    """Open a file for writing text (truncated), created 0600, or tightened if it exists."""
    return os.fdopen(_private_fd(path), "w", encoding="utf-8", newline=newline)


def open_private_binary(path: Path) -> BinaryIO:
    """Open a file for writing bytes (truncated), created 0600, or tightened if it exists."""
    return os.fdopen(_private_fd(path), "wb")
