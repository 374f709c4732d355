"""Provides what a tray coach does when an error ends its session: it notifies and waits, icon up."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from coach.actions.controls import Controls
from coach.errors import CoachError, one_line

if TYPE_CHECKING:
    from coach.actions.notify import Notifier
    from coach.actions.tray import Tray

STOPPED_TITLE = "coach stopped"
EX_SOFTWARE = 70
"""The exit status after an unexpected error (a bug), as sysexits.h has it."""


class Choice(Enum):
    """What the user chose in the error state."""

    RETRY = "retry"
    QUIT = "quit"


def error_line(exc: Exception) -> str:
    """The one line that says what ended the session (a bug says so, with its type)."""
    if isinstance(exc, CoachError):
        return one_line(exc)
    text = " ".join(str(exc).split())
    return f"unexpected error: {type(exc).__name__}" + (f": {text}" if text else "")


def log_error(exc: Exception) -> None:
    """An error the user can fix at ERROR; anything else with its traceback."""
    logger = logging.getLogger("coach.session")
    if isinstance(exc, CoachError):
        logger.error("session stopped by an error: %s", one_line(exc))
    else:
        logger.error("session stopped by an %s", error_line(exc), exc_info=exc)


def _notifier() -> Notifier:
    from coach.actions.notify import (
        DesktopNotifier,
        NullNotifier,
        notification_service_available,
    )

    if notification_service_available():
        with contextlib.suppress(Exception):  # the log and the icon still say it
            return DesktopNotifier()
    return NullNotifier()


def notify_stopped(message: str, log_path: Path | None) -> Notifier:
    """Send "coach stopped: <message>; see the log" (with a button to open it); the
    notifier is returned to be closed when its button is no longer wanted."""
    from coach.actions.notify import NotifyButton
    from coach.desktop.app_log import show_log

    notifier = _notifier()
    buttons = (
        () if log_path is None else (NotifyButton("Open the log", lambda: show_log(log_path)),)
    )
    notifier.notify(STOPPED_TITLE, f"{message}; see the log", buttons)
    return notifier


def wait_after_error(
    tray: Tray, controls: Controls, message: str, log_path: Path | None, poll_s: float = 0.2
) -> Choice:
    """Notify, show the tray's ERROR state with `message`, and wait for Try again or Quit.

    SIGTERM or SIGHUP (`StopRequested`) and Ctrl-C end the wait as they end a session.
    """
    from coach.actions.tray import ErrorMenu
    from coach.actions.tray_icons import TrayState
    from coach.desktop.app_log import show_log

    retry = threading.Event()

    def open_log() -> None:
        if log_path is not None:
            show_log(log_path)

    notifier = notify_stopped(message, log_path)
    try:
        tray.show_error(ErrorMenu(message, retry.set, open_log))
        while not retry.is_set() and not controls.quit:
            time.sleep(poll_s)
    finally:
        notifier.close()
    if controls.quit:
        return Choice.QUIT
    logging.getLogger("coach.session").info("trying again (asked from the tray)")
    controls.drain()  # what was clicked before the error is stale
    tray.show(TrayState.STARTING)
    return Choice.RETRY
