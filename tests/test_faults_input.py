"""Fault matrix, bad input: one line saying what is wrong, exit status 1, no traceback, nothing lost.

Covers output files (never the input, never replaced unasked, written whole), stream
credentials (never shown, stored or exported), malformed landmark files, invalid settings
and numeric options, all through the real command line.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from coach.cli import main
from coach.config import Config, load_config
from coach.history.session_log import SessionLog
from coach.pose.landmark_file import LandmarkReader, LandmarkWriter
from coach.safe.outputs import dumps
from coach.safe.redact import redact
from coach.source import parse_source
from tests.conftest import REPO, make_pose, sample_clip, sample_of
from tests.mjpeg_camera import SteadyCamera

Result = tuple[int, str, str]

SECRET = "hunter2"
TOKEN = "t0ps3cret"


@pytest.fixture(autouse=True)
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    """No preview window (conftest's `private_home` keeps the user's folders out of reach)."""
    monkeypatch.delenv("DISPLAY", raising=False)


def coach(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Result:
    """`coach ARGS` in this process; returns (exit status, stdout, stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def coach_process(*args: str | Path, timeout_s: float = 60) -> Result:
    """`coach ARGS` as a subprocess (for what could hang: the timeout fails the test)."""
    result = subprocess.run(
        [sys.executable, "-m", "coach", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=dict(os.environ),
        timeout=timeout_s,
    )
    return result.returncode, result.stdout, result.stderr


def one_line_error(result: Result, *fragments: str) -> str:
    code, _, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("coach") and "error:" in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Temporary files an interrupted write left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def strict_json(text: str) -> Any:
    def reject(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=reject)


# A small recording: 10 s at 15 fps of an upright user, then leaning forward.
FRAMES = 150


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "rec.jsonl"
    with LandmarkWriter(path, source="synthetic", fps=15.0, image_size=(640, 480)) as writer:
        for i in range(FRAMES):
            t_s = i / 15
            writer.write(sample_of(make_pose(t_s, shoulder_y=0.75 + 0.04 * (i > 100)), t_s))
    return path


def edited(recording: Path, folder: Path, edit: Callable[[list[Any]], None]) -> Path:
    """A copy of the recording with its parsed lines (header first) edited."""
    records = [json.loads(line) for line in recording.read_text().splitlines()]
    edit(records)
    path = folder / "edited.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# Item 4: output files.


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """A real clip of the user's, which no output may ever overwrite."""
    path = tmp_path / "talk.mp4"
    path.write_bytes(sample_clip("neutral").read_bytes())
    return path


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("how", ["same", "symlink", "hardlink"])
def test_record_never_writes_over_its_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, video: Path, how: str, force: bool
) -> None:
    before = digest(video)
    out = {"same": video, "symlink": tmp_path / "link.jsonl", "hardlink": tmp_path / "hard.jsonl"}[
        how
    ]
    if how == "symlink":
        out.symlink_to(video)
    elif how == "hardlink":
        os.link(video, out)
    result = coach(capsys, "record", video, "--landmarks", out, *(["--force"] if force else []))
    line = one_line_error(result, "--landmarks")
    assert ("must end in .jsonl" if how == "same" else "is the input itself") in line
    assert digest(video) == before and leftovers(tmp_path) == []


def test_record_refuses_to_replace_a_file_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, video: Path
) -> None:
    old = tmp_path / "monday.jsonl"
    old.write_text("yesterday's recording\n")
    one_line_error(coach(capsys, "record", video, "--landmarks", old), "already exists", "--force")
    assert old.read_text() == "yesterday's recording\n"


@pytest.mark.slow
def test_record_with_force_replaces_the_file_whole(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, video: Path
) -> None:
    old = tmp_path / "monday.jsonl.gz"
    old.write_bytes(b"old")
    code, _, err = coach(
        capsys, "record", video, "--landmarks", old, "--force", "--max-seconds", "1"
    )
    assert code == 0, err
    reader = LandmarkReader(old)
    assert reader.fps == 15.0 and len(list(reader.samples())) >= 3
    assert leftovers(tmp_path) == []


def test_landmark_writer_replaces_only_with_a_whole_recording(tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    old.write_text("old\n")
    with (
        pytest.raises(RuntimeError),
        LandmarkWriter(old, source="x", fps=5, image_size=(4, 3)) as w,
    ):
        w.write(sample_of(make_pose(), 0.0))
        assert old.read_text() == "old\n"  # nothing in place until the end
        raise RuntimeError("crash")
    assert old.read_text() == "old\n" and leftovers(tmp_path) == []
    # With nothing to protect, what was recorded before the error is kept, readable.
    new = tmp_path / "new.jsonl"
    with (
        pytest.raises(RuntimeError),
        LandmarkWriter(new, source="x", fps=5, image_size=(4, 3)) as w,
    ):
        w.write(sample_of(make_pose(), 0.0))
        raise RuntimeError("crash")
    assert len(list(LandmarkReader(new).samples())) == 1 and leftovers(tmp_path) == []


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A history with one session from a stream whose URL held a password (an old row)."""
    db = tmp_path / "history.sqlite3"
    with SessionLog(db) as log:
        ref = log.start_session(f"rtsp://admin:{SECRET}@cam.local/live?token={TOKEN}", 1.7e9)
        log.end_session(ref, 1.7e9 + 60)
    return db


def test_export_refuses_to_replace_csv_files_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, history: Path
) -> None:
    out = tmp_path / "csv"
    out.mkdir()
    (out / "sets.csv").write_text("my own spreadsheet\n")
    one_line_error(coach(capsys, "export", "--csv", out, "--db", history), "already exists")
    assert sorted(p.name for p in out.iterdir()) == ["sets.csv"]  # nothing half-exported
    assert (out / "sets.csv").read_text() == "my own spreadsheet\n"
    code, _, err = coach(capsys, "export", "--csv", out, "--db", history, "--force")
    assert code == 0, err
    assert (out / "sets.csv").read_text().startswith("id,")
    assert leftovers(out) == []


def test_export_never_writes_over_the_history_or_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, history: Path
) -> None:
    out = tmp_path / "csv"
    out.mkdir()
    db = out / "sessions.csv"
    history.rename(db)
    before = digest(db)
    args = ("export", "--csv", out, "--db", db, "--force")
    one_line_error(coach(capsys, *args), "is the input itself")
    assert digest(db) == before
    one_line_error(coach(capsys, "export", "--csv", db, "--db", db), "is a file, not a folder")
    assert digest(db) == before


@pytest.mark.parametrize("name", ["notes.json", "rec.jsonl"])
def test_calibrate_replaces_only_a_calibration_profile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path, name: str
) -> None:
    source = tmp_path / "rec.jsonl"
    source.write_bytes(recording.read_bytes())
    target = tmp_path / name
    if not target.exists():
        target.write_text('{"my": "notes"}\n')
    before = digest(target)
    line = one_line_error(coach(capsys, "calibrate", source, "--profile", f"{tmp_path}/{name}"))
    # notes.json: a file, not a profile; rec.jsonl: not a .json path, so a name, and no name
    assert "--profile" in line
    assert "not a coach calibration" in line or "not a plain name" in line
    assert digest(target) == before


# Item 5: credentials in stream URLs.


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:hunter2@cam.local:554/live", "rtsp://***@cam.local:554/live"),
        ("rtsp://admin@cam.local/live", "rtsp://***@cam.local/live"),
        ("rtsp://admin:p@ss/w0rd@cam.local/live", "rtsp://***@cam.local/live"),
        (
            "http://cam.local/video.cgi?user=admin&pwd=hunter2&res=hd",
            "http://cam.local/video.cgi?user=***&pwd=***&res=hd",
        ),
        (
            "https://cam.local/s.mjpg?access_token=abc;channel=2#api_key=k",
            "https://cam.local/s.mjpg?access_token=***;channel=2#api_key=***",
        ),
        ("http://cam.local:8080/video", "http://cam.local:8080/video"),
        ("/home/me/clips/a@b.mp4", "/home/me/clips/a@b.mp4"),
        ("0", "0"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert redact(shown) == shown


def test_a_stream_is_shown_redacted_but_opened_as_given() -> None:
    url = f"rtsp://admin:{SECRET}@cam.local/live"
    spec = parse_source(url)
    assert spec.target == url and str(spec) == "rtsp://***@cam.local/live"


def test_an_unreachable_stream_error_hides_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"rtsp://admin:{SECRET}@127.0.0.1:9/cam?token={TOKEN}"
    # A coach left running waits for its camera (the dashboard says so); a script bounds it.
    code, out, err = coach(capsys, "run", url, "--no-window", "--give-up-after", "1")
    assert code == 1 and "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "cannot be reached" in errors[0], err
    assert "rtsp://***@127.0.0.1:9/cam?token=***" in errors[0]
    assert SECRET not in out + err and TOKEN not in out + err


def test_export_redacts_sources_recorded_before(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, history: Path
) -> None:
    code, _, err = coach(capsys, "export", "--csv", tmp_path / "csv", "--db", history)
    assert code == 0, err
    sessions = (tmp_path / "csv" / "sessions.csv").read_text()
    assert "rtsp://***@cam.local/live?token=***" in sessions
    assert SECRET not in sessions and TOKEN not in sessions


class Camera(SteadyCamera):
    """The steady camera, reached with a user, a password and a token in the URL."""

    def __init__(self) -> None:
        super().__init__()
        self.url = f"http://admin:{SECRET}@127.0.0.1:{self.port}/cam.mjpg?token={TOKEN}"


@pytest.fixture
def camera() -> Iterator[Camera]:
    with Camera() as served:
        yield served


@pytest.mark.slow
def test_stream_credentials_are_never_shown_or_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, camera: Camera
) -> None:
    camera_url = camera.url
    db = tmp_path / "history.sqlite3"
    run = coach(capsys, "run", camera_url, "--no-window", "--max-seconds", "2", "--db", db)
    landmarks = tmp_path / "cam.jsonl"
    record = coach(capsys, "record", camera_url, "--landmarks", landmarks, "--max-seconds", "2")
    for code, out, err in (run, record):
        assert code == 0, err
        assert "***@127.0.0.1" in err  # the dashboard's Source row
        assert SECRET not in out + err and TOKEN not in out + err
    with sqlite3.connect(db) as conn:
        (source,) = conn.execute("SELECT source FROM sessions").fetchone()
    assert source.startswith("http://***@127.0.0.1:") and source.endswith("?token=***")
    for stored in (db, landmarks):
        assert (
            SECRET.encode() not in stored.read_bytes() and TOKEN.encode() not in stored.read_bytes()
        )
    assert LandmarkReader(landmarks).source == source


# Item 7: malformed landmark files.


def _set_header(name: str, value: Any) -> Callable[[list[Any]], None]:
    def edit(records: list[Any]) -> None:
        records[0][name] = value

    return edit


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fps", "abc"),
        ("fps", -15),
        ("fps", math.nan),
        ("fps", True),
        ("image_size", [0, 0]),
        ("image_size", "640x480"),
        ("image_size", [640]),
        ("image_size", [640.5, 480]),
        ("landmarks", 17),
        ("source", 3),
    ],
)
def test_a_bad_header_field_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path, field: str, value: Any
) -> None:
    bad = edited(recording, tmp_path, _set_header(field, value))
    for args in (("analyze", bad, "--json"), ("run", bad, "--no-window")):
        one_line_error(coach(capsys, *args), "line 1", f"header field '{field}'")


def _set_frame(line: int, key: str, value: Any) -> Callable[[list[Any]], None]:
    def edit(records: list[Any]) -> None:
        record = records[line - 1]
        if key == "t_s":
            record["t_s"] = value
        else:
            record[key][3][1] = value  # one coordinate (or visibility row) of one landmark

    return edit


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (_set_frame(60, "t_s", 1e12), "outside"),
        (_set_frame(60, "t_s", math.inf), "not a finite"),
        (_set_frame(60, "t_s", math.nan), "not a finite"),
        (_set_frame(60, "t_s", -3.0), "outside"),
        (_set_frame(60, "t_s", 1.0), "goes back"),
        (_set_frame(60, "t_s", 4 + 7 * 3600.0), "jumps"),
        (_set_frame(60, "image", math.nan), "not finite"),
        (_set_frame(60, "world", None), "missing"),
        (_set_frame(60, "image", 1e30), "absurdly large"),
    ],
)
def test_a_bad_frame_is_skipped_with_one_warning(
    tmp_path: Path, recording: Path, edit: Callable[[list[Any]], None], problem: str
) -> None:
    bad = edited(recording, tmp_path, edit)
    code, out, err = coach_process("analyze", bad, "--json", timeout_s=60)
    assert code == 0, err
    report = strict_json(out)
    assert report["frames"] == FRAMES - 1  # all but the bad frame
    assert report["duration_s"] < 11  # no invented time
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "Traceback" not in err
    assert "skipped 1 malformed frame" in warnings[0] and "line 60" in warnings[0]
    assert problem in warnings[0]


def test_a_far_future_timestamp_writes_no_future_history(tmp_path: Path, recording: Path) -> None:
    bad = edited(recording, tmp_path, _set_frame(60, "t_s", 1e12))
    db = tmp_path / "history.sqlite3"
    started = time.time()
    code, _, err = coach_process("run", bad, "--no-window", "--db", db, timeout_s=60)
    assert code == 0, err
    assert "skipped 1 malformed frame" in err
    with sqlite3.connect(db) as conn:
        rows, last_t = conn.execute("SELECT count(*), max(t) FROM posture_samples").fetchone()
        (ended_at,) = conn.execute("SELECT ended_at FROM sessions").fetchone()
    assert 1 <= rows <= 3  # 10 s in 5-s windows
    assert last_t <= time.time() + 10 and ended_at <= time.time() + 10
    assert ended_at - started < 60


@pytest.mark.parametrize(
    "line",
    [
        '{"t_s": 1.0, "tracking": "ok", "people": Infinity}',
        '{"t_s": 1.0, "tracking": "dancing", "people": 1}',
        '{"t_s": 1.0, "tracking": "ok", "people": 1, "image": [[0, 0, 0]]}',
        "[1, 2, 3]",
        '{"t_s": 1.0, "tracking": "ok", "people": 1',
    ],
)
def test_a_line_that_is_no_record_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path, line: str
) -> None:
    lines = recording.read_text().splitlines()
    lines[20] = line
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    # A calibration time given: no "calibrating from the first 5 s" note, printed before
    # the replay reaches the bad line.
    code, out, err = coach(capsys, "analyze", bad, "--json", "--calibrate-seconds", "2")
    one_line_error((code, out, err), "line 21", "not a valid landmark record")
    assert out == ""  # no half report passed off as a whole one


def test_json_output_never_holds_nan() -> None:
    text = dumps({"a": math.nan, "b": [1.0, math.inf, {"c": -math.inf}], "d": 2})
    assert strict_json(text) == {"a": None, "b": [1.0, None, {"c": None}], "d": 2}


# Item 8: settings.


@pytest.mark.parametrize(
    ("toml", "fragments"),
    [
        ("[loop]\nposture_fps = 0\n", ("[loop] posture_fps", "more than 0")),
        ("[loop]\nposture_fps = nan\n", ("[loop] posture_fps", "finite")),
        ("[source]\ncamera_fps = inf\n", ("[source] camera_fps", "finite")),
        ("[nudge]\nhold_s = -inf\n", ("[nudge] hold_s", "finite")),
        ("[pose]\nmin_visibility = 1.5\n", ("[pose] min_visibility", "at most 1")),
        ("[pose]\nmax_people = 0\n", ("[pose] max_people", "more than 0")),
        ("[prompts]\ncooldown_s = 1e12\n", ("[prompts] cooldown_s", "at most")),
        ("[slouch]\nscore_enter = 4\n", ("[slouch] score_enter (4) must be above score_exit (5)",)),
        (
            "[slouch]\nrounding_enter = 10\nrounding_exit = 12\n",
            ("[slouch] rounding_enter (10) must be above rounding_exit (12)",),
        ),
        ("[reps]\nenter_fraction = 0.1\n", ("[reps] enter_fraction", "above exit_fraction")),
        ("[reps]\nmin_phase_s = 20\n", ("[reps] max_phase_s", "above min_phase_s")),
        ('[prompts]\nworking_days = "funday"\n', ("[prompts] working_days", "'funday'")),
        ('[prompts]\nworking_days = "mon,monkey"\n', ("[prompts] working_days", "'monkey'")),
        ('[prompts]\nworking_hours = "8-25"\n', ("[prompts] working_hours", "HH:MM-HH:MM")),
        ('[prompts]\nworking_hours = "09:00"\n', ("[prompts] working_hours", "'09:00'")),
        ('[prompts]\nworking_hours = "09:00-09:00"\n', ("[prompts] working_hours", "same")),
        ("[slouch]\nhold = 3\n", ("[slouch]", "unknown setting 'hold'")),
        ("[stationary]\nstill_minutes = 'long'\n", ("[stationary] still_minutes", "a number")),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_section(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    recording: Path,
    toml: str,
    fragments: tuple[str, ...],
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(toml)
    for command in (("analyze", recording), ("run", recording, "--no-window")):
        one_line_error(coach(capsys, *command, "--config", config), str(config), *fragments)


def test_a_config_path_that_looks_like_markup_is_printed_as_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path
) -> None:
    folder = tmp_path / "cfg["
    folder.mkdir()
    config = folder / "x].toml"  # the path holds "[/x]", a closing tag to rich
    config.write_text("[slouch]\nhold = 3\n")
    one_line_error(
        coach(capsys, "analyze", recording, "--config", config), f"{tmp_path}/cfg[/x].toml [slouch]"
    )


def test_every_default_and_good_spellings_load(tmp_path: Path) -> None:
    sections = [f.name for f in Config.__dataclass_fields__.values()]
    config = tmp_path / "c.toml"
    config.write_text("".join(f"[{name}]\n" for name in sections))
    assert load_config(config) == Config()
    config.write_text(
        '[prompts]\nworking_days = "Mon, Tuesday,thu"\nworking_hours = "22:00-02:00"\n'
    )
    assert load_config(config).prompts.working_days == "Mon, Tuesday,thu"


def test_names_with_markup_are_shown_as_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path
) -> None:
    named = tmp_path / "[bold]monday.jsonl"
    named.write_bytes(recording.read_bytes())
    code, _, err = coach(capsys, "run", named, "--no-window", "--no-history")
    assert code == 0, err
    assert "Source               [bold]monday.jsonl" in err  # the dashboard
    assert "s of [bold]monday.jsonl." in err  # the closing line


# Item 12: numeric options.


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("analyze", "REC", "--max-seconds", "nan"), "--max-seconds must be a number more than 0"),
        (("run", "REC", "--no-window", "--max-seconds", "-1"), "--max-seconds"),
        (("analyze", "REC", "--still-minutes", "inf"), "--still-minutes"),
        (("analyze", "REC", "--calibrate-seconds", "0"), "--calibrate-seconds"),
        (("calibrate", "REC", "--seconds", "nan"), "--seconds"),
        (("count", "REC", "--movement", "cat-cow", "--reps", "0"), "--reps"),
        (("analyze", "REC", "--max-seconds", "soon"), "invalid float value: 'soon'"),
        (("count", "REC", "--movement", "cat-cow", "--reps", "2.5"), "invalid int value"),
        (("count", "REC", "--movement", "handstand"), "invalid choice: 'handstand'"),
        (("dance",), "invalid choice: 'dance'"),
    ],
)
def test_a_bad_numeric_option_is_one_line(
    capsys: pytest.CaptureFixture[str], recording: Path, args: tuple[str, ...], fragment: str
) -> None:
    argv = [str(recording) if a == "REC" else a for a in args]
    one_line_error(coach(capsys, *argv), fragment)


@pytest.mark.slow
def test_a_recording_that_fails_keeps_the_old_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, camera: Camera
) -> None:
    camera.frames_per_connection = 45  # the stream drops after 1.5 s, mid-recording
    config = tmp_path / "c.toml"
    config.write_text("[source]\nreconnect_s = 0\nstream_read_timeout_s = 1\n")
    old = tmp_path / "monday.jsonl"
    old.write_text("yesterday's recording\n")
    args = ("record", camera.url, "--landmarks", old, "--force", "--config", config)
    code, _, err = coach(capsys, *args)
    # The dashboard was on screen until the stream dropped; then one error line.
    errors = [line for line in err.splitlines() if "error:" in line]
    assert code == 1 and "Traceback" not in err
    assert len(errors) == 1 and "stopped delivering frames" in errors[0]
    assert old.read_text() == "yesterday's recording\n"
    assert leftovers(tmp_path) == []
