"""Fault matrix, signals: SIGTERM, SIGHUP, kill -9 and Ctrl-C lose (almost) nothing."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import pty
import signal
import sqlite3
import struct
import subprocess
import termios
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import cv2
import pytest

from coach.cli import main
from coach.history.session_log import SessionLog
from coach.pose.landmark_file import LandmarkReader, LandmarkWriter
from tests.conftest import make_pose, sample_clip, sample_of
from tests.mjpeg_camera import start_coach, wait_for


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=5) as conn:
        return conn.execute(sql).fetchall()


def _coaching(db: Path) -> bool:
    """Whether the session's first rows are committed."""
    try:
        return bool(db.exists() and query(db, "SELECT count(*) FROM posture_samples")[0][0])
    except sqlite3.OperationalError:  # the schema is not written yet
        return False


# `coach run`: a clean stop on SIGTERM / SIGHUP, a short loss on kill -9.


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "clean", "max_lost_s"),
    [(signal.SIGTERM, 1, 1.0), (signal.SIGHUP, 1, 1.0), (signal.SIGKILL, 0, 2.0)],
    ids=["SIGTERM", "SIGHUP", "SIGKILL"],
)
def test_a_signalled_coach_run_keeps_its_session(
    tmp_path: Path, signum: int, clean: int, max_lost_s: float
) -> None:
    db = tmp_path / "coach.sqlite3"
    # A video played at its own speed is coached (and logged) like a camera.
    args = ("run", str(sample_clip("neutral")), "--realtime", "--no-window", "--db", str(db))
    proc = start_coach(tmp_path, *args)
    try:
        wait_for(lambda: _coaching(db) or proc.poll() is not None, 60, "the first rows")
        assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
        time.sleep(2.2)  # mid-window: posture windows are 5 s long
        signalled_at = time.time()
        proc.send_signal(signum)
        # 0, not 128 + signal: the stop was asked for and nothing was lost (see coach/cli.py).
        assert proc.wait(timeout=20) == (-signal.SIGKILL if signum == signal.SIGKILL else 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "Traceback" not in stderr
    if signum != signal.SIGKILL:
        assert f"Stopped by {signal.Signals(signum).name}." in stderr
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    with SessionLog(db):  # the next run closes what a killed one left open
        pass
    ((started_at, ended_at, closed_cleanly),) = query(
        db, "SELECT started_at, ended_at, closed_cleanly FROM sessions"
    )
    assert closed_cleanly == clean
    lost_s = signalled_at - ended_at
    print(f"{signal.Signals(signum).name}: {lost_s:.2f} s lost")
    # Below 0: the session's clock starts at its first snapshot, a pose estimate after its frame.
    assert -1.0 <= lost_s <= max_lost_s
    ((covered_s,),) = query(db, "SELECT sum(window_s) FROM posture_samples")
    assert covered_s == pytest.approx(ended_at - started_at, abs=0.5)


# `coach count`: Ctrl-C or SIGTERM ends the set as if the user stopped it.


@pytest.fixture(scope="module")
def cat_cow_from_5s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cat-cow clip from 5 s (3 s sitting tall, then the reps): the first rep ends at 7 s."""
    source = cv2.VideoCapture(str(sample_clip("cat_cow")))
    fps = source.get(cv2.CAP_PROP_FPS)
    source.set(cv2.CAP_PROP_POS_FRAMES, int(5 * fps))
    path = tmp_path_factory.mktemp("clip") / "cat_cow_from_5s.mp4"
    writer: cv2.VideoWriter | None = None
    while True:
        ok, image = source.read()
        if not ok:
            break
        if writer is None:
            size = (image.shape[1], image.shape[0])
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
        writer.write(image)
    source.release()
    assert writer is not None
    writer.release()
    return path


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stopped_coach_count_reports_and_logs_the_reps_so_far(
    tmp_path: Path, cat_cow_from_5s: Path, signum: int
) -> None:
    db = tmp_path / "coach.sqlite3"
    # The live count is drawn only on a terminal: stderr is a pseudo-terminal, read as it goes.
    screen_fd, terminal_fd = pty.openpty()
    fcntl.ioctl(terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))
    args = ("count", str(cat_cow_from_5s), "--movement", "cat-cow", "--reps", "6")
    proc = start_coach(
        tmp_path,
        *args,
        "--no-window",
        "--json",
        "--db",
        str(db),
        stdout=subprocess.PIPE,
        stderr=terminal_fd,
        env={"TERM": "xterm-256color"},
    )
    os.close(terminal_fd)
    screen = bytearray()

    def read_screen() -> None:
        while True:
            try:
                data = os.read(screen_fd, 65536)
            except OSError:  # the child closed the terminal
                return
            if not data:
                return
            screen.extend(data)

    reader = threading.Thread(target=read_screen, daemon=True)
    reader.start()
    try:
        wait_for(lambda: b"1 of 6" in screen or proc.poll() is not None, 60, "the first rep")
        assert proc.poll() is None, screen.decode(errors="replace")
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        reader.join(timeout=5)
        os.close(screen_fd)
    text = screen.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    result = json.loads(out)
    assert 1 <= result["reps"] < 6, result  # counted so far, not the whole set
    assert "Set complete" in text  # the summary, as when a set ends
    ((reps, t, duration_s),) = query(db, "SELECT reps, t, duration_s FROM sets")
    assert reps == result["reps"]
    assert t + duration_s <= time.time()
    assert query(db, "SELECT closed_cleanly FROM sessions") == [(1,)]


# A landmark recording whose writer was killed: read up to the cut.


def test_a_cut_short_gz_recording_is_read_up_to_the_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = tmp_path / "whole.jsonl.gz"
    writer = LandmarkWriter(whole, source="cam", fps=5.0, image_size=(640, 480))
    for i in range(200):
        writer.write(sample_of(make_pose(i / 5), i / 5))
    # What a killed `coach record` leaves (under the recording's temporary name, since the
    # file is renamed into place only when it closes): every line flushed, no gzip end;
    # then cut mid-line.
    (partial,) = tmp_path.glob(".whole.jsonl.gz.*")
    flushed = partial.read_bytes()
    writer.close()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(flushed[: len(flushed) * 2 // 3])
    text = zlib.decompressobj(wbits=31).decompress(cut.read_bytes()).decode()
    complete = text.count("\n") - 1  # lines before the cut, less the header
    assert 50 < complete < 200 and not text.endswith("\n")
    with pytest.raises(EOFError):  # what used to refuse the whole file
        gzip.decompress(cut.read_bytes())

    warnings: list[str] = []
    reader = LandmarkReader(cut, warn=warnings.append)
    samples = list(reader.samples())
    assert [s.t_s for s in samples] == pytest.approx([i / 5 for i in range(complete)])
    assert reader.cut_short and len(warnings) == 1 and "cut short" in warnings[0]

    assert main(["analyze", str(cut), "--json", "--calibrate-seconds", "2"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["frames"] == complete
    lines = [line for line in captured.err.splitlines() if "cut short" in line]
    assert len(lines) == 1 and lines[0].startswith("coach: warning:"), captured.err


# A file read faster than real time is logged as a replay, never in the future.


def test_a_file_run_is_logged_as_a_replay_ending_when_the_run_ends(tmp_path: Path) -> None:
    recording = tmp_path / "desk.jsonl"
    with LandmarkWriter(recording, source="cam", fps=5.0, image_size=(640, 480)) as writer:
        for i in range(5 * 120):  # two minutes, replayed in about a second
            writer.write(sample_of(make_pose(i / 5, lean_deg=20.0 * (i > 300)), i / 5))
    db = tmp_path / "coach.sqlite3"
    before = time.time()
    assert main(["run", str(recording), "--no-window", "--db", str(db)]) == 0
    after = time.time()
    ((started_at, ended_at, closed),) = query(
        db, "SELECT started_at, ended_at, closed_cleanly FROM sessions"
    )
    assert closed == 1
    assert ended_at - started_at == pytest.approx(119.8)
    assert before <= ended_at <= after
    ((first, last, covered_s),) = query(
        db, "SELECT min(t), max(t + window_s), sum(window_s) FROM posture_samples"
    )
    assert first == pytest.approx(started_at)
    assert last == pytest.approx(ended_at)
    assert covered_s == pytest.approx(119.8)
    (latest,) = query(db, "SELECT max(t) FROM prompts")[0]
    assert latest is None or latest <= after
