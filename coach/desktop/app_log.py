"""Provides the app log: a rotated, private file that every lifecycle event and decision goes to."""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import logging.handlers
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from rich.console import Console

LOG_NAME: Final = "coach.log"
LOG_MAX_BYTES: Final = 1_000_000
LOG_BACKUPS: Final = 3
LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOGGER: Final = "coach"
"""The logger whose hierarchy (`coach.*`) the file records."""
LEVEL_VARIABLE: Final = "COACH_LOG_LEVEL"
"""Set to DEBUG (or WARNING, ERROR) to record more (or less) than INFO."""
_LOG_FILE_MODE: Final = 0o600
# The libraries whose event loops and threads the coach runs (tray, notifications): their
# own errors (an exception in a menu click's handler) land in these loggers, not ours.
_BACKGROUND_LOGGERS: Final = ("asyncio", "dbus_fast", "desktop_notifier")


def log_dir() -> Path:
    """The user log folder (platformdirs: ~/.local/state/coach/log on Linux)."""
    import platformdirs

    return platformdirs.user_log_path("coach", appauthor=False)


def _open_append(path: str, encoding: str | None, errors: str | None) -> io.TextIOWrapper:
    """Open the log for appending; a file this creates is 0600 whatever the umask, and an
    existing one keeps the mode it has (it is not ours to change)."""
    cloexec = getattr(os, "O_CLOEXEC", 0)
    for _attempt in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | cloexec, 0o600)
        except FileExistsError:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | cloexec)
            except FileNotFoundError:
                continue  # removed in between (another coach rotated it): create it
            return os.fdopen(fd, "a", encoding=encoding, errors=errors)
        if os.name == "posix":
            os.fchmod(fd, _LOG_FILE_MODE)  # the umask can only have taken bits off
        return os.fdopen(fd, "a", encoding=encoding, errors=errors)
    # Only a dangling symlink in the log's place gets here: say so, do not follow it.
    raise FileNotFoundError(errno.ENOENT, "the log's path points nowhere", path)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files are created 0600: rotation renames them, so every
    rotated file keeps it. A log that cannot be written is said once on stderr, never raised."""

    def __init__(self, path: Path) -> None:
        self._failed = False
        super().__init__(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        return _open_append(self.baseFilename, self.encoding, self.errors)

    def handleError(self, record: logging.LogRecord) -> None:
        """One line on stderr the first time (a full disk must not flood it or stop the coach)."""
        if self._failed:
            return
        self._failed = True
        problem = sys.exc_info()[1]
        with contextlib.suppress(Exception):
            sys.stderr.write(
                f"coach: warning: the log {self.baseFilename} cannot be written ({problem})\n"
            )


def _installed(logger: logging.Logger) -> PrivateRotatingFileHandler | None:
    return next((h for h in logger.handlers if isinstance(h, PrivateRotatingFileHandler)), None)


def _level() -> int:
    name = os.environ.get(LEVEL_VARIABLE, "").strip().upper()
    level = logging.getLevelName(name) if name else logging.INFO
    return level if isinstance(level, int) else logging.INFO


def keep_off_stderr() -> None:
    """Until (or unless) the log opens, the `coach` loggers write nowhere: never Python's
    last-resort lines on stderr, which would repeat the CLI's own one-line error."""
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def current_log() -> Path | None:
    """The file the app log writes to, once `open_app_log` has opened it."""
    handler = _installed(logging.getLogger(LOGGER))
    return None if handler is None else Path(handler.baseFilename)


def open_app_log(folder: Path | None = None) -> Path:
    """Send the `coach` loggers to LOG_NAME in `folder` (default: the user log folder),
    rotated at LOG_MAX_BYTES with LOG_BACKUPS old files; returns its path. Idempotent.

    The folder is created 0700, the files 0600; the level is INFO (or COACH_LOG_LEVEL).

    Raises:
        OSError: the folder or the file cannot be created or opened.
    """
    from coach.safe.private_files import private_dir

    path = (log_dir() if folder is None else folder) / LOG_NAME
    logger = logging.getLogger(LOGGER)
    logger.setLevel(_level())
    current = _installed(logger)
    if current is not None and current.baseFilename == os.path.abspath(path):
        return path
    private_dir(path.parent)
    handler = PrivateRotatingFileHandler(path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    for name in (LOGGER, *_BACKGROUND_LOGGERS):
        other = logging.getLogger(name)
        old = _installed(other)
        if old is not None:
            other.removeHandler(old)
        other.addHandler(handler)
    if current is not None:
        current.close()
    return path


def close_app_log() -> None:
    """Stop writing the app log (the `coach` loggers write nowhere until it is opened again)."""
    handler = _installed(logging.getLogger(LOGGER))
    if handler is None:
        return
    for name in (LOGGER, *_BACKGROUND_LOGGERS):
        logging.getLogger(name).removeHandler(handler)
    handler.close()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def log_unexpected(exc: BaseException, where: str = "") -> str:
    """Log an unexpected exception with its traceback (opening the log if need be); returns
    the one line for stderr, which says where the details are. Never raises."""
    logger = logging.getLogger(f"{LOGGER}.crash")
    try:
        details = f"details in {current_log() or open_app_log()}"
    except OSError as problem:
        details = f"the log cannot be written ({problem.strerror or problem})"
    with contextlib.suppress(Exception):
        logger.error("unexpected error%s: %s", where, _one_line(exc), exc_info=exc)
    return f"coach: unexpected error{where}: {_one_line(exc)}; {details}"


@contextlib.contextmanager
def logged_thread_exceptions() -> Iterator[None]:
    """While the block runs, an exception that ends a background thread is logged with its
    traceback and said in one line on stderr (instead of Python's traceback)."""
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = "" if args.thread is None else f" in thread {args.thread.name}"
        line = log_unexpected(args.exc_value, name)
        with contextlib.suppress(Exception):
            sys.stderr.write(line + "\n")

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def show_log(path: Path) -> None:
    """Open the log in the desktop's viewer for text files (xdg-open), without waiting."""
    logger = logging.getLogger(f"{LOGGER}.desktop")
    if sys.platform == "win32":
        os.startfile(path)
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    try:
        child = subprocess.Popen(
            [opener, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        logger.warning("cannot open the log with %s: %s", opener, exc.strerror or exc)
        return
    threading.Thread(target=child.wait, name="coach-show-log", daemon=True).start()


class _LogStream:
    """A text stream for rich that writes each complete line to a logger at INFO."""

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
    """A console whose lines go to the app log (INFO, logger "coach.console"), and its path.

    Raises:
        OSError: the log cannot be opened.
    """
    path = open_app_log(folder)
    stream = _LogStream(logging.getLogger(f"{LOGGER}.console"))
    console = Console(file=stream, width=120, no_color=True, highlight=False)  # type: ignore[arg-type]
    return console, path
