"""Provides the session log: a versioned SQLite history written by one background thread."""

from __future__ import annotations

import contextlib
import datetime
import itertools
import json
import os
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from coach.errors import CoachError

DB_FILENAME: Final = "coach.sqlite3"
STATES: Final = ("upright", "slouched", "away", "unknown")
OUTCOMES: Final = ("done", "snoozed", "skipped", "ignored")
ACTIVITIES: Final = ("still", "moving", "away")
SET_SOURCES: Final = ("camera", "manual")
TABLES: Final = ("sessions", "posture_samples", "prompts", "sets", "reps", "fatigue", "notes")
"""Every table, parents before children (the order export and delete walk them)."""

# A full queue means the disk has stalled for minutes; dropping rows beats stalling frames.
_QUEUE_LIMIT: Final = 50_000
# How long SQLite waits for another process's write lock before reporting "locked".
_BUSY_TIMEOUT_MS: Final = 5_000


class HistoryError(CoachError):
    """The history database cannot be opened, read or written."""


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


def _connect_raw(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with our pragmas."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(f"cannot open the history database {path}: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        # WAL: readers never block the writer and a killed process never corrupts the file;
        # NORMAL: a commit survives a process crash (only a power cut can lose the last one).
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise HistoryError(
            f"{path} is not a usable coach history database ({exc}); move it aside and retry"
        ) from None
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
                raise HistoryError(
                    f"cannot upgrade the history database to v{step.version}: {exc}"
                ) from None
            current = step.version
    return current


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
        except sqlite3.DatabaseError as exc:
            raise HistoryError(
                f"{where} is not a usable coach history database ({exc}); move it aside and retry"
            ) from None
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


class SessionLog:
    """The history database, written by one background thread.

    Every `add_*`/`start_session`/`end_session` call only puts a small record on a queue,
    so the frame loop never waits for the disk. The writer commits about once per
    `commit_interval_s`: a killed process loses at most that much, and WAL keeps the
    file consistent whatever happens. Half a second, with the recorder's half-second
    checkpoints of the window it is filling, keeps what kill -9 loses under 2 s.
    """

    def __init__(self, path: Path | None = None, *, commit_interval_s: float = 0.5) -> None:
        self.path = default_db_path() if path is None else path
        self.commit_interval_s = commit_interval_s
        with open_database(self.path, recover=False) as conn:
            recovered = close_dangling_sessions(conn)
        self.recovered_sessions = recovered
        """Sessions a crashed run had left open, closed on opening."""
        self.dropped = 0
        """Records dropped because the queue was full (a stalled disk)."""
        self._error: str | None = None
        self._error_lock = threading.Lock()
        self._last_retry_error: str | None = None
        self._refs = itertools.count(1)
        self._queue: queue.Queue[_Op] = queue.Queue()  # bounded by _put, for data rows only
        self._closed = False
        # Daemon: a caller that forgets close() must not hang the interpreter at exit.
        self._thread = threading.Thread(target=self._run, name="coach-session-log", daemon=True)
        self._thread.start()

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Producer side: called from the frame loop, never blocks.

    def _put(self, op: _Op) -> None:
        if self._closed:
            raise HistoryError("the session log is closed")
        # Only data rows are ever dropped: losing a session's start would orphan its rows.
        droppable = isinstance(op, _Sample | _Prompt | _Resolve | _Set | _Note)
        if droppable and self._queue.qsize() >= _QUEUE_LIMIT:
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
        """Wait until everything queued so far is committed.

        Raises:
            HistoryError: the writer failed, or did not finish in time.
        """
        marker = _Flush()
        self._put(marker)
        if not marker.done.wait(timeout_s):
            raise HistoryError(f"the history writer did not commit within {timeout_s:g} s")
        self._raise_error()

    def close(self, timeout_s: float = 10.0) -> None:
        """Commit everything queued and stop the writer (idempotent)."""
        if self._closed:
            return
        self._queue.put(_Stop())
        self._closed = True
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise HistoryError(f"the history writer did not finish within {timeout_s:g} s")
        self._raise_error()

    def _raise_error(self) -> None:
        """Report a writer failure once (the writer keeps going with later records)."""
        with self._error_lock:
            error, self._error = self._error, None
        if error is not None:
            raise HistoryError(f"cannot write the history database {self.path}: {error}")

    # Writer side: only the writer thread runs below.

    def _run(self) -> None:
        try:
            conn = _connect_raw(self.path)
        except HistoryError as exc:
            self._note_error(str(exc))
            self._drain_after_failure()
            return
        writer = _Writer(conn)
        batch: list[_Op] = []
        waiting: list[_Flush] = []
        deadline = time.monotonic() + self.commit_interval_s
        stop = False
        try:
            while not stop:
                op: _Op | None
                try:
                    timeout_s = max(0.0, deadline - time.monotonic()) if batch else None
                    op = self._queue.get(timeout=timeout_s)
                except queue.Empty:
                    op = None
                if isinstance(op, _Stop):
                    stop = True
                elif isinstance(op, _Flush):
                    waiting.append(op)
                elif op is not None:
                    if not batch:
                        deadline = time.monotonic() + self.commit_interval_s
                    batch.append(op)
                due = time.monotonic() >= deadline or (waiting and self._queue.empty())
                if batch and due:
                    batch = self._write(writer, batch)
                    deadline = time.monotonic() + self.commit_interval_s
                if not batch:
                    for marker in waiting:
                        marker.done.set()
                    waiting.clear()
        finally:
            if batch:
                batch = self._write(writer, batch)
            if batch:
                self._note_error(
                    f"{len(batch)} records could not be written ({self._last_retry_error})"
                )
            for marker in waiting:
                marker.done.set()
            conn.close()

    def _write(self, writer: _Writer, batch: list[_Op]) -> list[_Op]:
        """Write a batch in one short transaction; returns what is left to retry (if locked)."""
        try:
            failures = writer.write(batch)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                # Another process held the write lock past the busy timeout: retry next round.
                self._last_retry_error = str(exc)
                return batch
            self._note_error(f"{len(batch)} records lost: {exc}")  # disk full, I/O error
            return []
        except sqlite3.Error as exc:
            self._note_error(f"{len(batch)} records lost: {exc}")
            return []
        if failures:
            self._note_error(failures[0])
        return []

    def _note_error(self, message: str) -> None:
        with self._error_lock:
            self._error = self._error or message

    def _drain_after_failure(self) -> None:
        while True:
            op = self._queue.get()
            if isinstance(op, _Flush):
                op.done.set()
            if isinstance(op, _Stop):
                return


class _Writer:
    """Writes batches of queued records, one transaction per batch, one savepoint per record."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._session_ids: dict[SessionRef, int] = {}

    def write(self, batch: list[_Op]) -> list[str]:
        """Apply and commit a batch; returns why any single record was refused.

        A refused record (a constraint, an unknown session) is rolled back alone so the
        rest of the batch is kept. Raises sqlite3.OperationalError when the lock is busy.
        """
        failures: list[str] = []
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
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        return failures

    def _session(self, ref: SessionRef) -> int:
        try:
            return self._session_ids[ref]
        except KeyError:
            raise sqlite3.IntegrityError(f"session {ref} was never started") from None

    def _apply(self, op: _Op) -> None:
        c = self.conn
        if isinstance(op, _StartSession):
            cur = c.execute(
                "INSERT INTO sessions (started_at, source, closed_cleanly, pid) VALUES (?, ?, 0, ?)",
                (op.started_at, op.source, os.getpid()),
            )
            self._session_ids[op.ref] = int(cur.lastrowid or 0)
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
                """INSERT INTO posture_samples (session_id, t, window_s, state, upright_s,
                       slouched_s, away_s, unknown_s, forward_head_mean, thoracic_rounding_mean,
                       activity, seated_s)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    self._session(op.ref),
                    r.t,
                    r.window_s,
                    r.state,
                    r.upright_s,
                    r.slouched_s,
                    r.away_s,
                    r.unknown_s,
                    r.forward_head_mean,
                    r.thoracic_rounding_mean,
                    r.activity,
                    r.seated_s,
                ),
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
            """UPDATE posture_samples SET window_s = ?, state = ?, upright_s = ?, slouched_s = ?,
                   away_s = ?, unknown_s = ?, forward_head_mean = ?, thoracic_rounding_mean = ?,
                   activity = ?, seated_s = ?
               WHERE session_id = ? AND t = ?""",
            (
                r.window_s,
                r.state,
                r.upright_s,
                r.slouched_s,
                r.away_s,
                r.unknown_s,
                r.forward_head_mean,
                r.thoracic_rounding_mean,
                r.activity,
                r.seated_s,
                self._session(op.ref),
                r.t,
            ),
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
