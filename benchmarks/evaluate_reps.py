"""Evaluates rep counting and set recognition: a synthetic sweep, everyday negatives, and the sample clips.

Run on demand: `.venv/bin/python benchmarks/evaluate_reps.py` (five to eight minutes on two
cores; `--quick` runs a thinned sweep, `--no-clips` skips the real pose model,
`--matrix-only` prints only the body and camera matrix and the real recordings' figures).

The synthetic sets come from testkit/synthetic.py (a 3D seated body seen by a pinhole
camera), go through the app's One-Euro landmark smoother, and are fed at 15 frames/s.
The clips go through the real MediaPipe model (PoseEstimator + LandmarkSmoother).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

if __package__ in (None, ""):  # run as a script: the repo root holds testkit/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # real_reps, realdata, rep_matrix

import real_reps
from realdata import DEFAULT_DATA_DIR
from rep_matrix import print_matrix, run_matrix

from coach.config import RepConfig
from coach.decisions.reps import RepCounter
from coach.decisions.set_recognition import SetRecognizer
from coach.features.smoothing import LandmarkSmoother
from coach.landmarks import LANDMARK_COUNT, Landmark
from coach.records import COUNTABLE as MOVEMENTS
from coach.records import CountableMovement, Pose, PoseSample, SetCompleted, Tracking
from testkit.synthetic import (
    HEAD_LANDMARKS,
    BodyPose,
    Camera,
    body_points,
    project,
    synthetic_pose,
)

CAT_COW, LATERAL_FLEXION = CountableMovement.CAT_COW, CountableMovement.LATERAL_FLEXION
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_videos"
MODEL = REPO / "models" / "pose_landmarker_full.task"
FPS = 15.0
VIEWS = {"front": 0.0, "oblique": 45.0, "side": 90.0}
TEMPI_S = (1.0, 2.0, 3.0, 4.0)
RANGES = {"small": 0.4, "medium": 0.7, "full": 1.0}
NOISES_PX = (0.0, 1.0, 2.0)
DROPOUTS = ("none", "random10", "occlusion1s")
NEGATIVES = ("jitter", "head_turn", "cough", "reach", "typing", "talking")
# Only the recogniser must ignore these (a counter rightly counts a real stretch).
RECOGNISER_NEGATIVES = ("fidgeting", "single_stretch")
FULL_LEAN_DEG = 16.0
NEGATIVE_SEEDS = 3  # minutes of each behaviour per view and noise level

_PARAMS = (
    "extension",
    "rounding",
    "pitch_deg",
    "lean_deg",
    "forward_head_m",
    "arm_raise",
    "shift_x_m",
    "shift_z_m",
    "head_yaw_deg",
)


# --- a movement timeline ---------------------------------------------------------------------


class Timeline:
    """Per-parameter keyframes of the synthetic body, cosine-eased in between."""

    def __init__(self) -> None:
        self.keys: dict[str, list[tuple[float, float]]] = {k: [(0.0, 0.0)] for k in _PARAMS}

    def move(self, t0_s: float, t1_s: float, **values: float) -> None:
        """Ease each named parameter from its value (held until t0) to `values` at t1."""
        for name, value in values.items():
            keys = self.keys[name]
            t0_s = max(t0_s, keys[-1][0])
            keys.append((t0_s, keys[-1][1]))
            keys.append((max(t1_s, t0_s), float(value)))

    def render(self, t_s: np.ndarray) -> dict[str, np.ndarray]:
        """Every parameter at each time."""
        out: dict[str, np.ndarray] = {}
        for name, keys in self.keys.items():
            v = np.full(t_s.shape, keys[0][1])
            for (ta, va), (tb, vb) in itertools.pairwise(keys):
                if tb <= ta:
                    v[t_s >= tb] = vb
                    continue
                s = np.clip((t_s - ta) / (tb - ta), 0.0, 1.0)
                seg = va + (vb - va) * (1 - np.cos(np.pi * s)) / 2
                v[t_s >= ta] = seg[t_s >= ta]
            out[name] = v
        return out


def _idle(tracks: dict[str, np.ndarray], t_s: np.ndarray, rng: np.random.Generator) -> None:
    """Natural sway and breathing, so no two frames are the same."""
    ph = rng.uniform(0, 2 * np.pi, 4)
    tracks["lean_deg"] += 0.3 * np.sin(2 * np.pi * t_s / 7.3 + ph[0])
    tracks["extension"] += 0.03 * (1 + np.sin(2 * np.pi * t_s / 4.2 + ph[1]))
    tracks["shift_x_m"] += 0.01 * np.sin(2 * np.pi * t_s / 9.7 + ph[2])
    tracks["pitch_deg"] += 1.0 * np.sin(2 * np.pi * t_s / 5.9 + ph[3])


def _head_yawed(points: np.ndarray, yaw_deg: float) -> np.ndarray:
    # Turn the head about the vertical axis through the ears' midpoint (a look to the side).
    head = list(HEAD_LANDMARKS)
    pivot = (points[Landmark.LEFT_EAR] + points[Landmark.RIGHT_EAR]) / 2.0
    a = math.radians(yaw_deg)
    rot = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    out = points.copy()
    out[head] = (points[head] - pivot) @ rot.T + pivot
    return out


def render_pose(
    values: dict[str, float],
    camera: Camera,
    t_s: float,
    noise_px: float,
    rng: np.random.Generator,
    visibility: float = 0.99,
) -> Pose:
    """One synthetic pose from the parameter values (testkit.synthetic, plus a head turn)."""
    body = BodyPose(
        extension=max(0.0, values["extension"]),
        rounding=max(0.0, values["rounding"]),
        pitch_deg=values["pitch_deg"],
        lean_deg=values["lean_deg"],
        forward_head_m=values["forward_head_m"],
        arm_raise=values["arm_raise"],
        shift_m=(values["shift_x_m"], 0.0, values["shift_z_m"]),
    )
    yaw = values["head_yaw_deg"]
    if abs(yaw) < 1e-9:
        return synthetic_pose(
            body, camera, t_s=t_s, noise_px=noise_px, rng=rng, visibility=visibility
        )
    pose = synthetic_pose(body, camera, t_s=t_s, visibility=visibility)
    image, world = project(_head_yawed(body_points(body), yaw), camera)
    if noise_px > 0:
        w, h = camera.image_size
        image[:, 0] += rng.normal(0, noise_px / w, LANDMARK_COUNT)
        image[:, 1] += rng.normal(0, noise_px / h, LANDMARK_COUNT)
    return pose.with_landmarks(image.astype(np.float32), world.astype(np.float32))


# --- synthetic sets --------------------------------------------------------------------------


@dataclass(frozen=True)
class SetSpec:
    """One synthetic set of the sweep."""

    movement: str
    tempo_s: float
    range_name: str
    noise_px: float
    dropout: str
    view: str
    seed: int


@dataclass(frozen=True)
class Truth:
    """What the synthetic person did."""

    reps: int
    left: int = 0
    right: int = 0


@dataclass
class Stream:
    """Smoothed poses at 15 frames/s (None where tracking dropped), with the truth."""

    t_s: np.ndarray
    poses: list[Pose | None]
    truth: Truth
    meta: dict[str, float] = field(default_factory=dict)


def _cat_cow_timeline(
    rng: np.random.Generator, tempo_s: float, range_frac: float, reps: int
) -> tuple[Timeline, float, float, float]:
    tl = Timeline()
    # People differ in how much the head leads the spine.
    head_k = rng.uniform(0.8, 1.2)
    spine_k = rng.uniform(0.6, 1.4)
    cow_first = rng.random() < 0.8
    lead_in_s = rng.uniform(3.0, 5.0)
    boundary_s, prev_phase_s = lead_in_s, tempo_s
    poles = ([1, -1] if cow_first else [-1, 1]) * reps
    for pole in poles:
        phase_s = tempo_s * rng.uniform(0.88, 1.12)
        a = range_frac * rng.uniform(0.88, 1.12)
        move_s = min(phase_s, prev_phase_s) * rng.uniform(0.4, 0.7)
        if pole > 0:
            target = {
                "extension": 0.9 * a * spine_k,
                "rounding": 0.0,
                "pitch_deg": -20.0 * a * head_k,
                "forward_head_m": 0.0,
            }
        else:
            target = {
                "extension": 0.0,
                "rounding": 0.8 * a * spine_k,
                "pitch_deg": 25.0 * a * head_k,
                "forward_head_m": 0.015 * a,
            }
        tl.move(boundary_s - move_s / 2, boundary_s + move_s / 2, **target)
        boundary_s += phase_s
        prev_phase_s = phase_s
    move_s = tempo_s * rng.uniform(0.4, 0.7)
    neutral = {"extension": 0.0, "rounding": 0.0, "pitch_deg": 0.0, "forward_head_m": 0.0}
    tl.move(boundary_s - move_s / 2, boundary_s + move_s / 2, **neutral)
    return tl, lead_in_s, boundary_s, boundary_s + move_s / 2 + rng.uniform(3.0, 5.0)


def _lateral_timeline(
    rng: np.random.Generator, tempo_s: float, range_frac: float, reps: int
) -> tuple[Timeline, float, float, float, int, int]:
    tl = Timeline()
    first = 1 if rng.random() < 0.5 else -1
    if rng.random() < 0.7:
        sides = [first * (1 if i % 2 == 0 else -1) for i in range(reps)]
    else:  # all of one side, then the other (as a guided set does)
        k = (reps + 1) // 2
        sides = [first] * k + [-first] * (reps - k)
    lead_in_s = rng.uniform(3.0, 5.0)
    boundary_s = lead_in_s
    for side in sides:
        lean_s = tempo_s * rng.uniform(0.88, 1.12)
        return_s = tempo_s * rng.uniform(0.88, 1.12)
        out_s = lean_s * rng.uniform(0.4, 0.6)
        back_s = min(lean_s, return_s) * rng.uniform(0.4, 0.6)
        peak = side * FULL_LEAN_DEG * range_frac * rng.uniform(0.9, 1.1)
        tl.move(boundary_s - out_s / 2, boundary_s + out_s / 2, lean_deg=peak, arm_raise=0.3)
        back_mid_s = boundary_s + lean_s
        tl.move(back_mid_s - back_s / 2, back_mid_s + back_s / 2, lean_deg=0.0, arm_raise=0.0)
        boundary_s += lean_s + return_s
    left = sum(1 for s in sides if s > 0)
    end_s = boundary_s + rng.uniform(3.0, 5.0)
    return tl, lead_in_s, boundary_s, end_s, left, reps - left


def synthetic_set(spec: SetSpec) -> Stream:
    """A whole set with neutral lead-in and lead-out, noise and dropouts, smoothed as the app does."""
    rng = np.random.default_rng(spec.seed)
    reps = int(rng.integers(3, 9))
    range_frac = RANGES[spec.range_name]
    if spec.movement == CAT_COW:
        tl, active_from_s, active_to_s, end_s = _cat_cow_timeline(
            rng, spec.tempo_s, range_frac, reps
        )
        truth = Truth(reps=reps)
    else:
        tl, active_from_s, active_to_s, end_s, left, right = _lateral_timeline(
            rng, spec.tempo_s, range_frac, reps
        )
        truth = Truth(reps=reps, left=left, right=right)
    t_s = np.arange(0.0, end_s, 1.0 / FPS)
    tracks = tl.render(t_s)
    _idle(tracks, t_s, rng)
    missing = np.zeros(t_s.shape, dtype=bool)
    hidden = np.zeros(t_s.shape, dtype=bool)
    if spec.dropout == "random10":
        missing = rng.random(t_s.shape) < 0.1
    elif spec.dropout == "occlusion1s":
        start_s = rng.uniform(active_from_s, max(active_from_s, active_to_s - 1.0))
        window = (t_s >= start_s) & (t_s < start_s + 1.0)
        # Half the occlusions lose the person, half hide the landmarks (a hand, a mug).
        if rng.random() < 0.5:
            missing = window
        else:
            hidden = window
    yaw_jitter = rng.uniform(-5.0, 5.0) if spec.view != "side" else rng.uniform(-5.0, 0.0)
    camera = Camera(yaw_deg=VIEWS[spec.view] + yaw_jitter)
    poses = smoothed_poses(tracks, t_s, camera, spec.noise_px, rng, missing, hidden)
    return Stream(t_s=t_s, poses=poses, truth=truth)


def smoothed_poses(
    tracks: dict[str, np.ndarray],
    t_s: np.ndarray,
    camera: Camera,
    noise_px: float,
    rng: np.random.Generator,
    missing: np.ndarray,
    hidden: np.ndarray,
) -> list[Pose | None]:
    """Render each frame (None where `missing`, landmarks hidden where `hidden`), then smooth
    with the app's One-Euro settings (PoseConfig: 1 Hz, beta 8)."""
    smoother = LandmarkSmoother(1.0, 8.0)
    out: list[Pose | None] = []
    for i, t in enumerate(t_s):
        if missing[i]:
            out.append(None)
            continue
        values = {name: float(track[i]) for name, track in tracks.items()}
        vis = 0.2 if hidden[i] else 0.99
        pose = render_pose(values, camera, float(t), noise_px, rng, visibility=vis)
        tracking = Tracking.LOW_VISIBILITY if hidden[i] else Tracking.OK
        sample = smoother.update(PoseSample(t_s=float(t), pose=pose, tracking=tracking, people=1))
        out.append(sample.pose)
    return out


def scripted_set(
    movement: str,
    amplitudes: list[float],
    *,
    tempo_s: float = 2.0,
    view: str = "front",
    noise_px: float = 1.0,
    seed: int = 0,
    base: dict[str, float] | None = None,
    lead_in_s: float = 3.0,
    lead_out_s: float = 4.0,
) -> Stream:
    """A set with chosen reps, for tests: one amplitude per rep (1 = full range).

    Lateral flexion: a positive amplitude bends to the person's left, a negative one to the
    right. `base` offsets the whole set (e.g. a slouch to start from).
    """
    rng = np.random.default_rng(seed)
    tl = Timeline()
    boundary_s = lead_in_s
    move_s = 0.5 * tempo_s
    for a in amplitudes:
        if movement == CAT_COW:
            cow = {"extension": 0.9 * a, "rounding": 0.0, "pitch_deg": -20.0 * a}
            cat = {"extension": 0.0, "rounding": 0.8 * a, "pitch_deg": 25.0 * a}
            tl.move(boundary_s - move_s / 2, boundary_s + move_s / 2, **cow)
            tl.move(boundary_s + tempo_s - move_s / 2, boundary_s + tempo_s + move_s / 2, **cat)
        else:
            tl.move(boundary_s - move_s / 2, boundary_s + move_s / 2, lean_deg=FULL_LEAN_DEG * a)
            back_s = boundary_s + tempo_s
            tl.move(back_s - move_s / 2, back_s + move_s / 2, lean_deg=0.0)
        boundary_s += 2 * tempo_s
    if movement == CAT_COW:
        rest = {"extension": 0.0, "rounding": 0.0, "pitch_deg": 0.0}
        tl.move(boundary_s - move_s / 2, boundary_s + move_s / 2, **rest)
    t_s = np.arange(0.0, boundary_s + lead_out_s, 1.0 / FPS)
    tracks = tl.render(t_s)
    for name, value in (base or {}).items():
        tracks[name] = tracks[name] + value
    _idle(tracks, t_s, rng)
    none = np.zeros(t_s.shape, dtype=bool)
    poses = smoothed_poses(tracks, t_s, Camera(yaw_deg=VIEWS[view]), noise_px, rng, none, none)
    left = sum(1 for a in amplitudes if a > 0) if movement == LATERAL_FLEXION else 0
    right = sum(1 for a in amplitudes if a < 0) if movement == LATERAL_FLEXION else 0
    return Stream(t_s=t_s, poses=poses, truth=Truth(reps=len(amplitudes), left=left, right=right))


# --- negatives -------------------------------------------------------------------------------


def _negative_timeline(kind: str, rng: np.random.Generator, duration_s: float) -> Timeline:
    tl = Timeline()
    t = rng.uniform(1.0, 3.0)
    while t < duration_s - 4.0:
        if kind == "head_turn":
            # Look at a second screen or a colleague, hold, look back.
            yaw = rng.choice([-1.0, 1.0]) * rng.uniform(30.0, 70.0)
            move_s, hold_s = rng.uniform(0.4, 1.0), rng.uniform(0.5, 3.0)
            tl.move(t, t + move_s, head_yaw_deg=yaw, pitch_deg=rng.uniform(-5.0, 10.0))
            tl.move(t + move_s + hold_s, t + 2 * move_s + hold_s, head_yaw_deg=0.0, pitch_deg=0.0)
            t += 2 * move_s + hold_s + rng.uniform(1.0, 4.0)
        elif kind == "cough":
            # A jerk forward and down, and back, in bouts of one to three.
            for _ in range(int(rng.integers(1, 4))):
                down_s, up_s = rng.uniform(0.12, 0.25), rng.uniform(0.2, 0.4)
                jerk = {
                    "pitch_deg": rng.uniform(12.0, 25.0),
                    "rounding": rng.uniform(0.25, 0.5),
                    "forward_head_m": rng.uniform(0.01, 0.04),
                }
                tl.move(t, t + down_s, **jerk)
                rest = {"pitch_deg": 0.0, "rounding": 0.0, "forward_head_m": 0.0}
                tl.move(t + down_s, t + down_s + up_s, **rest)
                t += down_s + up_s + rng.uniform(0.3, 1.0)
            t += rng.uniform(3.0, 8.0)
        elif kind == "reach":
            # Reach for the mouse: the arm goes out, the body shifts and tips a little.
            side = 1.0 if rng.random() < 0.8 else -1.0
            move_s, hold_s = rng.uniform(0.5, 1.0), rng.uniform(0.5, 3.0)
            reach = {
                "arm_raise": rng.uniform(0.08, 0.2),
                "shift_x_m": side * rng.uniform(0.04, 0.1),
                "shift_z_m": -rng.uniform(0.0, 0.06),
                "lean_deg": side * rng.uniform(0.5, 2.5),
            }
            tl.move(t, t + move_s, **reach)
            back = {"arm_raise": 0.0, "shift_x_m": 0.0, "shift_z_m": 0.0, "lean_deg": 0.0}
            tl.move(t + move_s + hold_s, t + 2 * move_s + hold_s, **back)
            t += 2 * move_s + hold_s + rng.uniform(1.0, 5.0)
        elif kind == "typing":
            # Hands bob on the keys; now and then a glance down at the keyboard and back.
            n = int(rng.integers(6, 14))
            for _ in range(n):
                dt = rng.uniform(0.12, 0.3)
                tl.move(t, t + dt, arm_raise=rng.uniform(0.0, 0.03))
                t += dt
            if rng.random() < 0.4:
                glance_s = rng.uniform(0.5, 1.5)
                tl.move(t, t + 0.3, pitch_deg=rng.uniform(12.0, 25.0))
                tl.move(t + 0.3 + glance_s, t + 0.6 + glance_s, pitch_deg=0.0)
                t += 0.6 + glance_s
        elif kind == "talking":
            # Small quick nods and tilts of the head while speaking.
            n = int(rng.integers(4, 12))
            for _ in range(n):
                dt = rng.uniform(0.15, 0.45)
                tl.move(
                    t,
                    t + dt,
                    pitch_deg=rng.uniform(-5.0, 5.0),
                    head_yaw_deg=rng.uniform(-12.0, 12.0),
                    lean_deg=rng.uniform(-1.5, 1.5),
                )
                t += dt
            tl.move(t, t + 0.4, pitch_deg=0.0, head_yaw_deg=0.0, lean_deg=0.0)
            t += 0.4 + rng.uniform(0.2, 2.0)
        elif kind == "fidgeting":
            # Shift in the chair: a new lean, slump or head position every few seconds.
            move_s = rng.uniform(0.5, 1.5)
            tl.move(
                t,
                t + move_s,
                lean_deg=rng.uniform(-6.0, 6.0),
                rounding=rng.uniform(0.0, 0.5),
                extension=rng.uniform(0.0, 0.3),
                pitch_deg=rng.uniform(-10.0, 15.0),
                shift_x_m=rng.uniform(-0.05, 0.05),
                shift_z_m=rng.uniform(-0.05, 0.05),
                arm_raise=rng.uniform(0.0, 0.1),
            )
            t += move_s + rng.uniform(1.0, 8.0)
        elif kind == "single_stretch":
            # One big stretch (a cat-cow or a side bend) in an otherwise still minute.
            if rng.random() < 0.5:
                tl.move(t, t + 1.0, extension=0.9, pitch_deg=-20.0)
                tl.move(t + 2.0, t + 3.0, extension=0.0, rounding=0.8, pitch_deg=25.0)
                tl.move(t + 4.0, t + 5.0, rounding=0.0, pitch_deg=0.0)
            else:
                side = rng.choice([-1.0, 1.0])
                tl.move(t, t + 1.0, lean_deg=side * 15.0, arm_raise=0.3)
                tl.move(t + 3.0, t + 4.0, lean_deg=0.0, arm_raise=0.0)
            t = duration_s
        else:  # jitter: sit still
            t = duration_s
    return tl


def negative_stream(
    kind: str, view: str, noise_px: float, seed: int, duration_s: float = 60.0
) -> Stream:
    """A minute (by default) of ordinary desk behaviour that contains no exercise."""
    rng = np.random.default_rng(seed)
    t_s = np.arange(0.0, duration_s, 1.0 / FPS)
    tracks = _negative_timeline(kind, rng, duration_s).render(t_s)
    _idle(tracks, t_s, rng)
    camera = Camera(yaw_deg=VIEWS[view] + rng.uniform(-5.0, 0.0))
    none = np.zeros(t_s.shape, dtype=bool)
    poses = smoothed_poses(tracks, t_s, camera, noise_px, rng, none, none)
    return Stream(t_s=t_s, poses=poses, truth=Truth(reps=0))


# --- running ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Counts from one stream."""

    reps: int
    left: int
    right: int
    armed_reps: int
    recognised: tuple[tuple[str, int], ...]
    truth: Truth


def run_stream(movements: tuple[str, ...], stream: Stream, config: RepConfig) -> dict[str, Outcome]:
    """Feed a stream to a counter and an armed counter per movement, and to the recogniser."""
    counters = {m: RepCounter(m, config) for m in movements}
    armed = {m: RepCounter(m, config, armed=True) for m in movements}
    recogniser = SetRecognizer(config)
    sets: list[SetCompleted] = []
    for t, pose in iter_frames(stream):
        for m in movements:
            counters[m].update(pose, t)
            armed[m].update(pose, t)
        done = recogniser.update(pose, t)
        if done is not None:
            sets.append(done)
    # Let the recogniser see the idle tail that ends a set.
    last_t = float(stream.t_s[-1])
    tail = stream.poses[-1]
    for i in range(1, int(8 * FPS)):
        done = recogniser.update(tail, last_t + i / FPS)
        if done is not None:
            sets.append(done)
    out: dict[str, Outcome] = {}
    for m in movements:
        per_side = counters[m].per_side or {"left": 0, "right": 0}
        out[m] = Outcome(
            reps=counters[m].reps,
            left=per_side["left"],
            right=per_side["right"],
            armed_reps=armed[m].reps,
            recognised=tuple((s.movement, s.reps) for s in sets),
            truth=stream.truth,
        )
    return out


def _run_spec(spec: SetSpec) -> tuple[SetSpec, Outcome]:
    return spec, run_stream((spec.movement,), synthetic_set(spec), RepConfig())[spec.movement]


def _run_negative(
    args: tuple[str, str, float, int],
) -> tuple[tuple[str, str, float, int], dict[str, Outcome]]:
    kind, view, noise_px, seed = args
    return args, run_stream(MOVEMENTS, negative_stream(kind, view, noise_px, seed), RepConfig())


def sweep_specs(quick: bool) -> list[SetSpec]:
    """Every combination of the sweep (every fifth one with --quick)."""
    specs = [
        SetSpec(movement, tempo, range_name, noise, dropout, view, seed=i)
        for i, (movement, tempo, range_name, noise, dropout, view) in enumerate(
            itertools.product(MOVEMENTS, TEMPI_S, RANGES, NOISES_PX, DROPOUTS, VIEWS)
        )
    ]
    return specs[::5] if quick else specs


def _exact(spec: SetSpec, out: Outcome) -> bool:
    if spec.movement == LATERAL_FLEXION:
        return out.left == out.truth.left and out.right == out.truth.right
    return out.reps == out.truth.reps


def _count_error(spec: SetSpec, out: Outcome) -> int:
    if spec.movement == LATERAL_FLEXION:
        return abs(out.left - out.truth.left) + abs(out.right - out.truth.right)
    return abs(out.reps - out.truth.reps)


# --- the sample clips through the real model -------------------------------------------------


def clip_poses(name: str) -> list[tuple[float, Pose | None]]:
    """Every frame of a sample clip (15 frames/s) through the session `coach analyze` runs:
    the real pose model, the app's smoothing and the user's identity, at 15 frames/s."""
    from coach.config import Config, LoopConfig
    from coach.movements import load_library
    from coach.session_collect import collected
    from coach.session_options import Mode, SessionOptions

    every = LoopConfig(idle_fps=FPS, posture_fps=FPS, exercise_fps=FPS, away_fps=FPS, glance=False)
    config = dataclasses.replace(Config(), loop=every)
    options = SessionOptions(Mode.ANALYZE, str(SAMPLES / f"{name}.mp4"), model=MODEL)
    run = collected(options, config, load_library())
    return [(s.t_s, s.sample.pose) for s in run.snapshots]


def clip_truth(name: str) -> Truth:
    """The clip's ground truth, with sides as the person's own (+ lean = the person's left)."""
    data = json.loads((SAMPLES / f"{name}.json").read_text())
    if name == "cat_cow":
        return Truth(reps=int(data["reps"]))
    leans = [float(rep["peak_lean_deg"]) for rep in data["reps_detail"]]
    left = sum(1 for a in leans if a > 0)
    return Truth(reps=len(leans), left=left, right=len(leans) - left)


# --- report ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every fifth sweep case only")
    parser.add_argument("--no-clips", action="store_true", help="skip the real-model clips")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--matrix",
        choices=("thinned", "full", "none"),
        default="thinned",
        help="the body and camera matrix: tempo and range rotated (thinned), all, or skipped",
    )
    parser.add_argument("--matrix-only", action="store_true", help="only the matrix and real data")
    parser.add_argument(
        "--real",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="the shared real recordings (keraal lateral stretches and negatives)",
    )
    parser.add_argument("--no-real", action="store_true", help="skip the real recordings")
    parser.add_argument("--real-videos", action="store_true", help="real videos too (slow)")
    args = parser.parse_args()
    console = Console(width=140)
    started = time.perf_counter()
    if args.matrix != "none":
        print_matrix(run_matrix(full=args.matrix == "full", jobs=args.jobs), console)
    if not args.no_real:
        _print_real(args.real, console, videos=args.real_videos)
    if args.matrix_only:
        console.print(f"took {time.perf_counter() - started:.0f} s")
        return 0

    specs = sweep_specs(args.quick)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(_run_spec, specs, chunksize=8))
        neg_args = [
            (kind, view, noise, 1000 + i)
            for i, (kind, view, noise, _) in enumerate(
                itertools.product(
                    NEGATIVES + RECOGNISER_NEGATIVES, VIEWS, NOISES_PX, range(NEGATIVE_SEEDS)
                )
            )
        ]
        negatives = list(pool.map(_run_negative, neg_args, chunksize=4))

    table = Table(title="Synthetic sweep (counter started at the set's start)")
    for col in (
        "movement",
        "sets",
        "exact",
        "MAE (reps)",
        "off by >1",
        "armed exact",
        "recognised",
    ):
        table.add_column(col, justify="right" if col != "movement" else "left")
    worst: list[tuple[int, SetSpec, Outcome]] = []
    for movement in MOVEMENTS:
        rows = [(s, o) for s, o in results if s.movement == movement]
        exact = sum(_exact(s, o) for s, o in rows)
        errors = [_count_error(s, o) for s, o in rows]
        armed_exact = sum(o.armed_reps == o.truth.reps for _, o in rows)
        recognised = sum(
            1
            for _, o in rows
            if len(o.recognised) == 1 and o.recognised[0] == (movement, o.truth.reps)
        )
        table.add_row(
            movement,
            str(len(rows)),
            f"{exact / len(rows):.1%}",
            f"{sum(errors) / len(rows):.3f}",
            str(sum(e > 1 for e in errors)),
            f"{armed_exact / len(rows):.1%}",
            f"{recognised / len(rows):.1%}",
        )
        worst += [(e, s, o) for e, (s, o) in zip(errors, rows, strict=True) if e > 0]
    console.print(table)
    by_factor: dict[str, Counter[str]] = {}
    for s, o in results:
        for name in ("tempo_s", "range_name", "noise_px", "dropout", "view"):
            key = f"{name}={getattr(s, name)}"
            by_factor.setdefault(s.movement, Counter())
            if not _exact(s, o):
                by_factor[s.movement][key] += 1
    for movement, misses in by_factor.items():
        if misses:
            console.print(f"  {movement} misses by factor: {dict(misses.most_common(8))}")
    fired = [(s, o) for s, o in results if o.recognised and o.recognised[0][0] == s.movement]
    exact_when_fired = sum(
        1 for s, o in fired if len(o.recognised) == 1 and o.recognised[0][1] == o.truth.reps
    )
    wrong = sum(1 for s, o in results if any(m != s.movement for m, _ in o.recognised))
    console.print(
        f"  recogniser: fired on {len(fired)} of {len(results)} sets, exact count in "
        f"{exact_when_fired} of those; wrong movement {wrong} times"
    )
    rec_by_range: dict[str, list[bool]] = {}
    for s, o in results:
        ok = len(o.recognised) == 1 and o.recognised[0][0] == s.movement
        rec_by_range.setdefault(f"{s.movement}/{s.range_name}", []).append(ok)
    console.print(
        "  recogniser fired (right movement, once) by range: "
        + ", ".join(f"{k} {sum(v) / len(v):.0%}" for k, v in sorted(rec_by_range.items()))
    )
    worst.sort(key=lambda w: -w[0])
    if worst:
        console.print(f"  worst cases ({len(worst)} not exact):")
        for e, s, o in worst[:12]:
            got = f"L{o.left}/R{o.right}" if s.movement == LATERAL_FLEXION else str(o.reps)
            want = (
                f"L{o.truth.left}/R{o.truth.right}"
                if s.movement == LATERAL_FLEXION
                else str(o.truth.reps)
            )
            console.print(
                f"    err {e}: {s.movement} tempo {s.tempo_s:g}s {s.range_name} noise {s.noise_px:g}px "
                f"{s.dropout} {s.view} seed {s.seed}: got {got}, truth {want}"
            )

    neg_table = Table(
        title=f"Negatives ({NEGATIVE_SEEDS} x 60 s per behaviour, view and noise level)"
    )
    for col in ("behaviour", "cat-cow reps", "lateral reps", "armed reps", "recognised sets"):
        neg_table.add_column(col, justify="right" if col != "behaviour" else "left")
    for kind in NEGATIVES + RECOGNISER_NEGATIVES:
        rows_n = [outs for (k, _, _, _), outs in negatives if k == kind]
        cc = sum(o[CAT_COW].reps for o in rows_n)
        lf = sum(o[LATERAL_FLEXION].reps for o in rows_n)
        armed_n = sum(o[m].armed_reps for o in rows_n for m in MOVEMENTS)
        sets_n = sum(len(o[CAT_COW].recognised) for o in rows_n)
        counters_apply = kind in NEGATIVES
        neg_table.add_row(
            kind,
            str(cc) if counters_apply else f"({cc})",
            str(lf) if counters_apply else f"({lf})",
            str(armed_n) if counters_apply else f"({armed_n})",
            str(sets_n),
        )
    console.print(neg_table)
    console.print(
        "  (in brackets: not a negative for a counter, which rightly counts a real stretch)"
    )

    if not args.no_clips:
        if not MODEL.exists() or not (SAMPLES / "cat_cow.mp4").exists():
            console.print("model or sample clips missing: run `make setup`")
            return 1
        clip_table = Table(title="Sample clips through the real model (15 frames/s)")
        for col in ("clip", "truth", "counter", "armed", "recognised", "exact"):
            clip_table.add_column(col)
        for name, movement in (("cat_cow", CAT_COW), ("lateral_flexion", LATERAL_FLEXION)):
            poses = clip_poses(name)
            stream = Stream(
                t_s=np.array([t for t, _ in poses]),
                poses=[p for _, p in poses],
                truth=clip_truth(name),
            )
            out = run_stream((movement,), stream, RepConfig())[movement]
            if movement == LATERAL_FLEXION:
                got = f"left {out.left}, right {out.right}"
                want = f"left {out.truth.left}, right {out.truth.right}"
                ok = (out.left, out.right) == (out.truth.left, out.truth.right)
            else:
                got, want, ok = str(out.reps), str(out.truth.reps), out.reps == out.truth.reps
            clip_table.add_row(
                name,
                want,
                got,
                str(out.armed_reps),
                str([(str(movement), reps) for movement, reps in out.recognised]),
                "yes" if ok else "NO",
            )
        console.print(clip_table)
    console.print(f"took {time.perf_counter() - started:.0f} s")
    return 0


def _print_real(data_dir: Path, console: Console, *, videos: bool) -> None:
    """The keraal figures (benchmarks/real_reps.py), when the shared recordings are here."""
    if not (data_dir / "keraal" / "truth.json").exists():
        console.print(f"no real recordings under {data_dir}: skipped")
        return
    # The runs use temporary user folders (real_reps.evaluate), never the user's own.
    details, summary = real_reps.report(data_dir, videos=videos)
    console.print("Rep counting on real recordings (keraal)")
    for line in [*details, "", *summary]:
        console.print(line, markup=False, highlight=False)


def iter_frames(stream: Stream) -> Iterator[tuple[float, Pose | None]]:
    """(t_s, pose) pairs of a stream."""
    for t, pose in zip(stream.t_s, stream.poses, strict=True):
        yield float(t), pose


if __name__ == "__main__":
    raise SystemExit(main())
