"""Tests for the live benchmark's pieces (benchmarks/bench_live.py): the scripted session and its
truth, the MJPEG server's pacing, the /proc sampler, the figures read from an event log, the
working day replayed; and, marked slow, one short `coach run` measured end to end."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from benchmarks import bench_live, day_replay, live_session, mjpeg_server
from coach.actions.event_log import EventLog
from coach.analyzer import Analyzer
from coach.config import Config, LoopConfig, load_config
from coach.movements import load_library
from coach.pipeline import RateGate
from coach.records import Look
from testkit.synthetic import Camera, synthetic_pose, synthetic_sample

CONFIG = Config()


def fixed_rate(fps: float) -> Config:
    """The default config with every loop rate at `fps`: the harness is tested on a rate it
    knows, whatever rate policy the coach has."""
    rates = {f.name: fps for f in dataclasses.fields(LoopConfig) if f.name.endswith("_fps")}
    return dataclasses.replace(CONFIG, loop=dataclasses.replace(CONFIG.loop, **rates))


@pytest.mark.parametrize("script", [live_session.FULL, live_session.QUICK], ids=["full", "quick"])
def test_the_session_script_and_its_truth_agree(script: live_session.Script) -> None:
    truth = live_session.truth(script)
    segments = truth["segments"]
    assert segments[0]["start_s"] == 0.0 and segments[-1]["end_s"] == truth["duration_s"]
    for a, b in itertools.pairwise(segments):
        assert a["end_s"] == b["start_s"] and a["start_s"] < a["end_s"]
    # The slouch is held well past the hold the session is played with.
    hold_s = truth["nudge_hold_s"] + CONFIG.slouch.enter_after_s + CONFIG.slouch.glance_s
    assert script.slouch_hold_s >= hold_s + 4.0
    assert script.measure_still_from_s >= 2 * CONFIG.calibration.calibrate_s
    assert script.tail_s > CONFIG.reps.recognise_max_period_s + 2.0  # the set is seen to end
    t, tracks = live_session.tracks(script)
    assert len(t) == truth["frames"] and np.allclose(np.diff(t), 1 / 30)

    def at(t_s: float) -> int:
        return round(t_s * live_session.FPS)

    present = tracks["present"] > 0.5
    gone = (t >= truth["leave_s"]) & (t < truth["return_s"])
    assert not present[gone].any() and present[~gone].all()
    slouch = tracks["head_drop"]
    mid = at((truth["slouch_start_s"] + truth["slouch_end_s"]) / 2)
    assert slouch[mid] == pytest.approx(0.15, abs=0.01)
    assert abs(slouch[at(truth["slouch_start_s"]) - 30]) < 0.01  # upright a second before
    assert slouch[at(truth["slouch_start_s"])] == pytest.approx(0.075, abs=0.01)  # the midpoint
    # One cow (chest lifted) per rep inside the set, none outside it.
    lift = tracks["chest_lift"] > 0.06
    cows = np.flatnonzero(lift[1:] & ~lift[:-1]) / live_session.FPS
    assert len(cows) == truth["reps"] == script.reps
    assert truth["set_start_s"] - 1 < cows[0] and cows[-1] < truth["set_end_s"]
    # Sitting still and typing: no slouch, no standing, no cat-cow.
    quiet = slice(0, at(truth["slouch_start_s"]) - 30)
    assert np.abs(tracks["head_drop"][quiet]).max() < 1e-9
    assert np.abs(tracks["shift_y_px"][quiet]).max() < 5.0
    assert np.abs(tracks["head_pitch"][quiet]).max() < 5.0


def test_frames_past_the_end_repeat_the_last_second() -> None:
    assert [mjpeg_server.frame_at(i, 100, 30) for i in (0, 99)] == [0, 99]
    assert [mjpeg_server.frame_at(i, 100, 30) for i in (100, 129, 130)] == [70, 99, 70]


def _tiny_session(folder: Path, n: int) -> None:
    """n JPEG frames, frame i a grey of level 2i (to tell them apart), as the cache keeps them."""
    folder.mkdir()
    offsets = [0]
    with (folder / "frames.bin").open("wb") as out:
        for i in range(n):
            image = np.full((48, 64, 3), 2 * i, np.uint8)
            jpeg = cv2.imencode(".jpg", image)[1].tobytes()
            out.write(jpeg)
            offsets.append(offsets[-1] + len(jpeg))
    np.save(folder / "index.npy", np.asarray(offsets, dtype=np.int64))


def test_the_server_plays_the_frames_live_at_30_fps_from_its_own_process(tmp_path: Path) -> None:
    _tiny_session(tmp_path / "s", 45)
    server = bench_live.Server(tmp_path / "s")
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url, timeout=10) as stream:
            started = time.monotonic()
            data = b""
            while time.monotonic() - started < 2.0:
                data += stream.read1(65536)
        start_wall_s = server.started(timeout_s=5)
    finally:
        server.close()
    assert start_wall_s is not None and abs(start_wall_s - time.time()) < 10
    parts = data.split(b"--frame\r\n")[1:-1]  # the last may be cut short
    assert 50 <= len(parts) <= 62  # 30 per second, give or take the first and the last
    levels = []
    for part in parts:
        jpeg = part.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n")
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
        levels.append(round(float(image.mean()) / 2))
    # In order from the first frame; past the 45th, the last second (frames 15-44) again.
    assert levels[:45] == list(range(45))
    assert levels[45:] == list(range(15, 15 + len(levels) - 45))


def test_the_sampler_counts_the_cpu_of_every_thread(tmp_path: Path) -> None:
    burner = (
        "import threading, time\n"
        "def burn():\n"
        "    t = time.thread_time()\n"
        "    while time.thread_time() - t < 0.6: pass\n"
        "th = threading.Thread(target=burn); th.start(); th.join()\n"
        "print('burnt', flush=True); time.sleep(30)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", burner], stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            sampler = bench_live.Sampler(child.pid, period_s=0.05).start()
            assert child.stdout is not None and child.stdout.readline().strip() == "burnt"
            time.sleep(0.3)
            sampler.stop()
            last = sampler.samples[-1]
            assert 0.6 <= last.cpu_s <= 1.2  # the thread's 0.6 s, and Python's start-up
            assert last.rss_mb > 3 and last.peak_rss_mb >= last.rss_mb
            # The last 0.3 s were asleep: nearly no CPU per second.
            assert bench_live.cpu_rate(sampler.samples, last.wall_s - 0.25, last.wall_s) < 0.2
        finally:
            child.kill()
    assert bench_live.read_proc(child.pid) is None  # gone: nothing to read


def test_cpu_rate_interpolates_between_readings() -> None:
    samples = [bench_live.ProcSample(float(t), 0.5 * t, 100.0, 120.0) for t in range(0, 11, 2)]
    assert bench_live.cpu_rate(samples, 1.0, 9.0) == pytest.approx(0.5)
    assert bench_live.cpu_rate(samples, 9.0, 20.0) == pytest.approx(0.5 * 1 / 11)  # flat past it


def _scripted_log(tmp_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any], float]:
    """An event log of the coach's decisions on a scripted stream (synthetic landmarks through
    the analyzer, at the rate it asks for out of a 30 fps camera), its truth, its start."""
    parts: list[tuple[str, float]] = [
        ("still", 20.0),
        ("slouch", 15.0),
        ("still", 5.0),
        ("away", 10.0),
        ("still", 8.0),
        ("cat-cow", 5 * 4.0),
        ("still", 15.0),
    ]
    starts = np.cumsum([0.0] + [s for _, s in parts])
    truth = {
        "duration_s": float(starts[-1]),
        "still_measured_s": [10.0, 20.0],
        "slouch_start_s": starts[1],
        "slouch_end_s": starts[2],
        "leave_s": starts[3],
        "return_s": starts[4],
        "set_start_s": starts[5],
        "set_end_s": starts[6],
        "reps": 5,
        "movement": "cat-cow",
        "nudge_hold_s": CONFIG.nudge.hold_s,
        "segments": [
            {"name": kind, "start_s": float(a), "end_s": float(b)}
            for (kind, _), a, b in zip(parts, starts, starts[1:], strict=False)
        ],
    }
    t0_wall = 5000.0
    analyzer = Analyzer(fixed_rate(10.0), load_library(), calibrate_s=3.0)
    now = [0.0]
    log = EventLog(
        tmp_path / "events.jsonl", rate=lambda: analyzer.look_plan.fps, clock=lambda: now[0]
    )
    gate = RateGate(lambda: analyzer.look_plan)
    rng = np.random.default_rng(4)
    for i in range(round(truth["duration_s"] * 30)):
        t_s = i / 30
        if gate.admit(t_s) is not Look.ANALYSE:
            continue
        part = int(np.searchsorted(starts, t_s, side="right")) - 1
        kind = parts[part][0]
        body = day_replay.body(kind, t_s, t_s - starts[part])
        pose = synthetic_pose(body, Camera(), noise_px=0.5, rng=rng) if body else None
        now[0] = t0_wall + t_s + 0.05  # the analysis takes 50 ms
        log.update(analyzer.update(synthetic_sample(pose, t_s)), None)
    log.close()
    return bench_live.read_events(tmp_path / "events.jsonl"), truth, t0_wall


def test_the_figures_of_a_run_come_from_its_event_log_and_readings(tmp_path: Path) -> None:
    lines, truth, t0_wall = _scripted_log(tmp_path)
    spawn = t0_wall - 1.5
    # CPU: 0.5 s of start-up, then 0.1 CPU-s per s, 0.3 during the set.
    readings = []
    for k in range(0, round((truth["duration_s"] + 1.5) * 4) + 1):
        wall = spawn + k / 4
        t_s = wall - t0_wall
        cpu = 0.5 * min(1.0, (wall - spawn) / 1.5) + 0.1 * max(t_s, 0.0)
        cpu += 0.2 * min(max(t_s - truth["set_start_s"], 0.0), 20.0)
        readings.append(bench_live.ProcSample(wall, cpu, 150.0, 160.0 + k / 100))
    run = bench_live.figures("coach", truth, lines, readings, spawn, t0_wall)
    assert run.first_landmark_s == pytest.approx(1.5 + 0.05, abs=0.01)
    assert run.cpu_still == pytest.approx(0.1, abs=1e-6)
    assert run.cpu_steady == pytest.approx((0.1 * 93 + 0.2 * 20) / 93, rel=0.02)
    assert run.cpu_session == pytest.approx((0.5 + 0.1 * 93 + 0.2 * 20) / 94.5, rel=0.01)
    assert run.peak_rss_mb == readings[-1].peak_rss_mb
    hold = CONFIG.slouch.enter_after_s
    assert run.slouch_flip_s is not None and 0 < run.slouch_flip_s <= hold + 3.0
    assert run.away_s is not None and 1.0 < run.away_s <= 5.0
    assert run.back_s is not None and run.back_s < 1.0
    assert run.still_fps == pytest.approx(10.0, abs=0.3)
    assert run.set_fps == pytest.approx(10.0, abs=0.3)
    assert (run.reps, run.reps_how) == (5, "recognised set")
    assert (run.false_slouches, run.slouches_in_set, run.false_aways) == (0, 0, 0)
    # Part by part: the CPU readings' slope and the analysed frames.
    assert [part for part, _, _ in run.by_part][:2] == ["still 0-20 s", "slouch 20-35 s"]
    away_part = run.by_part[3]
    assert away_part[0] == "away 40-50 s" and away_part[1] == pytest.approx(0.1)
    assert away_part[2] == pytest.approx(10.0, abs=0.3)
    assert run.by_part[5][1] == pytest.approx(0.3, abs=0.01)  # the set: 0.1 + 0.2
    assert run.slouch_nudge_s is None  # the default hold (45 s) is longer than the slouch
    verdicts = dict(bench_live.report(run, None, truth, CONFIG, out=lambda _: None))
    assert verdicts["peak RSS, MB"] is True
    assert verdicts["CPU-s per s, whole session with start-up"] is False


def test_the_every_frame_config_raises_every_loop_rate(tmp_path: Path) -> None:
    for every, expected in ((False, LoopConfig()), (True, None)):
        path = tmp_path / f"{every}.toml"
        path.write_text(bench_live.config_text(live_session.FULL, every_frame=every))
        config = load_config(path)
        assert config.nudge.hold_s == live_session.FULL.nudge_hold_s
        assert config.prompts.working_hours == "" and not config.preview.show_window
        if expected is not None:
            assert config.loop == expected
        else:
            rates = [v for k, v in vars(config.loop).items() if k.endswith("_fps")]
            assert len(rates) >= 3 and set(rates) == {30.0}


def test_a_working_day_is_eight_hours_of_desk_life() -> None:
    day = day_replay.working_day(8.0)
    assert sum(s for _, s in day) == pytest.approx(8 * 3600)
    seconds: dict[str, float] = {}
    for kind, s in day:
        seconds[kind] = seconds.get(kind, 0.0) + s
    assert seconds["still"] + seconds["typing"] > 0.6 * 8 * 3600  # mostly sitting
    assert seconds["slouch"] > 0 and seconds["away"] > 3600
    assert seconds["cat-cow"] == 2 * day_replay.SET_REPS * 4.0


def test_the_day_replay_makes_poses_only_at_the_rate_asked_for() -> None:
    day = [("still", 120.0), ("slouch", 60.0), ("stand", 20.0), ("away", 60.0)]
    day += [("still", 60.0), ("cat-cow", 24.0), ("still", 30.0)]
    result = day_replay.replay_day(day, fixed_rate(10.0))
    assert result.seconds == 374.0 and result.every_frame == 374 * 30
    assert result.inferences == sum(result.by_kind.values()) == sum(result.by_rate.values())
    assert result.by_rate == {10.0: result.inferences}
    assert result.inferences == pytest.approx(3740, abs=2)  # a 30 fps camera gated to 10
    assert result.by_kind["away"] == pytest.approx(600, abs=2)
    # The decisions are the coach's: one slouch, one absence, the set and its reps.
    assert result.slouch_flips == 1 and result.away_flips == 1
    assert [(s.movement, s.reps, s.recognised) for s in result.sets] == [("cat-cow", 6, True)]


@pytest.mark.slow
def test_one_short_coach_run_is_measured_end_to_end(tmp_path: Path) -> None:
    """The harness on a 24-second session (played in real time, hence ~30 s): the real model,
    stream, process and readings."""
    script = live_session.Script(
        still_s=8.0,
        typing_s=1.0,
        slouch_hold_s=5.0,
        upright_s=1.0,
        away_s=5.0,
        back_s=1.0,
        reps=0,
        tail_s=1.0,
        nudge_hold_s=2.0,
        measure_still_from_s=5.0,
        stand_s=1.0,
    )
    session = live_session.ensure_session(script, "tiny", cache=tmp_path / "cache", jobs=1)
    assert (tmp_path / "cache" / ".gitignore").read_text() == "*\n"
    assert (session.folder / "frames.bin").stat().st_size > 100_000
    messages: list[str] = []
    run = bench_live.run_coach(
        "coach", session, script, tmp_path, every_frame=False, say=messages.append
    )
    assert run.first_landmark_s is not None and run.first_landmark_s < 10
    assert 0 < run.cpu_steady < 2.0 and run.peak_rss_mb > 50
    assert 0 < run.still_fps <= 30.5  # whatever the rate policy, at most the camera's
    assert run.away_s is not None and run.away_s <= 8.0
    assert run.analysed > 10
    assert (tmp_path / "coach" / "terminal.log").stat().st_size > 0  # the dashboard drew
    # Kept, the run's figures can be printed again from its folder.
    assert bench_live.kept_run(tmp_path / "coach", session.truth) == run
