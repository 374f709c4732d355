"""Slouch on real webcam recordings: the coach's production path beside the dorso and UpSit rules.

Every recording goes through `coach analyze` (in-process, the code `coach run` runs), calibrated
as a user would be: on the recording's own first upright stretch where it starts upright, else
with `coach calibrate` on an upright stretch of the same person. The peer rules get the same
calibration frames. Continuous recordings are scored over time (the decided state, skipping
the calibration and 2 s either side of every label change or splice); key-press files and
sparse stills keep no timing, so they are scored frame by frame with the time filters off.

`report(data_dir, overrides)` takes extra TOML (`[slouch] forward_head_enter = 12`, say), so a
leave-one-person-out tuning can pick settings on the other people.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import sys
import tempfile
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.peer_rules import Dorso, PeerCues, UpSit, calibrate, peer_cues
from benchmarks.realdata import (
    DEFAULT_DATA_DIR,
    CoachFailed,
    coach_call,
    coach_json,
    frame_times,
    isolated_home,
    landmark_rows,
    load_json,
)
from coach.pose.landmark_file import LandmarkReader
from coach.records import PoseSample

EDGE_MARGIN_S = 2.0
MAX_CALIBRATE_S = 15.0
CONTINUOUS_SAMPLE_S = 0.1
# Key-press files and stills: every frame judged on its own (no landmark smoothing, no median,
# no debounce, no glance wait): their rows are separate moments, so a filter over time would
# blend one posture into the next or wait for a duration they do not have (the peer rules get
# no averaging or hold there either).
FRAME_BY_FRAME_TOML = """
[pose]
smoothing_min_cutoff_hz = 1000
[loop]
idle_fps = 240
posture_fps = 240
exercise_fps = 240
away_fps = 240
sample_period_s = 0.001
[slouch]
median_window_s = 0.001
enter_after_s = 0
exit_after_s = 0
glance_s = 0
"""
CONTINUOUS_TOML = f"""
[loop]
sample_period_s = {CONTINUOUS_SAMPLE_S}
"""
JUDGES = ("coach", "dorso", "upsit")
RATES_HZ = (1.0, 2.0, 5.0)
"""The sample rates every recording is also decimated to (the coach's idle rate is 1 a second)."""


def merged_toml(*texts: str) -> str:
    """TOML texts merged table by table (a later value wins), as one TOML text."""
    tables: dict[str, dict[str, Any]] = {}
    for text in texts:
        for name, table in tomllib.loads(text).items():
            tables.setdefault(name, {}).update(table)
    return "".join(
        f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
        for name, table in tables.items()
    )


def decimated(path: Path, rate_hz: float, out: Path, phase: float = 0.0) -> Path:
    """A copy of a landmark recording (same file name, under `out`) keeping one frame per
    1/rate_hz of its own time: what a tool saving landmarks that often would give. The
    frame kept is the first at or after each mark of an even 1/rate_hz grid, so a recording
    with rows 0.3 s apart kept at 1 a second has 1 a second (gaps of 0.9 to 1.2 s), not one
    row in four (0.83 a second, below the slowest rate the coach is meant for). `phase` (0 to
    1) shifts the grid by that share of a step, so which frames are kept can be varied at the
    same rate."""
    target = out / path.parent.name / path.name
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    header, rows = landmark_rows(path)
    next_s: float | None = None
    with gzip.open(target, "wt", encoding="utf-8") as dst:
        dst.write(json.dumps({**json.loads(header), "fps": rate_hz}) + "\n")
        for t_s, line in rows:
            if next_s is None:
                next_s = t_s + phase / rate_hz
            if t_s >= next_s - 1e-3:
                dst.write(line)
                while next_s <= t_s + 1e-3:
                    next_s += 1.0 / rate_hz
    return target


def on_grid(
    decided: list[tuple[float, bool]], step_s: float, end_s: float | None = None
) -> list[tuple[float, bool]]:
    """A state decided at uneven times, read every `step_s` (the latest decision holds) up to
    `end_s` (default: the last decision). The recording's own end is fair at every rate: a
    file kept at 1 sample a second has its last sample up to a second before the end, and
    the state the coach shows holds until the stream ends, as it does at the full rate."""
    if not decided:
        return []
    out, i = [], 0
    start_s = decided[0][0]
    end_s = decided[-1][0] if end_s is None else max(end_s, decided[-1][0])
    for k in range(int((end_s - start_s) / step_s) + 1):
        t_s = start_s + k * step_s
        while i + 1 < len(decided) and decided[i + 1][0] <= t_s + 1e-9:
            i += 1
        out.append((t_s, decided[i][1]))
    return out


@dataclass(frozen=True)
class Interval:
    start_s: float
    end_s: float
    state: str


@dataclass(frozen=True)
class Recording:
    """One labelled posture recording."""

    source: str
    path: Path
    person: str
    intervals: tuple[Interval, ...]
    splices_s: tuple[float, ...]

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".jsonl.gz")

    @property
    def continuous(self) -> bool:
        """Consecutive webcam frames (the others keep order, not timing)."""
        return not self.name.startswith("keypress") and "SpineWise" not in self.source

    def state_at(self, t_s: float) -> str | None:
        for iv in self.intervals:
            if iv.start_s <= t_s < iv.end_s:
                return iv.state
        return None

    def near_edge(self, t_s: float) -> bool:
        edges = [iv.start_s for iv in self.intervals[1:]] + list(self.splices_s)
        return any(abs(t_s - e) < EDGE_MARGIN_S for e in edges)


def recordings(data_dir: Path) -> list[Recording]:
    """Every labelled recording under `data_dir/posture`."""
    found = []
    for folder in sorted((data_dir / "posture").iterdir()):
        truth = load_json(folder / "truth.json")
        for name, entry in sorted(truth["files"].items()):
            path = folder / name
            intervals = tuple(
                Interval(float(i["start_s"]), float(i["end_s"]), str(i["state"]))
                for i in entry["intervals"]
            )
            frames = entry.get("possible_discontinuities_at_frame") or []
            times = frame_times(path) if frames else []
            splices = tuple(times[i] for i in frames if 0 <= i < len(times))
            found.append(
                Recording(
                    folder.name, path, str(entry["person_id"]).rstrip("?"), intervals, splices
                )
            )
    return found


@dataclass(frozen=True)
class Calibration:
    """Where a recording's neutral comes from: its own first seconds, or upright stretches of
    the same person (the longest continuous one, else every upright key-press frame or still)."""

    stretches: tuple[tuple[Path, float, float], ...]
    in_file: bool

    def samples(self) -> Iterator[PoseSample]:
        """The calibration's frames, stretch by stretch."""
        for path, start_s, end_s in self.stretches:
            yield from (s for s in LandmarkReader(path).samples() if start_s <= s.t_s < end_s)

    @property
    def seconds(self) -> float:
        return sum(end - start for _, start, end in self.stretches)


def calibration_for(rec: Recording, everything: list[Recording]) -> Calibration:
    first = rec.intervals[0]
    if rec.continuous and first.state == "upright" and first.end_s - first.start_s >= 6.0:
        end_s = min(first.end_s - 1.0, MAX_CALIBRATE_S)
        return Calibration(((rec.path, first.start_s, end_s),), True)
    mine = [r for r in everything if r.person == rec.person]
    stretches = [
        (r.path, iv.start_s, iv.end_s)
        for r in mine
        if r.continuous
        for iv in r.intervals
        if iv.state == "upright" and iv.end_s - iv.start_s >= 6.0
    ]
    if stretches:
        path, start_s, end_s = max(stretches, key=lambda s: s[2] - s[1])
        return Calibration(((path, start_s, min(end_s, start_s + MAX_CALIBRATE_S)),), False)
    # No continuous stretch: the person's upright frames from every file, end to end.
    frames = tuple(
        (r.path, iv.start_s, iv.end_s) for r in mine for iv in r.intervals if iv.state == "upright"
    )
    if not frames:
        raise ValueError(f"{rec.name}: no upright stretch of {rec.person} to calibrate on")
    return Calibration(frames, False)


def _calibration_frames(cal: Calibration) -> list[dict[str, Any]]:
    records = []
    for path, start_s, end_s in cal.stretches:
        for t_s, line in landmark_rows(path)[1]:
            if start_s <= t_s < end_s and "image" in (record := json.loads(line)):
                records.append(record)
        if len(records) * 0.1 > MAX_CALIBRATE_S:
            break
    return records


def _excerpt(cal: Calibration, fps: float, out: Path) -> float:
    """Write the calibration frames as their own landmark file, one frame every 1/fps;
    returns the seconds to calibrate over."""
    records = _calibration_frames(cal)
    if len(records) < 3:
        raise ValueError(f"only {len(records)} calibration frames in {cal.stretches}")
    first_path = cal.stretches[0][0]
    with gzip.open(first_path, "rt", encoding="utf-8") as src:
        header = src.readline()
    step_s = 1.0 / fps
    with out.open("w", encoding="utf-8") as dst:
        dst.write(header)
        for i, record in enumerate(records[: int(MAX_CALIBRATE_S * fps)]):
            dst.write(json.dumps({**record, "t_s": round(i * step_s, 4)}) + "\n")
    # A little short of the whole stretch: calibration ends when its window is full.
    return 0.9 * step_s * (min(len(records), int(MAX_CALIBRATE_S * fps)) - 1)


@dataclass
class Score:
    """Time (or frames) judged, per truth state, and how often the judge said slouched."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    reps: int = 0
    """Reps the judge counted unprompted (the coach only): a person at a desk does none."""

    def add(self, truth: str, slouched: bool) -> None:
        n_k = self.counts.setdefault(truth, [0, 0])
        n_k[0] += 1
        n_k[1] += int(slouched)

    def merge(self, other: Score) -> None:
        self.reps += other.reps
        for state, (n, k) in other.counts.items():
            n_k = self.counts.setdefault(state, [0, 0])
            n_k[0] += n
            n_k[1] += k

    def share(self, state: str) -> float | None:
        n, k = self.counts.get(state, (0, 0))
        return k / n if n else None

    @property
    def agreement(self) -> float | None:
        (nu, ku), (ns, ks) = self.counts.get("upright", (0, 0)), self.counts.get("slouched", (0, 0))
        return ((nu - ku) + ks) / (nu + ns) if nu + ns else None


def _pct(value: float | None) -> str:
    return "   -" if value is None else f"{100 * value:3.0f}%"


def _peer_states(rec: Recording, neutral: PeerCues, times: list[float]) -> dict[str, list[bool]]:
    """Each peer rule's verdict at each scoring time (its state after the latest frame)."""
    frame_by_frame = not rec.continuous
    rules = {"dorso": Dorso(neutral, frame_by_frame), "upsit": UpSit(neutral, frame_by_frame)}
    out: dict[str, list[bool]] = {name: [] for name in rules}
    state = dict.fromkeys(rules, False)
    samples = iter(LandmarkReader(rec.path).samples())
    pending = next(samples, None)
    for t_s in times:
        while pending is not None and pending.t_s <= t_s + 1e-9:
            cues = peer_cues(pending.pose) if pending.pose is not None else None
            for name, rule in rules.items():
                state[name] = rule.update(cues, pending.t_s)
            pending = next(samples, None)
        for name in rules:
            out[name].append(state[name])
    return out


def _peer_neutral(cal: Calibration) -> PeerCues:
    cues = [
        c for s in cal.samples() if s.pose is not None for c in [peer_cues(s.pose)] if c is not None
    ]
    return calibrate(cues)


@dataclass(frozen=True)
class Prepared:
    """How the coach runs on one recording: its config file and calibration arguments."""

    calibration: Calibration
    config: Path
    argv: list[str | Path]
    """`--calibrate-seconds S` (its own first upright stretch) or `--profile FILE`."""
    skip_until_s: float
    """Scoring starts here (after an in-file calibration)."""


def prepare(
    rec: Recording,
    everything: list[Recording],
    work: Path,
    overrides: str = "",
    rate_hz: float | None = None,
    extra_toml: str = "",
) -> Prepared:
    """Write the recording's config and calibrate as a user would (a profile where needed)."""
    cal = calibration_for(rec, everything)
    config = work / f"{rec.source}-{rec.name}.toml"
    config.write_text(
        merged_toml(
            CONTINUOUS_TOML if rec.continuous else FRAME_BY_FRAME_TOML, overrides, extra_toml
        )
    )
    if cal.in_file:
        _, start_s, end_s = cal.stretches[0]
        argv: list[str | Path] = ["--calibrate-seconds", f"{end_s - start_s:.3f}"]
        skip_until_s = end_s
    else:
        excerpt = work / f"cal-{rec.source}-{rec.name}.jsonl"
        seconds = _excerpt(cal, rate_hz or LandmarkReader(rec.path).fps or 10.0, excerpt)
        profile = work / f"{rec.source}-{rec.name}.json"
        cal_config = work / f"cal-{rec.source}-{rec.name}.toml"
        cal_config.write_text(overrides)
        coach_call(
            "calibrate", excerpt, "--profile", profile, "--seconds", f"{seconds:.3f}",
            "--config", cal_config,
        )  # fmt: skip
        argv = ["--profile", profile]
        skip_until_s = float("-inf")
    return Prepared(cal, config, argv, skip_until_s)


def evaluate(
    rec: Recording,
    everything: list[Recording],
    work: Path,
    overrides: str = "",
    rate_hz: float | None = None,
    phase: float = 0.0,
) -> dict[str, Score]:
    """Score the coach and both peer rules on one recording (`rate_hz`: decimated to that
    many samples a second first, calibration frames included, on a grid shifted by `phase`)."""
    original = rec.path
    if rate_hz is not None:
        # The person's other recordings too: a profile is calibrated at the same rate.
        out = work / f"rate-{rate_hz:g}-{phase:g}"
        everything = [
            dataclasses.replace(r, path=decimated(r.path, rate_hz, out, phase))
            if r.person == rec.person
            else r
            for r in everything
        ]
        rec = dataclasses.replace(rec, path=decimated(rec.path, rate_hz, out, phase))
    prep = prepare(rec, everything, work, overrides, rate_hz)
    cal, config, argv, skip_until_s = prep.calibration, prep.config, prep.argv, prep.skip_until_s
    result = coach_json("analyze", rec.path, "--json", "--config", config, *argv)
    samples = [(float(s["t_s"]), s["state"] == "slouched") for s in result["samples"]]
    if rec.continuous:
        # Over time: the decided state on an even grid, so a stretch the coach looked at
        # five times a second (after a change) weighs no more than one it looked at once.
        samples = on_grid(samples, CONTINUOUS_SAMPLE_S, _last_frame_s(original))
        samples = [s for s in samples if not rec.near_edge(s[0])]
    samples = [s for s in samples if s[0] >= skip_until_s]
    times = [t_s for t_s, _ in samples]
    peers = _peer_states(rec, _peer_neutral(cal), times)
    scores = {judge: Score() for judge in JUDGES}
    for i, (t_s, slouched) in enumerate(samples):
        truth = rec.state_at(t_s)
        if truth is None:
            continue
        scores["coach"].add(truth, slouched)
        for name, states in peers.items():
            scores[name].add(truth, states[i])
    reps = result["reps"]
    scores["coach"].reps = int(reps["cat-cow"]) + sum(
        int(n) for n in reps["lateral-flexion"].values()
    )
    return scores


def _last_frame_s(path: Path) -> float:
    """The time of a recording's last frame."""
    return max(frame_times(path), default=0.0)


def score_all(
    data_dir: Path, overrides: str = "", rate_hz: float | None = None, phase: float = 0.0
) -> dict[Recording, dict[str, Score] | str]:
    """Every labelled recording's scores per judge (or why the coach failed on it). With
    `rate_hz`, only the continuous recordings (key-press files and stills keep no timing, so
    a sample rate means nothing there), each decimated to that rate (grid shifted by `phase`)."""
    everything = recordings(data_dir)
    out: dict[Recording, dict[str, Score] | str] = {}
    with tempfile.TemporaryDirectory(prefix="coach-eval-") as tmp, isolated_home(Path(tmp)):
        for rec in everything:
            if not {"upright", "slouched"} & {iv.state for iv in rec.intervals}:
                continue
            if rate_hz is not None and not rec.continuous:
                continue
            try:
                out[rec] = evaluate(rec, everything, Path(tmp), overrides, rate_hz, phase)
            except CoachFailed as exc:
                out[rec] = str(exc)
    return out


def report(data_dir: Path, overrides: str = "") -> tuple[list[str], list[str]]:
    """Detail lines per recording and overall lines, for the coach and both peers."""
    lines = [
        "slouch: agreement / upright flagged / slouched caught / 'other' flagged",
        f"{'recording':44} {'kind':10} " + "  ".join(f"{j:^23}" for j in JUDGES),
    ]
    totals: dict[tuple[bool, str], Score] = defaultdict(Score)
    wins: list[str] = []
    failed: list[str] = []
    with_reps: list[str] = []
    for rec, scores in score_all(data_dir, overrides).items():
        if isinstance(scores, str):
            lines.append(f"{rec.source[:20] + '/' + rec.name:44} coach failed: {scores}"[:200])
            failed.append(rec.name)
            continue
        kind = "continuous" if rec.continuous else "frames"
        cells = []
        for judge in JUDGES:
            s = scores[judge]
            totals[(rec.continuous, judge)].merge(s)
            cells.append(
                f"{_pct(s.agreement)} {_pct(s.share('upright'))} "
                f"{_pct(s.share('slouched'))} {_pct(s.share('other'))}"
            )
        lines.append(f"{rec.source[:20] + '/' + rec.name:44} {kind:10} " + "  ".join(cells))
        if scores["coach"].reps:
            with_reps.append(f"{rec.name} ({scores['coach'].reps})")
        if rec.continuous and scores["coach"].agreement is not None:
            best_peer = max(scores[p].agreement or 0.0 for p in ("dorso", "upsit"))
            if scores["coach"].agreement < best_peer:
                wins.append(rec.name)
    summary = []
    for continuous, label in (
        (True, "continuous (over time)"),
        (False, "key-press/stills (per frame)"),
    ):
        parts = []
        for judge in JUDGES:
            s = totals[(continuous, judge)]
            parts.append(
                f"{judge} {_pct(s.agreement)} agree, {_pct(s.share('upright'))} upright flagged, "
                f"{_pct(s.share('slouched'))} caught"
            )
        summary.append(f"slouch, {label}: " + "; ".join(parts))
    summary.append(
        "slouch: coach behind a peer rule on continuous: " + (", ".join(wins) if wins else "none")
    )
    summary.append(
        "slouch recordings (people at a desk) with reps counted unprompted: "
        + (", ".join(with_reps) if with_reps else "none")
    )
    if failed:
        summary.append("slouch: the coach could not run on: " + ", ".join(failed))
    return lines, summary


def main(argv: list[str]) -> int:
    data_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_DATA_DIR
    if not (data_dir / "posture").is_dir():
        print(f"no posture recordings under {data_dir}; pass the realdata folder", file=sys.stderr)
        return 1
    lines, summary = report(data_dir)
    print("\n".join([*lines, "", *summary]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
