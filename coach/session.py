"""Provides a session: one pass over a source (frames or landmarks) through every stage, for the CLI."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from rich.console import Console
from rich.markup import escape

from coach.actions.controls import Controls, pausable
from coach.analyzer import Analyzer
from coach.config import Config
from coach.decisions.prompts import Clock
from coach.errors import CalibrationError, ConfigError
from coach.pipeline import LoopStats, RateGate, Sink, SnapshotStage, replayed_samples, run
from coach.records import Frame, PoseSample, SkippedFrame

if TYPE_CHECKING:
    from coach.history.session_log import SessionLog


def resolve_model(path: Path | None, console: Console, rebuild: bool = False) -> Path:
    from coach.pose import model_store

    if path is not None:
        return model_store.validate_model(path.expanduser())
    models_dir = model_store.default_models_dir()
    if rebuild:
        (models_dir / model_store.DEFAULT_MODEL_NAME).unlink(missing_ok=True)
    return model_store.ensure_default_model(
        models_dir, log=lambda m: console.print(f"[dim]{escape(m)}[/dim]")
    )


class _Timestamped(Protocol):
    @property
    def t_s(self) -> float: ...


T = TypeVar("T", bound=_Timestamped)


def _paced(frames: Iterable[T]) -> Iterator[T]:
    """Release video frames at their own timestamps, as a camera would."""
    started: float | None = None
    for frame in frames:
        now = time.monotonic()
        if started is None:
            started = now - frame.t_s
        delay_s = started + frame.t_s - now
        if delay_s > 0:
            time.sleep(delay_s)
        yield frame


def _limited(items: Iterable[T], max_seconds: float | None) -> Iterator[T]:
    """Stop after `max_seconds` of stream time (None: never)."""
    first: float | None = None
    for item in items:
        first = item.t_s if first is None else first
        if max_seconds is not None and item.t_s - first > max_seconds:
            return
        yield item


class Session:
    """One pass over a source: frames or a landmark recording, through every stage."""

    def __init__(self, args: argparse.Namespace, config: Config, console: Console) -> None:
        from coach.source import parse_source

        self.args = args
        self.config = config
        self.console = console
        self.spec = parse_source(str(args.source))
        self.source_fps = 0.0
        self.label = str(self.spec)
        self._note: str | None = None
        self.analyzer: Analyzer | None = None
        """The running analyzer, kept so a stopped run can still finish its set."""
        self.stats = LoopStats()
        self.pause_listeners: list[Callable[[float], None]] = []
        """Told, while the loop waits in meeting mode, how many seconds are left (the tray)."""

    def _say_note(self) -> None:
        """Say how the neutral is set, once the source has opened (errors come first)."""
        if self._note:
            self.console.print(self._note)
            self._note = None

    def make_analyzer(self) -> Analyzer:
        """The analyzer with the neutral the options ask for."""
        from coach.calibration import load_profile, profile_path
        from coach.movements import default_user_movements_file, load_library

        library = load_library(default_user_movements_file())
        # `coach calibrate --profile NAME` writes that profile; it must not read it.
        profile = getattr(self.args, "profile", None) if self.args.command != "calibrate" else None
        seconds = getattr(self.args, "calibrate_seconds", None)
        if seconds is not None and seconds <= 0:
            raise ConfigError("--calibrate-seconds must be more than 0")
        guided = None
        if self.args.command == "count":
            target = (
                self.args.reps
                if self.args.reps is not None
                else library.get(self.args.movement).reps
            )
            if target is not None and target <= 0:
                raise ConfigError("--reps must be more than 0")
            guided = (self.args.movement, target)
        if profile is not None:
            loaded = load_profile(profile_path(profile, profiles_dir()))
            self._note = f"[dim]Using calibration profile {escape(repr(loaded.name))}.[/dim]"
            return Analyzer(
                self.config,
                library,
                neutral=loaded.neutral,
                noise=loaded.noise,
                clock=self._clock(),
                guided=guided,
            )
        if seconds is None and self.args.command in ("run", "start", "analyze"):
            self._note = (
                f"[cyan]No calibration profile given: calibrating from the first "
                f"{self.config.calibration.calibrate_s:g} s. Sit tall and look at the screen.[/cyan]"
            )
        return Analyzer(
            self.config, library, calibrate_s=seconds, clock=self._clock(), guided=guided
        )

    def _clock(self) -> Clock | None:
        """Live sessions map stream time to local time (working hours); files do not."""
        if not self.spec.is_live:
            return None
        started = dt.datetime.now().astimezone()

        def clock(t_s: float) -> dt.datetime:
            return started + dt.timedelta(seconds=t_s)

        return clock

    def run(
        self,
        sinks_for: Callable[[LoopStats], list[Sink]],
        on_sample: Callable[[PoseSample], None] | None = None,
        realtime: bool = False,
        controls: Controls | None = None,
    ) -> tuple[Analyzer, LoopStats]:
        """Run the loop; returns the analyzer (for its summaries) and the loop counters."""
        # Imported here: cv2 and mediapipe load only for commands that read frames.
        from coach.pipeline import analysed_frames
        from coach.pose.estimator import PoseEstimator
        from coach.pose.landmark_file import LandmarkReader
        from coach.source import LiveSource, open_frames

        self.analyzer = self.make_analyzer()
        stage = self._stage(self.analyzer, controls)
        stats = self.stats = LoopStats()
        wake = None if controls is None else controls.has_pending
        gate = RateGate(lambda: stage.look_plan, self.config.loop, wake=wake)
        max_seconds = self.args.max_seconds
        if self.spec.kind == "landmarks":
            reader = LandmarkReader(Path(self.spec.target).expanduser(), warn=self._say_warning)
            self.source_fps = reader.fps
            self.label = reader.description
            stream = replayed_samples(_limited(reader.samples(), max_seconds), gate, stats)
            self._say_note()
            run(stream, stage, sinks_for(stats), stats, on_sample, *loop_controls(controls))
            if reader.skipped_note is not None:
                self._say_warning(reader.skipped_note)
            return self.analyzer, stats
        model = resolve_model(self.args.model, self.console)
        with contextlib.ExitStack() as stack:
            source = open_frames(self.spec, self.config.source, on_notice=self._say_source)
            stack.enter_context(source)
            estimator = stack.enter_context(PoseEstimator(model, self.config.pose))
            self.source_fps = source.fps
            self.label = source.description
            frames: Iterable[Frame | SkippedFrame] = source.frames(gate)
            if realtime and not source.live:
                frames = _paced(frames)
            if controls is not None and isinstance(source, LiveSource):
                frames = pausable(frames, source, controls, self._say_paused)
            stream = analysed_frames(_limited(frames, max_seconds), estimator, stats)
            self._say_note()
            run(stream, stage, sinks_for(stats), stats, on_sample, *loop_controls(controls))
        return self.analyzer, stats

    def _stage(self, analyzer: Analyzer, controls: Controls | None) -> SnapshotStage:
        """The analyzer; with live controls, wrapped to take the tray's commands too."""
        if controls is None:
            return analyzer
        from coach.live_stage import LiveStage

        def recalibrating() -> Analyzer:
            self.console.print(
                f"[cyan]Calibrating: sit tall and look at the screen for "
                f"{self.config.calibration.calibrate_s:g} s.[/cyan]"
            )
            fresh = Analyzer(
                self.config,
                analyzer.library,
                calibrate_s=self.config.calibration.calibrate_s,
                clock=self._clock(),
            )
            self.analyzer = fresh
            return fresh

        return LiveStage(analyzer, recalibrating, self._save_calibration)

    def _save_calibration(self, analyzer: Analyzer, sample: PoseSample) -> None:
        """Keep a neutral recorded in a running coach as its profile (default: "default")."""
        from coach.calibration import new_profile, profile_path, save_profile

        neutral = analyzer.calibrated_neutral
        if neutral is None:
            return
        name = getattr(self.args, "profile", None) or "default"
        size = sample.pose.image_size if sample.pose is not None else (640, 480)
        profile = new_profile(Path(name).stem, neutral, size, noise=analyzer.calibrated_noise)
        try:
            path = save_profile(profile, profile_path(name, profiles_dir()))
        except CalibrationError as exc:  # a full disk must not stop the coaching
            self._say_warning(str(exc))
            return
        self.console.print(
            f"[cyan]Calibrated; saved as profile {escape(repr(profile.name))} ({escape(str(path))}).[/cyan]"
        )

    def _say_warning(self, message: str) -> None:
        """One line; the message is plain text (a path with brackets is not markup)."""
        self.console.print(
            f"[yellow]coach: warning: {escape(message)}[/yellow]", highlight=False, soft_wrap=True
        )

    def _say_source(self, message: str) -> None:
        """A camera or stream that stalls, drops or comes back: one line above the dashboard."""
        self.console.print(
            f"[yellow]{message[:1].upper()}{message[1:]}[/yellow]", highlight=False, soft_wrap=True
        )

    def _say_paused(self, left_s: float) -> None:
        """Once a minute while paused: the camera is free, and when the coach resumes."""
        for listener in self.pause_listeners:
            listener(left_s)
        minute = int(left_s // 60)
        if minute != getattr(self, "_last_pause_minute", None):
            self._last_pause_minute = minute
            self.console.print(
                f"[yellow]Paused (meeting mode): camera released, resuming in {minute + 1} min; "
                "press r to resume now.[/yellow]"
            )


def print_error(console: Console, message: str) -> None:
    """The one error line: plain text, so a "[section]" or a path with brackets is not markup."""
    console.print(
        f"[bold red]coach: error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True
    )


class History:
    """The session log for `coach run`: a recorder sink, a live status, one line on failure."""

    def __init__(self, console: Console, db: Path | None, enabled: bool = True) -> None:
        self._console = console
        self._db = db
        self._log: SessionLog | None = None
        self._saved: bool | None = None
        self.enabled = enabled

    def sinks(self, label: str, *, live: bool = True) -> list[Sink]:
        """The recorder; `live` False for a file read faster than real time (a replay)."""
        from coach.actions.session_recorder import SessionRecorder
        from coach.history.session_log import SessionLog

        if not self.enabled:
            return []
        # keep_trying: a history that cannot be written must not stop the coaching; the
        # dashboard shows why, and the records wait in memory for the disk.
        self._log = SessionLog(self._db, keep_trying=True)
        if live:  # stream time runs with the clock from the first snapshot on
            return [SessionRecorder(self._log, label, None)]
        return [SessionRecorder(self._log, label, dt.datetime.now().astimezone(), replay=True)]

    def status(self) -> str | None:
        """Why the history cannot be written just now (for the dashboard), or None."""
        return None if self._log is None else self._log.status

    def close(self) -> bool:
        """Close the log (idempotent); False, said in one line, when anything was not written."""
        from coach.errors import HistoryError

        if self._log is None:
            return True
        if self._saved is None:
            try:
                self._log.close()
                self._saved = True
                if self._log.imported:
                    self._console.print(
                        f"[dim]Added {self._log.imported} records an earlier run could not "
                        "write to the history.[/dim]"
                    )
            except HistoryError as exc:
                self._saved = False
                print_error(self._console, f"history: {exc}")
        return self._saved


def loop_controls(
    controls: Controls | None,
) -> tuple[Callable[[], Sequence[str]] | None, Callable[[], bool] | None]:
    if controls is None:
        return None, None
    return controls.drain, lambda: controls.quit


def profiles_dir() -> Path:
    """Where calibration profiles live (the user's data directory)."""
    import platformdirs

    return platformdirs.user_data_path("coach", appauthor=False) / "profiles"
