"""Provides the `coach` command line: parses options, wires the stages, reports errors once."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from rich.console import Console

from coach.commands.arguments import check_arguments, check_inputs
from coach.commands.common import print_error, with_overrides
from coach.commands.parser import DEFAULT_CAMERA, build_parser
from coach.config import Config
from coach.config.user_file import load_settings
from coach.errors import CoachError, one_line
from coach.launch import STOPPED_BY_CTRL_C
from coach.model_choice import resolve_model
from coach.safe.printable import literal, printable
from coach.session_options import Guided, Mode, SessionOptions
from coach.stopping import StopRequested, stop_on_signals


def _options(args: argparse.Namespace) -> SessionOptions:
    """The session options a command's arguments ask for (the arguments stay as parsed)."""
    mode = Mode.RUN if args.command == "start" else Mode(args.command)
    guided = None
    if mode is Mode.COUNT:
        guided = Guided(args.movement, args.reps)
    profile = getattr(args, "profile", None)
    return SessionOptions(
        mode=mode,
        source=str(args.source),
        model=args.model,
        max_seconds=args.max_seconds,
        profile=profile,
        calibrate_s=getattr(args, "calibrate_seconds", None),
        guided=guided,
        paced=getattr(args, "realtime", False),
        save_profile_as=profile or "default",
    )


def _cmd_models(args: argparse.Namespace, config: Config, console: Console) -> int:
    path = resolve_model(args.model, console, rebuild=args.rebuild)
    print(printable(str(path)))
    return 0


def _cmd_doctor(args: argparse.Namespace, config: Config, console: Console) -> int:
    from coach.desktop.doctor import CheckResult, run_checks

    symbols = sys.stdout.isatty()  # ✓ and ✗ for a person; ok / warn / fail for a script

    def say(result: CheckResult) -> None:
        print(printable(result.line(symbols=symbols)), flush=True)

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


_REMOTE = ("pause", "resume", "status")


def _remote(args: argparse.Namespace, console: Console) -> int:
    from coach.commands.remote import cmd_pause, cmd_resume, cmd_status

    handlers = {"pause": cmd_pause, "resume": cmd_resume, "status": cmd_status}
    return handlers[args.command](args, console)


def _cmd_autostart(action: str) -> int:
    from coach.desktop import autostart, launcher

    if action == "on":
        found = autostart.enable()
        if autostart.current_platform() is autostart.Platform.LINUX:
            # Coaching from login is the desktop app: its menu launcher and themed icon too.
            for path, outcome in launcher.install().outcomes:
                if outcome is launcher.Outcome.WRITTEN:
                    print(printable(f"installed {path}"))
    elif action == "off":
        found = autostart.disable()
    else:
        found = autostart.status()
    print(printable(found.describe()))
    return 0 if found.state in (autostart.State.ON, autostart.State.OFF) else 1


def _cmd_install_desktop(remove: bool) -> int:
    from coach.desktop import launcher

    result = launcher.remove() if remove else launcher.install()
    for line in result.lines():
        print(printable(line))
    return 1 if result.launcher is launcher.Outcome.FOREIGN else 0


def _launcher_on_first_start(console: Console) -> None:
    """The first `coach start` puts Coach in the applications menu, once (a removal stays)."""
    from coach.desktop import launcher

    try:
        if not launcher.first_start_due():
            return
        result = launcher.install_on_first_start()
    except CoachError as exc:  # never in the way of coaching
        console.print(
            f"[dim]Coach was not added to the applications menu: {literal(str(exc))}[/dim]"
        )
        return
    if result.launcher is launcher.Outcome.WRITTEN:
        console.print(
            "[dim]Coach is now in your applications menu "
            "(`coach install-desktop --remove` takes it out).[/dim]"
        )


def _session_command(args: argparse.Namespace, config: Config, console: Console) -> int:
    """Run a session command, with the movements loaded once (the user's file included)."""
    from coach.commands.files import cmd_analyze, cmd_calibrate, cmd_record
    from coach.commands.guided import cmd_count
    from coach.commands.live import cmd_run
    from coach.movements import default_user_movements_file, load_library

    handlers = {
        "run": cmd_run,
        "start": cmd_run,
        "analyze": cmd_analyze,
        "record": cmd_record,
        "calibrate": cmd_calibrate,
        "count": cmd_count,
    }
    library = load_library(default_user_movements_file())
    options = _options(args)
    if args.command == "start":
        _launcher_on_first_start(console)
    if args.command in ("analyze", "calibrate"):
        return handlers[args.command](args, options, config, library, console)
    # SIGTERM and SIGHUP (logout, shutdown, kill) stop these the way Ctrl-C does: the
    # session or set is closed and logged. The exit status is then 0, a stop that was
    # asked for and lost nothing; 128+15 would count as a failure under systemd.
    with stop_on_signals():
        return handlers[args.command](args, options, config, library, console)


LIVE_COMMANDS = frozenset({"run", "start"})
"""The commands that coach live: they log everything to the app log."""


def _open_log(args: argparse.Namespace, console: Console) -> None:
    """Open the app log for a live command; a terminal coach goes on without one (and says
    so), a tray coach finds out when it opens the tray (the log is its only voice)."""
    from coach.desktop.app_log import open_app_log

    if args.command not in LIVE_COMMANDS:
        return
    try:
        open_app_log()
    except OSError as exc:
        if not args.tray:
            console.print(
                f"[yellow]coach: warning: no log ({literal(str(exc.strerror or exc))} "
                f"in {literal(str(exc.filename))}); coaching without one.[/yellow]",
                highlight=False,
                soft_wrap=True,
            )


def _notify_if_tray(args: argparse.Namespace, message: str) -> None:
    """From the tray, a fatal error is a notification too: an error before the icon is up,
    or with no tray host, would otherwise go unseen (autostart has no terminal)."""
    if args.command in LIVE_COMMANDS and args.tray:
        from coach.commands.fatal import notify_stopped
        from coach.desktop.app_log import current_log

        notify_stopped(message, current_log()).close()


def main(argv: list[str] | None = None) -> int:
    """Run the coach; returns the process exit code."""
    from coach.commands.fatal import EX_SOFTWARE, error_line
    from coach.desktop.app_log import keep_off_stderr, log_unexpected, logged_thread_exceptions

    # Keep the pose runtime from printing its own warnings over our one-line errors (FFmpeg's
    # log is off in PyAV unless asked for).
    os.environ.setdefault("GLOG_minloglevel", "2")
    args = build_parser().parse_args(argv)
    # What `--respawn` starts again: this command line, as given.
    args.command_line = list(sys.argv[1:] if argv is None else argv)
    console = Console(stderr=True)
    tools = {"models": _cmd_models, "doctor": _cmd_doctor}
    keep_off_stderr()
    with logged_thread_exceptions():
        try:
            _open_log(args, console)
            check_arguments(args)
            # The history commands read the database only; they take no --config.
            if args.command in args.history_commands:
                return int(args.history_commands[args.command](args, console))
            if args.command == "autostart":  # touches one login file; reads no settings
                return _cmd_autostart(args.action)
            if args.command in _REMOTE:  # asks the running coach, which has its own settings
                return _remote(args, console)
            if args.command == "install-desktop":
                return _cmd_install_desktop(args.remove)
            if args.command in args.settings_commands:  # reads and writes the settings file
                return int(args.settings_commands[args.command](args, console))
            # defaults < the user's settings file < --config FILE < the options
            config = with_overrides(load_settings(args.config).config, args)
            if getattr(args, "source", DEFAULT_CAMERA) is None:
                args.source = config.source.camera or DEFAULT_CAMERA
            check_inputs(args)
            if args.command in tools:
                return tools[args.command](args, config, console)
            return _session_command(args, config, console)
        except StopRequested as stop:  # before anything was opened: nothing to save
            console.print(f"[dim]Stopped by {stop}.[/dim]")
            if args.command in LIVE_COMMANDS:
                logging.getLogger("coach.session").info("coach stopped: signal %s", stop)
            return 0
        except KeyboardInterrupt:  # Ctrl-C before a session began (loading, checking)
            console.print("[dim]Stopped.[/dim]")
            if args.command in LIVE_COMMANDS:
                logging.getLogger("coach.session").info("coach stopped: Ctrl-C")
            return STOPPED_BY_CTRL_C
        except CoachError as exc:
            print_error(console, str(exc))
            if args.command in LIVE_COMMANDS:
                logging.getLogger("coach.session").error("coach stopped: %s", one_line(exc))
                _notify_if_tray(args, one_line(exc))
            return 1
        except Exception as exc:  # a bug: its traceback goes to the log, one line here
            print(log_unexpected(exc), file=sys.stderr)
            _notify_if_tray(args, error_line(exc))
            return EX_SOFTWARE


if __name__ == "__main__":
    raise SystemExit(main())
