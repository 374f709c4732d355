"""Provides scoring of analysed clips against their ground truth (used by evaluation scripts and tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.analyzer import Snapshot


def load_truth(video: Path) -> dict[str, Any]:
    """The ground-truth JSON next to a sample clip."""
    data: dict[str, Any] = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
    return data


def inside(t_s: float, intervals: list[list[float]]) -> bool:
    """Whether `t_s` falls in any [start, end) interval."""
    return any(start <= t_s < end for start, end in intervals)


@dataclass(frozen=True)
class StateAgreement:
    """Frame-level agreement of the decided state with the truth."""

    agreement: float
    frames_scored: int
    frames_ignored: int
    disagreements_s: list[float]


def slouch_agreement(
    snapshots: list[Snapshot],
    slouch_intervals_s: list[list[float]],
    *,
    after_s: float,
    margin_s: float,
) -> StateAgreement:
    """Share of frames whose state matches the truth (slouched inside intervals, else upright).

    Frames before `after_s` (calibration) and within `margin_s` of a true transition are ignored.
    """
    edges = [edge for interval in slouch_intervals_s for edge in interval]
    scored = agree = ignored = 0
    wrong: list[float] = []
    for snap in snapshots:
        if snap.t_s < after_s or any(abs(snap.t_s - e) <= margin_s for e in edges):
            ignored += 1
            continue
        expected = "slouched" if inside(snap.t_s, slouch_intervals_s) else "upright"
        scored += 1
        if snap.state == expected:
            agree += 1
        else:
            wrong.append(round(snap.t_s, 2))
    return StateAgreement(agree / max(scored, 1), scored, ignored, wrong)


def transitions(snapshots: list[Snapshot], state: str) -> list[list[float]]:
    """Intervals during which the decided state was `state`."""
    out: list[list[float]] = []
    start: float | None = None
    for snap in snapshots:
        if snap.state == state and start is None:
            start = snap.t_s
        elif snap.state != state and start is not None:
            out.append([start, snap.t_s])
            start = None
    if start is not None and snapshots:
        out.append([start, snapshots[-1].t_s])
    return out
