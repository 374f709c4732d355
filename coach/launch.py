"""Provides the `coach` entry point: Ctrl-C while the modules still load stops cleanly too."""

from __future__ import annotations

import sys

STOPPED_BY_CTRL_C = 130
"""128 + SIGINT: what a shell reports for a command Ctrl-C stopped."""


def main() -> int:
    """Load the command line and run it; Ctrl-C before it could take over is "Stopped."."""
    try:
        from coach.cli import main as run  # rich, NumPy...: most of a second on a slow disk

        return run()
    except KeyboardInterrupt:  # nothing was opened or written yet
        print("Stopped.", file=sys.stderr)
        return STOPPED_BY_CTRL_C
