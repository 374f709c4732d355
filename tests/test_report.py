"""Tests for history reports over a generated week, the HTML page in Chromium, and the CLI handlers."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import random
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pytest
from rich.console import Console

from coach.actions.session_recorder import SessionRecorder
from coach.errors import CoachError, ConfigError
from coach.history.commands import add_history_commands
from coach.history.queries import load_history
from coach.history.report.charts import CHART_FILES, render_charts
from coach.history.report.page import report_files, write_report
from coach.history.report.terminal import print_report
from coach.history.rows import SetRecord
from coach.history.schema import TABLES
from coach.history.session_log import SessionLog
from coach.history.store import open_database
from coach.records import Event, Nudge, PromptResolved
from tests.kill_writer import fake_set, fake_snapshot

TODAY = datetime.date(2026, 3, 11)  # a Wednesday
EMPTY_DAY = TODAY - datetime.timedelta(days=3)
SVG = "{http://www.w3.org/2000/svg}"
MOVEMENTS = ("cat-cow", "neck-waves", "chin-tuck", "lateral-flexion")
OUTCOMES = ("done", "snoozed", "skipped", "ignored")


@dataclass
class Truth:
    """What the generator did, day by day, counted as it went (not read back from the file)."""

    state_s: dict[datetime.date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    prompts: dict[datetime.date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    reps: dict[datetime.date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    longest_still_s: dict[datetime.date, float] = field(default_factory=lambda: defaultdict(float))
    fatigue: dict[datetime.date, list[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def record_session(
    log: SessionLog, start: datetime.datetime, length_s: int, rng: random.Random, truth: Truth
) -> None:
    """One session at 1 Hz: random posture runs, 5-s aligned activity blocks, prompts, sets."""
    day = start.date()
    recorder = SessionRecorder(log, "0", start)
    states = [rng.choices(("upright", "slouched", "away", "unknown"), (60, 25, 10, 5))[0]]
    activity: list[str] = []
    while len(states) < length_s:
        states += [
            rng.choices(("upright", "slouched", "away", "unknown"), (60, 25, 10, 5))[0]
        ] * rng.randint(10, 120)
    while len(activity) < length_s:
        activity += [rng.choice(("still", "still", "moving"))] * (5 * rng.randint(1, 60))
    prompt_id = 0
    open_prompt: tuple[int, int, str] | None = None  # id, resolve at, outcome
    still_run_s = 0.0
    for i in range(length_s):
        events: list[Event] = []
        if (
            states[i] == "slouched"
            and (i == 0 or states[i - 1] != "slouched")
            and open_prompt is None
        ):
            prompt_id += 1
            events.append(Nudge(float(i), "forward_head", "neck-waves", "t", "m", prompt_id))
            outcome = rng.choice(OUTCOMES)
            open_prompt = (prompt_id, i + rng.randint(5, 60), outcome)
        if open_prompt is not None and i == open_prompt[1]:
            events.append(
                PromptResolved(float(i), open_prompt[0], open_prompt[2], float(rng.randint(3, 40)))
            )
            truth.prompts[day][open_prompt[2]] += 1
            if open_prompt[2] == "done":
                movement = rng.choice(MOVEMENTS)
                reps = rng.randint(4, 9)
                events.append(fake_set(float(i), movement, reps + 1, open_prompt[0]))
                truth.reps[day][movement] += reps
            open_prompt = None
        recorder.update(
            fake_snapshot(
                float(i),
                states[i],
                forward_head=rng.uniform(0, 30),
                activity=activity[i],
                events=tuple(events),
            ),
            None,
        )
        if i < length_s - 1:  # the last snapshot is the session's end: it lasts no time
            truth.state_s[day][states[i]] += 1
            still_run_s = still_run_s + 1 if activity[i] == "still" else 0.0
            truth.longest_still_s[day] = max(truth.longest_still_s[day], still_run_s)
    if open_prompt is not None:
        truth.prompts[day]["open"] += 1
    recorder.close()


def generate_week(path: Path, seed: int = 6) -> Truth:
    rng = random.Random(seed)
    truth = Truth()
    with SessionLog(path) as log:
        for offset in range(6, -1, -1):
            day = TODAY - datetime.timedelta(days=offset)
            if day == EMPTY_DAY:
                continue
            for hour, length_s in ((9, 1500), (14, 1100)):
                start = datetime.datetime.combine(day, datetime.time(hour, rng.randint(0, 30)))
                record_session(log, start.astimezone(), length_s, rng, truth)
            before, after = rng.randint(2, 5), rng.randint(1, 3)
            noon = datetime.datetime.combine(day, datetime.time(12, 30)).timestamp()
            log.add_set(
                None,
                SetRecord(
                    noon,
                    "chin-tuck",
                    10,
                    source="manual",
                    fatigue_before=before,
                    fatigue_after=after,
                ),
            )
            truth.reps[day]["chin-tuck"] += 10
            truth.fatigue[day].append((before, after))
            log.add_note(noon, f"note for {day}")
    return truth


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    path = tmp_path_factory.mktemp("history") / "coach.sqlite3"
    return path, generate_week(path)


def raw_totals(
    path: Path,
) -> tuple[
    dict[datetime.date, float], dict[datetime.date, Counter[str]], dict[datetime.date, Counter[str]]
]:
    """Minutes slouched, prompts by outcome and reps by movement per local day, in plain SQL."""
    conn = sqlite3.connect(path)
    try:
        slouched: dict[datetime.date, float] = defaultdict(float)
        for t, s in conn.execute("SELECT t, slouched_s FROM posture_samples"):
            slouched[datetime.datetime.fromtimestamp(t).date()] += s / 60
        prompts: dict[datetime.date, Counter[str]] = defaultdict(Counter)
        for t, outcome in conn.execute("SELECT t, coalesce(outcome, 'open') FROM prompts"):
            prompts[datetime.datetime.fromtimestamp(t).date()][outcome] += 1
        reps: dict[datetime.date, Counter[str]] = defaultdict(Counter)
        for t, movement, n in conn.execute("SELECT t, movement, reps FROM sets"):
            reps[datetime.datetime.fromtimestamp(t).date()][movement] += n
        return slouched, prompts, reps
    finally:
        conn.close()


def test_daily_totals_match_the_raw_rows_and_what_was_generated(week: tuple[Path, Truth]) -> None:
    path, truth = week
    with open_database(path) as conn:
        history = load_history(conn, days=7, today=TODAY)
    slouched, prompts, reps = raw_totals(path)
    assert [d.day for d in history.days] == [
        TODAY - datetime.timedelta(days=k) for k in range(6, -1, -1)
    ]
    for d in history.days:
        assert d.slouched_min == pytest.approx(slouched.get(d.day, 0.0), abs=1e-9)
        assert d.slouched_min == pytest.approx(truth.state_s[d.day]["slouched"] / 60, abs=1e-9)
        assert d.state_s == pytest.approx(
            {s: float(truth.state_s[d.day][s]) for s in ("upright", "slouched", "away", "unknown")}
        )
        assert Counter(d.prompts_by_outcome) == prompts.get(d.day, Counter())
        assert Counter(d.prompts_by_outcome) == +truth.prompts[d.day]
        assert Counter(d.reps_by_movement) == reps.get(d.day, Counter()) == +truth.reps[d.day]
        assert d.longest_still_s == pytest.approx(truth.longest_still_s[d.day])
        if d.day == EMPTY_DAY:
            assert not d.has_data
            continue
        assert d.sessions == 2
        assert d.fatigue_before_mean == pytest.approx(truth.fatigue[d.day][0][0])
        assert d.fatigue_after_mean == pytest.approx(truth.fatigue[d.day][0][1])
        assert d.notes == (f"note for {d.day}",)
        up, sl = truth.state_s[d.day]["upright"], truth.state_s[d.day]["slouched"]
        assert d.upright_share == pytest.approx(up / (up + sl))
        assert d.median_correction_s is not None
    assert sum(sum(c.values()) for c in prompts.values()) > 20  # the week is not trivially small


def test_weekly_trend_adds_up_its_days(week: tuple[Path, Truth]) -> None:
    path, truth = week
    with open_database(path) as conn:
        history = load_history(conn, days=7, today=TODAY, weeks=3)
    assert [w.week_start for w in history.weeks] == [
        datetime.date(2026, 2, 23),
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 9),
    ]
    previous, current = history.weeks[1], history.weeks[2]
    assert [d.day for d in current.days] == [
        datetime.date(2026, 3, 9),
        datetime.date(2026, 3, 10),
        TODAY,
    ]
    assert not history.weeks[0].active_days
    assert current.reps == sum(sum(truth.reps[d.day].values()) for d in current.days)
    assert previous.prompts == sum(sum(truth.prompts[d.day].values()) for d in previous.days)
    watched = [d for d in previous.days if d.recorded_s > 0]
    assert previous.slouched_min_per_day == pytest.approx(
        sum(truth.state_s[d.day]["slouched"] for d in watched) / 60 / len(watched)
    )


def test_terminal_report_shows_every_day_and_the_trend(week: tuple[Path, Truth]) -> None:
    path, _ = week
    with open_database(path) as conn:
        history = load_history(conn, days=7, today=TODAY)
    console = Console(record=True, width=180)
    print_report(console, history)
    text = console.export_text()
    assert "Daily summary" in text and "Weekly trend" in text and "Reps by movement" in text
    assert "Wed 11 Mar" in text and "no data" in text
    day = history.days[-1]
    assert f"{day.slouched_min:.1f}" in text


def test_html_report_is_self_contained_with_its_charts_inline(
    week: tuple[Path, Truth], tmp_path: Path
) -> None:
    path, _ = week
    with open_database(path) as conn:
        history = load_history(conn, days=7, today=TODAY)
    files = write_report(history, report_files(tmp_path / "report", inputs=[path], force=False))
    assert {name: p.name for name, p in files.charts.items()} == {
        "posture": "posture.svg",
        "still": "still.svg",
        "reps": "reps.svg",
    }
    page = files.html.read_text(encoding="utf-8")
    for name, chart_file in files.charts.items():
        drawing = chart_file.read_text(encoding="utf-8")
        root = ElementTree.fromstring(drawing)  # well-formed, standalone SVG
        assert root.tag == SVG + "svg" and root.get("role") == "img", name
        assert drawing in page, name  # the very drawing is inline in the page
    # The timeline twice (wide and narrow), the other two once; no image files, no network.
    assert page.count("<svg ") == 4
    assert "data:" not in page and "<img" not in page and "<script" not in page
    without_namespace = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in without_namespace and "https://" not in without_namespace


def test_report_of_an_empty_history_still_renders(tmp_path: Path) -> None:
    path = tmp_path / "coach.sqlite3"
    with open_database(path) as conn:
        history = load_history(conn, days=3, today=TODAY)
    assert not history.has_data
    charts = render_charts(history)
    assert set(charts) == {"posture", "still", "reps"}
    for chart in charts.values():
        root = ElementTree.fromstring(chart.svg)
        assert root.findtext(SVG + "title") == chart.title
    assert "watched nothing" in charts["posture"].summary
    assert charts["posture"].days == (
        "Wed 11 Mar: no data.",
        "Tue 10 Mar: no data.",
        "Mon 09 Mar: no data.",
    )
    assert charts["reps"].summary == "No reps were recorded on these days."


# CLI handlers.


def run_cli(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="coach")
    sub = parser.add_subparsers(dest="command", required=True)
    handlers = add_history_commands(sub)
    args = parser.parse_args(argv)
    console = Console(record=True, width=200, file=io.StringIO())
    stdout = io.StringIO()  # the report itself goes to stdout
    with contextlib.redirect_stdout(stdout):
        code = handlers[args.command](args, console)
    sys.stdout.write(stdout.getvalue())  # still there for capsys
    return code, stdout.getvalue() + console.export_text()


def test_log_records_a_manual_set_with_fatigue_and_a_note(tmp_path: Path) -> None:
    db = tmp_path / "coach.sqlite3"
    code, out = run_cli(
        [
            "log",
            "cat-cow",
            "--reps",
            "6",
            "--fatigue-before",
            "4",
            "--fatigue-after",
            "2",
            "--note",
            "tight back",
            "--db",
            str(db),
        ]
    )
    assert code == 0 and "Logged 6 reps" in out
    conn = sqlite3.connect(db)
    try:
        assert conn.execute(
            "SELECT s.movement, s.reps, s.source, s.session_id, f.before, f.after "
            "FROM sets s JOIN fatigue f ON f.set_id = s.id"
        ).fetchall() == [("cat-cow", 6, "manual", None, 4, 2)]
        assert conn.execute("SELECT text FROM notes").fetchall() == [("tight back",)]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["log", "jumping-jacks", "--reps", "5"], "unknown movement 'jumping-jacks'; known: "),
        (["log", "cat-cow", "--reps", "0"], "--reps must be a whole number from 1 to 1000"),
        (
            ["log", "cat-cow", "--reps", "5", "--fatigue-after", "6"],
            "--fatigue-after must be a whole number from 1",
        ),
        (["log", "cat-cow", "--reps", "5", "--fatigue-before", "x"], "--fatigue-before must be"),
        (["data", "--delete", "--before", "March 1", "--yes"], "--before must be a date like"),
        (["report", "--days", "0"], "--days must be 1 or more"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path: Path, argv: list[str], fragment: str) -> None:
    db = tmp_path / "coach.sqlite3"
    SessionLog(db).close()
    with pytest.raises(CoachError) as err:
        run_cli([*argv, "--db", str(db)])
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_export_writes_every_table_to_csv(week: tuple[Path, Truth], tmp_path: Path) -> None:
    path, _ = week
    code, out = run_cli(["export", "--csv", str(tmp_path / "csv"), "--db", str(path)])
    assert code == 0
    conn = sqlite3.connect(path)
    try:
        for table in TABLES:
            lines = (tmp_path / "csv" / f"{table}.csv").read_text(encoding="utf-8").splitlines()
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert len(lines) == count + 1, table
            assert f"{table}.csv: {count} rows" in out
    finally:
        conn.close()
    header = (tmp_path / "csv" / "prompts.csv").read_text().splitlines()[0].split(",")
    assert header[-2:] == ["t_local", "outcome_t_local"]


def test_data_path_prints_where_the_history_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "coach.sqlite3"
    code, out = run_cli(["data", "--path", "--db", str(db)])
    assert code == 0
    assert capsys.readouterr().out.strip() == str(db)
    assert "not created yet" in out and "never stored" in out


def test_data_delete_before_a_date_keeps_the_rest(week: tuple[Path, Truth], tmp_path: Path) -> None:
    db = tmp_path / "coach.sqlite3"
    shutil.copy(week[0], db)
    cutoff = TODAY - datetime.timedelta(days=1)
    cutoff_s = datetime.datetime.combine(cutoff, datetime.time()).timestamp()
    conn = sqlite3.connect(db)
    kept_samples = conn.execute(
        "SELECT count(*) FROM posture_samples WHERE t >= ?", (cutoff_s,)
    ).fetchone()[0]
    old_sessions = conn.execute(
        "SELECT count(*) FROM sessions WHERE ended_at < ?", (cutoff_s,)
    ).fetchone()[0]
    conn.close()
    with pytest.raises(ConfigError, match="without confirmation: add --yes"):
        run_cli(["data", "--delete", "--before", cutoff.isoformat(), "--db", str(db)])
    code, out = run_cli(
        ["data", "--delete", "--before", cutoff.isoformat(), "--yes", "--db", str(db)]
    )
    assert code == 0
    assert f"{old_sessions} sessions" in out and "before 2026-03-10" in out
    conn = sqlite3.connect(db)
    try:
        for table in ("posture_samples", "prompts", "sets", "fatigue", "notes"):
            assert (
                conn.execute(f"SELECT count(*) FROM {table} WHERE t < ?", (cutoff_s,)).fetchone()[0]
                == 0
            )
        assert conn.execute("SELECT count(*) FROM posture_samples").fetchone()[0] == kept_samples
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 4  # 10 and 11 Mar
        assert (
            conn.execute(
                "SELECT count(*) FROM reps WHERE set_id NOT IN (SELECT id FROM sets)"
            ).fetchone()[0]
            == 0
        )
    finally:
        conn.close()
    code, out = run_cli(["data", "--delete", "--yes", "--db", str(db)])
    assert code == 0 and "4 sessions" in out
    conn = sqlite3.connect(db)
    try:
        assert all(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == 0 for t in TABLES)
    finally:
        conn.close()


def test_report_command_writes_the_page(week: tuple[Path, Truth], tmp_path: Path) -> None:
    code, out = run_cli(
        ["report", "--days", "3", "--out", str(tmp_path / "r"), "--db", str(week[0])]
    )
    assert code == 0 and (tmp_path / "r" / "report.html").exists()
    assert "Daily summary" in out


def test_report_without_history_says_so(tmp_path: Path) -> None:
    code, out = run_cli(["report", "--db", str(tmp_path / "none.sqlite3")])
    assert code == 0 and "No history yet" in out
    assert not (tmp_path / "none.sqlite3").exists()


def test_history_cli_imports_nothing_heavy() -> None:
    """cli.py imports it for every command, so it must stay cheap."""
    code = (
        "import sys, coach.history.commands; "
        "heavy = {'matplotlib', 'sqlite3', 'numpy', 'cv2'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_todays_report_from_the_tray_can_be_opened_again(
    week: tuple[Path, Truth], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tray rebuilds today's report in its own folder each time it is asked."""
    from coach.actions.open_report import report_command
    from coach.cli import main

    out = tmp_path / "today"
    command = report_command(week[0], out)
    assert command[1:3] == ["-m", "coach"]
    for _ in range(2):
        assert main(command[3:]) == 0, capsys.readouterr().err
        assert {p.name for p in out.iterdir()} == {"report.html", *CHART_FILES.values()}
