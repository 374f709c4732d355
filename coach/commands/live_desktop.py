"""Provides the live coach's desktop parts: the tray (or the terminal view) and the lock watcher."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console

from coach.actions.controls import Controls
from coach.commands.common import profiles_dir
from coach.config import Config
from coach.errors import ConfigError
from coach.safe.printable import literal
from coach.session_options import SessionOptions

if TYPE_CHECKING:
    from coach.actions.tray import Tray
    from coach.desktop.session_signals import DesktopWatcher


def desktop_watcher(controls: Controls, console: Console) -> DesktopWatcher | None:
    """Listen to the desktop's lock and sleep signals: they release the camera and stop the
    clocks until unlock or wake-up (None where the source is not live: nothing to hold)."""
    from coach.desktop.session_signals import DesktopWatcher

    watcher = DesktopWatcher(controls.hold)
    heard = watcher.start()
    if heard:
        console.print(f"[dim]Pausing on screen lock and sleep ({literal(', '.join(heard))}).[/dim]")
    return watcher


@dataclasses.dataclass(frozen=True)
class SettingsParts:
    """What the tray's Settings menu needs: the settings in force and how to read them again."""

    config: Config
    reload: Callable[[], Config]


def tray_or_terminal(
    args: argparse.Namespace,
    options: SessionOptions,
    console: Console,
    controls: Controls,
    settings: SettingsParts,
) -> tuple[Tray | None, Console, SessionOptions]:
    """The tray (with its Settings menu) and a console writing to the log file; or, with no
    tray host, one line saying so and the terminal view."""
    from coach.actions.open_report import open_todays_report
    from coach.actions.tray import Tray
    from coach.actions.tray_settings import SettingsMenu
    from coach.calibration import profile_path
    from coach.desktop.app_log import file_console

    log: list[Console] = []

    def say(message: str) -> None:
        for out in log:
            out.print(literal(message))

    menu = SettingsMenu(controls, settings.config, settings.reload, on_error=say)
    tray = Tray(controls, lambda: open_todays_report(args.db, say), menu)
    problem = tray.start()
    if problem is not None:
        tray.stop()
        console.print(
            f"[yellow]No tray icon: {literal(problem)}; using the terminal view.[/yellow]"
        )
        return None, console, options
    try:
        log_console, path = file_console()
    except OSError as exc:
        tray.stop()
        raise ConfigError(f"cannot write the log in {exc.filename}: {exc.strerror}") from None
    log.append(log_console)
    console.print(f"[dim]coach runs in the tray; its log is {literal(path)}.[/dim]")
    # A calibration saved from the tray is the neutral the next start uses.
    default = profile_path("default", profiles_dir())
    if options.profile is None and options.calibrate_s is None and default.exists():
        options = dataclasses.replace(options, profile="default")
    return tray, log_console, options
