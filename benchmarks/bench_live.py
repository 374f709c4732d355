"""Always-on cost: `coach run` on a live 30 fps MJPEG stream of a scripted session, measured.

    python benchmarks/bench_live.py [--quick] [--only coach|every-frame|day ...]

Plays benchmarks/live_session.py's session (rendered once, cached) from a local MJPEG
server in its own process, and runs `coach run URL --no-window --no-history --events FILE`
on it twice, one after the other on fresh streams: as configured (the coach), and with every
loop rate raised to the camera's 30 fps (every frame). While each runs, its CPU time (all
threads, /proc/PID/stat) and memory (/proc/PID/status) are sampled; its decisions come from
the event log. Then an 8-hour working day of landmarks goes through the decision layer at
the rate the coach asks for (benchmarks/day_replay.py). Prints each figure beside its target.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import dataclasses
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import day_replay, live_session
from coach.actions.event_log import read_event_log
from coach.config import Config, LoopConfig

REPO = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# The targets.
CPU_SESSION = 0.03
"""CPU-seconds per second over the scripted session."""
CPU_STILL = 0.02
"""CPU-seconds per second while the user sits still."""
STILL_RATIO = 30.0
"""...and at least this many times less than the every-frame loop."""
SLOUCH_MARGIN_S = 2.0
"""A slouch is caught within the hold plus this."""
AWAY_S = 5.0
SET_FPS = 15.0
FIRST_LANDMARK_S = 2.0
PEAK_RSS_MB = 250.0


# --------------------------------------------------------------------------------------------
# Sampling a process
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProcSample:
    """One reading of a process: when, CPU time so far (every thread), memory."""

    wall_s: float
    cpu_s: float
    rss_mb: float
    peak_rss_mb: float


def read_proc(pid: int) -> ProcSample | None:
    """CPU time (user + system, all threads, ever) and RSS now and at peak; None once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    wall_s = time.time()
    # The command name may hold spaces or brackets: the fields start after its last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    memory = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            memory[name] = int(value.split()[0]) / 1024  # kB -> MiB
    if "VmHWM" not in memory:  # a zombie: no memory left to read
        return None
    return ProcSample(wall_s, (utime + stime) / CLOCK_TICKS, memory["VmRSS"], memory["VmHWM"])


class Sampler:
    """Reads a process every `period_s` on a thread until stopped or the process is gone."""

    def __init__(self, pid: int, period_s: float = 0.25) -> None:
        self.pid = pid
        self.period_s = period_s
        self.samples: list[ProcSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proc-sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.period_s)

    def sample(self) -> ProcSample | None:
        reading = read_proc(self.pid)
        if reading is not None:
            self.samples.append(reading)
        return reading

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def interpolate(points: Sequence[tuple[float, float]], x: float) -> float:
    """Piecewise-linear y at x through (x, y) points sorted by x; held flat past the ends."""
    if not points:
        raise ValueError("no points")
    i = bisect.bisect_left(points, x, key=lambda p: p[0])
    if i == 0:
        return points[0][1]
    if i == len(points):
        return points[-1][1]
    (x0, y0), (x1, y1) = points[i - 1], points[i]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def slope(points: Sequence[tuple[float, float]], start_x: float, end_x: float) -> float:
    """How much y grows per unit of x from `start_x` to `end_x` (interpolated between points)."""
    return (interpolate(points, end_x) - interpolate(points, start_x)) / max(end_x - start_x, 1e-9)


def cpu_rate(samples: Sequence[ProcSample], start_wall_s: float, end_wall_s: float) -> float:
    """CPU-seconds per wall-second between two wall times (interpolated between readings)."""
    return slope([(s.wall_s, s.cpu_s) for s in samples], start_wall_s, end_wall_s)


# --------------------------------------------------------------------------------------------
# Reading the coach's decisions
# --------------------------------------------------------------------------------------------
def read_events(path: Path) -> list[dict[str, Any]]:
    """The event log's lines (a line cut short is left out); none if it was never written."""
    return read_event_log(path) if path.exists() else []


def first_wall(
    lines: Sequence[dict[str, Any]],
    after_wall_s: float,
    test: Callable[[dict[str, Any]], bool],
    before_wall_s: float = float("inf"),
) -> float | None:
    """Wall time of the first line in [after, before) that passes `test` (None: a miss)."""
    return next(
        (ln["wall_s"] for ln in lines if after_wall_s <= ln["wall_s"] < before_wall_s and test(ln)),
        None,
    )


def analysed_rate(lines: Sequence[dict[str, Any]], start_wall_s: float, end_wall_s: float) -> float:
    """Frames analysed per second between two wall times (the log's running count)."""
    points = [(ln["wall_s"], float(ln["analysed"])) for ln in lines]
    return slope(points, start_wall_s, end_wall_s) if points else 0.0


def count_flips(
    lines: Sequence[dict[str, Any]], key: str, value: str, start_wall_s: float, end_wall_s: float
) -> int:
    """How often `key` turned to `value` between two wall times."""
    flips, before = 0, None
    for ln in lines:
        now = ln[key]
        if start_wall_s <= ln["wall_s"] < end_wall_s and now == value and before != value:
            flips += 1
        before = now
    return flips


@dataclass
class RunFigures:
    """What one `coach run` did on the session."""

    name: str
    cpu_session: float
    """CPU-s per s from the start of the process to the end of the session."""
    cpu_steady: float
    """...from the first landmark on."""
    cpu_still: float
    """...over the still stretch measured."""
    peak_rss_mb: float
    first_landmark_s: float | None
    slouch_flip_s: float | None
    slouch_nudge_s: float | None
    away_s: float | None
    away_state_s: float | None
    back_s: float | None
    set_fps: float
    still_fps: float
    reps: int | None
    reps_how: str
    false_slouches: int
    """Flips to "slouched" outside the slouch (those during the set included)."""
    slouches_in_set: int
    false_aways: int
    analysed: int
    session_s: float
    by_part: list[tuple[str, float, float]] = field(default_factory=list)
    """(part of the session, CPU-s per s, analysed frames per s) for each part."""


def figures(
    name: str,
    truth: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    samples: Sequence[ProcSample],
    spawn_wall_s: float,
    t0_wall_s: float,
) -> RunFigures:
    """The run's figures, from its event log and its /proc readings; times against the truth."""

    def at(t_s: float) -> float:  # a stream time of the session, as wall time
        return t0_wall_s + t_s

    end = at(truth["duration_s"])
    first = first_wall(lines, spawn_wall_s, lambda ln: ln["pose"])
    still_from, still_to = truth["still_measured_s"]
    # Each reaction is looked for from its cause until a little after the cause is over.
    slouched = (at(truth["slouch_start_s"]), at(truth["slouch_end_s"]) + 5.0)
    slouch_flip = first_wall(lines, slouched[0], lambda ln: ln["state"] == "slouched", slouched[1])
    nudge = first_wall(
        lines,
        slouched[0],
        lambda ln: any(e["type"] == "nudge" and e["reason"] != "stationary" for e in ln["events"]),
        slouched[1],
    )
    gone = (at(truth["leave_s"]), at(truth["return_s"]) + 5.0)
    away = first_wall(lines, gone[0], lambda ln: ln["activity"] == "away", gone[1])
    away_state = first_wall(lines, gone[0], lambda ln: ln["state"] == "away", gone[1])
    back = first_wall(lines, at(truth["return_s"]), lambda ln: ln["pose"], at(truth["set_start_s"]))
    # The set: a finished set of the movement after it began; else the live count at the end.
    sets = [
        e
        for ln in lines
        if ln["wall_s"] >= at(truth["set_start_s"])
        for e in ln["events"]
        if e["type"] == "set" and e["movement"] == truth["movement"]
    ]
    live = [
        ln["set"]["reps"]
        for ln in lines
        if ln["wall_s"] >= at(truth["set_start_s"])
        and ln["set"] is not None
        and ln["set"]["movement"] == truth["movement"]
    ]
    if sets:
        reps: int | None = sum(e["reps"] for e in sets)
        how = (
            "recognised set"
            if all(e["recognised"] for e in sets)
            else "prompted set"
            if any(e.get("prompt_id") is not None for e in sets)
            else "guided set"
        )
        if len(sets) > 1:
            how += f" ({len(sets)} sets: {'+'.join(str(e['reps']) for e in sets)})"
    elif live:
        reps, how = max(live), "counting when stopped"
    else:
        reps, how = None, "no set seen"
    # Flips outside the slouch, those during the set (a "cat" taken for a slouch) told apart.
    in_set = (at(truth["set_start_s"]), at(truth["set_end_s"]) + 5.0)
    false_slouches = count_flips(lines, "state", "slouched", spawn_wall_s, end)
    false_slouches -= count_flips(lines, "state", "slouched", *slouched)
    slouches_in_set = count_flips(lines, "state", "slouched", *in_set)
    false_aways = count_flips(lines, "activity", "away", spawn_wall_s, end)
    false_aways -= count_flips(lines, "activity", "away", *gone)

    def since(wall: float | None, start_s: float) -> float | None:
        return None if wall is None else wall - at(start_s)

    cpu_from = first if first is not None else spawn_wall_s
    return RunFigures(
        name=name,
        cpu_session=cpu_rate(samples, spawn_wall_s, end),
        cpu_steady=cpu_rate(samples, cpu_from, end),
        cpu_still=cpu_rate(samples, at(still_from), at(still_to)),
        peak_rss_mb=max((s.peak_rss_mb for s in samples), default=float("nan")),
        first_landmark_s=None if first is None else first - spawn_wall_s,
        slouch_flip_s=since(slouch_flip, truth["slouch_start_s"]),
        slouch_nudge_s=since(nudge, truth["slouch_start_s"]),
        away_s=since(away, truth["leave_s"]),
        away_state_s=since(away_state, truth["leave_s"]),
        back_s=since(back, truth["return_s"]),
        set_fps=analysed_rate(lines, at(truth["set_start_s"]), at(truth["set_end_s"])),
        still_fps=analysed_rate(lines, at(still_from), at(still_to)),
        reps=reps,
        reps_how=how,
        false_slouches=max(false_slouches, 0),
        slouches_in_set=slouches_in_set,
        false_aways=max(false_aways, 0),
        analysed=lines[-1]["analysed"] if lines else 0,
        session_s=end - spawn_wall_s,
        by_part=[
            (
                f"{seg['name']} {seg['start_s']:g}-{seg['end_s']:g} s",
                cpu_rate(samples, at(seg["start_s"]), at(seg["end_s"])),
                analysed_rate(lines, at(seg["start_s"]), at(seg["end_s"])),
            )
            for seg in truth["segments"]
            if seg["end_s"] > seg["start_s"]
        ],
    )


# --------------------------------------------------------------------------------------------
# Running the server and the coach
# --------------------------------------------------------------------------------------------
def config_text(script: live_session.Script, every_frame: bool) -> str:
    """The TOML both runs use: the session's nudge hold, prompts at any hour, no window;
    every frame: each loop rate of [loop] at the camera's 30 fps."""
    lines = [
        "[nudge]",
        f"hold_s = {script.nudge_hold_s}",
        "desktop = false",
        "",
        "[prompts]",
        'working_hours = ""',
        'working_days = ""',
        "",
        "[preview]",
        "show_window = false",
    ]
    if every_frame:
        # Every rate the loop has, whatever they are called: all at the camera's rate.
        rates = [f.name for f in dataclasses.fields(LoopConfig) if f.name.endswith("_fps")]
        lines += ["", "[loop]", *(f"{name} = {float(live_session.FPS)}" for name in rates)]
        lines.append("glance = false")  # every frame to the pose model, none re-used
    return "\n".join(lines) + "\n"


def private_env(home: Path) -> dict[str, str]:
    """A private home: the coach reads and writes none of the user's folders."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(home)}
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(home / name.lower())
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
    return env


class Server:
    """benchmarks/mjpeg_server.py in its own process."""

    def __init__(self, folder: Path) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("mjpeg_server.py")), str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self._process.stdout is not None
        self._out: TextIO = self._process.stdout
        line = self._out.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            self.close()
            raise RuntimeError(f"the MJPEG server did not start (said {line!r})")
        self.url = f"http://127.0.0.1:{line[1]}/session.mjpg"
        self._start: float | None = None
        self._started = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        for line in self._out:
            if line.startswith("START "):
                self._start = float(line.split()[1])
                self._started.set()

    def started(self, timeout_s: float) -> float | None:
        """Wall time of frame 0 (the session starts with the first connection)."""
        self._started.wait(timeout_s)
        return self._start

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if hasattr(self, "_watcher"):
            self._watcher.join(5)  # it reads to the end of the server's output
        self._out.close()


def _drain(fd: int, log: Path, limit_bytes: int = 4 << 20) -> None:
    """Read the coach's terminal until it closes; keep the first few MB (for a failure)."""
    kept = 0
    with log.open("wb") as out:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other end closed
                return
            if not chunk:
                return
            if kept < limit_bytes:
                out.write(chunk[: limit_bytes - kept])
                kept += len(chunk)


def run_coach(
    name: str,
    session: live_session.Session,
    script: live_session.Script,
    work: Path,
    *,
    every_frame: bool,
    say: Callable[[str], None],
) -> RunFigures:
    """One `coach run` on a fresh live stream of the session, sampled; its figures."""
    truth = session.truth
    folder = work / name
    folder.mkdir()
    config = folder / "config.toml"
    config.write_text(config_text(script, every_frame))
    events = folder / "events.jsonl"
    server = Server(session.folder)
    command = [
        sys.executable,
        "-m",
        "coach",
        "run",
        server.url,
        "--no-window",
        "--no-history",
        "--config",
        str(config),
        "--events",
        str(events),
    ]
    # A terminal, as a person runs it: the dashboard draws as it would for them.
    master, slave = pty.openpty()
    spawn_wall_s = time.time()
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            cwd=REPO,
            env=private_env(folder / "home"),
            start_new_session=True,
        )
    except BaseException:
        os.close(master)
        server.close()
        raise
    finally:
        os.close(slave)
    drain = threading.Thread(target=_drain, args=(master, folder / "terminal.log"), daemon=True)
    drain.start()
    sampler = Sampler(process.pid).start()
    try:
        t0 = server.started(timeout_s=60.0)
        if t0 is None:
            raise RuntimeError(f"{name}: the coach never connected to the stream")
        end = t0 + truth["duration_s"]
        say(f"  {name}: playing {truth['duration_s']:.0f} s of session…")
        while time.time() < end + 1.0:
            if process.poll() is not None:
                raise RuntimeError(f"{name}: coach run stopped early ({process.returncode})")
            time.sleep(0.2)
        sampler.sample()
        process.send_signal(signal.SIGTERM)  # stops like Ctrl-C: the session is closed
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    except BaseException as exc:
        if process.poll() is None:
            process.kill()
            process.wait()
        tail = (folder / "terminal.log").read_bytes()[-2000:].decode(errors="replace")
        raise RuntimeError(f"{exc}\n--- coach output (end) ---\n{tail}") from None
    finally:
        sampler.stop()
        server.close()
        drain.join(5)
        with contextlib.suppress(OSError):
            os.close(master)
    if process.returncode != 0:
        say(f"  {name}: coach run exited with status {process.returncode} when stopped")
    # Kept beside the event log (--keep), to look into a run afterwards.
    (folder / "run.json").write_text(
        json.dumps(
            {
                "command": command,
                "spawn_wall_s": spawn_wall_s,
                "stream_start_wall_s": t0,
                "exit_status": process.returncode,
                "readings": [dataclasses.astuple(r) for r in sampler.samples],
                "readings_columns": [f.name for f in dataclasses.fields(ProcSample)],
            }
        )
        + "\n"
    )
    return figures(name, truth, read_events(events), sampler.samples, spawn_wall_s, t0)


# --------------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------------
def _num(value: float | None, unit: str = "", digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT MET")


def report(
    coach: RunFigures | None,
    every: RunFigures | None,
    truth: dict[str, Any],
    config: Config,
    out: Callable[[str], None] = print,
) -> list[tuple[str, bool | None]]:
    """Print the live figures, coach beside every frame, each with its target; the verdicts."""
    hold_s = config.slouch.enter_after_s
    nudge_hold_s = truth["nudge_hold_s"]
    # (label, the figure shown, its target ("": none), whether the coach meets it)
    rows: list[
        tuple[str, Callable[[RunFigures], str], str, Callable[[RunFigures], bool] | None]
    ] = [
        (
            "CPU-s per s, whole session with start-up",
            lambda r: _num(r.cpu_session, digits=3),
            f"≤ {CPU_SESSION}",
            lambda r: r.cpu_session <= CPU_SESSION,
        ),
        (
            "CPU-s per s, steady (from the first landmark)",
            lambda r: _num(r.cpu_steady, digits=3),
            f"≤ {CPU_SESSION}",
            lambda r: r.cpu_steady <= CPU_SESSION,
        ),
        (
            f"CPU-s per s, sitting still ({truth['still_measured_s'][0]:g}-"
            f"{truth['still_measured_s'][1]:g} s)",
            lambda r: _num(r.cpu_still, digits=3),
            f"≤ {CPU_STILL}",
            lambda r: r.cpu_still <= CPU_STILL,
        ),
        (
            "peak RSS, MB",
            lambda r: _num(r.peak_rss_mb, digits=0),
            f"≤ {PEAK_RSS_MB:g}",
            lambda r: r.peak_rss_mb <= PEAK_RSS_MB,
        ),
        (
            "start to first landmark, s",
            lambda r: _num(r.first_landmark_s),
            f"≤ {FIRST_LANDMARK_S:g}",
            lambda r: r.first_landmark_s is not None and r.first_landmark_s <= FIRST_LANDMARK_S,
        ),
        (
            f"slouch start to state flip, s (hold {hold_s:g} s)",
            lambda r: _num(r.slouch_flip_s),
            f"≤ {hold_s + SLOUCH_MARGIN_S:g}",
            lambda r: r.slouch_flip_s is not None and r.slouch_flip_s <= hold_s + SLOUCH_MARGIN_S,
        ),
        (
            f"slouch start to nudge, s (nudge hold {nudge_hold_s:g} s)",
            lambda r: _num(r.slouch_nudge_s),
            f"≤ {nudge_hold_s + hold_s + SLOUCH_MARGIN_S:g}",
            lambda r: (
                r.slouch_nudge_s is not None
                and r.slouch_nudge_s <= nudge_hold_s + hold_s + SLOUCH_MARGIN_S
            ),
        ),
        (
            'leaving to activity "away", s',
            lambda r: _num(r.away_s),
            f"≤ {AWAY_S:g}",
            lambda r: r.away_s is not None and r.away_s <= AWAY_S,
        ),
        ('leaving to posture state "away", s', lambda r: _num(r.away_state_s), "", None),
        ("coming back to a landmark, s", lambda r: _num(r.back_s), "", None),
        ("analysed frames per s, sitting still", lambda r: _num(r.still_fps, digits=1), "", None),
        (
            "analysed frames per s, during the set",
            lambda r: _num(r.set_fps, digits=1),
            f"≥ {SET_FPS:g}",
            lambda r: r.set_fps >= SET_FPS,
        ),
        (
            f"reps counted (truth {truth['reps']})",
            lambda r: f"{r.reps if r.reps is not None else '—'} ({r.reps_how})",
            f"= {truth['reps']}",
            lambda r: r.reps == truth["reps"],
        ),
        (
            "false slouch flips (in the set) / false aways",
            lambda r: f"{r.false_slouches} ({r.slouches_in_set}) / {r.false_aways}",
            "",
            None,
        ),
        ("frames analysed in all", lambda r: str(r.analysed), "", None),
    ]
    width = max(len(label) for label, _, _, _ in rows)
    out(f"{'':{width}}  {'coach':>24}  {'every frame':>24}  {'target':>8}  coach")
    verdicts: list[tuple[str, bool | None]] = []
    for label, show, target, ok in rows:
        mine = show(coach) if coach else "—"
        theirs = show(every) if every else "—"
        met = ""
        if ok is not None:
            verdict = ok(coach) if coach else None
            verdicts.append((label, verdict))
            met = _met(verdict)
        out(f"{label:{width}}  {mine:>24}  {theirs:>24}  {target:>8}  {met}")
    runs = [r for r in (coach, every) if r is not None]
    if runs:
        out("")
        head = "  ".join(f"{r.name + ' CPU-s/s':>22}  {'frames/s':>8}" for r in runs)
        width = max(len(part) for part, _, _ in runs[0].by_part)
        out(f"{'by part of the session':{width}}  {head}")
        for i, (part, _, _) in enumerate(runs[0].by_part):
            cells = "  ".join(f"{r.by_part[i][1]:>22.3f}  {r.by_part[i][2]:>8.1f}" for r in runs)
            out(f"{part:{width}}  {cells}")
    if coach and every:
        out("")
        for label, mine, theirs in (
            ("whole session", coach.cpu_session, every.cpu_session),
            ("steady", coach.cpu_steady, every.cpu_steady),
            ("sitting still", coach.cpu_still, every.cpu_still),
        ):
            ratio = theirs / mine if mine > 0 else float("inf")
            line = f"every frame / coach CPU, {label}: {ratio:.1f}x"
            if label == "sitting still":
                verdict = ratio >= STILL_RATIO
                verdicts.append((f"{label}: ≥ {STILL_RATIO:g}x less than every frame", verdict))
                line += f"  (target ≥ {STILL_RATIO:g}x: {_met(verdict)})"
            out(line)
    return verdicts


def report_day(result: day_replay.DayResult, out: Callable[[str], None] = print) -> None:
    """Print the day's inference counts, per hour and against every frame."""
    hours = result.seconds / 3600
    out(
        f"Pose inferences asked for: {result.inferences} "
        f"({result.inferences / hours:.0f} per hour, {result.inferences / result.seconds:.2f} per s) "
        f"against {result.every_frame} for every frame at {day_replay.CAMERA_FPS:g} fps: "
        f"{result.every_frame / max(result.inferences, 1):.1f}x fewer"
    )
    out("  by part of the day (inferences, per second, at each rate wanted):")
    for kind, n in result.by_kind.most_common():
        rates = ", ".join(
            f"{rate:g} fps: {m}"
            for (k, rate), m in sorted(result.by_kind_rate.items())
            if k == kind
        )
        seconds = result.seconds_by_kind[kind]
        out(
            f"    {kind:8} {seconds / 3600:5.2f} h  {n:7d}  {n / max(seconds, 1e-9):5.2f}/s  ({rates})"
        )
    rates = ", ".join(f"{rate:g} fps: {n}" for rate, n in sorted(result.by_rate.items()))
    out(f"  by the rate wanted: {rates}")
    sets = ", ".join(
        f"{s.movement} {s.reps} reps{' (recognised)' if s.recognised else ''}" for s in result.sets
    )
    prompts = ", ".join(f"{n} {reason}" for reason, n in result.prompts.most_common())
    out(
        f"  decisions: {result.slouch_flips} slouch flips, {result.away_flips} times away, "
        f"prompts: {prompts or 'none'}, "
        f"sets: {sets or 'none'} (truth: {day_replay.SET_REPS}-rep cat-cow sets at the "
        f"hours that have one); replay took {result.wall_s:.0f} s"
    )


def kept_run(folder: Path, truth: dict[str, Any]) -> RunFigures:
    """The figures of a run kept with --keep (its event log and readings)."""
    run = json.loads((folder / "run.json").read_text())
    samples = [ProcSample(*row) for row in run["readings"]]
    lines = read_events(folder / "events.jsonl")
    spawn, t0 = run["spawn_wall_s"], run["stream_start_wall_s"]
    return figures(folder.name, truth, lines, samples, spawn, t0)


def report_kept(work: Path, config: Config) -> list[tuple[str, bool | None]] | None:
    """Print the figures of the runs kept in `work` again; None if there are none."""
    if not (work / "truth.json").exists():
        print(f"{work} holds no kept runs (truth.json is missing)", file=sys.stderr)
        return None
    truth = json.loads((work / "truth.json").read_text())
    runs = {p: kept_run(work / p, truth) for p in ("coach", "every-frame") if (work / p).is_dir()}
    return report(runs.get("coach"), runs.get("every-frame"), truth, config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a short session and a 1-hour day (a smoke test)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=("coach", "every-frame", "day"),
        help="run only these parts (repeatable; default: all)",
    )
    parser.add_argument("--day-hours", type=float, default=None, help="length of the day replayed")
    parser.add_argument("--keep", action="store_true", help="keep the runs' folders (event logs)")
    parser.add_argument(
        "--report-from",
        type=Path,
        metavar="DIR",
        help="print the figures of runs kept with --keep again, without running anything",
    )
    args = parser.parse_args(argv)
    if args.report_from is not None:
        verdicts = report_kept(args.report_from, Config())
        return 0 if verdicts is not None else 1
    parts = set(args.only or ("coach", "every-frame", "day"))
    script = live_session.QUICK if args.quick else live_session.FULL
    name = "quick" if args.quick else "full"
    config = Config()
    ok = True
    if parts & {"coach", "every-frame"}:
        session = live_session.ensure_session(script, name)
        truth = session.truth
        print(
            f"Scripted session ({name}): {truth['duration_s']:g} s at {truth['fps']} fps "
            f"{truth['width']}x{truth['height']} MJPEG on 127.0.0.1; "
            + ", ".join(f"{s['name']} {s['start_s']:g}-{s['end_s']:g}" for s in truth["segments"])
            + f"; {truth['reps']} reps; nudge hold {truth['nudge_hold_s']:g} s."
        )
        work = Path(tempfile.mkdtemp(prefix="bench-live-"))
        (work / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
        try:
            runs: dict[str, RunFigures] = {}
            for part, every in (("coach", False), ("every-frame", True)):
                if part in parts:
                    runs[part] = run_coach(
                        part, session, script, work, every_frame=every, say=print
                    )
            print()
            verdicts = report(runs.get("coach"), runs.get("every-frame"), truth, config)
            ok = all(v is not False for _, v in verdicts)
        finally:
            if args.keep:
                print(f"Runs kept in {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
    if "day" in parts:
        hours = args.day_hours if args.day_hours is not None else (1.0 if args.quick else 8.0)
        print()
        print(f"A working day of {hours:g} h of landmarks through the decision layer:")
        report_day(day_replay.replay_day(day_replay.working_day(hours), config))
    if parts & {"coach", "every-frame"}:
        print()
        print("All targets met." if ok else "Some targets are not met (see above).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
