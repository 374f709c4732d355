"""Provides the graceful stop: SIGTERM and SIGHUP end a run the way Ctrl-C does.

Logout, shutdown and `kill` send SIGTERM or SIGHUP, whose default action kills the
process on the spot: the session would be left open and the last seconds lost. Within
`stop_on_signals()` they raise `StopRequested` (a KeyboardInterrupt) in the main thread
instead, so the commands' Ctrl-C path runs: the loop stops, every sink closes, the
session ends cleanly and the history is committed.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

# SIGHUP does not exist on Windows.
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class StopRequested(KeyboardInterrupt):
    """SIGTERM or SIGHUP asked the coach to stop (handled exactly like Ctrl-C)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into `StopRequested` while the block runs.

    Only the first signal raises: a repeat (a second `kill`, or SIGHUP then SIGTERM at
    logout) is ignored, so it cannot cut short the clean-up the first one started. The
    previous handlers are back on leaving. Outside the main thread nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = False

    def handle(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise StopRequested(signum)

    previous = {signum: signal.signal(signum, handle) for signum in _SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
