"""Fault matrix, reading the history: a read-only folder, a full disk, damage around rows.

`coach report` and `coach export` only read the history, so none of these may stop them
(export writes elsewhere); export saves every row it can read and names the rest.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from coach.actions.session_recorder import SessionRecorder
from coach.cli import main
from coach.history.session_log import SessionLog
from tests.kill_writer import fake_snapshot
from tests.test_faults_history import (
    FullDisk,
    Preexec,
    as_user,
    assert_one_line_error,
    coach,
    full_disk,
    leaf_pages,
    overwrite,
    plain,
    rescue_dir,
    rows,
    seed_history,
)

__all__ = ["as_user", "full_disk", "rescue_dir"]  # fixtures shared with the matrix

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and mounts are POSIX")


def assert_reads(db: Path, out: Path, preexec: Preexec | None, *, charts: bool = True) -> None:
    """Report (with its charts) and export, from `db`, into `out` on another disk."""
    extra = ("--out", out / "report") if charts else ()
    report = coach("report", "--db", db, *extra, preexec=preexec)
    assert report.returncode == 0, report.stderr
    assert "Daily summary" in report.stdout
    assert not charts or (out / "report" / "report.html").exists()
    export = coach("export", "--csv", out / "csv", "--db", db, preexec=preexec)
    assert export.returncode == 0, export.stderr
    sets = (out / "csv" / "sets.csv").read_text(encoding="utf-8").splitlines()
    assert len(sets) == 2 and ",cat-cow," in sets[1]
    assert "lower back pain today" in (out / "csv" / "notes.csv").read_text(encoding="utf-8")


# 4. Reading needs no write: a read-only folder, a full disk.


def test_report_and_export_read_a_history_in_a_read_only_folder(
    tmp_path: Path, as_user: Preexec | None
) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    db = folder / "coach.sqlite3"
    seed_history(db)
    before = sorted(p.name for p in folder.iterdir())
    out = tmp_path / "out"
    out.mkdir()
    folder.chmod(0o500)
    try:
        assert_reads(db, out, as_user)
    finally:
        folder.chmod(0o700)
    assert sorted(p.name for p in folder.iterdir()) == before


def test_report_and_export_read_a_history_on_a_full_disk(
    full_disk: FullDisk, tmp_path: Path
) -> None:
    db = full_disk.folder / "coach.sqlite3"
    seed_history(db)
    if full_disk.tmpfs:
        full_disk.fill()
    # A file size limit binds every file of the process: no charts (the CSV files are small).
    assert_reads(db, tmp_path / "out", full_disk.full_child(), charts=full_disk.tmpfs)


def test_log_on_a_full_disk_rescues_the_set(full_disk: FullDisk, rescue_dir: Path) -> None:
    db = full_disk.folder / "coach.sqlite3"
    seed_history(db)
    if full_disk.tmpfs:
        full_disk.fill()
    result = coach(
        "log", "chin-tuck", "--reps", "4", "--note", "stiff", "--db", db,
        preexec=full_disk.full_child(),
    )  # fmt: skip
    line = assert_one_line_error(result, "were saved to")
    assert "Logged" not in result.stdout + result.stderr
    rescues = list(rescue_dir.glob("*.jsonl")) + list(full_disk.folder.glob("*.rescue-*"))
    assert len(rescues) == 1 and str(rescues[0]) in line
    if full_disk.tmpfs:
        full_disk.free()
    again = coach("log", "cat-cow", "--reps", "2", "--db", db)
    assert again.returncode == 0, again.stderr
    assert rows(db, "SELECT movement, reps FROM sets ORDER BY id") == [
        ("cat-cow", 5),
        ("chin-tuck", 4),
        ("cat-cow", 2),
    ]
    assert rows(db, "SELECT text FROM notes ORDER BY id")[-1] == ("stiff",)


def test_log_into_a_read_only_folder_rescues_the_set(
    tmp_path: Path, rescue_dir: Path, as_user: Preexec | None
) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    db = folder / "coach.sqlite3"
    seed_history(db)
    folder.chmod(0o500)
    try:
        result = coach("log", "chin-tuck", "--reps", "4", "--db", db, preexec=as_user)
    finally:
        folder.chmod(0o700)
    assert_one_line_error(result, f"the folder {folder} is read-only", "were saved to")
    (rescue,) = rescue_dir.glob("coach-rescue-*.jsonl")
    SessionLog(db).close()
    assert not rescue.exists()
    assert rows(db, "SELECT movement FROM sets ORDER BY id") == [("cat-cow",), ("chin-tuck",)]


# 3. Export reads every row around damage; a damaged table list is named, not sent in circles.


def samples_over_pages(db: Path, count: int) -> None:
    """`count` posture rows, written by the coach (they span a few pages)."""
    start = datetime.datetime.now().astimezone() - datetime.timedelta(hours=2)
    with SessionLog(db) as log:
        recorder = SessionRecorder(log, "desk", start)
        for i in range(count * 5):
            recorder.update(fake_snapshot(float(i), "upright", activity="still"), None)
        recorder.close()
        log.add_note(start.timestamp() + 1, "lower back pain today")


def test_export_reads_past_a_damaged_first_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "coach.sqlite3"
    samples_over_pages(db, 126)
    size, leaves = leaf_pages(db, "posture_samples")
    assert len(leaves) >= 2
    number, cells = leaves[0]
    lost = {row_id for row_id, _ in cells}
    overwrite(db, (number - 1) * size, b"\xde\xad\xbe\xef" * (size // 4))

    assert main(["export", "--csv", str(tmp_path / "csv"), "--db", str(db)]) == 1
    _, err = capsys.readouterr()
    text = " ".join(plain(err).split())
    assert f"posture_samples the rows before id {max(lost) + 1}" in text, text
    assert "`coach export" not in text and "Traceback" not in text
    lines = (tmp_path / "csv" / "posture_samples.csv").read_text(encoding="utf-8").splitlines()
    assert {int(line.split(",")[0]) for line in lines[1:]} == set(range(1, 127)) - lost
    assert "lower back pain today" in (tmp_path / "csv" / "notes.csv").read_text(encoding="utf-8")


def test_a_damaged_table_list_is_read_around_and_export_is_not_advised_by_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "coach.sqlite3"
    samples_over_pages(db, 126)
    written = rows(db, "SELECT * FROM posture_samples ORDER BY id")
    assert main(["report", "--db", str(db), "--days", "1"]) == 0
    healthy_report, _ = capsys.readouterr()
    size = int.from_bytes(db.read_bytes()[16:18], "big")
    overwrite(db, 100, b"\xde\xad\xbe\xef" * ((size - 100) // 4))  # page 1 past its header
    before = db.read_bytes()

    assert main(["export", "--csv", str(tmp_path / "csv"), "--db", str(db)]) == 1
    _, err = capsys.readouterr()
    text = " ".join(plain(err).split())
    assert "its list of tables is damaged" in text and "coach export" not in text, text
    lines = (tmp_path / "csv" / "posture_samples.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + len(written)
    assert [int(line.split(",")[0]) for line in lines[1:]] == [r[0] for r in written]
    assert "lower back pain today" in (tmp_path / "csv" / "notes.csv").read_text(encoding="utf-8")

    assert main(["report", "--db", str(db), "--days", "1"]) == 1
    out, err = capsys.readouterr()
    assert "its list of tables is damaged" in " ".join(err.split())
    assert out == healthy_report  # every row was read
    assert db.read_bytes() == before  # read from a private copy, the file untouched
    assert_one_line_error(coach("log", "cat-cow", "--reps", "2", "--db", db), "is damaged")
    assert db.read_bytes() == before


def test_a_table_list_past_rebuilding_is_one_line_without_circular_advice(
    tmp_path: Path,
) -> None:
    db = tmp_path / "coach.sqlite3"
    samples_over_pages(db, 40)
    size = int.from_bytes(db.read_bytes()[16:18], "big")
    overwrite(db, 100, b"\xde\xad\xbe\xef" * ((2 * size - 100) // 4))  # pages 1 and 2
    for argv in (["export", "--csv", str(tmp_path / "csv")], ["report"]):
        result = coach(*argv, "--db", db)
        line = assert_one_line_error(result, "is damaged where it lists its tables")
        assert "coach export" not in line, line
    assert not (tmp_path / "csv").exists() or not any((tmp_path / "csv").iterdir())
