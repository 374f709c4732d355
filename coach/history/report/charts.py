"""Provides the report's charts as SVG: posture through each day, the longest still stretch, reps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from coach.history.report.describe import (
    clock,
    day_sentence,
    posture_summary,
    reps_summary,
    still_summary,
)
from coach.history.report.svg import GRID, INK, MUTED, Drawing, nice_step, text_width
from coach.history.report.tables import STILL_GUIDE_MIN, day_label
from coach.records import PostureState

if TYPE_CHECKING:
    from coach.history.summaries import DaySummary, HistorySummary

# Longer reports show only this many recent days in the posture timeline (one row per day).
MAX_TIMELINE_DAYS = 31
# The timeline's natural widths (px): the page shows the narrow one on small screens, so its
# text stays about 12 px wherever it is read; the bar charts are drawn for a half-page column.
WIDE_PX = 1000.0
NARROW_PX = 560.0
BARS_PX = 480.0
# The timeline's ends are the data's, rounded out to this step (hours).
WINDOW_STEP_H = 0.25
# Clock ticks are one of these steps (minutes), the smallest that leaves room for the labels.
TICK_STEPS_MIN = (5, 10, 15, 30, 60, 120, 180, 240, 360)
# With no data at all the timeline shows an ordinary working day.
EMPTY_WINDOW_H = (9.0, 17.0)

# Bars are at most this wide (a one-day report is one bar, not a slab).
MAX_BAR_PX = 56.0
TITLE_PX = 15.0
LABEL_PX = 12.0

STATE_COLOURS: dict[PostureState, str] = {
    PostureState.UPRIGHT: "#2f9e6e",
    PostureState.SLOUCHED: "#e8743b",
    PostureState.AWAY: "#d3d9e0",
    PostureState.UNKNOWN: "#9ba4b0",
}
STATE_LABELS: dict[PostureState, str] = {
    PostureState.UPRIGHT: "Upright",
    PostureState.SLOUCHED: "Slouched",
    PostureState.AWAY: "Away",
    PostureState.UNKNOWN: "Not measurable",
}
_TRACK = "#f6f7f9"
_STILL_OK = "#5b8def"
_STILL_LONG = "#d64545"
_MOVEMENT_COLOURS = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)


@dataclass(frozen=True)
class Chart:
    """One chart: its drawing, and the same in words for those who cannot see it."""

    name: str
    title: str
    svg: str
    """The drawing, as written to its file."""
    summary: str
    """One paragraph saying what the chart shows (also the drawing's <desc>)."""
    days: tuple[str, ...] = ()
    """Each day in a sentence, where the chart is read day by day."""
    narrow_svg: str = ""
    """The same chart laid out for small screens ("" when the one drawing fits both)."""


def time_window(history: HistorySummary) -> tuple[float, float]:
    """The hours of day the timeline spans: the data's, rounded out to the quarter hour."""
    shown = history.days[-MAX_TIMELINE_DAYS:]
    runs = [r for day in shown for r in history.posture.get(day.day, ())]
    if not runs:
        return EMPTY_WINDOW_H
    first = min(r.start_h for r in runs)
    last = max(r.start_h + r.length_h for r in runs)
    lo = math.floor(first / WINDOW_STEP_H + 1e-9) * WINDOW_STEP_H
    hi = math.ceil(last / WINDOW_STEP_H - 1e-9) * WINDOW_STEP_H
    if hi <= lo:  # data of no length, on a quarter hour
        lo, hi = (lo, lo + WINDOW_STEP_H) if lo < 24 else (lo - WINDOW_STEP_H, lo)
    return lo, hi


def clock_ticks(lo_h: float, hi_h: float, width_px: float) -> list[float]:
    """Round clock times across the window, spaced so their labels fit the width."""
    room_px = text_width("00:00", LABEL_PX) + 18
    span_min = (hi_h - lo_h) * 60
    step = next(
        (s for s in TICK_STEPS_MIN if (span_min / s + 1) * room_px <= width_px),
        TICK_STEPS_MIN[-1],
    )
    first = math.ceil(lo_h * 60 / step - 1e-9) * step
    return [m / 60 for m in range(first, math.floor(hi_h * 60 + 1e-9) + 1, step)]


def _legend(d: Drawing, items: list[tuple[str, str]], x0: float, y: float) -> float:
    """Swatches and labels in rows from (x0, y); returns the baseline of the last row."""
    x = x0
    for colour, label in items:
        need = 16 + text_width(label, LABEL_PX) + 14
        if x > x0 and x + need > d.width:
            x, y = x0, y + 20
        d.rect(x, y - 10, 11, 11, colour, rx=2)
        d.text(x + 16, y, label, fill=INK)
        x += need
    return y


def _posture_drawing(history: HistorySummary, width: float, chart_id: str, desc: str) -> str:
    days: list[DaySummary] = list(reversed(history.days[-MAX_TIMELINE_DAYS:]))  # newest on top
    title = "Posture through each day"
    if len(history.days) > MAX_TIMELINE_DAYS:
        title += f" (last {MAX_TIMELINE_DAYS} days)"
    labels = [day_label(day.day) for day in days]
    x0 = max(text_width(label, LABEL_PX) for label in labels) + 14
    x1 = width - text_width("00:00", LABEL_PX) / 2 - 4
    row_px = 26.0
    d = Drawing(width, 0)
    d.text(0, 20, title, size=TITLE_PX, fill=INK, bold=True)
    legend = [(STATE_COLOURS[s], STATE_LABELS[s]) for s in STATE_COLOURS]
    top = _legend(d, legend, 0, 44) + 16
    bottom = top + row_px * len(days)
    d.height = bottom + 26
    lo, hi = time_window(history)

    def x(hour: float) -> float:
        return x0 + (hour - lo) / (hi - lo) * (x1 - x0)

    for tick in clock_ticks(lo, hi, x1 - x0):
        d.line(x(tick), top - 4, x(tick), bottom, GRID)
        d.text(x(tick), bottom + 18, clock(tick), anchor="middle")
    for row, day in enumerate(days):
        y = top + row * row_px
        d.text(x0 - 10, y + row_px / 2 + 4, labels[row], anchor="end", fill=INK)
        d.rect(x0, y + 5, x1 - x0, row_px - 10, _TRACK)
        runs = history.posture.get(day.day, ())
        for run in runs:
            colour = next(
                (c for state, c in STATE_COLOURS.items() if state == run.kind),
                STATE_COLOURS[PostureState.UNKNOWN],
            )
            d.rect(
                x(run.start_h),
                y + 5,
                x(run.start_h + run.length_h) - x(run.start_h),
                row_px - 10,
                colour,
            )
        if not runs:
            note = "not watched" if day.has_data else "no data"
            d.text((x0 + x1) / 2, y + row_px / 2 + 4, note, anchor="middle", italic=True)
    return d.svg(chart_id=chart_id, title=title, desc=desc)


@dataclass(frozen=True)
class _Frame:
    """The plot area of a bar chart with one slot per day, and its value scale."""

    x0: float
    x1: float
    y0: float
    y1: float
    top: float
    slots: int

    @property
    def slot_px(self) -> float:
        return (self.x1 - self.x0) / max(self.slots, 1)

    def centre(self, i: int) -> float:
        return self.x0 + (i + 0.5) * self.slot_px

    def y(self, value: float) -> float:
        return self.y1 - value / self.top * (self.y1 - self.y0)


def _day_bars(d: Drawing, days: list[DaySummary], top_value: float, y0: float) -> _Frame:
    """Draw a bar chart's value grid and day labels; returns the frame to draw bars in."""
    step = nice_step(top_value)
    top = math.ceil(top_value / step - 1e-9) * step
    x0 = text_width(f"{top:.0f}", LABEL_PX) + 10
    frame = _Frame(x0, d.width - 4, y0, d.height - 40, top, len(days))
    value = 0.0
    while value <= top + 1e-9:
        d.line(frame.x0, frame.y(value), frame.x1, frame.y(value), GRID if value else MUTED)
        d.text(frame.x0 - 6, frame.y(value) + 4, f"{value:.0f}", anchor="end")
        value += step
    two_lines = frame.slot_px >= text_width("00 Mar", LABEL_PX) + 6
    every = max(1, math.ceil((text_width("00 Mar", LABEL_PX) + 10) / frame.slot_px))
    for i, day in enumerate(days):
        x = frame.centre(i)
        if two_lines:
            d.text(x, frame.y1 + 16, day.day.strftime("%a"), anchor="middle", fill=INK)
            d.text(x, frame.y1 + 31, day.day.strftime("%d %b"), anchor="middle")
        elif i % every == 0:
            d.text(x, frame.y1 + 16, day.day.strftime("%d %b"), anchor="middle")
        if not day.has_data and frame.slot_px >= text_width("no data", 11) + 4:
            d.text(x, frame.y1 - 6, "no data", size=11, anchor="middle", italic=True)
    return frame


def _bar_labels(d: Drawing, frame: _Frame, heights: list[float]) -> None:
    """Each bar's height above it, where there is room to write it."""
    if frame.slot_px < text_width("000", LABEL_PX):
        return
    for i, height in enumerate(heights):
        if height > 0:
            d.text(frame.centre(i), frame.y(height) - 5, f"{height:.0f}", anchor="middle")


def still_chart(history: HistorySummary) -> Chart:
    """The longest still stretch of each day, against the 30-minute guide."""
    days = list(history.days)
    minutes = [day.longest_still_s / 60 for day in days]
    title = "Longest still stretch, minutes"
    d = Drawing(BARS_PX, 270)
    d.text(0, 20, title, size=TITLE_PX, fill=INK, bold=True)
    frame = _day_bars(d, days, max([*minutes, STILL_GUIDE_MIN]) * 1.15, 44)
    bar_px = min(frame.slot_px * 0.62, MAX_BAR_PX)
    for i, m in enumerate(minutes):
        colour = _STILL_LONG if m > STILL_GUIDE_MIN else _STILL_OK
        d.rect(frame.centre(i) - bar_px / 2, frame.y(m), bar_px, frame.y1 - frame.y(m), colour)
    _bar_labels(d, frame, minutes)
    guide_y = frame.y(STILL_GUIDE_MIN)
    d.line(frame.x0, guide_y, frame.x1, guide_y, INK, dash="5 4")
    note = f"move at least every {STILL_GUIDE_MIN:.0f} min"
    d.text(frame.x1, guide_y - 5, note, size=11, fill=INK, anchor="end", halo=True)
    summary = still_summary(history)
    return Chart("still", title, d.svg(chart_id="chart-still", title=title, desc=summary), summary)


def reps_chart(history: HistorySummary) -> Chart:
    """Reps per day, stacked by movement."""
    days = list(history.days)
    title = "Reps per day"
    d = Drawing(BARS_PX, 0)
    d.text(0, 20, title, size=TITLE_PX, fill=INK, bold=True)
    colours = {
        m: _MOVEMENT_COLOURS[i % len(_MOVEMENT_COLOURS)] for i, m in enumerate(history.movements)
    }
    legend_y = _legend(d, [(c, m) for m, c in colours.items()], 0, 44) if colours else 24
    d.height = legend_y + 250
    totals = [float(day.reps) for day in days]
    frame = _day_bars(d, days, max([*totals, 10.0]) * 1.15, legend_y + 20)
    bar_px = min(frame.slot_px * 0.62, MAX_BAR_PX)
    for i, day in enumerate(days):
        base = 0.0
        for movement, colour in colours.items():
            count = day.reps_by_movement.get(movement, 0)
            if count:
                top = frame.y(base + count)
                d.rect(frame.centre(i) - bar_px / 2, top, bar_px, frame.y(base) - top, colour)
                base += count
    _bar_labels(d, frame, totals)
    if not colours:
        d.text(
            (frame.x0 + frame.x1) / 2,
            (frame.y0 + frame.y1) / 2,
            "no sets recorded",
            anchor="middle",
            italic=True,
        )
    summary = reps_summary(history)
    return Chart("reps", title, d.svg(chart_id="chart-reps", title=title, desc=summary), summary)


def posture_chart(history: HistorySummary) -> Chart:
    """One bar per day across the hours that hold data: upright, slouched, away, not measurable."""
    window = time_window(history)
    summary = posture_summary(history, window)
    shown = list(reversed(history.days[-MAX_TIMELINE_DAYS:]))
    days = tuple(day_sentence(day, history.posture.get(day.day, ())) for day in shown)
    desc = " ".join((summary, *days))
    return Chart(
        "posture",
        "Posture through each day",
        _posture_drawing(history, WIDE_PX, "chart-posture", desc),
        summary,
        days,
        narrow_svg=_posture_drawing(history, NARROW_PX, "chart-posture-narrow", desc),
    )


CHART_FILES: Final[dict[str, str]] = {
    "posture": "posture.svg",
    "still": "still.svg",
    "reps": "reps.svg",
}
"""Each chart's file name in the report's folder."""


def render_charts(history: HistorySummary) -> dict[str, Chart]:
    """The posture, still and reps charts, by name (see CHART_FILES)."""
    return {
        "posture": posture_chart(history),
        "still": still_chart(history),
        "reps": reps_chart(history),
    }
