"""Provides `coach run` and `coach start`: the live coach, in the terminal or the tray."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from coach.actions.activity_log import ActivityLog, set_line
from coach.actions.controls import Controls, TerminalKeys
from coach.commands.common import (
    History,
    by_signal,
    inputs,
    preview_sinks,
    print_error,
    profiles_dir,
    with_overrides,
)
from coach.commands.live_desktop import SettingsParts, desktop_watcher, tray_or_terminal
from coach.config import Config
from coach.errors import AlreadyRunning, CameraUnavailable, CoachError
from coach.movements import MovementLibrary
from coach.pipeline import Sink
from coach.respawn import CRASHES_ENV, WINDOW_S, Watchdog, recent_crashes
from coach.safe.outputs import check_output
from coach.safe.printable import literal
from coach.session import Session
from coach.session_options import Opened, SessionOptions, SessionResult
from coach.stopping import StopRequested

if TYPE_CHECKING:
    from coach.actions.tray import Tray
    from coach.commands.remote import RemoteStatus


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
        console.print(f"{literal(str(exc))}.", highlight=False)
        return 0
    watchdog = _watchdog(args)
    try:
        return _run(args, options, config, library, console, controls, status)
    finally:
        if watchdog is not None:
            watchdog.disarm()
        if instance is not None:
            instance.stop()


def _watchdog(args: argparse.Namespace) -> Watchdog | None:
    """With `--respawn` (and the one coach's claim held), the watchdog that starts this
    command again if the process is killed; None without it, or off POSIX."""
    if not args.respawn or os.name != "posix":
        return None
    from coach.desktop.app_log import current_log

    return Watchdog.arm([sys.executable, "-m", "coach", *args.command_line], current_log())


def _run(
    args: argparse.Namespace,
    options: SessionOptions,
    config: Config,
    library: MovementLibrary,
    console: Console,
    controls: Controls,
    remote_status: RemoteStatus,
) -> int:
    """Coach (this process holds the one coach's claim).

    In the tray, an error that ends a session leaves the icon up in its error state (and
    a notification) until the user chooses: try again (a new session), or quit (1; 70
    after an unexpected error)."""
    asked = options.source
    options, config = _with_fallback(args, options, config, console)
    demo = options.source != asked  # on the fallback video: its demo timings stay on reload

    def reload_config() -> Config:
        return _reloaded(args, demo)

    events = args.events
    if events is not None:
        events = check_output(events, option="--events", inputs=inputs(args))
    tray: Tray | None = None
    terminal = console
    if args.tray:
        tray, console, options = tray_or_terminal(
            args, options, console, controls, SettingsParts(config, reload_config)
        )
    live = _Live(
        args, config, library, console, controls, tray, events, remote_status, reload_config
    )
    _log_started(args, options, config, tray is not None)
    keys = TerminalKeys(controls)
    watcher = desktop_watcher(controls, console)
    if tray is None:
        keys.start()
    try:
        while True:
            try:
                code, why = live.once(options)
                break
            except Exception as exc:
                if tray is None or controls.quit:
                    raise  # said in one line (a bug: logged with its traceback) by the CLI
                stopped = _after_error(tray, controls, terminal, exc)
                if stopped is not None:
                    code, why = stopped
                    break
    finally:
        keys.stop()
        if watcher is not None:
            watcher.stop()
        if tray is not None:
            tray.stop()
    logging.getLogger("coach.session").info("coach stopped: %s", why)
    return code


def _after_error(
    tray: Tray, controls: Controls, terminal: Console, exc: Exception
) -> tuple[int, str] | None:
    """Log, notify and wait in the tray's error state: None to try again, or the exit
    status and why the coach stopped."""
    from coach.commands.fatal import EX_SOFTWARE, Choice, error_line, log_error, wait_after_error
    from coach.desktop.app_log import current_log

    log_error(exc)
    message = error_line(exc)
    print_error(terminal, f"{message} (the tray icon says so; quit or try again from its menu)")
    if wait_after_error(tray, controls, message, current_log()) is Choice.RETRY:
        return None
    code = 1 if isinstance(exc, CoachError) else EX_SOFTWARE
    return code, f"user quit after an error ({message})"


def _log_started(
    args: argparse.Namespace, options: SessionOptions, config: Config, in_tray: bool
) -> None:
    """One line: which coach, on what, with which neutral and settings."""
    from coach import __version__
    from coach.source import parse_source

    if options.profile is not None:
        neutral = f"profile {options.profile}"
    else:
        seconds = options.calibrate_s or config.calibration.calibrate_s
        neutral = f"calibrating from the first {seconds:g} s"
    settings = "settings file" if args.config is None else f"settings file and config {args.config}"
    logging.getLogger("coach.session").info(
        "coach started: pid %d, version %s, %s, source %s, %s, %s",
        os.getpid(),
        __version__,
        "in the tray" if in_tray else "in the terminal",
        parse_source(options.source),
        neutral,
        settings,
    )
    crashes = recent_crashes(os.environ.get(CRASHES_ENV, ""), time.time())
    if crashes:
        logging.getLogger("coach.session").warning(
            "coach started again after it stopped unexpectedly (%d time%s in %g minutes)",
            len(crashes),
            "" if len(crashes) == 1 else "s",
            WINDOW_S / 60,
        )


def _why(
    result: SessionResult, controls: Controls, options: SessionOptions, previewed: bool
) -> str:
    """Why a session that returned ended: the user, a signal, or its source."""
    if result.stopped is not None:
        return f"signal {result.stopped}" if isinstance(result.stopped, StopRequested) else "Ctrl-C"
    if controls.quit:
        return "user quit"
    limit = options.max_seconds
    if limit is not None and result.stats.duration_s >= limit - 1.0:
        return f"--max-seconds {limit:g} reached"
    # q or Esc in the preview window ends the run the way the source's end does.
    return "the source ended or the preview window was closed" if previewed else "the source ended"


@dataclasses.dataclass
class _Live:
    """What every session of one `coach run` shares; `once` runs one session."""

    args: argparse.Namespace
    config: Config
    library: MovementLibrary
    console: Console
    controls: Controls
    tray: Tray | None
    events: Path | None
    remote_status: RemoteStatus
    reload_config: Callable[[], Config]
    """The settings read again (a Settings menu choice, `coach config set`)."""
    previewed: bool = False
    """Whether the last session had a preview window (closing it ends the session)."""

    def once(self, options: SessionOptions) -> tuple[int, str]:
        """One session to its end: (exit status, why it ended)."""
        session = Session(
            options,
            self.config,
            self.library,
            self.console,
            profiles=profiles_dir(),
            reload_config=self.reload_config,
        )
        session.config_listeners.append(self._applied)
        history = History(self.console, self.args.db, enabled=not self.args.no_history)
        try:
            result = session.run(
                lambda opened: self.sinks_for(opened, session, history), controls=self.controls
            )
            if result.stopped is not None:
                self.console.print(f"[dim]Stopped{by_signal(result.stopped)}.[/dim]")
        finally:
            saved = history.close()  # not saved: said in one line, exit status 1
        if result.unfinished_set is not None:
            logging.getLogger("coach.activity").info(
                "%s (ended with the session)", set_line(result.unfinished_set)
            )
        if result.stopped is None:
            stats = result.stats
            self.console.print(
                f"Done: {stats.frames_analysed} of {stats.frames_read} frames analysed "
                f"over {stats.duration_s:.1f} s of {literal(result.label)}."
            )
        return (0 if saved else 1), _why(result, self.controls, options, self.previewed)

    def _applied(self, config: Config) -> None:
        """Settings applied while running: a session started after an error keeps them."""
        self.config = config

    def sinks_for(self, opened: Opened, session: Session, history: History) -> list[Sink]:
        """The sinks of one session: its views, the history, notifications, the logs."""
        from coach.actions.dashboard import Dashboard
        from coach.actions.glow import open_glow
        from coach.actions.notify import (
            Chime,
            DesktopNotifier,
            Notifier,
            NudgeAnnouncer,
            NullNotifier,
            notification_service_available,
        )

        config, console = self.config, self.console
        activity = ActivityLog(opened.label)
        session.status_listeners.append(activity.status)
        sinks: list[Sink] = [activity, self.remote_status.opened(opened)]
        session.status_listeners.append(self.remote_status.live)
        if self.tray is None:
            dashboard = Dashboard(
                console,
                opened.label,
                opened.stats,
                config.slouch,
                config.nudge.show_s,
                library=self.library,
                history_status=history.status,
            )
            session.status_listeners.append(dashboard.status)
            sinks.append(dashboard)
        else:
            from coach.actions.tray import TrayStatus

            status = TrayStatus(self.tray)
            session.status_listeners.append(status.status)
            session.config_listeners.append(self.tray.settings_applied)
            sinks.append(status)
        sinks.extend(history.sinks(opened))
        # Both made whatever the style: the Settings menu may change it while running.
        notifier: Notifier = NullNotifier()
        if notification_service_available():
            notifier = DesktopNotifier()
        announcer = NudgeAnnouncer(
            notifier,
            Chime(),
            answer=self.controls.push,
            summaries=self.tray is not None,  # no dashboard: sets and calibration announced
            style=config.nudge.style,
        )
        session.status_listeners.append(announcer.status)
        session.config_listeners.append(lambda new: announcer.reconfigure(new.nudge))
        sinks.append(announcer)
        glow = open_glow(
            config.nudge,
            config.slouch,
            lambda line: console.print(line, style="dim", markup=False, highlight=False),
        )
        if glow is not None:  # turned on from the Settings menu: from the next start
            session.status_listeners.append(glow.status)
            session.config_listeners.append(glow.reconfigure)
            sinks.append(glow)
        previews = preview_sinks(
            config,
            console,
            hidden=self.args.no_window,
            skeleton_only=self.args.skeleton_only,
            on_key=self.controls.key,
        )
        self.previewed = bool(previews)
        sinks.extend(previews)
        if self.events is not None:
            from coach.actions.event_log import EventLog

            sinks.append(EventLog(self.events, rate=opened.rate))
        return sinks


def _reloaded(args: argparse.Namespace, demo: bool) -> Config:
    """The settings read again, in the same layers (the user's file, --config, the options);
    a coach running on the fallback video keeps its demo timings."""
    from coach.config.user_file import load_settings

    config = with_overrides(load_settings(args.config).config, args)
    return _demo_timings(config) if demo else config


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
            f"{literal(args.fallback_video)} instead (demo timings: a nudge after 10 s of slouching, "
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
