"""Tests rep counting on real people: the keraal recordings through `coach count` and `coach analyze`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MODEL

REPO = Path(__file__).resolve().parent.parent
# COACH_REALDATA points a checkout elsewhere (a worktree) at the shared recordings.
DATA_DIR = Path(
    os.environ.get("COACH_REALDATA", Path(__file__).resolve().parents[2] / "shared" / "realdata")
)
KERAAL = DATA_DIR / "keraal"

pytestmark = pytest.mark.skipif(
    not (KERAAL / "truth.json").exists(),
    reason=f"the real keraal recordings are not here ({KERAAL}); they are not in the repository",
)

sys.path.insert(0, str(REPO / "benchmarks"))
import real_reps  # noqa: E402
from realdata import coach_json, isolated_home  # noqa: E402


@pytest.fixture(scope="module")
def results() -> Iterator[list[real_reps.Result]]:
    # Landmark files only: the videos have their own (slow) test below.
    yield real_reps.evaluate(DATA_DIR, videos=False)


def _named(results: list[real_reps.Result], prefix: str) -> list[real_reps.Result]:
    return [r for r in results if r.recording.name.startswith(prefix)]


def test_every_recording_is_run(results: list[real_reps.Result]) -> None:
    names = {r.recording.name for r in results}
    assert len(_named(results, "elk_")) >= 10
    assert len(_named(results, "ctk_")) >= 5
    assert len(_named(results, "rtk_")) >= 5
    assert "elk_correct_x5" in names


def test_lateral_stretches_are_counted_exactly_per_side(
    results: list[real_reps.Result],
) -> None:
    positives = [r for r in results if r.recording.kind == "positive"]
    wrong = [real_reps.detail_line(r) for r in positives if not r.exact]
    assert len(wrong) <= (1 - real_reps.EXACT_TARGET) * len(positives), wrong


def test_the_five_per_side_set_is_counted_five_per_side(results: list[real_reps.Result]) -> None:
    (x5,) = [r for r in results if r.recording.name == "elk_correct_x5"]
    assert x5.guided == {"left": 5, "right": 5}
    # Unprompted too: five rhythmic bends per side make a recognised set.
    assert x5.analyze_sides == {"left": 5, "right": 5}


def test_other_exercises_count_no_side_bend(results: list[real_reps.Result]) -> None:
    negatives = [r for r in results if r.recording.kind == "negative"]
    assert len(negatives) >= 10
    bends = [real_reps.detail_line(r) for r in negatives if r.any_side_bend]
    assert len(bends) <= real_reps.NEGATIVE_TARGET * len(negatives), bends


def test_no_recording_counts_cat_cow(results: list[real_reps.Result]) -> None:
    cat_cow = [real_reps.detail_line(r) for r in results if r.any_cat_cow]
    assert cat_cow == []


def test_report_summarises_the_figures(tmp_path: Path) -> None:
    # The report other evaluations print: one line per recording, targets named as met.
    with isolated_home(tmp_path):
        details, summary = real_reps.report(DATA_DIR, videos=False)
    assert len(details) >= 20
    assert any("exactly per side" in line and "met" in line for line in summary)
    assert any("any side bend" in line and "met" in line for line in summary)
    assert any("any cat-cow" in line and "met" in line for line in summary)


@pytest.mark.slow
@pytest.mark.skipif(not MODEL.exists(), reason="the pose model is not built (make setup)")
@pytest.mark.parametrize(
    ("stem", "movement"),
    [
        ("rtk_Correct2", "lateral-flexion"),
        ("ctk_Correct0", "lateral-flexion"),
        ("ctk_Correct3", "lateral-flexion"),
        ("ctk_Correct4", "cat-cow"),
    ],
)
def test_videos_through_the_real_model_count_nothing(
    stem: str, movement: str, tmp_path: Path
) -> None:
    video = KERAAL / "videos" / f"{stem}.avi"
    if not video.exists():
        pytest.skip(f"{video} is not here")
    with isolated_home(tmp_path):
        out = coach_json(
            "count",
            video,
            "--movement",
            movement,
            "--reps",
            "10",
            "--json",
            "--no-history",
            "--no-window",
        )
    assert out["reps"] == 0, out
