"""Provides history queries: daily summaries and a weekly trend, computed from the raw rows."""

from __future__ import annotations

import datetime
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from coach.records import Activity, Reason
from coach.session_log import OUTCOMES, STATES

POSTURE_REASONS = (Reason.FORWARD_HEAD, Reason.THORACIC_ROUNDING)
"""Prompt reasons that are posture nudges (their correction time is reported)."""
OPEN_OUTCOME = "open"
"""How a prompt without a recorded outcome is counted."""
# Two still samples further apart than this are separate stretches (the camera stopped).
_CONTIGUOUS_GAP_S = 1.0


def day_start(day: datetime.date) -> float:
    """Local midnight at the start of a day, as epoch seconds."""
    return datetime.datetime.combine(day, datetime.time()).timestamp()


def local_day(epoch_s: float) -> datetime.date:
    """The local calendar day of an epoch time."""
    return datetime.datetime.fromtimestamp(epoch_s).date()


def local_hour(epoch_s: float) -> float:
    """Hours since local midnight (fractional), for the day charts."""
    t = datetime.datetime.fromtimestamp(epoch_s)
    return t.hour + t.minute / 60 + (t.second + t.microsecond / 1e6) / 3600


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of a day's week."""
    return day - datetime.timedelta(days=day.weekday())


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
        return self.state_s.get("slouched", 0.0) / 60

    @property
    def sitting_s(self) -> float:
        """Seconds at the desk with a measurable posture (upright or slouched)."""
        return self.state_s.get("upright", 0.0) + self.state_s.get("slouched", 0.0)

    @property
    def upright_share(self) -> float | None:
        """Share (0..1) of sitting time spent upright; None without sitting time."""
        return self.state_s.get("upright", 0.0) / self.sitting_s if self.sitting_s > 0 else None

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
class WeekSummary:
    """One Monday-to-Sunday week, from its days."""

    week_start: datetime.date
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
        """Share of the week's sitting time spent upright."""
        sitting_s = sum(d.sitting_s for d in self.days)
        upright_s = sum(d.state_s.get("upright", 0.0) for d in self.days)
        return upright_s / sitting_s if sitting_s > 0 else None

    @property
    def prompts(self) -> int:
        """Prompts shown."""
        return sum(d.prompts for d in self.days)

    @property
    def prompts_done(self) -> int:
        """Prompts acted on."""
        return sum(d.prompts_by_outcome.get("done", 0) for d in self.days)

    @property
    def done_share(self) -> float | None:
        """Share of prompts acted on."""
        return self.prompts_done / self.prompts if self.prompts else None

    @property
    def median_correction_s(self) -> float | None:
        """Median seconds to correct after a posture nudge, over the week."""
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
        """The week's longest still stretch."""
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
class History:
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
    def has_data(self) -> bool:
        """Whether any day of the report has data."""
        return any(d.has_data for d in self.days)


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
        _append_run(b.still, local_hour(t), window_s / 3600, "still")


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
) -> History:
    """The last `days` days up to `today` (local), and the trend over the last `weeks` weeks."""
    if days < 1 or weeks < 1:
        raise ValueError("days and weeks must be at least 1")
    last = today if today is not None else datetime.date.today()
    first = last - datetime.timedelta(days=days - 1)
    first_week = week_start(last) - datetime.timedelta(weeks=weeks - 1)
    lost: list[LostRows] = []
    per_day = summarise(conn, min(first, first_week), last, lost)
    shown = [per_day[d] for d in _days(first, last)]
    week_list = [
        WeekSummary(
            start,
            tuple(
                per_day[d][0] for d in _days(start, min(last, start + datetime.timedelta(days=6)))
            ),
        )
        for start in _days(first_week, week_start(last))
        if start.weekday() == 0
    ]
    reps: Counter[str] = Counter()
    for summary, _, _ in shown:
        reps.update(summary.reps_by_movement)
    return History(
        days=tuple(s for s, _, _ in shown),
        weeks=tuple(week_list),
        posture={s.day: p for s, p, _ in shown},
        still={s.day: st for s, _, st in shown},
        movements=tuple(m for m, _ in reps.most_common()),
        unreadable=tuple(lost),
    )


def describe_path(path: Path) -> str:
    """The history file and its size, for `coach data --path`."""
    if not path.exists():
        return f"{path} (not created yet)"
    size_b = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    return f"{path} ({size_b / 1024:.0f} KiB)"


# Reading around damage: a corrupt page must cost the rows on it, not the whole history.

_MAX_ROWID: Final = 2**63 - 1


@dataclass(frozen=True)
class LostRows:
    """Rows of a table that could not be read: those with ids between two readable rows."""

    table: str
    after_id: int | None
    """The last id read before them (None: from the table's start)."""
    before_id: int | None
    """The first id read after them (None: to the table's end)."""
    error: str

    def __str__(self) -> str:
        if self.after_id is None and self.before_id is None:
            where = "every row"
        elif self.before_id is None:
            where = f"the rows after id {self.after_id}"
        elif self.after_id is None:
            where = f"the rows before id {self.before_id}"
        elif self.before_id - self.after_id == 2:
            where = f"row {self.after_id + 1}"
        else:
            where = f"rows {self.after_id + 1}-{self.before_id - 1}"
        return f"{self.table} {where} ({self.error})"


def readable_columns(
    conn: sqlite3.Connection, table: str, lost: list[LostRows]
) -> list[str] | None:
    """A table's column names, in order; None when even they cannot be read (the whole
    table then goes to `lost`)."""
    try:
        return [str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")]
    except sqlite3.DatabaseError as exc:
        lost.append(LostRows(table, None, None, str(exc)))
        return None


def readable_rows(
    conn: sqlite3.Connection, table: str, lost: list[LostRows]
) -> Iterator[tuple[Any, ...]]:
    """Every row of a table that can be read, in id order; what cannot goes to `lost`.

    A damaged page stops a scan; the scan goes on from the first row past it that can
    be read, found by probing (so a damaged row costs that row, a damaged page its rows).
    """
    after = -_MAX_ROWID - 1
    while True:
        try:
            for row in conn.execute(
                f"SELECT * FROM {table} WHERE id > ? ORDER BY id",  # our own table names
                (after,),
            ):
                yield tuple(row)
                after = int(row[0])
            return
        except sqlite3.DatabaseError as exc:
            error = str(exc)
        # The cursor reads a row ahead, so the failure may hide a good row: try it alone.
        ok, row = _first_row_from(conn, table, after + 1)
        if not ok:
            row = _next_readable(conn, table, after + 1)
            first_lost = None if after < 0 else after
            lost.append(LostRows(table, first_lost, None if row is None else int(row[0]), error))
        if row is None:
            return
        yield tuple(row)
        after = int(row[0])


def _first_row_from(
    conn: sqlite3.Connection, table: str, start: int
) -> tuple[bool, tuple[Any, ...] | None]:
    """Whether the first row with an id of `start` or more can be read, and that row."""
    try:
        row = conn.execute(
            f"SELECT * FROM {table} WHERE id >= ? ORDER BY id LIMIT 1", (start,)
        ).fetchone()
    except sqlite3.DatabaseError:
        return False, None
    return True, None if row is None else tuple(row)


def _next_readable(conn: sqlite3.Connection, table: str, start: int) -> tuple[Any, ...] | None:
    """The first readable row after a damaged `start`, or None when none is left."""
    bad, step = start, 1
    while True:  # gallop past the damage...
        probe = bad + step
        if probe > _MAX_ROWID:
            return None
        ok, first = _first_row_from(conn, table, probe)
        if ok:
            break
        bad, step = probe, step * 2
    good = probe
    while good - bad > 1:  # ...then find where it ends
        mid = (bad + good) // 2
        ok, found = _first_row_from(conn, table, mid)
        if ok:
            good, first = mid, found
        else:
            bad = mid
    return first
