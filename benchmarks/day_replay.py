"""An 8-hour working day of landmarks through the decision layer, at the rate the coach asks for.

The day is scripted (testkit/synthetic.py's seated body): mostly sitting still and typing,
slouch episodes, breaks away from the desk (a longer one at lunch), and two sets of cat-cow.
A 30 fps camera is simulated: each frame's timestamp goes through the same rate gate as
`coach analyze` runs it (coach/session.py, with this scripted camera as its source), and a
pose is made only for the frames the gate admits, so the replay costs what the
coach's decisions cost and no more. Prints how many pose inferences the day asked for,
against an every-frame loop.
"""

from __future__ import annotations

import bisect
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach.config import Config
from coach.movements import load_library
from coach.pipeline import Sink
from coach.records import Frame, Look, PoseSample, SetCompleted, SkippedFrame, Snapshot
from coach.session import Session
from coach.session_options import Mode, Opened, SessionOptions
from coach.source import FrameGate
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample

CAMERA_FPS = 30.0
SET_REPS = 6

Segment = tuple[str, float]
"""(kind, seconds): still, typing, slouch, stand, away, cat-cow."""


def working_day(hours: float = 8.0) -> list[Segment]:
    """The day's script, hour by hour, cut at `hours`."""
    day: list[Segment] = []
    for hour in range(math.ceil(hours)):
        lunch = hour == 4
        hour_parts: list[Segment] = [
            ("still", 12 * 60.0),
            ("typing", 10 * 60.0),
            ("slouch", 6 * 60.0 if hour % 2 == 0 else 3 * 60.0),
            ("typing", 8 * 60.0),
            ("still", 6 * 60.0),
            ("stand", 20.0),
            ("away", 30 * 60.0 if lunch else 6 * 60.0),
        ]
        if hour in (2, 5):
            hour_parts += [("still", 60.0), ("cat-cow", SET_REPS * 4.0)]
        used = sum(s for _, s in hour_parts)
        hour_parts.append(("typing" if hour % 2 else "still", 3600.0 - used))
        day += [(kind, s) for kind, s in hour_parts if s > 0]
    out: list[Segment] = []
    left = hours * 3600.0
    for kind, seconds in day:
        if left <= 0:
            break
        out.append((kind, min(seconds, left)))
        left -= seconds
    return out


def _cat_cow(phase_s: float, period_s: float = 4.0) -> BodyPose:
    """Cow (chest up, chin up) then cat (rounded, chin down), 2 s each."""
    x = math.sin(2 * math.pi * phase_s / period_s)
    return BodyPose(
        extension=max(x, 0.0), rounding=max(-x, 0.0), pitch_deg=-15.0 * x if x > 0 else -25.0 * x
    )


def body(kind: str, t_s: float, local_s: float) -> BodyPose | None:
    """The user's body at `t_s`, `local_s` into a part of kind `kind` (None: away)."""
    breathing = (0.0, 0.002 * math.sin(2 * math.pi * 0.25 * t_s), 0.0)
    if kind == "still":
        return BodyPose(shift_m=breathing)
    if kind == "typing":
        return BodyPose(
            shift_m=breathing,
            arm_raise=0.02 * math.sin(2 * math.pi * 4.0 * t_s),
            pitch_deg=3.0 * math.sin(2 * math.pi * t_s / 1.7),
        )
    if kind == "slouch":
        return BodyPose(rounding=0.8, forward_head_m=0.04, pitch_deg=8.0, shift_m=breathing)
    if kind == "stand":
        rise = min(1.0, local_s / 2.0)
        return BodyPose(shift_m=(0.12 * math.sin(local_s), -0.25 * rise, 0.1 * rise))
    if kind == "cat-cow":
        return _cat_cow(local_s)
    if kind == "away":
        return None
    raise ValueError(f"unknown part {kind!r}")


@dataclass
class DayResult:
    """What the day asked for, and what the coach decided."""

    seconds: float
    inferences: int
    by_kind: Counter[str] = field(default_factory=Counter)
    """Inferences per part of the day (still, typing, ...)."""
    seconds_by_kind: Counter[str] = field(default_factory=Counter)
    by_rate: Counter[float] = field(default_factory=Counter)
    """Inferences per analysis rate the coach wanted when the frame was admitted."""
    by_kind_rate: Counter[tuple[str, float]] = field(default_factory=Counter)
    slouch_flips: int = 0
    away_flips: int = 0
    prompts: Counter[str] = field(default_factory=Counter)
    """Prompts (nudges) by reason: a movement prompt arms a rep counter, at the exercise rate."""
    sets: list[SetCompleted] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def every_frame(self) -> int:
        return round(self.seconds * CAMERA_FPS)


class _Tally:
    """Sink that counts decisions as the replay goes."""

    def __init__(self, result: DayResult) -> None:
        self.result = result
        self._state: str | None = None
        self._activity: str | None = None

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        if snapshot.state == "slouched" and self._state != "slouched":
            self.result.slouch_flips += 1
        if snapshot.activity == "away" and self._activity != "away":
            self.result.away_flips += 1
        self._state, self._activity = snapshot.state, snapshot.activity
        self.result.sets.extend(e for e in snapshot.events if isinstance(e, SetCompleted))
        if snapshot.nudge is not None:
            self.result.prompts[snapshot.nudge.reason] += 1

    def close(self) -> None:
        pass


class _ScriptedDay:
    """A 30 fps camera on the scripted day: a pose is made only for the frames the gate admits."""

    description = "a scripted working day"
    fps = CAMERA_FPS

    def __init__(self, segments: list[Segment], result: DayResult, seed: int) -> None:
        self._segments = segments
        self._starts = list(np.cumsum([0.0] + [s for _, s in segments]))
        self._result = result
        self._rng = np.random.default_rng(seed)
        self._camera = Camera()
        self._blank = np.zeros((1, 1, 3), dtype=np.uint8)
        self.rate: Callable[[], float] = lambda: 0.0
        """The rate the coach wants (set once the session opens)."""

    def frames(self, gate: FrameGate) -> Iterator[Frame | SkippedFrame]:
        for i in range(round(self._starts[-1] * CAMERA_FPS)):
            t_s = i / CAMERA_FPS
            if gate.admit(t_s) is not Look.ANALYSE:
                yield SkippedFrame(t_s=t_s, index=i)
                continue
            yield Frame(image=self._blank, t_s=t_s, index=i)

    def estimate(self, frame: Frame) -> PoseSample:
        t_s, result = frame.t_s, self._result
        rate = self.rate()  # the gate only reads the analyzer's plan
        part = bisect.bisect_right(self._starts, t_s) - 1
        kind = self._segments[part][0]
        b = body(kind, t_s, t_s - self._starts[part])
        pose = (
            synthetic_pose(b, self._camera, noise_px=0.7, rng=self._rng) if b is not None else None
        )
        result.inferences += 1
        result.by_kind[kind] += 1
        result.by_rate[rate] += 1
        result.by_kind_rate[kind, rate] += 1
        return synthetic_sample(pose, t_s)


def replay_day(
    segments: list[Segment], config: Config | None = None, *, seed: int = 0
) -> DayResult:
    """Run the day through the session `coach analyze` runs, making a pose only for the
    frames the gate admits."""
    config = config or Config()
    total_s = sum(s for _, s in segments)
    result = DayResult(seconds=total_s, inferences=0)
    for kind, seconds in segments:
        result.seconds_by_kind[kind] += seconds
    day = _ScriptedDay(segments, result, seed)
    tally = _Tally(result)

    def sinks_for(opened: Opened) -> list[Sink]:
        day.rate = opened.rate
        return [tally]

    started = time.perf_counter()
    options = SessionOptions(Mode.ANALYZE, day.description)
    done = Session(options, config, load_library(), feed=day).run(sinks_for)
    if done.stopped is not None:
        raise done.stopped
    if done.unfinished_set is not None:
        result.sets.append(done.unfinished_set)
    result.wall_s = time.perf_counter() - started
    return result
