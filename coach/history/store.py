"""Provides the history store: the SQLite file opened private, migrated and recovered; deletion."""

from __future__ import annotations

import contextlib
import datetime
import os
import sqlite3
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from coach.errors import HistoryDamaged, HistoryError
from coach.history.failures import (
    damaged_message,
    errno_problem,
    history_error,
    is_damage,
)
from coach.history.local_time import day_start
from coach.history.salvage import TABLE_LIST_NOTE, copy_with_table_list
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


def check_intact(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged database before anything is written into it (writing there could
    spread the damage, or put new rows where no export finds them).

    Raises:
        HistoryDamaged: a page or row of the file is damaged.
    """
    try:
        found = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as exc:
        raise history_error(path, exc) from None
    if found != [("ok",)]:
        # One line: SQLite's report starts "*** in database main ***" and spans lines.
        report = str(found[0][0]) if found else "no answer"
        detail = " ".join(report.replace("*** in database main ***", "").split())
        raise HistoryDamaged(damaged_message(path, detail[:120]))


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
        check_intact(conn, where)
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
def open_for_reading(path: Path, notes: list[str] | None = None) -> Iterator[sqlite3.Connection]:
    """For report and export: the up-to-date database; else, read-only, the file as it is.

    A damaged file, a read-only file or folder, a full disk: none of these needs a write
    to read the history, so each is read as it is (export then writes elsewhere). A file
    whose list of tables is damaged is read from a private copy with the list this coach
    writes; `notes` then says so.

    Raises:
        HistoryError: the file cannot be read at all (HistoryDamaged: not even its tables
            can be found).
    """
    with contextlib.ExitStack() as stack:
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(path)
            migrate(conn)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # its list of tables
        except (HistoryError, sqlite3.Error):
            if conn is not None:
                conn.close()
            conn = None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                # Reading needs no recovery: a read-only or damaged file is read as it is.
                close_dangling_sessions(conn)
        else:
            conn = _read_only(path, stack, [] if notes is None else notes)
        stack.callback(conn.close)
        yield conn


def _read_only(path: Path, stack: contextlib.ExitStack, notes: list[str]) -> sqlite3.Connection:
    """The file opened read-only: nothing migrated, recovered or written.

    In a folder that takes no files SQLite cannot make the -shm file WAL needs, so the
    file is then read as immutable (complete: the last writer folded the WAL back in).
    """
    error: sqlite3.Error | None = None
    for mode in ("mode=ro", "immutable=1"):
        conn = _readable(path, mode)
        if isinstance(conn, sqlite3.Connection):
            return conn
        error = conn
        if is_damage(error):
            break
    assert error is not None
    if not is_damage(error):
        raise history_error(path, error) from None
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coach-read-")))
    try:
        copy = copy_with_table_list(path, folder)
    except (OSError, sqlite3.Error, ValueError):
        copy = None
    if copy is not None:
        conn = _readable(copy, "mode=ro")
        if isinstance(conn, sqlite3.Connection):
            notes.append(TABLE_LIST_NOTE)
            return conn
    raise HistoryDamaged(
        f"{path} is damaged where it lists its tables ({error}), so no table can be "
        "found in it and nothing can be read; keep it (sqlite3's `.recover` may save "
        "rows), move it aside and start afresh"
    )


def _readable(path: Path, mode: str) -> sqlite3.Connection | sqlite3.Error:
    """A read-only connection whose list of tables reads, or why not."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    except sqlite3.Error as exc:
        return exc
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        conn.close()
        return exc
    return conn


def delete_history(path: Path, before: datetime.date | None = None) -> dict[str, int]:
    """Delete all rows, or those recorded before local midnight of `before`; counts by table.

    Deleted rows are overwritten (secure_delete) and the file compacted, so nothing
    deleted stays readable in free pages or in the write-ahead log.

    Raises:
        HistoryDamaged: the file is damaged (see `delete_damaged`); HistoryError: it
            cannot be opened or written.
    """
    cutoff = None if before is None else day_start(before)
    with open_database(path) as conn:
        try:
            return _delete_rows(conn, cutoff)
        except sqlite3.Error as exc:
            raise history_error(path, exc) from None


def _delete_rows(conn: sqlite3.Connection, cutoff: float | None) -> dict[str, int]:
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
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {t: counts_before[t] - _count(conn, t) for t in TABLES}


_SQLITE_MAGIC: Final = b"SQLite format 3\x00"


def delete_damaged(path: Path) -> int:
    """Delete a damaged history file whole (with its -wal and -shm), its bytes overwritten
    first; returns the bytes deleted. Rows cannot be picked out of a damaged file.

    Raises:
        HistoryError: the file is not an SQLite database (not ours to delete), or cannot
            be deleted.
    """
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise HistoryError(f"cannot read {path} ({exc.strerror}); nothing was deleted") from None
    if magic != _SQLITE_MAGIC:
        raise HistoryError(
            f"{path} is not a coach history database, so it was left alone; "
            "check the --db path (`coach data --path` shows the history's)"
        )
    removed_b = 0
    for target in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            size_b = target.stat().st_size
            with target.open("r+b") as handle:  # what was deleted stays unreadable on disk
                handle.write(bytes(size_b))
                handle.flush()
                os.fsync(handle.fileno())
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            cause = errno_problem(exc, path, f"the file {target}")
            raise HistoryError(
                cause or f"cannot delete {target} ({exc.strerror}); delete it by hand"
            ) from None
        removed_b += size_b
    return removed_b


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def describe_path(path: Path) -> str:
    """The history file and its size, for `coach data --path`."""
    if not path.exists():
        return f"{path} (not created yet)"
    size_b = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    return f"{path} ({size_b / 1024:.0f} KiB)"
