"""Provides the one session wiring: options in, source → pose → analyzer → sinks, a result out."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from coach.analyzer import Analyzer
from coach.config import Config
from coach.errors import CalibrationError, ConfigError, SourceError
from coach.model_choice import resolve_model
from coach.movements import MovementLibrary
from coach.pipeline import LoopStats, RateGate, Sink, SnapshotStage, replayed_samples, run
from coach.records import (
    Command,
    Condition,
    Frame,
    LiveStatus,
    PoseSample,
    SkippedFrame,
)
from coach.safe.printable import literal
from coach.session_analyzer import build_analyzer
from coach.session_options import Feed, Opened, SessionOptions, SessionResult
from coach.session_sinks import Tally, WidenKeeper, held_status, limited, paced

if TYPE_CHECKING:
    from coach.actions.controls import Controls
    from coach.calibration import Profile
    from coach.source import SourceSpec
    from coach.source.keeper import CameraKeeper


class Session:
    """One pass over a source (frames or a landmark recording) through every stage."""

    def __init__(
        self,
        options: SessionOptions,
        config: Config,
        library: MovementLibrary,
        console: Console | None = None,
        profiles: Path | None = None,
        feed: Feed | None = None,
        reload_config: Callable[[], Config] | None = None,
    ) -> None:
        """`library`: the movements, loaded once (with the user's file); `profiles`: where
        calibration profiles live (needed for `options.profile` and live recalibration);
        `feed`: a scripted source run instead of opening `options.source`;
        `reload_config`: the settings read again when a running coach is told they changed
        (Command.RELOAD_CONFIG; raises ConfigError when they cannot be)."""
        from coach.source import parse_source  # PyAV loads only for commands that read frames

        self.options = options
        self.spec: SourceSpec = parse_source(options.source)
        self._config = config
        self._library = library
        self._console = console or Console(quiet=True)
        self._profiles = profiles
        self._feed = feed
        self._note: str | None = None
        self._profile_in_use: tuple[Path, Profile] | None = None
        """The profile the neutral came from (where "I'm sitting fine" is kept)."""
        self._started_at: dt.datetime | None = None
        self._reload_config = reload_config
        self.status_listeners: list[Callable[[LiveStatus], None]] = []
        """Told each change of a live coach's condition (camera lost or back, paused, locked,
        asleep): no snapshot comes while the camera is released (the tray, the log)."""
        self.config_listeners: list[Callable[[Config], None]] = []
        """Told the settings when a running coach reads them again (the nudge's delivery)."""

    def _anchor(self) -> dt.datetime:
        """The wall-clock time of the source's opening, taken once."""
        if self._started_at is None:
            self._started_at = dt.datetime.now().astimezone()
        return self._started_at

    def _analyzer(self, calibrate_s: float | None = None) -> Analyzer:
        """The analyzer with the neutral the options ask for."""
        # Working hours map stream time to local time for live sources; files have no clock.
        built = build_analyzer(
            self.options,
            self._config,
            self._library,
            self._clock if self.spec.is_live else None,
            self._profiles_dir,
            calibrate_s,
        )
        self._note = built.note
        if built.profile is not None:
            self._profile_in_use = built.profile
        return built.analyzer

    def _clock(self, t_s: float) -> dt.datetime:
        """Local time of a live stream's timestamp (stream time 0 is the source's opening)."""
        return self._anchor() + dt.timedelta(seconds=t_s)

    def _profiles_dir(self) -> Path:
        if self._profiles is None:
            raise ConfigError("no calibration profile folder given")
        return self._profiles

    def run(
        self,
        sinks_for: Callable[[Opened], list[Sink]],
        *,
        on_sample: Callable[[PoseSample], None] | None = None,
        controls: Controls | None = None,
    ) -> SessionResult:
        """Open the source, run the loop to its end (or a stop), close everything.

        Ctrl-C, SIGTERM and SIGHUP stop the loop; the result then says so (`stopped`)."""
        analyzer = self._analyzer()
        holder = [analyzer]  # a recalibration in a running coach swaps in a fresh analyzer
        tally = Tally()
        stage = self._stage(holder, controls)
        stats = LoopStats()
        label, fps = str(self.spec), 0.0
        stopped: KeyboardInterrupt | None = None
        try:
            label, fps = self._loop(stage, stats, sinks_for, tally, on_sample, controls)
        except KeyboardInterrupt as stop:
            stopped = stop
        current = holder[-1]
        unfinished = current.finish(stats.last_t_s)
        last = unfinished if unfinished is not None else (tally.sets[-1] if tally.sets else None)
        return SessionResult(
            stats=stats,
            label=label,
            source_fps=fps,
            started_at=self._anchor(),
            view=current.overall_view,
            last_set=last,
            unfinished_set=unfinished,
            neutral=current.calibrated_neutral,
            noise=current.calibrated_noise,
            image_size=tally.image_size,
            stopped=stopped,
        )

    def _loop(
        self,
        stage: SnapshotStage,
        stats: LoopStats,
        sinks_for: Callable[[Opened], list[Sink]],
        tally: Tally,
        on_sample: Callable[[PoseSample], None] | None,
        controls: Controls | None,
    ) -> tuple[str, float]:
        """The loop over the opened source; returns its label and frame rate."""
        # Imported here: PyAV and the pose runtime load only for commands that read frames.
        from coach.pipeline import analysed_frames
        from coach.pose.estimator import PoseEstimator
        from coach.pose.landmark_file import LandmarkReader
        from coach.source import open_frames

        wake = None if controls is None else controls.has_pending
        gate = RateGate(lambda: stage.look_plan, self._config.loop, wake=wake)
        max_seconds = self.options.max_seconds
        commands, stop = _loop_controls(controls)

        def opened(
            label: str, paced: bool, live: bool = False, duration_s: float | None = None
        ) -> list[Sink]:
            self._say_note()

            def rate() -> float:
                return stage.look_plan.fps

            if duration_s is not None and max_seconds is not None:
                duration_s = min(duration_s, max_seconds)
            context = Opened(stats, label, self._anchor(), paced or live, live, rate, duration_s)
            keeper: list[Sink] = []
            if self._profile_in_use is not None:
                keeper.append(WidenKeeper(*self._profile_in_use, warn=self._say_warning))
            return [tally, *keeper, *sinks_for(context)]

        if self._feed is not None:
            self._anchor()
            stream = analysed_frames(
                limited(self._feed.frames(gate), max_seconds), self._feed, stats
            )
            run(
                stream,
                stage,
                opened(self._feed.description, False),
                stats,
                on_sample,
                commands,
                stop,
            )
            return self._feed.description, self._feed.fps
        from coach.source import SourceKind

        if self.spec.kind is SourceKind.LANDMARKS:
            reader = LandmarkReader(Path(self.spec.target).expanduser(), warn=self._say_warning)
            samples = reader.samples()
            # A recording with no usable sample fails here, in one line, before any view opens.
            first = next(samples)
            self._anchor()
            replayed = itertools.chain([first], samples)
            stream = replayed_samples(limited(replayed, max_seconds), gate, stats)
            sinks = opened(reader.description, False)
            run(stream, stage, sinks, stats, on_sample, commands, stop)
            if reader.skipped_note is not None:
                self._say_warning(reader.skipped_note)
            return reader.description, reader.fps
        model = resolve_model(self.options.model, self._console)
        if controls is not None and self.spec.is_live:
            return self._kept_live(stage, stats, opened, tally, on_sample, controls, gate, model)
        with contextlib.ExitStack() as stack:
            source = open_frames(self.spec, self._config.source, on_notice=self._say_source)
            stack.enter_context(source)
            self._anchor()  # before the model loads: a live source's stream time starts here
            estimator = stack.enter_context(PoseEstimator(model, self._config.pose))
            frames: Iterable[Frame | SkippedFrame] = source.frames(gate)
            at_own_speed = self.options.paced and not source.live
            if at_own_speed:
                frames = paced(frames)
            stream = analysed_frames(limited(frames, max_seconds), estimator, stats)
            sinks = opened(source.description, at_own_speed, source.live, source.duration_s)
            run(stream, stage, sinks, stats, on_sample, commands, stop)
            return source.description, source.fps

    def _kept_live(
        self,
        stage: SnapshotStage,
        stats: LoopStats,
        opened: Callable[[str, bool, bool], list[Sink]],
        tally: Tally,
        on_sample: Callable[[PoseSample], None] | None,
        controls: Controls,
        gate: RateGate,
        model: Path,
    ) -> tuple[str, float]:
        """A camera or stream that comes and goes (`coach run`, `start`): never given up
        (unless `[source] give_up_s` says so), released while paused, locked or asleep."""
        from coach.pipeline import analysed_frames
        from coach.pose.estimator import PoseEstimator
        from coach.safe.redact import redact
        from coach.source import LiveSource, SourceKind
        from coach.source.keeper import Backoff, CameraKeeper

        config = self._config.source
        quiet = dataclasses.replace(config, reconnect_s=0.0)  # the keeper says it and retries
        what = "camera" if self.spec.kind is SourceKind.CAMERA else "stream"

        def open_source(origin_s: float) -> LiveSource:
            return LiveSource(self.spec, quiet, on_notice=self._say_source, origin_s=origin_s)

        def idle() -> None:
            # While no frames come (no camera, paused) a reload from the tray is applied
            # here, on the loop's thread: choosing another camera needs no frame.
            if controls.take(Command.RELOAD_CONFIG):
                stage.command(Command.RELOAD_CONFIG)

        keeper = CameraKeeper(
            open_source,
            lambda: held_status(controls, tally),
            lambda: controls.quit,
            self._tell_status,
            stage.interrupted,
            where=f"{what} {redact(self.spec.target)}",
            backoff=Backoff(config.retry_first_s, config.retry_most_s),
            give_up_s=config.give_up_s or None,
            idle=idle,
        )
        self._anchor()  # stream time 0 is the keeper's start, before the model loads
        controls.on_hold(keeper.hold_changed)
        if self.spec.kind is SourceKind.CAMERA:
            chosen = [config.camera]

            def follow(new: Config) -> None:
                # Only a change of the setting moves the camera: a SOURCE given on the
                # command line stays while other settings change.
                if new.source.camera != chosen[0]:
                    chosen[0] = new.source.camera
                    self._follow_camera(new, keeper)

            self.config_listeners.append(follow)
        frames = keeper.frames(gate)
        try:
            with PoseEstimator(model, self._config.pose) as estimator:
                stream = analysed_frames(
                    limited(frames, self.options.max_seconds), estimator, stats
                )
                sinks = opened(str(self.spec), False, True)
                commands, stop = _loop_controls(controls)
                run(stream, stage, sinks, stats, on_sample, commands, stop)
        finally:
            # However the loop ended (a signal mid-frame included), the camera is let go of:
            # a reader left inside the capture at exit aborts the process.
            frames.close()
            controls.on_hold(None)
        return keeper.description, keeper.fps or config.camera_fps

    def _follow_camera(self, config: Config, keeper: CameraKeeper) -> None:
        """The camera setting changed: open the camera it names now (its stable id or name
        is looked up at the opening)."""
        from coach.source import parse_source

        try:
            wanted = parse_source(config.source.camera or "0")
        except SourceError as exc:
            self._say_warning(f"camera not changed: {exc}")
            return
        if wanted != self.spec and wanted.kind is self.spec.kind:
            self._console.print(f"[cyan]Switching to {literal(str(wanted))}.[/cyan]")
            self.spec = wanted
            keeper.reopen()

    def _stage(self, holder: list[Analyzer], controls: Controls | None) -> SnapshotStage:
        """The analyzer; with live controls, wrapped to take the tray's commands too."""
        if controls is None:
            return holder[0]
        from coach.live_stage import LiveStage

        def recalibrating() -> Analyzer:
            self._console.print(
                f"[cyan]Calibrating: sit tall and look at the screen for "
                f"{self._config.calibration.calibrate_s:g} s.[/cyan]"
            )
            holder.append(self._analyzer(calibrate_s=self._config.calibration.calibrate_s))
            return holder[-1]

        def pause_for_s() -> float:
            return controls.pause_for_s

        return LiveStage(
            holder[0], recalibrating, self._save_calibration, pause_for_s, self._reloaded
        )

    def _reloaded(self) -> Config | None:
        """The settings read again, told to the listeners (None: no reload, or a bad file,
        said in one line: the coach carries on with what it has)."""
        if self._reload_config is None:
            return None
        try:
            config = self._reload_config()
        except ConfigError as exc:
            self._say_warning(f"settings not applied: {exc}")
            return None
        self._config = config
        for listener in self.config_listeners:
            listener(config)
        self._console.print("[dim]Settings applied.[/dim]")
        return config

    def _save_calibration(self, analyzer: Analyzer, sample: PoseSample) -> None:
        """Keep a neutral recorded in a running coach as its profile (default: "default")."""
        from coach.calibration import new_profile, profile_path, save_profile

        neutral = analyzer.calibrated_neutral
        if neutral is None:
            return
        name = self.options.save_profile_as
        size = sample.pose.image_size if sample.pose is not None else (640, 480)
        profile = new_profile(Path(name).stem, neutral, size, noise=analyzer.calibrated_noise)
        try:
            path = save_profile(profile, profile_path(name, self._profiles_dir()))
        except CalibrationError as exc:  # a full disk must not stop the coaching
            self._say_warning(str(exc))
            return
        self._console.print(
            f"[cyan]Calibrated; saved as profile {literal(repr(profile.name))} ({literal(path)}).[/cyan]"
        )

    def _say_note(self) -> None:
        """Say how the neutral is set, once the source has opened (errors come first)."""
        if self._note:
            self._console.print(self._note)
            self._note = None

    def _say_warning(self, message: str) -> None:
        """One line; the message is plain text (a path with brackets is not markup)."""
        self._console.print(
            f"[yellow]coach: warning: {literal(message)}[/yellow]", highlight=False, soft_wrap=True
        )

    def _say_source(self, message: str) -> None:
        """A camera or stream that stalls, drops or comes back: one line above the dashboard."""
        self._console.print(
            f"[yellow]{message[:1].upper()}{message[1:]}[/yellow]", highlight=False, soft_wrap=True
        )

    def _tell_status(self, status: LiveStatus) -> None:
        """A change of a live coach's condition: one line above the dashboard, and the views."""
        style = "yellow" if status.condition is not Condition.COACHING else "green"
        self._console.print(
            f"[{style}]{literal(status.detail[:1].upper() + status.detail[1:])}.[/{style}]",
            highlight=False,
            soft_wrap=True,
        )
        for listener in self.status_listeners:
            listener(status)


def _loop_controls(
    controls: Controls | None,
) -> tuple[Callable[[], Sequence[Command]] | None, Callable[[], bool] | None]:
    if controls is None:
        return None, None
    return controls.drain, lambda: controls.quit
