"""Provides the session log: a versioned SQLite history written by one background thread."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import errno
import glob
import hashlib
import itertools
import json
import os
import queue
import shutil
import sqlite3
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from coach.closing import ClosesOnExit
from coach.errors import CoachError
from coach.private_files import PRIVATE_FILE_MODE, create_private_file, private_dir
from coach.records import Activity, Outcome, PostureState

DB_FILENAME: Final = "coach.sqlite3"
STATES: Final = tuple(PostureState)
OUTCOMES: Final = tuple(Outcome)
ACTIVITIES: Final = tuple(Activity)
SET_SOURCES: Final = ("camera", "manual")
TABLES: Final = ("sessions", "posture_samples", "prompts", "sets", "reps", "fatigue", "notes")
"""Every table, parents before children (the order export and delete walk them)."""

# Records waiting for the disk (queued or kept after a failed write) are bounded: about
# three days of posture windows. Past that, data rows are dropped, and the user is told.
_QUEUE_LIMIT: Final = 50_000
# How long SQLite waits for another process's write lock before reporting "locked".
_BUSY_TIMEOUT_MS: Final = 5_000
RETRY_INTERVAL_S: Final = 5.0
"""How often a failed write is tried again while the coach runs."""
RESCUE_FORMAT: Final = "coach-history-rescue"
# Less free space than this on the history's disk counts as a full disk.
_LOW_SPACE_BYTES: Final = 1 << 20

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6
_SQLITE_CORRUPT: Final = 11
_SQLITE_FULL: Final = 13
_SQLITE_NOTADB: Final = 26


class HistoryError(CoachError):
    """The history database cannot be opened, read or written."""


class HistoryDamaged(HistoryError):
    """The history file is corrupt or not a database: only here is moving it aside the fix."""


def _primary_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def is_damage(exc: BaseException) -> bool:
    """Whether an SQLite error means the file itself is corrupt or not a database."""
    return _primary_code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def describe_failure(path: Path, exc: BaseException) -> str:
    """One line: why the history at `path` cannot be opened or written, and what to do.

    SQLite's own codes are coarse (a read-only folder, a full disk and a file size limit
    can all come back as an I/O error), so the file system is asked what is wrong.
    """
    code = _primary_code(exc)
    if code == _SQLITE_NOTADB:
        return f"{path} is not a usable coach history database ({exc}); move it aside and retry"
    if code == _SQLITE_CORRUPT:
        return (
            f"{path} is damaged, not a usable coach history database ({exc}); save what it "
            "holds with `coach export --csv DIR`, then move it aside and retry"
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return f"{path} is locked by another program ({exc}); close that program"
    if code == _SQLITE_FULL:
        return _size_limit(path) if _near_size_limit(path) else _disk_full(path)
    cause = filesystem_problem(path)
    if cause is not None:
        return cause
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"cannot write the history database {path} ({detail})"


def _disk_full(path: Path) -> str:
    return f"the disk holding {path.parent} is full; free some space"


def _errno_problem(error: OSError, path: Path, what: str) -> str | None:
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
            problem = _errno_problem(exc, path, f"the file {target}")
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
        problem = _errno_problem(exc, path, f"the folder {folder}")
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


@dataclass(frozen=True)
class Migration:
    """One schema step: run `sql` on a database at `version - 1` to reach `version`."""

    version: int
    description: str
    sql: str


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "original schema: sessions, posture samples, prompts, sets, reps, fatigue, notes",
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            ended_at REAL,
            source TEXT NOT NULL,
            closed_cleanly INTEGER NOT NULL DEFAULT 0 CHECK (closed_cleanly IN (0, 1))
        );
        CREATE TABLE posture_samples (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            t REAL NOT NULL,
            window_s REAL NOT NULL CHECK (window_s >= 0),
            state TEXT NOT NULL
                CHECK (state IN ('upright', 'slouched', 'away', 'unknown')),
            upright_s REAL NOT NULL DEFAULT 0,
            slouched_s REAL NOT NULL DEFAULT 0,
            away_s REAL NOT NULL DEFAULT 0,
            unknown_s REAL NOT NULL DEFAULT 0,
            forward_head_mean REAL,
            thoracic_rounding_mean REAL
        );
        CREATE TABLE prompts (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            prompt_id INTEGER NOT NULL,
            t REAL NOT NULL,
            reason TEXT NOT NULL,
            movement TEXT NOT NULL,
            outcome TEXT CHECK (outcome IN ('done', 'snoozed', 'skipped', 'ignored')),
            outcome_t REAL,
            correction_s REAL CHECK (correction_s >= 0)
        );
        CREATE TABLE sets (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions (id) ON DELETE CASCADE,
            t REAL NOT NULL,
            duration_s REAL,
            movement TEXT NOT NULL,
            reps INTEGER NOT NULL CHECK (reps >= 0),
            per_side_left INTEGER,
            per_side_right INTEGER,
            mean_phase_s REAL,
            partial_reps INTEGER NOT NULL DEFAULT 0 CHECK (partial_reps >= 0),
            feedback TEXT NOT NULL DEFAULT '[]',
            prompt_id INTEGER,
            recognised INTEGER NOT NULL DEFAULT 0 CHECK (recognised IN (0, 1))
        );
        CREATE TABLE reps (
            id INTEGER PRIMARY KEY,
            set_id INTEGER NOT NULL REFERENCES sets (id) ON DELETE CASCADE,
            rep_index INTEGER NOT NULL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            phase_s TEXT NOT NULL DEFAULT '[]',
            range REAL,
            partial INTEGER NOT NULL DEFAULT 0 CHECK (partial IN (0, 1)),
            side TEXT CHECK (side IN ('left', 'right')),
            UNIQUE (set_id, rep_index)
        );
        CREATE TABLE fatigue (
            id INTEGER PRIMARY KEY,
            t REAL NOT NULL,
            set_id INTEGER REFERENCES sets (id) ON DELETE SET NULL,
            before INTEGER CHECK (before BETWEEN 1 AND 5),
            after INTEGER CHECK (after BETWEEN 1 AND 5),
            CHECK (before IS NOT NULL OR after IS NOT NULL)
        );
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            t REAL NOT NULL,
            text TEXT NOT NULL CHECK (length(trim(text)) > 0)
        );
        """,
    ),
    Migration(
        2,
        "stationary estimate per sample, camera/manual sets, writer pid, time indexes",
        """
        ALTER TABLE posture_samples ADD COLUMN activity TEXT
            CHECK (activity IN ('still', 'moving', 'away'));
        ALTER TABLE posture_samples ADD COLUMN seated_s REAL;
        ALTER TABLE sets ADD COLUMN source TEXT NOT NULL DEFAULT 'camera'
            CHECK (source IN ('camera', 'manual'));
        ALTER TABLE sessions ADD COLUMN pid INTEGER;
        CREATE INDEX posture_samples_by_time ON posture_samples (t);
        CREATE INDEX posture_samples_by_session ON posture_samples (session_id, t);
        CREATE INDEX prompts_by_time ON prompts (t);
        CREATE INDEX prompts_by_session ON prompts (session_id, prompt_id);
        CREATE INDEX sets_by_time ON sets (t);
        CREATE INDEX reps_by_set ON reps (set_id);
        CREATE INDEX fatigue_by_time ON fatigue (t);
        CREATE INDEX notes_by_time ON notes (t);
        """,
    ),
)

SCHEMA_VERSION: Final = MIGRATIONS[-1].version


def default_db_path() -> Path:
    """Where the history lives unless a path is given: the user's data directory."""
    import platformdirs

    return platformdirs.user_data_path("coach", appauthor=False) / DB_FILENAME


def history_error(path: Path, exc: BaseException) -> HistoryError:
    """The one-line error for a failure on the history at `path` (damage has its own type)."""
    message = describe_failure(path, exc)
    return HistoryDamaged(message) if is_damage(exc) else HistoryError(message)


def _as_history_error(path: Path, exc: HistoryError | sqlite3.Error) -> HistoryError:
    """A HistoryError as it is; an SQLite error as `history_error` words it."""
    return exc if isinstance(exc, HistoryError) else history_error(path, exc)


def _make_private(path: Path) -> None:
    """The folder 0700 and the database 0600; its -wal and -shm files get its mode.

    SQLite creates -wal and -shm with the database's mode, so they only differ when the
    database's mode was changed since (made writable again after being read-only).
    """
    own_folder = path.parent == default_db_path().parent
    private_dir(path.parent, tighten_existing=own_folder)
    create_private_file(path)
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode) & 0o700
    for suffix in ("-wal", "-shm"):
        aux = Path(f"{path}{suffix}")
        with contextlib.suppress(OSError):  # not there, or not ours
            if stat.S_IMODE(aux.stat().st_mode) != mode:
                aux.chmod(mode)


def _connect_raw(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with our pragmas."""
    try:
        _make_private(path)
    except OSError as exc:
        cause = _errno_problem(exc, path, f"the folder {path.parent}")
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


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version stored in the file (0 for a new, empty file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target_version: int = SCHEMA_VERSION) -> int:
    """Run every migration step between the file's version and `target_version`.

    Each step runs in its own transaction with its `PRAGMA user_version`, so a crash
    mid-migration leaves the file at the previous version. Returns the version reached.
    """
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise HistoryError(
            f"the history database is schema v{current}, newer than this coach knows "
            f"(v{SCHEMA_VERSION}); upgrade coach"
        )
    for step in MIGRATIONS:
        if current < step.version <= target_version:
            try:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _statements(step.sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step.version}")
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if is_damage(exc):
                    raise history_error(_db_path(conn), exc) from None
                raise HistoryError(
                    f"cannot upgrade the history database to v{step.version}: "
                    f"{describe_failure(_db_path(conn), exc)}"
                ) from None
            current = step.version
    return current


def _db_path(conn: sqlite3.Connection) -> Path:
    """The file behind a connection (for messages)."""
    row = conn.execute("PRAGMA database_list").fetchone()
    return Path(row[2]) if row and row[2] else Path("the history database")


def _statements(script: str) -> Iterator[str]:
    # Our DDL holds no string literal with ';', so a plain split is exact.
    for part in script.split(";"):
        if part.strip():
            yield part.strip()


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
    conn = _connect_raw(where)
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
        conn = _connect_raw(path)
        migrate(conn)
    except (HistoryError, sqlite3.Error) as exc:
        if conn is not None:
            conn.close()
        error = _as_history_error(path, exc)
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


@dataclass(frozen=True)
class PostureSampleRow:
    """One aggregated window of posture (wall-clock epoch seconds; no pixels, no landmarks)."""

    t: float
    """Window start, seconds since the Unix epoch."""
    window_s: float
    state: str
    """The state that held for most of the window."""
    upright_s: float
    slouched_s: float
    away_s: float
    unknown_s: float
    forward_head_mean: float | None
    thoracic_rounding_mean: float | None
    activity: str | None
    """The activity that held for most of the window, None when not yet known."""
    seated_s: float | None
    """Seated time since the last real break, at the window's end."""


# The posture_samples columns a window writes (beside session_id and t): one list for the
# insert and the in-place update of the window still filling.
_SAMPLE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(PostureSampleRow) if f.name != "t"
)


def _sample_values(row: PostureSampleRow) -> tuple[object, ...]:
    return tuple(getattr(row, name) for name in _SAMPLE_FIELDS)


@dataclass(frozen=True)
class RepRecord:
    """One repetition of a set; times are seconds from the set's start."""

    index: int
    start_s: float
    end_s: float
    phase_s: tuple[float, ...]
    range: float | None
    partial: bool
    side: str | None = None


@dataclass(frozen=True)
class SetRecord:
    """A finished set, from the camera or logged by hand."""

    t: float
    """When the set started, seconds since the Unix epoch."""
    movement: str
    reps: int
    source: str = "camera"
    duration_s: float | None = None
    per_side_left: int | None = None
    per_side_right: int | None = None
    mean_phase_s: float | None = None
    """Mean length of one phase over the full reps (tempo; about 2 s is the aim), seconds."""
    partial_reps: int = 0
    feedback: tuple[str, ...] = ()
    prompt_id: int | None = None
    recognised: bool = False
    reps_detail: tuple[RepRecord, ...] = ()
    fatigue_before: int | None = None
    fatigue_after: int | None = None


SessionRef = int
"""A session as the writer knows it (not its database id, which only the writer thread sees)."""


@dataclass(frozen=True)
class _StartSession:
    ref: SessionRef
    source: str
    started_at: float


@dataclass(frozen=True)
class _EndSession:
    ref: SessionRef
    ended_at: float


@dataclass(frozen=True)
class _Sample:
    ref: SessionRef
    row: PostureSampleRow
    replace: bool = False
    """Update the session's window that starts at row.t, if logged; else insert."""


@dataclass(frozen=True)
class _Prompt:
    ref: SessionRef
    prompt_id: int
    t: float
    reason: str
    movement: str


@dataclass(frozen=True)
class _Resolve:
    ref: SessionRef
    prompt_id: int
    outcome: str
    outcome_t: float
    correction_s: float | None


@dataclass(frozen=True)
class _Set:
    ref: SessionRef | None
    record: SetRecord


@dataclass(frozen=True)
class _Note:
    t: float
    text: str


@dataclass(frozen=True)
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class _Stop:
    pass


_Op = _StartSession | _EndSession | _Sample | _Prompt | _Resolve | _Set | _Note | _Flush | _Stop
_Record = _StartSession | _EndSession | _Sample | _Prompt | _Resolve | _Set | _Note
"""What the writer writes (the other ops only steer it)."""


class SessionLog(ClosesOnExit):
    """The history database, written by one background thread.

    Every `add_*`/`start_session`/`end_session` call only puts a small record on a queue,
    so the frame loop never waits for the disk. The writer commits about once per
    `commit_interval_s`: a killed process loses at most that much, and WAL keeps the
    file consistent whatever happens. Half a second, with the recorder's half-second
    checkpoints of the window it is filling, keeps what kill -9 loses under 2 s.

    When a write fails (a full disk, a read-only file, a damaged database) the records
    stay in memory and the write is tried again every `retry_interval_s`; `status` says
    what is wrong meanwhile. What still cannot be written at `close` goes to a rescue
    file next to the database, which the next open of the database adds to it.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        commit_interval_s: float = 0.5,
        retry_interval_s: float = RETRY_INTERVAL_S,
        keep_trying: bool = False,
    ) -> None:
        """Open (create, migrate, recover) the database and start the writer.

        Raises:
            HistoryError: the database cannot be opened; with `keep_trying` the log
                starts anyway, says why in `status` and keeps trying to open it.
        """
        self.path = default_db_path() if path is None else path
        self.commit_interval_s = commit_interval_s
        self.retry_interval_s = retry_interval_s
        self._failure: str | None = None
        recovered: list[int] = []
        try:
            with open_database(self.path, recover=False) as conn:
                recovered = close_dangling_sessions(conn)
        except (HistoryError, sqlite3.Error) as exc:
            error = _as_history_error(self.path, exc)
            if not keep_trying:
                raise error from None
            self._failure = str(error)
        if keep_trying and self._failure is None:
            # Say it from the start, even where the first write comes late (a replay is
            # logged when it ends): a read-only file or folder, or a full disk.
            self._failure = filesystem_problem(self.path)
        self.recovered_sessions = recovered
        """Sessions a crashed run had left open, closed on opening."""
        self.dropped = 0
        """Records dropped because too many were waiting for the disk."""
        self.imported = 0
        """Records added from rescue files of earlier runs."""
        self._error: str | None = None
        self._error_lock = threading.Lock()
        self._unsaved: str | None = None
        self._pending: list[_Record] = []
        """What the writer has taken off the queue and not written yet (only it changes it)."""
        self._refs = itertools.count(1)
        self._queue: queue.Queue[_Op] = queue.Queue()  # bounded by _put, for data rows only
        self._closed = False
        self._conn: sqlite3.Connection | None = None
        self._writer: _Writer | None = None
        self._identity: tuple[int, int] | None = None
        self._unreadable_rescues: set[Path] = set()
        # Daemon: a caller that forgets close() must not hang the interpreter at exit.
        self._thread = threading.Thread(target=self._run, name="coach-session-log", daemon=True)
        self._thread.start()

    @property
    def status(self) -> str | None:
        """One line while the history cannot be written (for the dashboard), else None."""
        failure = self._failure
        if failure is None:
            if not self.dropped:
                return None
            return f"{_records(self.dropped)} dropped: the disk could not keep up"
        dropped = f"; {_records(self.dropped)} dropped" if self.dropped else ""
        return (
            f"not saved: {failure}; {_records(self._waiting())} kept in memory, "
            f"retrying every {self.retry_interval_s:g} s{dropped}"
        )

    def _waiting(self) -> int:
        """Records not written yet: queued, or taken by the writer."""
        return self._queue.qsize() + len(self._pending)

    # Producer side: called from the frame loop, never blocks.

    def _put(self, op: _Op) -> None:
        if self._closed:
            raise HistoryError("the session log is closed")
        # Only data rows are ever dropped: losing a session's start would orphan its rows.
        droppable = isinstance(op, _Sample | _Prompt | _Resolve | _Set | _Note)
        if droppable and self._waiting() >= _QUEUE_LIMIT:
            if not self.dropped:
                self._note_error("the disk could not keep up; some records were dropped")
            self.dropped += 1
            return
        self._queue.put_nowait(op)

    def start_session(self, source: str, started_at: float) -> SessionRef:
        """Open a session (epoch seconds); returns the handle the other calls take."""
        ref = next(self._refs)
        self._put(_StartSession(ref, source, started_at))
        return ref

    def end_session(self, session: SessionRef, ended_at: float) -> None:
        """Close a session cleanly."""
        self._put(_EndSession(session, ended_at))

    def add_sample(self, session: SessionRef, row: PostureSampleRow) -> None:
        """Record one aggregated posture window."""
        self._put(_Sample(session, row))

    def save_sample(self, session: SessionRef, row: PostureSampleRow) -> None:
        """Record a posture window, replacing this session's earlier row for the same window."""
        self._put(_Sample(session, row, replace=True))

    def add_prompt(
        self, session: SessionRef, prompt_id: int, t: float, reason: str, movement: str
    ) -> None:
        """Record a prompt (its outcome comes later with `resolve_prompt`)."""
        self._put(_Prompt(session, prompt_id, t, reason, movement))

    def resolve_prompt(
        self,
        session: SessionRef,
        prompt_id: int,
        outcome: str,
        outcome_t: float,
        correction_s: float | None = None,
    ) -> None:
        """Record what happened after a prompt."""
        self._put(_Resolve(session, prompt_id, outcome, outcome_t, correction_s))

    def add_set(self, session: SessionRef | None, record: SetRecord) -> None:
        """Record a set with its reps and any fatigue ratings (session None: logged by hand)."""
        self._put(_Set(session, record))

    def add_note(self, t: float, text: str) -> None:
        """Record a free-text note (discomfort, ease)."""
        self._put(_Note(t, text))

    def flush(self, timeout_s: float = 10.0) -> None:
        """Write everything queued so far now, and wait until it is committed.

        Raises:
            HistoryError: the writer failed (the records are kept and retried), or did
                not finish in time.
        """
        marker = _Flush()
        self._put(marker)
        if not marker.done.wait(timeout_s):
            raise HistoryError(f"the history writer did not commit within {timeout_s:g} s")
        failure = self._failure
        if failure is not None:
            raise HistoryError(f"cannot write the history database {self.path}: {failure}")
        self._raise_error()

    def close(self, timeout_s: float = 10.0) -> None:
        """Commit everything queued and stop the writer (idempotent).

        Raises:
            HistoryError: records could not be written (saying where they were rescued),
                or the writer did not finish in time.
        """
        if self._closed:
            return
        self._queue.put(_Stop())
        self._closed = True
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise HistoryError(f"the history writer did not finish within {timeout_s:g} s")
        if self._unsaved is not None:
            raise HistoryError(self._unsaved)
        self._raise_error()

    def _raise_error(self) -> None:
        """Report a writer failure once (the writer keeps going with later records)."""
        with self._error_lock:
            error, self._error = self._error, None
        if error is not None:
            raise HistoryError(f"cannot write the history database {self.path}: {error}")

    # Writer side: only the writer thread runs below.

    def _run(self) -> None:
        waiting: list[_Flush] = []
        # When to write what is pending: a commit interval after the first record, or a
        # retry interval after a failure; None while nothing is pending.
        due: float | None = None
        stop = False
        try:
            self._connect()
            while not stop:
                timeout_s = None if due is None else max(0.0, due - time.monotonic())
                try:
                    op: _Op | None = self._queue.get(timeout=timeout_s)
                except queue.Empty:
                    op = None
                if isinstance(op, _Stop):
                    stop = True
                elif isinstance(op, _Flush):
                    waiting.append(op)
                elif op is not None:
                    self._pending.append(op)
                    if due is None:
                        # A session's start is written at once: trouble shows from the start.
                        wait_s = 0.0 if isinstance(op, _StartSession) else self.commit_interval_s
                        due = time.monotonic() + wait_s
                flush = bool(waiting) and self._queue.empty()
                if (
                    self._pending
                    and not stop
                    and (flush or (due is not None and time.monotonic() >= due))
                ):
                    self._pending = self._attempt(self._pending)
                    due = None if not self._pending else time.monotonic() + self.retry_interval_s
                if flush or not self._pending:
                    for marker in waiting:
                        marker.done.set()
                    waiting.clear()
        finally:
            if self._pending:
                self._pending = self._attempt(self._pending)  # the last try
            if self._pending:
                self._unsaved = self._rescue(self._pending)
            for marker in waiting:
                marker.done.set()
            self._disconnect()

    def _connect(self) -> bool:
        """(Re)open the database for writing and add any rescue files; False on failure."""
        try:
            conn = _connect_raw(self.path)
        except HistoryError as exc:
            self._failure = str(exc)
            return False
        try:
            migrate(conn)
            close_dangling_sessions(conn)
            identity = _file_identity(self.path)
            if self._writer is None:
                self._writer = _Writer(conn)
            else:
                # Sessions written to a file since moved aside are written again when used.
                self._writer.reconnect(conn, same_file=identity == self._identity)
            self._identity = identity
            self._conn = conn
            self._import_rescues(conn)
        except (HistoryError, sqlite3.Error) as exc:
            self._disconnect(conn)
            self._failure = str(_as_history_error(self.path, exc))
            return False
        return True

    def _disconnect(self, conn: sqlite3.Connection | None = None) -> None:
        for c in {id(x): x for x in (conn, self._conn) if x is not None}.values():
            with contextlib.suppress(sqlite3.Error):
                c.close()
        self._conn = None

    def _attempt(self, batch: list[_Record]) -> list[_Record]:
        """Write a batch in one short transaction; returns what is left (all of it on failure)."""
        if self._conn is None and not self._connect():
            return batch
        assert self._writer is not None  # made by the first successful connect
        try:
            failures = self._writer.write(batch)
        except sqlite3.Error as exc:
            self._failure = describe_failure(self.path, exc)
            if _primary_code(exc) not in (_SQLITE_FULL, _SQLITE_BUSY, _SQLITE_LOCKED):
                # A read-only or damaged file may be fixed or replaced: open it afresh.
                self._disconnect()
            return batch
        self._failure = None
        if failures:
            self._note_error(failures[0])
        return []

    def _note_error(self, message: str) -> None:
        with self._error_lock:
            self._error = self._error or message

    # Rescue files: what could not be written when the coach stopped.

    def _rescue(self, batch: list[_Record]) -> str:
        """Save unwritten records to a rescue file; returns the one line that says so."""
        reason = self._failure or f"{self.path} could not be opened"
        what = f"{_records(len(batch))} could not be written to the history ({reason})"
        if self.dropped:
            what += f" and {self.dropped} were dropped"
        lines = [json.dumps({"format": RESCUE_FORMAT, "version": 1, "db": str(self.path)})]
        started = {op.ref for op in batch if isinstance(op, _StartSession)}
        used = {op.ref for op in batch if not isinstance(op, _Note) and op.ref is not None}
        writer = self._writer
        if writer is not None:
            for ref in sorted(used - started):
                start = writer.started(ref)
                if start is not None:
                    lines.append(json.dumps(_session_json(start, writer)))
        lines.extend(json.dumps(_op_json(op)) for op in batch)
        text = "\n".join(lines) + "\n"
        error: OSError | None = None
        for target in rescue_targets(self.path):
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            except OSError as exc:
                error = exc
                continue
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                error = exc
                with contextlib.suppress(OSError):
                    target.unlink()  # half a rescue file would be read as a whole one
                continue
            return (
                f"{what}; they were saved to {target}, and the next `coach run` or "
                "`coach log` that can write the history adds them to it"
            )
        detail = error.strerror if error is not None and error.strerror else str(error)
        return f"{what}, and could not be saved to a rescue file either ({detail}): they are lost"

    def _import_rescues(self, conn: sqlite3.Connection) -> None:
        """Add the rescue files earlier runs left for this database, then delete them."""
        for rescue in rescue_files(self.path):
            if rescue in self._unreadable_rescues:
                continue
            try:
                sessions, ops = read_rescue(rescue)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self._unreadable_rescues.add(rescue)
                self._note_error(f"the rescue file {rescue} cannot be read ({exc}); it was kept")
                continue
            importer = _Writer(conn)
            importer.adopt(sessions)
            failures = importer.write(ops)  # sqlite3.Error: kept for the next open
            self.imported += len(ops)
            try:
                rescue.unlink()
            except OSError as exc:
                self._unreadable_rescues.add(rescue)  # added: never add it twice
                self._note_error(f"the rescue file {rescue} was added but not deleted ({exc})")
            if failures:
                self._note_error(f"from {rescue.name}: {failures[0]}")


def _records(n: int) -> str:
    return f"{n} record{'' if n == 1 else 's'}"


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _rescue_stem(path: Path) -> str:
    """The rescue name of a database outside its folder (in the temp folder)."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return f"coach-rescue-{digest}"


def rescue_targets(path: Path) -> list[Path]:
    """Where a rescue file goes: next to the database, else in the temp folder."""
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    return [
        path.with_name(f"{path.name}.rescue-{stamp}.jsonl"),
        Path(tempfile.gettempdir()) / f"{_rescue_stem(path)}-{stamp}.jsonl",
    ]


def rescue_files(path: Path) -> list[Path]:
    """Rescue files waiting to be added to the database at `path`, oldest first."""
    found = list(path.parent.glob(f"{glob.escape(path.name)}.rescue-*.jsonl"))
    in_temp = Path(tempfile.gettempdir()).glob(f"{_rescue_stem(path)}-*.jsonl")
    found += [p for p in in_temp if _ours(p)]
    return sorted(found, key=lambda p: p.name.rsplit("rescue-", 1)[-1])


def _ours(path: Path) -> bool:
    """Whether a file in the shared temp folder is ours alone (another user's is not read)."""
    if os.name != "posix":
        return True
    try:
        st = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


_OP_NAMES: Final[dict[type, str]] = {
    _StartSession: "start",
    _EndSession: "end",
    _Sample: "sample",
    _Prompt: "prompt",
    _Resolve: "resolve",
    _Set: "set",
    _Note: "note",
}


def _op_json(op: _Record) -> dict[str, Any]:
    return {"op": _OP_NAMES[type(op)], **dataclasses.asdict(op)}


def _session_json(start: _StartSession, writer: _Writer) -> dict[str, Any]:
    """A session already in the database that rescued records belong to."""
    return {
        "op": "session",
        "ref": start.ref,
        "source": start.source,
        "started_at": start.started_at,
        "session_id": writer.session_id(start.ref),
    }


def _op_from_json(data: dict[str, Any]) -> _Record:
    kind = data.pop("op")
    if kind == "sample":
        return _Sample(int(data["ref"]), PostureSampleRow(**data["row"]))
    if kind == "set":
        raw = dict(data["record"])
        raw["feedback"] = tuple(raw["feedback"])
        raw["reps_detail"] = tuple(
            RepRecord(**{**rep, "phase_s": tuple(rep["phase_s"])}) for rep in raw["reps_detail"]
        )
        return _Set(data["ref"], SetRecord(**raw))
    kinds: dict[str, type[_Record]] = {
        "start": _StartSession,
        "end": _EndSession,
        "prompt": _Prompt,
        "resolve": _Resolve,
        "note": _Note,
    }
    return kinds[kind](**data)


def read_rescue(
    path: Path,
) -> tuple[list[tuple[_StartSession, int | None]], list[_Record]]:
    """A rescue file's sessions already in the database (with their ids) and its records.

    Raises:
        OSError, ValueError, KeyError, TypeError: the file cannot be read or is not a rescue.
    """
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header = json.loads(lines[0])
    if header.get("format") != RESCUE_FORMAT:
        raise ValueError("not a coach rescue file")
    sessions: list[tuple[_StartSession, int | None]] = []
    ops: list[_Record] = []
    for line in lines[1:]:
        data = json.loads(line)
        if data.get("op") == "session":
            start = _StartSession(int(data["ref"]), str(data["source"]), float(data["started_at"]))
            sid = data.get("session_id")
            sessions.append((start, None if sid is None else int(sid)))
        else:
            ops.append(_op_from_json(data))
    return sessions, ops


class _Writer:
    """Writes batches of queued records, one transaction per batch, one savepoint per record."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._session_ids: dict[SessionRef, int] = {}
        self._starts: dict[SessionRef, _StartSession] = {}

    def reconnect(self, conn: sqlite3.Connection, *, same_file: bool) -> None:
        """Write on a new connection; another file gets its sessions again when used."""
        self.conn = conn
        if not same_file:
            self._session_ids.clear()

    def started(self, ref: SessionRef) -> _StartSession | None:
        """How a session was started, if it was."""
        return self._starts.get(ref)

    def session_id(self, ref: SessionRef) -> int | None:
        """A session's id in the database, if it was written."""
        return self._session_ids.get(ref)

    def adopt(self, sessions: list[tuple[_StartSession, int | None]]) -> None:
        """Sessions of a rescue file: reuse their rows when still there, else write them anew."""
        for start, session_id in sessions:
            self._starts[start.ref] = start
            if session_id is None:
                continue
            row = self.conn.execute(
                "SELECT 1 FROM sessions WHERE id = ? AND started_at = ? AND source = ?",
                (session_id, start.started_at, start.source),
            ).fetchone()
            if row is not None:
                self._session_ids[start.ref] = session_id

    def write(self, batch: list[_Record]) -> list[str]:
        """Apply and commit a batch; returns why any single record was refused.

        A refused record (a constraint, an unknown session) is rolled back alone so the
        rest of the batch is kept. Raises sqlite3.Error when the batch cannot be written
        (locked, disk full, read-only, damaged); nothing of it is then kept.
        """
        failures: list[str] = []
        known = dict(self._session_ids)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for op in batch:
                self.conn.execute("SAVEPOINT record")
                try:
                    self._apply(op)
                except (sqlite3.IntegrityError, sqlite3.InterfaceError) as exc:
                    self.conn.execute("ROLLBACK TO record")
                    failures.append(f"{type(op).__name__.lstrip('_').lower()} refused: {exc}")
                self.conn.execute("RELEASE record")
            self.conn.execute("COMMIT")
        except BaseException:
            self._session_ids = known  # rows inserted by the failed transaction are gone
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise
        return failures

    def _session(self, ref: SessionRef) -> int:
        if ref in self._session_ids:
            return self._session_ids[ref]
        start = self._starts.get(ref)
        if start is None:
            raise sqlite3.IntegrityError(f"session {ref} was never started")
        return self._insert_session(start)  # its row was in a file since moved aside

    def _insert_session(self, op: _StartSession) -> int:
        cur = self.conn.execute(
            "INSERT INTO sessions (started_at, source, closed_cleanly, pid) VALUES (?, ?, 0, ?)",
            (op.started_at, op.source, os.getpid()),
        )
        self._starts[op.ref] = op
        self._session_ids[op.ref] = int(cur.lastrowid or 0)
        return self._session_ids[op.ref]

    def _apply(self, op: _Record) -> None:
        c = self.conn
        if isinstance(op, _StartSession):
            self._insert_session(op)
        elif isinstance(op, _EndSession):
            c.execute(
                "UPDATE sessions SET ended_at = ?, closed_cleanly = 1 WHERE id = ?",
                (op.ended_at, self._session(op.ref)),
            )
        elif isinstance(op, _Sample):
            r = op.row
            if op.replace and self._replace_sample(op):
                return
            c.execute(
                f"INSERT INTO posture_samples (session_id, t, {', '.join(_SAMPLE_FIELDS)}) "
                f"VALUES (?, ?{', ?' * len(_SAMPLE_FIELDS)})",
                (self._session(op.ref), r.t, *_sample_values(r)),
            )
        elif isinstance(op, _Prompt):
            c.execute(
                "INSERT INTO prompts (session_id, prompt_id, t, reason, movement) "
                "VALUES (?, ?, ?, ?, ?)",
                (self._session(op.ref), op.prompt_id, op.t, op.reason, op.movement),
            )
        elif isinstance(op, _Resolve):
            # Prompt ids restart with each run, so resolve the latest open one with this id.
            c.execute(
                """UPDATE prompts SET outcome = ?, outcome_t = ?, correction_s = ?
                   WHERE id = (SELECT max(id) FROM prompts
                               WHERE session_id = ? AND prompt_id = ? AND outcome IS NULL)""",
                (
                    op.outcome,
                    op.outcome_t,
                    op.correction_s,
                    self._session(op.ref),
                    op.prompt_id,
                ),
            )
        elif isinstance(op, _Set):
            self._insert_set(op)
        elif isinstance(op, _Note):
            c.execute("INSERT INTO notes (t, text) VALUES (?, ?)", (op.t, op.text))

    def _replace_sample(self, op: _Sample) -> bool:
        """Update the window starting at op.row.t in place; False when it is not logged yet."""
        r = op.row
        cur = self.conn.execute(
            f"UPDATE posture_samples SET {', '.join(f'{f} = ?' for f in _SAMPLE_FIELDS)} "
            "WHERE session_id = ? AND t = ?",
            (*_sample_values(r), self._session(op.ref), r.t),
        )
        return cur.rowcount > 0

    def _insert_set(self, op: _Set) -> None:
        r = op.record
        session_id = None if op.ref is None else self._session(op.ref)
        cur = self.conn.execute(
            """INSERT INTO sets (session_id, t, duration_s, movement, reps, per_side_left,
                   per_side_right, mean_phase_s, partial_reps, feedback, prompt_id, recognised,
                   source)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                session_id,
                r.t,
                r.duration_s,
                r.movement,
                r.reps,
                r.per_side_left,
                r.per_side_right,
                r.mean_phase_s,
                r.partial_reps,
                json.dumps(list(r.feedback)),
                r.prompt_id,
                int(r.recognised),
                r.source,
            ),
        )
        set_id = cur.lastrowid
        self.conn.executemany(
            """INSERT INTO reps (set_id, rep_index, start_s, end_s, phase_s, range, partial, side)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    set_id,
                    rep.index,
                    rep.start_s,
                    rep.end_s,
                    json.dumps(list(rep.phase_s)),
                    rep.range,
                    int(rep.partial),
                    rep.side,
                )
                for rep in r.reps_detail
            ],
        )
        if r.fatigue_before is not None or r.fatigue_after is not None:
            self.conn.execute(
                "INSERT INTO fatigue (t, set_id, before, after) VALUES (?, ?, ?, ?)",
                (r.t, set_id, r.fatigue_before, r.fatigue_after),
            )


def local_datetime(epoch_s: float) -> datetime.datetime:
    """An epoch time as an aware local date-time (reports and exports show local time)."""
    return datetime.datetime.fromtimestamp(epoch_s).astimezone()
