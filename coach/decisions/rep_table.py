"""Provides the registry of countable movements: each one's signal, confirmation and coaching text."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from coach.config import RepConfig
from coach.decisions.rep_coaching import (
    CAT_COW_TEXT,
    LATERAL_FLEXION_TEXT,
    NECK_ONLY,
    CoachingText,
)
from coach.errors import ConfigError
from coach.features.rep_signals import (
    ELBOWS,
    ViewContext,
    cat_cow_landmarks,
    cat_cow_signal,
    ear_roll_deg,
    hand_height,
    head_turn,
    lateral_landmarks,
    lateral_signal,
    shoulder_roll_deg,
    shoulder_span_px,
    trunk_signal,
    trunk_tilt_deg,
)
from coach.landmarks import Landmark
from coach.records import COUNTABLE, CountableMovement, Pose

Evidence = tuple[float, ...]
"""Per-pose measurements that confirm a pole visit (NaN where not measurable)."""


@dataclass
class Visit:
    """One excursion into a pole, from entering past the enter level to leaving past the exit level."""

    pole: int
    enter_s: float
    peak: float
    peak_s: float
    confirmed: bool = False
    hidden_s: float = 0.0
    """Tracking gaps while in the pole, seconds."""
    evidence: list[Evidence] = field(default_factory=list)
    """The movement's evidence while in the pole, relative to its neutral."""
    exit_s: float = 0.0
    up_s: float = 0.0
    """When the signal crossed half the peak on the way in (the phase's start)."""
    down_s: float = 0.0
    """When it crossed half the peak on the way back (the phase's end)."""

    def evidence_values(self, index: int) -> list[float]:
        """One evidence measurement over the visit, where it was measurable."""
        return [e[index] for e in self.evidence if not math.isnan(e[index])]


@dataclass(frozen=True)
class RepMovement:
    """One countable movement: how it is measured, confirmed and coached."""

    movement: CountableMovement
    text: CoachingText
    signal: Callable[[Pose, ViewContext], float | None]
    """The signed rep signal: + toward one pole, - toward the other."""
    landmarks: Callable[[ViewContext], tuple[Landmark, ...]]
    """The landmarks the signal reads (all must be visible to count)."""
    evidence: Callable[[Pose, ViewContext, RepConfig], Evidence]
    """Measurements that confirm a visit, compared against their neutral."""
    confirms: Callable[[Visit, RepConfig], bool]
    """Whether a visit (evidence relative to neutral) is this movement and not another."""
    gate: Callable[[RepConfig], float]
    """The smallest excursion that can count, signal units."""
    quiet: Callable[[RepConfig], float]
    """The signal span under which the user is resting (for taking the neutral)."""
    recognise_range: Callable[[RepConfig], float]
    """Unprompted: the smallest rep range that can start a recognised set."""
    nominal_range: Callable[[RepConfig], float]
    """A full rep's range, only to compare movements with each other."""
    neutral_limit: Callable[[RepConfig], float | None] = lambda _: None
    """How far from 0 the signal's neutral can plausibly be; None when it can be anywhere."""
    return_fraction: Callable[[RepConfig], float | None] = lambda _: None
    """A pole is also left once back to this fraction of its peak (None: only the exit level)."""
    pair_confirms: Callable[[Visit, Visit, RepConfig], bool] | None = None
    """Two-pole movements: whether a first and second pole make one rep (None: one pole is a rep)."""
    min_pair_range: Callable[[RepConfig], float] = lambda _: 0.0
    """Two-pole movements: the smallest pole-to-pole range of a counted rep."""
    pair_rejected_remark: str | None = None
    """What to tell the user when `pair_confirms` turns a pair down."""
    pauses_on_head_turn: bool = False
    """The signal reads the face, so counting pauses while it is turned away."""
    absolute_evidence: tuple[int, ...] = ()
    """Evidence indices judged as measured, not against their neutral (where the hands are)."""
    judged_phases: int = 2
    """How many of a rep's phases tempo is judged on (the rest are reported only)."""
    sided: bool = False
    """Reps are counted per side (each pole is a side)."""

    @property
    def paired(self) -> bool:
        """A rep is two visits to opposite poles."""
        return self.pair_confirms is not None


# Evidence indices.
_TRUNK, _ROLL, _HANDS, _ELBOWS = 0, 1, 2, 3
_TILT, _SPAN, _FACE, _LAT_ROLL, _EAR_ROLL = 0, 1, 2, 3, 4
_NAN = float("nan")
# The tilt judged is the one the top fifth of a visit's readings reach (the held part of a bend).
_TILT_QUANTILE = 0.8


def _cat_cow_evidence(pose: Pose, context: ViewContext, config: RepConfig) -> Evidence:
    trunk = trunk_signal(pose, context)
    roll = shoulder_roll_deg(pose, context) if context.view != "side" else _NAN
    hands = hand_height(pose, context, config.min_visibility)
    elbows = hand_height(pose, context, config.min_visibility, ELBOWS)
    return (
        _NAN if trunk is None else trunk,
        roll,
        _NAN if hands is None else hands,
        _NAN if elbows is None else elbows,
    )


def _cat_cow_confirms(visit: Visit, config: RepConfig) -> bool:
    # Cat-cow keeps the hands in the lap: a pole reached with a hand up at the shoulders or
    # above is an arm raise, a sip or a scratch, whatever the head and chest did meanwhile.
    # An elbow at the shoulder line or above says the same where the model loses the hands.
    raised = sum(
        1 for e in visit.evidence if e[_HANDS] > -config.cat_cow_hand_clearance or e[_ELBOWS] > 0.0
    )
    if visit.evidence and raised >= config.cat_cow_hands_up_share * len(visit.evidence):
        return False
    rolls = visit.evidence_values(_ROLL)
    if not rolls:
        return True
    return float(statistics.median(abs(r) for r in rolls)) <= config.cat_cow_max_roll_deg


def _mean_trunk(visit: Visit) -> float | None:
    values = visit.evidence_values(_TRUNK)
    return sum(values) / len(values) if values else None


def _cat_cow_pair(first: Visit, second: Visit, config: RepConfig) -> bool:
    # The shoulders must move too: a nod or talking moves only the head.
    cow, cat = (first, second) if first.pole == 1 else (second, first)
    cow_trunk, cat_trunk = _mean_trunk(cow), _mean_trunk(cat)
    if cow_trunk is None or cat_trunk is None:
        return True
    # Each pole moves the trunk its own way from the neutral (cow lifts and opens the chest,
    # cat rounds it): a shift of the whole body (toward the screen, to one side) that raises
    # the trunk signal at both poles is not cat-cow, however the head moved meanwhile.
    on_own_sides = cow_trunk > 0.0 > cat_trunk
    return on_own_sides and cow_trunk - cat_trunk >= config.cat_cow_min_trunk


def _lateral_evidence(pose: Pose, context: ViewContext, config: RepConfig) -> Evidence:
    tilt = trunk_tilt_deg(pose, context, config.min_visibility)
    # Only from the front: from an oblique camera a side bend sways the shoulders toward or
    # away from it, which rescales their span and moves the nose across the ears.
    front = context.view == "front"
    span_px = shoulder_span_px(pose)
    span = math.log(span_px) if front and span_px > 1e-6 else _NAN
    face = head_turn(pose, context) if front else None
    roll = shoulder_roll_deg(pose, context) if front else _NAN
    ears = ear_roll_deg(pose, context) if front and context.both_ears else _NAN
    return (_NAN if tilt is None else tilt, span, _NAN if face is None else face, roll, ears)


def _lateral_confirms(visit: Visit, config: RepConfig) -> bool:
    tilts = [visit.pole * t for t in visit.evidence_values(_TILT)]
    if tilts and len(tilts) >= len(visit.evidence) // 2:
        # The hips show: the trunk's own tilt decides (raised arms and a rotation leave it).
        return float(np.quantile(tilts, _TILT_QUANTILE)) >= config.lateral_min_tilt_deg
    # Hips hidden (a desk webcam): the roll counts unless the trunk turned, which shortens the
    # shoulder line's span beyond the cosine of its roll, and turns the face along.
    turned = [
        e[_SPAN] - math.log(max(math.cos(math.radians(e[_LAT_ROLL])), 0.1))
        for e in visit.evidence
        if not math.isnan(e[_SPAN]) and not math.isnan(e[_LAT_ROLL])
    ]
    if turned and statistics.median(turned) < math.log(config.lateral_min_width_ratio):
        return False
    # The trunk carries a side bend and the head rolls along with it; ears rolled several
    # times further than the shoulders are a neck stretch or a head leant on a hand.
    rolls = [
        (visit.pole * e[_EAR_ROLL], visit.pole * e[_LAT_ROLL])
        for e in visit.evidence
        if not math.isnan(e[_EAR_ROLL]) and not math.isnan(e[_LAT_ROLL])
    ]
    if rolls:
        head = statistics.median(ear for ear, _ in rolls)
        trunk = statistics.median(shoulders for _, shoulders in rolls)
        if head > config.lateral_max_head_roll_ratio * max(trunk, 0.0):
            return False
    if abs(visit.peak) >= config.lateral_clear_bend_deg:
        return True  # more roll than a turned trunk's perspective can make
    faces = visit.evidence_values(_FACE)
    return not faces or abs(statistics.median(faces)) <= config.lateral_max_face_turn


CAT_COW_MOVEMENT = RepMovement(
    movement=CountableMovement.CAT_COW,
    text=CAT_COW_TEXT,
    signal=cat_cow_signal,
    landmarks=cat_cow_landmarks,
    evidence=_cat_cow_evidence,
    confirms=_cat_cow_confirms,
    gate=lambda c: c.cat_cow_min_excursion,
    quiet=lambda c: c.quiet_cat_cow,
    recognise_range=lambda c: c.recognise_cat_cow_range,
    nominal_range=lambda c: c.nominal_cat_cow_range,
    return_fraction=lambda c: c.cat_cow_return_fraction,
    pair_confirms=_cat_cow_pair,
    min_pair_range=lambda c: c.cat_cow_min_range,
    pair_rejected_remark=NECK_ONLY,
    pauses_on_head_turn=True,
    absolute_evidence=(_HANDS, _ELBOWS),
    judged_phases=2,
)

LATERAL_FLEXION_MOVEMENT = RepMovement(
    movement=CountableMovement.LATERAL_FLEXION,
    text=LATERAL_FLEXION_TEXT,
    signal=lateral_signal,
    landmarks=lateral_landmarks,
    evidence=_lateral_evidence,
    confirms=_lateral_confirms,
    gate=lambda c: c.lateral_min_excursion_deg,
    quiet=lambda c: c.quiet_lateral_deg,
    recognise_range=lambda c: c.recognise_lateral_deg,
    nominal_range=lambda c: c.nominal_lateral_deg,
    neutral_limit=lambda c: c.lateral_max_neutral_deg,
    # The lean (out, hold, back to half-way) carries the tempo; the return depends on the
    # pause that follows.
    judged_phases=1,
    sided=True,
)


# The one registry of what coach can count: the movement library, the prompts, the exercise
# tracker and the CLI all ask it. To add a countable movement, add its RepMovement here.
_TABLE: Mapping[str, RepMovement] = MappingProxyType(
    {m.movement: m for m in (CAT_COW_MOVEMENT, LATERAL_FLEXION_MOVEMENT)}
)


def movement_table() -> Mapping[str, RepMovement]:
    """Every countable movement's table entry, by name."""
    return _TABLE


def rep_movement(name: str) -> RepMovement:
    """The table entry of a countable movement; ConfigError for any other name."""
    if name not in _TABLE:
        raise ConfigError(f"coach cannot count {name!r}; countable: {', '.join(COUNTABLE)}")
    return _TABLE[name]
