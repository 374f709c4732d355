"""Provides the log of a coach with no terminal (`coach start`): a rotated file in the user log folder."""

from __future__ import annotations

import io
import logging
import logging.handlers
from pathlib import Path

from rich.console import Console

LOG_NAME = "coach.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3


def log_dir() -> Path:
    """The user log folder (platformdirs: ~/.local/state/coach/log on Linux)."""
    import platformdirs

    return platformdirs.user_log_path("coach", appauthor=False)


class _PrivateRotatingHandler(logging.handlers.RotatingFileHandler):
    """Opens the log 0600 whatever the umask, also the fresh file after each rotation."""

    def _open(self) -> io.TextIOWrapper:
        from coach.safe.private_files import create_private_file

        create_private_file(Path(self.baseFilename), tighten_existing=True)  # our folder
        return super()._open()


class _LogStream:
    """A text stream for rich that writes each line to a rotating log file, time-stamped."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            if line.strip():
                self._logger.info(line.rstrip())
        return len(text)

    def flush(self) -> None:
        """Each line is written as it completes."""


def file_console(folder: Path | None = None) -> tuple[Console, Path]:
    """A console that writes to LOG_NAME in `folder` (default: the user log folder), rotated."""
    from coach.safe.private_files import private_dir

    folder = log_dir() if folder is None else folder
    private_dir(folder)
    path = folder / LOG_NAME
    handler = _PrivateRotatingHandler(
        path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger(f"coach.app.{path}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.handlers[:] = [handler]
    stream = _LogStream(logger)
    console = Console(file=stream, width=120, no_color=True, highlight=False)  # type: ignore[arg-type]
    return console, path
