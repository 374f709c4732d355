"""Provides `coach run` and `coach start`: the live coach, in the terminal or the tray."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from coach.actions.controls import Controls, TerminalKeys
from coach.commands.common import History, by_signal, inputs, preview_sinks, profiles_dir
from coach.config import Config, NudgeStyle
from coach.errors import AlreadyRunning, CameraUnavailable, ConfigError
from coach.movements import MovementLibrary
from coach.pipeline import Sink
from coach.safe.outputs import check_output
from coach.session import Session
from coach.session_options import Opened, SessionOptions

if TYPE_CHECKING:
    from coach.actions.tray import Tray
    from coach.commands.remote import RemoteStatus
    from coach.desktop.session_signals import DesktopWatcher


def cmd_run(
    args: argparse.Namespace,
    options: SessionOptions,
    config: Config,
    library: MovementLibrary,
    console: Console,
) -> int:
    """Coach until the source ends or the user stops; 1 when the history was not saved.

    A second `coach start` finds the first one and says so, with status 0; a second live
    `coach run` says so as an error."""
    from coach.commands.remote import LiveTarget, RemoteStatus, claim
    from coach.safe.redact import redact

    controls = Controls(config.prompts.pause_s)
    status = RemoteStatus(redact(options.source), config.prompts.pause_s)
    try:  # before the camera is opened (a fallback probe included)
        instance = claim(options, LiveTarget(controls, status.report), console, tray=args.tray)
    except AlreadyRunning as exc:
        if not args.tray:
            raise
        console.print(f"{escape(str(exc))}.", highlight=False)
        return 0
    try:
        return _run(args, options, config, library, console, controls, status)
    finally:
        if instance is not None:
            instance.stop()


def _run(
    args: argparse.Namespace,
    options: SessionOptions,
    config: Config,
    library: MovementLibrary,
    console: Console,
    controls: Controls,
    remote_status: RemoteStatus,
) -> int:
    from coach.actions.dashboard import Dashboard

    options, config = _with_fallback(args, options, config, console)
    events = args.events
    if events is not None:
        events = check_output(events, option="--events", inputs=inputs(args))
    tray: Tray | None = None
    if args.tray:
        tray, console, options = _tray_or_terminal(args, options, console, controls)
    session = Session(options, config, library, console, profiles=profiles_dir())
    keys = TerminalKeys(controls)
    history = History(console, args.db, enabled=not args.no_history)

    def sinks_for(opened: Opened) -> list[Sink]:
        from coach.actions.glow import open_glow
        from coach.actions.notify import (
            Chime,
            DesktopNotifier,
            Notifier,
            NudgeAnnouncer,
            NullNotifier,
            notification_service_available,
        )

        sinks: list[Sink] = [remote_status.opened(opened)]
        session.status_listeners.append(remote_status.live)
        if tray is None:
            dashboard = Dashboard(
                console,
                opened.label,
                opened.stats,
                config.slouch,
                config.nudge.show_s,
                library=library,
                history_status=history.status,
            )
            session.status_listeners.append(dashboard.status)
            sinks.append(dashboard)
        else:
            from coach.actions.tray import TrayStatus

            status = TrayStatus(tray)
            session.status_listeners.append(status.status)
            sinks.append(status)
        sinks.extend(history.sinks(opened))
        nudge = config.nudge
        notifier: Notifier = NullNotifier()
        if nudge.desktop and notification_service_available():
            notifier = DesktopNotifier()
        chime = nudge.chime or NudgeStyle.CHIME in nudge.style
        announcer = NudgeAnnouncer(
            notifier,
            Chime() if chime else None,
            answer=controls.push,
            summaries=tray is not None,  # no dashboard: sets and calibration announced
            # The style governs how a slouch is told; movement prompts, the camera's state and
            # summaries are notified whatever it is.
            posture_notifications=NudgeStyle.NOTIFICATION in nudge.style,
        )
        session.status_listeners.append(announcer.status)
        sinks.append(announcer)
        glow = open_glow(
            nudge,
            config.slouch,
            lambda line: console.print(line, style="dim", markup=False, highlight=False),
        )
        if glow is not None:
            session.status_listeners.append(glow.status)
            sinks.append(glow)
        sinks.extend(
            preview_sinks(
                config,
                console,
                hidden=args.no_window,
                skeleton_only=args.skeleton_only,
                on_key=controls.key,
            )
        )
        if events is not None:
            from coach.actions.event_log import EventLog

            sinks.append(EventLog(events, rate=opened.rate))
        return sinks

    watcher = _desktop_watcher(controls, console)
    if tray is None:
        keys.start()
    try:
        result = session.run(sinks_for, controls=controls)
        if result.stopped is not None:
            console.print(f"[dim]Stopped{by_signal(result.stopped)}.[/dim]")
    finally:
        keys.stop()
        if watcher is not None:
            watcher.stop()
        if tray is not None:
            tray.stop()
        saved = history.close()  # not saved: said in one line, exit status 1
    if result.stopped is None:
        stats = result.stats
        console.print(
            f"Done: {stats.frames_analysed} of {stats.frames_read} frames analysed "
            f"over {stats.duration_s:.1f} s of {escape(result.label)}."
        )
    return 0 if saved else 1


def _desktop_watcher(controls: Controls, console: Console) -> DesktopWatcher | None:
    """Listen to the desktop's lock and sleep signals: they release the camera and stop the
    clocks until unlock or wake-up (None where the source is not live: nothing to hold)."""
    from coach.desktop.session_signals import DesktopWatcher

    watcher = DesktopWatcher(controls.hold)
    heard = watcher.start()
    if heard:
        console.print(f"[dim]Pausing on screen lock and sleep ({escape(', '.join(heard))}).[/dim]")
    return watcher


def _with_fallback(
    args: argparse.Namespace, options: SessionOptions, config: Config, console: Console
) -> tuple[SessionOptions, Config]:
    """With no webcam and a --fallback-video: that video, with demo timings (and say so)."""
    from coach.source import SourceKind, open_frames, parse_source

    spec = parse_source(options.source)
    if spec.kind is not SourceKind.CAMERA or args.fallback_video is None:
        return options, config
    try:
        open_frames(spec, config.source).close()
    except CameraUnavailable:
        console.print(
            f"[yellow]No webcam could be opened; running on the sample video "
            f"{escape(str(args.fallback_video))} instead (demo timings: a nudge after 10 s of slouching, "
            "a movement prompt after 1 min still).[/yellow]"
        )
        return dataclasses.replace(options, source=str(args.fallback_video)), _demo_timings(config)
    return options, config


def _demo_timings(config: Config) -> Config:
    """Shorter holds and intervals, so a two-minute sample clip shows nudges and prompts."""
    return dataclasses.replace(
        config,
        nudge=dataclasses.replace(config.nudge, hold_s=10.0),
        prompts=dataclasses.replace(config.prompts, cooldown_s=60.0, working_hours=""),
        stationary=dataclasses.replace(config.stationary, still_minutes=1.0),
    )


def _tray_or_terminal(
    args: argparse.Namespace, options: SessionOptions, console: Console, controls: Controls
) -> tuple[Tray | None, Console, SessionOptions]:
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
        return None, console, options
    try:
        log_console, path = file_console()
    except OSError as exc:
        tray.stop()
        raise ConfigError(f"cannot write the log in {exc.filename}: {exc.strerror}") from None
    log.append(log_console)
    console.print(f"[dim]coach runs in the tray; its log is {escape(str(path))}.[/dim]")
    # A calibration saved from the tray is the neutral the next start uses.
    default = profile_path("default", profiles_dir())
    if options.profile is None and options.calibrate_s is None and default.exists():
        options = dataclasses.replace(options, profile="default")
    return tray, log_console, options
