"""Fault matrix, history: a read-only file or folder, a full disk and a damaged page.

Every case runs the real `coach` commands (in a subprocess, as the user would, or
in process through coach.cli.main) on a synthetic landmark recording, so no pose model
is needed. The user must see the trouble on the dashboard at once, nothing may be lost
without one clear line and exit status 1, and what the disk refused must reach the
history once the disk takes it again.

Running as root, permission bits are enforced by starting the coach without
CAP_DAC_OVERRIDE, and the full disk is a small tmpfs; otherwise the full disk is a file
size limit (set FAULT_DISK=rlimit to force that here).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import io
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import platformdirs
import pytest
from rich.console import Console

from coach.actions.dashboard import Dashboard
from coach.actions.session_recorder import SessionRecorder
from coach.cli import main
from coach.config import SlouchConfig
from coach.history.queries import load_history
from coach.history.rescue import rescue_targets
from coach.history.rows import SetRecord
from coach.history.schema import TABLES
from coach.history.session_log import SessionLog
from coach.history.store import open_for_reading
from coach.pipeline import LoopStats
from coach.pose.landmark_file import LandmarkWriter
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample
from tests.conftest import REAL_USER_DATA, REPO
from tests.kill_writer import fake_snapshot

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and mounts are POSIX")

Preexec = Callable[[], None]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# Helpers: the coach in a subprocess, a recording to run it on, what a healthy run writes.


def coach(
    *args: str | Path,
    env: dict[str, str] | None = None,
    preexec: Preexec | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m coach ARGS` with this test's private home (and a wide, live terminal)."""
    merged = {**os.environ, "COLUMNS": "250", "FORCE_COLOR": "1", **(env or {})}
    merged.pop("DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "coach", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=merged,
        timeout=timeout,
        preexec_fn=preexec,
    )


def plain(text: str) -> str:
    return ANSI.sub("", text)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in plain(result.stderr).splitlines() if "coach: error:" in line]


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit status 1, no traceback, and exactly one error line holding every fragment."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = error_lines(result)
    for fragment in fragments:
        assert fragment in line, line
    return line


def first_frame_with(stderr: str, text: str) -> str | None:
    """The dashboard's Time (stream time) in the first frame that shows `text`."""
    clock = None
    for line in plain(stderr).splitlines():
        found = re.search(r"│ Time\s+(\d+:\d\d)", line)
        if found:
            clock = found.group(1)
        elif text in line:
            return clock
    return None


def last_clock(stderr: str) -> str:
    clocks: list[str] = re.findall(r"│ Time\s+(\d+:\d\d)", plain(stderr))
    return clocks[-1]


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


RUN = ("run", "--no-window", "--calibrate-seconds", "2")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two minutes at a desk, recorded as landmarks: upright, slouched from 0:30 to 1:00."""
    path = tmp_path_factory.mktemp("landmarks") / "desk.jsonl.gz"
    rng = np.random.default_rng(7)
    fps = 10.0
    with LandmarkWriter(path, source="synthetic desk", fps=fps, image_size=(640, 480)) as writer:
        for i in range(int(120 * fps)):
            t_s = i / fps
            body = BodyPose(rounding=0.6 if 30 <= t_s < 60 else 0.0)
            pose = synthetic_pose(body, Camera(), t_s=t_s, noise_px=0.5, rng=rng)
            writer.write(synthetic_sample(pose, t_s))
    return path


SAMPLE_COLUMNS = "state, window_s, upright_s, slouched_s, away_s, unknown_s, activity"


@pytest.fixture(scope="module")
def healthy(desk: Path, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """The posture rows a run on a healthy disk writes (what a fault must not lose)."""
    db = tmp_path_factory.mktemp("healthy") / "coach.sqlite3"
    result = coach(*RUN, desk, "--db", db)
    assert result.returncode == 0, result.stderr
    written = rows(db, f"SELECT {SAMPLE_COLUMNS} FROM posture_samples ORDER BY t")
    assert len(written) >= 20  # 5-s windows over two minutes
    assert rows(db, "SELECT closed_cleanly FROM sessions") == [(1,)]
    return written


def last_session_samples(db: Path) -> list[tuple[Any, ...]]:
    return rows(
        db,
        f"SELECT {SAMPLE_COLUMNS} FROM posture_samples "
        "WHERE session_id = (SELECT max(id) FROM sessions) ORDER BY t",
    )


def seed_history(db: Path) -> None:
    """An earlier day's history, written by the coach (`coach log`)."""
    result = coach("log", "cat-cow", "--reps", "5", "--note", "lower back pain today", "--db", db)
    assert result.returncode == 0, result.stderr


# Permissions hold for root only without its override capability.

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _without_dac_override() -> None:
    """Run in the child before exec: drop root's power to ignore file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture(scope="module")
def as_user(tmp_path_factory: pytest.TempPathFactory) -> Preexec | None:
    """How to start the coach so that file permissions bind it (None: they already do)."""
    if os.geteuid() != 0:
        return None
    probe = tmp_path_factory.mktemp("probe") / "read-only"
    probe.write_text("x")
    probe.chmod(0o444)
    try:
        result = subprocess.run(
            [sys.executable, "-c", f"open({str(probe)!r}, 'a')"],
            capture_output=True,
            preexec_fn=_without_dac_override,
        )
    except subprocess.SubprocessError:
        pytest.skip("running as root and unable to drop CAP_DAC_OVERRIDE")
    if result.returncode == 0:
        pytest.skip("running as root and file permissions are not enforced")
    return _without_dac_override


# A full disk: a small tmpfs when we may mount one, else a file size limit.


class FullDisk:
    """A folder whose disk can be filled and freed again."""

    def __init__(self, folder: Path, *, tmpfs: bool) -> None:
        self.folder = folder
        self.tmpfs = tmpfs
        self._filler = folder / "filler"
        self._limit = resource_limit()

    @property
    def message(self) -> str:
        """How the coach must name the trouble."""
        return "is full; free some space" if self.tmpfs else "file size limit (ulimit -f)"

    def fill(self) -> None:
        if self.tmpfs:
            chunk = bytes(64 << 10)
            with self._filler.open("ab") as handle:
                with contextlib.suppress(OSError):
                    while True:
                        handle.write(chunk)
                        handle.flush()
                # The last pages, down to the last byte.
                with contextlib.suppress(OSError):
                    while True:
                        os.write(handle.fileno(), b"\0")
        else:
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, (12 << 10, self._limit[1]))

    def free(self) -> None:
        if self.tmpfs:
            self._filler.unlink()
        else:
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, self._limit)

    def full_child(self) -> Preexec | None:
        """For a subprocess: starts with the disk full (the limit is per process)."""
        if self.tmpfs:
            return None

        def limit() -> None:
            import resource

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not death
            resource.setrlimit(resource.RLIMIT_FSIZE, (12 << 10, self._limit[1]))

        return limit


def resource_limit() -> tuple[int, int]:
    import resource

    return resource.getrlimit(resource.RLIMIT_FSIZE)


def _can_mount_tmpfs(where: Path) -> bool:
    if os.environ.get("FAULT_DISK") == "rlimit" or sys.platform != "linux" or os.geteuid() != 0:
        return False
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
    )
    return done.returncode == 0


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[FullDisk]:
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = _can_mount_tmpfs(folder)
    try:
        yield FullDisk(folder, tmpfs=mounted)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.fixture
def rescue_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temp folder (the rescue's second choice), private to the test."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# A read-only database file.


def test_a_read_only_database_is_shown_at_once_and_nothing_is_lost(
    desk: Path, healthy: list[tuple[Any, ...]], tmp_path: Path, as_user: Preexec | None
) -> None:
    db = tmp_path / "coach.sqlite3"
    seed_history(db)
    before = rows(db, "SELECT * FROM sets")
    db.chmod(0o444)

    result = coach(*RUN, desk, "--db", db, preexec=as_user)

    problem = "is read-only (permission denied); make it writable"
    line = assert_one_line_error(result, "history:", problem, "records could not be written")
    # On the dashboard from the start of the session, not only at the end. (The file
    # replays at about 80x, so the first seconds of stream time are a few ms of writer.)
    shown_at = first_frame_with(result.stderr, "not saved: the file")
    assert shown_at is not None and shown_at <= "0:30", shown_at
    assert last_clock(result.stderr) >= "1:55"
    assert "not a usable" not in result.stderr and "move it aside" not in result.stderr
    (rescue,) = tmp_path.glob("coach.sqlite3.rescue-*.jsonl")
    assert str(rescue) in line
    assert stat.S_IMODE(rescue.stat().st_mode) == 0o600
    assert rows(db, "SELECT * FROM sets") == before  # the old history is untouched

    # Writable again: the next coach to write adds the rescued session, whole.
    db.chmod(0o600)
    again = coach("log", "chin-tuck", "--reps", "3", "--db", db, preexec=as_user)
    assert again.returncode == 0, again.stderr
    assert not list(tmp_path.glob("*.rescue-*"))
    assert last_session_samples(db) == healthy
    assert rows(db, "SELECT closed_cleanly FROM sessions") == [(1,)]
    assert [r[0] for r in rows(db, "SELECT movement FROM sets ORDER BY id")] == [
        "cat-cow",
        "chin-tuck",
    ]


# A read-only folder.


def test_a_read_only_folder_is_named_and_the_session_rescued_elsewhere(
    desk: Path,
    healthy: list[tuple[Any, ...]],
    tmp_path: Path,
    rescue_dir: Path,
    as_user: Preexec | None,
) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    db = folder / "coach.sqlite3"
    seed_history(db)
    folder.chmod(0o500)
    try:
        result = coach(*RUN, desk, "--db", db, preexec=as_user)
        line = assert_one_line_error(
            result, f"the folder {folder} is read-only (permission denied)"
        )
        assert "not a usable" not in result.stderr
        shown_at = first_frame_with(result.stderr, f"not saved: the folder {folder}")
        assert shown_at is not None and shown_at <= "0:30", shown_at
        (rescue,) = rescue_dir.glob("coach-rescue-*.jsonl")  # the folder took nothing
        assert str(rescue) in line
    finally:
        folder.chmod(0o700)
    again = coach("log", "chin-tuck", "--reps", "3", "--db", db, preexec=as_user)
    assert again.returncode == 0, again.stderr
    assert not list(rescue_dir.iterdir())
    assert last_session_samples(db) == healthy


def test_log_into_a_read_only_folder_is_one_line(
    tmp_path: Path, rescue_dir: Path, as_user: Preexec | None
) -> None:
    folder = tmp_path / "history"
    folder.mkdir(mode=0o500)
    result = coach(
        "log", "cat-cow", "--reps", "5", "--db", folder / "coach.sqlite3", preexec=as_user
    )
    folder.chmod(0o700)
    assert_one_line_error(result, f"the folder {folder} is read-only")
    assert "not a usable" not in result.stderr


def test_only_our_own_rescue_files_in_the_shared_temp_folder_are_added(
    tmp_path: Path, rescue_dir: Path
) -> None:
    db = tmp_path / "coach.sqlite3"
    SessionLog(db).close()
    planted = rescue_targets(db)[1]
    assert planted.parent == rescue_dir
    header = '{"format": "coach-history-rescue", "version": 1, "db": "x"}'
    planted.write_text(header + '\n{"op": "note", "t": 5.0, "text": "planted"}\n')
    planted.chmod(0o666)  # anyone could have written it
    SessionLog(db).close()
    assert rows(db, "SELECT count(*) FROM notes") == [(0,)]
    planted.chmod(0o600)
    with SessionLog(db) as log:
        pass
    assert log.imported == 1 and not planted.exists()
    assert rows(db, "SELECT text FROM notes") == [("planted",)]


# A full disk.


def test_a_full_disk_is_shown_and_the_session_reaches_the_history_later(
    desk: Path,
    healthy: list[tuple[Any, ...]],
    full_disk: FullDisk,
    rescue_dir: Path,
) -> None:
    db = full_disk.folder / "coach.sqlite3"
    seed_history(db)
    before = rows(db, "SELECT * FROM notes")
    if full_disk.tmpfs:
        full_disk.fill()

    result = coach(*RUN, desk, "--db", db, preexec=full_disk.full_child())

    line = assert_one_line_error(result, full_disk.message, "were saved to")
    assert "not a usable" not in result.stderr and "move it aside" not in result.stderr
    if full_disk.tmpfs:  # full from the start (a size limit lets the first commit through)
        shown_at = first_frame_with(result.stderr, "not saved: the disk")
        assert shown_at is not None and shown_at <= "0:30", shown_at
    rescues = list(rescue_dir.glob("*.jsonl")) + list(full_disk.folder.glob("*.rescue-*"))
    assert len(rescues) == 1 and str(rescues[0]) in line
    if full_disk.tmpfs:
        full_disk.free()
    assert rows(db, "SELECT * FROM notes") == before

    again = coach("log", "chin-tuck", "--reps", "3", "--db", db)
    assert again.returncode == 0, again.stderr
    assert last_session_samples(db) == healthy
    assert not list(rescue_dir.glob("*.jsonl")) and not list(full_disk.folder.glob("*.rescue-*"))


def retry_scenario(folder: Path, disk: FullDisk) -> None:
    """While the coach runs, the disk fills and frees: the dashboard says so, nothing is lost.

    Run in process (tmpfs) or in a child process (a file size limit is per process).
    """
    db = folder / "coach.sqlite3"
    SessionLog(db).close()
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=250)
    log = SessionLog(db, commit_interval_s=0.05, retry_interval_s=0.2, keep_trying=True)
    start = datetime.datetime(2026, 3, 2, 9, 0).astimezone()
    recorder = SessionRecorder(log, "desk", start)
    dashboard = Dashboard(
        console, "desk", LoopStats(), SlouchConfig(), history_status=lambda: log.status
    )
    t_s = 0.0

    def step(seconds: float, until: Callable[[], bool] | None = None) -> None:
        nonlocal t_s
        deadline = time.monotonic() + 10.0
        end_s = t_s + seconds
        while t_s < end_s or (until is not None and not until()):
            assert time.monotonic() < deadline, "the writer did not react in 10 s"
            t_s += 1.0
            snapshot = fake_snapshot(t_s, "upright", activity="still")
            recorder.update(snapshot, None)
            dashboard.update(snapshot, None)
            time.sleep(0.01)

    def last_frame() -> str:
        return plain(screen.getvalue()).rsplit("│ Source", 1)[-1]

    step(20)
    assert "History" not in last_frame()
    disk.fill()
    step(20, until=lambda: log.status is not None)
    status = log.status
    assert status is not None and disk.message.split(";")[0] in status, status
    assert "records kept in memory, retrying every 0.2 s" in status
    step(1)
    assert "not saved:" in " ".join(last_frame().split())  # the very next frame shows it
    disk.free()
    step(5, until=lambda: log.status is None)
    step(20)
    assert "History" not in last_frame()
    recorder.close()
    dashboard.close()
    log.close()  # raises if anything was not written
    total = rows(db, "SELECT sum(window_s), count(*) FROM posture_samples")[0]
    assert total[0] == pytest.approx(t_s - 1.0), total  # every second, once
    assert rows(db, "SELECT closed_cleanly FROM sessions") == [(1,)]
    assert "not saved:" in plain(screen.getvalue())


def test_a_disk_that_fills_and_frees_mid_session_loses_nothing(
    full_disk: FullDisk, tmp_path: Path
) -> None:
    if full_disk.tmpfs:
        retry_scenario(full_disk.folder, full_disk)
        return
    code = (
        "from pathlib import Path; from tests.test_faults_history import FullDisk, "
        f"retry_scenario; retry_scenario(Path({str(full_disk.folder)!r}), "
        f"FullDisk(Path({str(full_disk.folder)!r}), tmpfs=False))"
    )
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert child.returncode == 0, child.stderr


# A damaged page.


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        byte = buf[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos + i + 1
    return (value << 8) | buf[pos + 8], pos + 9


def leaf_pages(db: Path, table: str) -> tuple[int, list[tuple[int, list[tuple[int, int]]]]]:
    """The page size, and a table's leaf pages left to right with (row id, record offset)."""
    data = db.read_bytes()
    size = int.from_bytes(data[16:18], "big")
    size = 65536 if size == 1 else size
    ((root,),) = rows(db, f"SELECT rootpage FROM sqlite_master WHERE name = '{table}'")

    def walk(number: int) -> list[tuple[int, list[tuple[int, int]]]]:
        page = data[(number - 1) * size : number * size]
        at = 100 if number == 1 else 0
        kind, cells = page[at], int.from_bytes(page[at + 3 : at + 5], "big")
        head = at + (8 if kind == 0x0D else 12)
        pointers = [
            int.from_bytes(page[head + 2 * i : head + 2 * i + 2], "big") for i in range(cells)
        ]
        if kind == 0x0D:  # a table leaf: payload size, row id, record
            found = []
            for pointer in pointers:
                _, at_id = _varint(page, pointer)
                row_id, at_record = _varint(page, at_id)
                found.append((row_id, at_record))
            return [(number, found)]
        assert kind == 0x05, kind  # a table interior page
        children = [int.from_bytes(page[p : p + 4], "big") for p in pointers]
        children.append(int.from_bytes(page[at + 8 : at + 12], "big"))
        return [leaf for child in children for leaf in walk(child)]

    return size, walk(root)


def overwrite(db: Path, at: int, junk: bytes) -> None:
    """Write `junk` over the file's bytes from offset `at` (a damaged sector)."""
    data = bytearray(db.read_bytes())
    data[at : at + len(junk)] = junk
    db.write_bytes(bytes(data))


class Damaged(NamedTuple):
    db: Path
    lost: set[int]
    """The ids of the posture samples on the damaged page."""
    counts: dict[str, int]
    """Each table's rows before the damage."""
    window_s: dict[int, float]
    """Each posture sample's length, by id, before the damage."""


@pytest.fixture
def damaged(tmp_path: Path) -> Damaged:
    """A history the coach wrote, with one page of posture samples overwritten with junk."""
    db = tmp_path / "coach.sqlite3"
    start = datetime.datetime.now().astimezone() - datetime.timedelta(hours=1)
    with SessionLog(db) as log:
        recorder = SessionRecorder(log, "desk", start)
        for i in range(3000):  # 50 minutes at 1 Hz: 600 samples over several pages
            state = "slouched" if (i // 300) % 2 else "upright"
            recorder.update(fake_snapshot(float(i), state, activity="still"), None)
        recorder.close()
        log.add_set(None, SetRecord(t=start.timestamp() + 60, movement="cat-cow", reps=6))
        log.add_note(start.timestamp() + 61, "lower back pain today")
    counts = {table: rows(db, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}
    window_s = dict(rows(db, "SELECT id, window_s FROM posture_samples"))
    size, leaves = leaf_pages(db, "posture_samples")
    assert len(leaves) >= 5
    number, cells = leaves[len(leaves) // 2]
    overwrite(db, (number - 1) * size, b"\xde\xad\xbe\xef" * (size // 4))
    return Damaged(db, {row_id for row_id, _ in cells}, counts, window_s)


def test_report_on_a_damaged_page_says_what_it_could_not_read(
    damaged: Damaged, capsys: pytest.CaptureFixture[str]
) -> None:
    db, lost = damaged.db, damaged.lost
    code = main(["report", "--db", str(db), "--days", "2"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err and "Daily summary" in out
    assert f"posture_samples rows {min(lost)}-{max(lost)}" in " ".join(err.split())
    assert "could not be read" in err
    # What it shows is exactly what could be read.
    with open_for_reading(db) as conn:
        history = load_history(conn, days=2)
    readable_s = sum(w for i, w in damaged.window_s.items() if i not in lost)
    assert sum(day.recorded_s for day in history.days) == pytest.approx(readable_s)


def test_export_rescues_every_readable_row_of_a_damaged_page(
    damaged: Damaged,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, lost, counts = damaged.db, damaged.lost, damaged.counts
    out_dir = tmp_path / "csv"
    code = main(["export", "--csv", str(out_dir), "--db", str(db)])
    _, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert f"posture_samples rows {min(lost)}-{max(lost)}" in " ".join(err.split())
    for table in TABLES:
        lines = (out_dir / f"{table}.csv").read_text(encoding="utf-8").splitlines()[1:]
        if table == "posture_samples":
            ids = {int(line.split(",")[0]) for line in lines}
            assert ids == set(range(1, counts[table] + 1)) - lost
        else:
            assert len(lines) == counts[table], table
    assert "lower back pain today" in (out_dir / "notes.csv").read_text(encoding="utf-8")


def test_export_loses_only_a_damaged_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "coach.sqlite3"
    with SessionLog(db) as log:
        for i in range(200):
            log.add_note(1000.0 + i, f"note {i}")
    size, leaves = leaf_pages(db, "notes")
    number, cells = leaves[0]
    row_id, record_at = cells[3]
    overwrite(db, (number - 1) * size + record_at, b"\x7f")  # a header longer than the record
    assert main(["export", "--csv", str(tmp_path / "csv"), "--db", str(db)]) == 1
    _, err = capsys.readouterr()
    assert f"notes row {row_id} " in " ".join(err.split())
    lines = (tmp_path / "csv" / "notes.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(lines) == 199


def test_a_damaged_page_in_the_way_of_writing_is_called_damage(
    desk: Path,
    healthy: list[tuple[Any, ...]],
    damaged: Damaged,
) -> None:
    db = damaged.db
    # Damage the page new samples go to as well (the last one): now writing fails.
    size, number = last_leaf_page(db, "posture_samples")
    overwrite(db, (number - 1) * size, b"\xba\xad\xf0\x0d" * (size // 4))

    result = coach(*RUN, desk, "--db", db)

    line = assert_one_line_error(result, "is damaged", "move it aside", "were saved to")
    (rescue,) = db.parent.glob("coach.sqlite3.rescue-*.jsonl")
    assert str(rescue) in line
    # The advice works: move it aside, and the next coach starts afresh with the session.
    db.rename(db.with_name("damaged.sqlite3"))
    again = coach("log", "chin-tuck", "--reps", "3", "--db", db)
    assert again.returncode == 0, again.stderr
    assert last_session_samples(db) == healthy
    assert not list(db.parent.glob("*.rescue-*"))


def last_leaf_page(db: Path, table: str) -> tuple[int, int]:
    """The page size and a table's last leaf, found through its root alone."""
    data = db.read_bytes()
    size = int.from_bytes(data[16:18], "big")
    ((root,),) = rows(db, f"SELECT rootpage FROM sqlite_master WHERE name = '{table}'")
    page = data[(root - 1) * size : root * size]
    assert page[0] == 0x05  # interior: its right-most child is the last leaf
    return size, int.from_bytes(page[8:12], "big")


# Private files.


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_what_the_coach_creates_is_private(
    desk: Path, private_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = platformdirs.user_data_path("coach", appauthor=False)
    assert not data.exists()
    assert main(["log", "cat-cow", "--reps", "5", "--note", "lower back pain today"]) == 0
    assert main(["calibrate", str(desk), "--profile", "desk", "--seconds", "2"]) == 0
    assert main(["export", "--csv", str(tmp_path / "out" / "csv")]) == 0
    assert main(["report", "--out", str(tmp_path / "report")]) == 0
    capsys.readouterr()

    db = data / "coach.sqlite3"
    folders = [data, data / "profiles", tmp_path / "out", tmp_path / "out" / "csv"]
    folders.append(tmp_path / "report")
    for folder in folders:
        assert mode_of(folder) == 0o700, folder
    files = [db, data / "profiles" / "desk.json", *(tmp_path / "out" / "csv").iterdir()]
    files += list((tmp_path / "report").iterdir())
    assert len(files) == 2 + len(TABLES) + 4  # + report.html and three charts
    for file in files:
        assert mode_of(file) == 0o600, file

    # An older coach's 0644 files in a 0755 folder are tightened when next opened.
    db.chmod(0o644)
    data.chmod(0o755)
    with sqlite3.connect(db) as conn:  # leaves -wal and -shm, made 0644 from the database
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("INSERT INTO notes (t, text) VALUES (1, 'x')")
        held = sqlite3.connect(db)
        held.execute("SELECT count(*) FROM notes").fetchone()
    try:
        assert main(["log", "cat-cow", "--reps", "5"]) == 0
        assert mode_of(data) == 0o700
        for file in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert mode_of(file) == 0o600, file
    finally:
        held.close()
        conn.close()


def test_a_read_only_database_is_not_made_writable(tmp_path: Path) -> None:
    db = tmp_path / "coach.sqlite3"
    SessionLog(db).close()
    db.chmod(0o444)
    with open_for_reading(db):
        pass
    assert mode_of(db) == 0o400  # tightened, still read-only


# `coach report` output and options.


def test_report_goes_to_stdout(tmp_path: Path) -> None:
    db = tmp_path / "coach.sqlite3"
    seed_history(db)
    result = coach("report", "--db", db, env={"FORCE_COLOR": ""})
    assert result.returncode == 0, result.stderr
    assert "Daily summary" in result.stdout and "Weekly trend" in result.stdout
    assert "Daily summary" not in result.stderr
    report_file = tmp_path / "report.txt"
    with report_file.open("w") as handle:  # `coach report > report.txt`
        done = subprocess.run(
            [sys.executable, "-m", "coach", "report", "--db", str(db)],
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
    assert done.returncode == 0, done.stderr
    assert "Daily summary" in report_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("days", ["1e9", "1000000000", "-3", "seven"])
def test_report_days_out_of_range_is_one_line(tmp_path: Path, days: str) -> None:
    db = tmp_path / "coach.sqlite3"
    seed_history(db)
    assert_one_line_error(coach("report", "--days", days, "--db", db), "--days must be", repr(days))


# The tests themselves never touch the developer's folders.


def test_tests_run_in_a_private_home(private_home: Path, tmp_path: Path) -> None:
    def inside_home(path: Path) -> bool:
        return path.resolve().is_relative_to(private_home.resolve())

    for where in (
        platformdirs.user_data_path("coach", appauthor=False),
        platformdirs.user_config_path("coach", appauthor=False),
        platformdirs.user_state_path("coach", appauthor=False),
        platformdirs.user_cache_path("coach", appauthor=False),
        Path.home(),
    ):
        assert inside_home(where), where
    assert not inside_home(REAL_USER_DATA)

    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import platformdirs, pathlib; print(platformdirs.user_data_path('coach', "
            "appauthor=False)); print(platformdirs.user_config_path('coach', appauthor=False)); "
            "print(pathlib.Path.home())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in child.stdout.splitlines():
        assert inside_home(Path(line)), line

    def real_state() -> list[tuple[str, int, float]] | None:
        if not REAL_USER_DATA.exists():
            return None
        return sorted(
            (str(p), p.stat().st_size, p.stat().st_mtime) for p in REAL_USER_DATA.rglob("*")
        )

    before = real_state()
    assert main(["log", "cat-cow", "--reps", "2", "--note", "test"]) == 0  # no --db: default
    result = coach("log", "cat-cow", "--reps", "2")
    assert result.returncode == 0, result.stderr
    db = platformdirs.user_data_path("coach", appauthor=False) / "coach.sqlite3"
    assert rows(db, "SELECT count(*) FROM sets") == [(2,)]
    assert real_state() == before
