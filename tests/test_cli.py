"""Tests for the command line: the JSON contract, record/replay, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coach.cli import main
from tests.conftest import REPO, sample_clip

COACH = [sys.executable, "-m", "coach"]


def coach(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, **(env or {})}
    merged.pop("DISPLAY", None)
    return subprocess.run(
        [*COACH, *args], capture_output=True, text=True, cwd=REPO, env=merged, timeout=timeout
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("coach: error:")
    for fragment in fragments:
        assert fragment in lines[0]


def assert_gave_up(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    """A bounded wait for a camera: said once while waiting, then one error line, exit 1."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    waiting = [line for line in lines if "trying again by itself" in line and "│" not in line]
    assert len(waiting) == 1, result.stderr
    errors = [line for line in lines if "coach: error:" in line]
    assert len(errors) == 1 and fragment in errors[0], result.stderr


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "analyze", "record", "calibrate", "models"):
        assert command in out


def test_invalid_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[slouch]\nhold = 3\n")
    assert_one_line_error(
        coach("analyze", "x.mp4", "--config", str(config)), "unknown setting 'hold'"
    )


@pytest.mark.slow
class TestBadInput:
    def test_missing_file(self) -> None:
        assert_one_line_error(coach("analyze", "no/such/video.mp4", "--json"), "does not exist")

    def test_corrupt_video(self, tmp_path: Path) -> None:
        bad = tmp_path / "corrupt.mp4"
        bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000))
        assert_one_line_error(coach("analyze", str(bad), "--json"), "not a readable video")

    def test_truncated_video(self, tmp_path: Path) -> None:
        data = sample_clip("neutral").read_bytes()
        cut = tmp_path / "truncated.mp4"
        cut.write_bytes(data[: len(data) // 2])
        result = coach("analyze", str(cut), "--json")
        assert_one_line_error(result)
        assert "truncated" in result.stderr
        assert result.stdout == ""  # no half report passed off as a whole one

    def test_unopenable_camera_index(self) -> None:
        # A coach left running waits for its camera (and says so once); a script bounds the wait.
        assert_gave_up(
            coach("run", "7", "--no-window", "--give-up-after", "1"), "camera 7 cannot be opened"
        )

    def test_unreachable_stream(self) -> None:
        assert_gave_up(
            coach("run", "rtsp://127.0.0.1:9/cam", "--no-window", "--give-up-after", "1"),
            "cannot be reached",
        )

    def test_model_that_is_not_a_pose_model(self, tmp_path: Path) -> None:
        fake = tmp_path / "face.task"
        import zipfile

        with zipfile.ZipFile(fake, "w") as bundle:
            bundle.writestr("face_detector.tflite", b"not a model")
        assert_one_line_error(
            coach("analyze", str(sample_clip("neutral")), "--model", str(fake)),
            "not a pose landmarker model",
        )

    def test_missing_profile(self, tmp_path: Path) -> None:
        result = coach(
            "analyze",
            str(sample_clip("neutral")),
            "--profile",
            "nobody",
            env={"XDG_DATA_HOME": str(tmp_path)},
        )
        assert_one_line_error(result, "coach calibrate")


@pytest.mark.slow
def test_analyze_json_contract_and_landmark_replay(tmp_path: Path) -> None:
    video = str(sample_clip("neutral"))
    # At one steady rate, so the video and its recording are sampled at the same moments.
    steady = tmp_path / "steady.toml"
    steady.write_text("[loop]\nidle_fps = 5\nglance = false\n")
    result = coach("analyze", video, "--json", "--calibrate-seconds", "3", "--config", str(steady))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"frames", "duration_s", "fps", "view", "samples", "slouch", "nudges"}
    assert report["frames"] == 300 and report["fps"] == 15.0 and report["view"] == "front"
    assert report["duration_s"] == pytest.approx(20.0)
    assert len(report["samples"]) == 20
    first = report["samples"][5]
    assert set(first) >= {"t_s", "state", "forward_head", "thoracic_rounding"}
    assert first["state"] == "upright" and isinstance(first["forward_head"], float)
    assert report["slouch"] == {"seconds": 0, "intervals_s": []}

    # Record the pose stream (never pixels) and replay it: same samples as the video.
    landmarks = tmp_path / "neutral.jsonl.gz"
    recorded = coach("record", video, "--landmarks", str(landmarks))
    assert recorded.returncode == 0, recorded.stderr
    replay = coach(
        "analyze", str(landmarks), "--json", "--calibrate-seconds", "3", "--config", str(steady)
    )
    assert replay.returncode == 0, replay.stderr
    replayed = json.loads(replay.stdout)
    assert [s["state"] for s in replayed["samples"]] == [s["state"] for s in report["samples"]]
    for a, b in zip(replayed["samples"], report["samples"], strict=True):
        assert a["t_s"] == b["t_s"]
        if a["forward_head"] is not None:
            assert a["forward_head"] == pytest.approx(b["forward_head"], abs=0.05)


@pytest.mark.slow
def test_run_on_a_video_at_file_speed_exits_cleanly() -> None:
    result = coach("run", str(sample_clip("neutral")), "--no-window", "--calibrate-seconds", "2")
    assert result.returncode == 0, result.stderr
    assert "Done:" in result.stderr


@pytest.mark.slow
def test_run_falls_back_to_the_sample_video_without_a_webcam() -> None:
    result = coach(
        "run", "--fallback-video", str(sample_clip("neutral")), "--no-window", "--max-seconds", "3"
    )
    assert result.returncode == 0, result.stderr
    assert "No webcam could be opened; running on the sample video" in " ".join(
        result.stderr.split()
    )


@pytest.mark.slow
def test_analyze_reports_still_and_away_intervals_on_the_real_clip() -> None:
    video = sample_clip("still_moving_away")
    truth = json.loads(video.with_suffix(".json").read_text())
    result = coach(
        "analyze", str(video), "--json", "--calibrate-seconds", "5", "--still-minutes", "0.3"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    stationary = report["stationary"]
    found, expected = stationary["still_intervals_s"], truth["still_intervals_s"]
    assert len(found) == len(expected), (found, expected)
    for (a, b), (ta, tb) in zip(found, expected, strict=True):
        assert abs(a - ta) <= 3.0 and abs(b - tb) <= 3.0, (found, expected)
    (away,) = stationary["away_intervals_s"]
    (true_away,) = truth["away_intervals_s"]
    assert abs(away[0] - true_away[0]) <= 3.0 and abs(away[1] - true_away[1]) <= 3.0
    assert stationary["longest_still_s"] == pytest.approx(max(b - a for a, b in found), abs=0.01)
    stationary_nudges = [n for n in report["nudges"] if n["reason"] == "stationary"]
    assert stationary_nudges and stationary_nudges[0]["t_s"] == pytest.approx(18.0, abs=1.0)
    assert isinstance(stationary_nudges[0]["movement"], str)


@pytest.mark.slow
def test_run_then_report_shows_the_session(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    ran = coach(
        "run",
        str(sample_clip("slouch")),
        "--no-window",
        "--calibrate-seconds",
        "5",
        "--db",
        str(db),
    )
    assert ran.returncode == 0, ran.stderr
    analyzed = json.loads(
        coach("analyze", str(sample_clip("slouch")), "--json", "--calibrate-seconds", "5").stdout
    )
    report = coach("report", "--db", str(db), "--days", "1", "--out", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    text = report.stdout + report.stderr
    row = next(
        line
        for line in text.splitlines()
        if line.split() and line.split()[0] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    )
    slouched_min = analyzed["slouch"]["seconds"] / 60.0
    assert f"{slouched_min:.1f}" in row.split(), (row, slouched_min)
    assert (tmp_path / "report" / "report.html").exists()


@pytest.mark.slow
def test_calibrate_then_analyze_with_the_profile(tmp_path: Path) -> None:
    video = str(sample_clip("slouch"))
    calibrated = coach("calibrate", video, "--profile", "desk", "--seconds", "5")
    assert calibrated.returncode == 0, calibrated.stderr
    assert "Saved calibration profile 'desk'" in " ".join(calibrated.stderr.split())
    result = coach("analyze", video, "--json", "--profile", "desk")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["samples"][0]["state"] == "upright"  # no calibration wait with a profile
    assert len(report["slouch"]["intervals_s"]) == 2


@pytest.mark.slow
@pytest.mark.parametrize(
    ("clip", "movement"), [("cat_cow", "cat-cow"), ("lateral_flexion", "lateral-flexion")]
)
def test_count_json_contract_on_the_sample_clips(clip: str, movement: str) -> None:
    video = sample_clip(clip)
    truth = json.loads(video.with_suffix(".json").read_text())
    result = coach("count", str(video), "--movement", movement, "--json", "--no-window")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["movement"] == movement
    assert set(out) >= {"movement", "reps", "reps_detail", "feedback"}
    if movement == "lateral-flexion":
        assert out["per_side"] == {"left": truth["reps_left"], "right": truth["reps_right"]}
        assert out["reps"] == truth["reps_left"] + truth["reps_right"]
    else:
        assert "per_side" not in out
        assert out["reps"] == truth["reps"]
    detail = out["reps_detail"][0]
    assert set(detail) == {"start_s", "end_s", "phase_s", "range", "partial"}
    assert len(out["reps_detail"]) == out["reps"]
    assert out["feedback"]
    analyzed = json.loads(coach("analyze", str(video), "--json", "--calibrate-seconds", "5").stdout)
    expected = out["per_side"] if movement == "lateral-flexion" else out["reps"]
    assert analyzed["reps"][movement] == expected  # recognised without a prompt, same count


@pytest.mark.slow
def test_a_guided_set_is_logged_with_fatigue_and_reported(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "history.sqlite3"
    result = coach(
        "count",
        str(sample_clip("cat_cow")),
        "--movement",
        "cat-cow",
        "--no-window",
        "--db",
        str(db),
        "--fatigue-before",
        "2",
        "--fatigue-after",
        "4",
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        sets = conn.execute("SELECT movement, reps FROM sets").fetchall()
        fatigue = conn.execute('SELECT "before", "after" FROM fatigue').fetchall()
    assert sets == [("cat-cow", 6)]
    assert fatigue == [(2, 4)]
    report = coach("report", "--db", str(db), "--days", "1")
    assert "2.0 → 4.0" in report.stdout + report.stderr
    bad = coach(
        "count", str(sample_clip("cat_cow")), "--movement", "cat-cow", "--fatigue-after", "9"
    )
    assert_one_line_error(bad, "1 (fresh) to 5")
