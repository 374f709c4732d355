"""Provides what the session commands share: the history sink, the preview, error lines."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from coach.config import Config
from coach.errors import DisplayUnavailable, one_line
from coach.pipeline import Sink
from coach.safe.printable import one_printable_line
from coach.session_options import Opened
from coach.stopping import StopRequested

if TYPE_CHECKING:
    from coach.history.session_log import SessionLog


def print_error(console: Console, message: str) -> None:
    """The one error line: plain text, so a "[section]" or a path with brackets is not markup,
    and printable, so a file name's control characters are shown, never acted on."""
    console.print(
        f"[bold red]coach: error:[/bold red] {escape(one_printable_line(message))}",
        highlight=False,
        soft_wrap=True,
    )


def profiles_dir() -> Path:
    """Where calibration profiles live (the user's data directory)."""
    import platformdirs

    return platformdirs.user_data_path("coach", appauthor=False) / "profiles"


def by_signal(stop: KeyboardInterrupt) -> str:
    """Which signal stopped the command (" by SIGTERM"); empty for Ctrl-C."""
    return f" by {stop}" if isinstance(stop, StopRequested) else ""


def inputs(args: argparse.Namespace) -> list[str | Path]:
    """The files a command reads (its source, model and config): no output may replace them."""
    return [p for p in (args.source, args.model, args.config) if p is not None]


def preview_sinks(
    config: Config,
    console: Console,
    *,
    hidden: bool,
    skeleton_only: bool = False,
    on_key: Callable[[str], None] | None = None,
) -> list[Sink]:
    """The preview window, unless hidden or there is no display to open it on."""
    if not config.preview.show_window or hidden:
        return []
    from coach.actions.preview import PreviewWindow, display_available

    if not display_available():
        console.print("[dim]No display found; running without the preview window.[/dim]")
        return []
    try:
        window = PreviewWindow(
            skeleton_only=skeleton_only or config.preview.skeleton_only,
            thresholds=(
                config.slouch.forward_head_enter * config.slouch.threshold_scale,
                config.slouch.rounding_enter * config.slouch.threshold_scale,
            ),
            message_s=config.nudge.show_s,
            on_key=on_key,
        )
    except DisplayUnavailable as exc:  # the coaching goes on without the window
        console.print(f"[dim]No preview window: {escape(one_line(exc))}.[/dim]")
        return []
    return [window]


class History:
    """The session log for `coach run`: a recorder sink, a live status, one line on failure."""

    def __init__(self, console: Console, db: Path | None, enabled: bool = True) -> None:
        self._console = console
        self._db = db
        self._log: SessionLog | None = None
        self._saved: bool | None = None
        self.enabled = enabled

    def sinks(self, opened: Opened) -> list[Sink]:
        """The recorder; a file read faster than real time is logged as a replay."""
        from coach.actions.session_recorder import SessionRecorder
        from coach.history.session_log import SessionLog

        if not self.enabled:
            return []
        # keep_trying: a history that cannot be written must not stop the coaching; the
        # dashboard shows why, and the records wait in memory for the disk.
        self._log = SessionLog(self._db, keep_trying=True)
        if opened.live:
            # A live stream's time starts when the source opened: its first snapshot's wall
            # time is the session's one anchor plus its stream time (read as it arrives).
            def first_wall_s() -> float:
                return opened.wall_s(opened.stats.last_t_s)

            return [SessionRecorder(self._log, opened.label, None, clock=first_wall_s)]
        if opened.paced:  # a file at its own speed runs with the clock from its first frame
            return [SessionRecorder(self._log, opened.label, None)]
        return [SessionRecorder(self._log, opened.label, opened.started_at, replay=True)]

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


def with_overrides(config: Config, args: argparse.Namespace) -> Config:
    """Apply the options that override settings (checked by `check_arguments`): the top
    layer, over the defaults, the user's settings file and a --config file."""
    still_minutes = getattr(args, "still_minutes", None)
    if still_minutes is not None:
        config = dataclasses.replace(
            config,
            stationary=dataclasses.replace(config.stationary, still_minutes=still_minutes),
        )
    give_up_s = getattr(args, "give_up_after", None)
    if give_up_s is not None:
        config = dataclasses.replace(
            config, source=dataclasses.replace(config.source, give_up_s=give_up_s)
        )
    return config
