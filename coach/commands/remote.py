"""Provides `coach pause`, `resume` and `status`, and what a running coach lets them ask of it."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import threading
from collections.abc import Callable

from rich.console import Console

from coach.actions.controls import Controls
from coach.desktop.instance import MAX_PAUSE_MIN, NOT_RUNNING, InstanceLock, RemoteClient
from coach.errors import AlreadyRunning, NotRunning
from coach.records import Command, Condition, Frame, LiveStatus, Snapshot
from coach.session_options import Opened, SessionOptions

BAD_INPUT = 2
"""The exit status for a MINUTES that is not a number of minutes (1: no coach runs)."""


class LiveTarget:
    """The running coach as another process sees it: pause and resume go on the command queue."""

    def __init__(self, controls: Controls, status: Callable[[], dict[str, object]]) -> None:
        self._controls = controls
        self._status = status

    def pause(self, for_s: float | None) -> None:
        """Queue a pause (None: the configured one); the loop releases the camera."""
        self._controls.push(Command.PAUSE, for_s)

    def resume(self) -> None:
        """Queue a resume; a released camera opens again."""
        self._controls.push(Command.RESUME)

    def reload(self) -> None:
        """Queue a reload of the settings (`coach config set` changed the file)."""
        self._controls.push(Command.RELOAD_CONFIG)

    def status(self) -> dict[str, object]:
        """How the coach is now."""
        return self._status()


class RemoteStatus:
    """Sink keeping what `coach status` says about this coach; read from the control thread."""

    def __init__(self, source: str, pause_s: float) -> None:
        self._lock = threading.Lock()
        self._opened: Opened | None = None
        started = dt.datetime.now().astimezone()
        self._fields: dict[str, object] = {
            "pid": os.getpid(),
            "since": started.isoformat(timespec="seconds"),
            "source": source,
            "state": "starting",
            "condition": Condition.COACHING.value,
            "detail": None,
            "paused": False,
            "paused_until": None,
            "pause_default_min": pause_s / 60.0,
        }

    def opened(self, opened: Opened) -> RemoteStatus:
        """The source is open: its label, and its clock for the pause's end."""
        with self._lock:
            self._opened = opened
            self._fields["source"] = opened.label
        return self

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Keep the state and the pause of the latest snapshot."""
        until: str | None = None
        opened = self._opened
        if snapshot.paused_until_s is not None and opened is not None and opened.paced:
            wall = opened.started_at + dt.timedelta(seconds=snapshot.paused_until_s)
            until = wall.astimezone().isoformat(timespec="seconds")
        with self._lock:
            self._fields["state"] = snapshot.state.value
            self._fields["paused"] = snapshot.paused_until_s is not None
            self._fields["paused_until"] = until

    def live(self, status: LiveStatus) -> None:
        """The coach waits (no camera, locked, asleep, paused) or coaches again."""
        with self._lock:
            self._fields["condition"] = status.condition.value
            coaching = status.condition is Condition.COACHING
            self._fields["detail"] = None if coaching else status.detail

    def close(self) -> None:
        """The loop has ended; the coach is closing."""
        with self._lock:
            self._fields["state"] = "stopping"

    def report(self) -> dict[str, object]:
        """A copy of the fields, safe to hand to another thread."""
        with self._lock:
            return dict(self._fields)


def claim(
    options: SessionOptions, target: LiveTarget, console: Console, *, tray: bool
) -> InstanceLock | None:
    """This user's one coach, for the tray or a live source (a file replay claims nothing).

    Raises:
        AlreadyRunning: another coach holds it.
    """
    from coach.source import SourceKind, parse_source

    if not tray and parse_source(options.source).kind not in (SourceKind.CAMERA, SourceKind.STREAM):
        return None
    lock = InstanceLock(target)
    other = lock.start()
    if other is not None:
        raise AlreadyRunning(other.describe())
    for note in lock.notes:
        console.print(f"[dim]{note}.[/dim]", highlight=False)
    return lock


def _running() -> RemoteClient:
    from coach.desktop.instance import find_running

    client = find_running()
    if client is None:
        raise NotRunning(NOT_RUNNING)
    return client


def parse_minutes(text: str) -> float | None:
    """MINUTES as a number of minutes; None when it is not one above 0 and up to a day."""
    try:
        minutes = float(text)
    except ValueError:
        return None
    return minutes if math.isfinite(minutes) and 0 < minutes <= MAX_PAUSE_MIN else None


def cmd_pause(args: argparse.Namespace, console: Console) -> int:
    """Pause the running coach for MINUTES (default: its configured pause)."""
    from coach.commands.common import print_error

    minutes = None
    if args.minutes is not None:
        minutes = parse_minutes(args.minutes)
        if minutes is None:
            print_error(
                console,
                f"MINUTES must be a number above 0 and up to {MAX_PAUSE_MIN:g}, not {args.minutes!r}",
            )
            return BAD_INPUT
    client = _running()
    client.pause(minutes)
    if minutes is None:  # the running coach's own [prompts] pause_s
        found = client.status().get("pause_default_min")
        minutes = float(found) if isinstance(found, int | float) else None
    how_long = "its configured pause" if minutes is None else f"{minutes:g} min"
    print(f"Paused the running coach for {how_long} (camera released).")
    return 0


def cmd_resume(args: argparse.Namespace, console: Console) -> int:
    """End the running coach's pause."""
    _running().resume()
    print("Resumed the running coach.")
    return 0


def cmd_status(args: argparse.Namespace, console: Console) -> int:
    """Say how the running coach is: one line, or its JSON."""
    status = _running().status()
    print(json.dumps(status) if args.json else describe(status))
    return 0


def describe(status: dict[str, object]) -> str:
    """One line: "coach is running since 09:12 (pid 4242): upright"."""
    since = _local_clock(status.get("since"))
    pid = status.get("pid")
    head = "coach is running" + (f" since {since}" if since else "")
    head += f" (pid {pid})" if isinstance(pid, int) else ""
    detail = status.get("detail")
    if isinstance(detail, str) and detail and not status.get("paused"):
        return f"{head}: waiting ({detail})"
    if status.get("paused"):
        until = _local_clock(status.get("paused_until"))
        return f"{head}: paused{f' until {until}' if until else ''} (camera released)"
    return f"{head}: {status.get('state', 'unknown')}"


def _local_clock(value: object) -> str | None:
    """An ISO time as the local HH:MM (with the date when it is not today)."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value).astimezone()
    except ValueError:
        return None
    if when.date() == dt.datetime.now().astimezone().date():
        return when.strftime("%H:%M")
    return when.strftime("%Y-%m-%d %H:%M")
