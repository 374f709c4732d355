"""Provides progress reports: rich tables for the terminal, PNG charts and a self-contained HTML page."""

from __future__ import annotations

import base64
import datetime
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coach.history import DaySummary, History, WeekSummary
from coach.private_files import open_private, open_private_binary, private_dir
from coach.records import Outcome, PostureState

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from rich.console import Console
    from rich.table import Table

# The notes' schedule asks for a movement at least every 30 min: longer still stretches stand out.
STILL_GUIDE_MIN = 30.0
# Upright shares at or above GOOD look green, below POOR look red.
UPRIGHT_GOOD = 0.8
UPRIGHT_POOR = 0.6

# Longer reports show only this many recent days in the posture timeline (one row per day).
MAX_TIMELINE_DAYS = 31
# Bar charts label at most about this many days on the x axis.
MAX_DAY_LABELS = 14
# Terminals narrower than this get the compact daily table.
WIDE_TERMINAL_COLUMNS = 140

STATE_COLOURS = {
    "upright": "#2f9e6e",
    "slouched": "#e8743b",
    "away": "#dfe3e8",
    "unknown": "#b4bac3",
}
STATE_LABELS = {
    "upright": "Upright",
    "slouched": "Slouched",
    "away": "Away",
    "unknown": "Not measurable",
}
_INK = "#1f2933"
_MUTED = "#6b7785"
_GRID = "#e6e9ee"
_STILL_OK = "#5b8def"
_STILL_LONG = "#d64545"
_MOVEMENT_COLOURS = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and a tone the terminal and the HTML page both colour."""

    text: str
    tone: str = ""
    """"good", "bad", "dim" or "" (plain)."""


@dataclass(frozen=True)
class TableData:
    """A table shared by the terminal and the HTML page."""

    title: str
    headers: tuple[str, ...]
    numeric: tuple[bool, ...]
    """Whether each column is right-aligned."""
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class ReportFiles:
    """The files one `coach report --out DIR` wrote."""

    html: Path
    charts: dict[str, Path]


EN_DASH = "\u2013"
DASH = Cell(EN_DASH, "dim")


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _share(value: float | None) -> Cell:
    if value is None:
        return DASH
    tone = "good" if value >= UPRIGHT_GOOD else "bad" if value < UPRIGHT_POOR else ""
    return Cell(f"{value:.0%}", tone)


def _number(value: float | None, fmt: str = "{:.0f}", tone: str = "") -> Cell:
    return DASH if value is None else Cell(fmt.format(value), tone)


def _count(value: int) -> Cell:
    return Cell(str(value)) if value else Cell("0", "dim")


def _still(seconds: float) -> Cell:
    if seconds <= 0:
        return DASH
    minutes = seconds / 60
    return Cell(f"{minutes:.0f}", "bad" if minutes > STILL_GUIDE_MIN else "")


def _fatigue(before: float | None, after: float | None) -> Cell:
    if before is None and after is None:
        return DASH
    left = "?" if before is None else f"{before:.1f}"
    right = "?" if after is None else f"{after:.1f}"
    tone = "good" if before is not None and after is not None and after < before else ""
    return Cell(f"{left} → {right}", tone)


def _day_label(day: datetime.date) -> str:
    return day.strftime("%a %d %b")


def daily_data(history: History, *, compact: bool = False) -> TableData:
    """The daily table: one row per day of the report, newest first.

    `compact` (narrow terminals) folds the four outcome columns into "done/shown".
    """
    rows: list[tuple[Cell, ...]] = []
    width = 9 if compact else 13
    for d in reversed(history.days):
        if not d.has_data:
            rows.append(
                (Cell(_day_label(d.day), "dim"), Cell("no data", "dim"), *[DASH] * (width - 2))
            )
            continue
        outcomes = d.prompts_by_outcome
        done = outcomes.get(Outcome.DONE, 0)
        prompt_cells = (
            (Cell(f"{done}/{d.prompts}") if d.prompts else Cell("0", "dim"),)
            if compact
            else (
                _count(d.prompts),
                _count(done),
                _count(outcomes.get(Outcome.SNOOZED, 0)),
                _count(outcomes.get(Outcome.SKIPPED, 0)),
                _count(outcomes.get(Outcome.IGNORED, 0)),
            )
        )
        rows.append(
            (
                Cell(_day_label(d.day)),
                Cell(_duration(d.recorded_s)) if d.recorded_s else DASH,
                _share(d.upright_share),
                _number(d.slouched_min if d.recorded_s else None, "{:.1f}"),
                _still(d.longest_still_s),
                *prompt_cells,
                _number(d.median_correction_s),
                _count(d.reps),
                _fatigue(d.fatigue_before_mean, d.fatigue_after_mean),
            )
        )
    prompt_headers = (
        ("Prompts done",) if compact else ("Prompts", "Done", "Snoozed", "Skipped", "Ignored")
    )
    headers = (
        ("Day", "Watched", "Upright", "Slouch", "Still", "Done", "Fix s", "Reps", "Fatigue")
        if compact
        else (
            "Day",
            "Watched",
            "Upright",
            "Slouched min",
            "Longest still min",
            *prompt_headers,
            "Fix s",
            "Reps",
            "Fatigue 1-5",
        )
    )
    return TableData(
        title=f"Daily summary, {_day_label(history.first_day)} {EN_DASH} {_day_label(history.last_day)}",
        headers=headers,
        numeric=(False, *[True] * (len(headers) - 1)),
        rows=tuple(rows),
        caption=(
            "Upright: share of sitting time. Fix s: median seconds to sit up after a posture "
            "nudge. Fatigue: mean rating before → after sets."
            + (
                " Slouch: minutes. Still: longest still stretch, minutes. Done: prompts acted "
                "on of those shown (--out has every outcome)."
                if compact
                else ""
            )
        ),
    )


def _trend(now: float | None, before: float | None, lower_is_better: bool, fmt: str) -> Cell:
    """A value with an arrow against the previous week, green when it moved the right way."""
    if now is None:
        return DASH
    text = fmt.format(now)
    if before is None or abs(now - before) < 1e-9:
        return Cell(text)
    went_down = now < before
    good = went_down == lower_is_better
    return Cell(f"{text} {'↓' if went_down else '↑'}", "good" if good else "bad")


def weekly_data(history: History, *, compact: bool = False) -> TableData:
    """The weekly trend: one row per week, newest first, arrows against the week before.

    `compact` (narrow terminals) shortens the headers.
    """
    previous: WeekSummary | None = None
    built: list[tuple[Cell, ...]] = []
    for w in history.weeks:
        p = previous
        days = len(w.active_days)
        label = w.week_start.strftime("%d %b") + ("*" if w is history.weeks[-1] else "")
        if not days:
            built.append((Cell(label, "dim"), Cell("0", "dim"), *[DASH] * 7))
        else:
            built.append(
                (
                    Cell(label),
                    Cell(str(days)),
                    _trend(
                        w.slouched_min_per_day,
                        p.slouched_min_per_day if p else None,
                        lower_is_better=True,
                        fmt="{:.1f}",
                    ),
                    _trend(
                        None if w.upright_share is None else 100 * w.upright_share,
                        None if p is None or p.upright_share is None else 100 * p.upright_share,
                        lower_is_better=False,
                        fmt="{:.0f}%",
                    ),
                    _count(w.prompts),
                    _trend(
                        None if w.done_share is None else 100 * w.done_share,
                        None if p is None or p.done_share is None else 100 * p.done_share,
                        lower_is_better=False,
                        fmt="{:.0f}%",
                    ),
                    _trend(
                        w.median_correction_s,
                        p.median_correction_s if p else None,
                        lower_is_better=True,
                        fmt="{:.0f}",
                    ),
                    _trend(
                        w.reps_per_day,
                        p.reps_per_day if p else None,
                        lower_is_better=False,
                        fmt="{:.0f}",
                    ),
                    _fatigue(w.fatigue_before_mean, w.fatigue_after_mean),
                )
            )
            previous = w
    rows = list(reversed(built))
    return TableData(
        title="Weekly trend",
        headers=(
            ("Week", "Days", "Slouch", "Upright", "Prompts", "Done", "Fix s", "Reps", "Fatigue")
            if compact
            else (
                "Week of",
                "Days",
                "Slouched min/day",
                "Upright",
                "Prompts",
                "Acted on",
                "Fix s",
                "Reps per day",
                "Fatigue 1-5",
            )
        ),
        numeric=(False, True, True, True, True, True, True, True, True),
        rows=tuple(rows),
        caption=(
            "* this week, so far. Arrows compare with the previous week that has data; "
            "green is better."
            + (
                " Slouch: minutes per day watched. Done: share of prompts acted on. Reps: per day."
                if compact
                else ""
            )
        ),
    )


def movement_data(history: History) -> TableData:
    """Reps by movement over the report's days."""
    rows = []
    for movement in history.movements:
        reps = sum(d.reps_by_movement.get(movement, 0) for d in history.days)
        active = sum(1 for d in history.days if d.reps_by_movement.get(movement))
        rows.append((Cell(movement), Cell(str(reps)), Cell(str(active))))
    return TableData(
        title="Reps by movement",
        headers=("Movement", "Reps", "Days"),
        numeric=(False, True, True),
        rows=tuple(rows),
    )


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


def print_report(console: Console, history: History) -> None:
    """Print the daily table, reps by movement and the weekly trend."""
    compact = console.width < WIDE_TERMINAL_COLUMNS
    tables = [daily_data(history, compact=compact), movement_data(history)]
    tables.append(weekly_data(history, compact=compact))
    for i, data in enumerate(t for t in tables if t.rows):
        if i:
            console.print()
        console.print(rich_table(data))


# Charts: matplotlib's object API on an Agg canvas, so no global pyplot state is touched.


def _figure(width_in: float, height_in: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=110, layout="constrained")
    fig.patch.set_facecolor("white")
    return fig


def _style(ax: Axes) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(_GRID)
    ax.tick_params(colors=_MUTED, labelsize=9, length=0)
    ax.title.set_color(_INK)


def _save(fig: Figure, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with open_private_binary(path) as handle:  # charts of the user's health: 0600
        fig.savefig(handle, format="png", facecolor="white")
    return path


def _day_ticks(ax: Axes, days: list[DaySummary]) -> None:
    """Label the days on the x axis, thinned to about two weeks' worth of labels."""
    step = max(1, -(-len(days) // MAX_DAY_LABELS))
    labels = [_day_label(d.day) if step == 1 else d.day.strftime("%d %b") for d in days[::step]]
    ax.set_xticks(range(0, len(days), step), labels, fontsize=8)


def _label_empty_bars(ax: Axes, history: History) -> None:
    """Write "no data" over the days a bar chart has nothing for (not the same as zero)."""
    if len(history.days) > MAX_DAY_LABELS:
        return  # too narrow to write in; the gaps speak for themselves
    for x, day in enumerate(history.days):
        if not day.has_data:
            ax.annotate(
                "no data",
                (x, 0),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=_MUTED,
                style="italic",
            )


def _hour_range(history: History) -> tuple[float, float]:
    """The hours of day the posture chart spans: the data's, whole hours, at least 8-18."""
    starts = [s.start_h for runs in history.posture.values() for s in runs]
    ends = [s.start_h + s.length_h for runs in history.posture.values() for s in runs]
    if not starts:
        return 8.0, 18.0
    lo, hi = int(min(starts)), int(-(-max(ends) // 1))
    return float(max(0, min(lo, 8))), float(min(24, max(hi, lo + 4)))


def posture_chart(history: History, path: Path) -> Path:
    """One bar per day across the hours: upright, slouched, away, not measurable."""
    from matplotlib.patches import Patch

    days = list(reversed(history.days[-MAX_TIMELINE_DAYS:]))  # newest at the top
    fig = _figure(10, 0.42 * len(days) + 1.5)
    ax = fig.add_subplot()
    for y, day in enumerate(days):
        runs = history.posture.get(day.day, ())
        if not runs:
            ax.text(
                0.5,
                y,
                "no data" if not day.has_data else "not watched",
                transform=ax.get_yaxis_transform(),
                ha="center",
                va="center",
                fontsize=8,
                color=_MUTED,
                style="italic",
            )
        for state, colour in STATE_COLOURS.items():
            spans = [(r.start_h, r.length_h) for r in runs if r.kind == state]
            if spans:
                ax.broken_barh(spans, (y - 0.34, 0.68), facecolors=colour, linewidth=0)
    lo, hi = _hour_range(history)
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.6, len(days) - 0.4)
    ax.set_yticks(range(len(days)), [_day_label(d.day) for d in days])
    hours = range(int(lo), int(hi) + 1, 1 if hi - lo <= 12 else 2)
    ax.set_xticks(hours, [f"{h:02d}:00" for h in hours])
    ax.grid(axis="x", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    _style(ax)
    title = "Posture through each day"
    if len(history.days) > MAX_TIMELINE_DAYS:
        title += f" (last {MAX_TIMELINE_DAYS} days)"
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.legend(
        handles=[Patch(color=c, label=STATE_LABELS[s]) for s, c in STATE_COLOURS.items()],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=4,
        frameon=False,
        fontsize=9,
        handlelength=1.2,
        borderaxespad=0.2,
    )
    return _save(fig, path)


def still_chart(history: History, path: Path) -> Path:
    """The longest still stretch of each day, against the 30-minute guide."""
    days = list(history.days)
    minutes = [d.longest_still_s / 60 for d in days]
    fig = _figure(10, 3.2)
    ax = fig.add_subplot()
    colours = [_STILL_LONG if m > STILL_GUIDE_MIN else _STILL_OK for m in minutes]
    bars = ax.bar(range(len(days)), minutes, color=colours, width=0.6)
    for bar, m in zip(bars, minutes, strict=True):
        if m > 0:
            ax.annotate(
                f"{m:.0f}",
                (bar.get_x() + bar.get_width() / 2, m),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=_MUTED,
            )
    ax.axhline(STILL_GUIDE_MIN, color=_INK, linewidth=1, linestyle=(0, (4, 3)))
    ax.annotate(
        f"move at least every {STILL_GUIDE_MIN:.0f} min",
        (1.0, STILL_GUIDE_MIN),
        xycoords=("axes fraction", "data"),
        xytext=(0, 4),
        textcoords="offset points",
        ha="right",
        fontsize=8,
        color=_INK,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
    )
    ax.set_ylim(0, max([*minutes, STILL_GUIDE_MIN]) * 1.25)
    _label_empty_bars(ax, history)
    _day_ticks(ax, days)
    ax.set_ylabel("minutes", color=_MUTED, fontsize=9)
    ax.grid(axis="y", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    _style(ax)
    ax.set_title("Longest still stretch", loc="left", fontsize=12, fontweight="bold")
    return _save(fig, path)


def reps_chart(history: History, path: Path) -> Path:
    """Reps per day, stacked by movement."""
    days = list(history.days)
    fig = _figure(10, 3.4)
    ax = fig.add_subplot()
    bottoms = [0.0] * len(days)
    for i, movement in enumerate(history.movements):
        counts = [float(d.reps_by_movement.get(movement, 0)) for d in days]
        ax.bar(
            range(len(days)),
            counts,
            bottom=bottoms,
            width=0.6,
            label=movement,
            color=_MOVEMENT_COLOURS[i % len(_MOVEMENT_COLOURS)],
        )
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    for x, total in enumerate(bottoms):
        if total > 0:
            ax.annotate(
                f"{total:.0f}",
                (x, total),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=_MUTED,
            )
    if not history.movements:
        ax.text(0.5, 0.5, "no sets recorded", transform=ax.transAxes, ha="center", color=_MUTED)
    ax.set_ylim(0, max([*bottoms, 10.0]) * 1.2)
    _label_empty_bars(ax, history)
    _day_ticks(ax, days)
    ax.set_ylabel("reps", color=_MUTED, fontsize=9)
    ax.grid(axis="y", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    _style(ax)
    ax.set_title("Reps per day", loc="left", fontsize=12, fontweight="bold")
    if history.movements:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _save(fig, path)


def render_charts(history: History, out_dir: Path) -> dict[str, Path]:
    """Write posture.png, still.png and reps.png; returns them by name."""
    private_dir(out_dir)
    return {
        "posture": posture_chart(history, out_dir / "posture.png"),
        "still": still_chart(history, out_dir / "still.png"),
        "reps": reps_chart(history, out_dir / "reps.png"),
    }


# HTML: one file, charts inlined as data URIs, no scripts, no network.

_CSS = """
:root { --ink:#1f2933; --muted:#6b7785; --line:#e6e9ee; --bg:#f5f7fa; --good:#1f8a5b;
  --bad:#c2410c; --card:#fff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 32px 24px 48px; }
header h1 { margin: 0; font-size: 26px; letter-spacing: -0.01em; }
header p { margin: 4px 0 0; color: var(--muted); }
.cards { display:grid; grid-template-columns: repeat(4, 1fr); gap:16px; margin:24px 0; }
.card { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:16px 18px; }
.card .label { color:var(--muted); font-size:13px; }
.card .value { font-size:28px; font-weight:650; margin-top:2px; }
.card .sub { color:var(--muted); font-size:12px; }
section { background:var(--card); border:1px solid var(--line); border-radius:12px;
  padding:18px 20px; margin-top:18px; }
section h2 { font-size:17px; margin:0 0 10px; }
img { display:block; width:100%; height:auto; }
.scroll { overflow-x:auto; }
table.compact { width:auto; min-width:45%; }
table { width:100%; border-collapse:collapse; font-size:13px; font-variant-numeric: tabular-nums; }
th { text-align:left; color:var(--muted); font-weight:600; font-size:12px; line-height:1.25;
  border-bottom:2px solid var(--line); padding:6px 6px; vertical-align:bottom; }
td { border-bottom:1px solid var(--line); padding:6px 6px; white-space:nowrap; }
tr:last-child td { border-bottom:none; }
.num { text-align:right; }
.good { color:var(--good); font-weight:600; }
.bad { color:var(--bad); font-weight:600; }
.dim { color:#a3acb8; }
.caption { color:var(--muted); font-size:12px; margin-top:8px; }
footer { color:var(--muted); font-size:12px; margin-top:24px; }
"""


def _html_table(data: TableData) -> str:
    head = "".join(
        f'<th class="{"num" if n else ""}">{html.escape(h)}</th>'
        for h, n in zip(data.headers, data.numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{" ".join(filter(None, ("num" if n else "", c.tone)))}">'
            f"{html.escape(c.text)}</td>"
            for c, n in zip(row, data.numeric, strict=True)
        )
        + "</tr>"
        for row in data.rows
    )
    caption = f'<p class="caption">{html.escape(data.caption)}</p>' if data.caption else ""
    return (
        f"<section><h2>{html.escape(data.title)}</h2>"
        f'<div class="scroll"><table class="{"compact" if len(data.headers) <= 3 else ""}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        f"</div>{caption}</section>"
    )


def _cards(history: History) -> str:
    days = [d for d in history.days if d.has_data]
    sitting_s = sum(d.sitting_s for d in days)
    upright_s = sum(d.state_s.get(PostureState.UPRIGHT, 0.0) for d in days)
    watched = [d for d in days if d.recorded_s > 0]
    prompts = sum(d.prompts for d in days)
    done = sum(d.prompts_by_outcome.get(Outcome.DONE, 0) for d in days)
    reps = sum(d.reps for d in days)
    longest_s = max((d.longest_still_s for d in days), default=0.0)
    cards = (
        ("Upright", f"{upright_s / sitting_s:.0%}" if sitting_s else EN_DASH, "of sitting time"),
        (
            "Slouched",
            f"{sum(d.slouched_min for d in watched) / len(watched):.0f} min"
            if watched
            else EN_DASH,
            "per day watched",
        ),
        (
            "Prompts acted on",
            f"{done / prompts:.0%}" if prompts else EN_DASH,
            f"{done} of {prompts}",
        ),
        ("Reps", str(reps), f"longest still stretch {longest_s / 60:.0f} min"),
    )
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="label">{html.escape(label)}</div>'
            f'<div class="value">{html.escape(value)}</div><div class="sub">{html.escape(sub)}</div></div>'
            for label, value, sub in cards
        )
        + "</div>"
    )


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(history: History, charts: dict[str, Path]) -> str:
    """The whole report as one HTML page (charts embedded, no external resources)."""
    span = f"{history.first_day:%A %d %B %Y} {EN_DASH} {history.last_day:%A %d %B %Y}"
    figures = "".join(
        f'<section><img alt="{html.escape(name)} chart" src="{_data_uri(path)}"></section>'
        for name, path in charts.items()
    )
    tables = "".join(
        _html_table(t)
        for t in (daily_data(history), movement_data(history), weekly_data(history))
        if t.rows
    )
    generated = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>coach report {history.first_day} {EN_DASH} {history.last_day}</title>"
        f"<style>{_CSS}</style></head><body><main>"
        f"<header><h1>Posture &amp; movement report</h1><p>{html.escape(span)}</p></header>"
        f"{_cards(history)}{figures}{tables}"
        f"<footer>Generated by coach on {html.escape(generated)} from your local history. "
        "No camera images are stored.</footer>"
        "</main></body></html>"
    )


def write_report(history: History, out_dir: Path) -> ReportFiles:
    """Write the charts and report.html into `out_dir`."""
    charts = render_charts(history, out_dir)
    page = out_dir / "report.html"
    with open_private(page) as handle:
        handle.write(render_html(history, charts))
    return ReportFiles(html=page, charts=charts)
