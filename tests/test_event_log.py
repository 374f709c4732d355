"""Tests for the event log (`coach run --events FILE`): one JSON line per change of the decisions."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np

from coach.actions.event_log import EventLog, read_event_log
from coach.analyzer import Analyzer
from coach.config import Config
from coach.decisions.stages import GuidedSet
from coach.movements import load_library
from coach.pose.landmark_file import LandmarkWriter
from coach.records import PoseSample
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample
from tests.conftest import REPO
from tests.test_exercise import cat_cow_body

FPS = 10.0
SLOUCHED = BodyPose(rounding=0.8, forward_head_m=0.04, pitch_deg=8.0)


def script(parts: list[tuple[BodyPose | None, float]], seed: int = 0) -> list[PoseSample]:
    """Samples at FPS: each part is a body (None: nobody in view) held for some seconds,
    or a callable of the time into the part."""
    rng = np.random.default_rng(seed)
    samples, t_s = [], 0.0
    for body, seconds in parts:
        for i in range(round(seconds * FPS)):
            b = body(i / FPS) if callable(body) else body
            pose = synthetic_pose(b, Camera(), noise_px=0.5, rng=rng) if b is not None else None
            samples.append(synthetic_sample(pose, t_s))
            t_s += 1 / FPS
    return samples


def replay(
    samples: list[PoseSample], path: Path, guided: GuidedSet | None = None
) -> list[dict[str, object]]:
    """Every sample through the analyzer and the event log; the wall clock is stream time + 1000."""
    analyzer = Analyzer(Config(), load_library(), calibrate_s=3.0, guided=guided)
    now = [0.0]
    log = EventLog(path, rate=lambda: analyzer.look_plan.fps, clock=lambda: now[0])
    for sample in samples:
        now[0] = 1000.0 + sample.t_s
        log.update(analyzer.update(sample), None)
    log.close()
    return read_event_log(path)


def first(lines: list[dict[str, object]], after_s: float, **fields: object) -> float:
    """Stream time of the first line at or after `after_s` with these field values."""
    for line in lines:
        t_s = float(line["t_s"])  # type: ignore[arg-type]
        if t_s >= after_s and all(line[k] == v for k, v in fields.items()):
            return t_s
    raise AssertionError(f"no line with {fields} after {after_s} s")


def test_a_line_per_change_and_a_heartbeat(tmp_path: Path) -> None:
    # Still 10 s (calibration: 3 s), slouched 12 s, upright 5 s, away 10 s, back 5 s.
    samples = script(
        [(BodyPose(), 10.0), (SLOUCHED, 12.0), (BodyPose(), 5.0), (None, 10.0), (BodyPose(), 5.0)]
    )
    path = tmp_path / "events.jsonl"
    lines = replay(samples, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # someone's posture: theirs alone
    assert lines[0]["pose"] is True and lines[0]["calibrating"] is True
    assert lines[0]["analysed"] == 1 and lines[0]["fps"] == Config().loop.posture_fps
    assert first(lines, 0.0, calibrating=False) <= 3.5
    # The slouch (from 10 s) flips the state within the detector's hold and median window.
    slouched_s = first(lines, 10.0, state="slouched")
    assert 10.0 < slouched_s <= 10.0 + Config().slouch.enter_after_s + 2.5
    assert first(lines, slouched_s, state="upright") <= 22.0 + 3.0
    assert 27.0 < first(lines, 27.0, activity="away") <= 27.0 + 5.0
    assert first(lines, 27.0, pose=False) < 27.5
    assert first(lines, 37.0, pose=True) < 37.5
    # Wall times follow the clock; the count is every snapshot; a line at least every second.
    assert all(line["wall_s"] == 1000.0 + line["t_s"] for line in lines)  # type: ignore[operator]
    times = [float(line["t_s"]) for line in lines]  # type: ignore[arg-type]
    assert max(np.diff(times)) <= 1.0 + 1.5 / FPS
    assert len(lines) < len(samples) / 3  # changes and heartbeats, not every snapshot
    counts = [line["analysed"] for line in lines]
    assert counts == sorted(counts) and counts[-1] <= len(samples)
    assert all(line["events"] == [] for line in lines)  # nothing happened: no nudge so soon


def test_reps_and_a_recognised_set_are_logged(tmp_path: Path) -> None:
    cat_cow = (cat_cow_body, 5 * 4.0)
    samples = script([(BodyPose(), 8.0), cat_cow, (BodyPose(), 15.0)], seed=1)  # type: ignore[list-item]
    lines = replay(samples, tmp_path / "events.jsonl")
    events = [e for line in lines for e in line["events"]]  # type: ignore[attr-defined]
    sets = [e for e in events if e["type"] == "set"]
    assert sets == [
        {**sets[0], "type": "set", "movement": "cat-cow", "reps": 5, "recognised": True}
    ]
    # A recognised set shows its counter from the third rep on; each count is a line.
    live = [line["set"] for line in lines if line["set"] is not None]
    counts = [s["reps"] for s in live]  # type: ignore[index]
    assert counts == sorted(counts) and set(counts) == {3, 4, 5}
    assert {s["movement"] for s in live} == {"cat-cow"}  # type: ignore[index]
    # Counting reps raises the analysis rate; it is logged as it changes.
    assert {line["fps"] for line in lines} >= {
        Config().loop.posture_fps,
        Config().loop.exercise_fps,
    }


def test_each_rep_of_a_guided_set_is_an_event(tmp_path: Path) -> None:
    samples = script([(BodyPose(), 4.0), (cat_cow_body, 4 * 4.0), (BodyPose(), 3.0)], seed=3)  # type: ignore[list-item]
    lines = replay(samples, tmp_path / "events.jsonl", guided=GuidedSet("cat-cow", 4))
    events = [e for line in lines for e in line["events"]]  # type: ignore[attr-defined]
    assert [e["reps"] for e in events if e["type"] == "rep"] == [1, 2, 3, 4]
    assert [e["reps"] for e in events if e["type"] == "set"] == [4]


def coach(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "coach", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


def test_coach_run_writes_the_event_log_and_never_replaces_a_file(tmp_path: Path) -> None:
    recording = tmp_path / "day.jsonl"
    samples = script([(BodyPose(), 8.0), (SLOUCHED, 8.0), (None, 6.0)], seed=2)
    with LandmarkWriter(recording, source="test", fps=FPS, image_size=(640, 480)) as writer:
        for sample in samples:
            writer.write(sample)
    events = tmp_path / "events.jsonl"
    args = ["run", str(recording), "--no-window", "--no-history", "--calibrate-seconds", "3"]
    result = coach(tmp_path, *args, "--events", str(events))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(text) for text in events.read_text().splitlines()]
    assert {line["state"] for line in lines} >= {"upright", "slouched", "away"}
    assert lines[-1]["activity"] == "away"
    # Run again onto the same file: refused in one line, the log kept as it was.
    before = events.read_bytes()
    again = coach(tmp_path, *args, "--events", str(events))
    assert again.returncode == 1
    assert again.stderr.strip().startswith("coach: error: --events")
    assert "already exists" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert events.read_bytes() == before
    # Nor can it be the recording it reads.
    same = coach(tmp_path, *args, "--events", str(recording))
    assert same.returncode == 1 and "is the input itself" in same.stderr
