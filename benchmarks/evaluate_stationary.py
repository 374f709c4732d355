"""Evaluates the still / moving / away timeline on scripted streams and the real clip; prints boundary errors."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repo root holds testkit/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach.analyzer import Analyzer
from coach.config import Config
from coach.movements import load_library
from coach.pose.model_store import ensure_default_model
from coach.session_collect import collected
from coach.session_options import Mode, SessionOptions
from testkit.evaluation import activity_timeline, load_truth
from testkit.synthetic import scenario

SCRIPTS = {
    "fidget, typing, talking": [("still", 20), ("fidget", 20), ("typing", 20), ("talking", 20)],
    "stretch": [("still", 20), ("stretch", 15), ("still", 20)],
    "stand up": [("still", 20), ("stand_up", 15), ("still", 20)],
    "leave": [("still", 20), ("leave", 30), ("still", 20)],
    "passer-by while away": [
        ("still", 20),
        ("leave", 10),
        ("passer_by", 10),
        ("leave", 10),
        ("still", 20),
    ],
    "a long day's hour": [
        ("still", 600),
        ("typing", 300),
        ("stretch", 20),
        ("still", 300),
        ("leave", 120),
        ("still", 600),
    ],
}


def errors(
    truth: list[tuple[float, float, str]], found: list[tuple[float, float, str]]
) -> list[float]:
    out = []
    for (_, end, before), (_, _, after) in itertools.pairwise(truth):
        edges = [f2[0] for f1, f2 in itertools.pairwise(found) if (f1[2], f2[2]) == (before, after)]
        out.append(min((abs(e - end) for e in edges), default=float("inf")))
    return out


def main() -> int:
    print("Scripted streams (synthetic body, 5 fps, 0.7 px landmark noise):")
    for name, segments in SCRIPTS.items():
        samples, truth = scenario(segments, seed=1)
        analyzer = Analyzer(Config(), load_library(), calibrate_s=5.0)
        found = activity_timeline([analyzer.update(s) for s in samples])
        same = [k for *_, k in found] == [k for *_, k in truth]
        errs = errors(truth, found)
        print(
            f"  {name:24s} {'timeline right' if same else 'TIMELINE WRONG'}; "
            f"boundary errors (s): {[round(e, 1) for e in errs] or '-'}"
        )
    clip = Path(__file__).resolve().parent.parent / "sample_videos" / "still_moving_away.mp4"
    if not clip.exists():
        print("sample clips missing: run `make setup`")
        return 1
    truth = load_truth(clip)
    run = collected(
        SessionOptions(Mode.ANALYZE, str(clip), model=ensure_default_model(), calibrate_s=5.0),
        Config(),
        load_library(),
    )
    found = activity_timeline(run.snapshots)
    print("\nReal-photo clip still_moving_away.mp4 (real pose model, 5 fps):")
    for kind in ("still", "moving", "away"):
        true = truth[f"{kind}_intervals_s"]
        got = [[round(a, 1), round(b, 1)] for a, b, k in found if k == kind]
        print(f"  {kind:6s} truth {true}  found {got}")
    edges_true = sorted(
        {e for k in ("still", "moving", "away") for iv in truth[f"{k}_intervals_s"] for e in iv}
    )
    edges_found = sorted({e for a, b, _ in found for e in (a, b)})
    worst = max(min(abs(e - f) for f in edges_found) for e in edges_true)
    print(f"  worst boundary error: {worst:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
