"""Provides the frame loop: source → pose → analyzer → sinks, at the analyzer's chosen rate."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from coach.records import Frame, PoseSample, SkippedFrame

if TYPE_CHECKING:
    from coach.analyzer import Snapshot


class Sink(Protocol):
    """Receives every snapshot (and its frame when there is one)."""

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Take one snapshot."""

    def close(self) -> None:
        """Finish (flush files, close windows)."""


class Estimator(Protocol):
    """The pose stage: a frame in, a pose sample out."""

    def estimate(self, frame: Frame) -> PoseSample:
        """Find the user's pose in one frame."""


@dataclass
class LoopStats:
    """Counts and time spent per stage, for the dashboard and the benchmark."""

    frames_read: int = 0
    frames_analysed: int = 0
    first_t_s: float | None = None
    last_t_s: float = 0.0
    decode_s: float = 0.0
    pose_s: float = 0.0
    rest_s: float = 0.0
    wall_s: float = 0.0
    sinks_s: float = field(default=0.0)

    @property
    def duration_s(self) -> float:
        """Stream time covered, seconds."""
        return 0.0 if self.first_t_s is None else self.last_t_s - self.first_t_s


class RateGate:
    """Admits timestamps no faster than `wanted_fps()` of stream time; the rest are skipped.

    The rate is asked for at every timestamp, so a stage can raise it (rep counting)
    and lower it again (posture only) while the loop runs.
    """

    # Slack of half a 240 fps frame, so 15 fps video sampled at 5 fps takes every third frame.
    _SLACK_S = 0.5 / 240.0

    def __init__(self, wanted_fps: Callable[[], float]) -> None:
        self._wanted_fps = wanted_fps
        self._next_due_s: float | None = None

    def is_due(self, t_s: float) -> bool:
        """Whether `admit(t_s)` would take the sample (without taking it).

        Sources ask this before decoding a frame, so frames the loop would skip are never
        decoded (a 30 fps camera analysed once a second decodes one frame in thirty).
        """
        return self._next_due_s is None or t_s >= self._next_due_s - self._SLACK_S

    def admit(self, t_s: float) -> bool:
        """Whether the sample at `t_s` should be analysed."""
        if not self.is_due(t_s):
            return False
        period_s = 1.0 / max(self._wanted_fps(), 0.1)
        if self._next_due_s is None or t_s - self._next_due_s > period_s:
            self._next_due_s = t_s
        self._next_due_s += period_s
        return True


def _note_time(stats: LoopStats, t_s: float, index: int | None = None) -> None:
    # A live source numbers every camera frame, decoded or not: count what the camera sent.
    stats.frames_read = max(stats.frames_read + 1, 0 if index is None else index + 1)
    if stats.first_t_s is None:
        stats.first_t_s = t_s
    stats.last_t_s = t_s


def analysed_frames(
    frames: Iterable[Frame | SkippedFrame], estimator: Estimator, gate: RateGate, stats: LoopStats
) -> Iterator[tuple[Frame | None, PoseSample]]:
    """Decode frames, keep those the gate admits, and run the pose stage on them (timed)."""
    iterator = iter(frames)
    while True:
        started = time.perf_counter()
        frame = next(iterator, None)
        stats.decode_s += time.perf_counter() - started
        if frame is None:
            return
        _note_time(stats, frame.t_s, frame.index)
        if isinstance(frame, SkippedFrame) or not gate.admit(frame.t_s):
            continue
        started = time.perf_counter()
        sample = estimator.estimate(frame)
        stats.pose_s += time.perf_counter() - started
        stats.frames_analysed += 1
        yield frame, sample


def replayed_samples(
    samples: Iterable[PoseSample], gate: RateGate, stats: LoopStats
) -> Iterator[tuple[Frame | None, PoseSample]]:
    """Replay recorded samples through the same gate (no frames, no pose model)."""
    for sample in samples:
        _note_time(stats, sample.t_s)
        if gate.admit(sample.t_s):
            stats.frames_analysed += 1
            yield None, sample


class SnapshotStage(Protocol):
    """The analyzer as the loop sees it."""

    @property
    def wanted_fps(self) -> float:
        """The analysis rate wanted now."""

    def update(self, sample: PoseSample) -> Snapshot:
        """Advance to one sample."""

    def command(self, name: str) -> None:
        """Queue a user command for the next sample."""


def run(
    stream: Iterable[tuple[Frame | None, PoseSample]],
    analyzer: SnapshotStage,
    sinks: list[Sink],
    stats: LoopStats,
    on_sample: Callable[[PoseSample], None] | None = None,
    commands: Callable[[], Sequence[str]] | None = None,
    stop: Callable[[], bool] | None = None,
) -> LoopStats:
    """The one loop: every analysed sample goes through the analyzer and on to every sink.

    `commands` yields the user's commands (keys) since the last frame; they take effect
    at this frame's timestamp, so time stays the stream's.
    """
    started = time.perf_counter()
    try:
        for frame, sample in stream:
            if on_sample is not None:
                on_sample(sample)
            if commands is not None:
                for name in commands():
                    analyzer.command(name)
            t0 = time.perf_counter()
            snapshot = analyzer.update(sample)
            t1 = time.perf_counter()
            for sink in sinks:
                sink.update(snapshot, frame)
            stats.rest_s += t1 - t0
            stats.sinks_s += time.perf_counter() - t1
            if any(getattr(sink, "wants_stop", False) for sink in sinks):
                break
            if stop is not None and stop():
                break
    finally:
        stats.wall_s = time.perf_counter() - started
        _close_all(sinks)
    return stats


def _close_all(sinks: list[Sink]) -> None:
    """Close every sink, even after one fails (a dashboard on a hung-up terminal must not
    keep the session recorder from ending the session); then raise the first failure."""
    failure: BaseException | None = None
    for sink in sinks:
        try:
            sink.close()
        except BaseException as exc:  # re-raised below, once every sink is closed
            failure = failure or exc
    if failure is not None:
        raise failure
