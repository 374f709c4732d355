"""Provides "open today's report" for the tray: `coach report` in a child process, then a browser."""

from __future__ import annotations

import subprocess
import sys
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path


def report_folder() -> Path:
    """Where the tray writes today's report (the user cache folder: it is rebuilt each time)."""
    import platformdirs

    return platformdirs.user_cache_path("coach", appauthor=False) / "today"


def report_command(db: Path | None, out: Path) -> list[str]:
    """`coach report` for today into the coach's own folder, replacing the last one (--force:
    the folder holds nothing of the user's)."""
    command = [sys.executable, "-m", "coach", "report", "--days", "1", "--out", str(out), "--force"]
    return command if db is None else [*command, "--db", str(db)]


def open_todays_report(db: Path | None, say: Callable[[str], None]) -> None:
    """Write today's report and open it in the browser, on a thread of its own.

    A child process builds it, so the charts' libraries never load into the long-running
    coach; the history it reads is what the session has written so far.
    """

    def build_and_open() -> None:
        out = report_folder()
        page = out / "report.html"
        page.unlink(missing_ok=True)  # never show an old day's report
        done = subprocess.run(report_command(db, out), capture_output=True, text=True, check=False)
        if done.returncode != 0 or not page.exists():
            say(f"Today's report could not be written: {done.stderr.strip() or 'no history yet'}")
            return
        say(f"Opening today's report: {page}")
        if not webbrowser.open(page.as_uri()):
            say("No web browser could be started to show it.")

    threading.Thread(target=build_and_open, name="coach-report", daemon=True).start()
