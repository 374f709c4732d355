"""Provides user controls: keys from the terminal or the preview window become coach commands."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable

from coach.records import Command, Hold

KEYMAP: dict[str, Command] = {
    "d": Command.DONE,
    "s": Command.SNOOZE,
    "k": Command.SKIP,
    "p": Command.PAUSE,
    "r": Command.RESUME,
    "q": Command.QUIT,
    "c": Command.START_CAT_COW,
    "l": Command.START_LATERAL_FLEXION,
    "f": Command.SITTING_FINE,
}


class Controls:
    """A thread-safe queue of commands for the loop.

    The pause itself is the prompt policy's, on stream time (`Snapshot.paused_until_s`):
    a PAUSE asked here only carries how long it should last.
    """

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s
        self.pause_for_s = pause_s
        """How long the last PAUSE asked should last (default `pause_s`)."""
        self._lock = threading.Lock()
        self._pending: list[Command] = []
        self._holds: set[Hold] = set()
        self._on_hold: Callable[[], bool] | None = None
        self.quit = False

    def push(self, command: Command, for_s: float | None = None) -> None:
        """Queue a command; `for_s` is how long a PAUSE lasts (default: the configured pause)."""
        with self._lock:
            if command is Command.QUIT:
                self.quit = True
                return
            if command is Command.PAUSE:
                self.pause_for_s = self.pause_s if for_s is None else for_s
            self._pending.append(command)

    def hold(self, hold: Hold, on: bool) -> bool:
        """The desktop holds the coach (screen locked, going to sleep) or lets it go (any
        thread). Returns once the camera is released, at most about a second (True: it is)."""
        with self._lock:
            if on:
                self._holds.add(hold)
            else:
                self._holds.discard(hold)
            listener = self._on_hold
        return True if listener is None else listener()

    def holding(self) -> Hold | None:
        """What holds the coach now (asleep before locked), or None."""
        with self._lock:
            if Hold.ASLEEP in self._holds:
                return Hold.ASLEEP
            return Hold.LOCKED if Hold.LOCKED in self._holds else None

    def on_hold(self, listener: Callable[[], bool] | None) -> None:
        """Who lets go of the camera when a hold changes (the camera keeper)."""
        with self._lock:
            self._on_hold = listener

    def key(self, char: str) -> None:
        """Handle one key press."""
        command = KEYMAP.get(char.lower())
        if command is not None:
            self.push(command)

    def has_pending(self) -> bool:
        """Whether a command or quit waits for the loop (it then looks at the next frame)."""
        with self._lock:
            return bool(self._pending) or self.quit

    def resuming(self) -> bool:
        """Whether a RESUME waits for the loop (a paused camera opens again for it)."""
        with self._lock:
            return Command.RESUME in self._pending

    def take(self, command: Command) -> bool:
        """Take a waiting `command` out of the queue (a reload while no frames come: the
        camera keeper applies it); whether one waited."""
        with self._lock:
            found = command in self._pending
            self._pending = [c for c in self._pending if c is not command]
            return found

    def drain(self) -> list[Command]:
        """Take the queued commands (the loop gives them to the analyzer)."""
        with self._lock:
            out, self._pending = self._pending, []
            return out


class TerminalKeys:
    """Reads single key presses from the terminal on a thread (only when stdin is a TTY)."""

    def __init__(self, controls: Controls) -> None:
        self._controls = controls
        self._saved: object | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Put the terminal in cbreak mode and start reading; does nothing without a TTY."""
        if not sys.stdin.isatty() or os.name != "posix":
            return
        import termios
        import tty

        fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        self._thread = threading.Thread(target=self._read, name="coach-keys", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([sys.stdin], [], [], 0.2)
            if ready:
                char = sys.stdin.read(1)
                if char:
                    self._controls.key(char)

    def stop(self) -> None:
        """Restore the terminal."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self._saved is not None:
            import termios

            with contextlib.suppress(termios.error):
                termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved)  # type: ignore[arg-type]
