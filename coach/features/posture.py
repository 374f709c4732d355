"""Provides posture cues from one pose, and forward-head / thoracic-rounding metrics vs neutral."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields

import numpy as np

from coach.features.geometry import angle_from_vertical_deg, midpoint, px, roll_deg, span
from coach.features.view import classify_view, shoulder_yaw_deg
from coach.landmarks import Landmark
from coach.records import Pose

L = Landmark

# Beyond this, the face is turned too far from the shoulders' direction to read (front view):
# the nose sits this many ear-spans off the ears' midpoint (about 35-40 degrees of head yaw).
MAX_HEAD_TURN = 0.32
# Beyond this the nose is at an ear (the face in profile): nothing about the head is read.
MAX_HEAD_TURN_NOSE = 0.6
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

    Front and oblique views read the nose against the shoulders (the nose, the shoulders and
    their spacing are the steadiest points on real people, whatever they wear); the ears add
    to it where both are seen. The side view uses the ear-shoulder angle. Every cue is a
    plain float (NaN: not measurable in this frame) so a neutral is the same type.
    """

    view_code: float
    """0 front, 1 oblique, 2 side (a float so cues average; rounded when read)."""
    nose_rise: float
    """Height of the nose above the shoulder line / shoulder width (UpSit's ratio): falls as
    the head comes forward and down, and as the trunk leans toward a front camera (the
    shoulders then look wider). NaN side-on."""
    nose_y: float
    """Nose height in the frame / frame height (down positive): the whole head sinking."""
    ear_rise: float
    """Height of the ears above the shoulder line / shoulder width (front, oblique; one ear
    is enough) or / frame height (side)."""
    head_size: float
    """Ear-to-ear span / shoulder width: grows as the head comes toward a front camera."""
    pitch: float
    """Nose below the ears / shoulder width (front, oblique) or nose-ear angle (side):
    nodding down grows it."""
    head_offset: float
    """Ears ahead of the mid-shoulder, in the facing direction / shoulder width (oblique view)."""
    ear_shoulder_deg: float
    """Side view: angle of the shoulder-to-ear line from vertical, forward positive."""
    shoulder_width: float
    """Shoulder width / frame height (grows as the trunk leans toward a front camera)."""
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
    nose = px(pose, L.NOSE)
    ears = [lm for lm in (L.LEFT_EAR, L.RIGHT_EAR) if _visible(pose, lm) and _in_frame(pose, lm)]
    ear_mid = np.mean([px(pose, lm) for lm in ears], axis=0) if ears else None
    head_size = math.nan
    if len(ears) == 2 and ear_mid is not None:
        ear_span = span(pose, L.LEFT_EAR, L.RIGHT_EAR)
        turn = abs(float(nose[0] - ear_mid[0])) / max(ear_span, 1e-6)
        if view == "front" and turn > MAX_HEAD_TURN_NOSE:
            return None  # a face in profile: even the nose's height is not comparable
        if view == "front" and turn > MAX_HEAD_TURN:
            # A face turned away (to a second screen) foreshortens the ears; the nose's
            # height above the shoulders still reads true.
            ears, ear_mid = [], None
        else:
            head_size = ear_span / shoulder_w
    if view == "oblique" and len(ears) < 2:
        return None  # the facing direction and head offset need both ears
    # The nose is ahead of the ears, so it tells which way "forward" is in the image.
    facing = 1.0 if ear_mid is None or nose[0] >= ear_mid[0] else -1.0
    return PostureCues(
        view_code=0.0 if view == "front" else 1.0,
        nose_rise=float(shoulder_mid[1] - nose[1]) / shoulder_w,
        nose_y=float(nose[1]) / height_px,
        ear_rise=math.nan if ear_mid is None else float(shoulder_mid[1] - ear_mid[1]) / shoulder_w,
        head_size=head_size,
        pitch=math.nan if ear_mid is None else float(nose[1] - ear_mid[1]) / shoulder_w,
        head_offset=math.nan
        if ear_mid is None or view == "front"
        else facing * float(ear_mid[0] - shoulder_mid[0]) / shoulder_w,
        ear_shoulder_deg=math.nan,
        **common,
    )


def _in_frame(pose: Pose, landmark: Landmark) -> bool:
    x, y = pose.image_xyz[landmark, :2]
    return bool(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0)


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
        nose_rise=math.nan,
        nose_y=float(nose_px[1]) / height_px,
        ear_rise=float(shoulder_px[1] - ear_px[1]) / height_px,
        head_size=math.nan,
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


def spread_cues(cues: list[PostureCues], centre: PostureCues) -> PostureCues:
    """Cue-by-cue robust spread (1.4826 times the median absolute deviation from `centre`): how much
    each cue jitters for this person and camera while they sit still."""
    values = {}
    for f in fields(PostureCues):
        deviations = [
            abs(getattr(c, f.name) - getattr(centre, f.name))
            for c in cues
            if math.isfinite(getattr(c, f.name)) and math.isfinite(getattr(centre, f.name))
        ]
        values[f.name] = 1.4826 * float(np.median(deviations)) if deviations else math.nan
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

    @property
    def blends(self) -> bool:
        """Whether the window holds too few cues for a median (one or two, as at 1 look a
        second): the median of two is their mean, a blend of two postures at a change."""
        return len(self._recent) < 3


@dataclass(frozen=True)
class PostureMetrics:
    """How far posture is from the user's neutral: 0 at neutral, growing as it worsens.

    The units are "percent of a clear slouch-sized change" so every view shares thresholds.
    """

    forward_head: float
    thoracic_rounding: float
    lean_deg: float
    pitch_change: float
    """How far the head is nodded from neutral (positive down); a glance at the keyboard."""
    cue_points: tuple[float, ...] = ()
    """Each cue's own reading in the same points (positive: worse than neutral)."""
    weights: tuple[float, float] = (0.5, 0.5)
    """How much forward head and rounding count in the score (their reliability)."""
    sigmas: tuple[float, float] = (math.nan, math.nan)
    """How much forward head and rounding jittered at calibration (points, 1 sigma; NaN:
    unknown): a measure that wandered while the user sat tall needs a larger change."""

    @property
    def score(self) -> float:
        """The slouch score: both measures together (a slouch moves both), each weighted by
        how steady it was for this person and camera at calibration."""
        return self.weights[0] * self.forward_head + self.weights[1] * self.thoracic_rounding

    @property
    def worst_cue(self) -> float:
        """The worst single cue: above 0, some cue reads this posture as worse than neutral."""
        return max(self.cue_points, default=max(self.forward_head, self.thoracic_rounding))


# Weights turning cue changes into metric points (about 15 = a clear slouch).
_NECK_WEIGHT = 100.0  # nose 15 % lower toward the shoulder line (per shoulder width) → +15
_SINK_WEIGHT = 100.0  # nose 0.15 shoulder widths lower in the frame → +15
_HEAD_SIZE_WEIGHT = 150.0  # +10 % head size against the shoulders → +15
_HEAD_SIZE_DEAD_ZONE = 8.0  # points of head growth that count for nothing
_OFFSET_WEIGHT = 150.0  # ears 10 % of shoulder width further ahead (oblique) → +15
_SIDE_ANGLE_WEIGHT = 2.0  # 10 degrees more ear-shoulder angle → +20
_SIDE_DROP_WEIGHT = 200.0  # head 10 % of frame height lower → +20
# Jitter (points, 1 sigma) below which a cue counts as fully steady: no cue is trusted more.
NOISE_FLOOR = 2.0
# Head growth inside this many sigmas of its own calibration jitter counts for nothing.
_HEAD_SIZE_SIGMAS = 3.0
# Below this nose height above the shoulders (shoulder widths) the ratio is meaningless.
_MIN_NOSE_RISE = 0.05


def jitter_points(neutral: PostureCues, noise: PostureCues | None) -> dict[str, float]:
    """Each front-view cue's calibration spread in slouch points (NaN: not known)."""
    if noise is None or neutral.view == "side":
        return {}
    return {
        "nose over shoulders": _NECK_WEIGHT * noise.nose_rise / neutral.nose_rise,
        "head height": _SINK_WEIGHT * noise.nose_y / neutral.shoulder_width,
        "head size": _HEAD_SIZE_WEIGHT * noise.head_size / neutral.head_size,
    }


def _weights(sigmas: tuple[float, float]) -> tuple[float, float]:
    inverse = [
        1.0 / (s * s + NOISE_FLOOR**2) if math.isfinite(s) else 1.0 / NOISE_FLOOR**2 for s in sigmas
    ]
    return inverse[0] / sum(inverse), inverse[1] / sum(inverse)


def posture_metrics(
    cues: PostureCues, neutral: PostureCues, noise: PostureCues | None = None
) -> PostureMetrics | None:
    """Compare a frame's cues with the neutral; None when the views differ.

    Front and oblique: forward head is the nose sinking toward the shoulder line per
    shoulder width (with the head growing against the shoulders where both ears are seen);
    leaning the trunk toward the screen widens the shoulders in the image and so raises it
    too. Thoracic rounding is the whole head sinking in the frame, per shoulder width: a
    slumped upper back carries the head down with it. A nod moves the nose as well: the
    detector tells a glance from a slouch by how long it lasts.

    `noise` (the cues' spread at calibration) weights the two measures by how steady each
    is for this person and camera, and widens the head-growth dead zone for jittery ears.
    """
    if cues.view != neutral.view and {cues.view, neutral.view} != {"front", "oblique"}:
        return None
    pitch_change = cues.pitch - neutral.pitch
    if not math.isfinite(pitch_change):
        pitch_change = 0.0
    lean = cues.lean_deg - neutral.lean_deg
    if cues.view == "side":
        head_drop = (neutral.ear_rise - cues.ear_rise) / max(neutral.ear_rise, 1e-6)
        angle_change = cues.ear_shoulder_deg - neutral.ear_shoulder_deg
        # From the side the ear-shoulder angle is the forward-head measure; rounding
        # lowers the whole head relative to the shoulders.
        forward = _SIDE_ANGLE_WEIGHT * angle_change
        rounding = _SIDE_DROP_WEIGHT * head_drop * max(neutral.ear_rise, 1e-6) / 0.3
        return PostureMetrics(forward, rounding, lean, pitch_change, (forward, rounding))
    if neutral.nose_rise < _MIN_NOSE_RISE or neutral.shoulder_width <= 0:
        return None
    neck = _NECK_WEIGHT * (neutral.nose_rise - cues.nose_rise) / neutral.nose_rise
    sink = _SINK_WEIGHT * (cues.nose_y - neutral.nose_y) / neutral.shoulder_width
    size = _HEAD_SIZE_WEIGHT * (cues.head_size / neutral.head_size - 1.0)
    offset = math.nan
    if cues.view == "oblique" and neutral.view == "oblique":
        # Turned away from the camera, the head comes forward partly sideways in the image.
        offset = _OFFSET_WEIGHT * (cues.head_offset - neutral.head_offset)
    # A head pushed straight toward a front camera barely moves the nose down, but it grows
    # against the shoulders. Only growth adds: a smaller-looking head is no better posture.
    # Ear landmarks jitter more than the nose on real people: growth inside the dead zone
    # is noise.
    sigma_neck = sigma_sink = sigma_size = math.nan
    if noise is not None:
        sigma_neck = _NECK_WEIGHT * noise.nose_rise / neutral.nose_rise
        sigma_sink = _SINK_WEIGHT * noise.nose_y / neutral.shoulder_width
        sigma_size = _HEAD_SIZE_WEIGHT * noise.head_size / neutral.head_size
    forward = neck
    if math.isfinite(size):
        dead_zone = _HEAD_SIZE_DEAD_ZONE
        if math.isfinite(sigma_size):
            dead_zone = max(dead_zone, _HEAD_SIZE_SIGMAS * sigma_size)
        forward += max(0.0, size - dead_zone)
    if math.isfinite(offset):
        forward += offset
    parts = (neck, sink, size, offset)
    return PostureMetrics(
        forward,
        sink,
        lean,
        pitch_change,
        tuple(p for p in parts if math.isfinite(p)),
        _weights((sigma_neck, sigma_sink)),
        (sigma_neck, sigma_sink),
    )


# A shoulder this low in the frame, or past its bottom edge, has left through the bottom.
_BOTTOM_EDGE = 0.97


def slumped_nose_y(pose: Pose) -> float | None:
    """The nose's height in the frame (down positive) when the shoulders have left through
    the bottom edge while the nose is still seen; None otherwise.

    A laptop camera loses the shoulders when the user sinks low in the chair: the posture
    cues cannot be measured, but a head far below its neutral height is plainly a slump.
    """
    nose_x, nose_y = pose.image_xyz[L.NOSE, :2]
    if not (_visible(pose, L.NOSE) and 0.0 <= nose_x <= 1.0 and 0.0 <= nose_y <= 1.0):
        return None
    below = 0
    for lm in (L.LEFT_SHOULDER, L.RIGHT_SHOULDER):
        y = float(pose.image_xyz[lm, 1])
        # Past the edge the model guesses where the shoulder is (and says it is not there).
        if y >= _BOTTOM_EDGE or (y >= 0.85 and not _visible(pose, lm)):
            below += 1
    return float(nose_y) if below else None


def slump_points(nose_y: float, neutral: PostureCues) -> float | None:
    """How far the head has sunk below its neutral height, in rounding points (the sink cue's
    units: 15 is a clear slouch); None without a front or oblique neutral to compare with."""
    if (
        neutral.view == "side"
        or not neutral.shoulder_width > 0
        or not math.isfinite(neutral.nose_y)
    ):
        return None
    return _SINK_WEIGHT * (nose_y - neutral.nose_y) / neutral.shoulder_width
