"""Fault matrix, reading the history: a read-only folder, a full disk, damage around rows.

`coach report` and `coach export` only read the history, so none of these may stop them
(export writes elsewhere); export saves every row it can read and names the rest.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coach.cli import main
from coach.history.schema import TABLES
from coach.history.session_log import SessionLog
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
