"""Provides the report's tables (daily, weekly, by movement) as data for the terminal and the page."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from coach.history.summaries import HistorySummary, WeekSummary
from coach.records import Outcome

# The notes' schedule asks for a movement at least every 30 min: longer still stretches stand out.
STILL_GUIDE_MIN = 30.0
# Upright shares at or above GOOD look green, below POOR look red.
UPRIGHT_GOOD = 0.8
UPRIGHT_POOR = 0.6


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and a tone the terminal and the HTML page both colour."""

    text: str
    tone: str = ""
    """"good", "bad", "dim" or "" (plain)."""


@dataclass(frozen=True)
class TableData:
    """A table shared by the terminal and the HTML page."""

    title: str
    headers: tuple[str, ...]
    numeric: tuple[bool, ...]
    """Whether each column is right-aligned."""
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""


EN_DASH = "\u2013"
DASH = Cell(EN_DASH, "dim")


def duration_text(seconds: float) -> str:
    """A duration as the report writes it: "42 min", "2 h 05"."""
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _share(value: float | None) -> Cell:
    if value is None:
        return DASH
    tone = "good" if value >= UPRIGHT_GOOD else "bad" if value < UPRIGHT_POOR else ""
    return Cell(f"{value:.0%}", tone)


def _number(value: float | None, fmt: str = "{:.0f}", tone: str = "") -> Cell:
    return DASH if value is None else Cell(fmt.format(value), tone)


def _count(value: int) -> Cell:
    return Cell(str(value)) if value else Cell("0", "dim")


def _still(seconds: float) -> Cell:
    if seconds <= 0:
        return DASH
    minutes = seconds / 60
    return Cell(f"{minutes:.0f}", "bad" if minutes > STILL_GUIDE_MIN else "")


def _fatigue(before: float | None, after: float | None) -> Cell:
    if before is None and after is None:
        return DASH
    left = "?" if before is None else f"{before:.1f}"
    right = "?" if after is None else f"{after:.1f}"
    tone = "good" if before is not None and after is not None and after < before else ""
    return Cell(f"{left} → {right}", tone)


def day_label(day: datetime.date) -> str:
    """A day as the tables and charts label it ("Wed 11 Mar")."""
    return day.strftime("%a %d %b")


def daily_data(history: HistorySummary, *, compact: bool = False) -> TableData:
    """The daily table: one row per day of the report, newest first.

    `compact` (narrow terminals) folds the four outcome columns into "done/shown".
    """
    rows: list[tuple[Cell, ...]] = []
    width = 9 if compact else 13
    for d in reversed(history.days):
        if not d.has_data:
            rows.append(
                (Cell(day_label(d.day), "dim"), Cell("no data", "dim"), *[DASH] * (width - 2))
            )
            continue
        outcomes = d.prompts_by_outcome
        done = outcomes.get(Outcome.DONE, 0)
        prompt_cells = (
            (Cell(f"{done}/{d.prompts}") if d.prompts else Cell("0", "dim"),)
            if compact
            else (
                _count(d.prompts),
                _count(done),
                _count(outcomes.get(Outcome.SNOOZED, 0)),
                _count(outcomes.get(Outcome.SKIPPED, 0)),
                _count(outcomes.get(Outcome.IGNORED, 0)),
            )
        )
        rows.append(
            (
                Cell(day_label(d.day)),
                Cell(duration_text(d.recorded_s)) if d.recorded_s else DASH,
                _share(d.upright_share),
                _number(d.slouched_min if d.recorded_s else None, "{:.1f}"),
                _still(d.longest_still_s),
                *prompt_cells,
                _number(d.median_correction_s),
                _count(d.reps),
                _fatigue(d.fatigue_before_mean, d.fatigue_after_mean),
            )
        )
    prompt_headers = (
        ("Prompts done",) if compact else ("Prompts", "Done", "Snoozed", "Skipped", "Ignored")
    )
    headers = (
        ("Day", "Watched", "Upright", "Slouch", "Still", "Done", "Fix s", "Reps", "Fatigue")
        if compact
        else (
            "Day",
            "Watched",
            "Upright",
            "Slouched min",
            "Longest still min",
            *prompt_headers,
            "Fix s",
            "Reps",
            "Fatigue 1-5",
        )
    )
    return TableData(
        title=f"Daily summary, {day_label(history.first_day)} {EN_DASH} {day_label(history.last_day)}",
        headers=headers,
        numeric=(False, *[True] * (len(headers) - 1)),
        rows=tuple(rows),
        caption=(
            "Upright: share of sitting time. Fix s: median seconds to sit up after a posture "
            "nudge. Fatigue: mean rating before → after sets."
            + (
                " Slouch: minutes. Still: longest still stretch, minutes. Done: prompts acted "
                "on of those shown (--out has every outcome)."
                if compact
                else ""
            )
        ),
    )


def _trend(now: float | None, before: float | None, lower_is_better: bool, fmt: str) -> Cell:
    """A value with an arrow against the previous week, green when it moved the right way."""
    if now is None:
        return DASH
    text = fmt.format(now)
    if before is None or abs(now - before) < 1e-9:
        return Cell(text)
    went_down = now < before
    good = went_down == lower_is_better
    return Cell(f"{text} {'↓' if went_down else '↑'}", "good" if good else "bad")


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share


def weekly_data(history: HistorySummary, *, compact: bool = False) -> TableData:
    """The weekly trend: one row per week, newest first, arrows against the week before.

    `compact` (narrow terminals) shortens the headers.
    """
    previous: WeekSummary | None = None
    built: list[tuple[Cell, ...]] = []
    for w in history.weeks:
        p = previous
        days = len(w.active_days)
        label = w.week_start.strftime("%d %b") + ("*" if w is history.weeks[-1] else "")
        if not days:
            built.append((Cell(label, "dim"), Cell("0", "dim"), *[DASH] * 7))
        else:
            built.append(
                (
                    Cell(label),
                    Cell(str(days)),
                    _trend(
                        w.slouched_min_per_day,
                        p.slouched_min_per_day if p else None,
                        lower_is_better=True,
                        fmt="{:.1f}",
                    ),
                    _trend(
                        _percent(w.upright_share),
                        _percent(p.upright_share if p else None),
                        lower_is_better=False,
                        fmt="{:.0f}%",
                    ),
                    _count(w.prompts),
                    _trend(
                        _percent(w.done_share),
                        _percent(p.done_share if p else None),
                        lower_is_better=False,
                        fmt="{:.0f}%",
                    ),
                    _trend(
                        w.median_correction_s,
                        p.median_correction_s if p else None,
                        lower_is_better=True,
                        fmt="{:.0f}",
                    ),
                    _trend(
                        w.reps_per_day,
                        p.reps_per_day if p else None,
                        lower_is_better=False,
                        fmt="{:.0f}",
                    ),
                    _fatigue(w.fatigue_before_mean, w.fatigue_after_mean),
                )
            )
            previous = w
    rows = list(reversed(built))
    return TableData(
        title="Weekly trend",
        headers=(
            ("Week", "Days", "Slouch", "Upright", "Prompts", "Done", "Fix s", "Reps", "Fatigue")
            if compact
            else (
                "Week of",
                "Days",
                "Slouched min/day",
                "Upright",
                "Prompts",
                "Acted on",
                "Fix s",
                "Reps per day",
                "Fatigue 1-5",
            )
        ),
        numeric=(False, True, True, True, True, True, True, True, True),
        rows=tuple(rows),
        caption=(
            "* this week, so far. Arrows compare with the previous week that has data; "
            "green is better."
            + (
                " Slouch: minutes per day watched. Done: share of prompts acted on. Reps: per day."
                if compact
                else ""
            )
        ),
    )


def movement_data(history: HistorySummary) -> TableData:
    """Reps by movement over the report's days."""
    rows = []
    for movement in history.movements:
        reps = sum(d.reps_by_movement.get(movement, 0) for d in history.days)
        active = sum(1 for d in history.days if d.reps_by_movement.get(movement))
        rows.append((Cell(movement), Cell(str(reps)), Cell(str(active))))
    return TableData(
        title="Reps by movement",
        headers=("Movement", "Reps", "Days"),
        numeric=(False, True, True),
        rows=tuple(rows),
    )
