"""Provides the live clock: seconds that keep counting through a suspend (CLOCK_BOOTTIME)."""

from __future__ import annotations

import time


def stream_clock() -> float:
    """Seconds on a clock that runs on while the machine sleeps, so a live stream's time
    stays in step with the wall clock after a suspend (`time.monotonic` stops during one on
    Linux); monotonic where there is no such clock."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is None:
        return time.monotonic()
    return time.clock_gettime(boottime)
