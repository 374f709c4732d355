"""Provides a synthetic seated body, projected through a pinhole camera, for tests and evaluation.

The body is a handful of 3D points (metres; x to the image's right, y down, z away
from the camera) moved by named posture parameters, then seen from any yaw. It is
a stand-in for MediaPipe's output where a real clip cannot show a case (side and
oblique views, graded forward head, landmark noise), never for the model itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from coach.landmarks import LANDMARK_COUNT, UPPER_BODY, Landmark
from coach.records import Pose, PoseSample, Tracking

Array = npt.NDArray[np.float64]

# A neutral seated adult, hips at the origin, facing the camera (person's left at +x).
_NEUTRAL_M: dict[Landmark, tuple[float, float, float]] = {
    Landmark.NOSE: (0.0, -0.70, -0.10),
    Landmark.LEFT_EYE_INNER: (0.015, -0.735, -0.085),
    Landmark.LEFT_EYE: (0.032, -0.737, -0.082),
    Landmark.LEFT_EYE_OUTER: (0.048, -0.737, -0.075),
    Landmark.RIGHT_EYE_INNER: (-0.015, -0.735, -0.085),
    Landmark.RIGHT_EYE: (-0.032, -0.737, -0.082),
    Landmark.RIGHT_EYE_OUTER: (-0.048, -0.737, -0.075),
    Landmark.LEFT_EAR: (0.075, -0.72, -0.005),
    Landmark.RIGHT_EAR: (-0.075, -0.72, -0.005),
    Landmark.MOUTH_LEFT: (0.025, -0.665, -0.085),
    Landmark.MOUTH_RIGHT: (-0.025, -0.665, -0.085),
    Landmark.LEFT_SHOULDER: (0.19, -0.50, 0.0),
    Landmark.RIGHT_SHOULDER: (-0.19, -0.50, 0.0),
    Landmark.LEFT_ELBOW: (0.23, -0.24, -0.02),
    Landmark.RIGHT_ELBOW: (-0.23, -0.24, -0.02),
    Landmark.LEFT_WRIST: (0.18, -0.12, -0.25),
    Landmark.RIGHT_WRIST: (-0.18, -0.12, -0.25),
    Landmark.LEFT_PINKY: (0.17, -0.10, -0.29),
    Landmark.RIGHT_PINKY: (-0.17, -0.10, -0.29),
    Landmark.LEFT_INDEX: (0.16, -0.10, -0.30),
    Landmark.RIGHT_INDEX: (-0.16, -0.10, -0.30),
    Landmark.LEFT_THUMB: (0.15, -0.11, -0.28),
    Landmark.RIGHT_THUMB: (-0.15, -0.11, -0.28),
    Landmark.LEFT_HIP: (0.12, 0.0, 0.0),
    Landmark.RIGHT_HIP: (-0.12, 0.0, 0.0),
    Landmark.LEFT_KNEE: (0.13, 0.02, -0.45),
    Landmark.RIGHT_KNEE: (-0.13, 0.02, -0.45),
    Landmark.LEFT_ANKLE: (0.13, 0.45, -0.48),
    Landmark.RIGHT_ANKLE: (-0.13, 0.45, -0.48),
    Landmark.LEFT_HEEL: (0.13, 0.50, -0.45),
    Landmark.RIGHT_HEEL: (-0.13, 0.50, -0.45),
    Landmark.LEFT_FOOT_INDEX: (0.13, 0.50, -0.60),
    Landmark.RIGHT_FOOT_INDEX: (-0.13, 0.50, -0.60),
}

# Hip-to-shoulder height and shoulder-to-wrist length of the default body, metres.
_TORSO_M = 0.5
_ARM_M = 0.58

HEAD_LANDMARKS = (
    Landmark.NOSE,
    Landmark.LEFT_EYE_INNER,
    Landmark.LEFT_EYE,
    Landmark.LEFT_EYE_OUTER,
    Landmark.RIGHT_EYE_INNER,
    Landmark.RIGHT_EYE,
    Landmark.RIGHT_EYE_OUTER,
    Landmark.LEFT_EAR,
    Landmark.RIGHT_EAR,
    Landmark.MOUTH_LEFT,
    Landmark.MOUTH_RIGHT,
)
_ARMS = tuple(Landmark(i) for i in range(13, 23))
_LEGS = tuple(Landmark(i) for i in range(25, 33))


@dataclass(frozen=True)
class BodyPose:
    """Posture parameters of the synthetic body (0 everywhere is sitting tall)."""

    forward_head_m: float = 0.0
    """Head (and neck) carried forward of the shoulders, metres."""
    rounding: float = 0.0
    """Upper-back rounding, 0 (tall) to 1 (fully slumped): shoulders forward, in and down."""
    pitch_deg: float = 0.0
    """Head nod about the ears; positive looks down."""
    lean_deg: float = 0.0
    """Sideways lean of the upper body about the hips; positive toward the person's left."""
    extension: float = 0.0
    """Chest lift and arch (the "cow" of cat-cow), 0 to 1."""
    shift_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Whole-body translation, metres (x right, y down, z away from the camera)."""
    arm_raise: float = 0.0
    """Wrists raised (reaching, typing motion), metres up."""
    arms_out: float = 0.0
    """Arms lifted out to the sides, 0 (resting) to 1 (held horizontal at shoulder height)."""
    twist_deg: float = 0.0
    """Trunk rotation about the vertical (head, shoulders and arms turn, the hips stay);
    positive turns the person's left shoulder away from the camera."""
    shoulder_scale: float = 1.0
    """Shoulder (and arm) spread as a share of the default body's: another build."""
    neck_m: float = 0.0
    """Extra neck length, metres: the head sits this much higher above the shoulders."""
    torso_scale: float = 1.0
    """Hip-to-shoulder length as a share of the default body's (the head and arms ride on it)."""
    head_scale: float = 1.0
    """Head size as a share of the default body's (face and ears about the ears' midpoint)."""
    hands_up: float = 0.0
    """Both arms raised forward and up: 0 hands in the lap, 0.5 straight ahead at shoulder
    height, 1 overhead (an arm-raise exercise sweeps the hands up past the face)."""
    hand_to_face: float = 0.0
    """The right hand brought to the face: 0 in the lap, 1 at the mouth (drinking, scratching)."""
    head_roll_deg: float = 0.0
    """The head tilted toward a shoulder about the neck, the trunk staying (a neck stretch, a
    head leant on a hand); positive toward the person's left (the sign of `lean_deg`)."""


@dataclass(frozen=True)
class Camera:
    """A pinhole camera looking at the seated body."""

    yaw_deg: float = 0.0
    """0: the user faces the camera; 45: oblique (laptop beside the monitor); 90: side-on."""
    distance_m: float = 0.9
    """From the camera to the hips' midpoint."""
    height_m: float = -0.55
    """Camera height relative to the hips (negative is above), metres."""
    focal_px: float = 560.0
    image_size: tuple[int, int] = (640, 480)
    aim_y_m: float | None = None
    """The camera tilts to centre this height (relative to the hips, negative is above) in
    the image, as a person aims a webcam at themselves; None looks straight ahead."""


LAPTOP_CAMERA = Camera(distance_m=0.55, height_m=-0.62, focal_px=500.0)
"""A laptop's camera, close and low: sitting tall, the shoulders are near the bottom edge."""


def slump(depth: float, lean_deg: float = 0.0) -> BodyPose:
    """Sinking into the chair, 0 (tall) to 1: the back rounds, the trunk slides down (and
    leans to one side), so on a laptop camera the shoulders leave through the bottom edge."""
    return BodyPose(
        rounding=min(1.0, 1.2 * depth), shift_m=(0.0, 0.16 * depth, 0.03 * depth), lean_deg=lean_deg
    )


def body_points(body: BodyPose) -> Array:
    """The 33 landmarks of the body in its own frame, metres."""
    pts = np.array([_NEUTRAL_M[Landmark(i)] for i in range(LANDMARK_COUNT)], dtype=np.float64)
    pts[list(_ARMS)] *= np.array([body.shoulder_scale, 1.0, 1.0])
    pts[[Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER], 0] *= body.shoulder_scale
    pts[list(HEAD_LANDMARKS), 1] -= body.neck_m
    head = list(HEAD_LANDMARKS)
    if body.head_scale != 1.0:
        centre = (pts[Landmark.LEFT_EAR] + pts[Landmark.RIGHT_EAR]) / 2.0
        # The head grows about its centre, its base on the neck staying put.
        pts[head] = centre + (pts[head] - centre) * body.head_scale
        pts[head, 1] -= 0.05 * (body.head_scale - 1.0)
    if body.torso_scale != 1.0:
        above_hips = [*HEAD_LANDMARKS, *_ARMS, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]
        pts[above_hips, 1] -= _TORSO_M * (body.torso_scale - 1.0)
    if body.hands_up or body.hand_to_face:
        _place_hands(pts, body)
    if body.arms_out:
        # Elbows and hands swing out to shoulder height (arms held horizontal).
        for shoulder, elbow, hand, side in (
            (Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW, (15, 17, 19, 21), 1.0),
            (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_ELBOW, (16, 18, 20, 22), -1.0),
        ):
            for index, reach_m in ((int(elbow), 0.28), *((i, 0.55) for i in hand)):
                target = pts[shoulder] + np.array([side * reach_m, 0.0, 0.0])
                pts[index] += body.arms_out * (target - pts[index])
    r, e = body.rounding, body.extension
    shoulders = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]
    upper = head + shoulders + [Landmark.LEFT_ELBOW, Landmark.RIGHT_ELBOW]
    # Rounding: shoulders roll forward, in and down; the head rides along, lower and forward.
    for s, sign in ((Landmark.LEFT_SHOULDER, 1.0), (Landmark.RIGHT_SHOULDER, -1.0)):
        pts[s] += (-sign * 0.035 * r + sign * 0.015 * e, 0.05 * r - 0.025 * e, -0.07 * r + 0.03 * e)
    pts[head] += np.array([0.0, 0.07 * r - 0.03 * e, -0.06 * r + 0.02 * e])
    # Forward head: the head slides forward and a little down, shoulders stay.
    pts[head] += np.array([0.0, 0.25 * body.forward_head_m, -body.forward_head_m])
    # Nod about the axis through the ears.
    if body.pitch_deg:
        pivot = (pts[Landmark.LEFT_EAR] + pts[Landmark.RIGHT_EAR]) / 2.0
        a = math.radians(body.pitch_deg)
        rot = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
        # Positive pitch brings the nose down (+y) and back toward the body (+z).
        pts[head] = (pts[head] - pivot) @ rot.T + pivot
    if body.head_roll_deg:
        # About the base of the neck (between the shoulders), as `lean_deg` turns about the hips.
        pivot = (pts[Landmark.LEFT_SHOULDER] + pts[Landmark.RIGHT_SHOULDER]) / 2.0
        a = math.radians(body.head_roll_deg)
        rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
        pts[head] = (pts[head] - pivot) @ rot.T + pivot
    pts[list(_ARMS)[4:]] += np.array([0.0, -body.arm_raise, 0.0])
    pts[[Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST]] += np.array([0.0, -body.arm_raise, 0.0])
    if body.twist_deg:
        # Trunk rotation about the vertical through the hips: the upper body turns, hips stay.
        a = math.radians(body.twist_deg)
        rot = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
        turning = upper + list(_ARMS)
        pts[turning] = pts[turning] @ rot.T
    # Lean: the upper body rolls about the hips (the camera's z axis).
    if body.lean_deg:
        a = math.radians(body.lean_deg)
        rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
        moving = upper + list(_ARMS)
        # Positive lean toward the person's left (+x) lowers that shoulder (+y).
        pts[moving] = pts[moving] @ rot.T
    shifted: Array = pts + np.asarray(body.shift_m, dtype=np.float64)
    return shifted


def _place_hands(pts: Array, body: BodyPose) -> None:
    """Move the arms for `hands_up` (both) and `hand_to_face` (the right one), in place."""
    sides = (
        (Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST, (17, 19, 21), 1.0),
        (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_ELBOW, Landmark.RIGHT_WRIST, (18, 20, 22), -1.0),
    )
    mouth = (pts[Landmark.MOUTH_LEFT] + pts[Landmark.MOUTH_RIGHT]) / 2.0
    # Arms overhead lift the shoulder points (the model tracks the top of the arm).
    pts[[Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER], 1] -= 0.04 * max(
        0.0, 2.0 * body.hands_up - 1.0
    )
    for shoulder, elbow, wrist, hand, sign in sides:
        rest = pts[wrist].copy()
        u = body.hands_up
        if sign < 0 and body.hand_to_face > u:
            # Wrist just under the chin, forearm up in front of the chest.
            u = body.hand_to_face
            target = mouth + np.array([0.0, 0.09, -0.07])
            bend = pts[shoulder] + np.array([sign * 0.02, 0.22, -0.2])
            tip = mouth + np.array([0.0, 0.01, -0.05])
        elif u > 0.0:
            # An arc about the shoulder: ahead at shoulder height at 0.5, overhead at 1.
            reach_m = _ARM_M * math.sqrt(body.shoulder_scale)
            up = math.radians(80.0) * max(0.0, 2.0 * u - 1.0)
            target = pts[shoulder] + np.array(
                [sign * 0.05, -reach_m * math.sin(up), -reach_m * math.cos(up)]
            )
            if u < 0.5:
                target = rest + 2.0 * u * (target - rest)
            u = 1.0
            bend = (pts[shoulder] + target) / 2.0 + np.array([sign * 0.06, 0.03, 0.0])
            tip = target + 0.08 * (target - bend) / max(1e-6, float(np.linalg.norm(target - bend)))
        else:
            continue
        new_wrist = rest + u * (target - rest)
        pts[elbow] += u * (bend - pts[elbow])
        pts[wrist] = new_wrist
        for index in hand:
            # The fingers follow the wrist, turned toward where the hand points.
            rel = pts[index] - rest
            pts[index] = new_wrist + (1.0 - u) * rel + u * (tip - target + 0.3 * rel)


def project(points_m: Array, camera: Camera) -> tuple[Array, Array]:
    """Image landmarks (normalised, MediaPipe-like) and world landmarks seen by `camera`."""
    a = math.radians(camera.yaw_deg)
    # The user turns by yaw: rotate about the vertical (y) axis through the hips.
    rot = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    world = points_m @ rot.T
    cam = world + np.array([0.0, -camera.height_m, camera.distance_m])
    if camera.aim_y_m is not None:
        # Tilt about the camera's x axis so the aimed-at height is in the image's centre.
        t = math.atan2(camera.aim_y_m - camera.height_m, camera.distance_m)
        y, z = cam[:, 1].copy(), cam[:, 2].copy()
        cam[:, 1] = y * math.cos(t) - z * math.sin(t)
        cam[:, 2] = y * math.sin(t) + z * math.cos(t)
    w, h = camera.image_size
    u = camera.focal_px * cam[:, 0] / cam[:, 2] + w / 2
    v = camera.focal_px * cam[:, 1] / cam[:, 2] + h / 2
    # MediaPipe's image z is depth relative to the hips on the scale of x.
    z = (cam[:, 2] - camera.distance_m) * camera.focal_px / camera.distance_m / w
    image = np.stack([u / w, v / h, z], axis=1)
    return image, world - world[[Landmark.LEFT_HIP, Landmark.RIGHT_HIP]].mean(axis=0)


def synthetic_pose(
    body: BodyPose,
    camera: Camera | None = None,
    *,
    t_s: float = 0.0,
    noise_px: float = 0.0,
    rng: np.random.Generator | None = None,
    visibility: float = 0.99,
) -> Pose:
    """A Pose record of the body, optionally with landmark jitter (pixels, 1 sigma)."""
    camera = camera or Camera()
    image, world = project(body_points(body), camera)
    if noise_px > 0:
        rng = rng or np.random.default_rng(0)
        w, h = camera.image_size
        image[:, 0] += rng.normal(0, noise_px / w, LANDMARK_COUNT)
        image[:, 1] += rng.normal(0, noise_px / h, LANDMARK_COUNT)
    vis = np.full(LANDMARK_COUNT, visibility, dtype=np.float32)
    if camera.yaw_deg > 60:
        # Side-on, the far ear, eye and shoulder are hidden behind the head and body.
        far = [Landmark.RIGHT_EAR, Landmark.RIGHT_EYE, Landmark.RIGHT_EYE_OUTER]
        vis[far] = 0.2
    vis[list(_LEGS)] = 0.1  # the desk hides the legs
    presence = np.full(LANDMARK_COUNT, 0.99, dtype=np.float32)
    outside = (image[:, 0] < 0) | (image[:, 0] > 1) | (image[:, 1] < 0) | (image[:, 1] > 1)
    vis[outside] = 0.05
    presence[outside] = 0.05
    return Pose(
        t_s=t_s,
        image_xyz=image.astype(np.float32),
        world_xyz=world.astype(np.float32),
        visibility=vis,
        presence=presence,
        image_size=camera.image_size,
    )


def jitter_landmarks(
    pose: Pose,
    sigma_px: Mapping[Landmark, float],
    rng: np.random.Generator,
    *,
    filled_visibility: bool = False,
) -> Pose:
    """The pose with extra jitter on chosen landmarks (pixels, 1 sigma), e.g. shoulders under a
    bulky jumper or hidden elbows the model guesses; `filled_visibility` sets visibility and
    presence to 1 everywhere, as recordings that did not store them do."""
    image = pose.image_xyz.astype(np.float64)
    w, h = pose.image_size
    for landmark, sigma in sigma_px.items():
        image[landmark, 0] += rng.normal(0.0, sigma / w)
        image[landmark, 1] += rng.normal(0.0, sigma / h)
    jittered = pose.with_landmarks(image.astype(np.float32), pose.world_xyz)
    if filled_visibility:
        ones = np.ones(LANDMARK_COUNT, dtype=np.float32)
        jittered = replace(jittered, visibility=ones, presence=ones.copy())
    return jittered


def synthetic_sample(pose: Pose | None, t_s: float, min_visibility: float = 0.5) -> PoseSample:
    """Wrap a synthetic pose (None: nobody in view) as the pose stage would."""
    if pose is None or not np.any(pose.presence[list(UPPER_BODY)] >= min_visibility):
        return PoseSample(t_s=t_s, pose=None, tracking=Tracking.NO_PERSON, people=0)
    tracking = (
        Tracking.OK if pose.is_visible(UPPER_BODY, min_visibility, 0.2) else Tracking.LOW_VISIBILITY
    )
    pose = replace(pose, t_s=t_s, tracking=tracking)
    return PoseSample(t_s=t_s, pose=pose, tracking=tracking, people=1)


# Activities a scenario can script, and the activity the coach should report for each.
SCENARIO_TRUTH: dict[str, str] = {
    "still": "still",
    "fidget": "still",
    "typing": "still",
    "talking": "still",
    "stretch": "moving",
    "stand_up": "moving",
    "shift": "moving",
    "glance": "still",
    "leave": "away",
    "passer_by": "away",
}


def _body_for(kind: str, t_s: float, local_s: float, rng: np.random.Generator) -> BodyPose | None:
    breathing = (0.0, 0.002 * math.sin(2 * math.pi * 0.25 * t_s), 0.0)
    if kind in ("still", "typing", "talking"):
        return BodyPose(
            shift_m=breathing,
            arm_raise=0.02 * math.sin(2 * math.pi * 4.0 * t_s) if kind == "typing" else 0.0,
            pitch_deg=4.0 * math.sin(2 * math.pi * 3.0 * t_s) if kind == "talking" else 0.0,
        )
    if kind == "fidget":
        # A small shift every couple of seconds, settling in between.
        phase = (local_s % 2.5) / 2.5
        offset = 0.012 * math.sin(math.pi * min(phase * 4, 1.0))
        return BodyPose(shift_m=(offset, breathing[1], 0.0), lean_deg=3.0 * offset / 0.012)
    if kind == "stretch":
        return BodyPose(
            arm_raise=0.62 * min(1.0, local_s / 1.5),
            lean_deg=12.0 * math.sin(2 * math.pi * local_s / 6.0),
            extension=0.5,
        )
    if kind == "glance":
        # Looks down at the keyboard or phone for 1.5 s every 5 s; the trunk stays put.
        down = (local_s % 5.0) < 1.5
        return BodyPose(shift_m=breathing, pitch_deg=25.0 if down else 0.0)
    if kind == "shift":
        # Shifting in the chair: the trunk slides and leans about a new seat position.
        return BodyPose(
            shift_m=(
                0.12 * math.sin(2 * math.pi * local_s / 3.0),
                breathing[1],
                0.08 * math.sin(2 * math.pi * local_s / 4.0),
            ),
            lean_deg=8.0 * math.sin(2 * math.pi * local_s / 5.0),
        )
    if kind == "stand_up":
        # Rises over 2 s (the head leaves the top of the frame), then shifts about.
        rise = min(1.0, local_s / 2.0)
        return BodyPose(shift_m=(0.12 * math.sin(local_s), -0.25 * rise, 0.1 * rise))
    return None  # leave / passer_by: the user is not in view


def scenario(
    segments: list[tuple[str, float]],
    *,
    fps: float = 5.0,
    camera: Camera | None = None,
    noise_px: float = 0.7,
    seed: int = 0,
    alter: Callable[[Pose, np.random.Generator], Pose] | None = None,
) -> tuple[list[PoseSample], list[tuple[float, float, str]]]:
    """A scripted stream of samples and its truth: [(start_s, end_s, activity)], merged.

    `alter` changes each pose of the user before it is sampled (e.g. `jitter_landmarks`).
    """
    rng = np.random.default_rng(seed)
    camera = camera or Camera()
    samples: list[PoseSample] = []
    truth: list[tuple[float, float, str]] = []
    t_s = 0.0
    for kind, duration_s in segments:
        start_s = t_s
        label = SCENARIO_TRUTH[kind]
        if truth and truth[-1][2] == label:
            truth[-1] = (truth[-1][0], start_s + duration_s, label)
        else:
            truth.append((start_s, start_s + duration_s, label))
        for i in range(round(duration_s * fps)):
            t_s = start_s + i / fps
            body = _body_for(kind, t_s, t_s - start_s, rng)
            if kind == "passer_by":
                # Someone smaller (further back) crossing the frame behind the empty chair.
                x = -0.8 + 1.6 * (t_s - start_s) / duration_s
                stranger = synthetic_pose(
                    BodyPose(shift_m=(x, -0.1, 1.2)), camera, noise_px=noise_px, rng=rng
                )
                samples.append(synthetic_sample(stranger, t_s))
                continue
            pose = synthetic_pose(body, camera, noise_px=noise_px, rng=rng) if body else None
            if pose is not None and alter is not None:
                pose = alter(pose, rng)
            samples.append(synthetic_sample(pose, t_s))
        t_s = start_s + duration_s
    return samples, truth
