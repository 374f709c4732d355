"""How well any rule on the coach's cues could agree with the shared labels: per-person oracles.

The issue asks for a mean agreement of 95% over the people, left out in turn. This measures the
most that the cues the production path reads (`measure_cues`, smoothed by `CueSmoother` on
continuous recordings, against the neutral of the same calibration frames `real_posture` uses)
can give on these labels, whatever the thresholds:

- **best threshold, own labels:** the coach's score with the one threshold that suits that
  person best, chosen on the very frames it is scored on;
- **linear rule, own labels:** a logistic regression on eight cue changes (nose over the
  shoulders, head height, head size, ears over the shoulders, nod, shoulder width, shoulder
  height, shoulder tilt), fit on the person's own labelled frames and scored on them
  (in-sample: an upper bound, not a figure any product could reach);
- **linear rule, others' labels:** the same regression fit on the other people and scored on
  the person (what a rule learnt from the shared data would carry to someone new).

Frames are scored one by one (frames with no measurable cues left out), every person counting
the same in the mean, as in `real_lopo`.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.real_posture import Recording, calibration_for, recordings
from benchmarks.realdata import DEFAULT_DATA_DIR
from coach.config import CalibrationConfig, SlouchConfig
from coach.features.posture import (
    CueSmoother,
    PostureCues,
    measure_cues,
    median_cues,
    posture_metrics,
    spread_cues,
)
from coach.pose.landmark_file import LandmarkReader

FEATURES = (
    "nose over shoulders",
    "head height",
    "head size",
    "ears over shoulders",
    "nod",
    "shoulder width",
    "shoulder height",
    "shoulder tilt",
)
Floats = NDArray[np.float64]
BLOCK_S = 10.0
"""Continuous recordings are split into stretches this long for fitting on some and scoring
on the others (stills and key-press frames are each their own)."""


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def cue_changes(cues: PostureCues, neutral: PostureCues) -> list[float]:
    """The eight cue changes from the neutral (0 where a cue is not measured), scale-free."""
    width = neutral.shoulder_width
    return [
        _finite((neutral.nose_rise - cues.nose_rise) / neutral.nose_rise),
        _finite((cues.nose_y - neutral.nose_y) / width),
        _finite(cues.head_size / neutral.head_size - 1.0),
        _finite((neutral.ear_rise - cues.ear_rise) / neutral.ear_rise),
        _finite(cues.pitch - neutral.pitch),
        _finite(cues.shoulder_width / width - 1.0),
        _finite((cues.shoulder_y - neutral.shoulder_y) / width),
        _finite(abs(cues.lean_deg - neutral.lean_deg) / 30.0),
    ]


@dataclass
class Frames:
    """One person's labelled frames: cue changes, the coach's score, and the label."""

    changes: list[list[float]]
    scores: list[float]
    slouched: list[bool]
    blocks: list[int]
    """Which stretch of time each frame belongs to (neighbouring frames of a continuous
    recording share one, so a fit on one block says nothing of its own frames)."""

    def held_out(self) -> Figures | None:
        """A linear rule fit on every other block of the person's frames and scored on the
        rest, both ways round (None: no half holds both postures)."""
        x, _, truth = self.arrays()
        fold = np.array(self.blocks) % 2
        said = np.zeros(len(truth), dtype=bool)
        scored = np.zeros(len(truth), dtype=bool)
        for k in (0, 1):
            train, test = fold != k, fold == k
            if truth[train].all() or not truth[train].any() or not test.any():
                continue
            said[test] = predict(fit_logistic(x[train], truth[train]), x[test])
            scored[test] = True
        return Figures.of(said[scored], truth[scored]) if scored.any() else None

    def arrays(self) -> tuple[Floats, Floats, NDArray[np.bool_]]:
        return (
            np.array(self.changes, dtype=np.float64),
            np.array(self.scores, dtype=np.float64),
            np.array(self.slouched, dtype=bool),
        )


def _neutral(rec: Recording, everything: list[Recording]) -> tuple[PostureCues, PostureCues, float]:
    """The neutral and its spread from the recording's calibration frames, and when scoring
    starts (after an in-file calibration)."""
    cal = calibration_for(rec, everything)
    seen = [measure_cues(s.pose) if s.pose is not None else None for s in cal.samples()]
    cues = [c for c in seen if c is not None]
    if len(cues) < max(3, CalibrationConfig().min_usable_fraction * len(seen)):
        # As `coach calibrate`: too few frames show the person clearly (a profile view).
        raise ValueError(f"{rec.name}: the coach cannot calibrate on {rec.person}")
    neutral = median_cues(cues)
    skip_until_s = cal.stretches[0][2] if cal.in_file else -math.inf
    return neutral, spread_cues(cues, neutral), skip_until_s


def person_frames(data_dir: Path) -> dict[str, Frames]:
    """Every person's labelled upright and slouched frames."""
    everything = recordings(data_dir)
    window_s = SlouchConfig().median_window_s
    out: dict[str, Frames] = defaultdict(lambda: Frames([], [], [], []))
    block_ids: dict[str, dict[tuple[str, int], int]] = defaultdict(dict)
    for rec in everything:
        try:
            neutral, noise, skip_until_s = _neutral(rec, everything)
        except ValueError:
            continue
        if neutral.view == "side" or not neutral.nose_rise > 0:
            continue
        smoother = CueSmoother(window_s) if rec.continuous else None
        mine = out[rec.person]
        for sample in LandmarkReader(rec.path).samples():
            cues = measure_cues(sample.pose) if sample.pose is not None else None
            if smoother is not None:
                cues = smoother.update(cues, sample.t_s)
            truth = rec.state_at(sample.t_s)
            if cues is None or truth not in ("upright", "slouched"):
                continue
            if sample.t_s < skip_until_s or (rec.continuous and rec.near_edge(sample.t_s)):
                continue
            metrics = posture_metrics(cues, neutral, noise)
            if metrics is None:
                continue
            mine.changes.append(cue_changes(cues, neutral))
            mine.scores.append(metrics.score)
            mine.slouched.append(truth == "slouched")
            block = int(sample.t_s // BLOCK_S) if rec.continuous else len(mine.blocks)
            ids = block_ids[rec.person]
            mine.blocks.append(ids.setdefault((rec.name, block), len(ids)))
    return dict(out)


def fit_logistic(x: Floats, y: NDArray[np.bool_], ridge: float = 1e-3) -> Floats:
    """Logistic regression weights (bias first) by Newton's method with a small ridge, on
    standardised features (the weights returned apply to the raw ones)."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / std])
    target = y.astype(np.float64)
    w = np.zeros(z.shape[1])
    penalty = ridge * np.eye(z.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30.0, 30.0)))
        gradient = z.T @ (p - target) + penalty @ w
        hessian = (z * (p * (1.0 - p))[:, None]).T @ z + penalty + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    raw = np.empty_like(w)
    raw[1:] = w[1:] / std
    raw[0] = w[0] - float(np.sum(w[1:] * mean / std))
    return raw


def predict(weights: Floats, x: Floats) -> NDArray[np.bool_]:
    """Slouched where the linear rule is past its midpoint."""
    return np.asarray(weights[0] + x @ weights[1:] > 0.0, dtype=bool)


@dataclass(frozen=True)
class Figures:
    agreement: float
    flagged: float
    caught: float

    @staticmethod
    def of(said: NDArray[np.bool_], truth: NDArray[np.bool_]) -> Figures:
        upright = ~truth
        return Figures(
            float(np.mean(said == truth)),
            float(np.mean(said[upright])) if upright.any() else math.nan,
            float(np.mean(said[truth])) if truth.any() else math.nan,
        )


def best_threshold(scores: Floats, truth: NDArray[np.bool_]) -> Figures:
    """The figures of the threshold on `scores` that agrees best with `truth`."""
    candidates = np.unique(np.concatenate([scores, [np.inf]]))
    return max((Figures.of(scores >= t, truth) for t in candidates), key=lambda f: f.agreement)


def report(data_dir: Path) -> tuple[list[str], list[str]]:
    """Per person and the mean: the four ceilings."""
    people = person_frames(data_dir)
    names = sorted(p for p, f in people.items() if any(f.slouched))
    heads = (
        "best threshold, own labels",
        "linear, own labels",
        "linear, own other half",
        "linear, others' labels",
    )
    rows: dict[str, list[Figures | None]] = {}
    for name in names:
        x, scores, truth = people[name].arrays()
        others = [people[o].arrays() for o in names if o != name]
        shared = fit_logistic(
            np.vstack([o[0] for o in others]), np.concatenate([o[2] for o in others])
        )
        rows[name] = [
            best_threshold(scores, truth),
            Figures.of(predict(fit_logistic(x, truth), x), truth),
            people[name].held_out(),
            Figures.of(predict(shared, x), truth),
        ]
    lines = [
        "slouch ceiling: what any rule on the coach's cues agrees with the labels, frame by frame "
        "(agreement / upright flagged / slouched caught):",
        f"  {'person':30} " + "  ".join(f"{h:^24}" for h in heads),
    ]

    def cell(f: Figures | None) -> str:
        if f is None:
            return "-"
        return f"{100 * f.agreement:5.1f}% {_pct(f.flagged)} {_pct(f.caught)}"

    for name in names:
        lines.append(f"  {name:30} " + "  ".join(f"{cell(f):^24}" for f in rows[name]))
    means = [
        statistics.fmean(f.agreement for r in rows.values() if (f := r[k]) is not None)
        for k in range(len(heads))
    ]
    lines.append(f"  {'mean agreement':30} " + "  ".join(f"{100 * m:^24.1f}" for m in means))
    summary = [
        f"slouch ceiling, mean agreement over {len(rows)} people, frame by frame: the best "
        f"threshold for each person chosen on their own labels {100 * means[0]:.1f}%; a linear "
        f"rule on {len(FEATURES)} cues fit on their own labels {100 * means[1]:.1f}% "
        f"(scored on the frames it was fit on), {100 * means[2]:.1f}% on their other half; fit "
        f"on the other people {100 * means[3]:.1f}%"
    ]
    return lines, summary


def _pct(value: float) -> str:
    return "   -" if math.isnan(value) else f"{100 * value:3.0f}%"


def main(argv: list[str]) -> int:
    """`real_ceiling.py [DATA_DIR]`."""
    data_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_DATA_DIR
    lines, summary = report(data_dir)
    print("\n".join([*lines, "", *summary]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
