"""Provides what a report shows: day and week summaries and each day's timeline, as dataclasses."""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass, field

from coach.history.salvage import LostRows
from coach.records import Outcome, PostureState


@dataclass(frozen=True)
class Segment:
    """A stretch of one day: start and length in hours since local midnight."""

    start_h: float
    length_h: float
    kind: str
    """A posture state, or "still" for a still stretch."""


@dataclass(frozen=True)
class DaySummary:
    """One local calendar day, totalled from the raw rows."""

    day: datetime.date
    sessions: int = 0
    state_s: dict[str, float] = field(default_factory=dict)
    """Seconds in each posture state ("upright", "slouched", "away", "unknown")."""
    longest_still_s: float = 0.0
    prompts_by_outcome: dict[str, int] = field(default_factory=dict)
    """Prompts by outcome; "open" when none was recorded."""
    corrections_s: tuple[float, ...] = ()
    """Seconds to correct after each posture nudge that recorded one."""
    reps_by_movement: dict[str, int] = field(default_factory=dict)
    sets: int = 0
    fatigue_before: tuple[int, ...] = ()
    fatigue_after: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def recorded_s(self) -> float:
        """Seconds the coach was watching."""
        return sum(self.state_s.values())

    @property
    def slouched_min(self) -> float:
        """Minutes slouched."""
        return self.state_s.get(PostureState.SLOUCHED, 0.0) / 60

    @property
    def sitting_s(self) -> float:
        """Seconds at the desk with a measurable posture (upright or slouched)."""
        return self.state_s.get(PostureState.UPRIGHT, 0.0) + self.state_s.get(
            PostureState.SLOUCHED, 0.0
        )

    @property
    def upright_share(self) -> float | None:
        """Share (0..1) of sitting time spent upright; None without sitting time."""
        return (
            self.state_s.get(PostureState.UPRIGHT, 0.0) / self.sitting_s
            if self.sitting_s > 0
            else None
        )

    @property
    def prompts(self) -> int:
        """Prompts shown."""
        return sum(self.prompts_by_outcome.values())

    @property
    def median_correction_s(self) -> float | None:
        """Median seconds to sit upright again after a posture nudge."""
        return statistics.median(self.corrections_s) if self.corrections_s else None

    @property
    def reps(self) -> int:
        """Reps of every movement."""
        return sum(self.reps_by_movement.values())

    @property
    def fatigue_before_mean(self) -> float | None:
        """Mean fatigue rating (1-5) before sets."""
        return statistics.fmean(self.fatigue_before) if self.fatigue_before else None

    @property
    def fatigue_after_mean(self) -> float | None:
        """Mean fatigue rating (1-5) after sets."""
        return statistics.fmean(self.fatigue_after) if self.fatigue_after else None

    @property
    def has_data(self) -> bool:
        """Whether anything was recorded that day."""
        return bool(
            self.recorded_s > 0
            or self.prompts
            or self.sets
            or self.fatigue_before
            or self.fatigue_after
            or self.notes
        )


@dataclass(frozen=True)
class DaysSummary:
    """Several days taken together: shares, means and totals over them."""

    days: tuple[DaySummary, ...]

    @property
    def active_days(self) -> tuple[DaySummary, ...]:
        """The days with any data."""
        return tuple(d for d in self.days if d.has_data)

    @property
    def slouched_min_per_day(self) -> float | None:
        """Mean minutes slouched per day the coach watched."""
        watched = [d.slouched_min for d in self.days if d.recorded_s > 0]
        return statistics.fmean(watched) if watched else None

    @property
    def upright_share(self) -> float | None:
        """Share of the days' sitting time spent upright."""
        sitting_s = sum(d.sitting_s for d in self.days)
        upright_s = sum(d.state_s.get(PostureState.UPRIGHT, 0.0) for d in self.days)
        return upright_s / sitting_s if sitting_s > 0 else None

    @property
    def prompts(self) -> int:
        """Prompts shown."""
        return sum(d.prompts for d in self.days)

    @property
    def prompts_done(self) -> int:
        """Prompts acted on."""
        return sum(d.prompts_by_outcome.get(Outcome.DONE, 0) for d in self.days)

    @property
    def done_share(self) -> float | None:
        """Share of prompts acted on."""
        return self.prompts_done / self.prompts if self.prompts else None

    @property
    def median_correction_s(self) -> float | None:
        """Median seconds to correct after a posture nudge, over the days."""
        values = [v for d in self.days for v in d.corrections_s]
        return statistics.median(values) if values else None

    @property
    def reps(self) -> int:
        """Reps of every movement."""
        return sum(d.reps for d in self.days)

    @property
    def reps_per_day(self) -> float | None:
        """Mean reps per day with any data (fair to a week still under way)."""
        active = self.active_days
        return self.reps / len(active) if active else None

    @property
    def longest_still_s(self) -> float:
        """The longest still stretch of the days."""
        return max((d.longest_still_s for d in self.days), default=0.0)

    @property
    def fatigue_before_mean(self) -> float | None:
        """Mean fatigue rating before sets."""
        values = [v for d in self.days for v in d.fatigue_before]
        return statistics.fmean(values) if values else None

    @property
    def fatigue_after_mean(self) -> float | None:
        """Mean fatigue rating after sets."""
        values = [v for d in self.days for v in d.fatigue_after]
        return statistics.fmean(values) if values else None


@dataclass(frozen=True)
class WeekSummary(DaysSummary):
    """One Monday-to-Sunday week, from its days."""

    week_start: datetime.date


@dataclass(frozen=True)
class HistorySummary:
    """What a report shows: recent days, the weekly trend, and each day's timeline."""

    days: tuple[DaySummary, ...]
    """Every day of the report, oldest first (days without data included)."""
    weeks: tuple[WeekSummary, ...]
    """The trend: the last weeks, oldest first, the current (partial) week last."""
    posture: dict[datetime.date, tuple[Segment, ...]]
    """Each day's posture runs (merged consecutive samples of one state)."""
    still: dict[datetime.date, tuple[Segment, ...]]
    """Each day's still stretches."""
    movements: tuple[str, ...]
    """Every movement with reps in the report's days, most reps first."""
    unreadable: tuple[LostRows, ...] = ()
    """Rows a damaged database would not give up: the report leaves them out."""

    @property
    def first_day(self) -> datetime.date:
        """The report's first day."""
        return self.days[0].day

    @property
    def last_day(self) -> datetime.date:
        """The report's last day."""
        return self.days[-1].day

    @property
    def overall(self) -> DaysSummary:
        """The report's days taken together."""
        return DaysSummary(self.days)

    @property
    def has_data(self) -> bool:
        """Whether any day of the report has data."""
        return any(d.has_data for d in self.days)
