"""Provides scoring of analysed clips against their ground truth (used by evaluation scripts and tests)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.actions.analysis_report import ActivityIntervals, IntervalTracker
from coach.records import Command, PostureState, Snapshot


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
        expected = (
            PostureState.SLOUCHED if inside(snap.t_s, slouch_intervals_s) else PostureState.UPRIGHT
        )
        scored += 1
        if snap.state == expected:
            agree += 1
        else:
            wrong.append(round(snap.t_s, 2))
    return StateAgreement(agree / max(scored, 1), scored, ignored, wrong)


def transitions(snapshots: list[Snapshot], state: str) -> list[list[float]]:
    """Intervals during which the decided state was `state`."""
    tracker = IntervalTracker()
    for snap in snapshots:
        tracker.update(snap.state == state, snap.t_s)
    return tracker.finish()


def activity_timeline(snapshots: list[Snapshot]) -> list[tuple[float, float, str]]:
    """The still / moving / away intervals, in time order, with backdated edges."""
    intervals = ActivityIntervals()
    for snap in snapshots:
        intervals.update(snap.activity, snap.activity_since_s, snap.t_s)
    return sorted((a, b, kind) for kind, found in intervals.finish().items() for a, b in found)


@dataclass(frozen=True)
class DaySegment:
    """One stretch of a simulated day: what the user does, and any command they give."""

    start: str
    """Local time "HH:MM" the segment starts."""
    kind: str
    """"sit", "slouch_head", "slouch_back", "stretch", "away", "passer_by"."""
    command: Command | None = None
    """A command given at the segment's start ("snooze", "pause", ...)."""


@dataclass(frozen=True)
class DayResult:
    """What a simulated day produced."""

    nudges: list[Any]
    resolved: list[Any]
    snapshots_at: dict[float, Any]
    """A thinned record of snapshots (every minute) for checking gates."""
    start: Any
    """The day's start as a datetime."""


def simulate_day(
    segments: list[DaySegment],
    *,
    day: str = "2026-11-23",
    end: str = "19:30",
    step_s: float = 2.0,
    seed: int = 0,
) -> DayResult:
    """Run a scripted working day through the whole analyzer on synthetic poses.

    Time is simulated (stream seconds from the first segment), so an 11-hour day takes
    seconds of wall time; the clock maps stream time to the day's local time.
    """
    import datetime as dt

    import numpy as np

    from coach.analyzer import Analyzer
    from coach.config import Config, LoopConfig
    from coach.movements import load_library
    from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample

    start = dt.datetime.fromisoformat(f"{day}T{segments[0].start}")
    finish = dt.datetime.fromisoformat(f"{day}T{end}")

    def clock(t_s: float) -> dt.datetime:
        return start + dt.timedelta(seconds=t_s)

    config = dataclasses.replace(Config(), loop=LoopConfig(posture_fps=1.0 / step_s))
    analyzer = Analyzer(config, load_library(), calibrate_s=20.0, clock=clock)
    rng = np.random.default_rng(seed)
    camera = Camera()
    bodies = {
        "sit": BodyPose(),
        # Forward and down, as real forward heads are (the neck shortens as the head drops).
        "slouch_head": BodyPose(forward_head_m=0.07, neck_m=-0.03),
        "slouch_back": BodyPose(rounding=0.8),
    }
    bounds = [
        (dt.datetime.fromisoformat(f"{day}T{s.start}") - start).total_seconds() for s in segments
    ]
    bounds.append((finish - start).total_seconds())
    nudges: list[Any] = []
    resolved: list[Any] = []
    thinned: dict[float, Any] = {}
    for segment, seg_start, seg_end in zip(segments, bounds, bounds[1:], strict=False):
        if segment.command is not None:
            analyzer.command(segment.command)
        t_s = seg_start
        while t_s < seg_end:
            local_s = t_s - seg_start
            if segment.kind in bodies:
                pose = synthetic_pose(bodies[segment.kind], camera, noise_px=0.7, rng=rng)
            elif segment.kind == "stretch":
                pose = synthetic_pose(
                    BodyPose(arm_raise=0.62, lean_deg=12.0 * np.sin(local_s)), camera, rng=rng
                )
            elif segment.kind == "passer_by":
                x = -0.8 + 1.6 * (local_s % 20.0) / 20.0
                pose = synthetic_pose(BodyPose(shift_m=(x, -0.1, 1.2)), camera, rng=rng)
            else:
                pose = None
            snap = analyzer.update(synthetic_sample(pose, t_s))
            for event in snap.events:
                (nudges if type(event).__name__ == "Nudge" else resolved).append(event)
            if int(t_s) % 60 == 0:
                thinned[t_s] = snap
            t_s += step_s
    return DayResult(nudges, resolved, thinned, start)
