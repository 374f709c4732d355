"""Provides scripted seated movements on any body and camera, smoothed as the app sees them."""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np

from coach.features.smoothing import LandmarkSmoother
from coach.landmarks import Landmark
from coach.records import Pose, PoseSample, Tracking
from testkit.synthetic import HEAD_LANDMARKS, BodyPose, Camera, synthetic_pose

FPS = 15.0
_TORSO_M = 0.5

BODIES: dict[str, BodyPose] = {
    "sample": BodyPose(),
    "broad-short-neck": BodyPose(
        shoulder_scale=1.25, neck_m=-0.03, torso_scale=0.9, head_scale=0.95
    ),
    "narrow-long-neck": BodyPose(shoulder_scale=0.8, neck_m=0.05, torso_scale=1.1, head_scale=1.05),
    "small-big-head": BodyPose(shoulder_scale=0.85, neck_m=-0.01, torso_scale=0.85, head_scale=1.2),
    "tall-small-head": BodyPose(shoulder_scale=1.1, neck_m=0.02, torso_scale=1.2, head_scale=0.85),
}
"""Distinct builds (proportions only): "sample" is the default body, the sample clips'
proportions; the others change shoulder width, neck and torso length and head size."""

CAMERA_HEIGHTS_M: dict[str, float] = {"low": -0.3, "desk": -0.55, "high": -0.8}
"""Camera heights relative to the hips (negative is above): a laptop below the shoulders, a
monitor-top webcam near them, a camera above the head looking down."""

CAMERA_DISTANCES_M: dict[str, float] = {"near": 0.7, "desk": 0.9, "far": 1.4}
"""Camera distances to the hips' midpoint, metres."""

TEMPI_S: dict[str, float] = {"slow": 3.5, "normal": 2.0, "quick": 1.2}
"""Seconds per phase (cow, cat; a lean, a return)."""

RANGES: dict[str, float] = {"full": 1.0, "small": 0.6}
"""Share of a full rep's range."""

EXERCISES = ("cat-cow", "lateral-flexion")
NEGATIVES = ("arm-raises", "hand-to-face", "typing", "talking")
FULL_LEAN_DEG = 16.0


def aimed_camera(
    height: str, distance: str, build: BodyPose | None = None, yaw_deg: float = 0.0
) -> Camera:
    """A camera at a named height and distance (front unless `yaw_deg`), aimed at the build's
    neck (as a person points a webcam at their face and shoulders)."""
    neck_y_m = -_TORSO_M * (build or BodyPose()).torso_scale - 0.08
    return Camera(
        yaw_deg=yaw_deg,
        height_m=CAMERA_HEIGHTS_M[height],
        distance_m=CAMERA_DISTANCES_M[distance],
        aim_y_m=neck_y_m,
    )


@dataclass(frozen=True)
class Case:
    """One scripted stream: who, seen how, doing what, how fast and how far."""

    body: str
    height: str
    distance: str
    movement: str
    """One of EXERCISES or NEGATIVES."""
    tempo: str = "normal"
    range_name: str = "full"
    seed: int = 0
    yaw_deg: float = 0.0
    """0: facing the camera; 45 oblique; 90 side-on."""

    @property
    def label(self) -> str:
        """A short name for reports and test ids."""
        view = f"/yaw{self.yaw_deg:g}" if self.yaw_deg else ""
        return (
            f"{self.movement}/{self.body}/{self.height}-{self.distance}{view}/"
            f"{self.tempo}-{self.range_name}"
        )


@dataclass(frozen=True)
class Script:
    """A rendered case: poses at 15 frames/s and what was done."""

    frames: list[tuple[float, Pose | None]]
    reps: int
    left: int = 0
    right: int = 0


class _Keys:
    """Per-field keyframes of the body's posture, cosine-eased in between."""

    def __init__(self) -> None:
        self.keys: dict[str, list[tuple[float, float]]] = {}

    def move(self, t0_s: float, t1_s: float, **values: float) -> None:
        for name, value in values.items():
            keys = self.keys.setdefault(name, [(0.0, 0.0)])
            t0_s = max(t0_s, keys[-1][0])
            keys += [(t0_s, keys[-1][1]), (max(t1_s, t0_s), value)]

    def at(self, t_s: float) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, keys in self.keys.items():
            value = keys[0][1]
            for (ta, va), (tb, vb) in itertools.pairwise(keys):
                if t_s >= tb:
                    value = vb
                elif t_s > ta:
                    s = (t_s - ta) / (tb - ta)
                    value = va + (vb - va) * (1.0 - math.cos(math.pi * s)) / 2.0
                    break
                else:
                    break
            out[name] = value
        return out


def _cat_cow(keys: _Keys, rng: np.random.Generator, tempo_s: float, a: float) -> tuple[float, int]:
    t_s, reps = rng.uniform(3.0, 4.0), 5
    for _ in range(reps):
        for pole in (1, -1):
            move_s = tempo_s * rng.uniform(0.45, 0.6)
            k = a * rng.uniform(0.9, 1.1)
            if pole > 0:
                keys.move(t_s, t_s + move_s, extension=0.9 * k, rounding=0.0, pitch_deg=-20.0 * k)
            else:
                keys.move(t_s, t_s + move_s, extension=0.0, rounding=0.8 * k, pitch_deg=25.0 * k)
                keys.move(t_s, t_s + move_s, forward_head_m=0.015 * k)
            t_s += tempo_s * rng.uniform(0.92, 1.08)
    keys.move(t_s, t_s + 0.5 * tempo_s, extension=0.0, rounding=0.0, pitch_deg=0.0)
    keys.move(t_s, t_s + 0.5 * tempo_s, forward_head_m=0.0)
    return t_s + 0.5 * tempo_s, reps


def _lateral(
    keys: _Keys, rng: np.random.Generator, tempo_s: float, a: float, blocks: bool
) -> tuple[float, int, int]:
    first = 1.0 if rng.random() < 0.5 else -1.0
    sides = [first] * 3 + [-first] * 3 if blocks else [first, -first] * 3
    t_s = rng.uniform(3.0, 4.0)
    for side in sides:
        move_s = tempo_s * rng.uniform(0.45, 0.6)
        lean = side * FULL_LEAN_DEG * a * rng.uniform(0.9, 1.1)
        keys.move(t_s, t_s + move_s, lean_deg=lean, arm_raise=0.3)
        t_s += tempo_s * rng.uniform(0.92, 1.08)
        keys.move(t_s, t_s + move_s, lean_deg=0.0, arm_raise=0.0)
        t_s += tempo_s * rng.uniform(0.92, 1.08)
    left = sum(1 for s in sides if s > 0)
    return t_s, left, len(sides) - left


def _arm_raises(keys: _Keys, rng: np.random.Generator, tempo_s: float, a: float) -> float:
    # Breathing arm raises: inhale, hands up past the face, chest lifts, eyes follow the hands;
    # exhale, hands down, the back relaxes and the head bows a little (as cat-cow moves).
    t_s = rng.uniform(3.0, 4.0)
    for _ in range(5):
        move_s = tempo_s * rng.uniform(0.6, 0.8)
        up = {"hands_up": a, "extension": 0.45 * a, "pitch_deg": -15.0 * a, "rounding": 0.0}
        keys.move(t_s, t_s + move_s, **up)
        t_s += tempo_s * rng.uniform(0.92, 1.08)
        down = {"hands_up": 0.0, "extension": 0.0, "pitch_deg": 12.0 * a, "rounding": 0.35 * a}
        keys.move(t_s, t_s + move_s, **down)
        t_s += tempo_s * rng.uniform(0.92, 1.08)
    keys.move(t_s, t_s + 1.0, pitch_deg=0.0, rounding=0.0)
    return t_s + 1.0


def _hand_to_face(keys: _Keys, rng: np.random.Generator, tempo_s: float) -> float:
    # A sip (head back), a scratch of the chin (head down), in a steady rhythm.
    t_s = rng.uniform(3.0, 4.0)
    for i in range(6):
        move_s = tempo_s * rng.uniform(0.5, 0.7)
        pitch = -18.0 if i % 2 == 0 else 15.0
        keys.move(t_s, t_s + move_s, hand_to_face=1.0, pitch_deg=pitch, extension=0.2)
        t_s += tempo_s * rng.uniform(0.9, 1.3)
        keys.move(t_s, t_s + move_s, hand_to_face=0.0, pitch_deg=0.0, extension=0.0)
        t_s += tempo_s * rng.uniform(0.9, 1.3)
    return t_s


def _typing(keys: _Keys, rng: np.random.Generator, until_s: float) -> None:
    t_s = 1.0
    while t_s < until_s:
        for _ in range(int(rng.integers(6, 14))):
            dt = rng.uniform(0.12, 0.3)
            keys.move(t_s, t_s + dt, arm_raise=rng.uniform(0.0, 0.04))
            t_s += dt
        if rng.random() < 0.5:  # a glance down at the keys, and a lean in to read
            hold_s = rng.uniform(0.5, 1.5)
            keys.move(t_s, t_s + 0.3, pitch_deg=rng.uniform(12.0, 25.0), rounding=0.2)
            keys.move(t_s + 0.3 + hold_s, t_s + 0.6 + hold_s, pitch_deg=0.0, rounding=0.0)
            t_s += 0.6 + hold_s


def _talking(keys: _Keys, rng: np.random.Generator, until_s: float) -> None:
    t_s = 1.0
    while t_s < until_s:
        for _ in range(int(rng.integers(4, 12))):
            dt = rng.uniform(0.15, 0.45)
            keys.move(
                t_s,
                t_s + dt,
                pitch_deg=rng.uniform(-8.0, 8.0),
                lean_deg=rng.uniform(-2.0, 2.0),
                extension=rng.uniform(0.0, 0.15),
            )
            t_s += dt
        keys.move(t_s, t_s + 0.4, pitch_deg=0.0, lean_deg=0.0, extension=0.0)
        t_s += 0.4 + rng.uniform(0.2, 2.0)


def render(case: Case) -> Script:
    """The case's poses (One-Euro smoothed as the app does, 15 frames/s) and its truth."""
    rng = np.random.default_rng(case.seed)
    keys = _Keys()
    tempo_s, a = TEMPI_S[case.tempo], RANGES[case.range_name]
    reps = left = right = 0
    if case.movement == "cat-cow":
        end_s, reps = _cat_cow(keys, rng, tempo_s, a)
    elif case.movement == "lateral-flexion":
        end_s, left, right = _lateral(keys, rng, tempo_s, a, blocks=case.seed % 2 == 1)
        reps = left + right
    elif case.movement == "arm-raises":
        end_s = _arm_raises(keys, rng, tempo_s, a)
    elif case.movement == "hand-to-face":
        end_s = _hand_to_face(keys, rng, tempo_s)
    elif case.movement == "typing":
        end_s = 40.0
        _typing(keys, rng, end_s)
    else:
        end_s = 40.0
        _talking(keys, rng, end_s)
    end_s += rng.uniform(3.0, 4.0)
    build = BODIES[case.body]
    camera = aimed_camera(case.height, case.distance, build, case.yaw_deg)
    sway = rng.uniform(0.0, 2.0 * math.pi, 3)
    smoother = LandmarkSmoother(1.0, 8.0)
    frames: list[tuple[float, Pose | None]] = []
    for i in range(round(end_s * FPS)):
        t_s = i / FPS
        values = keys.at(t_s)
        # Breathing and sway, so no two frames are alike.
        values["lean_deg"] = values.get("lean_deg", 0.0) + 0.3 * math.sin(t_s / 1.2 + sway[0])
        values["pitch_deg"] = values.get("pitch_deg", 0.0) + math.sin(t_s / 0.9 + sway[1])
        extension = values.get("extension", 0.0) + 0.03 * (1.0 + math.sin(t_s / 0.7 + sway[2]))
        values["extension"] = extension
        values = {k: max(0.0, v) if k in _NON_NEGATIVE else v for k, v in values.items()}
        body = dataclasses.replace(build, **values)  # type: ignore[arg-type]  # floats only
        pose = synthetic_pose(body, camera, t_s=t_s, noise_px=0.8, rng=rng)
        pose = _hand_over_face(pose, body, camera, rng)
        sample = PoseSample(t_s=t_s, pose=pose, tracking=Tracking.OK, people=1)
        frames.append((t_s, smoother.update(sample).pose))
    return Script(frames=frames, reps=reps, left=left, right=right)


_NON_NEGATIVE = ("extension", "rounding", "hands_up", "hand_to_face", "arm_raise")


def _hand_over_face(pose: Pose, body: BodyPose, camera: Camera, rng: np.random.Generator) -> Pose:
    """A hand in front of the face makes the model's face landmarks wander (more jitter, the
    nose drawn toward the hand)."""
    del body
    w, h = camera.image_size
    image = pose.image_xyz.astype(np.float64)
    nose = image[Landmark.NOSE, :2]
    hands = image[[Landmark.LEFT_INDEX, Landmark.RIGHT_INDEX, Landmark.LEFT_WRIST], :2]
    scale = float(np.linalg.norm(image[Landmark.LEFT_EAR, :2] - image[Landmark.RIGHT_EAR, :2]))
    if scale <= 1e-6:
        return pose
    near = float(np.min(np.linalg.norm(hands - nose, axis=1))) / scale
    cover = max(0.0, 1.0 - near / 1.5)
    if cover <= 0.0:
        return pose
    head = list(HEAD_LANDMARKS)
    closest = hands[int(np.argmin(np.linalg.norm(hands - nose, axis=1)))]
    image[head, :2] += 0.15 * cover * (closest - image[head, :2])
    image[head, 0] += rng.normal(0.0, 2.5 * cover / w, len(head))
    image[head, 1] += rng.normal(0.0, 2.5 * cover / h, len(head))
    return pose.with_landmarks(image.astype(np.float32), pose.world_xyz)
