"""Provides scale-free, signed rep signals for seated cat-cow and lateral flexion, per camera view."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from coach.features.geometry import Vec, px, span
from coach.features.view import classify_view, shoulder_yaw_deg
from coach.landmarks import Landmark
from coach.records import Pose

L = Landmark


# Oblique shoulder widths are foreshortened by cos(yaw); past this the correction would
# amplify noise more than it removes bias (side views use other scales anyway).
_MIN_YAW_COS = 0.4
# Weight of the nod (nose below the ears) against the head height in the cat-cow signal:
# the chin tuck / look-up is as much part of the movement as the head rising and sinking.
_NOD_WEIGHT = 1.5
# Head roll may add to the shoulder line's roll, never create one: a face turned toward
# a camera below eye level tilts the ear line in the image with no side bend at all.
_EAR_ROLL_LIMIT = 2.0
# Side view: the ear-shoulder length is about half a shoulder width, so the same movement
# reads larger; this brings a full cat-cow to the front view's units.
_SIDE_WEIGHT = 0.75
# Lateral flexion from the front: the trunk (shoulder line) carries the rep, the head's
# extra tilt only helps; a head tilt alone must not look like a full side bend.
_SHOULDER_ROLL_WEIGHT = 0.75
# Shoulder width over ear-to-ear width of an average adult (and of the synthetic default
# body): the cat-cow signal is measured in head widths but kept in these units.
_SHOULDERS_PER_HEAD = 2.53
# A head-to-shoulder ratio further from the average than this is a misread, not a build.
_MAX_HEAD_RATIO = 2.0
# Presence (in-frame likelihood) dips for shoulders near the bottom edge that are plainly
# visible, so it is gated lower than visibility (as the posture cues do).
_PRESENCE_FRACTION = 0.4


@dataclass(frozen=True)
class ViewContext:
    """How one set is seen: fixed when the counter takes its neutral, so units stay comparable."""

    view: str
    """"front", "oblique" or "side"."""
    yaw_deg: float
    """Shoulder-line yaw away from the image plane, degrees (0 facing the camera)."""
    near_left: bool
    """True when the person's left side is nearer the camera (oblique and side views)."""
    both_ears: bool
    """Whether both ears are used (front, and oblique when the far ear shows)."""
    head_ratio: float = 1.0
    """The person's head width (ear to ear) over their shoulder width, against an average
    adult's: head-sized signals are scaled by their own head, taken once (a turn of the head
    changes its width in the image, above all from an angle)."""

    @property
    def near_ear(self) -> Landmark:
        """The ear facing the camera."""
        return L.LEFT_EAR if self.near_left else L.RIGHT_EAR

    @property
    def near_shoulder(self) -> Landmark:
        """The shoulder facing the camera."""
        return L.LEFT_SHOULDER if self.near_left else L.RIGHT_SHOULDER

    @property
    def ears(self) -> tuple[Landmark, ...]:
        """The ears whose positions the signals use."""
        return (L.LEFT_EAR, L.RIGHT_EAR) if self.both_ears else (self.near_ear,)


def view_context(pose: Pose, min_visibility: float) -> ViewContext:
    """The view, yaw and usable ears of one pose (the counter takes it from its neutral)."""
    yaw_deg = shoulder_yaw_deg(pose)
    view = classify_view(yaw_deg)
    vis = pose.visibility
    left_score = float(vis[L.LEFT_EAR] + vis[L.LEFT_SHOULDER])
    right_score = float(vis[L.RIGHT_EAR] + vis[L.RIGHT_SHOULDER])
    if abs(left_score - right_score) > 0.1:
        near_left = left_score > right_score
    else:
        # Equally visible: the nearer shoulder has the smaller depth (MediaPipe's z grows away).
        near_left = bool(pose.world_xyz[L.LEFT_SHOULDER, 2] <= pose.world_xyz[L.RIGHT_SHOULDER, 2])
    both_ears = view == "front" or (
        view == "oblique" and bool(min(vis[L.LEFT_EAR], vis[L.RIGHT_EAR]) >= min_visibility)
    )
    head_ratio = 1.0
    if both_ears:
        ears = span(pose, L.LEFT_EAR, L.RIGHT_EAR)
        shoulders = span(pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
        if shoulders > 1e-6:
            head_ratio = min(
                _MAX_HEAD_RATIO, max(1.0 / _MAX_HEAD_RATIO, _SHOULDERS_PER_HEAD * ears / shoulders)
            )
    return ViewContext(
        view=view,
        yaw_deg=yaw_deg,
        near_left=near_left,
        both_ears=both_ears,
        head_ratio=head_ratio,
    )


def cat_cow_landmarks(context: ViewContext) -> tuple[Landmark, ...]:
    """The landmarks the cat-cow signal reads in this view (all must be visible).

    From the side the far shoulder is hidden behind the body by definition; its estimated
    position only steadies the mid-shoulder point, and is not gated.
    """
    if context.view == "side":
        return (L.NOSE, context.near_ear, context.near_shoulder)
    return (L.NOSE, *context.ears, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)


def lateral_landmarks(context: ViewContext) -> tuple[Landmark, ...]:
    """The landmarks the lateral flexion signal reads in this view (all must be visible)."""
    if context.view == "side":
        return (L.NOSE, context.near_ear, context.near_shoulder)
    if context.view == "oblique":
        return (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    return (L.NOSE, *context.ears, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)


def landmarks_visible(pose: Pose, landmarks: tuple[Landmark, ...], min_visibility: float) -> bool:
    """Whether every landmark is visible and inside the frame."""
    idx = list(landmarks)
    if not pose.is_visible(landmarks, min_visibility, min_visibility * _PRESENCE_FRACTION):
        return False
    xy = pose.image_xyz[idx, :2]
    return bool(np.all((xy >= 0.0) & (xy <= 1.0)))


def _ear_point(pose: Pose, context: ViewContext) -> Vec:
    points = [px(pose, ear) for ear in context.ears]
    return sum(points[1:], points[0]) / len(points)


def _shoulder_scale_px(pose: Pose, context: ViewContext) -> float:
    # The true shoulder width, undoing the foreshortening of the locked yaw.
    width = span(pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    return width / max(math.cos(math.radians(context.yaw_deg)), _MIN_YAW_COS)


def _head_scale_px(pose: Pose, context: ViewContext) -> float:
    # The shoulder width in the person's own head widths: the nod is a head-sized movement,
    # and the head rises and sinks with a neck in proportion, whereas shoulder widths vary
    # between people about twice as much.
    return _shoulder_scale_px(pose, context) * context.head_ratio


def cat_cow_signal(pose: Pose, context: ViewContext) -> float | None:
    """Cat-cow position: grows toward cow (head and chest up, chin up), falls toward cat.

    Height of the nose above the shoulder line minus the nod (nose below the ears), both
    per a body length: the yaw-corrected shoulder width times the person's head ratio (their
    head width, ear to ear, in average shoulder widths: `ViewContext.head_ratio`) from the
    front and oblique, or the near ear-to-shoulder length (side). Head widths vary between people half as much as the
    signal per shoulder width does. Vertical offsets do not change when the head turns
    about the vertical, so a look to the side moves this little. From neutral: about +0.2 at
    a full cow and -0.3 at a full cat on the synthetic body, +0.08 and -0.18 on the sample
    clip through the real model. None when the scale is degenerate.
    """
    nose = px(pose, L.NOSE)
    shoulder_mid = (px(pose, L.LEFT_SHOULDER) + px(pose, L.RIGHT_SHOULDER)) / 2.0
    if context.view == "side":
        ear = px(pose, context.near_ear)
        scale_px = float(np.linalg.norm(ear - px(pose, context.near_shoulder)))
        weight = _SIDE_WEIGHT
    else:
        ear = _ear_point(pose, context)
        scale_px = _head_scale_px(pose, context)
        weight = 1.0
    if scale_px <= 1e-6:
        return None
    # Mid-shoulder: a side bend lowers one shoulder and raises the other, so their mean
    # keeps lateral lean out of the cat-cow signal.
    rise = float(shoulder_mid[1] - nose[1]) / scale_px
    nod = float(nose[1] - ear[1]) / scale_px
    return weight * (rise - _NOD_WEIGHT * nod)


def trunk_signal(pose: Pose, context: ViewContext) -> float | None:
    """How lifted and open the upper back is: grows toward cow, falls toward cat.

    Only the shoulders move it, never the head, so a nod, a glance or talking leave it
    alone; it confirms that a cat-cow rep moved the spine, not just the neck. Front and
    oblique: shoulder width (log) minus the shoulder line's height in the image, per
    shoulder width (cat rounds the shoulders in and down). Side: the near shoulder's
    position back and up, per ear-shoulder length (cat brings it forward and down).
    Compared only between moments a few seconds apart, as a whole-body shift changes it.
    """
    left, right = px(pose, L.LEFT_SHOULDER), px(pose, L.RIGHT_SHOULDER)
    if context.view == "side":
        shoulder = left if context.near_left else right
        ear = px(pose, context.near_ear)
        scale_px = float(np.linalg.norm(ear - shoulder))
        if scale_px <= 1e-6:
            return None
        # The face points the way the person faces; "back" is the other way.
        facing = 1.0 if float(px(pose, L.NOSE)[0] - ear[0]) >= 0.0 else -1.0
        return (-facing * float(shoulder[0]) - float(shoulder[1])) / scale_px
    width_px = _shoulder_scale_px(pose, context)
    if width_px <= 1e-6:
        return None
    return math.log(width_px) - float(left[1] + right[1]) / 2.0 / width_px


def _roll_deg(pose: Pose, left: Landmark, right: Landmark, yaw_deg: float) -> float:
    # Positive when the person's left point is lower; the x span is yaw-corrected so an
    # oblique camera reads the same degrees as a front one.
    d = px(pose, left) - px(pose, right)
    if d[0] < 0:  # mirrored camera: the person's left is on the image's left
        d = -d
    dx = float(d[0]) / max(math.cos(math.radians(yaw_deg)), _MIN_YAW_COS)
    return math.degrees(math.atan2(float(d[1]), dx))


def lateral_signal(pose: Pose, context: ViewContext) -> float:
    """Side bend, degrees: positive toward the person's own left, negative toward the right.

    Front: shoulder-line roll plus a little head roll (ear line, at most twice the shoulder
    roll). Oblique: the shoulder line, yaw-corrected. Side: the shoulder line's elevation
    in MediaPipe's metric world landmarks, since from the side a side bend moves the
    shoulders in depth, not across the image (the far shoulder is the model's estimate).
    """
    if context.view == "side":
        v = pose.world_xyz[L.LEFT_SHOULDER] - pose.world_xyz[L.RIGHT_SHOULDER]
        return math.degrees(math.atan2(float(v[1]), math.hypot(float(v[0]), float(v[2]))))
    shoulders = _roll_deg(pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, context.yaw_deg)
    if context.view == "oblique" or not context.both_ears:
        return shoulders
    ears = _roll_deg(pose, L.LEFT_EAR, L.RIGHT_EAR, context.yaw_deg)
    limit = _EAR_ROLL_LIMIT * abs(shoulders)
    ears = min(limit, max(-limit, ears))
    return _SHOULDER_ROLL_WEIGHT * shoulders + (1.0 - _SHOULDER_ROLL_WEIGHT) * ears


def trunk_tilt_deg(pose: Pose, context: ViewContext, min_visibility: float) -> float | None:
    """Sideways tilt of the trunk, degrees: the shoulders' midpoint against the hips' midpoint,
    positive toward the person's own left (the sign of `lateral_signal`).

    Only arms-independent evidence of a side bend: raising an arm lifts its shoulder point and
    rolls the shoulder line, but leaves the midpoint over the hips. None when the hips are
    hidden or out of frame (a desk webcam) or from the side (the tilt is then in depth).
    """
    if context.view == "side":
        return None
    if not landmarks_visible(pose, (L.LEFT_HIP, L.RIGHT_HIP), min_visibility):
        return None
    left, right = px(pose, L.LEFT_SHOULDER), px(pose, L.RIGHT_SHOULDER)
    shoulder_mid = (left + right) / 2.0
    hip_mid = (px(pose, L.LEFT_HIP) + px(pose, L.RIGHT_HIP)) / 2.0
    # Mirrored camera: the person's left is on the image's left.
    toward_left = 1.0 if float(left[0] - right[0]) >= 0.0 else -1.0
    across = toward_left * float(shoulder_mid[0] - hip_mid[0])
    across /= max(math.cos(math.radians(context.yaw_deg)), _MIN_YAW_COS)
    up = float(hip_mid[1] - shoulder_mid[1])
    if up <= 1e-6:
        return None
    return math.degrees(math.atan2(across, up))


def shoulder_span_px(pose: Pose) -> float:
    """The shoulder line's across-image span, pixels: turning the trunk shortens it, a side
    bend only by the cosine of the bend."""
    return abs(float(px(pose, L.LEFT_SHOULDER)[0] - px(pose, L.RIGHT_SHOULDER)[0]))


def shoulder_roll_deg(pose: Pose, context: ViewContext) -> float:
    """Roll of the shoulder line alone, degrees, positive when the person's left is lower."""
    return _roll_deg(pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, context.yaw_deg)


def ear_roll_deg(pose: Pose, context: ViewContext) -> float:
    """Roll of the ear line, degrees, positive when the person's left ear is lower (the sign
    of `shoulder_roll_deg`): the head's own tilt, with the trunk's."""
    return _roll_deg(pose, L.LEFT_EAR, L.RIGHT_EAR, context.yaw_deg)


HANDS = (L.LEFT_WRIST, L.RIGHT_WRIST, L.LEFT_INDEX, L.RIGHT_INDEX)
ELBOWS = (L.LEFT_ELBOW, L.RIGHT_ELBOW)


def hand_height(
    pose: Pose, context: ViewContext, min_visibility: float, points: tuple[Landmark, ...] = HANDS
) -> float | None:
    """How high the highest hand (or of other `points`, e.g. ELBOWS) is above the shoulder
    line, per shoulder width (negative below it): hands rest in the lap in cat-cow, an arm
    raise or a hand brought to the face lifts one to the shoulders or above. Points count
    when visible in the frame, or when placed above its top edge (arms raised out of a
    webcam's view). None when none is (a desk hides the lap). From the side, twice the near
    ear-shoulder length stands in for the shoulder width (the ratio `cat_cow_signal` uses)."""
    seen = [
        h
        for h in points
        if float(pose.image_xyz[h, 1]) < 0.0 or landmarks_visible(pose, (h,), min_visibility)
    ]
    if not seen:
        return None
    shoulder_y = 0.5 * float(px(pose, L.LEFT_SHOULDER)[1] + px(pose, L.RIGHT_SHOULDER)[1])
    if context.view == "side":
        ear_shoulder = px(pose, context.near_ear) - px(pose, context.near_shoulder)
        scale_px = 2.0 * float(np.linalg.norm(ear_shoulder))
    else:
        scale_px = _shoulder_scale_px(pose, context)
    if scale_px <= 1e-6:
        return None
    top_y = min(float(px(pose, h)[1]) for h in seen)
    return (shoulder_y - top_y) / scale_px


def head_turn(pose: Pose, context: ViewContext) -> float | None:
    """How far the face is turned, in a view-specific unit compared against the neutral's.

    Front and oblique: nose offset from the ears' midpoint along the ear line (the image's x
    with one ear), per head width (`cat_cow_signal`'s scale). Side: ear-nose length per
    ear-shoulder length, which changes as the face turns toward or away from the camera.
    """
    nose = px(pose, L.NOSE)
    if context.view == "side":
        ear = px(pose, context.near_ear)
        ear_shoulder_px = float(np.linalg.norm(ear - px(pose, context.near_shoulder)))
        if ear_shoulder_px <= 1e-6:
            return None
        return float(np.linalg.norm(nose - ear)) / ear_shoulder_px
    scale_px = _head_scale_px(pose, context)
    if scale_px <= 1e-6:
        return None
    offset = nose - _ear_point(pose, context)
    if not context.both_ears:
        return float(offset[0]) / scale_px
    # Along the ear line, not the image's x: a head rolled by a side bend (seen from above,
    # the nose sits below the ears) moves the nose across the image but not along its ears.
    across = px(pose, L.LEFT_EAR) - px(pose, L.RIGHT_EAR)
    length = float(np.linalg.norm(across))
    if length <= 1e-6:
        return None
    if across[0] < 0:  # mirrored camera: keep the image's left-to-right sense
        across = -across
    return float(np.dot(offset, across)) / length / scale_px
