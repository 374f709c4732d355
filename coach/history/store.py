"""Provides the history store: the SQLite file opened private, migrated and recovered; deletion."""

from __future__ import annotations

import contextlib
import datetime
import os
import sqlite3
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from coach.errors import HistoryDamaged, HistoryError
from coach.history.failures import as_history_error, errno_problem, history_error
from coach.history.local_time import day_start
from coach.history.schema import SCHEMA_VERSION, TABLES, migrate
from coach.safe.private_files import create_private_file, private_dir

DB_FILENAME: Final = "coach.sqlite3"
# How long SQLite waits for another process's write lock before reporting "locked".
_BUSY_TIMEOUT_MS: Final = 5_000


def default_db_path() -> Path:
    """Where the history lives unless a path is given: the user's data directory."""
    import platformdirs

    return platformdirs.user_data_path("coach", appauthor=False) / DB_FILENAME


def _make_private(path: Path) -> None:
    """The folder 0700 and the database 0600; its -wal and -shm files get its mode.

    SQLite creates -wal and -shm with the database's mode, so they only differ when the
    database's mode was changed since (made writable again after being read-only).
    """
    own_folder = path.parent == default_db_path().parent
    private_dir(path.parent, tighten_existing=own_folder)
    # A file the user named with --db keeps its mode (it may be a folder, a device or
    # anything of theirs); a database created now, in the coach's folder or recognisably
    # a coach history, is private.
    ours = own_folder or _is_coach_history(path)
    created = create_private_file(path, tighten_existing=ours)
    if os.name != "posix" or not (created or ours):
        return
    mode = stat.S_IMODE(path.stat().st_mode) & 0o700
    for suffix in ("-wal", "-shm"):
        aux = Path(f"{path}{suffix}")
        with contextlib.suppress(OSError):  # not there, or not ours
            found = aux.lstat()
            if stat.S_ISREG(found.st_mode) and stat.S_IMODE(found.st_mode) != mode:
                aux.chmod(mode)


def _is_coach_history(path: Path) -> bool:
    """Whether a file is a SQLite database at one of our schema versions (so the coach made it).

    Read from the header alone (the user_version field at byte 60), without opening it.
    """
    try:
        if not path.is_file():  # a pipe would block the read; a device is not ours
            return False
        with path.open("rb") as handle:
            header = handle.read(64)
    except OSError:
        return False
    version = int.from_bytes(header[60:64], "big") if len(header) == 64 else 0
    return header.startswith(b"SQLite format 3\x00") and 1 <= version <= SCHEMA_VERSION


def file_identity(path: Path) -> tuple[int, int] | None:
    """The (device, inode) of a file, to tell it from one put in its place; None if missing."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with our pragmas."""
    try:
        _make_private(path)
    except OSError as exc:
        cause = errno_problem(exc, path, f"the folder {path.parent}")
        raise HistoryError(
            cause or f"cannot create the history database {path} ({exc.strerror})"
        ) from None
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise history_error(path, exc) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        # WAL: readers never block the writer and a killed process never corrupts the file;
        # NORMAL: a commit survives a process crash (only a power cut can lose the last one).
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        conn.close()
        raise history_error(path, exc) from None
    return conn


def _process_alive(pid: int) -> bool:
    """Whether a process with this id is running (so its open session is not a crash)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def close_dangling_sessions(conn: sqlite3.Connection) -> list[int]:
    """Close sessions a crashed process left open; returns their ids.

    A session whose writer is still running (another `coach run`) is left alone. A
    crashed one ends at its last recorded moment, with closed_cleanly = 0.
    """
    rows = conn.execute("SELECT id, pid FROM sessions WHERE ended_at IS NULL").fetchall()
    crashed = [sid for sid, pid in rows if pid is None or not _process_alive(int(pid))]
    if not crashed:
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for sid in crashed:
            conn.execute(
                """
                UPDATE sessions SET closed_cleanly = 0, ended_at = max(
                    started_at,
                    coalesce((SELECT max(t + window_s) FROM posture_samples
                              WHERE session_id = :id), started_at),
                    coalesce((SELECT max(t) FROM prompts WHERE session_id = :id), started_at),
                    coalesce((SELECT max(t + coalesce(duration_s, 0)) FROM sets
                              WHERE session_id = :id), started_at))
                WHERE id = :id
                """,
                {"id": sid},
            )
        conn.execute("COMMIT")
    except sqlite3.Error:
        conn.execute("ROLLBACK")
        raise
    return crashed


@contextlib.contextmanager
def open_database(
    path: Path | None = None, *, recover: bool = True
) -> Iterator[sqlite3.Connection]:
    """A connection to an up-to-date history database: created, migrated, crashes recovered.

    `recover=False` skips closing the sessions crashed runs left open.

    Raises:
        HistoryError: the file cannot be opened, is not a database, or is from a newer coach.
    """
    where = default_db_path() if path is None else path
    conn = connect(where)
    try:
        try:
            migrate(conn)
            if recover:
                close_dangling_sessions(conn)
        except sqlite3.Error as exc:
            raise history_error(where, exc) from None
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def open_for_reading(path: Path) -> Iterator[sqlite3.Connection]:
    """For report and export: the up-to-date database, or a damaged one as it is (read-only).

    Raises:
        HistoryError: the file cannot be opened at all.
    """
    conn: sqlite3.Connection | None = None
    try:
        conn = connect(path)
        migrate(conn)
    except (HistoryError, sqlite3.Error) as exc:
        if conn is not None:
            conn.close()
        error = as_history_error(path, exc)
        if not isinstance(error, HistoryDamaged):
            raise error from None
        conn = None
    if conn is not None:
        with contextlib.suppress(sqlite3.Error):
            # Reading needs no recovery: a read-only or damaged file is read as it is.
            close_dangling_sessions(conn)
    else:
        # Damaged: no migration, nothing written; read what can be read.
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise history_error(path, exc) from None
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            conn.close()
            raise history_error(path, exc) from None
    try:
        yield conn
    finally:
        conn.close()


def delete_history(path: Path, before: datetime.date | None = None) -> dict[str, int]:
    """Delete all rows, or those recorded before local midnight of `before`; counts by table.

    Deleted rows are overwritten (secure_delete) and the file compacted, so nothing
    deleted stays readable in free pages or in the write-ahead log.
    """
    cutoff = None if before is None else day_start(before)
    with open_database(path) as conn:
        conn.execute("PRAGMA secure_delete = ON")
        counts_before = {t: _count(conn, t) for t in TABLES}
        conn.execute("BEGIN IMMEDIATE")
        try:
            if cutoff is None:
                for table in reversed(TABLES):
                    conn.execute(f"DELETE FROM {table}")  # our own table names
            else:
                # Children first where they carry their own time; whole sessions that ended
                # before the cutoff go with everything they own (ON DELETE CASCADE).
                for table in ("posture_samples", "prompts", "fatigue", "notes"):
                    conn.execute(f"DELETE FROM {table} WHERE t < ?", (cutoff,))
                conn.execute("DELETE FROM sets WHERE t < ?", (cutoff,))
                conn.execute(
                    "DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?", (cutoff,)
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {t: counts_before[t] - _count(conn, t) for t in TABLES}


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def describe_path(path: Path) -> str:
    """The history file and its size, for `coach data --path`."""
    if not path.exists():
        return f"{path} (not created yet)"
    size_b = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    return f"{path} ({size_b / 1024:.0f} KiB)"
