"""Tests for the report's charts and page: SVG that scales, a timeline zoomed to the hours that
hold data, text alternatives, and the page in Chromium at 1280 and 600 px wide.

The screenshots stay in pytest's temporary folder (the last runs are kept under
/tmp/pytest-of-USER): `report-1280.png` and `report-600.png`.
"""

from __future__ import annotations

import datetime
import html
import json
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from coach.history.queries import load_history
from coach.history.report.charts import (
    LABEL_PX,
    STATE_COLOURS,
    clock_ticks,
    render_charts,
    time_window,
)
from coach.history.report.describe import day_sentence
from coach.history.report.page import report_files, write_report
from coach.history.report.svg import text_width
from coach.history.report.tables import day_label, duration_text
from coach.history.session_log import SessionLog
from coach.history.store import open_database
from coach.history.summaries import DaySummary, HistorySummary, Segment
from tests.test_report import SVG, TODAY, Truth, generate_week, record_session

CLOCK = re.compile(r"^\d\d:\d\d$")


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HistorySummary]:
    path = tmp_path_factory.mktemp("week") / "coach.sqlite3"
    generate_week(path)
    with open_database(path) as conn:
        return path, load_history(conn, days=7, today=TODAY)


def one_day(runs: list[tuple[float, float]]) -> HistorySummary:
    """A one-day history whose posture runs are (start, end) hours, upright."""
    segments = tuple(Segment(a, b - a, "upright") for a, b in runs)
    day = DaySummary(TODAY, sessions=1, state_s={"upright": sum(b - a for a, b in runs) * 3600})
    return HistorySummary(days=(day,), weeks=(), posture={TODAY: segments}, still={}, movements=())


def test_timeline_spans_the_hours_that_hold_data(tmp_path: Path) -> None:
    """Eight minutes of data fill half the timeline, not a sliver of a four-hour span."""
    path = tmp_path / "coach.sqlite3"
    start = datetime.datetime.combine(TODAY, datetime.time(10, 3)).astimezone()
    with SessionLog(path) as log:
        record_session(log, start, 8 * 60 + 1, random.Random(3), Truth())
    with open_database(path) as conn:
        history = load_history(conn, days=1, today=TODAY)
    assert time_window(history) == (10.0, 10.25)
    root = ElementTree.fromstring(render_charts(history)["posture"].svg)
    ticks = [t.text for t in root.iter(SVG + "text") if CLOCK.match(t.text or "")]
    assert ticks == ["10:00", "10:05", "10:10", "10:15"]
    (track,) = [r for r in root.iter(SVG + "rect") if r.get("fill") == "#f6f7f9"]
    bars = [  # the day's runs, not the legend's swatches
        r
        for r in root.iter(SVG + "rect")
        if r.get("fill") in STATE_COLOURS.values() and r.get("y") == track.get("y")
    ]
    left = min(float(r.get("x", 0)) for r in bars)
    right = max(float(r.get("x", 0)) + float(r.get("width", 0)) for r in bars)
    track_px = float(track.get("width", 0))
    assert (right - left) / track_px == pytest.approx(8 / 15, abs=0.02)


@pytest.mark.parametrize(
    ("runs", "window"),
    [
        ([(8.9, 12.0), (13.0, 17.3)], (8.75, 17.5)),  # out to the quarter hours around the data
        ([(9.0, 9.5)], (9.0, 9.5)),  # already on quarter hours: nothing added
        ([(14.1, 14.15)], (14.0, 14.25)),  # three minutes: their quarter hour
        ([(23.9, 23.99)], (23.75, 24.0)),  # late at night: up to midnight, not past it
        ([(24.0, 24.0)], (23.75, 24.0)),  # a run of no length at midnight still has a window
        ([], (9.0, 17.0)),  # nothing watched: an ordinary working day
    ],
)
def test_time_window_rounds_the_data_out_to_the_quarter_hour(
    runs: list[tuple[float, float]], window: tuple[float, float]
) -> None:
    assert time_window(one_day(runs)) == window


@pytest.mark.parametrize("window", [(10.0, 10.25), (9.0, 17.0), (6.5, 23.75), (0.0, 24.0)])
@pytest.mark.parametrize("width_px", [440.0, 880.0])
def test_clock_ticks_are_round_times_whose_labels_never_overlap(
    window: tuple[float, float], width_px: float
) -> None:
    ticks = clock_ticks(*window, width_px)
    assert len(ticks) >= 2
    assert all(window[0] <= t <= window[1] for t in ticks)
    assert all(round(t * 60) % 5 == 0 for t in ticks)
    gap_px = (ticks[1] - ticks[0]) / (window[1] - window[0]) * width_px
    assert gap_px > text_width("00:00", LABEL_PX)


def test_day_sentence_says_the_day_in_words() -> None:
    day = DaySummary(
        datetime.date(2026, 3, 9),
        sessions=1,
        state_s={"upright": 36 * 60.0, "slouched": 6 * 60.0},
        longest_still_s=25 * 60.0,
        prompts_by_outcome={"done": 2, "ignored": 1},
        reps_by_movement={"chin-tuck": 12},
        sets=1,
    )
    runs = (Segment(10.0, 0.4, "upright"), Segment(10.4, 0.3, "slouched"))
    assert day_sentence(day, runs) == (
        "Mon 09 Mar (10:00\u201310:42): 42 min watched, 6 min slouched (14% of sitting time), "
        "longest still stretch 25 min, 3 prompts (2 done), 12 reps."
    )
    assert day_sentence(DaySummary(datetime.date(2026, 3, 8))) == "Sun 08 Mar: no data."


def test_every_chart_is_text_and_says_what_it_shows(week: tuple[Path, HistorySummary]) -> None:
    _, history = week
    charts = render_charts(history)
    for name, chart in charts.items():
        for drawing in filter(None, (chart.svg, chart.narrow_svg)):
            root = ElementTree.fromstring(drawing)
            assert root.get("role") == "img" and root.get("viewBox", "").startswith("0 0 "), name
            ids = {e.get("id"): e for e in root.iter() if e.get("id")}
            title_id, desc_id = root.get("aria-labelledby", "").split()
            assert ids[title_id].text == chart.title
            desc = ids[desc_id].text or ""
            assert desc.startswith(chart.summary) and len(chart.summary) > 60
            # Fonts stay text: labels are <text>, never glyph outlines.
            assert len(list(root.iter(SVG + "text"))) > 10 and not list(root.iter(SVG + "path"))
    posture = charts["posture"]
    assert len(posture.days) == len(history.days)
    for day, sentence in zip(reversed(history.days), posture.days, strict=True):
        assert sentence.startswith(day_label(day.day))
        if day.recorded_s:
            assert f"{duration_text(day.recorded_s)} watched" in sentence
            assert f"{day.prompts} prompts" in sentence and f"{day.reps} reps" in sentence
            assert sentence in (ElementTree.fromstring(posture.svg).findtext(SVG + "desc") or "")
    for day in history.days:
        if day.reps:
            assert f"{day_label(day.day)} {day.reps}" in charts["reps"].summary


# The page in Chromium. A copy of the report with a probe script: Chromium runs it after layout
# and leaves its measurements in the DOM it dumps (the report itself has no script).

PROBE = """<script>
const page = document.documentElement;
const shown = e => e.getBoundingClientRect().width > 0;
const charts = [...document.querySelectorAll('svg.chart')].filter(shown).map(svg => {
  const box = svg.getBoundingClientRect(), holder = svg.parentElement.getBoundingClientRect();
  const scale = svg.getScreenCTM().a;
  const fonts = [...svg.querySelectorAll('text')].map(t => scale * t.getAttribute('font-size'));
  const figure = svg.closest('figure').getBoundingClientRect();
  return {id: svg.id, width: box.width, height: box.height, holder: holder.width,
          top: figure.top, bottom: figure.bottom, viewBox: svg.getAttribute('viewBox'),
          minFontPx: Math.min(...fonts), desc: svg.querySelector('desc').textContent};
});
const probe = document.createElement('pre');
probe.id = 'probe';
probe.style.display = 'none';
probe.textContent = JSON.stringify({
  innerWidth: innerWidth, clientWidth: page.clientWidth, scrollWidth: page.scrollWidth,
  charts: charts,
  captions: [...document.querySelectorAll('figcaption > p')].filter(shown).map(p => p.textContent),
  tables: [...document.querySelectorAll('.scroll')].map(d => [d.scrollWidth, d.clientWidth]),
});
document.body.append(probe);
</script>"""


def open_in_chromium(page: Path, width: int, height: int, shot: Path) -> dict[str, Any]:
    """Load the page in headless Chromium at this window size: a screenshot and the probe's
    measurements."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (`make system-deps` installs it)")
    probed = page.with_name(f"probed-{width}.html")
    probed.write_text(page.read_text(encoding="utf-8") + PROBE, encoding="utf-8")
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={page.parent / 'chromium-profile'}",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.search(r'<pre id="probe"[^>]*>(.*?)</pre>', done.stdout, re.S)
    assert found, f"chromium ran no probe: {done.stderr[-500:]}"
    measured: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return measured


def test_page_reads_at_1280_and_600_px_in_chromium(
    week: tuple[Path, HistorySummary], tmp_path: Path
) -> None:
    path, history = week
    files = write_report(history, report_files(tmp_path / "report", inputs=[path], force=False))
    from PIL import Image, ImageStat

    seen: dict[int, dict[str, Any]] = {}
    for width, height in ((1280, 2600), (600, 3400)):
        shot = tmp_path / f"report-{width}.png"
        page = open_in_chromium(files.html, width, height, shot)
        seen[width] = page
        # No sideways scrolling: the page fits its window.
        assert page["scrollWidth"] <= page["clientWidth"] <= width
        charts = {c["id"]: c for c in page["charts"]}
        timeline = "chart-posture" if width > 860 else "chart-posture-narrow"
        assert set(charts) == {timeline, "chart-still", "chart-reps"}
        for chart in charts.values():
            # It fills its box, keeps its proportions, and its smallest text stays readable.
            assert chart["width"] == pytest.approx(chart["holder"], abs=1)
            _, _, w, h = map(float, chart["viewBox"].split())
            assert chart["height"] / chart["width"] == pytest.approx(h / w, rel=0.01)
            assert chart["minFontPx"] >= 10.5, chart["id"]
            assert len(chart["desc"]) > 60
        assert all(day_label(d.day) in charts[timeline]["desc"] for d in history.days)
        assert len(page["captions"]) == 3 and all(len(c) > 60 for c in page["captions"])
        with Image.open(shot) as image:
            assert image.size == (width, height)
            assert max(ImageStat.Stat(image.convert("L")).stddev) > 20  # charts, not a flat page
    wide, narrow = seen[1280]["charts"], seen[600]["charts"]
    # The timeline follows the window; at 1280 px the bar charts sit side by side, at 600 stacked.
    assert narrow[0]["width"] < 0.6 * wide[0]["width"]
    assert wide[1]["top"] == pytest.approx(wide[2]["top"], abs=1)
    assert narrow[2]["top"] >= narrow[1]["bottom"]
    # At 600 px the daily table scrolls inside its box instead of widening the page.
    assert any(inner > box for inner, box in seen[600]["tables"])
