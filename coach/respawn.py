"""Provides the watchdog that starts the tray coach again after it was killed or crashed.

`coach start --respawn` (what start at login and the app menu run) starts this small process
beside itself, joined by a pipe. A coach that stops in any way it knows of (Quit, a signal,
an error it reported) says goodbye on the pipe first; one that is killed outright (`kill -9`,
the kernel's out-of-memory killer, a crash in native code) cannot, so the pipe just closes,
and the watchdog starts the same command again. Five such stops within ten minutes end it:
the watchdog says so in the coach's log and a notification, and starts nothing. It waits on
the standard library alone, so it costs a bare interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

CRASHES_ENV = "COACH_CRASHES"
"""When the coach stopped unexpectedly lately (Unix times, comma-separated), handed to the
coach started again and by it to its own watchdog."""
WINDOW_S = 600.0
MAX_CRASHES = 5
"""This many unexpected stops within `WINDOW_S` and the coach is not started again."""
GOODBYE = b"goodbye\n"
DELAY_S = 1.0
"""Before starting again: the old process's camera and lock are released as it dies, and a
crash loop does not spin."""


def recent_crashes(text: str, now: float) -> list[float]:
    """The stops listed in `text` that lie within the window before `now` (junk ignored)."""
    times = []
    for part in text.split(","):
        try:
            t = float(part)
        except ValueError:
            continue
        if now - WINDOW_S <= t <= now:
            times.append(t)
    return times


class Watchdog:
    """The coach's end of the pipe to its watchdog."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process

    @property
    def pid(self) -> int:
        """The watchdog's process id."""
        return self._process.pid

    @classmethod
    def arm(cls, command: Sequence[str], log: Path | None) -> Watchdog:
        """Start the watchdog for `command` (the coach as it was started), logging to `log`
        (the coach's app log)."""
        argv = [sys.executable, "-m", "coach.respawn"]
        if log is not None:
            argv += ["--log", str(log)]
        process = subprocess.Popen(
            [*argv, "--", *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C or a closed terminal is the coach's alone
        )
        return cls(process)

    def disarm(self) -> None:
        """The coach stops on purpose: the watchdog ends without starting anything."""
        stdin = self._process.stdin
        if stdin is None or stdin.closed:
            return
        try:
            stdin.write(GOODBYE)
            stdin.close()
        except OSError:  # the watchdog is gone already: nothing to tell
            pass


def _log_warning(log: Path | None, message: str) -> None:
    """A line in the coach's app log (rotated and private as the coach keeps it), loaded only
    now: the wait is over."""
    if log is None:
        return
    from coach.desktop.app_log import open_app_log

    try:
        open_app_log(log.parent)
    except OSError:
        return  # no log to write to: the coach's absence is all there is
    logging.getLogger("coach.respawn").warning(message)


def _notify(message: str, log: Path | None) -> None:
    """The tray icon just vanished for good: a desktop notification says why, as a coach
    stopped by an error does (the coach's own notifier, loaded only now)."""
    with contextlib.suppress(Exception):  # the log says it already
        from coach.commands.fatal import notify_stopped

        notify_stopped(message, log).close()


def _wait_for_goodbye(pipe: IO[bytes]) -> bool:
    """Read the pipe to its end (the coach's exit or death): whether it said goodbye."""
    said = b""
    while chunk := pipe.read(64):
        said = (said + chunk)[-len(GOODBYE) :]
    return said == GOODBYE


def main(argv: Sequence[str] | None = None, stdin: IO[bytes] | None = None) -> int:
    """`python -m coach.respawn [--log FILE] -- COMMAND...`: wait, then start COMMAND again
    unless the coach said goodbye or stopped too often lately."""
    parser = argparse.ArgumentParser(prog="python -m coach.respawn")
    parser.add_argument("--log", type=Path, default=None, help="the coach's app log file")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to start again")
    if _wait_for_goodbye(stdin if stdin is not None else sys.stdin.buffer):
        return 0
    now = time.time()
    crashes = [*recent_crashes(os.environ.get(CRASHES_ENV, ""), now), now]
    if len(crashes) >= MAX_CRASHES:
        why = (
            f"stopped unexpectedly {len(crashes)} times in {WINDOW_S / 60:g} minutes and is "
            "not started again (start it from the menu or with `coach start`)"
        )
        _log_warning(args.log, f"coach {why}")
        _notify(f"it {why}", args.log)
        return 1
    _log_warning(args.log, "coach stopped unexpectedly (killed or crashed); starting it again")
    time.sleep(DELAY_S)
    env = {**os.environ, CRASHES_ENV: ",".join(f"{t:.3f}" for t in crashes)}
    # Spawned, not waited for: the coach outlives this process, which ends now.
    quiet = [
        (os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY, 0)
        for fd in (0, 1, 2)
    ]
    try:
        os.posix_spawnp(command[0], command, env, file_actions=quiet, setsid=True)
    except NotImplementedError:  # no POSIX_SPAWN_SETSID (older macOS): in this session, then
        os.posix_spawnp(command[0], command, env, file_actions=quiet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
