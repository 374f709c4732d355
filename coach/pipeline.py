"""Provides the frame loop: source → pose → analyzer → sinks, at the analyzer's chosen rate."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from coach.config import LoopConfig
from coach.decisions.analysis_rate import LookPlan
from coach.features.scene_change import changed_fraction
from coach.records import (
    Command,
    Frame,
    ImageArray,
    Interruption,
    Look,
    PoseSample,
    Reply,
    SkippedFrame,
    Snapshot,
)


class Sink(Protocol):
    """Receives every snapshot (and its frame when there is one)."""

    def update(self, snapshot: Snapshot, frame: Frame | None) -> Reply | None:
        """Take one snapshot; `Reply.STOP` ends the run (a closed window), None goes on."""

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
    """Frames given to the pose model."""
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
    """Admits frames at the rate the analyzer's `LookPlan` asks for; the rest are skipped.

    The plan is asked for at every timestamp, so a stage can raise the rate (rep
    counting) and lower it again (posture only) while the loop runs. While the plan is
    quiet (nothing happening) and the source gives thumbnails, frames are glanced at
    `glance_fps` instead, and one is analysed only when its thumbnail changed where the
    plan watches (at most at the plan's rate), or `quiet_look_s` after the last look;
    an unchanged one carries the last pose on to its time (`Look.UNCHANGED`), so the
    decisions keep their clock at the plan's rate without running the pose model.
    """

    # Slack of half a 240 fps frame, so 15 fps video sampled at 5 fps takes every third frame.
    _SLACK_S = 0.5 / 240.0

    def __init__(
        self,
        plan: Callable[[], LookPlan],
        loop: LoopConfig | None = None,
        wake: Callable[[], bool] | None = None,
    ) -> None:
        """`wake`: whether the user has asked for something (a key): look at once."""
        self._plan = plan
        self._loop = loop or LoopConfig()
        self._wake = wake
        self._next_due_s: float | None = None
        self._reference: ImageArray | None = None
        self._last_look_s: float | None = None
        self._last_sample_s: float | None = None

    def is_due(self, t_s: float) -> bool:
        """Whether a frame at `t_s` is due a look or a glance (without taking it).

        Sources ask this before decoding a frame, so frames the loop would skip are never
        decoded (a 30 fps camera analysed once a second decodes one frame in thirty).
        """
        return self._next_due_s is None or t_s >= self._next_due_s - self._SLACK_S

    def admit(self, t_s: float, thumb: ImageArray | None = None) -> Look:
        """What to do with the frame at `t_s` (given its thumbnail, where the source has one)."""
        if not self.is_due(t_s):
            return Look.SKIP
        plan = self._plan()
        # The thumbnail to glance at: only while quiet, and only where the source gives one.
        glanced = thumb if plan.quiet and self._loop.glance else None
        fps = plan.fps if glanced is None else self._loop.glance_fps
        period_s = 1.0 / max(fps, 0.1)
        if self._next_due_s is None or t_s - self._next_due_s > period_s:
            self._next_due_s = t_s
        self._next_due_s += period_s
        look = Look.ANALYSE if glanced is None else self._glance(plan, t_s, glanced)
        if look is Look.ANALYSE:
            self._reference = thumb
            self._last_look_s = t_s
        if look is not Look.SKIP:
            self._last_sample_s = t_s
        return look

    def _glance(self, plan: LookPlan, t_s: float, thumb: ImageArray) -> Look:
        """While quiet: analyse a changed picture (at most at the plan's rate), re-use the
        last pose for an unchanged one (at the plan's rate), skip the rest."""
        if (
            self._reference is None
            or self._last_look_s is None
            or (self._wake is not None and self._wake())
        ):
            return Look.ANALYSE
        interval_s = 1.0 / max(plan.fps, 0.1) - self._SLACK_S
        since_look_s = t_s - self._last_look_s
        if since_look_s >= self._loop.quiet_look_s:
            return Look.ANALYSE
        if since_look_s >= interval_s:
            change = changed_fraction(self._reference, thumb, plan.watch, self._loop.change_step)
            if change > self._loop.change_fraction:
                return Look.ANALYSE
        if self._last_sample_s is None or t_s - self._last_sample_s >= interval_s:
            return Look.UNCHANGED
        return Look.SKIP


def _note_time(stats: LoopStats, t_s: float, index: int | None = None) -> None:
    # A live source numbers every camera frame, decoded or not: count what the camera sent.
    stats.frames_read = max(stats.frames_read + 1, 0 if index is None else index + 1)
    if stats.first_t_s is None:
        stats.first_t_s = t_s
    stats.last_t_s = t_s


def analysed_frames(
    frames: Iterable[Frame | SkippedFrame], estimator: Estimator, stats: LoopStats
) -> Iterator[tuple[Frame | None, PoseSample]]:
    """Read frames from a source that asked the loop's gate (see `source.FrameGate`), run
    the pose stage on those it decoded (timed), and carry the last pose on to the
    frames whose picture did not change."""
    iterator = iter(frames)
    last: PoseSample | None = None
    while True:
        started = time.perf_counter()
        frame = next(iterator, None)
        stats.decode_s += time.perf_counter() - started
        if frame is None:
            return
        _note_time(stats, frame.t_s, frame.index)
        if isinstance(frame, SkippedFrame):
            if frame.unchanged and last is not None:
                yield None, last.at(frame.t_s)
            continue
        started = time.perf_counter()
        last = estimator.estimate(frame)
        stats.pose_s += time.perf_counter() - started
        stats.frames_analysed += 1
        yield frame, last


def replayed_samples(
    samples: Iterable[PoseSample], gate: RateGate, stats: LoopStats
) -> Iterator[tuple[Frame | None, PoseSample]]:
    """Replay recorded samples through the same gate (no frames, no pose model)."""
    for sample in samples:
        _note_time(stats, sample.t_s)
        if gate.admit(sample.t_s) is Look.ANALYSE:
            stats.frames_analysed += 1
            yield None, sample


class SnapshotStage(Protocol):
    """The analyzer as the loop sees it."""

    @property
    def look_plan(self) -> LookPlan:
        """How to look at frames now."""

    def update(self, sample: PoseSample) -> Snapshot:
        """Advance to one sample."""

    def command(self, command: Command) -> None:
        """Queue a user command for the next sample."""

    def interrupted(self, interruption: Interruption) -> None:
        """A stretch with no frames that the next sample ends."""


def run(
    stream: Iterable[tuple[Frame | None, PoseSample]],
    analyzer: SnapshotStage,
    sinks: list[Sink],
    stats: LoopStats,
    on_sample: Callable[[PoseSample], None] | None = None,
    commands: Callable[[], Sequence[Command]] | None = None,
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
                for command in commands():
                    analyzer.command(command)
            t0 = time.perf_counter()
            snapshot = analyzer.update(sample)
            t1 = time.perf_counter()
            replies = [sink.update(snapshot, frame) for sink in sinks]
            stats.rest_s += t1 - t0
            stats.sinks_s += time.perf_counter() - t1
            if snapshot.reply is Reply.STOP or Reply.STOP in replies:
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
