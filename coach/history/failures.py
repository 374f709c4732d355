"""Provides the history's failures: why the database cannot be opened or written, in one line."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Final

from coach.errors import HistoryDamaged, HistoryError
from coach.safe.private_files import PRIVATE_FILE_MODE

# Less free space than this on the history's disk counts as a full disk.
_LOW_SPACE_BYTES: Final = 1 << 20

# SQLite primary result codes (the low byte of an extended code).
SQLITE_BUSY: Final = 5
SQLITE_LOCKED: Final = 6
SQLITE_CORRUPT: Final = 11
SQLITE_FULL: Final = 13
SQLITE_NOTADB: Final = 26


def primary_code(exc: BaseException) -> int | None:
    """An SQLite error's primary result code (SQLITE_BUSY, ...), None for another error."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def is_damage(exc: BaseException) -> bool:
    """Whether an SQLite error means the file itself is corrupt or not a database."""
    return primary_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB)


def describe_failure(path: Path, exc: BaseException) -> str:
    """One line: why the history at `path` cannot be opened or written, and what to do.

    SQLite's own codes are coarse (a read-only folder, a full disk and a file size limit
    can all come back as an I/O error), so the file system is asked what is wrong.
    """
    code = primary_code(exc)
    if code == SQLITE_NOTADB:
        return f"{path} is not a usable coach history database ({exc}); move it aside and retry"
    if code == SQLITE_CORRUPT:
        return damaged_message(path, str(exc))
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return f"{path} is locked by another program ({exc}); close that program"
    if code == SQLITE_FULL:
        return _size_limit(path) if _near_size_limit(path) else _disk_full(path)
    cause = filesystem_problem(path)
    if cause is not None:
        return cause
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"cannot write the history database {path} ({detail})"


def damaged_message(path: Path, detail: str) -> str:
    """One line for a damaged history, with the way out."""
    return (
        f"{path} is damaged, not a usable coach history database ({detail}); save what it "
        "holds with `coach export --csv DIR`, then move it aside (or delete it with "
        "`coach data --delete`) and retry"
    )


def _disk_full(path: Path) -> str:
    return f"the disk holding {path.parent} is full; free some space"


def errno_problem(error: OSError, path: Path, what: str) -> str | None:
    """A one-line cause for an OSError met while writing `what` (the file or the folder)."""
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"{what} is read-only (permission denied); make it writable (chmod u+w) or use --db"
    if error.errno == errno.EROFS:
        return f"{what} is on a read-only file system; remount it writable or use --db"
    if error.errno == errno.ENOSPC:
        return _disk_full(path)
    if error.errno == getattr(errno, "EDQUOT", -1):
        return f"your disk quota is used up on {path.parent}; free some space"
    if error.errno == errno.EFBIG:
        return _size_limit(path)
    return None


def _size_limit(path: Path) -> str:
    return f"the file size limit (ulimit -f) stops {path} from growing; raise the limit"


def _near_size_limit(path: Path) -> bool:
    if sys.platform == "win32":
        return False
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft == resource.RLIM_INFINITY:
        return False
    sizes = (p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    return any(size + (64 << 10) >= soft for size in sizes)


def filesystem_problem(path: Path) -> str | None:
    """What stops the history at `path` being written, found by trying, or None."""
    folder = path.parent
    if not folder.is_dir():
        return f"the folder {folder} does not exist; create it or use --db"
    for target in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if not target.exists():
            continue
        try:
            os.close(os.open(target, os.O_WRONLY))
        except OSError as exc:
            problem = errno_problem(exc, path, f"the file {target}")
            if problem is not None:
                return problem
    # SQLite creates its -wal and -shm files next to the database: the folder must take files.
    probe = folder / f".coach-write-test-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
        try:
            os.write(fd, bytes(64 << 10))
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as exc:
        problem = errno_problem(exc, path, f"the folder {folder}")
        if problem is not None:
            return problem
    try:
        if shutil.disk_usage(folder).free < _LOW_SPACE_BYTES:
            return _disk_full(path)
    except OSError:
        pass
    if _near_size_limit(path):
        return _size_limit(path)
    return None


def history_error(path: Path, exc: BaseException) -> HistoryError:
    """The one-line error for a failure on the history at `path` (damage has its own type)."""
    message = describe_failure(path, exc)
    return HistoryDamaged(message) if is_damage(exc) else HistoryError(message)


def as_history_error(path: Path, exc: HistoryError | sqlite3.Error) -> HistoryError:
    """A HistoryError as it is; an SQLite error as `history_error` words it."""
    return exc if isinstance(exc, HistoryError) else history_error(path, exc)
