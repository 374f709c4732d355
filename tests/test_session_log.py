"""Tests for the session log: schema and migrations, the recorder sink, non-blocking writes, kill -9."""

from __future__ import annotations

import datetime
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from coach.actions.session_recorder import SessionRecorder
from coach.cli import main
from coach.errors import CoachError, HistoryError
from coach.history.rows import PostureSampleRow, SetRecord
from coach.history.schema import MIGRATIONS, SCHEMA_VERSION, TABLES, migrate
from coach.history.session_log import SessionLog
from coach.history.store import connect, open_database
from coach.records import Nudge, PromptResolved
from tests.conftest import REPO
from tests.kill_writer import fake_set, fake_snapshot

WALL_START = datetime.datetime(2026, 3, 2, 9, 0, 0).astimezone()


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def query(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Read with a plain connection (no migration, no recovery) and close it."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# Schema and migrations.


def test_new_database_is_current_wal_and_has_every_table(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "coach.sqlite3"
    with open_database(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert set(TABLES) <= names
        assert "activity" in columns(conn, "posture_samples")


def test_released_migrations_never_change() -> None:
    """A released step is history: a change needs a new migration, not an edit."""
    digests = [hashlib.sha256(m.sql.encode()).hexdigest()[:16] for m in MIGRATIONS]
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert digests[:2] == ["2c4806891ac53125", "384b92bd145b31c1"]


def make_v1_file(path: Path) -> None:
    """A real version-1 history as the first release wrote it, with a crashed session."""
    conn = connect(path)
    try:
        assert migrate(conn, target_version=1) == 1
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO sessions (id, started_at, ended_at, source, closed_cleanly) "
            "VALUES (1, 1000.0, 1100.0, '0', 1), (2, 2000.0, NULL, 'video.mp4', 0)"
        )
        conn.executemany(
            "INSERT INTO posture_samples (session_id, t, window_s, state, upright_s, slouched_s) "
            "VALUES (?, ?, 5, ?, ?, ?)",
            [
                (1, 1000.0, "upright", 5, 0),
                (2, 2000.0, "slouched", 1, 4),
                (2, 2005.0, "upright", 5, 0),
            ],
        )
        conn.execute(
            "INSERT INTO sets (session_id, t, movement, reps) VALUES (1, 1050.0, 'cat-cow', 6)"
        )
        conn.execute("INSERT INTO notes (t, text) VALUES (1060.0, 'stiff neck')")
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_migration_from_a_real_v1_file(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    make_v1_file(path)
    assert query(path, "PRAGMA user_version") == [(1,)]
    conn = sqlite3.connect(path)
    assert "source" not in columns(conn, "sets")
    assert "activity" not in columns(conn, "posture_samples")
    conn.close()

    log = SessionLog(path)
    log.close()

    assert query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    # Old rows survive, new columns take their defaults.
    assert query(path, "SELECT movement, reps, source FROM sets") == [("cat-cow", 6, "camera")]
    assert query(path, "SELECT count(*), max(activity) FROM posture_samples") == [(3, None)]
    assert query(path, "SELECT text FROM notes") == [("stiff neck",)]
    # The v1 session left open (no writer pid recorded) is closed at its last sample's end.
    assert log.recovered_sessions == [2]
    assert query(path, "SELECT id, ended_at, closed_cleanly FROM sessions ORDER BY id") == [
        (1, 1100.0, 1),
        (2, 2010.0, 0),
    ]
    # The index added in v2 exists.
    assert query(path, "SELECT name FROM sqlite_master WHERE name = 'posture_samples_by_time'")


def test_a_newer_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    with open_database(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(
        HistoryError, match=r"schema v99, newer than this coach knows \(v2\)"
    ) as err:
        SessionLog(path)
    assert "\n" not in str(err.value)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(HistoryError, match="not a usable coach history database") as err:
        SessionLog(path)
    assert "\n" not in str(err.value)


def test_a_history_failure_is_one_line_and_exit_1_at_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "coach.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    assert issubclass(HistoryError, CoachError)
    assert main(["log", "cat-cow", "--reps", "3", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("coach: error: ") and "not a usable coach history database" in err
    assert err.count("\n") == 1, err


def test_an_open_session_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        with open_database(path) as conn:
            conn.execute(
                "INSERT INTO sessions (id, started_at, source, pid) VALUES (1, 10, 'a', ?), "
                "(2, 20, 'b', ?)",
                (live.pid, dead.pid),
            )
        with SessionLog(path) as log:
            assert log.recovered_sessions == [2]
        assert query(path, "SELECT id, ended_at FROM sessions ORDER BY id") == [
            (1, None),
            (2, 20.0),
        ]
    finally:
        live.kill()
        live.wait()


# The recorder sink.


def test_recorder_writes_5s_windows_events_and_a_clean_end(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    log = SessionLog(path)
    recorder = SessionRecorder(log, "0", WALL_START)
    t0 = 100.0  # stream time need not start at 0
    for i in range(5 * 31):  # 31 s at 5 Hz
        t_s = t0 + i / 5
        # Seconds 0-3 of every 5 upright, 3-5 slouched; moving in the second window only.
        state = "upright" if (i // 5) % 5 < 3 else "slouched"
        events: tuple[Nudge | PromptResolved, ...] = ()
        if i == 20:
            events = (Nudge(t_s, "forward_head", "neck-waves", "t", "m", prompt_id=1),)
        if i == 40:
            events = (PromptResolved(t_s, 1, "done", correction_s=4.0),)
        recorder.update(
            fake_snapshot(
                t_s,
                state,
                forward_head=10.0 if state == "slouched" else 0.0,
                thoracic_rounding=2.0,
                activity="moving" if 25 <= i < 50 else "still",
                seated_s=float(i),
                events=events,
            ),
            None,
        )
    recorder.update(
        fake_snapshot(t0 + 31.0, "upright", events=(fake_set(t0 + 31.0, reps=4),)), None
    )
    recorder.close()
    log.close()

    wall0 = WALL_START.timestamp()
    rows = query(
        path,
        "SELECT t, window_s, state, upright_s, slouched_s, away_s, unknown_s, forward_head_mean, "
        "thoracic_rounding_mean, activity, seated_s FROM posture_samples ORDER BY t",
    )
    assert len(rows) == 7  # six full windows and the last second
    assert [r[0] for r in rows] == pytest.approx([wall0 + 5 * k for k in range(7)])
    assert [r[1] for r in rows] == pytest.approx([5.0] * 6 + [1.0])
    first = rows[0]
    assert first[2] == "upright"
    assert first[3] == pytest.approx(3.0) and first[4] == pytest.approx(2.0)
    assert first[7] == pytest.approx(4.0)  # 10 slouched of 25 snapshots at 10, the rest 0
    assert first[8] == pytest.approx(2.0)
    assert [r[9] for r in rows[:3]] == ["still", "moving", "still"]
    assert rows[0][10] == 24.0
    assert sum(r[3] + r[4] for r in rows) == pytest.approx(31.0)
    session = query(path, "SELECT started_at, ended_at, source, closed_cleanly FROM sessions")
    assert session == [(pytest.approx(wall0), pytest.approx(wall0 + 31.0), "0", 1)]
    prompts = query(
        path, "SELECT prompt_id, t, reason, movement, outcome, outcome_t, correction_s FROM prompts"
    )
    assert prompts == [
        (
            1,
            pytest.approx(wall0 + 4.0),
            "forward_head",
            "neck-waves",
            "done",
            pytest.approx(wall0 + 8.0),
            4.0,
        )
    ]
    sets = query(
        path,
        "SELECT id, t, duration_s, movement, reps, mean_phase_s, partial_reps, feedback, source "
        "FROM sets",
    )
    assert sets == [
        (1, pytest.approx(wall0 + 15.0), 16.0, "cat-cow", 3, 2.0, 1, '["slow down"]', "camera")
    ]
    reps = query(
        path, "SELECT rep_index, start_s, end_s, phase_s, partial FROM reps ORDER BY rep_index"
    )
    assert reps == [
        (0, 0.0, 4.0, "[2.0, 2.0]", 0),
        (1, 4.0, 8.0, "[2.0, 2.0]", 0),
        (2, 8.0, 12.0, "[2.0, 2.0]", 0),
        (3, 12.0, 16.0, "[2.0, 2.0]", 1),
    ]


def test_a_stalled_stream_counts_as_unknown_not_as_the_last_state(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    with SessionLog(path) as log:
        recorder = SessionRecorder(log, "0", WALL_START)
        recorder.update(fake_snapshot(0.0, "slouched"), None)
        recorder.update(fake_snapshot(12.0, "upright"), None)  # 12 s with no frame
        recorder.close()
    rows = query(
        path, "SELECT window_s, state, slouched_s, unknown_s FROM posture_samples ORDER BY t"
    )
    assert rows == [
        (5.0, "unknown", 2.0, 3.0),
        (5.0, "unknown", 0.0, 5.0),
        (2.0, "unknown", 0.0, 2.0),
    ]


def test_one_refused_record_does_not_lose_the_rest_and_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    log = SessionLog(path)
    session = log.start_session("0", 1.0)
    bad = PostureSampleRow(2.0, 5.0, "sideways", 5, 0, 0, 0, None, None, None, None)
    log.add_sample(session, bad)
    log.add_note(3.0, "kept")
    with pytest.raises(HistoryError, match="refused") as err:
        log.flush()
    assert "\n" not in str(err.value)
    log.close()  # the failure was reported once, by flush
    assert query(path, "SELECT text FROM notes") == [("kept",)]
    assert query(path, "SELECT count(*) FROM sessions") == [(1,)]


# Writes never block the frame loop.


def test_enqueue_is_fast_even_while_another_connection_holds_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    log = SessionLog(path, commit_interval_s=0.2)
    recorder = SessionRecorder(log, "0", WALL_START)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # like a stalled disk: nobody else can write
    latencies_s = []
    n = 3000
    for i in range(n):
        t_s = i / 5
        events = (
            (Nudge(t_s, "forward_head", "neck-waves", "t", "m", prompt_id=i),) if i % 5 == 0 else ()
        )
        snapshot = fake_snapshot(t_s, "upright", forward_head=1.0, activity="still", events=events)
        started = time.perf_counter()
        recorder.update(snapshot, None)
        latencies_s.append(time.perf_counter() - started)
    blocker.execute("COMMIT")
    blocker.close()
    recorder.close()
    log.close()
    mean_us = 1e6 * sum(latencies_s) / n
    worst_ms = 1e3 * max(latencies_s)
    print(f"enqueue latency: mean {mean_us:.1f} us, worst {worst_ms:.2f} ms over {n} snapshots")
    assert mean_us < 200
    assert worst_ms < 50
    # Everything arrived once the lock was released.
    assert query(path, "SELECT count(*) FROM prompts") == [(n // 5,)]
    assert query(path, "SELECT sum(upright_s) FROM posture_samples") == [
        (pytest.approx((n - 1) / 5),)
    ]


# A real kill -9 mid-write.


def test_kill_9_mid_write_loses_at_most_a_few_seconds_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "kill_writer.py"), str(path), "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=env,
    ) as proc:
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while not lines and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert lines and lines[0].strip() == "ready", "the writer script did not start"
        time.sleep(2.0)  # mid-write: snapshots at 50 Hz, a commit about every second
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        reader.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    enqueued = [float(x) for x in lines if x.strip() and x.strip() != "ready"]
    assert len(enqueued) > 50
    last_enqueued = enqueued[-1]

    # The file is whole, and holds everything up to shortly before the kill.
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    ((sid, ended_at, closed),) = query(path, "SELECT id, ended_at, closed_cleanly FROM sessions")
    assert ended_at is None and closed == 0
    ((last_prompt_t, n_prompts),) = query(path, "SELECT max(t), count(*) FROM prompts")
    ((last_sample_end, n_samples),) = query(
        path, "SELECT max(t + window_s), count(*) FROM posture_samples"
    )
    assert n_prompts > 0 and n_samples > 0
    lost_s = last_enqueued - float(last_prompt_t)
    print(f"kill -9: {len(enqueued)} snapshots enqueued, last {lost_s:.2f} s of prompts lost")
    assert -1e-3 <= lost_s < 3.0  # the child prints times to the microsecond
    assert query(path, "SELECT count(*) FROM reps")[0][0] > 0
    (last_set_end,) = query(path, "SELECT max(t + duration_s) FROM sets")[0]

    # The next open closes the dangling session at its last recorded moment.
    with SessionLog(path) as log:
        assert log.recovered_sessions == [sid]
    ((ended_at, closed),) = query(path, "SELECT ended_at, closed_cleanly FROM sessions")
    assert closed == 0
    last_moment = max(float(last_sample_end), float(last_prompt_t), float(last_set_end))
    assert float(ended_at) == pytest.approx(last_moment, abs=1e-6)
    assert float(ended_at) <= last_enqueued + 1e-3  # printed to the microsecond


def test_manual_set_with_fatigue_is_linked(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    with SessionLog(path) as log:
        log.add_set(
            None,
            SetRecord(
                t=50.0,
                movement="chin-tuck",
                reps=8,
                source="manual",
                fatigue_before=4,
                fatigue_after=2,
            ),
        )
    assert query(
        path,
        "SELECT s.session_id, s.source, f.before, f.after FROM sets s JOIN fatigue f ON f.set_id = s.id",
    ) == [(None, "manual", 4, 2)]
