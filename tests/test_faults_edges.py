"""Fault matrix, the edges (issue 20, items 8-10): numbers and names checked before use, control
characters never printed raw, modes changed only of what the coach created, profiles and
recordings validated, Ctrl-C at start-up, file URLs and killed recordings.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coach.calibration import load_profile, new_profile, save_profile
from coach.cli import main
from coach.desktop import autostart
from coach.desktop.app_log import LOG_NAME, close_app_log, file_console
from coach.errors import CalibrationError, ConfigError, SourceError
from coach.features.posture import PostureCues
from coach.pose.landmark_file import LandmarkWriter
from coach.safe.checks import check_name, check_path_text, number_in_range, whole_number
from coach.safe.outputs import AtomicFile
from coach.safe.printable import literal, printable
from coach.safe.private_files import create_private_file, tighten
from coach.source import SourceKind, parse_source
from tests.conftest import REPO, make_pose, sample_clip, sample_of
from tests.mjpeg_camera import start_coach, wait_for

Result = tuple[int, str, str]


@pytest.fixture(autouse=True)
def in_a_private_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No preview window; relative names land in tmp_path/cwd (never in the checkout)."""
    monkeypatch.delenv("DISPLAY", raising=False)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")


def coach(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Result:
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(result: Result, *fragments: str) -> str:
    code, _, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1, err
    assert "Traceback" not in err and len(lines) == 1, err
    assert "error:" in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def write_recording(path: Path, times_s: list[float], fps: float = 15.0) -> Path:
    with LandmarkWriter(path, source="synthetic", fps=fps, image_size=(640, 480)) as writer:
        for t_s in times_s:
            writer.write(sample_of(make_pose(t_s), t_s))
    return path


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_recording(tmp_path / "rec.jsonl", [i / 15 for i in range(45)])


@pytest.fixture
def umask_000() -> Iterator[None]:
    """The loosest umask: whatever the coach makes private is private by its own doing."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# Item 8: numbers and names.


@pytest.mark.parametrize("reps", ["99999999999999999999999", "9223372036854775807", "1001", "0"])
def test_log_refuses_a_count_out_of_range_and_saves_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, reps: str
) -> None:
    db = tmp_path / "h.sqlite3"
    one_line_error(coach(capsys, "log", "cat-cow", "--reps", reps, "--db", db), "--reps", "1000")
    assert not db.exists()
    code, _, err = coach(capsys, "log", "cat-cow", "--reps", "1000", "--db", db)
    assert code == 0 and "Logged 1000 reps" in err


@pytest.mark.parametrize("reps", ["99999999999999999999999", "1001", "-3"])
def test_count_refuses_a_target_out_of_range(
    capsys: pytest.CaptureFixture[str], recording: Path, reps: str
) -> None:
    args = ("count", recording, "--movement", "cat-cow", "--no-window", "--no-history")
    one_line_error(coach(capsys, *args, "--reps", reps), "--reps", "from 1 to 1000")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("run", "99999999999999999999", "--no-window"), "camera index"),
        (("record", "123456", "--landmarks", "o.jsonl"), "camera index"),
        (("run", "x" * 300 + ".mp4", "--no-window"), "too long"),
        (("analyze", "d/" * 2100 + "x.jsonl"), "too long"),
        (("run", "REC", "--max-seconds", "1e300", "--no-window"), "--max-seconds"),
        (("analyze", "REC", "--still-minutes", "99999999"), "--still-minutes"),
        (("calibrate", "REC", "--seconds", "1e9"), "--seconds"),
        (("report", "--out", "o" * 300), "too long"),
        (("export", "--csv", ""), "must not be empty"),
        (("data", "--path", "--db", ""), "must not be empty"),
    ],
)
def test_numbers_and_long_names_are_one_line(
    capsys: pytest.CaptureFixture[str], recording: Path, args: tuple[str, ...], fragment: str
) -> None:
    argv = [str(recording) if a == "REC" else a for a in args]
    one_line_error(coach(capsys, *argv), fragment)


def test_ctrl_c_during_start_up_is_a_clean_stop(tmp_path: Path) -> None:
    """SIGINT at moments through the first 0.8 s, after Python itself has started."""
    recording = write_recording(tmp_path / "long.jsonl", [i / 15 for i in range(300)])
    started = "import runpy, sys; sys.stdout.write('up\\n'); sys.stdout.flush()"
    program = f"{started}; runpy.run_module('coach', run_name='__main__')"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    args = ("run", str(recording), "--no-window", "--no-history")
    stopped = 0
    for delay_s in (0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8):
        child = subprocess.Popen(
            [sys.executable, "-c", program, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=env,
        )
        assert child.stdout is not None and child.stdout.readline() == b"up\n"
        time.sleep(delay_s)
        child.send_signal(signal.SIGINT)
        _, err_bytes = child.communicate(timeout=60)
        err = err_bytes.decode()
        assert "Traceback" not in err, (delay_s, err)
        if "Done:" in err:  # the run was over before the signal came (a fast machine)
            continue
        # A Ctrl-C inside an exec() (dataclasses) makes CPython re-raise SIGINT at exit.
        assert child.returncode in (0, 130, -signal.SIGINT), (delay_s, child.returncode, err)
        assert err.strip().endswith("Stopped."), err
        stopped += 1
    assert stopped >= 3  # the start-up window was hit, not only the end of the run


def test_control_characters_in_names_are_shown_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path
) -> None:
    # ESC ] 0 ; ... BEL sets the terminal's window title when printed raw.
    named = tmp_path / "a\x1b]0;pwned\x07b.jsonl"
    named.write_bytes(recording.read_bytes())
    code, out, err = coach(capsys, "run", named, "--no-window", "--no-history")
    assert code == 0, err
    assert "\x1b]0;" not in out + err and "\x07" not in out + err
    assert "a\\x1b]0;pwned\\x07b.jsonl" in err  # the dashboard and the closing line
    missing = tmp_path / "c\x1b[2Jd.mp4"  # ESC [ 2 J clears the screen
    line = one_line_error(coach(capsys, "analyze", missing))
    assert "c\\x1b[2Jd.mp4" in line
    code, out, _ = coach(capsys, "data", "--path", "--db", tmp_path / "h\x1bx.sqlite3")
    assert code == 0 and "\x1b" not in out and "h\\x1bx.sqlite3" in out


def test_printable_escapes_control_and_hiding_characters_only() -> None:
    assert printable("plain/path é 日本.mp4") == "plain/path é 日本.mp4"
    assert printable("a\x1b[31mb\x9bc\x7f") == "a\\x1b[31mb\\x9bc\\x7f"
    assert printable("evil\u202etxt.mp4") == "evil\\u202etxt.mp4"  # right-to-left override
    assert printable("two\nlines\tand a tab") == "two\nlines\tand a tab"
    assert literal("[bold]\x1b") == "\\[bold]\\x1b"


def test_calibrate_saves_only_in_the_profiles_folder_or_at_a_json_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path
) -> None:
    work = Path.cwd()
    for name in ("../x", "a/b", "..", "x" * 65, "desk\x1b"):
        one_line_error(coach(capsys, "calibrate", recording, "--profile", name), "--profile")
    assert sorted(tmp_path.iterdir()) == sorted([work, recording])  # nothing saved outside
    assert list(work.iterdir()) == []
    # A path is a .json file, used as given: the advice names it, not a profile "x".
    code, _, err = coach(capsys, "calibrate", recording, "--profile", "../x.json", "--seconds", "2")
    assert code == 0, err
    assert (tmp_path / "x.json").is_file() and "--profile ../x.json`" in err
    code, _, err = coach(capsys, "analyze", recording, "--profile", "../x.json")
    assert code == 0, err
    code, _, err = coach(capsys, "calibrate", recording, "--profile", "desk", "--seconds", "2")
    assert code == 0 and "`coach run --profile desk`" in err, err


def test_the_checks_api() -> None:
    assert check_name("desk-2.left", "--profile") == "desk-2.left"
    for bad in ("", "../x", "a\\b", "a\nb", "x" * 65):
        with pytest.raises(ConfigError, match="--profile"):
            check_name(bad, "--profile")
    assert check_path_text("~/a b/c.jsonl", "--db") == Path("~/a b/c.jsonl")
    with pytest.raises(ConfigError, match="too long"):
        check_path_text("é" * 128, "--db")  # 256 bytes in one name
    assert number_in_range(2.5, "--seconds", 0.0, 3600.0) == 2.5
    for bad_number in (math.nan, math.inf, 0.0, 3601.0):
        with pytest.raises(ConfigError, match="--seconds"):
            number_in_range(bad_number, "--seconds", 0.0, 3600.0)
    assert whole_number(" 12 ", "--reps", 1, 1000) == 12
    for bad_text in ("1_000", "0x10", "1e3", "", "9" * 5000, "1001"):
        with pytest.raises(ConfigError, match="--reps must be a whole number from 1 to 1000"):
            whole_number(bad_text, "--reps", 1, 1000)


# Item 9: modes only of what the coach created.


@pytest.fixture
def device(tmp_path: Path) -> Path:
    """A character device the test owns (as root: a private /dev/null twin), else /dev/null."""
    if os.geteuid() != 0:
        return Path("/dev/null")
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    node.chmod(0o666)
    return node


@pytest.mark.parametrize("command", [("log", "cat-cow", "--reps", "3"), ("report",), ("export",)])
def test_db_naming_a_folder_or_device_keeps_its_mode(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, device: Path, command: tuple[str, ...]
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    device_mode = mode(device)
    extra = ("--csv", str(tmp_path / "csv")) if command == ("export",) else ()
    for db, fragment in ((folder, "is a folder"), (device, "not a regular file")):
        one_line_error(coach(capsys, *command, *extra, "--db", db), "--db", fragment)
    assert mode(folder) == 0o755 and mode(device) == device_mode


def test_db_naming_a_plain_file_keeps_its_mode(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    notes.chmod(0o644)
    one_line_error(coach(capsys, "log", "cat-cow", "--reps", "3", "--db", notes))
    assert mode(notes) == 0o644 and notes.read_text() == "my notes\n"


def test_tighten_leaves_devices_links_and_others_files_alone(tmp_path: Path, device: Path) -> None:
    before = mode(device)
    tighten(device)
    link = tmp_path / "link"
    target = tmp_path / "target"
    target.write_text("x")
    target.chmod(0o644)
    link.symlink_to(target)
    tighten(link)
    assert mode(device) == before and mode(target) == 0o644
    tighten(target)
    assert mode(target) == 0o600
    existing = tmp_path / "existing"
    existing.write_text("x")
    existing.chmod(0o644)
    assert create_private_file(existing) is False and mode(existing) == 0o644


def test_a_new_database_and_its_folder_are_private_whatever_the_umask(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, umask_000: None
) -> None:
    db = tmp_path / "new" / "deeper" / "h.sqlite3"
    code, _, err = coach(capsys, "log", "cat-cow", "--reps", "3", "--db", db)
    assert code == 0, err
    assert mode(db) == 0o600 and mode(db.parent) == 0o700 and mode(db.parent.parent) == 0o700


def test_the_coach_log_is_private_whatever_the_umask_and_after_rotation(
    tmp_path: Path, umask_000: None
) -> None:
    console, path = file_console(tmp_path / "log")
    try:
        console.print("first line")
        assert path.name == LOG_NAME and mode(path) == 0o600 and mode(path.parent) == 0o700
        handler = next(
            h
            for h in logging.getLogger("coach").handlers
            if isinstance(h, logging.handlers.RotatingFileHandler)
        )
        handler.doRollover()
        console.print("after rotation")
        backup = path.with_name(f"{LOG_NAME}.1")
        assert mode(path) == 0o600 and mode(backup) == 0o600
        assert "after rotation" in path.read_text()
    finally:
        close_app_log()


def test_record_makes_its_folders_and_file_private_whatever_the_umask(
    tmp_path: Path, umask_000: None
) -> None:
    out = write_recording(tmp_path / "new" / "sub" / "rec.jsonl", [0.0, 0.1])
    assert mode(out) == 0o600
    assert mode(out.parent) == 0o700 and mode(out.parent.parent) == 0o700


def test_the_autostart_entry_is_private_whatever_the_umask(tmp_path: Path, umask_000: None) -> None:
    program = tmp_path / "coach"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    found = autostart.enable([str(program), "start"])
    assert found.state is autostart.State.ON
    assert mode(found.path) == 0o600 and mode(found.path.parent) == 0o700
    autostart.disable()


# Item 10: profiles, recordings, durations, killed recordings, file URLs.


def _profile(tmp_path: Path) -> Path:
    neutral = PostureCues(
        view_code=0.0,
        nose_rise=0.8,
        nose_y=0.45,
        ear_rise=0.6,
        head_size=0.45,
        pitch=0.1,
        head_offset=math.nan,
        ear_shoulder_deg=math.nan,
        shoulder_width=0.36,
        shoulder_x=0.5,
        shoulder_y=0.75,
        lean_deg=0.0,
    )
    return save_profile(new_profile("desk", neutral, (640, 480)), tmp_path / "desk.json")


def _edited(path: Path, edit: Any) -> Path:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))  # json writes NaN and Infinity, as an editor might
    return path


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("nose_rise", math.nan, "neutral.nose_rise is 'nan'"),
        ("nose_rise", None, "neutral.nose_rise is missing"),
        ("nose_rise", 1e9, "neutral.nose_rise is '1000000000.0'"),
        ("nose_rise", -0.5, "neutral.nose_rise is -0.5"),
        ("shoulder_width", math.inf, "neutral.shoulder_width"),
        ("nose_y", "low", "neutral.nose_y"),
        ("view_code", 7, "neutral.view_code"),
        ("lean_deg", -1e300, "neutral.lean_deg"),
    ],
)
def test_a_profile_with_nan_or_absurd_values_is_one_line_naming_the_field(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    recording: Path,
    field: str,
    value: object,
    fragment: str,
) -> None:
    profile = _edited(_profile(tmp_path), lambda d: d["neutral"].__setitem__(field, value))
    with pytest.raises(CalibrationError, match="calibrate again"):
        load_profile(profile)
    one_line_error(coach(capsys, "analyze", recording, "--profile", profile), fragment)


def test_a_valid_profile_still_loads(tmp_path: Path) -> None:
    assert load_profile(_profile(tmp_path)).neutral.nose_rise == pytest.approx(0.8)
    size = _edited(_profile(tmp_path), lambda d: d.__setitem__("image_size", [0, 1e9]))
    with pytest.raises(CalibrationError, match="image_size"):
        load_profile(size)


def test_a_recording_with_only_a_header_or_only_invalid_frames_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path
) -> None:
    lines = recording.read_text().splitlines()
    header_only = tmp_path / "header.jsonl"
    header_only.write_text(lines[0] + "\n")
    invalid = tmp_path / "invalid.jsonl"
    bad_frames = [json.loads(line) | {"t_s": -1.0} for line in lines[1:]]
    invalid.write_text("\n".join([lines[0], *map(json.dumps, bad_frames)]) + "\n")
    for path, fragment in ((header_only, "only a header"), (invalid, "no valid frame")):
        for command in (("analyze", path, "--json"), ("run", path, "--no-window")):
            code, out, err = coach(capsys, *command)
            one_line_error((code, out, err), fragment, "nothing to analyse")
            assert out == ""


def test_analyze_duration_is_the_recordings_span(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Every third frame of a 15 fps camera, over 19.8 s: 100 samples, not 100 / 15 s.
    sparse = write_recording(tmp_path / "sparse.jsonl", [i * 0.2 for i in range(100)])
    code, out, err = coach(capsys, "analyze", sparse, "--json")
    assert code == 0, err
    assert json.loads(out)["duration_s"] == pytest.approx(19.8, abs=0.01)
    whole = write_recording(tmp_path / "whole.jsonl", [i / 15 for i in range(150)])
    code, out, err = coach(capsys, "analyze", whole, "--json")
    assert code == 0 and json.loads(out)["duration_s"] == pytest.approx(10.0), err


def test_a_killed_writer_leaves_no_pose_data_behind(tmp_path: Path) -> None:
    """kill -9 in the middle of a recording; the next writer of that file clears what is left."""
    tmp_path = tmp_path / "recordings"
    tmp_path.mkdir()
    out = tmp_path / "rec.jsonl"
    program = (
        "import sys, time; from pathlib import Path; from coach.safe.outputs import AtomicFile; "
        "f = AtomicFile(Path(sys.argv[1]), private=True); f.temp.write_text('pose data'); "
        "print(f.temp, flush=True); time.sleep(60)"
    )
    old = os.umask(0)
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", program, str(out)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert child.stdout is not None
        part = Path(child.stdout.readline().strip())
    finally:
        os.umask(old)
    assert part.exists() and mode(part) == 0o600  # private while it exists
    child.kill()
    child.communicate()
    alive = tmp_path / f".{out.name}.{os.getppid()}.abcdefgh.part"  # a writer still running
    alive.write_text("busy")
    mine = tmp_path / ".rec.jsonl.notes.part"  # not of our pattern: the user's
    mine.write_text("mine")
    write_recording(out, [0.0, 0.1])
    assert not part.exists() and alive.exists() and mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, alive.name, mine.name])


def test_atomic_file_names_carry_the_writers_process_id(tmp_path: Path) -> None:
    target = AtomicFile(tmp_path / "x.csv")
    assert target.temp.name.startswith(f".x.csv.{os.getpid()}.")
    target.discard()


def test_a_file_url_is_read_as_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: Path
) -> None:
    spec = parse_source(recording.as_uri())
    assert spec.kind is SourceKind.LANDMARKS and spec.target == str(recording)
    spaced = tmp_path / "my rec.jsonl"
    spaced.write_bytes(recording.read_bytes())
    assert parse_source(spaced.as_uri()).target == str(spaced)  # %20 read as a space
    code, out, err = coach(capsys, "analyze", recording.as_uri(), "--json")
    assert code == 0, err
    assert json.loads(out)["frames"] == 45
    with pytest.raises(SourceError, match="another machine"):
        parse_source("file://server/share/x.mp4")
    one_line_error(coach(capsys, "run", "file:///no/such/x.mp4", "--no-window"), "does not exist")


@pytest.mark.slow
def test_coach_record_killed_leaves_only_a_private_part_the_next_record_removes(
    tmp_path: Path, model_path: Path
) -> None:
    out_dir = tmp_path / "recordings"
    out = out_dir / "talk.jsonl"
    clip = sample_clip("neutral")
    child = start_coach(tmp_path, "record", str(clip), "--landmarks", str(out))

    def parts() -> list[Path]:
        return sorted(out_dir.glob(f".{out.name}.*.part")) if out_dir.exists() else []

    try:
        wait_for(lambda: parts() and parts()[0].stat().st_size > 0, 120, "pose data written")
    finally:
        child.kill()  # kill -9: no clean-up runs
        child.wait()
    (part,) = parts()
    assert mode(part) == 0o600 and mode(out_dir) == 0o700 and not out.exists()
    record = start_coach(
        tmp_path, "record", str(clip), "--landmarks", str(out), "--max-seconds", "1"
    )
    assert record.wait(timeout=120) == 0, (tmp_path / "stderr.txt").read_text()
    assert parts() == [] and out.is_file() and mode(out) == 0o600
