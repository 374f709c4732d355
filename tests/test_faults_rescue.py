"""Fault matrix, history after a fault: rescue round trip, damage, delete while running, count.

What a fault kept out of the history must reach it later exactly as an unfaulted run
would have written it; a damaged database is never written into; deleting the history
while a session runs does not end that session; `coach count` keeps its set as it goes.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from coach.actions.session_recorder import SessionRecorder
from coach.actions.set_recorder import GuidedSetRecorder
from coach.errors import HistoryError
from coach.history.session_log import SessionLog
from tests.conftest import sample_clip
from tests.kill_writer import fake_set, fake_snapshot
from tests.mjpeg_camera import start_coach, wait_for
from tests.test_faults_history import (
    RUN,
    SAMPLE_COLUMNS,
    Damaged,
    FullDisk,
    assert_one_line_error,
    coach,
    damaged,
    desk,
    full_disk,
    plain,
    rescue_dir,
    rows,
)
from tests.test_faults_signals import cat_cow_from_5s

__all__ = [
    "cat_cow_from_5s",
    "damaged",
    "desk",
    "full_disk",
    "rescue_dir",
]  # fixtures shared with the matrix

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and mounts are POSIX")

START = datetime.datetime(2026, 3, 2, 9, 0).astimezone()
SESSION_ROWS = f"SELECT t, {SAMPLE_COLUMNS} FROM posture_samples ORDER BY t"


def live_session(log: SessionLog, seconds: int, *, on_second: Any = None) -> None:
    """`seconds` of a live session at 10 snapshots a second (checkpoints every 0.5 s)."""
    recorder = SessionRecorder(log, "desk", START)
    for i in range(seconds * 10):
        t_s = i / 10
        if on_second is not None and i % 10 == 0:
            on_second(int(t_s))
        state = "slouched" if 10 <= t_s < 20 else "upright"
        events = (fake_set(t_s),) if i == 150 else ()
        recorder.update(fake_snapshot(t_s, state, activity="still", events=events), None)
    recorder.close()


@pytest.fixture(scope="module")
def unfaulted(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """The posture rows of a 30-s live session written to a healthy disk."""
    db = tmp_path_factory.mktemp("unfaulted") / "coach.sqlite3"
    with SessionLog(db, commit_interval_s=0.05) as log:
        live_session(log, 30)
    written = rows(db, SESSION_ROWS)
    assert len(written) == 6 and sum(r[2] for r in written) == pytest.approx(29.9)
    return written


# 1. The rescue round trip: fault, rescue file, import.


def test_a_session_rescued_whole_is_imported_as_written(
    unfaulted: list[tuple[Any, ...]], tmp_path: Path, rescue_dir: Path
) -> None:
    folder = tmp_path / "history"
    folder.write_text("not a folder")  # nothing can be written there
    db = folder / "coach.sqlite3"
    log = SessionLog(db, commit_interval_s=0.05, keep_trying=True)
    live_session(log, 30)
    with pytest.raises(HistoryError, match="were saved to"):
        log.close()
    (rescue,) = rescue_dir.glob("coach-rescue-*.jsonl")
    assert '"replace": true' in rescue.read_text(encoding="utf-8")  # the checkpoints

    folder.unlink()
    folder.mkdir()
    with SessionLog(db) as again:
        pass
    assert again.imported > 0 and not rescue.exists()
    assert rows(db, SESSION_ROWS) == unfaulted  # 6 rows over 30 s, not one per checkpoint
    assert rows(db, "SELECT reps FROM sets") == [(2,)]


def test_a_disk_that_fills_mid_session_imports_the_rest_exactly(
    unfaulted: list[tuple[Any, ...]], full_disk: FullDisk, rescue_dir: Path
) -> None:
    if not full_disk.tmpfs:
        pytest.skip("needs a tmpfs to fill in process (root)")
    db = full_disk.folder / "coach.sqlite3"
    log = SessionLog(db, commit_interval_s=0.01, retry_interval_s=60, keep_trying=True)

    def fill_at_12_s(second: int) -> None:
        if second == 12:  # a window half-written to the database when the disk fills
            log.flush()
            full_disk.fill()

    live_session(log, 30, on_second=fill_at_12_s)
    with pytest.raises(HistoryError, match="were saved to"):
        log.close()
    full_disk.free()
    with SessionLog(db) as again:
        pass
    assert again.imported > 0
    assert rows(db, SESSION_ROWS) == unfaulted
    assert rows(db, "SELECT closed_cleanly FROM sessions") == [(1,)]


# 5. A damaged database is never written into; `coach data --delete` still deletes it.


def file_state(db: Path) -> list[tuple[str, bytes]]:
    """The database's files and their bytes (a write anywhere shows)."""
    return sorted((p.name, p.read_bytes()) for p in db.parent.glob(f"{db.name}*"))


def test_a_damaged_database_is_never_written_into(
    desk: Path, damaged: Damaged, tmp_path: Path
) -> None:
    db = damaged.db
    before = file_state(db)

    ran = coach(*RUN, desk, "--db", db)
    assert_one_line_error(ran, "is damaged", "coach export --csv DIR", "were saved to")
    logged = coach("log", "chin-tuck", "--reps", "3", "--db", db)
    assert_one_line_error(logged, "is damaged", "move it aside", "were saved to")
    assert "Logged" not in logged.stdout + logged.stderr
    rescues = sorted(db.parent.glob("coach.sqlite3.rescue-*.jsonl"))
    assert len(rescues) == 2
    assert [(n, b) for n, b in file_state(db) if ".rescue-" not in n] == before

    # Only some of it cannot be picked out; all of it can be deleted.
    some = coach("data", "--delete", "--before", "2030-01-01", "--yes", "--db", db)
    assert_one_line_error(some, "is damaged", "nothing was deleted", "without --before")
    assert [(n, b) for n, b in file_state(db) if ".rescue-" not in n] == before
    deleted = coach("data", "--delete", "--yes", "--db", db)
    assert deleted.returncode == 0, deleted.stderr
    assert "Traceback" not in deleted.stderr
    assert "whole file was deleted" in " ".join(plain(deleted.stderr).split())
    assert not db.exists() and not Path(f"{db}-wal").exists()

    # The rescued session and set reach the new history.
    again = coach("log", "cat-cow", "--reps", "2", "--db", db)
    assert again.returncode == 0, again.stderr
    assert not list(db.parent.glob("*.rescue-*"))
    assert rows(db, "SELECT movement, reps FROM sets ORDER BY id") == [
        ("chin-tuck", 3),
        ("cat-cow", 2),
    ]
    assert rows(db, "SELECT count(*) FROM sessions") == [(1,)]


def test_delete_leaves_a_file_that_is_not_a_database_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my own notes\n" * 100)
    result = coach("data", "--delete", "--yes", "--db", notes)
    assert_one_line_error(result, "not a", str(notes))
    assert notes.read_text() == "my own notes\n" * 100


# 6. `coach data --delete` while a session runs: the session goes on, in a new row.


@pytest.mark.slow
def test_deleting_the_history_during_a_running_session_does_not_end_it(tmp_path: Path) -> None:
    db = tmp_path / "coach.sqlite3"
    seed = coach("log", "cat-cow", "--reps", "5", "--note", "lower back pain", "--db", db)
    assert seed.returncode == 0, seed.stderr
    # A video played at its own speed is coached (and logged as it goes) like a camera.
    args = ("run", str(sample_clip("neutral")), "--realtime", "--no-window", "--db", str(db))
    proc = start_coach(tmp_path, *args)
    try:
        wait_for(lambda: _coaching(db) or proc.poll() is not None, 60, "the first rows")
        assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
        deleted = coach("data", "--delete", "--yes", "--db", db)
        assert deleted.returncode == 0, deleted.stderr
        deleted_at = time.time()
        assert rows(db, "SELECT count(*) FROM notes") == [(0,)]
        wait_for(lambda: _coaching(db) or proc.poll() is not None, 20, "rows after the delete")
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, (tmp_path / "stderr.txt").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "FOREIGN KEY" not in stderr and "Traceback" not in stderr
    ((started_at, ended_at, closed_cleanly),) = rows(
        db, "SELECT started_at, ended_at, closed_cleanly FROM sessions"
    )
    assert closed_cleanly == 1 and ended_at > deleted_at - 1.0
    assert started_at >= deleted_at - 6.0  # what came before the delete stays deleted
    ((first_t, count),) = rows(db, "SELECT min(t), count(*) FROM posture_samples")
    assert count >= 1 and first_t >= deleted_at - 6.0  # at most the window then filling
    assert rows(db, "SELECT count(*) FROM sets") == [(0,)]


def _coaching(db: Path) -> bool:
    """Whether the session has posture rows committed."""
    try:
        return bool(db.exists() and rows(db, "SELECT count(*) FROM posture_samples")[0][0])
    except sqlite3.OperationalError:  # the schema is not written yet, or locked
        return False


# 7. `coach count` keeps its set as it goes: kill -9 mid-set keeps the reps so far.


@pytest.mark.slow
def test_a_killed_coach_count_keeps_the_reps_so_far(tmp_path: Path, cat_cow_from_5s: Path) -> None:
    db = tmp_path / "coach.sqlite3"
    args = ("count", str(cat_cow_from_5s), "--movement", "cat-cow", "--reps", "6")
    proc = start_coach(tmp_path, *args, "--no-window", "--fatigue-before", "2", "--db", str(db))

    def counted() -> int:
        try:
            return int(rows(db, "SELECT coalesce(max(reps), 0) FROM sets")[0][0])
        except sqlite3.OperationalError:  # not created yet, or locked
            return 0

    try:
        wait_for(lambda: counted() >= 1 or proc.poll() is not None, 90, "the first rep saved")
        assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ((set_id, reps, movement, duration_s),) = rows(
        db, "SELECT id, reps, movement, duration_s FROM sets"
    )  # one set: each save replaced the last
    assert movement == "cat-cow" and 1 <= reps < 6 and duration_s > 0
    assert rows(db, f"SELECT count(*) FROM reps WHERE set_id = {set_id}")[0][0] >= reps
    assert rows(db, "SELECT set_id, before, after FROM fatigue") == [(set_id, 2, None)]
    with SessionLog(db):  # the next coach closes the session the killed one left open
        pass
    ((source, ended_at, closed_cleanly),) = rows(
        db, "SELECT source, ended_at, closed_cleanly FROM sessions"
    )
    assert source.startswith("coach count: ") and closed_cleanly == 0 and ended_at is not None


def test_a_guided_set_rescued_with_its_checkpoints_is_imported_once(
    tmp_path: Path, rescue_dir: Path
) -> None:
    folder = tmp_path / "history"
    folder.write_text("not a folder")
    db = folder / "coach.sqlite3"
    log = SessionLog(db, keep_trying=True)
    recorder = GuidedSetRecorder(log, "cam", START.timestamp(), "cat-cow", fatigue_before=3)
    done = fake_set(20.0, reps=4)  # three full reps and a partial one
    for rep in done.reps_detail:
        recorder.update(dataclasses.replace(fake_snapshot(rep.end_s), rep=rep), None)
    recorder.finish(done, before=3, after=4)
    with pytest.raises(HistoryError, match="were saved to"):
        log.close()
    (rescue,) = rescue_dir.glob("coach-rescue-*.jsonl")
    saves = [line for line in rescue.read_text().splitlines() if '"op": "set"' in line]
    assert len(saves) == 5  # one per rep, then the whole set

    folder.unlink()
    folder.mkdir()
    SessionLog(db).close()
    assert rows(db, "SELECT movement, reps, partial_reps FROM sets") == [("cat-cow", 3, 1)]
    assert rows(db, "SELECT count(*) FROM reps") == [(4,)]
    assert rows(db, "SELECT before, after FROM fatigue") == [(3, 4)]
    assert rows(db, "SELECT closed_cleanly FROM sessions") == [(1,)]
