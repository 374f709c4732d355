"""Provides user controls: keys from the terminal or the preview window become coach commands."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

from coach.records import Command

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

    def drain(self) -> list[Command]:
        """Take the queued commands (the loop gives them to the analyzer)."""
        with self._lock:
            out, self._pending = self._pending, []
            return out


class Suspendable(Protocol):
    """A live source that can let go of the camera and take it back."""

    def suspend(self) -> None:
        """Release the device."""

    def resume(self) -> None:
        """Open the device again."""


T = TypeVar("T")


def pausable(
    frames: Iterable[T],
    source: Suspendable,
    paused_for_s: Callable[[], float],
    stopped: Callable[[], bool],
    on_pause: Callable[[float], None] = lambda _s: None,
    poll_s: float = 0.5,
) -> Iterator[T]:
    """Yield frames; while `paused_for_s()` is above 0, release the camera (meeting mode)
    and wait, then take it back."""
    iterator = iter(frames)
    while not stopped():
        left_s = paused_for_s()
        if left_s > 0:
            source.suspend()
            while (left_s := paused_for_s()) > 0 and not stopped():
                on_pause(left_s)
                time.sleep(min(poll_s, left_s))
            if stopped():
                return
            source.resume()
            iterator = iter(frames)
        item = next(iterator, None)
        if item is None:
            return
        yield item


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
