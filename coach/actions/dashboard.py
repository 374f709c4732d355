"""Provides the rich terminal dashboard: a pure render function and the Live that shows it."""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from coach.actions.recent import RecentNudge
from coach.config import SlouchConfig
from coach.movements import MovementLibrary
from coach.pipeline import LoopStats
from coach.records import Condition, Frame, LiveStatus, PostureState, Snapshot, Tracking

KEY_HELP = (
    "d done · s snooze · k skip · p pause (meeting) · r resume · "
    "c cat-cow set · l side-bend set · Ctrl+C stop"
)

STATE_STYLE: dict[PostureState, str] = {
    PostureState.AWAY: "dim",
    PostureState.UNKNOWN: "yellow",
    PostureState.UPRIGHT: "bold green",
    PostureState.SLOUCHED: "bold red",
}

_TRACKING_TEXT = {
    Tracking.OK: "tracking you",
    Tracking.NO_PERSON: "nobody in view",
    Tracking.LOW_VISIBILITY: "head or shoulders not clearly visible",
}


# The dashboard's "now" figures (analysis rate, CPU) cover about this much wall time.
_RATE_WINDOW_S = 10.0
# How often the view is redrawn while nothing new is analysed (its clocks show whole seconds).
_IDLE_REDRAW_S = 1.0


@dataclass(frozen=True)
class DashboardView:
    """What the dashboard shows; built from a snapshot and the loop's counters."""

    source: str
    t_s: float
    state: PostureState
    state_for_s: float
    tracking: Tracking
    people: int
    view: str | None
    forward_head: float | None
    thoracic_rounding: float | None
    lean_deg: float | None
    calibrating: float | None
    next_nudge_in_s: float | None
    message: str | None
    """The latest nudge (or advice) while it is fresh."""
    recalibrate: bool
    analysed_fps: float
    """Frames analysed per second over the last few seconds (the adaptive rate at work)."""
    pose_ms: float
    cpu_percent: float | None = None
    """The coach's own CPU use over the last few seconds, % of one core."""
    activity: str | None = None
    seated_s: float = 0.0
    since_movement_s: float = 0.0
    next_prompt: str | None = None
    """E.g. "in 12:30: sitting still for 30 min"."""
    prompt_card: tuple[str, tuple[str, ...]] | None = None
    """The open prompt: its title and the movement's cue lines (dose, tempo, breath)."""
    quiet_until: str | None = None
    """"paused until 15:30" / "snoozed for 12:00"."""
    light_problem: str | None = None
    """Advice when the picture is too dark or the lens is covered."""
    counter_line: str | None = None
    """A set in progress: its count, phase and breath cue."""
    history_problem: str | None = None
    """Why the session is not being saved just now (a full disk, a read-only file...)."""
    waiting: str | None = None
    """Why the coach is not watching now (no camera, paused, locked), while it waits."""


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:d}:{secs:02d}"


def metric_bar(value: float | None, enter: float, width: int = 20) -> Text:
    """A bar from neutral (0) to twice the slouch threshold, coloured by severity."""
    if value is None:
        return Text("—  (not measurable now)", style="dim")
    filled = round(min(max(value, 0.0) / (2 * enter), 1.0) * width)
    style = "red" if value >= enter else "yellow" if value >= enter / 2 else "green"
    bar = Text("█" * filled, style=style) + Text("░" * (width - filled), style="dim")
    return Text(f"{value:+6.1f} ") + bar + Text(f"  slouch at {enter:g}", style="dim")


def render(view: DashboardView, thresholds: SlouchConfig) -> RenderableType:
    """Build the dashboard (pure: same input, same output)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    # User text (a path, a stream label, a movement name) is Text, never parsed as markup.
    table.add_row("Source", Text(view.source))
    if view.waiting:
        table.add_row("Waiting", Text(view.waiting, style="bold yellow"))
    table.add_row("Time", _clock(view.t_s))
    state = Text(view.state.upper(), style=STATE_STYLE.get(view.state, ""))
    state.append(f"  for {_clock(view.state_for_s)}", style="dim")
    table.add_row("Posture", state)
    if view.calibrating is not None:
        table.add_row("Calibrating", Text(f"sit tall… {view.calibrating:.0%}", style="bold cyan"))
    table.add_row(
        "Forward head",
        metric_bar(view.forward_head, thresholds.forward_head_enter * thresholds.threshold_scale),
    )
    table.add_row(
        "Upper-back rounding",
        metric_bar(view.thoracic_rounding, thresholds.rounding_enter * thresholds.threshold_scale),
    )
    if view.lean_deg is not None:
        table.add_row("Sideways lean", f"{view.lean_deg:+.0f}°")
    if view.next_nudge_in_s is not None:
        table.add_row("Next nudge", f"in {_clock(view.next_nudge_in_s)} if you stay like this")
    if view.activity is not None:
        table.add_row(
            "Sitting",
            Text(
                f"{_clock(view.seated_s)} without a break",
                style="bold" if view.seated_s > 1800 else "",
            )
            + Text(
                f"  ({view.activity}, last moved {_clock(view.since_movement_s)} ago)", style="dim"
            ),
        )
    if view.quiet_until:
        table.add_row("Prompts", Text(view.quiet_until, style="yellow"))
    elif view.next_prompt:
        table.add_row("Next prompt", Text(view.next_prompt))
    people = f" ({view.people} people in view)" if view.people > 1 else ""
    table.add_row("Pose", Text(_TRACKING_TEXT[view.tracking] + people))
    if view.counter_line:
        table.add_row("Set", Text(view.counter_line, style="bold magenta"))
    if view.light_problem:
        table.add_row("Camera", Text(view.light_problem, style="yellow"))
    if view.history_problem:
        table.add_row("History", Text(view.history_problem, style="bold red"))
    table.add_row("Camera view", Text(view.view or "—"))
    cpu = "" if view.cpu_percent is None else f", CPU {view.cpu_percent:.0f}% of a core"
    table.add_row(
        "Analysis",
        f"{view.analysed_fps:.1f} frames/s now, pose {view.pose_ms:.0f} ms/frame{cpu}",
    )
    parts: list[RenderableType] = [table]
    if view.recalibrate:
        parts.append(
            Text("Camera or seat moved? Sit tall and run `coach calibrate`.", style="yellow")
        )
    if view.message and view.prompt_card is None:
        parts.append(Panel(Text(view.message), border_style="magenta", title="Nudge"))
    if view.prompt_card is not None:
        title, lines = view.prompt_card
        body = Text("\n".join(lines))
        parts.append(Panel(body, border_style="magenta", title=Text(title), title_align="left"))
    parts.append(Text(KEY_HELP, style="dim"))
    return Panel(Group(*parts), title="coach", border_style="cyan", expand=False)


# Below these the picture cannot show a person: a covered lens is flat, a dark room dim.
DARK_BRIGHTNESS = 35.0
COVERED_CONTRAST = 4.0


def light_problem(snapshot: Snapshot) -> str | None:
    """Advice when nobody is found because of the picture, not because the user left."""
    sample = snapshot.sample
    if sample.tracking is not Tracking.NO_PERSON or sample.brightness is None:
        return None
    if sample.contrast is not None and sample.contrast < COVERED_CONTRAST:
        return "the picture is blank: is the lens covered or the privacy shutter closed?"
    if sample.brightness < DARK_BRIGHTNESS:
        return "too dark to see you: turn on a light facing you"
    return None


def counter_line(snapshot: Snapshot) -> str | None:
    """One line for a set in progress (armed by a prompt, or recognised)."""
    counter = snapshot.counter
    if counter is None:
        return None
    if not counter.started:
        return f"{counter.movement}: counting starts when you do"
    if counter.per_side is not None:
        count = f"left {counter.per_side.get('left', 0)}, right {counter.per_side.get('right', 0)}"
    else:
        count = f"{counter.reps}" + (f" of {counter.target_reps}" if counter.target_reps else "")
    return f"{counter.movement}: {count} ({counter.phase}) · {counter.breath_cue}"


class Dashboard:
    """Shows the dashboard live in the terminal, refreshed a few times a second."""

    def __init__(
        self,
        console: Console,
        source: str,
        stats: LoopStats,
        thresholds: SlouchConfig,
        message_s: float = 15.0,
        refresh_hz: float = 4.0,
        library: MovementLibrary | None = None,
        history_status: Callable[[], str | None] | None = None,
    ):
        self._library = library
        self._history_status = history_status
        self._history_problem: str | None = None
        self._undrawn: Snapshot | None = None
        self._console = console
        self._source = source
        self._stats = stats
        self._thresholds = thresholds
        self._period_s = 1.0 / refresh_hz
        self._last_draw = 0.0
        self._drawn_frames = -1
        """Frames analysed at the last draw: with none since, only the clocks can move."""
        self._started = time.perf_counter()
        # (wall s, frames analysed, process CPU s) over the last `_RATE_WINDOW_S`.
        self._rate_marks: deque[tuple[float, int, float]] = deque()
        self._recent = RecentNudge(message_s)
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._live.start()
        self._waiting: LiveStatus | None = None
        self._last_view: DashboardView | None = None

    def _prompt_card(self, snapshot: Snapshot) -> tuple[str, tuple[str, ...]] | None:
        nudge = snapshot.open_prompt
        if nudge is None or self._library is None:
            return None
        lines: list[str] = []
        for movement_id in (nudge.movement, *nudge.extra_movements):
            movement = self._library.get(movement_id)
            lines.append(f"{movement.name}: {movement.dose_text}")
            lines.extend(f"  • {cue}" for cue in movement.cues)
            lines.append(f"  Breath: {movement.breath}")
        return nudge.title, tuple(lines)

    def view_of(self, snapshot: Snapshot) -> DashboardView:
        """Project a snapshot and the loop counters onto what the dashboard shows."""
        message = self._recent.update(snapshot)
        stats = self._stats
        metrics = snapshot.metrics
        quiet = None
        if snapshot.paused_until_s is not None:
            quiet = f"paused (meeting mode) for {_clock(snapshot.paused_until_s - snapshot.t_s)}"
        elif snapshot.snoozed_until_s is not None:
            quiet = f"snoozed for {_clock(snapshot.snoozed_until_s - snapshot.t_s)}"
        planned = snapshot.next_prompt
        next_prompt = f"in {_clock(planned.in_s)}: {planned.reason}" if planned else None
        analysed_fps, cpu_percent = self._recent_rates(stats)
        return DashboardView(
            source=self._source,
            t_s=snapshot.t_s - (stats.first_t_s or 0.0),
            state=snapshot.state,
            state_for_s=snapshot.t_s - snapshot.slouch.since_s,
            tracking=snapshot.sample.tracking,
            people=snapshot.sample.people,
            view=snapshot.view,
            forward_head=metrics.forward_head if metrics else None,
            thoracic_rounding=metrics.thoracic_rounding if metrics else None,
            lean_deg=metrics.lean_deg if metrics and metrics.lean_deg == metrics.lean_deg else None,
            calibrating=snapshot.calibrating,
            next_nudge_in_s=snapshot.next_nudge_in_s,
            message=message,
            recalibrate=snapshot.recalibrate,
            analysed_fps=analysed_fps,
            cpu_percent=cpu_percent,
            pose_ms=1000.0 * stats.pose_s / max(stats.frames_analysed, 1),
            activity=snapshot.activity,
            seated_s=snapshot.seated_s,
            since_movement_s=snapshot.since_movement_s,
            next_prompt=next_prompt,
            prompt_card=self._prompt_card(snapshot),
            quiet_until=quiet,
            light_problem=light_problem(snapshot),
            counter_line=counter_line(snapshot),
            history_problem=self._history_problem,
            waiting=self._waiting_text(),
        )

    def _waiting_text(self) -> str | None:
        status = self._waiting
        if status is None:
            return None
        retry = f" (next try in {status.retry_in_s:.0f} s)" if status.retry_in_s else ""
        return status.detail + retry

    def status(self, status: LiveStatus) -> None:
        """The coach waits (no camera, paused, locked) or watches again: shown at once, as
        no snapshot comes while it waits."""
        self._waiting = None if status.condition is Condition.COACHING else status
        view = self._last_view
        if view is None:
            view = DashboardView(
                source=self._source,
                t_s=0.0,
                state=PostureState.UNKNOWN,
                state_for_s=0.0,
                tracking=Tracking.NO_PERSON,
                people=0,
                view=None,
                forward_head=None,
                thoracic_rounding=None,
                lean_deg=None,
                calibrating=None,
                next_nudge_in_s=None,
                message=None,
                recalibrate=False,
                analysed_fps=0.0,
                pose_ms=0.0,
            )
        view = dataclasses.replace(view, waiting=self._waiting_text())
        self._live.update(render(view, self._thresholds), refresh=True)

    def _recent_rates(self, stats: LoopStats) -> tuple[float, float | None]:
        """Analysed frames per second and the process's CPU share, over the last seconds."""
        now, cpu_s = time.perf_counter(), time.process_time()
        marks = self._rate_marks
        marks.append((now, stats.frames_analysed, cpu_s))
        while len(marks) > 2 and now - marks[1][0] >= _RATE_WINDOW_S:
            marks.popleft()
        then, frames, cpu_then = marks[0]
        span_s = now - then
        if span_s < 0.5:  # too short to say: the rate since the start instead
            elapsed_s = max(now - self._started, 1e-6)
            return stats.frames_analysed / elapsed_s, None
        return (stats.frames_analysed - frames) / span_s, 100.0 * (cpu_s - cpu_then) / span_s

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Redraw when the refresh period has passed (a nudge or history trouble: at once)."""
        now = time.perf_counter()
        problem = self._history_status() if self._history_status is not None else None
        changed, self._history_problem = problem != self._history_problem, problem
        # While the coach only glances (nothing analysed since the last draw) the view can
        # change only in its clocks, which show whole seconds: a redraw a second is enough,
        # and a terminal redraw costs more than a glance.
        fresh = self._stats.frames_analysed != self._drawn_frames
        period_s = self._period_s if fresh else max(self._period_s, _IDLE_REDRAW_S)
        if now - self._last_draw < period_s and snapshot.nudge is None and not changed:
            self._undrawn = snapshot
            return  # a nudge or history trouble always redraws, so nothing is missed
        self._undrawn = None
        self._last_draw = now
        self._drawn_frames = self._stats.frames_analysed
        self._last_view = self.view_of(snapshot)
        self._live.update(render(self._last_view, self._thresholds), refresh=True)

    def close(self) -> None:
        """Leave the last view on screen (the final snapshot, even if it came between draws)."""
        if self._undrawn is not None:
            self._live.update(render(self.view_of(self._undrawn), self._thresholds), refresh=True)
            self._undrawn = None
        self._live.stop()
