"""Provides the history's schema: its tables, the migrations between versions, and their runner."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from coach.errors import HistoryError
from coach.history.failures import describe_failure, history_error, is_damage
from coach.records import Activity, Outcome, PostureState

STATES: Final = tuple(PostureState)
OUTCOMES: Final = tuple(Outcome)
ACTIVITIES: Final = tuple(Activity)
SET_SOURCES: Final = ("camera", "manual")
TABLES: Final = ("sessions", "posture_samples", "prompts", "sets", "reps", "fatigue", "notes")
"""Every table, parents before children (the order export and delete walk them)."""


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
