"""Provides the history writer: batches of queued records applied in one transaction each."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3

from coach.history.rows import (
    SAMPLE_FIELDS,
    AddNote,
    AddPrompt,
    AddSample,
    AddSet,
    EndSession,
    Record,
    ResolvePrompt,
    SessionRef,
    Sessions,
    StartSession,
    sample_values,
)


class BatchWriter:
    """Writes batches of queued records, one transaction per batch, one savepoint per record."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._session_ids: dict[SessionRef, int] = {}
        self._starts: dict[SessionRef, StartSession] = {}
        self._deleted: set[SessionRef] = set()
        """Sessions whose rows were deleted while they ran."""

    def reconnect(self, conn: sqlite3.Connection, *, same_file: bool) -> None:
        """Write on a new connection; another file gets its sessions again when used."""
        self.conn = conn
        if not same_file:
            self._session_ids.clear()

    def sessions_before(self, batch: list[Record]) -> Sessions:
        """The sessions started before `batch` that its records belong to, with their ids."""
        started = {op.ref for op in batch if isinstance(op, StartSession)}
        used = {op.ref for op in batch if not isinstance(op, AddNote) and op.ref is not None}
        return [
            (self._starts[ref], self._session_ids.get(ref))
            for ref in sorted(used - started)
            if ref in self._starts
        ]

    def adopt(self, sessions: Sessions) -> None:
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

    def write(self, batch: list[Record]) -> list[str]:
        """Apply and commit a batch; returns why any single record was refused.

        A refused record (a constraint, an unknown session) is rolled back alone so the
        rest of the batch is kept. Raises sqlite3.Error when the batch cannot be written
        (locked, disk full, read-only, damaged); nothing of it is then kept.
        """
        failures: list[str] = []
        known = dict(self._session_ids)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self._forget_deleted_sessions()
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

    def _forget_deleted_sessions(self) -> None:
        """Drop the ids of sessions whose rows are gone (`coach data --delete` while running):
        their records go to a new row rather than fail on the missing one."""
        if not self._session_ids:
            return
        ids = sorted(set(self._session_ids.values()))
        marks = ", ".join("?" * len(ids))
        present = {
            int(row[0])
            for row in self.conn.execute(f"SELECT id FROM sessions WHERE id IN ({marks})", ids)
        }
        for ref, session_id in list(self._session_ids.items()):
            if session_id not in present:
                del self._session_ids[ref]
                self._deleted.add(ref)

    def _session(self, ref: SessionRef, at: float | None = None) -> int:
        """The row id of a session; written anew when its row is gone (`at`: the time of the
        record that needs it, the new row's start when the history was deleted meanwhile)."""
        if ref in self._session_ids:
            return self._session_ids[ref]
        start = self._starts.get(ref)
        if start is None:
            raise sqlite3.IntegrityError(f"session {ref} was never started")
        if ref in self._deleted and at is not None:
            # What was recorded before the deletion stays deleted: the session goes on from here.
            start = StartSession(ref, start.source, max(start.started_at, at))
        self._deleted.discard(ref)
        return self._insert_session(start)  # its row was deleted, or in a file moved aside

    def _insert_session(self, op: StartSession) -> int:
        cur = self.conn.execute(
            "INSERT INTO sessions (started_at, source, closed_cleanly, pid) VALUES (?, ?, 0, ?)",
            (op.started_at, op.source, os.getpid()),
        )
        self._starts[op.ref] = op
        self._session_ids[op.ref] = int(cur.lastrowid or 0)
        return self._session_ids[op.ref]

    def _apply(self, op: Record) -> None:
        c = self.conn
        if isinstance(op, StartSession):
            self._insert_session(op)
        elif isinstance(op, EndSession):
            if op.ref in self._deleted:
                self._deleted.discard(op.ref)  # deleted, and nothing recorded since: no row
                return
            c.execute(
                "UPDATE sessions SET ended_at = ?, closed_cleanly = 1 WHERE id = ?",
                (op.ended_at, self._session(op.ref, op.ended_at)),
            )
        elif isinstance(op, AddSample):
            r = op.row
            if op.replace and self._replace_sample(op):
                return
            c.execute(
                f"INSERT INTO posture_samples (session_id, t, {', '.join(SAMPLE_FIELDS)}) "
                f"VALUES (?, ?{', ?' * len(SAMPLE_FIELDS)})",
                (self._session(op.ref, r.t), r.t, *sample_values(r)),
            )
        elif isinstance(op, AddPrompt):
            c.execute(
                "INSERT INTO prompts (session_id, prompt_id, t, reason, movement) "
                "VALUES (?, ?, ?, ?, ?)",
                (self._session(op.ref, op.t), op.prompt_id, op.t, op.reason, op.movement),
            )
        elif isinstance(op, ResolvePrompt):
            # Prompt ids restart with each run, so resolve the latest open one with this id.
            c.execute(
                """UPDATE prompts SET outcome = ?, outcome_t = ?, correction_s = ?
                   WHERE id = (SELECT max(id) FROM prompts
                               WHERE session_id = ? AND prompt_id = ? AND outcome IS NULL)""",
                (
                    op.outcome,
                    op.outcome_t,
                    op.correction_s,
                    self._session(op.ref, op.outcome_t),
                    op.prompt_id,
                ),
            )
        elif isinstance(op, AddSet):
            self._insert_set(op)
        elif isinstance(op, AddNote):
            c.execute("INSERT INTO notes (t, text) VALUES (?, ?)", (op.t, op.text))

    def _replace_sample(self, op: AddSample) -> bool:
        """Update the window starting at op.row.t in place; False when it is not logged yet."""
        r = op.row
        cur = self.conn.execute(
            f"UPDATE posture_samples SET {', '.join(f'{f} = ?' for f in SAMPLE_FIELDS)} "
            "WHERE session_id = ? AND t = ?",
            (*sample_values(r), self._session(op.ref, r.t), r.t),
        )
        return cur.rowcount > 0

    def _insert_set(self, op: AddSet) -> None:
        r = op.record
        session_id = None if op.ref is None else self._session(op.ref, r.t)
        if op.replace and session_id is not None:
            # The set's checkpoint goes with its reps and ratings (fatigue would only lose
            # its set_id), before the newer one is written.
            earlier = "SELECT id FROM sets WHERE session_id = ?"
            for table, column in (("fatigue", "set_id"), ("reps", "set_id"), ("sets", "id")):
                self.conn.execute(
                    f"DELETE FROM {table} WHERE {column} IN ({earlier})", (session_id,)
                )
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
