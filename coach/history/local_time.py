"""Provides local calendar time for the history: days, weeks and hours as the user lives them."""

from __future__ import annotations

import datetime


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


def local_datetime(epoch_s: float) -> datetime.datetime:
    """An epoch time as an aware local date-time (reports and exports show local time)."""
    return datetime.datetime.fromtimestamp(epoch_s).astimezone()
