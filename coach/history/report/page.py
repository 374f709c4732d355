"""Provides the HTML report: one self-contained page with the charts and tables."""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coach.history.report.charts import CHART_FILES, Chart, render_charts
from coach.history.report.tables import EN_DASH, TableData, daily_data, movement_data, weekly_data
from coach.safe.outputs import check_output, write_whole
from coach.safe.private_files import private_dir

if TYPE_CHECKING:
    from coach.history.summaries import HistorySummary


@dataclass(frozen=True)
class ReportFiles:
    """The files one `coach report --out DIR` wrote."""

    html: Path
    charts: dict[str, Path]


# HTML: one file, charts inlined as SVG, no scripts, no network. Readable from a 600-px window
# up: the cards go two by two, the bar charts stack, the timeline is drawn narrower, and the
# tables scroll sideways inside their box instead of widening the page.

_CSS = """
:root { --ink:#1f2933; --muted:#6b7785; --line:#e6e9ee; --bg:#f5f7fa; --good:#1f8a5b;
  --bad:#c2410c; --card:#fff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 32px 24px 48px; }
figure { margin: 0; }
svg.chart { display:block; width:100%; height:auto; margin:0 auto; }
.bars svg.chart { max-width: 640px; }
.timeline .narrow { display:none; }
.timeline .narrow svg.chart { max-width: 680px; }
.pair { display:grid; grid-template-columns: minmax(0, 1fr); column-gap:18px; }
.pair > section { min-width:0; }
@media (min-width: 1040px) { .pair { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
@media (max-width: 860px) { .timeline .wide { display:none; } .timeline .narrow { display:block; } }
figcaption p { margin: 10px 0 0; font-size: 14px; }
figcaption details { margin-top: 8px; font-size: 13px; color: var(--muted); }
figcaption summary { cursor: pointer; }
figcaption ul { margin: 6px 0 0; padding-left: 20px; }
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
@media (max-width: 700px) {
  main { padding: 20px 12px 32px; }
  section { padding: 14px 12px; }
  .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; margin: 16px 0; }
  .card .value { font-size: 24px; }
}
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


def _cards(history: HistorySummary) -> str:
    span = history.overall
    upright, slouched_min, done = span.upright_share, span.slouched_min_per_day, span.done_share
    cards = (
        ("Upright", EN_DASH if upright is None else f"{upright:.0%}", "of sitting time"),
        (
            "Slouched",
            EN_DASH if slouched_min is None else f"{slouched_min:.0f} min",
            "per day watched",
        ),
        (
            "Prompts acted on",
            EN_DASH if done is None else f"{done:.0%}",
            f"{span.prompts_done} of {span.prompts}",
        ),
        ("Reps", str(span.reps), f"longest still stretch {span.longest_still_s / 60:.0f} min"),
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


# Up to this many days, the posture chart's day-by-day sentences show without a click.
OPEN_DAYS = 7


def _figure(chart: Chart) -> str:
    """A chart, its paragraph, and (for the timeline) each day in a sentence."""
    if chart.narrow_svg:
        drawing = f'<div class="wide">{chart.svg}</div><div class="narrow">{chart.narrow_svg}</div>'
    else:
        drawing = chart.svg
    days = ""
    if chart.days:
        items = "".join(f"<li>{html.escape(day)}</li>" for day in chart.days)
        opened = " open" if len(chart.days) <= OPEN_DAYS else ""
        days = f"<details{opened}><summary>Day by day</summary><ul>{items}</ul></details>"
    return (
        f"<figure>{drawing}<figcaption><p>{html.escape(chart.summary)}</p>{days}</figcaption>"
        "</figure>"
    )


def render_html(history: HistorySummary, charts: dict[str, Chart]) -> str:
    """The whole report as one HTML page (charts inline, no external resources)."""
    span = f"{history.first_day:%A %d %B %Y} {EN_DASH} {history.last_day:%A %d %B %Y}"
    figures = f'<section class="timeline">{_figure(charts["posture"])}</section>' + (
        '<div class="pair">'
        + "".join(
            f'<section class="bars">{_figure(charts[name])}</section>' for name in ("still", "reps")
        )
        + "</div>"
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


REPORT_FILE = "report.html"


def report_files(
    out_dir: Path, *, inputs: list[Path], force: bool, option: str = "--out"
) -> ReportFiles:
    """Where `coach report --out DIR` writes, checked before anything is written.

    Raises:
        ConfigError: DIR is a file; or a file there is an input (the database, through
            any link), a folder, or (without `force`) already there.
    """
    from coach.errors import ConfigError

    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(
            f"{option} {out_dir} is a file, not a folder; give a folder for the report"
        )

    def checked(name: str) -> Path:
        return check_output(out_dir / name, option=option, inputs=inputs, force=force)

    charts = {name: checked(file) for name, file in CHART_FILES.items()}
    return ReportFiles(html=checked(REPORT_FILE), charts=charts)


def write_report(history: HistorySummary, files: ReportFiles) -> ReportFiles:
    """Write the charts and report.html, each whole (a link in their place is replaced,
    never followed); when one cannot be written, none that this call created is left.

    Raises:
        OSError: a file or the folder cannot be written (a full disk).
    """
    charts = render_charts(history)
    page = render_html(history, charts).encode("utf-8")
    private_dir(files.html.parent)  # charts of the user's health: 0700 folder, 0600 files
    contents = {files.charts[name]: chart.svg.encode("utf-8") for name, chart in charts.items()}
    contents[files.html] = page
    write_whole(contents, private=True)
    return files
