"""Provides reading around damage: a corrupt page costs the rows on it, not the whole history."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
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


TABLE_LIST_NOTE: Final = (
    "its list of tables is damaged; the tables were read where this coach puts them"
)


def copy_with_table_list(path: Path, folder: Path) -> Path | None:
    """A copy (in `folder`) of a history whose first page, its list of tables, is damaged,
    with the list this coach writes in its place; None when the file's tables are not
    where that list says (another coach's layout), or the file is too damaged to tell.

    The list names the tables' columns only (no constraints, no indexes): enough to read.
    """
    data = bytearray(path.read_bytes())
    size_b = int.from_bytes(data[16:18], "big")
    size_b = 65536 if size_b == 1 else size_b
    if size_b < 512 or size_b & (size_b - 1) or len(data) < 2 * size_b:
        return None
    pages = len(data) // size_b
    tables = _fresh_tables(folder / "reference.sqlite3", size_b)
    for root, _ in tables.values():
        if root > pages or data[(root - 1) * size_b] not in (0x0D, 0x05):  # a table b-tree
            return None
    listing = folder / "list.sqlite3"
    conn = sqlite3.connect(listing, isolation_level=None)
    try:
        conn.execute(f"PRAGMA page_size = {size_b}")
        conn.execute("PRAGMA writable_schema = ON")
        for name, (root, sql) in tables.items():
            conn.execute(
                "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) "
                "VALUES ('table', ?, ?, ?, ?)",
                (name, name, root, sql),
            )
    finally:
        conn.close()
    data[:size_b] = listing.read_bytes()[:size_b]
    data[28:32] = pages.to_bytes(4, "big")  # the page count...
    data[92:96] = data[24:28]  # ...valid for this change counter
    data[32:40] = bytes(8)  # no free pages: the list's file had none
    copy = folder / "readable.sqlite3"
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(data))
    return copy


def _fresh_tables(reference: Path, size_b: int) -> dict[str, tuple[int, str]]:
    """Each table's root page in a history this coach creates, and its columns as SQL."""
    from coach.history.schema import TABLES, migrate

    conn = sqlite3.connect(reference, isolation_level=None)
    try:
        conn.execute(f"PRAGMA page_size = {size_b}")
        conn.execute("PRAGMA journal_mode = WAL")  # as the history is created
        migrate(conn)
        found: dict[str, tuple[int, str]] = {}
        for table in TABLES:
            ((root,),) = conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchall()
            columns = [
                "id INTEGER PRIMARY KEY" if row[1] == "id" else f'"{row[1]}" {row[2]}'
                for row in conn.execute(f"PRAGMA table_info({table})")
            ]
            found[table] = (int(root), f"CREATE TABLE {table} ({', '.join(columns)})")
        return found
    finally:
        conn.close()
