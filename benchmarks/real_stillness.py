"""Stillness on real people: still / moving / away through `coach analyze --json`, at several rates.

The seated recordings (continuous posture files) should read "still" outside labelled movement:
every interval edge and every possible discontinuity (a collapsed pause, a posture change is a
shift in the chair) is ignored for `EDGE_MARGIN_S` either side. The keraal lateral stretches'
bends are labelled movement; the coach's verdicts during and outside them are reported. Each
file runs at the production default, at its own rate and with the analysis rate forced to
5, 15 and 30 fps where the file is fast enough; verdicts are compared across rates second by
second. Usage: python benchmarks/real_stillness.py [DATA_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realdata import DEFAULT_DATA_DIR, coach_json, frame_times, isolated_home, load_json

from coach.decisions.analysis_rate import LookPlan
from coach.pipeline import RateGate
from coach.records import Look

EDGE_MARGIN_S = 2.0
"""Seconds either side of a labelled interval edge or discontinuity that are not scored."""
FORCED_FPS = (5.0, 15.0, 30.0)
STILL_TARGET = 0.95
"""Seated recordings must read still at least this share of the scored time."""

POSTURE_FILES = (
    ("kochamkotkiic_posture_analysis", "recordingA"),
    ("kochamkotkiic_posture_analysis", "recordingB"),
    ("s4raaga_OpenCV-Posture-Classification", "upright"),
    ("s4raaga_OpenCV-Posture-Classification", "back-slouch"),
    ("s4raaga_OpenCV-Posture-Classification", "side-lean"),
    ("pi20072003_sitting-posture-vn", "autosave_0da60f3"),
)

Interval = tuple[float, float]


@dataclass(frozen=True)
class Recording:
    """One real recording and what its truth says about movement."""

    name: str
    path: Path
    group: str
    """"seated" (posture files), "stretch" (keraal elk: bends labelled) or "exercise" (others)."""
    ignored: tuple[Interval, ...] = ()
    """Stream time not scored (edges, discontinuities)."""
    movement: tuple[Interval, ...] = ()
    """Labelled movement (keraal bends)."""


@dataclass
class RateRun:
    """The coach's per-second verdicts on one recording at one analysis rate."""

    label: str
    """"default" (production settings) or the forced rate, e.g. "15"."""
    effective_fps: float
    """Frames actually analysed per second of stream."""
    verdicts: dict[int, str | None]
    """Whole second of stream time → activity."""
    away_s: float


@dataclass
class RecordingResult:
    """A recording's runs at every rate."""

    recording: Recording
    runs: list[RateRun] = field(default_factory=list)

    def scored(self, run: RateRun, *, during: bool) -> list[str | None]:
        """Verdicts of the scored seconds inside (during) or outside labelled movement."""
        out = []
        for second, verdict in run.verdicts.items():
            t = float(second)
            if _inside(t, self.recording.ignored):
                continue
            if _inside(t, self.recording.movement) == during:
                out.append(verdict)
        return out


def _inside(t_s: float, intervals: Iterable[Interval]) -> bool:
    return any(a <= t_s <= b for a, b in intervals)


def _share(verdicts: list[str | None], kind: str) -> float:
    return sum(v == kind for v in verdicts) / len(verdicts) if verdicts else float("nan")


def _effective_fps(times: list[float], fps: float) -> float:
    gate = RateGate(lambda: LookPlan(fps))
    admitted = sum(gate.admit(t) is Look.ANALYSE for t in times)
    span = times[-1] - times[0] if len(times) > 1 else 1.0
    return admitted / max(span, 1e-9)


def _posture_recordings(data_dir: Path) -> list[Recording]:
    out = []
    for folder, stem in POSTURE_FILES:
        path = data_dir / "posture" / folder / f"{stem}.jsonl.gz"
        if not path.exists():
            continue
        truth = load_json(path.parent / "truth.json")["files"][path.name]
        intervals = truth["intervals"]
        edges = [iv["start_s"] for iv in intervals[1:]]
        jumps = truth.get("possible_discontinuities_at_frame", [])
        if jumps:
            times = frame_times(path)
            edges += [times[i] for i in jumps if i < len(times)]
        ignored = tuple((e - EDGE_MARGIN_S, e + EDGE_MARGIN_S) for e in edges)
        out.append(Recording(f"{folder.split('_')[0]}/{stem}", path, "seated", ignored))
    return out


def _keraal_recordings(data_dir: Path) -> list[Recording]:
    root = data_dir / "keraal"
    if not (root / "truth.json").exists():
        return []
    truth = load_json(root / "truth.json")
    entries: list[tuple[str, Path, dict[str, Any]]] = [
        (stem, root / "landmarks" / f"{stem}.jsonl.gz", t)
        for stem, t in truth["recordings"].items()
    ]
    entries += [
        (stem, root / "derived" / f"{stem}.jsonl.gz", t) for stem, t in truth["derived"].items()
    ]
    out = []
    for stem, path, t in entries:
        if not path.exists():
            continue
        bends = tuple((b["start_s"], b["end_s"]) for b in t.get("bends_from_landmarks", []))
        # Splices are edits: the pose jumps there.
        ignored = tuple((s - EDGE_MARGIN_S, s + EDGE_MARGIN_S) for s in t.get("splices_s", []))
        group = "stretch" if bends else "exercise"
        out.append(Recording(f"keraal/{stem}", path, group, ignored, bends))
    return out


def recordings(data_dir: Path) -> list[Recording]:
    """Every continuous seated recording found under `data_dir`."""
    return _posture_recordings(data_dir) + _keraal_recordings(data_dir)


def _analyse(path: Path, tmp: Path, fps: float | None) -> dict[str, Any]:
    argv: list[str | Path] = ["analyze", path, "--json"]
    if fps is not None:
        config = tmp / f"loop_{fps:g}.toml"
        config.write_text(
            f"[loop]\nposture_fps = {fps}\nexercise_fps = {fps}\naway_fps = {fps}\n",
            encoding="utf-8",
        )
        argv += ["--config", config]
    return coach_json(*argv)


def run_recording(recording: Recording, tmp: Path, sweep: bool = True) -> RecordingResult:
    """Analyse one recording at the default settings and its own rate, and (`sweep`) at each
    forced rate."""
    times = frame_times(recording.path)
    own_fps = (len(times) - 1) / max(times[-1] - times[0], 1e-9)
    forced = [r for r in FORCED_FPS if r < own_fps * 0.99] if sweep else []
    rates = [*forced, own_fps]
    result = RecordingResult(recording)
    for fps in [None, *rates]:
        data = _analyse(recording.path, tmp, fps)
        verdicts: dict[int, str | None] = {}
        for sample in data["samples"]:
            verdicts.setdefault(round(sample["t_s"]), sample.get("activity"))
        away = sum(b - a for a, b in data["stationary"]["away_intervals_s"])
        label = "default" if fps is None else f"{fps:g}"
        effective = _effective_fps(times, fps if fps is not None else 5.0)
        result.runs.append(RateRun(label, effective, verdicts, away))
    return result


def evaluate_recordings(chosen: list[Recording], sweep: bool = True) -> list[RecordingResult]:
    """The chosen recordings through the production path, in an isolated home."""
    with tempfile.TemporaryDirectory() as tmp, isolated_home(Path(tmp)):
        return [run_recording(r, Path(tmp), sweep) for r in chosen]


def evaluate(data_dir: Path, sweep: bool = True) -> list[RecordingResult]:
    """Every recording under `data_dir` through the production path."""
    return evaluate_recordings(recordings(data_dir), sweep)


def agreement(result: RecordingResult, run: RateRun) -> float:
    """Share of common seconds where `run` agrees with the run at the file's own rate."""
    own = result.runs[-1]
    common = [s for s in run.verdicts if s in own.verdicts]
    same = sum(run.verdicts[s] == own.verdicts[s] for s in common)
    return same / len(common) if common else float("nan")


def _pct(x: float) -> str:
    return "  -  " if x != x else f"{100 * x:4.0f}%"


def _summarise(results: list[RecordingResult]) -> list[str]:
    lines = []
    by_label: dict[str, list[str | None]] = {}
    for r in results:
        if r.recording.group == "seated":
            for run in r.runs:
                key = "own" if run is r.runs[-1] else run.label
                by_label.setdefault(key, []).extend(r.scored(run, during=False))
    if by_label:
        parts = [f"{k} {_pct(_share(v, 'still'))}" for k, v in by_label.items()]
        worst = min(
            (_share(r.scored(run, during=False), "still"), r.recording.name, run.label)
            for r in results
            if r.recording.group == "seated"
            for run in r.runs
        )
        lines.append(
            f"seated recordings, still outside labelled movement (target >= "
            f"{100 * STILL_TARGET:.0f}%): {', '.join(parts)}; lowest {_pct(worst[0])} "
            f"({worst[1]} at {worst[2]})"
        )
    for group, title in (("stretch", "keraal lateral stretches"), ("exercise", "keraal other")):
        members = [r for r in results if r.recording.group == group]
        if not members:
            continue
        during = [v for r in members for v in r.scored(r.runs[0], during=True)]
        outside = [v for r in members for v in r.scored(r.runs[0], during=False)]
        text = f"{title} (default settings): "
        if during:
            text += f"moving during bends {_pct(_share(during, 'moving'))}, "
        text += f"still outside {_pct(_share(outside, 'still'))}"
        lines.append(text)
    agreements = [agreement(r, run) for r in results for run in r.runs[:-1]]
    if agreements:
        lines.append(
            f"verdicts agree with the file's own rate: mean {_pct(sum(agreements) / len(agreements))}"
            f", lowest {_pct(min(agreements))} of seconds"
        )
    away = sum(run.away_s for r in results for run in r.runs)
    lines.append(f"away on these recordings (all rates): {away:.1f} s")
    return lines


def report(data_dir: Path, *, sweep: bool = True) -> tuple[list[str], list[str]]:
    """(detail lines per recording, overall summary lines); `sweep` adds the forced rates."""
    results = evaluate(data_dir, sweep)
    if not results:
        return [], [f"no real recordings under {data_dir}"]
    details = []
    for r in results:
        for run in r.runs:
            rate = f"{run.label:>7s} ({run.effective_fps:4.1f} fps)"
            outside = r.scored(run, during=False)
            text = f"{r.recording.name:34s} {rate}: still {_pct(_share(outside, 'still'))}"
            if r.recording.movement:
                text = f"{text} outside bends, moving {_pct(_share(r.scored(run, during=True), 'moving'))} during"
            if run is not r.runs[-1]:
                text += f"; agrees with own rate {_pct(agreement(r, run))}"
            if run.away_s:
                text += f"; AWAY {run.away_s:.1f} s"
            details.append(text)
    return details, _summarise(results)


def main(argv: list[str]) -> int:
    data_dir = Path(argv[0]) if argv else DEFAULT_DATA_DIR
    if not data_dir.exists():
        print(f"no real data at {data_dir}")
        return 1
    details, summary = report(data_dir)
    print("Stillness on real recordings (coach analyze --json, per-second activity):")
    for line in details:
        print("  " + line)
    print("Summary:")
    for line in summary:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
