"""Provides the charts' text alternatives: each day and each chart said in words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.history.report.tables import EN_DASH, STILL_GUIDE_MIN, day_label, duration_text
from coach.records import Outcome

if TYPE_CHECKING:
    from collections.abc import Callable

    from coach.history.summaries import DaySummary, HistorySummary, Segment

# Posture runs closer than this belong to one watched stretch (a sample or two missing).
SPAN_GAP_H = 2 / 60
# A sentence lists at most this many watched stretches of a day, then counts the rest.
MAX_SPANS = 3
# Per-day lists in a summary stop at this many days (longer reports have the daily table).
MAX_LISTED_DAYS = 14


def clock(hour: float) -> str:
    """Hours since midnight as a clock time ("09:05"; 24 is "24:00")."""
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def watched_spans(runs: tuple[Segment, ...]) -> list[tuple[float, float]]:
    """The stretches of a day the coach watched, from its posture runs: (start, end) in hours."""
    spans: list[tuple[float, float]] = []
    for run in sorted(runs, key=lambda r: r.start_h):
        end = run.start_h + run.length_h
        if spans and run.start_h - spans[-1][1] <= SPAN_GAP_H:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((run.start_h, end))
    return spans


def _spans_text(spans: list[tuple[float, float]]) -> str:
    shown = [f"{clock(a)}{EN_DASH}{clock(b)}" for a, b in spans[:MAX_SPANS]]
    more = len(spans) - MAX_SPANS
    if more > 0:
        return ", ".join(shown) + f" and {more} more"
    return " and ".join(shown) if len(shown) <= 2 else ", ".join(shown[:-1]) + " and " + shown[-1]


def day_sentence(day: DaySummary, runs: tuple[Segment, ...] = ()) -> str:
    """One day in words: "Wed 11 Mar (09:05-09:31): 26 min watched, 6 min slouched (25% of
    sitting time), longest still stretch 12 min, 3 prompts (2 done), 18 reps."."""
    label = day_label(day.day)
    if not day.has_data:
        return f"{label}: no data."
    parts: list[str] = []
    spans = watched_spans(runs)
    if spans:
        label += f" ({_spans_text(spans)})"
    if day.recorded_s > 0:
        parts.append(f"{duration_text(day.recorded_s)} watched")
        if day.upright_share is not None:
            parts.append(
                f"{_minutes(day.slouched_min * 60)} slouched "
                f"({1 - day.upright_share:.0%} of sitting time)"
            )
    else:
        parts.append("not watched")
    if day.longest_still_s > 0:
        parts.append(f"longest still stretch {_minutes(day.longest_still_s)}")
    if day.prompts:
        done = day.prompts_by_outcome.get(Outcome.DONE, 0)
        parts.append(f"{_plural(day.prompts, 'prompt')} ({done} done)")
    if day.reps:
        parts.append(_plural(day.reps, "rep"))
    return f"{label}: {', '.join(parts)}."


def posture_summary(history: HistorySummary, window_h: tuple[float, float]) -> str:
    """What the posture timeline shows, in one paragraph."""
    watched = [d for d in history.days if d.recorded_s > 0]
    if not watched:
        return "The coach watched nothing on these days, so the timeline is empty."
    total_s = sum(d.recorded_s for d in watched)
    upright, per_day = history.overall.upright_share, history.overall.slouched_min_per_day
    text = (
        f"Posture through each day from {clock(window_h[0])} to {clock(window_h[1])}: "
        f"{duration_text(total_s)} watched on {_plural(len(watched), 'day')}"
    )
    if upright is not None and per_day is not None:
        text += f", upright {upright:.0%} of the sitting time"
        text += (
            f", {per_day:.0f} min slouched a day on average"
            if len(watched) > 1
            else f", {per_day:.0f} min slouched"
        )
    text += "."
    worst = max(watched, key=lambda d: d.slouched_min)
    if len(watched) > 1 and worst.slouched_min >= 0.5:
        text += f" Most slouched: {day_label(worst.day)} ({worst.slouched_min:.0f} min)."
    return text


def _per_day(history: HistorySummary, value: Callable[[DaySummary], str]) -> str:
    if len(history.days) > MAX_LISTED_DAYS:
        return ""
    items = [f"{day_label(d.day)} {value(d) if d.has_data else 'no data'}" for d in history.days]
    return " Per day: " + ", ".join(items) + "."


def still_summary(history: HistorySummary) -> str:
    """What the still-stretch chart shows, in one paragraph."""
    stills = [d for d in history.days if d.longest_still_s > 0]
    if not stills:
        return "No still stretch was recorded on these days."
    longest = max(stills, key=lambda d: d.longest_still_s)
    over = sum(1 for d in stills if d.longest_still_s / 60 > STILL_GUIDE_MIN)
    text = (
        f"The longest still stretch of each day, against the guide of moving at least every "
        f"{STILL_GUIDE_MIN:.0f} min: the longest was {_minutes(longest.longest_still_s)} on "
        f"{day_label(longest.day)}; {over} of {_plural(len(stills), 'day')} went over "
        f"{STILL_GUIDE_MIN:.0f} min."
    )
    return text + _per_day(
        history, lambda d: _minutes(d.longest_still_s) if d.longest_still_s > 0 else "none"
    )


def reps_summary(history: HistorySummary) -> str:
    """What the reps chart shows, in one paragraph."""
    total = sum(d.reps for d in history.days)
    if not total:
        return "No reps were recorded on these days."
    by_movement = {
        m: sum(d.reps_by_movement.get(m, 0) for d in history.days) for m in history.movements
    }
    active = [d for d in history.days if d.reps]
    best = max(active, key=lambda d: d.reps)
    text = (
        f"Reps per day by movement: {total} on {_plural(len(active), 'day')} ("
        + ", ".join(f"{m} {n}" for m, n in by_movement.items())
        + f"); the most on {day_label(best.day)} ({best.reps})."
    )
    return text + _per_day(history, lambda d: str(d.reps) if d.reps else "none")
