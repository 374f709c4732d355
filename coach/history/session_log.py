"""Provides the session log: the history written by a background thread, never blocking the caller."""

from __future__ import annotations

import contextlib
import itertools
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from coach.errors import HistoryError
from coach.history.failures import (
    SQLITE_BUSY,
    SQLITE_FULL,
    SQLITE_LOCKED,
    as_history_error,
    describe_failure,
    filesystem_problem,
    primary_code,
)
from coach.history.rescue import read_rescue, rescue_files, rescue_or_lose
from coach.history.rows import (
    AddNote,
    AddPrompt,
    AddSample,
    AddSet,
    EndSession,
    PostureSampleRow,
    Record,
    ResolvePrompt,
    SessionRef,
    SetRecord,
    StartSession,
)
from coach.history.schema import migrate
from coach.history.store import (
    check_intact,
    close_dangling_sessions,
    connect,
    default_db_path,
    file_identity,
    open_database,
)
from coach.history.writer import BatchWriter
from coach.safe.closing import ClosesOnExit

# Records waiting for the disk (queued or kept after a failed write) are bounded: about
# three days of posture windows. Past that, data rows are dropped, and the user is told.
_QUEUE_LIMIT: Final = 50_000
RETRY_INTERVAL_S: Final = 5.0
"""How often a failed write is tried again while the coach runs."""


@dataclass(frozen=True)
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class _Stop:
    pass


_Op = Record | _Flush | _Stop
"""What the queue carries: records to write, and the two that only steer the writer."""


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
            error = as_history_error(self.path, exc)
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
        self._pending: list[Record] = []
        """What the writer has taken off the queue and not written yet (only it changes it)."""
        self._refs = itertools.count(1)
        self._queue: queue.Queue[_Op] = queue.Queue()  # bounded by _put, for data rows only
        self._closed = False
        self._conn: sqlite3.Connection | None = None
        self._writer: BatchWriter | None = None
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
        droppable = isinstance(op, AddSample | AddPrompt | ResolvePrompt | AddSet | AddNote)
        if droppable and self._waiting() >= _QUEUE_LIMIT:
            if not self.dropped:
                self._note_error("the disk could not keep up; some records were dropped")
            self.dropped += 1
            return
        self._queue.put_nowait(op)

    def start_session(self, source: str, started_at: float) -> SessionRef:
        """Open a session (epoch seconds); returns the handle the other calls take."""
        ref = next(self._refs)
        self._put(StartSession(ref, source, started_at))
        return ref

    def end_session(self, session: SessionRef, ended_at: float) -> None:
        """Close a session cleanly."""
        self._put(EndSession(session, ended_at))

    def add_sample(self, session: SessionRef, row: PostureSampleRow) -> None:
        """Record one aggregated posture window."""
        self._put(AddSample(session, row))

    def save_sample(self, session: SessionRef, row: PostureSampleRow) -> None:
        """Record a posture window, replacing this session's earlier row for the same window."""
        self._put(AddSample(session, row, replace=True))

    def add_prompt(
        self, session: SessionRef, prompt_id: int, t: float, reason: str, movement: str
    ) -> None:
        """Record a prompt (its outcome comes later with `resolve_prompt`)."""
        self._put(AddPrompt(session, prompt_id, t, reason, movement))

    def resolve_prompt(
        self,
        session: SessionRef,
        prompt_id: int,
        outcome: str,
        outcome_t: float,
        correction_s: float | None = None,
    ) -> None:
        """Record what happened after a prompt."""
        self._put(ResolvePrompt(session, prompt_id, outcome, outcome_t, correction_s))

    def add_set(self, session: SessionRef | None, record: SetRecord) -> None:
        """Record a set with its reps and any fatigue ratings (session None: logged by hand)."""
        self._put(AddSet(session, record))

    def save_set(self, session: SessionRef, record: SetRecord) -> None:
        """Record a set in progress, replacing this session's set logged before (its checkpoint)."""
        self._put(AddSet(session, record, replace=True))

    def add_note(self, t: float, text: str) -> None:
        """Record a free-text note (discomfort, ease)."""
        self._put(AddNote(t, text))

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
                        wait_s = 0.0 if isinstance(op, StartSession) else self.commit_interval_s
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
            conn = connect(self.path)
        except HistoryError as exc:
            self._failure = str(exc)
            return False
        try:
            check_intact(conn, self.path)
            migrate(conn)
            close_dangling_sessions(conn)
            identity = file_identity(self.path)
            if self._writer is None:
                self._writer = BatchWriter(conn)
            else:
                # Sessions written to a file since moved aside are written again when used.
                self._writer.reconnect(conn, same_file=identity == self._identity)
            self._identity = identity
            self._conn = conn
            self._import_rescues(conn)
        except (HistoryError, sqlite3.Error) as exc:
            self._disconnect(conn)
            self._failure = str(as_history_error(self.path, exc))
            return False
        return True

    def _disconnect(self, conn: sqlite3.Connection | None = None) -> None:
        for c in {id(x): x for x in (conn, self._conn) if x is not None}.values():
            with contextlib.suppress(sqlite3.Error):
                c.close()
        self._conn = None

    def _attempt(self, batch: list[Record]) -> list[Record]:
        """Write a batch in one short transaction; returns what is left (all of it on failure)."""
        if self._conn is None and not self._connect():
            return batch
        assert self._writer is not None  # made by the first successful connect
        try:
            failures = self._writer.write(batch)
        except sqlite3.Error as exc:
            self._failure = describe_failure(self.path, exc)
            if primary_code(exc) not in (SQLITE_FULL, SQLITE_BUSY, SQLITE_LOCKED):
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

    def _rescue(self, batch: list[Record]) -> str:
        """Save unwritten records to a rescue file; returns the one line that says so."""
        reason = self._failure or f"{self.path} could not be opened"
        what = f"{_records(len(batch))} could not be written to the history ({reason})"
        if self.dropped:
            what += f" and {self.dropped} were dropped"
        sessions = [] if self._writer is None else self._writer.sessions_before(batch)
        return rescue_or_lose(self.path, sessions, batch, what)

    def _import_rescues(self, conn: sqlite3.Connection) -> None:
        """Add the rescue files earlier runs left for this database, then delete them."""
        for rescue in rescue_files(self.path):
            if rescue in self._unreadable_rescues:
                continue
            try:
                sessions, ops = read_rescue(rescue)
            except (HistoryError, OSError, ValueError, KeyError, TypeError) as exc:
                self._unreadable_rescues.add(rescue)
                self._note_error(f"the rescue file {rescue} cannot be read ({exc}); it was kept")
                continue
            importer = BatchWriter(conn)
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
