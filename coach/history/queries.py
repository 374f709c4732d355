"""Provides history queries: daily summaries and a weekly trend, computed from the raw rows."""

from __future__ import annotations

import datetime
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from coach.errors import ConfigError
from coach.history.local_time import day_start, local_day, local_hour, week_start
from coach.history.salvage import LostRows, readable_columns, readable_rows
from coach.history.schema import OUTCOMES, STATES
from coach.history.summaries import DaySummary, HistorySummary, Segment, WeekSummary
from coach.records import Activity, Reason

POSTURE_REASONS = (Reason.FORWARD_HEAD, Reason.THORACIC_ROUNDING)
"""Prompt reasons that are posture nudges (their correction time is reported)."""
OPEN_OUTCOME = "open"
"""How a prompt without a recorded outcome is counted."""
# Two still samples further apart than this are separate stretches (the camera stopped).
_CONTIGUOUS_GAP_S = 1.0


@dataclass
class _DayBuilder:
    sessions: int = 0
    state_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    longest_still_s: float = 0.0
    prompts: Counter[str] = field(default_factory=Counter)
    corrections_s: list[float] = field(default_factory=list)
    reps: Counter[str] = field(default_factory=Counter)
    sets: int = 0
    before: list[int] = field(default_factory=list)
    after: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    posture: list[Segment] = field(default_factory=list)
    still: list[Segment] = field(default_factory=list)

    def summary(self, day: datetime.date) -> DaySummary:
        return DaySummary(
            day=day,
            sessions=self.sessions,
            state_s={s: self.state_s[s] for s in STATES},
            longest_still_s=self.longest_still_s,
            prompts_by_outcome={
                o: self.prompts[o] for o in (*OUTCOMES, OPEN_OUTCOME) if self.prompts[o]
            },
            corrections_s=tuple(self.corrections_s),
            reps_by_movement=dict(self.reps.most_common()),
            sets=self.sets,
            fatigue_before=tuple(self.before),
            fatigue_after=tuple(self.after),
            notes=tuple(self.notes),
        )


def _append_run(runs: list[Segment], start_h: float, length_h: float, kind: str) -> None:
    """Extend the last run when this one continues it, else start a new one."""
    if (
        runs
        and runs[-1].kind == kind
        and abs(runs[-1].start_h + runs[-1].length_h - start_h) < 1e-3
    ):
        last = runs[-1]
        runs[-1] = Segment(last.start_h, last.length_h + length_h, kind)
    else:
        runs.append(Segment(start_h, length_h, kind))


def _select(
    conn: sqlite3.Connection,
    lost: list[LostRows],
    table: str,
    columns: tuple[str, ...],
    lo: float,
    hi: float,
    *,
    time_column: str = "t",
    order_by: tuple[str, ...] = (),
) -> list[tuple[Any, ...]]:
    """The columns of a table's rows in [lo, hi); around a damaged page, what can be read."""
    sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {time_column} >= ? AND {time_column} < ?"
    if order_by:
        sql += f" ORDER BY {', '.join(order_by)}"
    try:
        return conn.execute(sql, (lo, hi)).fetchall()  # our own table and column names
    except sqlite3.DatabaseError:
        pass
    # A damaged page (of the table or of its time index): read the table row by row.
    names = readable_columns(conn, table, lost)
    if names is None:
        return []
    wanted = [names.index(c) for c in columns]
    at = names.index(time_column)
    rows = [
        tuple(row[i] for i in wanted)
        for row in readable_rows(conn, table, lost)
        if row[at] is not None and lo <= row[at] < hi
    ]
    keys = [columns.index(c) for c in order_by]
    rows.sort(key=lambda row: tuple(row[k] for k in keys))
    return rows


def _add_samples(
    conn: sqlite3.Connection,
    lo: float,
    hi: float,
    builders: dict[datetime.date, _DayBuilder],
    lost: list[LostRows],
) -> None:
    rows = _select(
        conn,
        lost,
        "posture_samples",
        (
            "session_id",
            "t",
            "window_s",
            "state",
            "upright_s",
            "slouched_s",
            "away_s",
            "unknown_s",
            "activity",
        ),
        lo,
        hi,
        order_by=("session_id", "t"),
    )
    # The still stretch being followed: (session, day, end time, length so far).
    stretch: tuple[int, datetime.date, float, float] | None = None
    for session_id, t, window_s, state, up_s, sl_s, aw_s, un_s, activity in rows:
        day = local_day(t)
        b = builders[day]
        for state_name, seconds in zip(STATES, (up_s, sl_s, aw_s, un_s), strict=True):
            b.state_s[state_name] += seconds
        _append_run(b.posture, local_hour(t), window_s / 3600, state)
        if activity != Activity.STILL:
            stretch = None
            continue
        continues = (
            stretch is not None
            and stretch[0] == session_id
            and stretch[1] == day
            and t - stretch[2] <= _CONTIGUOUS_GAP_S
        )
        length_s = stretch[3] + window_s if continues and stretch is not None else window_s
        stretch = (session_id, day, t + window_s, length_s)
        b.longest_still_s = max(b.longest_still_s, stretch[3])
        _append_run(b.still, local_hour(t), window_s / 3600, Activity.STILL)


def _days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]


def summarise(
    conn: sqlite3.Connection,
    first: datetime.date,
    last: datetime.date,
    lost: list[LostRows] | None = None,
) -> dict[datetime.date, tuple[DaySummary, tuple[Segment, ...], tuple[Segment, ...]]]:
    """Each day from `first` to `last` (inclusive): its summary, posture runs, still runs.

    Rows a damaged database will not give up are left out and added to `lost`.
    """
    lost = [] if lost is None else lost
    lo, hi = day_start(first), day_start(last + datetime.timedelta(days=1))
    builders: dict[datetime.date, _DayBuilder] = defaultdict(_DayBuilder)
    _add_samples(conn, lo, hi, builders, lost)
    for (started_at,) in _select(
        conn, lost, "sessions", ("started_at",), lo, hi, time_column="started_at"
    ):
        builders[local_day(started_at)].sessions += 1
    for t, reason, outcome, correction_s in _select(
        conn, lost, "prompts", ("t", "reason", "outcome", "correction_s"), lo, hi
    ):
        b = builders[local_day(t)]
        b.prompts[outcome or OPEN_OUTCOME] += 1
        if reason in POSTURE_REASONS and correction_s is not None:
            b.corrections_s.append(float(correction_s))
    for t, movement, reps in _select(conn, lost, "sets", ("t", "movement", "reps"), lo, hi):
        b = builders[local_day(t)]
        b.reps[movement] += int(reps)
        b.sets += 1
    for t, before, after in _select(conn, lost, "fatigue", ("t", "before", "after"), lo, hi):
        b = builders[local_day(t)]
        if before is not None:
            b.before.append(int(before))
        if after is not None:
            b.after.append(int(after))
    for t, text in _select(conn, lost, "notes", ("t", "text"), lo, hi, order_by=("t",)):
        builders[local_day(t)].notes.append(str(text))
    out: dict[datetime.date, tuple[DaySummary, tuple[Segment, ...], tuple[Segment, ...]]] = {}
    for day in _days(first, last):
        b = builders.get(day, _DayBuilder())
        out[day] = (b.summary(day), tuple(b.posture), tuple(b.still))
    return out


def load_history(
    conn: sqlite3.Connection,
    days: int = 7,
    today: datetime.date | None = None,
    weeks: int = 4,
) -> HistorySummary:
    """The last `days` days up to `today` (local), and the trend over the last `weeks` weeks."""
    if days < 1 or weeks < 1:
        raise ConfigError(f"a report covers at least 1 day and 1 week, not {days} and {weeks}")
    last = today if today is not None else datetime.date.today()
    first = last - datetime.timedelta(days=days - 1)
    first_week = week_start(last) - datetime.timedelta(weeks=weeks - 1)
    lost: list[LostRows] = []
    per_day = summarise(conn, min(first, first_week), last, lost)
    shown = [per_day[d] for d in _days(first, last)]
    week_list = [
        WeekSummary(
            days=tuple(
                per_day[d][0] for d in _days(start, min(last, start + datetime.timedelta(days=6)))
            ),
            week_start=start,
        )
        for start in _days(first_week, week_start(last))
        if start.weekday() == 0
    ]
    reps: Counter[str] = Counter()
    for summary, _, _ in shown:
        reps.update(summary.reps_by_movement)
    return HistorySummary(
        days=tuple(s for s, _, _ in shown),
        weeks=tuple(week_list),
        posture={s.day: p for s, p, _ in shown},
        still={s.day: st for s, _, st in shown},
        movements=tuple(m for m, _ in reps.most_common()),
        unreadable=tuple(lost),
    )
