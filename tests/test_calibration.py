"""Tests for calibration: profiles round trip, the calibrator, and a neutral that never learns a slouch."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from coach.analyzer import Analyzer
from coach.calibration import Calibrator, load_profile, new_profile, profile_path, save_profile
from coach.config import Config
from coach.decisions.baseline import Drift, NeutralAdapter, judge_drift
from coach.errors import CalibrationError
from coach.features.posture import PostureMetrics, measure_cues, posture_metrics
from coach.movements import load_library
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample


@pytest.mark.parametrize("yaw", [0.0, 45.0, 90.0])
def test_profile_round_trip(tmp_path: Path, yaw: float) -> None:
    cues = measure_cues(synthetic_pose(BodyPose(), Camera(yaw_deg=yaw)))
    assert cues is not None
    path = save_profile(new_profile("desk", cues, (640, 480)), profile_path("desk", tmp_path))
    assert path == tmp_path / "desk.json"
    loaded = load_profile(path)
    assert loaded.name == "desk" and loaded.view == cues.view
    for name in ("head_size", "ear_rise", "nose_rise", "shoulder_width", "ear_shoulder_deg"):
        a, b = getattr(loaded.neutral, name), getattr(cues, name)
        assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, abs=1e-5)


def test_bad_profiles_are_reported(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="does not exist"):
        load_profile(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": "coach-profile", "version": 1, "neutral": {}}))
    with pytest.raises(CalibrationError, match="another version of the coach"):
        load_profile(old)
    bad.write_text(json.dumps({"format": "coach-profile", "version": 2, "neutral": {}}))
    with pytest.raises(CalibrationError, match="not a valid calibration profile"):
        load_profile(bad)
    with pytest.raises(CalibrationError, match="not valid"):
        profile_path("my desk!", tmp_path)


def test_calibrator_waits_for_a_clear_view() -> None:
    calibrator = Calibrator(window_s=5.0, min_usable_fraction=0.6)
    camera = Camera()
    t = 0.0
    # Nobody for 4 s, then the user sits down.
    for _ in range(20):
        assert calibrator.update(None, t) is None
        t += 0.2
    done_at = None
    for _ in range(50):
        if calibrator.update(measure_cues(synthetic_pose(BodyPose(), camera)), t) is not None:
            done_at = t
            break
        t += 0.2
    assert done_at is not None and 6.5 <= done_at <= 9.5


def _run_stream(analyzer: Analyzer, bodies, fps: float = 5.0, start_s: float = 0.0):
    snaps = []
    t = start_s
    rng = np.random.default_rng(1)
    for body in bodies:
        pose = synthetic_pose(body, Camera(), noise_px=0.6, rng=rng)
        snaps.append(analyzer.update(synthetic_sample(pose, t)))
        t += 1.0 / fps
    return snaps, t


def test_neutral_never_drifts_toward_a_long_slouch() -> None:
    analyzer = Analyzer(Config(), load_library(), calibrate_s=5.0)
    tall = BodyPose()
    slouch = BodyPose(forward_head_m=0.05, rounding=0.6)
    snaps, t = _run_stream(analyzer, [tall] * 50)
    assert snaps[-1].state == "upright"
    before = analyzer.neutral
    # Two hours slouched, sampled at 1 fps to keep the test fast.
    snaps, t = _run_stream(analyzer, [slouch] * 7200, fps=1.0, start_s=t)
    assert snaps[-1].state == "slouched"
    assert all(s.state == "slouched" for s in snaps[10:])
    after = analyzer.neutral
    assert before is not None and after is not None
    for name in ("head_size", "ear_rise", "nose_rise", "shoulder_width"):
        # Only the first seconds, before the slouch was decided, may move it at all.
        assert getattr(after.current, name) == pytest.approx(
            getattr(before.current, name), rel=2e-3
        )
    early = np.mean([s.metrics.forward_head for s in snaps[10:310] if s.metrics])
    late = np.mean([s.metrics.forward_head for s in snaps[-300:] if s.metrics])
    assert late == pytest.approx(early, abs=1.0)


def test_adapter_is_quick_toward_better_and_slow_toward_worse() -> None:
    camera = Camera()
    neutral = measure_cues(synthetic_pose(BodyPose(forward_head_m=0.02), camera))
    better = measure_cues(synthetic_pose(BodyPose(), camera))
    slightly_worse = measure_cues(synthetic_pose(BodyPose(forward_head_m=0.035), camera))
    assert neutral and better and slightly_worse
    adapter = NeutralAdapter(neutral, better_tau_s=60.0, worse_tau_s=7200.0)
    for i in range(121):
        adapter.update(better, i * 1.0, Drift.BETTER)
    after_better = posture_metrics(better, adapter.neutral.current)
    assert after_better is not None and abs(after_better.forward_head) < 1.0
    start = adapter.neutral.current
    for i in range(121, 121 + 600):
        adapter.update(slightly_worse, i * 1.0, Drift.DEAD_BAND)
    moved = posture_metrics(slightly_worse, adapter.neutral.current)
    original = posture_metrics(slightly_worse, start)
    assert moved is not None and original is not None
    # Ten minutes in the dead band moves the neutral by under 10 % of the gap.
    assert moved.forward_head > 0.9 * original.forward_head
    for i in range(721, 721 + 3600):
        adapter.update(slightly_worse, i * 1.0, Drift.WORSE)
    frozen = posture_metrics(slightly_worse, adapter.neutral.current)
    assert frozen is not None and frozen.forward_head == pytest.approx(moved.forward_head)


def test_moved_camera_asks_for_recalibration() -> None:
    analyzer = Analyzer(Config(), load_library(), calibrate_s=5.0)
    snaps, t = _run_stream(analyzer, [BodyPose()] * 50)
    assert not snaps[-1].recalibrate
    moved = BodyPose(shift_m=(0.2, 0.0, 0.0))
    snaps, t = _run_stream(analyzer, [moved] * 200, start_s=t)
    assert not snaps[50].recalibrate and snaps[-1].recalibrate


def test_the_neutral_never_follows_a_trunk_leaning_toward_the_camera() -> None:
    # From a front camera a trunk leaning toward the screen looks wider at the shoulders;
    # no cue may read that as better posture and pull the neutral toward it.
    analyzer = Analyzer(Config(), load_library(), calibrate_s=5.0)
    snaps, t = _run_stream(analyzer, [BodyPose()] * 50)
    before = analyzer.neutral
    leaning = BodyPose(shift_m=(0.0, 0.04, -0.12), rounding=0.3, forward_head_m=0.03)
    snaps, t = _run_stream(analyzer, [leaning] * 1500, start_s=t)  # five minutes
    after = analyzer.neutral
    assert before is not None and after is not None
    assert all(s.state == "slouched" for s in snaps[20:])
    for name in ("nose_rise", "nose_y", "shoulder_width", "head_size"):
        assert getattr(after.current, name) == pytest.approx(
            getattr(before.current, name), rel=2e-3
        )


def test_drift_is_frozen_when_any_cue_reads_worse() -> None:
    better_but_one = PostureMetrics(-10.0, -10.0, 0.0, 0.0, (-10.0, -10.0, 3.0))
    assert judge_drift(better_but_one, False, 0.08, 5.0) is Drift.WORSE
    all_better = PostureMetrics(-10.0, -10.0, 0.0, 0.0, (-10.0, -10.0, -1.0))
    assert judge_drift(all_better, False, 0.08, 5.0) is Drift.BETTER
    assert judge_drift(all_better, True, 0.08, 5.0) is Drift.WORSE


def test_calibration_measures_each_cues_jitter_and_the_profile_keeps_it(tmp_path: Path) -> None:
    camera = Camera()
    calibrator = Calibrator(window_s=3.0, min_usable_fraction=0.6)
    rng = np.random.default_rng(3)
    for i in range(20):
        pose = synthetic_pose(BodyPose(), camera, noise_px=2.0, rng=rng)
        calibrator.update(measure_cues(pose), i * 0.2)
    assert calibrator.neutral is not None and calibrator.noise is not None
    assert 0.0 < calibrator.noise.nose_rise < 0.05
    profile = new_profile("desk", calibrator.neutral, (640, 480), noise=calibrator.noise)
    loaded = load_profile(save_profile(profile, tmp_path / "desk.json"))
    assert loaded.noise is not None
    assert loaded.noise.nose_rise == pytest.approx(calibrator.noise.nose_rise, rel=1e-3)


def test_a_jittery_cue_counts_less_in_the_score() -> None:
    camera = Camera()
    neutral = measure_cues(synthetic_pose(BodyPose(), camera))
    slumped = measure_cues(synthetic_pose(BodyPose(rounding=0.6), camera))
    assert neutral is not None and slumped is not None
    steady = dataclasses.replace(neutral, nose_rise=0.001, nose_y=0.001)
    jittery_sink = dataclasses.replace(steady, nose_y=0.05)
    a = posture_metrics(slumped, neutral, steady)
    b = posture_metrics(slumped, neutral, jittery_sink)
    assert a is not None and b is not None
    assert a.weights == pytest.approx((0.5, 0.5), abs=0.05)
    assert b.weights[1] < 0.2 < 0.8 < b.weights[0]
