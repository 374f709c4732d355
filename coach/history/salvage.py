"""Provides reading around damage: a corrupt page costs the rows on it, not the whole history."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

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
    # Our ids count up from 1: from the table's start (the lowest id), the gallop starts at
    # 0, else doubling steps from -2**63 would reach past 0 only in one jump to the end.
    bad, step = max(start, 0), 1
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
