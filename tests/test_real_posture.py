"""Slouch on real people's webcam recordings (../shared/realdata), through `coach analyze`."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.real_posture import Score, evaluate, recordings

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "realdata"
pytestmark = pytest.mark.skipif(
    not (DATA_DIR / "posture").is_dir(),
    reason=f"real recordings not present at {DATA_DIR} (kept outside the repo)",
)


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Score]]:
    from benchmarks.realdata import isolated_home

    work = tmp_path_factory.mktemp("real")
    everything = recordings(DATA_DIR)
    with isolated_home(work):
        return {
            f"{r.source}/{r.name}": evaluate(r, everything, work)
            for r in everything
            if r.name in ("recordingA", "recordingB", "back-slouch", "keypress_dec7dbd")
        }


def test_webcam_slouches_of_a_real_person_are_caught_without_false_alarms(scores) -> None:
    coach = scores["kochamkotkiic_posture_analysis/recordingA"]["coach"]
    assert coach.share("upright") <= 0.02 and coach.share("slouched") >= 0.7
    assert coach.agreement >= 0.82
    coach = scores["kochamkotkiic_posture_analysis/recordingB"]["coach"]
    assert coach.share("upright") <= 0.03 and coach.agreement >= 0.8


def test_the_coach_is_ahead_of_both_peer_rules_on_continuous_webcam_slouches(scores) -> None:
    total = {judge: Score() for judge in ("coach", "dorso", "upsit")}
    for name, by_judge in scores.items():
        if "keypress" in name:
            continue
        for judge, score in by_judge.items():
            total[judge].merge(score)
    assert total["coach"].agreement >= total["upsit"].agreement + 0.1
    assert total["coach"].agreement >= total["dorso"].agreement
    assert total["coach"].share("upright") <= total["dorso"].share("upright")


def test_a_slumped_back_is_a_slouch(scores) -> None:
    coach = scores["s4raaga_OpenCV-Posture-Classification/back-slouch"]["coach"]
    assert coach.share("slouched") >= 0.8


def test_head_bowed_forward_key_press_frames(scores) -> None:
    coach = scores["pi20072003_sitting-posture-vn/keypress_dec7dbd"]["coach"]
    assert coach.agreement >= 0.9 and coach.share("upright") <= 0.02


def test_sitting_at_a_desk_counts_no_reps(scores) -> None:
    assert scores["kochamkotkiic_posture_analysis/recordingA"]["coach"].reps == 0
    assert scores["s4raaga_OpenCV-Posture-Classification/back-slouch"]["coach"].reps == 0
