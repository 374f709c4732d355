"""Slouch at any sample rate: every posture recording decimated to 5, 2 and 1 samples a second
(as tools that save landmarks twice a second give them, and the coach's own idle rate), beside
its full rate. Calibration, hold times and the median work on time, so the figures should hold."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.real_posture import RATES_HZ, Score, _pct, score_all

MAX_CHANGE_POINTS = 2.0
"""The target: no figure moves more than this many points from the full rate."""
PHASES = (0.0, 0.25, 0.5, 0.75)
"""Where the decimation grid starts, as a share of its step: at one rate, each phase keeps
other frames. A figure at a rate is the mean over the phases (one phase is one draw); how far
the phases disagree with each other at the same rate is the measurement's own noise."""


Figures = tuple[float | None, float | None, float | None]


def _figures(score: Score) -> Figures:
    return score.agreement, score.share("upright"), score.share("slouched")


def _mean(figures: list[Figures]) -> Figures:
    """Figure by figure, the mean over the phases that measured it."""
    out = []
    for k in range(3):
        values = [f[k] for f in figures if f[k] is not None]
        out.append(sum(values) / len(values) if values else None)
    return out[0], out[1], out[2]


def _change(full: Figures, other: Figures) -> float:
    """The largest move of the three figures, in percentage points."""
    moves = [
        abs(a - b) * 100
        for a, b in zip(full, other, strict=True)
        if a is not None and b is not None
    ]
    return max(moves, default=0.0)


def _spread(figures: list[Figures]) -> float:
    """The largest disagreement between two phases on any of the three figures, in points."""
    return max((_change(a, b) for a in figures for b in figures), default=0.0)


def _cell(figures: Figures) -> str:
    return " ".join(_pct(v) for v in figures)


def report(data_dir: Path, overrides: str = "") -> tuple[list[str], list[str]]:
    """A table of the coach's figures per continuous recording at the full rate and each
    decimated rate (the mean over the grid phases), the move from the full rate and how far
    the phases alone spread at one rate."""
    full_run = score_all(data_dir, overrides)
    runs = {
        (rate_hz, phase): score_all(data_dir, overrides, rate_hz, phase)
        for rate_hz in RATES_HZ
        for phase in PHASES
    }
    heads = ["full", *(f"{r:g}/s" for r in RATES_HZ)]
    lines = [
        "slouch at lower sample rates (coach: agreement / upright flagged / slouched caught, "
        f"the mean over {len(PHASES)} grid phases; move: largest from the full rate; "
        "phases: largest spread between the phases at one rate; points):",
        f"{'recording':44} " + "  ".join(f"{h:^14}" for h in heads) + "  move  phases",
    ]
    within, moves, spreads = 0, [], []
    totals: dict[float | None, Score] = {}
    recs = [r for r, s in full_run.items() if r.continuous and not isinstance(s, str)]
    for rec in recs:
        full = full_run[rec]
        assert not isinstance(full, str)
        totals.setdefault(None, Score()).merge(full["coach"])
        cells, rec_moves, rec_spreads = [_cell(_figures(full["coach"]))], [], []
        for rate_hz in RATES_HZ:
            per_phase = []
            for phase in PHASES:
                mine = runs[(rate_hz, phase)].get(rec)
                if mine is None or isinstance(mine, str):
                    per_phase.append((None, None, None))
                    rec_moves.append(100.0)
                    continue
                totals.setdefault(rate_hz, Score()).merge(mine["coach"])
                per_phase.append(_figures(mine["coach"]))
            cells.append(_cell(_mean(per_phase)))
            rec_moves.append(_change(_figures(full["coach"]), _mean(per_phase)))
            rec_spreads.append(_spread(per_phase))
        move, spread = max(rec_moves), max(rec_spreads)
        within += int(move <= MAX_CHANGE_POINTS)
        moves.append((move, rec.name))
        spreads.append((spread, rec.name))
        lines.append(
            f"{rec.source[:20] + '/' + rec.name:44} "
            + "  ".join(cells)
            + f"  {move:4.1f}  {spread:5.1f}"
        )
    lines.append(
        f"{'all continuous, over time':44} "
        + "  ".join(_cell(_figures(totals.get(r, Score()))) for r in (None, *RATES_HZ))
    )
    worst, worst_spread = max(moves, default=(0.0, "-")), max(spreads, default=(0.0, "-"))
    summary = [
        f"slouch at 5, 2 and 1 samples a second: continuous {within}/{len(recs)} recordings "
        f"within {MAX_CHANGE_POINTS:g} points of the full rate (mean over {len(PHASES)} grid "
        f"phases; largest move {worst[0]:.1f}, {worst[1]}); the phases alone, at one rate, "
        f"spread by up to {worst_spread[0]:.1f} points ({worst_spread[1]}) "
        "(key-press files and stills keep no timing: not decimated)"
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
