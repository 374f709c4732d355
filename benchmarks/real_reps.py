"""Rep counting on real people: the keraal seated exercises through `coach count` and `coach analyze`.

Every recording runs through the production path (coach.cli.main in-process, isolated user
folders, no history): a guided lateral-flexion set (per side against the truth), a guided
cat-cow set (must be 0: no recording holds cat-cow) and unprompted `coach analyze` (its reps).
Positives are the lateral stretches (`elk_*`, and the spliced 5-per-side set); negatives are
the breathing arm raises (`ctk_*`) and trunk rotations with the arms out (`rtk_*`), as landmark
files, as the coach's own recordings, and as videos through the real pose model.
Usage: python benchmarks/real_reps.py [DATA_DIR] [--no-videos]
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realdata import DEFAULT_DATA_DIR, coach_json, isolated_home, load_json

LATERAL = "lateral-flexion"
CAT_COW = "cat-cow"
GUIDED_REPS = "10"
"""Guided sets stop at their target: high enough never to cut a recording short."""
EXACT_TARGET = 0.95
"""Positives: share of recordings counted exactly per side."""
NEGATIVE_TARGET = 0.05
"""Negatives: largest share of recordings with any side bend."""


@dataclass(frozen=True)
class Recording:
    """One file to run and what it holds."""

    name: str
    path: Path
    kind: str
    """"positive" (lateral stretches) or "negative" (other exercises)."""
    truth: dict[str, int]
    """Side bends per side ("left", "right")."""


@dataclass(frozen=True)
class Result:
    """What the coach counted on one recording."""

    recording: Recording
    guided: dict[str, int]
    guided_cat_cow: int
    analyze_reps: dict[str, Any] | None
    """`coach analyze --json` reps (None for videos, which are only counted guided)."""

    @property
    def exact(self) -> bool:
        """Guided lateral flexion equals the truth on both sides."""
        return self.guided == self.recording.truth

    @property
    def analyze_sides(self) -> dict[str, int]:
        """Unprompted side bends per side (zeros when not analysed)."""
        reps = self.analyze_reps or {}
        sides = reps.get(LATERAL) or {}
        return {"left": int(sides.get("left", 0)), "right": int(sides.get("right", 0))}

    @property
    def any_side_bend(self) -> bool:
        """A side bend counted, guided or unprompted."""
        return sum(self.guided.values()) > 0 or sum(self.analyze_sides.values()) > 0

    @property
    def any_cat_cow(self) -> bool:
        """Cat-cow counted, guided or unprompted."""
        unprompted = int((self.analyze_reps or {}).get(CAT_COW, 0))
        return self.guided_cat_cow > 0 or unprompted > 0


def _sides(reps: dict[str, Any]) -> dict[str, int]:
    return {"left": int(reps.get("left", 0)), "right": int(reps.get("right", 0))}


def recordings(data_dir: Path, *, videos: bool = True) -> list[Recording]:
    """Every keraal recording with its truth (landmarks, derived, coach-recorded, videos)."""
    keraal = data_dir / "keraal"
    truth = load_json(keraal / "truth.json")
    out: list[Recording] = []
    entries = dict(truth["recordings"])
    for stem, entry in sorted(entries.items()):
        kind = "positive" if stem.startswith("elk_") else "negative"
        sides = _sides(entry["reps"][LATERAL])
        out.append(Recording(stem, keraal / "landmarks" / f"{stem}.jsonl.gz", kind, sides))
    for stem, entry in sorted(truth.get("derived", {}).items()):
        sides = _sides(entry["reps"][LATERAL])
        out.append(Recording(stem, keraal / "derived" / f"{stem}.jsonl.gz", "positive", sides))
    for path in sorted((keraal / "coach_recorded").glob("*.coach.jsonl.gz")):
        stem = path.name.removesuffix(".coach.jsonl.gz")
        sides = _sides(entries[stem]["reps"][LATERAL])
        kind = "positive" if stem.startswith("elk_") else "negative"
        out.append(Recording(f"{stem} (coach-recorded)", path, kind, sides))
    if videos:
        for path in sorted((keraal / "videos").glob("*.avi")):
            sides = _sides(entries[path.stem]["reps"][LATERAL])
            kind = "positive" if path.stem.startswith("elk_") else "negative"
            out.append(Recording(f"{path.stem} (video)", path, kind, sides))
    return [r for r in out if r.path.exists()]


def run_recording(recording: Recording) -> Result:
    """Guided lateral flexion, guided cat-cow and (landmark files) unprompted analysis."""
    common = ("--reps", GUIDED_REPS, "--json", "--no-history", "--no-window")
    lateral = coach_json("count", recording.path, "--movement", LATERAL, *common)
    cat_cow = coach_json("count", recording.path, "--movement", CAT_COW, *common)
    video = recording.path.suffix == ".avi"
    # Videos through the real model are slow: they are only counted guided.
    analysed = None if video else coach_json("analyze", recording.path, "--json")
    return Result(
        recording=recording,
        guided=_sides(lateral.get("per_side") or {}),
        guided_cat_cow=int(cat_cow["reps"]),
        analyze_reps=None if analysed is None else analysed["reps"],
    )


def evaluate(data_dir: Path, *, videos: bool = True) -> list[Result]:
    """Run every recording with the user's folders pointed at a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp, isolated_home(Path(tmp)):
        return [run_recording(r) for r in recordings(data_dir, videos=videos)]


def _fmt(sides: dict[str, int]) -> str:
    return f"L{sides['left']}/R{sides['right']}"


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "0/0"


def detail_line(result: Result) -> str:
    """One recording: truth, guided counts, unprompted reps, verdict."""
    rec = result.recording
    unprompted = (
        "not analysed"
        if result.analyze_reps is None
        else f"{_fmt(result.analyze_sides)} cat-cow {result.analyze_reps.get(CAT_COW, 0)}"
    )
    if rec.kind == "positive":
        verdict = "exact" if result.exact else "WRONG"
    else:
        verdict = "ok" if not result.any_side_bend else "SIDE BEND"
    if result.any_cat_cow:
        verdict += ", CAT-COW"
    return (
        f"{rec.name:34s} {rec.kind:8s} truth {_fmt(rec.truth)}  guided {_fmt(result.guided)}"
        f"  cat-cow {result.guided_cat_cow}  unprompted {unprompted}  {verdict}"
    )


def summary_lines(results: list[Result]) -> list[str]:
    """Overall figures: exact per side on positives, side bends on negatives, any cat-cow."""
    positives = [r for r in results if r.recording.kind == "positive"]
    negatives = [r for r in results if r.recording.kind == "negative"]
    exact = sum(r.exact for r in positives)
    bends = sum(r.any_side_bend for r in negatives)
    guided_bends = sum(sum(r.guided.values()) > 0 for r in negatives)
    cat_cow = sum(r.any_cat_cow for r in results)
    analysed = [r for r in positives if r.analyze_reps is not None]
    recognised = sum(r.analyze_sides == r.recording.truth for r in analysed)
    exact_ok = bool(positives) and exact / len(positives) >= EXACT_TARGET
    bends_ok = not negatives or bends / len(negatives) <= NEGATIVE_TARGET
    return [
        f"lateral stretches counted exactly per side (guided): {_pct(exact, len(positives))}"
        f" [target >= {EXACT_TARGET:.0%}: {'met' if exact_ok else 'MISSED'}]",
        f"other exercises with any side bend (guided or unprompted): {_pct(bends, len(negatives))}"
        f" (guided alone {_pct(guided_bends, len(negatives))})"
        f" [target <= {NEGATIVE_TARGET:.0%}: {'met' if bends_ok else 'MISSED'}]",
        f"recordings with any cat-cow (guided or unprompted): {_pct(cat_cow, len(results))}"
        f" [target 0: {'met' if cat_cow == 0 else 'MISSED'}]",
        f"lateral stretches recognised unprompted with the right count: "
        f"{_pct(recognised, len(analysed))} (a set needs 3 rhythmic bends: the single-bend-"
        "per-side recordings are too short, the 5-per-side set is not)",
    ]


def report(data_dir: Path, *, videos: bool = True) -> tuple[list[str], list[str]]:
    """(detail lines per recording, overall summary lines) for the rep part of the evaluation."""
    results = evaluate(data_dir, videos=videos)
    if not results:
        return [], [f"no keraal recordings under {data_dir}"]
    return [detail_line(r) for r in results], summary_lines(results)


def main(argv: list[str]) -> int:
    """Print the report for DATA_DIR (default: the shared real data folder)."""
    args = [a for a in argv if not a.startswith("--")]
    data_dir = Path(args[0]) if args else DEFAULT_DATA_DIR
    if not (data_dir / "keraal" / "truth.json").exists():
        print(f"no keraal data under {data_dir}")
        return 1
    details, summary = report(data_dir, videos="--no-videos" not in argv)
    print("\n".join(["Rep counting on real recordings", *details, "", *summary]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
