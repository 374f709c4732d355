"""Slouch at any sample rate: every posture recording decimated to 5, 2 and 1 samples a second
(as tools that save landmarks twice a second give them, and the coach's own idle rate), beside
its full rate. Calibration, hold times and the median work on time, so the figures should hold."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.real_posture import RATES_HZ, Recording, Score, _pct, score_all

MAX_CHANGE_POINTS = 2.0
"""The target: no figure moves more than this many points from the full rate."""


def _figures(score: Score) -> tuple[float | None, float | None, float | None]:
    return score.agreement, score.share("upright"), score.share("slouched")


def _change(full: Score, other: Score) -> float:
    """The largest move of the three figures, in percentage points."""
    moves = [
        abs(a - b) * 100
        for a, b in zip(_figures(full), _figures(other), strict=True)
        if a is not None and b is not None
    ]
    return max(moves, default=0.0)


def report(data_dir: Path, overrides: str = "") -> tuple[list[str], list[str]]:
    """A table of the coach's figures per recording at the full rate and each decimated rate."""
    runs: dict[float | None, dict[Recording, dict[str, Score] | str]] = {
        None: score_all(data_dir, overrides)
    }
    for rate_hz in RATES_HZ:
        runs[rate_hz] = score_all(data_dir, overrides, rate_hz)
    heads = ["full", *(f"{r:g}/s" for r in RATES_HZ)]
    lines = [
        "slouch at lower sample rates (coach: agreement / upright flagged / slouched caught; "
        "largest move from the full rate, points):",
        f"{'recording':44} {'kind':10} " + "  ".join(f"{h:^14}" for h in heads) + "  move",
    ]
    worst: dict[bool, tuple[float, str]] = {True: (0.0, "-"), False: (0.0, "-")}
    within: dict[bool, list[int]] = {True: [0, 0], False: [0, 0]}
    totals: dict[tuple[float | None, bool], Score] = {}
    for rec, full in runs[None].items():
        name = f"{rec.source[:20]}/{rec.name}"
        if isinstance(full, str) or not rec.continuous:
            continue
        cells, moves = [], []
        for rate_hz, scores in runs.items():
            mine = scores.get(rec)
            if mine is None or isinstance(mine, str):
                cells.append(f"{'failed':^14}")
                moves.append(100.0)
                continue
            coach = mine["coach"]
            totals.setdefault((rate_hz, rec.continuous), Score()).merge(coach)
            a, u, s = _figures(coach)
            cells.append(f"{_pct(a)} {_pct(u)} {_pct(s)}")
            moves.append(_change(full["coach"], coach))
        move = max(moves)
        within[rec.continuous][0] += int(move <= MAX_CHANGE_POINTS)
        within[rec.continuous][1] += 1
        if move > worst[rec.continuous][0]:
            worst[rec.continuous] = (move, rec.name)
        kind = "continuous" if rec.continuous else "frames"
        lines.append(f"{name:44} {kind:10} " + "  ".join(cells) + f"  {move:4.1f}")
    for continuous, label in ((True, "continuous, over time"),):
        cells = []
        for rate_hz in runs:
            s = totals.get((rate_hz, continuous), Score())
            a, u, c = _figures(s)
            cells.append(f"{_pct(a)} {_pct(u)} {_pct(c)}")
        lines.append(f"{'all ' + label:55} " + "  ".join(cells))
    summary = [
        "slouch at 5, 2 and 1 samples a second: "
        + "; ".join(
            f"{label} {within[c][0]}/{within[c][1]} recordings within {MAX_CHANGE_POINTS:g} points "
            f"of the full rate (largest move {worst[c][0]:.1f}, {worst[c][1]})"
            for c, label in ((True, "continuous"),)
        )
        + " (key-press files and stills keep no timing: not decimated)"
    ]
    return lines, summary


def main(argv: list[str]) -> int:
    data_dir = (
        Path(argv[1])
        if len(argv) > 1
        else Path(__file__).resolve().parents[2] / "shared" / "realdata"
    )
    lines, summary = report(data_dir)
    print("\n".join([*lines, "", *summary]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
