"""Provides the session's typed edges: the options it takes, what sinks see, the result it gives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from coach.pipeline import LoopStats
from coach.records import Frame, PoseSample, SetCompleted, SkippedFrame

if TYPE_CHECKING:
    from coach.features.posture import PostureCues
    from coach.source import FrameGate


class Mode(StrEnum):
    """What a session is for (the command that runs it)."""

    RUN = "run"
    """Coach live (or replay a file as if live)."""
    ANALYZE = "analyze"
    RECORD = "record"
    COUNT = "count"
    """A guided set: the run ends with the set."""
    CALIBRATE = "calibrate"
    """Record the neutral: the run ends once it is recorded."""


@dataclass(frozen=True)
class Guided:
    """A guided set asked for: the movement, and its target reps (None: its dose)."""

    movement: str
    target_reps: int | None = None


@dataclass(frozen=True)
class SessionOptions:
    """Everything a session needs to know from the command line, checked and typed."""

    mode: Mode
    source: str
    """Webcam index, video file, stream URL or landmark file."""
    model: Path | None = None
    """The pose model (None: the built-in one)."""
    max_seconds: float | None = None
    """Stop after this much stream time (None: at the source's end)."""
    profile: str | None = None
    """Start from this calibration profile (None: calibrate from the first seconds)."""
    calibrate_s: float | None = None
    """Calibrate from this many seconds (None: the configured time)."""
    guided: Guided | None = None
    """The guided set of `coach count`."""
    paced: bool = False
    """Release a video file's frames at their own timestamps (`--realtime`)."""
    save_profile_as: str = "default"
    """Where a calibration asked for in a running coach is saved."""


@dataclass(frozen=True)
class Opened:
    """What sinks are built from, once the source is open."""

    stats: LoopStats
    label: str
    """The source as it may be shown (credentials redacted)."""
    started_at: dt.datetime
    """The one wall-clock anchor: when the source opened (stream time 0, for a live source)."""
    paced: bool
    """Stream time runs with the clock (a live source, or a file at its own speed)."""
    live: bool
    """A camera or stream, whose stream time 0 is `started_at`."""
    rate: Callable[[], float]
    """How often the analysis looks at frames right now."""
    duration_s: float | None = None
    """How much stream time the run will cover, when known (a video file; for progress)."""

    def wall_s(self, t_s: float) -> float:
        """The wall-clock time (epoch seconds) of a live stream's timestamp."""
        return self.started_at.timestamp() + t_s


@dataclass(frozen=True)
class SessionResult:
    """What a finished (or stopped) session leaves for the command."""

    stats: LoopStats
    label: str
    source_fps: float
    started_at: dt.datetime
    view: str | None
    """The camera view over the whole run."""
    last_set: SetCompleted | None
    """The last set that ended during the run, or the one in progress at its end."""
    unfinished_set: SetCompleted | None
    """The set in progress when the run ended (ended then), if any."""
    neutral: PostureCues | None
    """The neutral as calibrated (None: calibration did not finish)."""
    noise: PostureCues | None
    image_size: tuple[int, int] | None
    """The analysed frames' size (None: no pose was seen)."""
    stopped: KeyboardInterrupt | None = None
    """Ctrl-C, SIGTERM or SIGHUP ended the run early."""


class Feed(Protocol):
    """A scripted camera with its own pose stage, run in place of `options.source` (the
    benchmarks' synthetic day): it asks the loop's gate before making a frame, as a
    source does (see `coach.source.FrameGate`)."""

    @property
    def description(self) -> str:
        """The source as it may be shown."""

    @property
    def fps(self) -> float:
        """Frames per second of the scripted camera."""

    def frames(self, gate: FrameGate) -> Iterable[Frame | SkippedFrame]:
        """The frames, skipped where the gate says so."""

    def estimate(self, frame: Frame) -> PoseSample:
        """The pose in one frame."""
