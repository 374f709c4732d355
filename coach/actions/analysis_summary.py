"""Provides the short human summary `coach analyze` prints without --json."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from coach.records import CountableMovement, Reason

_SHOWN_INTERVALS: Final = 4
_REASONS: Final = {
    Reason.FORWARD_HEAD: "forward head",
    Reason.THORACIC_ROUNDING: "rounded upper back",
    Reason.STATIONARY: "sitting still",
}


def clock(t_s: float) -> str:
    """Stream time as m:ss, or h:mm:ss from an hour on."""
    whole = max(0, round(t_s))
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return (
        f"{minutes} min {rest:02d} s"
        if minutes < 60
        else f"{minutes // 60} h {minutes % 60:02d} min"
    )


def _when(intervals: Sequence[Sequence[float]]) -> str:
    shown = ", ".join(f"{clock(a)}-{clock(b)}" for a, b in intervals[:_SHOWN_INTERVALS])
    more = len(intervals) - _SHOWN_INTERVALS
    return shown + (f" and {more} more" if more > 0 else "")


def summary_lines(
    label: str, report: dict[str, Any], movement_name: Callable[[str], str]
) -> list[str]:
    """A few plain lines from the `coach analyze --json` object: what a person wants to know."""
    duration_s = float(report["duration_s"])
    lines = [
        f"{label}: {_span(duration_s)} of video ({report['frames']} frames at "
        f"{report['fps']:.1f} fps), {report['view']} view"
    ]
    slouch = report["slouch"]
    slouched_s = float(slouch["seconds"])
    if slouch["intervals_s"]:
        share = f" ({100 * slouched_s / duration_s:.0f}% of the time)" if duration_s > 0 else ""
        lines.append(f"Slouched: {_span(slouched_s)}{share}, at {_when(slouch['intervals_s'])}")
    else:
        lines.append("Slouched: never")
    nudges = report["nudges"]
    if nudges:
        said = [
            f"{clock(n['t_s'])} {_REASONS.get(n['reason'], str(n['reason']))}: "
            f"{movement_name(n['movement'])}"
            for n in nudges[:_SHOWN_INTERVALS]
        ]
        more = len(nudges) - _SHOWN_INTERVALS
        lines.append(
            f"Nudges: {len(nudges)} ({'; '.join(said)}{f'; and {more} more' if more > 0 else ''})"
        )
    else:
        lines.append("Nudges: none")
    stationary = report["stationary"]
    still = stationary["still_intervals_s"]
    if still:
        a, b = max(still, key=lambda pair: pair[1] - pair[0])
        lines.append(f"Longest still stretch: {_span(b - a)} ({clock(a)}-{clock(b)})")
    else:
        lines.append("Longest still stretch: none")
    away = stationary["away_intervals_s"]
    away_s = sum(b - a for a, b in away)
    lines.append(f"Away: {_span(away_s)}, at {_when(away)}" if away else "Away: never")
    reps = report["reps"]
    cat_cow = int(reps[CountableMovement.CAT_COW])
    sides = reps[CountableMovement.LATERAL_FLEXION]
    counted = []
    if cat_cow:
        counted.append(f"seated cat-cow {cat_cow}")
    if sides["left"] or sides["right"]:
        counted.append(f"lateral flexion {sides['left']} left, {sides['right']} right")
    lines.append(f"Reps: {'; '.join(counted)}" if counted else "Reps: none")
    return lines
