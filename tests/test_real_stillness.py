"""Stillness on real seated people (../shared/realdata), through `coach analyze --json`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "realdata"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import real_stillness  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (DATA_DIR / "posture").is_dir(),
    reason=f"no real recordings at {DATA_DIR} (internal evaluation data, never in the repo)",
)

# Seated at a desk, holding one posture between labelled changes. The s4raaga back-slouch and
# side-lean files are left out of the target on purpose: in them the sitter keeps changing
# posture (the trunk swings by 0.5-1.5 shoulder widths every few seconds), which the coach must
# call movement; they are reported by benchmarks/real_stillness.py instead.
SEATED = (
    "kochamkotkiic/recordingA",
    "kochamkotkiic/recordingB",
    "s4raaga/upright",
    "pi20072003/autosave_0da60f3",
)


@pytest.fixture(scope="module")
def results() -> dict[str, real_stillness.RecordingResult]:
    wanted = [r for r in real_stillness.recordings(DATA_DIR) if r.name in SEATED]
    assert {r.name for r in wanted} == set(SEATED)
    found = real_stillness.evaluate_recordings(wanted)
    return {r.recording.name: r for r in found}


def test_seated_people_read_still_outside_labelled_movement_at_every_rate(
    results: dict[str, real_stillness.RecordingResult],
) -> None:
    for label in ("default", "5", "own"):
        verdicts = [
            v
            for r in results.values()
            for run in r.runs
            if label == ("own" if run is r.runs[-1] else run.label)
            for v in r.scored(run, during=False)
        ]
        still = sum(v == "still" for v in verdicts) / len(verdicts)
        print(f"{label}: still {still:.1%} of {len(verdicts)} s")
        assert still >= real_stillness.STILL_TARGET, (label, still)


def test_each_seated_recording_reads_still_most_of_the_time(
    results: dict[str, real_stillness.RecordingResult],
) -> None:
    for name, r in results.items():
        for run in r.runs:
            verdicts = r.scored(run, during=False)
            still = sum(v == "still" for v in verdicts) / len(verdicts)
            assert still >= 0.9, (name, run.label, still)


def test_verdicts_agree_across_analysis_rates(
    results: dict[str, real_stillness.RecordingResult],
) -> None:
    for name, r in results.items():
        for run in r.runs[:-1]:
            assert real_stillness.agreement(r, run) >= 0.95, (name, run.label)
