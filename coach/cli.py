"""Provides the `coach` command line: parses options, wires the stages, reports errors once."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
import typing
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from coach import __version__
from coach.actions.controls import Controls, TerminalKeys
from coach.analyzer import Analyzer, Snapshot
from coach.config import Config, load_config
from coach.decisions.rep_table import COUNTABLE
from coach.errors import CalibrationError, CameraUnavailable, CoachError, ConfigError, HistoryError
from coach.history.commands import add_history_commands, rating
from coach.pipeline import LoopStats, Sink
from coach.records import CountableMovement, Frame, SetCompleted
from coach.safe.outputs import check_output, dumps
from coach.session import History, Session, print_error, profiles_dir, resolve_model
from coach.stopping import StopRequested, stop_on_signals

if typing.TYPE_CHECKING:
    from coach.actions.tray import Tray

DEFAULT_CAMERA = "0"


def _source_argument(parser: argparse.ArgumentParser, *, landmarks: bool) -> None:
    """The optional SOURCE of the live commands (webcam 0 when omitted)."""
    kinds = "webcam index, video file, stream URL (rtsp://, http://)"
    parser.add_argument(
        "source",
        nargs="?",
        default=DEFAULT_CAMERA,
        help=f"{kinds}{' or landmark file' if landmarks else ''} (default: 0)",
    )


def _history_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """Where a command records into the history, or not at all."""
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="history database (default: see `coach data --path`)",
    )
    parser.add_argument(
        "--no-history", action="store_true", help=f"do not record this {what} in the history"
    )


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported like every other bad input: one line, status 1."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(1, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
        prog="coach",
        description="A webcam posture and movement coach for people who sit at a desk all day.",
    )
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML settings file (see README)")
    common.add_argument(
        "--model",
        type=Path,
        help="an official pose_landmarker_{lite,full,heavy}.task (default: the built-in full model)",
    )
    common.add_argument(
        "--max-seconds", type=float, default=None, help="stop after this much stream time"
    )
    posture = argparse.ArgumentParser(add_help=False)
    calibration = posture.add_mutually_exclusive_group()
    calibration.add_argument(
        "--profile", help="calibration profile name (or path) saved by `coach calibrate`"
    )
    posture.add_argument(
        "--still-minutes",
        type=float,
        metavar="M",
        help="prompt a movement after M minutes sitting still (default 30; short for short clips)",
    )
    calibration.add_argument(
        "--calibrate-seconds",
        type=float,
        metavar="N",
        help="calibrate the neutral from the first N seconds of the source",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.set_defaults(history_commands=add_history_commands(sub))

    run = sub.add_parser(
        "run",
        parents=[common, posture],
        help="coach live from the webcam, a stream, a video or landmarks",
    )
    _source_argument(run, landmarks=True)
    run.add_argument("--no-window", action="store_true", help="do not open the preview window")
    run.add_argument(
        "--skeleton-only",
        action="store_true",
        help="preview only the skeleton; no camera pixels are shown",
    )
    run.add_argument(
        "--fallback-video",
        type=Path,
        help="if the webcam cannot be opened, run on this video instead (and say so)",
    )
    run.add_argument(
        "--realtime", action="store_true", help="play a video file at its own speed, not file speed"
    )
    run.add_argument(
        "--events",
        type=Path,
        metavar="FILE",
        help="also write the decisions to FILE as JSON lines, one per change (for scripts)",
    )
    run.add_argument(
        "--tray",
        action="store_true",
        help="no terminal view: a tray icon and menu, notifications with buttons, a log file",
    )
    _history_arguments(run, "session")

    start = sub.add_parser(
        "start",
        parents=[common, posture],
        help="coach from the tray with no terminal (`coach run --tray`; for start at login)",
    )
    _source_argument(start, landmarks=True)
    _history_arguments(start, "session")
    start.set_defaults(
        tray=True,
        no_window=True,
        skeleton_only=False,
        fallback_video=None,
        realtime=False,
        events=None,
    )

    analyze = sub.add_parser(
        "analyze", parents=[common, posture], help="analyse a video or landmark file and report"
    )
    analyze.add_argument("source", help="video file or landmark file")
    analyze.add_argument("--json", action="store_true", help="print one JSON object")

    record = sub.add_parser(
        "record", parents=[common], help="save the pose stream (never pixels) to a landmark file"
    )
    _source_argument(record, landmarks=False)
    record.add_argument(
        "--landmarks", type=Path, required=True, help="output file (.jsonl or .jsonl.gz)"
    )
    record.add_argument(
        "--force", action="store_true", help="replace the output file if it already exists"
    )

    count = sub.add_parser(
        "count",
        parents=[common],
        help="a guided set of seated cat-cow or lateral flexion: counts reps and coaches form",
    )
    _source_argument(count, landmarks=True)
    count.add_argument("--movement", required=True, choices=COUNTABLE, help="what to count")
    count.add_argument(
        "--reps", type=int, default=None, help="target reps (per side for lateral flexion)"
    )
    count.add_argument("--profile", help="calibration profile, to check the set starts from it")
    count.add_argument("--json", action="store_true", help="print one JSON object at the end")
    count.add_argument("--no-window", action="store_true", help="do not open the preview window")
    count.add_argument("--fatigue-before", metavar="X", help="how tired before the set, 1-5")
    count.add_argument("--fatigue-after", metavar="Y", help="how tired after the set, 1-5")
    count.add_argument(
        "--ask-fatigue", action="store_true", help="ask how tired you are before and after the set"
    )
    _history_arguments(count, "set")

    calibrate = sub.add_parser(
        "calibrate", parents=[common], help="record your neutral (sit tall) as a named profile"
    )
    _source_argument(calibrate, landmarks=True)
    calibrate.add_argument("--profile", default="default", help="profile name (default: default)")
    calibrate.add_argument(
        "--seconds", type=float, default=None, help="how long to sit tall (default: 5)"
    )

    models = sub.add_parser(
        "models", parents=[common], help="build (once) and check the pose model; print its path"
    )
    models.add_argument("--rebuild", action="store_true", help="build the default model again")

    doctor = sub.add_parser(
        "doctor", parents=[common], help="check camera, model, history and desktop; say what to fix"
    )
    _source_argument(doctor, landmarks=False)
    doctor.add_argument(
        "--fallback-video", type=Path, help="the video `coach run --fallback-video` would use"
    )
    doctor.add_argument("--db", type=Path, metavar="PATH", help="history database to check")

    autostart = sub.add_parser("autostart", help="start the coach at login: on, off or status")
    autostart.add_argument("action", choices=("on", "off", "status"), help="what to do")
    return parser


def _cmd_run(args: argparse.Namespace, config: Config, console: Console) -> int:
    from coach.actions.dashboard import Dashboard
    from coach.source import parse_source

    if parse_source(args.source).kind == "camera" and args.fallback_video is not None:
        from coach.source import open_frames

        try:
            open_frames(parse_source(args.source), config.source).close()
        except CameraUnavailable:
            console.print(
                f"[yellow]No webcam could be opened; running on the sample video "
                f"{escape(str(args.fallback_video))} instead (demo timings: a nudge after 10 s of slouching, "
                "a movement prompt after 1 min still).[/yellow]"
            )
            args.source = str(args.fallback_video)
            config = _demo_timings(config)
    if args.events is not None:
        args.events = check_output(args.events, option="--events", inputs=_inputs(args))
    controls = Controls(config.prompts.pause_s)
    tray: Tray | None = None
    if args.tray:
        tray, console = _tray_or_terminal(args, console, controls)
    session = Session(args, config, console)
    keys = TerminalKeys(controls)
    history = History(console, args.db, enabled=not args.no_history)

    def sinks_for(stats: LoopStats) -> list[Sink]:
        from coach.actions.notify import (
            Chime,
            DesktopNotifier,
            Notifier,
            NudgeAnnouncer,
            NullNotifier,
            notification_service_available,
        )
        from coach.movements import default_user_movements_file, load_library

        library = load_library(default_user_movements_file())
        sinks: list[Sink] = []
        if tray is None:
            sinks.append(
                Dashboard(
                    console,
                    session.label,
                    stats,
                    config.slouch,
                    config.nudge.show_s,
                    library=library,
                    history_status=history.status,
                )
            )
        else:
            from coach.actions.tray import TrayStatus

            status = TrayStatus(tray)
            session.pause_listeners.append(status.paused)
            sinks.append(status)
        paced = session.spec.is_live or (args.realtime and session.spec.kind == "video")
        sinks.extend(history.sinks(session.label, live=paced))
        notifier: Notifier = NullNotifier()
        if config.nudge.desktop and notification_service_available():
            notifier = DesktopNotifier()
        sinks.append(
            NudgeAnnouncer(notifier, Chime() if config.nudge.chime else None, answer=controls.push)
        )
        sinks.extend(_preview_sinks(args, config, console, on_key=controls.key))
        if args.events is not None:
            from coach.actions.event_log import EventLog

            def rate() -> float | None:
                return None if session.analyzer is None else session.analyzer.wanted_fps

            sinks.append(EventLog(args.events, rate=rate))
        return sinks

    if tray is None:
        keys.start()
    finished = False
    try:
        session.run(sinks_for, realtime=args.realtime, controls=controls)
        finished = True
    except KeyboardInterrupt as stop:
        console.print(f"[dim]Stopped{_by_signal(stop)}.[/dim]")
    finally:
        keys.stop()
        if tray is not None:
            tray.stop()
        saved = history.close()  # not saved: said in one line, exit status 1
    if finished:
        stats = session.stats
        console.print(
            f"Done: {stats.frames_analysed} of {stats.frames_read} frames analysed "
            f"over {stats.duration_s:.1f} s of {escape(session.label)}."
        )
    return 0 if saved else 1


def _tray_or_terminal(
    args: argparse.Namespace, console: Console, controls: Controls
) -> tuple[Tray | None, Console]:
    """The tray and a console writing to the log file; or, with no tray host, one line
    saying so and the terminal view."""
    from coach.actions.open_report import open_todays_report
    from coach.actions.tray import Tray
    from coach.calibration import profile_path
    from coach.desktop.app_log import file_console

    log: list[Console] = []

    def say(message: str) -> None:
        for out in log:
            out.print(escape(message))

    tray = Tray(controls, lambda: open_todays_report(args.db, say))
    problem = tray.start()
    if problem is not None:
        tray.stop()
        console.print(f"[yellow]No tray icon: {escape(problem)}; using the terminal view.[/yellow]")
        return None, console
    try:
        log_console, path = file_console()
    except OSError as exc:
        tray.stop()
        raise ConfigError(f"cannot write the log in {exc.filename}: {exc.strerror}") from None
    log.append(log_console)
    console.print(f"[dim]coach runs in the tray; its log is {escape(str(path))}.[/dim]")
    # A calibration saved from the tray is the neutral the next start uses.
    default = profile_path("default", profiles_dir())
    if args.profile is None and args.calibrate_seconds is None and default.exists():
        args.profile = "default"
    return tray, log_console


def _inputs(args: argparse.Namespace) -> list[str | Path]:
    """The files a command reads (its source, model and config): no output may replace them."""
    return [p for p in (args.source, args.model, args.config) if p is not None]


def _demo_timings(config: Config) -> Config:
    """Shorter holds and intervals, so a two-minute sample clip shows nudges and prompts."""
    return dataclasses.replace(
        config,
        nudge=dataclasses.replace(config.nudge, hold_s=10.0),
        prompts=dataclasses.replace(config.prompts, cooldown_s=60.0, working_hours=""),
        stationary=dataclasses.replace(config.stationary, still_minutes=1.0),
    )


def _preview_sinks(
    args: argparse.Namespace,
    config: Config,
    console: Console,
    on_key: Callable[[str], None] | None = None,
) -> list[Sink]:
    """The preview window, unless hidden or there is no display to open it on."""
    if not config.preview.show_window or args.no_window:
        return []
    from coach.actions.preview import PreviewWindow, display_available

    if not display_available():
        console.print("[dim]No display found; running without the preview window.[/dim]")
        return []
    window = PreviewWindow(
        skeleton_only=getattr(args, "skeleton_only", False) or config.preview.skeleton_only,
        thresholds=(config.slouch.forward_head_enter, config.slouch.rounding_enter),
        message_s=config.nudge.show_s,
        on_key=on_key,
    )
    return [window]


def _cmd_analyze(args: argparse.Namespace, config: Config, console: Console) -> int:
    from coach.actions.analysis_report import AnalysisReport

    session = Session(args, config, console)
    if session.spec.is_live:
        raise ConfigError(
            f"`coach analyze` reads a video or landmark file, not {session.spec}; "
            "use `coach run` for a live source"
        )
    report = AnalysisReport(config.loop.sample_period_s, config.stationary.min_still_interval_s)
    analyzer, stats = session.run(lambda _stats: [report])
    unfinished = analyzer.finish(stats.last_t_s)
    if unfinished is not None:
        report.add_set(unfinished)
    fps = session.source_fps or (stats.frames_read / max(stats.duration_s, 1e-9))
    result = report.build(
        frames=stats.frames_read,
        duration_s=stats.frames_read / fps if fps else stats.duration_s,
        fps=fps,
        view=analyzer.view.overall,
    )
    if args.json:
        sys.stdout.write(dumps(result) + "\n")
    else:
        console.print(
            f"{escape(session.label)}: {result['frames']} frames, {result['duration_s']:.1f} s at "
            f"{result['fps']:.1f} fps, {result['view']} view, {len(result['samples'])} samples"
        )
    return 0


def _cmd_record(args: argparse.Namespace, config: Config, console: Console) -> int:
    from coach.actions.dashboard import Dashboard
    from coach.pose.landmark_file import SUFFIXES, LandmarkWriter
    from coach.source import open_frames

    # A recording is for replaying: it keeps the posture rate throughout, not the live
    # coach's rest rate, so a replay can be analysed at any rate up to it.
    loop = dataclasses.replace(
        config.loop, idle_fps=max(config.loop.idle_fps, config.loop.posture_fps), glance=False
    )
    config = dataclasses.replace(config, loop=loop)
    session = Session(args, config, console)
    if session.spec.kind == "landmarks":
        raise ConfigError("`coach record` reads a camera, stream or video, not a landmark file")
    if not args.landmarks.name.lower().endswith(SUFFIXES):
        raise ConfigError(
            f"--landmarks {args.landmarks} must end in .jsonl or .jsonl.gz "
            "(so the recording can be replayed)"
        )
    args.landmarks = check_output(
        args.landmarks,
        option="--landmarks",
        inputs=_inputs(args),
        force=args.force,
    )
    # Open the source first so a bad path fails before an empty recording is created.
    with open_frames(session.spec, config.source) as probe:
        fps, label = probe.fps, probe.description
        first = next(iter(probe.frames()), None)
        size = first.size if isinstance(first, Frame) else (640, 480)
    with LandmarkWriter(args.landmarks, source=label, fps=fps, image_size=size) as writer:

        def sinks_for(stats: LoopStats) -> list[Sink]:
            return [Dashboard(console, session.label, stats, config.slouch)]

        try:
            _, stats = session.run(sinks_for, on_sample=writer.write)
        except KeyboardInterrupt as stop:
            console.print(f"[dim]Stopped{_by_signal(stop)}.[/dim]")
            return 0
    console.print(f"Saved {stats.frames_analysed} pose samples to {escape(str(args.landmarks))}.")
    return 0


def _cmd_count(args: argparse.Namespace, config: Config, console: Console) -> int:
    from coach.actions.count_live import GuidedSetView
    from coach.actions.count_view import summary_table
    from coach.movements import default_user_movements_file, load_library

    movement = load_library(default_user_movements_file()).get(args.movement)
    before = rating(args.fatigue_before, "--fatigue-before")
    after = rating(args.fatigue_after, "--fatigue-after")
    if args.ask_fatigue and before is None:
        before = _ask_rating(console, "How tired are you before the set")
    started_at = time.time()
    session = Session(args, config, console)
    view: GuidedSetView | None = None
    saved = True

    def sinks_for(stats: LoopStats) -> list[Sink]:
        nonlocal view
        view = GuidedSetView(console, movement)
        sinks: list[Sink] = [view]
        sinks.extend(_preview_sinks(args, config, console))
        return sinks

    console.print(
        f"[cyan]{escape(movement.name)}: {escape(movement.dose_text)}. Start from sitting tall; "
        "counting begins when you do.[/cyan]"
    )
    stopped: KeyboardInterrupt | None = None
    analyzer: Analyzer | None
    try:
        analyzer, stats = session.run(sinks_for)
    except KeyboardInterrupt as stop:
        # Ctrl-C (the footer's "Ctrl+C stop"), SIGTERM or SIGHUP: the set ends here, as if
        # the user had stopped it, with the reps counted so far.
        stopped = stop
        analyzer, stats = session.analyzer, session.stats
        console.print(f"[dim]Stopped{_by_signal(stop)}: the set ends here.[/dim]")
    done = view.finished if view is not None else None
    if done is None and analyzer is not None:
        done = analyzer.finish(stats.last_t_s)
    if done is not None:
        console.print(summary_table(done))
        if args.ask_fatigue and after is None and not isinstance(stopped, StopRequested):
            after = _ask_rating(console, "And now, after the set")
        if not args.no_history:
            # A clip read faster than real time would end the set in the future: end it now.
            started_at = min(started_at, time.time() - done.end_s)
            saved = _log_guided_set(
                console, args.db, session.label, started_at, done, before, after
            )
    result = set_json(args.movement, done)
    if args.json:
        sys.stdout.write(dumps(result) + "\n")
    elif done is None:
        console.print("No reps were counted.")
    return 0 if saved else 1


def _by_signal(stop: KeyboardInterrupt) -> str:
    """Which signal stopped the command (" by SIGTERM"); empty for Ctrl-C."""
    return f" by {stop}" if isinstance(stop, StopRequested) else ""


def _ask_rating(console: Console, question: str) -> int | None:
    """Ask for a 1-5 rating on the terminal (Enter skips); None without a terminal."""
    if not sys.stdin.isatty():
        return None
    answer = console.input(f"{question}, 1 (fresh) to 5 (exhausted)? [Enter to skip] ").strip()
    return rating(answer, "the rating") if answer else None


def _log_guided_set(
    console: Console,
    db: Path | None,
    label: str,
    started_at: float,
    done: SetCompleted,
    before: int | None,
    after: int | None,
) -> bool:
    """Record a guided set, with the fatigue ratings, in the history; False if not saved."""
    from coach.actions.session_recorder import set_record
    from coach.history.session_log import SessionLog

    try:
        log = SessionLog(db, keep_trying=True)  # what cannot be written goes to a rescue file
        try:
            session = log.start_session(f"coach count: {label}", started_at)
            record = set_record(done, started_at + done.start_s)
            log.add_set(
                session, dataclasses.replace(record, fatigue_before=before, fatigue_after=after)
            )
            log.end_session(session, started_at + done.end_s)
        finally:
            log.close()
    except HistoryError as exc:
        print_error(console, f"history: {exc}")
        return False
    return True


def set_json(movement: str, done: SetCompleted | None) -> dict[str, object]:
    """The published `coach count --json` object."""
    result: dict[str, object] = {"movement": movement, "reps": done.reps if done else 0}
    if movement == CountableMovement.LATERAL_FLEXION:
        sides = (done.per_side if done else None) or {}
        result["per_side"] = {
            "left": int(sides.get("left", 0)),
            "right": int(sides.get("right", 0)),
        }
    result["reps_detail"] = [
        {
            "start_s": round(rep.start_s, 2),
            "end_s": round(rep.end_s, 2),
            "phase_s": [round(p, 2) for p in rep.phase_s],
            "range": round(rep.range, 3),
            "partial": rep.partial,
        }
        for rep in (done.reps_detail if done else ())
    ]
    result["feedback"] = list(done.feedback) if done else []
    return result


def _cmd_calibrate(args: argparse.Namespace, config: Config, console: Console) -> int:
    from coach.actions.dashboard import Dashboard
    from coach.calibration import is_profile_file, new_profile, profile_path, save_profile

    seconds = args.seconds if args.seconds is not None else config.calibration.calibrate_s
    if seconds <= 0:
        raise ConfigError("--seconds must be more than 0")
    target = profile_path(args.profile, profiles_dir())
    check_output(target, option="--profile", inputs=_inputs(args), force=True)
    # Calibrating again replaces the profile (that is the point); any other file is refused.
    if target.exists() and not is_profile_file(target):
        raise ConfigError(
            f"--profile {target} exists and is not a coach calibration profile; "
            "choose another profile name or path"
        )
    args.calibrate_seconds = seconds
    session = Session(args, config, console)
    console.print(f"[cyan]Sit tall, look at the screen and keep still for {seconds:g} s…[/cyan]")
    stopper = _StopWhenCalibrated()
    try:
        analyzer, _ = session.run(
            lambda stats: [Dashboard(console, session.label, stats, config.slouch), stopper]
        )
    except KeyboardInterrupt:
        console.print("[yellow]Calibration cancelled; nothing was saved.[/yellow]")
        return 1
    neutral = analyzer.calibrated_neutral
    if neutral is None:
        raise CalibrationError(
            "calibration did not finish: you were not clearly visible for long enough; "
            "face the camera with head and shoulders in view and try again"
        )
    size = stopper.image_size or (640, 480)
    profile = new_profile(target.stem, neutral, size, noise=analyzer.calibrated_noise)
    path = save_profile(profile, target)
    console.print(
        f"Saved calibration profile {escape(repr(target.stem))} ({neutral.view} view) to "
        f"{escape(str(path))}. Use it with `coach run --profile {escape(target.stem)}`."
    )
    return 0


class _StopWhenCalibrated:
    """Sink that stops the loop as soon as the neutral is recorded."""

    def __init__(self) -> None:
        self.wants_stop = False
        self.image_size: tuple[int, int] | None = None

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        if snapshot.sample.pose is not None:
            self.image_size = snapshot.sample.pose.image_size
        self.wants_stop = snapshot.calibrating is None

    def close(self) -> None:
        """Nothing to release."""


def _cmd_models(args: argparse.Namespace, config: Config, console: Console) -> int:
    path = resolve_model(args.model, console, rebuild=args.rebuild)
    print(path)
    return 0


def _cmd_doctor(args: argparse.Namespace, config: Config, console: Console) -> int:
    from coach.desktop.doctor import CheckResult, run_checks

    symbols = sys.stdout.isatty()  # ✓ and ✗ for a person; ok / warn / fail for a script

    def say(result: CheckResult) -> None:
        print(result.line(symbols=symbols), flush=True)

    report = run_checks(
        config,
        source=args.source,
        model=args.model,
        db=args.db,
        fallback_video=args.fallback_video,
        on_result=say,
    )
    print(report.verdict(symbols=symbols))
    return 0 if report.can_coach else 1


def _cmd_autostart(action: str) -> int:
    from coach.desktop import autostart

    if action == "on":
        found = autostart.enable()
    elif action == "off":
        found = autostart.disable()
    else:
        found = autostart.status()
    print(found.describe())
    return 0 if found.state in (autostart.State.ON, autostart.State.OFF) else 1


# Numeric options that must be a finite number above 0 when given.
_POSITIVE_OPTIONS = {
    "max_seconds": "--max-seconds",
    "still_minutes": "--still-minutes",
    "calibrate_seconds": "--calibrate-seconds",
    "seconds": "--seconds",
    "reps": "--reps",
}


def _with_overrides(config: Config, args: argparse.Namespace) -> Config:
    """Check the numeric options, and apply those that override config settings."""
    for name, option in _POSITIVE_OPTIONS.items():
        value = getattr(args, name, None)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{option} must be a number more than 0, not {value:g}")
    still_minutes = getattr(args, "still_minutes", None)
    if still_minutes is not None:
        config = dataclasses.replace(
            config,
            stationary=dataclasses.replace(config.stationary, still_minutes=still_minutes),
        )
    return config


def main(argv: list[str] | None = None) -> int:
    """Run the coach; returns the process exit code."""
    # Keep OpenCV/FFmpeg from printing their own warnings over our one-line errors.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("GLOG_minloglevel", "2")
    args = _build_parser().parse_args(argv)
    console = Console(stderr=True)
    commands = {
        "run": _cmd_run,
        "start": _cmd_run,
        "analyze": _cmd_analyze,
        "record": _cmd_record,
        "calibrate": _cmd_calibrate,
        "count": _cmd_count,
        "models": _cmd_models,
        "doctor": _cmd_doctor,
    }
    try:
        # The history commands read the database only; they take no --config.
        if args.command in args.history_commands:
            return int(args.history_commands[args.command](args, console))
        if args.command == "autostart":  # touches one login file; reads no settings
            return _cmd_autostart(args.action)
        config = _with_overrides(load_config(args.config), args)
        if args.command not in ("run", "start", "record", "count"):
            return commands[args.command](args, config, console)
        # SIGTERM and SIGHUP (logout, shutdown, kill) stop these the way Ctrl-C does: the
        # session or set is closed and logged. The exit status is then 0, a stop that was
        # asked for and lost nothing; 128+15 would count as a failure under systemd.
        with stop_on_signals():
            return commands[args.command](args, config, console)
    except StopRequested as stop:  # before anything was opened: nothing to save
        console.print(f"[dim]Stopped by {stop}.[/dim]")
        return 0
    except CoachError as exc:
        print_error(console, str(exc))
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
