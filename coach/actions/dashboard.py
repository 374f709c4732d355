"""Provides the rich terminal dashboard: a pure render function and the Live that shows it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from coach.pipeline import LoopStats
from coach.records import Frame, Snapshot, Tracking

_STATE_STYLE = {
    "away": "dim",
    "unknown": "yellow",
    "present": "green",
    "upright": "green",
    "slouched": "bold red",
}

_TRACKING_TEXT = {
    Tracking.OK: "tracking the user",
    Tracking.NO_PERSON: "nobody in view",
    Tracking.LOW_VISIBILITY: "head or shoulders not clearly visible",
}


@dataclass(frozen=True)
class DashboardView:
    """What the dashboard shows; built from a snapshot and the loop's counters."""

    source: str
    t_s: float
    state: str
    tracking: Tracking
    people: int
    view: str | None
    analysed_fps: float
    pose_ms: float


def render(view: DashboardView) -> RenderableType:
    """Build the dashboard (pure: same input, same output)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    minutes, seconds = divmod(int(view.t_s), 60)
    table.add_row("Source", view.source)
    table.add_row("Time", f"{minutes:d}:{seconds:02d}")
    table.add_row("State", Text(view.state, style=_STATE_STYLE.get(view.state, "")))
    people = f" ({view.people} people in view)" if view.people > 1 else ""
    table.add_row("Pose", _TRACKING_TEXT[view.tracking] + people)
    table.add_row("Camera view", view.view or "-")
    table.add_row("Analysis", f"{view.analysed_fps:.1f} frames/s, pose {view.pose_ms:.0f} ms/frame")
    footer = Text("Ctrl+C to stop", style="dim")
    return Panel(Group(table, footer), title="coach", border_style="cyan", expand=False)


def view_of(snapshot: Snapshot, stats: LoopStats, source: str) -> DashboardView:
    """Project a snapshot and the loop counters onto what the dashboard shows."""
    analysed = max(stats.frames_analysed, 1)
    span_s = max(stats.wall_s or 0.0, 1e-6)
    return DashboardView(
        source=source,
        t_s=snapshot.t_s - (stats.first_t_s or 0.0),
        state=snapshot.state,
        tracking=snapshot.sample.tracking,
        people=snapshot.sample.people,
        view=snapshot.view,
        analysed_fps=stats.frames_analysed / span_s,
        pose_ms=1000.0 * stats.pose_s / analysed,
    )


class Dashboard:
    """Shows the dashboard live in the terminal, refreshed a few times a second."""

    def __init__(self, console: Console, source: str, stats: LoopStats, refresh_hz: float = 4.0):
        self._console = console
        self._source = source
        self._stats = stats
        self._period_s = 1.0 / refresh_hz
        self._last_draw = 0.0
        self._started = time.perf_counter()
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._live.start()

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Redraw when the refresh period has passed."""
        now = time.perf_counter()
        if now - self._last_draw < self._period_s:
            return
        self._last_draw = now
        self._stats.wall_s = now - self._started
        self._live.update(render(view_of(snapshot, self._stats, self._source)), refresh=True)

    def close(self) -> None:
        """Leave the last view on screen."""
        self._live.stop()
