"""Provides the terminal report: the report's tables printed with rich."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.history.report.tables import TableData, daily_data, movement_data, weekly_data

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from coach.history.summaries import HistorySummary

# Terminals narrower than this get the compact daily table.
WIDE_TERMINAL_COLUMNS = 140

_RICH_TONES = {"good": "green", "bad": "red", "dim": "dim", "": ""}


def rich_table(data: TableData) -> Table:
    """A TableData as a rich table for the terminal."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=data.title,
        caption=data.caption or None,
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        title_style="bold",
        caption_style="dim",
    )
    for header, numeric in zip(data.headers, data.numeric, strict=True):
        table.add_column(header, justify="right" if numeric else "left", no_wrap=True)
    for row in data.rows:
        table.add_row(*(Text(c.text, style=_RICH_TONES[c.tone]) for c in row))
    return table


def print_report(console: Console, history: HistorySummary) -> None:
    """Print the daily table, reps by movement and the weekly trend."""
    compact = console.width < WIDE_TERMINAL_COLUMNS
    tables = [daily_data(history, compact=compact), movement_data(history)]
    tables.append(weekly_data(history, compact=compact))
    for i, data in enumerate(t for t in tables if t.rows):
        if i:
            console.print()
        console.print(rich_table(data))
