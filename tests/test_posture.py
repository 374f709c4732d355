"""Tests for posture cues and metrics on the synthetic body, from front, oblique and side cameras."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from coach.config import SlouchConfig
from coach.features.posture import PostureCues, measure_cues, median_cues, posture_metrics
from coach.features.view import classify_view, shoulder_yaw_deg
from testkit.synthetic import BodyPose, Camera, synthetic_pose

VIEWS = {"front": 0.0, "oblique": 45.0, "side": 90.0}


def metrics_for(body: BodyPose, yaw_deg: float, neutral_body: BodyPose | None = None):
    camera = Camera(yaw_deg=yaw_deg)
    neutral = measure_cues(synthetic_pose(neutral_body or BodyPose(), camera))
    cues = measure_cues(synthetic_pose(body, camera))
    assert neutral is not None and cues is not None
    return posture_metrics(cues, neutral)


@pytest.mark.parametrize(("view", "yaw"), list(VIEWS.items()))
def test_view_is_detected_from_the_landmarks(view: str, yaw: float) -> None:
    pose = synthetic_pose(BodyPose(), Camera(yaw_deg=yaw))
    assert classify_view(shoulder_yaw_deg(pose)) == view
    cues = measure_cues(pose)
    assert cues is not None and cues.view == view


@pytest.mark.parametrize("yaw", VIEWS.values())
def test_neutral_reads_zero(yaw: float) -> None:
    m = metrics_for(BodyPose(), yaw)
    assert m is not None
    assert abs(m.forward_head) < 1e-6 and abs(m.thoracic_rounding) < 1e-6


@pytest.mark.parametrize("yaw", VIEWS.values())
def test_forward_head_grows_with_each_grade(yaw: float) -> None:
    values = []
    for forward_m in (0.0, 0.02, 0.04, 0.06, 0.08):
        m = metrics_for(BodyPose(forward_head_m=forward_m), yaw)
        assert m is not None
        values.append(m.forward_head)
    assert all(b > a for a, b in itertools.pairwise(values)), values
    assert values[-1] >= 8.0, values


@pytest.mark.parametrize("yaw", VIEWS.values())
def test_head_forward_and_down_is_a_slouch_in_every_view(yaw: float) -> None:
    m = metrics_for(BodyPose(forward_head_m=0.08, rounding=0.5), yaw)
    assert m is not None
    assert m.score >= SlouchConfig().score_enter, m


def test_trunk_leaning_toward_a_front_camera_reads_worse_never_better() -> None:
    # Leaning toward the screen brings the shoulders closer: they look wider, and the head
    # comes down with them. Every cue must read that as worse than neutral.
    leaning = BodyPose(shift_m=(0.0, 0.04, -0.12), rounding=0.3, forward_head_m=0.03)
    m = metrics_for(leaning, 0.0)
    assert m is not None
    assert m.score >= SlouchConfig().score_enter, m
    assert min(m.cue_points) >= -1.0, m.cue_points


@pytest.mark.parametrize("yaw", VIEWS.values())
def test_rounding_grows_with_the_slump(yaw: float) -> None:
    values = []
    for rounding in (0.0, 0.5, 1.0):
        m = metrics_for(BodyPose(rounding=rounding), yaw)
        assert m is not None
        values.append(m.thoracic_rounding)
    assert values[0] < values[1] < values[2]
    assert values[2] >= 15.0


@pytest.mark.parametrize("yaw", VIEWS.values())
@pytest.mark.parametrize("pitch_deg", [-25.0, 20.0, 35.0])
def test_a_nod_is_seen_as_a_nod(yaw: float, pitch_deg: float) -> None:
    # Looking down lowers the nose like a slouch does; the detector tells a glance from a
    # slouch by how long it lasts (tests/test_slouch.py), so the nod itself must be seen.
    m = metrics_for(BodyPose(pitch_deg=pitch_deg), yaw)
    assert m is not None
    if pitch_deg > 0:
        assert m.pitch_change >= SlouchConfig().glance_pitch
    else:
        assert m.pitch_change < -0.08
        assert m.forward_head < 8.0 and m.thoracic_rounding < 8.0  # looking up is no slouch


def test_lateral_lean_is_measured_from_the_front() -> None:
    m = metrics_for(BodyPose(lean_deg=12.0), 0.0)
    assert m is not None
    assert m.lean_deg == pytest.approx(12.0, abs=1.0)
    assert m.forward_head < 8.0 and m.thoracic_rounding < 8.0


def test_untrustworthy_frames_give_no_value() -> None:
    camera = Camera()
    hidden = synthetic_pose(BodyPose(), camera, visibility=0.2)
    assert measure_cues(hidden) is None
    out_of_frame = synthetic_pose(BodyPose(shift_m=(0.6, 0.0, 0.0)), camera)
    assert measure_cues(out_of_frame) is None
    # Face in profile while the shoulders face the camera: nothing about the head is read.
    turned = synthetic_pose(BodyPose(), camera)
    turned.image_xyz[0, 0] += 0.09
    assert measure_cues(turned) is None


def test_a_turned_head_keeps_the_nose_cues_and_drops_the_ears() -> None:
    turned = synthetic_pose(BodyPose(), Camera())
    turned.image_xyz[0, 0] += 0.05  # looking at a second screen
    cues = measure_cues(turned)
    assert cues is not None
    assert math.isfinite(cues.nose_rise) and math.isnan(cues.head_size)


def test_one_ear_is_enough() -> None:
    pose = synthetic_pose(BodyPose(), Camera())
    pose.visibility[8] = 0.0  # the right ear was not recorded (some apps keep only one)
    cues = measure_cues(pose)
    assert cues is not None
    assert math.isfinite(cues.ear_rise) and math.isnan(cues.head_size)


def test_median_cues_ignores_outliers() -> None:
    camera = Camera()
    cues = [
        measure_cues(synthetic_pose(BodyPose(), camera, noise_px=1.0, rng=np.random.default_rng(i)))
        for i in range(9)
    ]
    cues.append(measure_cues(synthetic_pose(BodyPose(forward_head_m=0.2), camera)))
    typed = [c for c in cues if isinstance(c, PostureCues)]
    neutral = median_cues(typed)
    clean = measure_cues(synthetic_pose(BodyPose(), camera))
    assert clean is not None
    assert neutral.head_size == pytest.approx(clean.head_size, rel=0.02)
    assert math.isnan(neutral.ear_shoulder_deg)
