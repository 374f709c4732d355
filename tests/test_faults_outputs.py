"""Fault matrix, the report's files: never over the user's files or the database, whole or none.

`coach report --out DIR` writes report.html and three charts: it replaces nothing without
--force, never writes through a link, never over the database it reads, and on a full disk
leaves no file cut off, only one line.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from coach.cli import main
from tests.test_faults_history import (
    FullDisk,
    assert_one_line_error,
    coach,
    full_disk,
    seed_history,
)

__all__ = ["full_disk"]  # the fixture shared with the matrix

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and mounts are POSIX")

REPORT_FILES = {"report.html", "posture.svg", "still.svg", "reps.svg"}


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Any:
    """`coach report ARGS` in process (fast: no new interpreter per run), as a finished process."""

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        code = main(["report", *map(str, args)])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["coach", "report"], code, out, err)

    return run


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "history" / "coach.sqlite3"
    seed_history(path)
    return path


def test_report_replaces_the_users_files_only_with_force(
    db: Path, tmp_path: Path, report: Any
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "report.html"
    mine.write_text("<p>my own page</p>")
    refused = report("--db", db, "--out", out)
    assert_one_line_error(refused, f"{mine} already exists", "--force")
    assert mine.read_text() == "<p>my own page</p>" and sorted(os.listdir(out)) == ["report.html"]

    forced = report("--db", db, "--out", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert set(os.listdir(out)) == REPORT_FILES
    assert "Posture &amp; movement report" in mine.read_text()


def test_report_never_writes_through_a_link(db: Path, tmp_path: Path, report: Any) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me")
    (out / "posture.svg").symlink_to(db)  # a link at the history database...
    (out / "still.svg").symlink_to(elsewhere)  # ...and at a file outside the folder
    before = digest(db)
    for force in ((), ("--force",)):
        result = report("--db", db, "--out", out, *force)
        assert_one_line_error(result, "posture.svg", "is the input itself")
        assert digest(db) == before
    (out / "posture.svg").unlink()
    assert_one_line_error(report("--db", db, "--out", out), "still.svg already exists")

    forced = report("--db", db, "--out", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert not (out / "still.svg").is_symlink()  # the link itself was replaced
    assert (out / "still.svg").read_bytes()[:5] == b"<svg "
    assert elsewhere.read_text() == "keep me" and digest(db) == before


def test_report_never_writes_over_the_database_it_reads(tmp_path: Path, report: Any) -> None:
    out = tmp_path / "out"
    named = out / "report.html"  # a history database given the report's name
    seed_history(named)
    before = digest(named)
    for force in ((), ("--force",)):
        result = report("--db", named, "--out", out, *force)
        assert_one_line_error(result, "report.html is the input itself")
    assert digest(named) == before
    assert sorted(p.name for p in out.iterdir() if "report.html" not in p.name) == []


def test_report_out_naming_a_file_is_one_line(db: Path, tmp_path: Path, report: Any) -> None:
    afile = tmp_path / "report.html"
    afile.write_text("mine")
    result = report("--db", db, "--out", afile)
    assert_one_line_error(result, f"--out {afile} is a file, not a folder")
    assert afile.read_text() == "mine"
    assert_one_line_error(report("--db", db, "--force"), "--force goes with --out")


def test_report_on_a_full_disk_leaves_no_file_cut_off(
    db: Path, full_disk: FullDisk, tmp_path: Path
) -> None:
    out = full_disk.folder / "report"
    if full_disk.tmpfs:
        full_disk.fill()
    result = coach("report", "--db", db, "--out", out, preexec=full_disk.full_child())
    assert_one_line_error(result, "the report could not be written", "no file was left cut off")
    assert "Daily summary" in result.stdout  # the report itself was shown
    assert not out.exists() or list(out.iterdir()) == []
