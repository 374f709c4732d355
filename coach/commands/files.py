"""Provides `coach analyze`, `coach record` and `coach calibrate`: a session for its output."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys

from rich.console import Console

from coach.commands.common import by_signal, inputs, profiles_dir
from coach.config import Config
from coach.errors import CalibrationError, ConfigError
from coach.movements import MovementLibrary
from coach.pipeline import Sink
from coach.progress import terminal_progress
from coach.records import Frame
from coach.safe.outputs import check_output, dumps
from coach.safe.printable import literal
from coach.session import Session
from coach.session_options import Opened, SessionOptions


def cmd_analyze(
    args: argparse.Namespace,
    options: SessionOptions,
    config: Config,
    library: MovementLibrary,
    console: Console,
) -> int:
    """Analyse a file as fast as it decodes; print the report."""
    from coach.actions.analysis_report import AnalysisReport
    from coach.actions.analysis_summary import summary_lines
    from coach.actions.stream_progress import StreamProgress

    session = Session(options, config, library, console, profiles=profiles_dir())
    if session.spec.is_live:
        raise ConfigError(
            f"`coach analyze` reads a video or landmark file, not {session.spec}; "
            "use `coach run` for a live source"
        )
    report = AnalysisReport(config.loop.sample_period_s, config.stationary.min_still_interval_s)
    bars = terminal_progress(console)

    def sinks_for(opened: Opened) -> list[Sink]:
        return [report, StreamProgress(bars, f"analysing {opened.label}", opened.duration_s)]

    result = session.run(sinks_for)
    if result.stopped is not None:
        raise result.stopped
    if result.unfinished_set is not None:
        report.add_set(result.unfinished_set)
    stats = result.stats
    fps = result.source_fps or (stats.frames_read / max(stats.duration_s, 1e-9))
    # The recording's span: a landmark file of every third frame spans its time, not
    # frames / fps; a video's last frame lasts one frame (150 frames at 15 fps: 10 s).
    duration_s = max(stats.duration_s, stats.frames_read / fps if fps else 0.0)
    out = report.build(
        frames=stats.frames_read,
        duration_s=duration_s,
        fps=fps,
        view=result.view,
    )
    if args.json:
        sys.stdout.write(dumps(out) + "\n")
    else:
        for line in summary_lines(result.label, out, lambda m: _movement_name(library, m)):
            console.print(literal(line), highlight=False)
    return 0


def _movement_name(library: MovementLibrary, movement_id: str) -> str:
    """The movement's name for a person (its id when the library no longer has it)."""
    try:
        return library.get(movement_id).name
    except ConfigError:
        return movement_id


def cmd_record(
    args: argparse.Namespace,
    options: SessionOptions,
    config: Config,
    library: MovementLibrary,
    console: Console,
) -> int:
    """Save the pose stream of a camera, stream or video to a landmark file."""
    from coach.actions.dashboard import Dashboard
    from coach.actions.stream_progress import StreamProgress
    from coach.pose.landmark_file import SUFFIXES, LandmarkWriter
    from coach.source import SourceKind, open_frames

    # A recording is for replaying: it keeps the posture rate throughout, not the live
    # coach's rest rate, so a replay can be analysed at any rate up to it.
    loop = dataclasses.replace(
        config.loop, idle_fps=max(config.loop.idle_fps, config.loop.posture_fps), glance=False
    )
    config = dataclasses.replace(config, loop=loop)
    session = Session(options, config, library, console)
    if session.spec.kind is SourceKind.LANDMARKS:
        raise ConfigError("`coach record` reads a camera, stream or video, not a landmark file")
    if not args.landmarks.name.lower().endswith(SUFFIXES):
        raise ConfigError(
            f"--landmarks {args.landmarks} must end in .jsonl or .jsonl.gz "
            "(so the recording can be replayed)"
        )
    target = check_output(
        args.landmarks, option="--landmarks", inputs=inputs(args), force=args.force
    )
    # Open the source first so a bad path fails before an empty recording is created.
    with open_frames(session.spec, config.source) as probe:
        fps, label = probe.fps, probe.description
        first = next(iter(probe.frames()), None)
        size = first.size if isinstance(first, Frame) else (640, 480)
    with LandmarkWriter(target, source=label, fps=fps, image_size=size) as writer:

        def sinks_for(opened: Opened) -> list[Sink]:
            if opened.live:
                return [Dashboard(console, opened.label, opened.stats, config.slouch)]
            # A file records faster than a dashboard can be read: a bar with the time left.
            bars = terminal_progress(console)
            return [StreamProgress(bars, f"recording {opened.label}", opened.duration_s)]

        result = session.run(sinks_for, on_sample=writer.write)
        if result.stopped is not None:
            console.print(f"[dim]Stopped{by_signal(result.stopped)}.[/dim]")
            return 0
    console.print(f"Saved {result.stats.frames_analysed} pose samples to {literal(target)}.")
    return 0


def cmd_calibrate(
    args: argparse.Namespace,
    options: SessionOptions,
    config: Config,
    library: MovementLibrary,
    console: Console,
) -> int:
    """Record the user's neutral and save it as a named profile."""
    from coach.actions.dashboard import Dashboard
    from coach.calibration import (
        is_profile_file,
        new_profile,
        profile_option,
        profile_path,
        save_profile,
    )

    seconds = args.seconds if args.seconds is not None else config.calibration.calibrate_s
    if seconds <= 0:
        raise ConfigError("--seconds must be more than 0")
    target = profile_path(args.profile, profiles_dir())
    check_output(target, option="--profile", inputs=inputs(args), force=True)
    # Calibrating again replaces the profile (that is the point); any other file is refused.
    if target.exists() and not is_profile_file(target):
        raise ConfigError(
            f"--profile {target} exists and is not a coach calibration profile; "
            "choose another profile name or path"
        )
    # `coach calibrate --profile NAME` writes that profile; it must not read it.
    options = dataclasses.replace(options, profile=None, calibrate_s=seconds)
    session = Session(options, config, library, console)
    console.print(f"[cyan]Sit tall, look at the screen and keep still for {seconds:g} s…[/cyan]")
    result = session.run(
        lambda opened: [Dashboard(console, opened.label, opened.stats, config.slouch)]
    )
    if result.stopped is not None:
        console.print("[yellow]Calibration cancelled; nothing was saved.[/yellow]")
        return 1
    neutral = result.neutral
    if neutral is None:
        raise CalibrationError(
            "calibration did not finish: you were not clearly visible for long enough; "
            "face the camera with head and shoulders in view and try again"
        )
    size = result.image_size or (640, 480)
    profile = new_profile(target.stem, neutral, size, noise=result.noise)
    path = save_profile(profile, target)
    option = shlex.quote(profile_option(path, profiles_dir()))
    console.print(
        f"Saved calibration profile {literal(repr(target.stem))} ({neutral.view} view) to "
        f"{literal(path)}. Use it with `coach run --profile {literal(option)}`."
    )
    if neutral.view != "side" and result.noise is not None:
        from coach.decisions.sensitivity import advise

        advice = advise(neutral, result.noise, config.slouch)
        for line in advice.lines(config.slouch.sensitivity):
            console.print(literal(line))
    return 0
