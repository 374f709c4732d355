"""Long work shows a bar with the time left on a terminal, never in piped output; `coach analyze`
without --json sums the video up for a person."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from coach.actions.analysis_summary import clock, summary_lines
from tests.conftest import sample_clip

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _on_a_terminal(args: list[str], cwd: Path, timeout_s: float = 120) -> tuple[int, str]:
    """Run `python -m coach ARGS` with a pseudo-terminal as stdin, stdout and stderr."""
    main, child = os.openpty()
    env = {**os.environ, "COLUMNS": "140", "LINES": "40", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "coach", *args],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=cwd,
        env=env,
        close_fds=True,
    )
    os.close(child)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([main], [], [], timeout_s)
            if not ready:
                raise AssertionError("no output for too long: " + b"".join(chunks).decode()[-800:])
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(main)
    code = proc.wait(timeout=timeout_s)
    return code, ANSI.sub("", b"".join(chunks).decode("utf-8", errors="replace"))


def _report(**changes: object) -> dict[str, object]:
    report: dict[str, object] = {
        "frames": 5400,
        "duration_s": 360.0,
        "fps": 15.0,
        "view": "front",
        "samples": [],
        "slouch": {"seconds": 95.5, "intervals_s": [[19.2, 46.0], [76.0, 144.7]]},
        "nudges": [{"t_s": 121.0, "reason": "forward_head", "movement": "chin-tuck"}],
        "reps": {"cat-cow": 6, "lateral-flexion": {"left": 3, "right": 4}},
        "stationary": {
            "longest_still_s": 200.0,
            "still_intervals_s": [[0.0, 10.0], [150.0, 350.0]],
            "away_intervals_s": [[350.0, 360.0]],
        },
    }
    return {**report, **changes}


def test_the_summary_says_when_slouched_nudges_stillness_away_and_reps() -> None:
    names = {"chin-tuck": "Chin tuck"}
    lines = summary_lines("desk.mp4", _report(), names.__getitem__)
    assert lines == [
        "desk.mp4: 6 min 00 s of video (5400 frames at 15.0 fps), front view",
        "Slouched: 1 min 36 s (27% of the time), at 0:19-0:46, 1:16-2:25",
        "Nudges: 1 (2:01 forward head: Chin tuck)",
        "Longest still stretch: 3 min 20 s (2:30-5:50)",
        "Away: 10 s, at 5:50-6:00",
        "Reps: seated cat-cow 6; lateral flexion 3 left, 4 right",
    ]


def test_the_summary_of_a_quiet_video_says_never_and_none() -> None:
    quiet = _report(
        slouch={"seconds": 0.0, "intervals_s": []},
        nudges=[],
        reps={"cat-cow": 0, "lateral-flexion": {"left": 0, "right": 0}},
        stationary={"longest_still_s": 0.0, "still_intervals_s": [], "away_intervals_s": []},
    )
    assert summary_lines("x.mp4", quiet, str)[1:] == [
        "Slouched: never",
        "Nudges: none",
        "Longest still stretch: none",
        "Away: never",
        "Reps: none",
    ]
    assert clock(3725.4) == "1:02:05"


@pytest.mark.slow
def test_analyze_shows_a_bar_on_a_terminal_and_sums_up_what_the_json_says(
    model_path: Path, tmp_path: Path
) -> None:
    clip = str(sample_clip("slouch"))
    args = ["analyze", clip, "--max-seconds", "30"]
    piped = subprocess.run(
        [sys.executable, "-m", "coach", *args, "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert "━" not in piped.stderr and "left" not in piped.stderr  # no bar into a pipe
    report = json.loads(piped.stdout)
    assert report["slouch"]["intervals_s"], report["slouch"]  # the clip slouches from ~0:19

    code, screen = _on_a_terminal(args, tmp_path)
    assert code == 0, screen
    assert re.search(r"analysing slouch\.mp4 .*━.* \d+ of 30 s of video .* left", screen), screen
    expected = summary_lines("slouch.mp4", report, str)
    summary = [line.strip() for line in screen.splitlines() if line.strip()][-len(expected) :]
    assert summary[1:] == [line for line in expected[1:]], screen
    first = report["slouch"]["intervals_s"][0]
    assert f"at {clock(first[0])}-{clock(first[1])}" in summary[1]


@pytest.mark.slow
def test_record_of_a_file_shows_a_bar_on_a_terminal(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "pose.jsonl"
    args = ["record", str(sample_clip("neutral")), "--landmarks", str(out), "--max-seconds", "8"]
    code, screen = _on_a_terminal(args, tmp_path)
    assert code == 0, screen
    assert re.search(r"recording neutral\.mp4 .* of 8 s of video .* left", screen), screen
    assert f"pose samples to {out}" in screen.replace("\n", "")
