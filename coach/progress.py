"""Provides progress bars for long work: rich, with time left, on a terminal's stderr only."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

Report = Callable[[float], None]
"""Tells the bar how much is done so far (absolute, in the bar's unit)."""


class Unit(enum.Enum):
    """What a bar counts, which decides its columns."""

    BYTES = "bytes"
    STREAM_S = "seconds of video"
    ITEMS = "items"


class ProgressBars(Protocol):
    """Opens one bar for one piece of work; the context yields its `Report`."""

    def __call__(
        self, description: str, total: float | None, unit: Unit
    ) -> AbstractContextManager[Report]: ...


def _ignore(_done: float) -> None:
    """A bar nobody sees."""


@contextmanager
def no_progress(description: str, total: float | None, unit: Unit) -> Iterator[Report]:
    """No bar: for scripts, pipes, logs and tests (the work is the same)."""
    yield _ignore


def _columns(unit: Unit) -> list[ProgressColumn | str]:
    if unit is Unit.BYTES:
        counted: list[ProgressColumn | str] = [DownloadColumn(), TransferSpeedColumn()]
    elif unit is Unit.STREAM_S:
        counted = [TextColumn("{task.completed:.0f} of {task.fields[total_text]} s of video")]
    else:
        counted = [MofNCompleteColumn()]
    return [
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        *counted,
        TimeElapsedColumn(),
        TextColumn("elapsed,"),
        TimeRemainingColumn(),
        TextColumn("left"),
    ]


def terminal_progress(console: Console) -> ProgressBars:
    """Bars drawn on `console` when it is a terminal, else none (never into piped output)."""
    if not console.is_terminal:
        return no_progress

    @contextmanager
    def bar(description: str, total: float | None, unit: Unit) -> Iterator[Report]:
        # transient: the bar goes when the work ends; the command's own lines stay.
        with Progress(*_columns(unit), console=console, transient=True) as progress:
            total_text = "?" if total is None else f"{total:.0f}"
            task = progress.add_task(description, total=total, total_text=total_text)

            def report(done: float) -> None:
                progress.update(task, completed=done)

            yield report

    return bar
