"""Provides the guided-set views: a big live rep count and an end-of-set summary (pure functions)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from coach.records import SetCompleted
from coach.statuses import CounterStatus

# Digits drawn 5 rows tall so the count reads from across the desk.
_BIG_DIGITS: dict[str, tuple[str, ...]] = {
    "0": ("███", "█ █", "█ █", "█ █", "███"),
    "1": (" █ ", "██ ", " █ ", " █ ", "███"),
    "2": ("███", "  █", "███", "█  ", "███"),
    "3": ("███", "  █", "███", "  █", "███"),
    "4": ("█ █", "█ █", "███", "  █", "  █"),
    "5": ("███", "█  ", "███", "  █", "███"),
    "6": ("███", "█  ", "███", "█ █", "███"),
    "7": ("███", "  █", "  █", "  █", "  █"),
    "8": ("███", "█ █", "███", "█ █", "███"),
    "9": ("███", "█ █", "███", "  █", "███"),
}

_PHASE_STYLE = {
    "cow": "bold green",
    "cat": "bold magenta",
    "left": "bold cyan",
    "right": "bold cyan",
    "neutral": "bold",
}


def big_number(n: int, style: str = "bold") -> Text:
    """`n` in block digits five rows tall (each stroke doubled in width)."""
    rows = ["  ".join("".join(c * 2 for c in _BIG_DIGITS[d][r]) for d in str(n)) for r in range(5)]
    return Text("\n".join(rows), style=style)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    return f"{minutes:d}:{secs:02d}"


def _count_block(label: str | None, n: int, target: int | None) -> RenderableType:
    done = target is not None and n >= target
    parts: list[RenderableType] = []
    if label:
        parts.append(Text(label, style="bold"))
    parts.append(big_number(n, "bold green" if done else "bold"))
    if target is not None:
        parts.append(Text(f"{n} of {target}" + ("  done" if done else ""), style="dim"))
    return Group(*parts)


def render_count(
    status: CounterStatus, *, movement_name: str, cues: tuple[str, ...], elapsed_s: float
) -> RenderableType:
    """The live view of a guided set: the count in big digits, phase, breath, coaching."""
    if status.per_side is not None:
        counts = Table.grid(padding=(0, 6))
        counts.add_column()
        counts.add_column()
        counts.add_row(
            _count_block("LEFT", status.per_side.get("left", 0), status.target_reps),
            _count_block("RIGHT", status.per_side.get("right", 0), status.target_reps),
        )
        count: RenderableType = counts
    else:
        count = _count_block(None, status.reps, status.target_reps)
    lines = Table.grid(padding=(0, 2))
    lines.add_column(style="bold", no_wrap=True)
    lines.add_column()
    if status.paused:
        lines.add_row("Paused", Text("can't see your head and shoulders clearly", style="yellow"))
    elif not status.started:
        lines.add_row("Ready", Text("start when you are; the count begins with you", style="cyan"))
    else:
        phase = Text(status.phase.upper(), style=_PHASE_STYLE.get(status.phase, "bold"))
        lines.add_row("Phase", phase)
    lines.add_row("Breath", Text(status.breath_cue, style="cyan"))
    if status.last_feedback:
        lines.add_row("Coach", Text(status.last_feedback, style="yellow"))
    lines.add_row("Time", _clock(elapsed_s))
    parts: list[RenderableType] = [count, Text(""), lines]
    if cues:
        parts.append(Text("\n".join(f"• {cue}" for cue in cues), style="dim"))
    return Panel(Group(*parts), title=Text(movement_name), border_style="green", expand=False)


def summary_table(set: SetCompleted) -> RenderableType:  # noqa: A002 (the agreed interface name)
    """The end of a set: every rep (phases, range) and the coaching summary."""
    completed = set
    lateral = completed.per_side is not None
    noun = "rep" if completed.reps == 1 else "reps"
    table = Table(
        title=Text(f"{completed.movement}: {completed.reps} {noun}"), title_justify="left"
    )
    table.add_column("rep", justify="right")
    if lateral:
        table.add_column("side")
    names = ("lean", "return") if lateral else ("cow", "cat")
    for name in names:
        table.add_column(f"{name} s", justify="right")
    table.add_column("range", justify="right")
    table.add_column("")
    for i, rep in enumerate(completed.reps_detail, start=1):
        row = [str(i)]
        if lateral:
            row.append(rep.side or "")
        row += [f"{p:.1f}" for p in rep.phase_s[: len(names)]]
        row += [""] * (len(names) - min(len(names), len(rep.phase_s)))
        row.append(f"{rep.range:.0%}")
        row.append("partial" if rep.partial else "")
        table.add_row(*row)
    parts: list[RenderableType] = [table]
    if completed.per_side is not None:
        sides = ", ".join(f"{side} {n}" for side, n in completed.per_side.items())
        parts.append(Text(f"Per side: {sides}"))
    duration_s = max(0.0, completed.end_s - completed.start_s)
    how = "recognised without a prompt" if completed.recognised else "guided"
    parts.append(Text(f"{_clock(duration_s)} ({how})", style="dim"))
    if completed.feedback:
        parts.append(Text("\n".join(f"• {line}" for line in completed.feedback)))
    return Panel(Group(*parts), title="Set complete", border_style="green", expand=False)
