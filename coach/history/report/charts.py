"""Provides the report's PNG charts: posture through each day, the longest still stretch, reps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from coach.history.report.tables import STILL_GUIDE_MIN, day_label
from coach.records import PostureState

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from coach.history.summaries import DaySummary, HistorySummary

# Longer reports show only this many recent days in the posture timeline (one row per day).
MAX_TIMELINE_DAYS = 31
# Bar charts label at most about this many days on the x axis.
MAX_DAY_LABELS = 14

STATE_COLOURS: dict[PostureState, str] = {
    PostureState.UPRIGHT: "#2f9e6e",
    PostureState.SLOUCHED: "#e8743b",
    PostureState.AWAY: "#dfe3e8",
    PostureState.UNKNOWN: "#b4bac3",
}
STATE_LABELS: dict[PostureState, str] = {
    PostureState.UPRIGHT: "Upright",
    PostureState.SLOUCHED: "Slouched",
    PostureState.AWAY: "Away",
    PostureState.UNKNOWN: "Not measurable",
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


def _png(fig: Figure) -> bytes:
    """The chart as PNG bytes (written to its file, whole, with the rest of the report)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _day_ticks(ax: Axes, days: list[DaySummary]) -> None:
    """Label the days on the x axis, thinned to about two weeks' worth of labels."""
    step = max(1, -(-len(days) // MAX_DAY_LABELS))
    labels = [day_label(d.day) if step == 1 else d.day.strftime("%d %b") for d in days[::step]]
    ax.set_xticks(range(0, len(days), step), labels, fontsize=8)


def _label_empty_bars(ax: Axes, history: HistorySummary) -> None:
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


def _hour_range(history: HistorySummary) -> tuple[float, float]:
    """The hours of day the posture chart spans: the data's, whole hours, at least 8-18."""
    starts = [s.start_h for runs in history.posture.values() for s in runs]
    ends = [s.start_h + s.length_h for runs in history.posture.values() for s in runs]
    if not starts:
        return 8.0, 18.0
    lo, hi = int(min(starts)), int(-(-max(ends) // 1))
    return float(max(0, min(lo, 8))), float(min(24, max(hi, lo + 4)))


def posture_chart(history: HistorySummary) -> bytes:
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
    ax.set_yticks(range(len(days)), [day_label(d.day) for d in days])
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
    return _png(fig)


def _label_bars(ax: Axes, heights: list[float]) -> None:
    """Write each day's bar height above it (nothing over an empty day)."""
    for x, height in enumerate(heights):
        if height > 0:
            ax.annotate(
                f"{height:.0f}",
                (x, height),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=_MUTED,
            )


def _finish_day_bars(ax: Axes, history: HistorySummary, unit: str, title: str) -> None:
    """The days on the x axis, the unit on the y axis, the grid, the style and the title."""
    _label_empty_bars(ax, history)
    _day_ticks(ax, list(history.days))
    ax.set_ylabel(unit, color=_MUTED, fontsize=9)
    ax.grid(axis="y", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    _style(ax)
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")


def still_chart(history: HistorySummary) -> bytes:
    """The longest still stretch of each day, against the 30-minute guide."""
    days = list(history.days)
    minutes = [d.longest_still_s / 60 for d in days]
    fig = _figure(10, 3.2)
    ax = fig.add_subplot()
    colours = [_STILL_LONG if m > STILL_GUIDE_MIN else _STILL_OK for m in minutes]
    ax.bar(range(len(days)), minutes, color=colours, width=0.6)
    _label_bars(ax, minutes)
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
    _finish_day_bars(ax, history, "minutes", "Longest still stretch")
    return _png(fig)


def reps_chart(history: HistorySummary) -> bytes:
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
    _label_bars(ax, bottoms)
    if not history.movements:
        ax.text(0.5, 0.5, "no sets recorded", transform=ax.transAxes, ha="center", color=_MUTED)
    ax.set_ylim(0, max([*bottoms, 10.0]) * 1.2)
    _finish_day_bars(ax, history, "reps", "Reps per day")
    if history.movements:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    return _png(fig)


CHART_FILES: Final[dict[str, str]] = {
    "posture": "posture.png",
    "still": "still.png",
    "reps": "reps.png",
}
"""Each chart's file name in the report's folder."""


def render_charts(history: HistorySummary) -> dict[str, bytes]:
    """The posture, still and reps charts as PNG bytes, by name (see CHART_FILES)."""
    return {
        "posture": posture_chart(history),
        "still": still_chart(history),
        "reps": reps_chart(history),
    }
