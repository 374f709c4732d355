"""Provides posture cues from one pose, and forward-head / thoracic-rounding metrics vs neutral."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields

import numpy as np

from coach.features.geometry import angle_from_vertical_deg, midpoint, px, roll_deg, span
from coach.features.view import classify_view, shoulder_yaw_deg
from coach.records import Landmark, Pose

L = Landmark

# Beyond this, the face is turned too far from the shoulders' direction to read (front view):
# the nose sits this many ear-spans off the ears' midpoint (about 35-40 degrees of head yaw).
MAX_HEAD_TURN = 0.32
# Shoulders narrower than this share of the frame height are too far or too small to measure.
MIN_SHOULDER_FRACTION = 0.05
# Landmarks below this visibility are not used (the far ear in an oblique view, say).
MIN_CUE_VISIBILITY = 0.5
# Presence (in-frame likelihood) dips for visible shoulders near the bottom edge; positions
# outside the frame are rejected on their own.
MIN_CUE_PRESENCE = 0.2


@dataclass(frozen=True)
class PostureCues:
    """Scale-free posture cues of one frame, before comparison with the user's neutral.

    Front and oblique views use the spans; the side view uses the ear-shoulder angle.
    Every cue is a plain float so a neutral (their median while sitting tall) is the same type.
    """

    view_code: float
    """0 front, 1 oblique, 2 side (a float so cues average; rounded when read)."""
    head_size: float
    """Ear-to-ear span / shoulder width: grows as the head comes toward a front camera."""
    head_rise: float
    """Height of the ears above the shoulder line / ear span (side: / frame height)."""
    pitch: float
    """Nose below the ears / ear span (front) or nose-ear angle (side): nodding down grows it."""
    head_offset: float
    """Ears ahead of the mid-shoulder, in the facing direction / shoulder width (oblique view)."""
    ear_shoulder_deg: float
    """Side view: angle of the shoulder-to-ear line from vertical, forward positive."""
    shoulder_width: float
    """Shoulder width / frame height (shrinks as shoulders roll forward, or the user moves away)."""
    shoulder_x: float
    """Mid-shoulder x / frame width (for noticing that the camera or seat moved)."""
    shoulder_y: float
    """Mid-shoulder y / frame height."""
    lean_deg: float
    """Roll of the shoulder line; positive when the person's left shoulder is lower."""

    @property
    def view(self) -> str:
        """The view the cues were measured in."""
        return ("front", "oblique", "side")[min(2, max(0, round(self.view_code)))]


def _visible(pose: Pose, *landmarks: Landmark) -> bool:
    return bool(
        all(pose.visibility[lm] >= MIN_CUE_VISIBILITY for lm in landmarks)
        and all(pose.presence[lm] >= MIN_CUE_PRESENCE for lm in landmarks)
    )


def measure_cues(pose: Pose) -> PostureCues | None:
    """Posture cues of one pose, or None when the frame cannot be trusted.

    Untrusted: shoulders out of frame or hidden, the head turned far away, or the person
    too small in the frame. A missing value is better than a wrong one.
    """
    width_px, height_px = pose.image_size
    if not _visible(pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.NOSE):
        return None
    for lm in (L.LEFT_SHOULDER, L.RIGHT_SHOULDER):
        x, y = pose.image_xyz[lm, :2]
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return None
    view = classify_view(shoulder_yaw_deg(pose))
    shoulder_mid = midpoint(pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    shoulder_w = span(pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    common = {
        "shoulder_width": shoulder_w / height_px,
        "shoulder_x": float(shoulder_mid[0]) / width_px,
        "shoulder_y": float(shoulder_mid[1]) / height_px,
        # Side-on the shoulders overlap and their line says nothing about lean.
        "lean_deg": roll_deg(pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
        if view != "side"
        else math.nan,
    }
    if view == "side":
        return _side_cues(pose, height_px, common)
    if shoulder_w < MIN_SHOULDER_FRACTION * height_px:
        return None
    if not _visible(pose, L.LEFT_EAR, L.RIGHT_EAR):
        return None
    ear_mid = midpoint(pose, L.LEFT_EAR, L.RIGHT_EAR)
    ear_span = span(pose, L.LEFT_EAR, L.RIGHT_EAR)
    if ear_span <= 1e-6:
        return None
    nose = px(pose, L.NOSE)
    # A face turned well away from the shoulders' direction distorts every head cue.
    if view == "front" and abs(float(nose[0] - ear_mid[0])) / ear_span > MAX_HEAD_TURN:
        return None
    # The nose is ahead of the ears, so it tells which way "forward" is in the image.
    facing = 1.0 if nose[0] >= ear_mid[0] else -1.0
    return PostureCues(
        view_code=0.0 if view == "front" else 1.0,
        head_size=ear_span / shoulder_w,
        head_rise=float(shoulder_mid[1] - ear_mid[1]) / ear_span,
        pitch=float(nose[1] - ear_mid[1]) / ear_span,
        head_offset=facing * float(ear_mid[0] - shoulder_mid[0]) / shoulder_w,
        ear_shoulder_deg=math.nan,
        **common,
    )


def _side_cues(pose: Pose, height_px: int, common: dict[str, float]) -> PostureCues | None:
    # Side-on, use the ear and shoulder nearer the camera (the more visible pair).
    near_left = pose.visibility[L.LEFT_EAR] + pose.visibility[L.LEFT_SHOULDER] >= (
        pose.visibility[L.RIGHT_EAR] + pose.visibility[L.RIGHT_SHOULDER]
    )
    ear, shoulder = (L.LEFT_EAR, L.LEFT_SHOULDER) if near_left else (L.RIGHT_EAR, L.RIGHT_SHOULDER)
    if not _visible(pose, ear, shoulder):
        return None
    ear_px, shoulder_px, nose_px = px(pose, ear), px(pose, shoulder), px(pose, L.NOSE)
    facing = 1.0 if nose_px[0] >= ear_px[0] else -1.0  # +1: the user faces the image's right
    ear_nose = float(np.linalg.norm(nose_px - ear_px))
    if ear_nose <= 1e-6:
        return None
    return PostureCues(
        view_code=2.0,
        head_size=math.nan,
        head_rise=float(shoulder_px[1] - ear_px[1]) / height_px,
        pitch=float(nose_px[1] - ear_px[1]) / ear_nose,
        head_offset=math.nan,
        ear_shoulder_deg=facing * angle_from_vertical_deg(shoulder_px, ear_px),
        **common,
    )


def median_cues(cues: list[PostureCues]) -> PostureCues:
    """Cue-by-cue median: the neutral of a calibration window."""
    if not cues:
        raise ValueError("no cues to take the median of")
    values = {
        f.name: float(np.nanmedian([getattr(c, f.name) for c in cues]))
        if not all(math.isnan(getattr(c, f.name)) for c in cues)
        else math.nan
        for f in fields(PostureCues)
    }
    return PostureCues(**values)


class CueSmoother:
    """Rolling median of the cues over the last `window_s` of stream time.

    Posture changes over seconds; landmark jitter changes every frame. A median keeps a
    real change's edge sharp while removing the ear and shoulder jitter that would
    otherwise swing the head-size cue by several percent from frame to frame.
    """

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._recent: deque[tuple[float, PostureCues]] = deque()

    def update(self, cues: PostureCues | None, t_s: float) -> PostureCues | None:
        """Add one frame's cues; returns the median of the window (None if it is empty)."""
        if cues is not None:
            if self._recent and self._recent[-1][1].view != cues.view:
                self._recent.clear()  # a new view: old cues measure something else
            self._recent.append((t_s, cues))
        while self._recent and self._recent[0][0] <= t_s - self.window_s:
            self._recent.popleft()
        if cues is None or not self._recent:
            return None
        return median_cues([c for _, c in self._recent])


@dataclass(frozen=True)
class PostureMetrics:
    """How far posture is from the user's neutral: 0 at neutral, growing as it worsens.

    The units are "percent of a clear slouch-sized change" so both views share thresholds.
    """

    forward_head: float
    thoracic_rounding: float
    lean_deg: float
    pitch_change: float
    """How far the head is nodded from neutral (positive down); a glance at the keyboard."""


# Weights turning cue changes into metric points (tuned on the sample clips and the
# synthetic body: a clear slouch scores about 25-40, sitting tall scores about 0).
_HEAD_SIZE_WEIGHT = 200.0  # +10 % head size → +20
_HEAD_DROP_WEIGHT = 60.0  # head 10 % lower toward the shoulders → +6
_SHOULDER_NARROW_WEIGHT = 150.0  # shoulders 10 % narrower → +15
_OFFSET_WEIGHT = 150.0  # ears 10 % of shoulder width further ahead (oblique) → +15
_SIDE_ANGLE_WEIGHT = 2.0  # 10 degrees more ear-shoulder angle → +20
_SIDE_DROP_WEIGHT = 200.0  # head 10 % of frame height lower → +20
# Nodding by this much (in ear spans) makes the head-height cue unusable.
_PITCH_FULL_DISCOUNT = 0.25


def posture_metrics(cues: PostureCues, neutral: PostureCues) -> PostureMetrics | None:
    """Compare a frame's cues with the neutral; None when the views differ."""
    if cues.view != neutral.view and {cues.view, neutral.view} != {"front", "oblique"}:
        return None
    pitch_change = cues.pitch - neutral.pitch
    lean = cues.lean_deg - neutral.lean_deg
    if cues.view == "side":
        head_drop = (neutral.head_rise - cues.head_rise) / max(neutral.head_rise, 1e-6)
        angle_change = cues.ear_shoulder_deg - neutral.ear_shoulder_deg
        # From the side the ear-shoulder angle is the forward-head measure; rounding
        # lowers the whole head relative to the shoulders.
        forward = _SIDE_ANGLE_WEIGHT * angle_change
        rounding = _SIDE_DROP_WEIGHT * head_drop * max(neutral.head_rise, 1e-6) / 0.3
        return PostureMetrics(forward, rounding, lean, pitch_change)
    # A nod moves the nose, not the ears, but a big one still shifts the ear line:
    # discount the head-height cue while the head is pitched away from neutral.
    trust = max(0.0, 1.0 - abs(pitch_change) / _PITCH_FULL_DISCOUNT)
    head_drop = (neutral.head_rise - cues.head_rise) / max(abs(neutral.head_rise), 1e-6)
    size_growth = cues.head_size / neutral.head_size - 1.0
    narrowing = 1.0 - cues.shoulder_width / neutral.shoulder_width
    forward = _HEAD_SIZE_WEIGHT * size_growth + _HEAD_DROP_WEIGHT * trust * head_drop
    if cues.view == "oblique" and neutral.view == "oblique":
        # Turned away from the camera, the head comes forward partly sideways in the image.
        forward += _OFFSET_WEIGHT * (cues.head_offset - neutral.head_offset)
    rounding = _SHOULDER_NARROW_WEIGHT * narrowing + _HEAD_DROP_WEIGHT * trust * head_drop
    return PostureMetrics(forward, rounding, lean, pitch_change)
