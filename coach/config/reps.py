"""Provides the rep counting settings (the [reps] config section)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RepConfig:
    """How reps are counted, judged and recognised (the [reps] config section)."""

    enter_fraction: float = 0.35
    """A pole (cow, cat, left, right) is entered at this fraction of the user's usual excursion."""
    exit_fraction: float = 0.2
    """...and left again below this fraction (the gap is the hysteresis)."""
    exit_gate_fraction: float = 0.5
    """The exit level is never closer to neutral than this fraction of the absolute gate."""
    cat_cow_return_fraction: float = 0.45
    """Cat-cow also leaves a pole once back to this fraction of its peak, so a slightly
    misjudged neutral cannot hold the last rep open (a pulse inside a pole is harmless:
    a rep needs both poles)."""
    cat_cow_min_excursion: float = 0.04
    """Absolute gate: smallest cow or cat excursion from neutral (signal units: head widths
    scaled to an average adult's shoulder width; a full cow is about 0.2, a full cat 0.3)."""
    cat_cow_min_range: float = 0.13
    """Smallest cow-to-cat range of a counted cat-cow rep (signal units)."""
    cat_cow_min_trunk: float = 0.04
    """The shoulders must also move: cow's trunk signal above cat's by at least this (shoulder
    widths; a full rep moves it about 0.3, a nod or talking not at all), and each pole on its
    own side of the neutral's (cow above, cat below)."""
    cat_cow_hand_clearance: float = 0.25
    """Cat-cow keeps the hands in the lap, a shoulder width or more below the shoulder line: a
    hand less than this far below it (shoulder widths), level with it or above, is an arm
    raise or a hand at the face (so is an elbow at the shoulder line or above)..."""
    cat_cow_hands_up_share: float = 0.2
    """...and a pole with a hand that high for this share of its samples is not cat-cow."""
    lateral_min_excursion_deg: float = 4.0
    """Absolute gate: smallest side bend that can count, degrees (a full one is 15-20)."""
    lateral_min_tilt_deg: float = 5.0
    """Where the hips show, the trunk itself must tilt this far toward the bend (degrees of
    the shoulders' midpoint over the hips): raised arms roll the shoulder line, not the trunk
    (a real bend tilts it 15-30 degrees; arm raises and trunk rotation under 5)."""
    lateral_min_width_ratio: float = 0.85
    """With the hips hidden, the shoulder line's across-image span must keep this share of its
    neutral span (after the cosine of its roll): turning the trunk foreshortens it (30 degrees
    leave 0.87, 40 degrees 0.77), a side bend does not."""
    lateral_max_face_turn: float = 0.1
    """With the hips hidden, a bend must not turn the face this far across (nose along the ear
    line, in head widths scaled to an average shoulder width; about 20 degrees): a side bend
    rolls the head (up to 0.09 seen from a camera above and near), a 30-degree trunk rotation
    turns it (0.11 and more), on every build."""
    lateral_max_head_roll_ratio: float = 3.0
    """With the hips hidden, the ear line may roll at most this many times as far as the
    shoulder line toward the bend: the head rolls along with a side bend (about once the
    shoulders' roll on every build and camera), a neck stretch or a head leant on a hand rolls
    the ears 4-6 times as far as the shoulders."""
    lateral_clear_bend_deg: float = 20.0
    """...unless it rolls at least this far: a turned trunk seen from a low camera rolls the
    shoulder line about a third of the turn (12 degrees at 40), a real bend much more."""
    lateral_max_neutral_deg: float = 8.0
    """A side-bend neutral has the shoulder line within this many degrees of level, so a set
    that starts at once is not measured from its own first bend."""
    prior_window_s: float = 0.5
    """...and then half a second of quiet makes a neutral (rests between bends are short)."""
    neutral_prior_wait_s: float = 20.0
    """With no plausible neutral by then, any quiet second is taken (a tilted camera)."""
    cat_cow_max_roll_deg: float = 10.0
    """A cat-cow pole with the shoulder line rolled further than this is a side bend or a
    one-arm reach, not cat-cow (cat-cow keeps the shoulders level)."""
    min_phase_s: float = 0.3
    """A pole must be held at least this long to count (a jitter spike or a jerk does not)."""
    max_phase_s: float = 15.0
    """Held longer than this, a pole is a new resting posture: the neutral moves there."""
    max_pair_gap_s: float = 2.0
    """Cat-cow: the second pole must begin within this after the first ended, or the first
    is dropped (two unrelated half-moves are not a rep)."""
    partial_fraction: float = 0.6
    """A rep below this fraction of the user's usual range is counted and noted as partial."""
    usual_window_reps: int = 5
    """The usual range is the median over this many recent reps."""
    baseline_window_s: float = 1.0
    """Neutral is the median of the signal over this much quiet time."""
    quiet_cat_cow: float = 0.04
    """The signal counts as quiet (for taking the neutral) when it spans less than this."""
    quiet_lateral_deg: float = 1.5
    """...or, for lateral flexion, less than this many degrees."""
    baseline_tau_s: float = 3.0
    """Time constant of following a drifting neutral while the user rests between reps."""
    max_bridge_s: float = 2.0
    """A tracking gap up to this long keeps the phase in progress; a longer one restarts it."""
    min_visibility: float = 0.5
    """Landmarks a signal reads must be at least this visible, or counting pauses."""
    max_head_turn: float = 0.12
    """Cat-cow pauses while the nose moves this far along the ear line from its neutral place
    (head widths scaled to an average shoulder width; about 30 degrees of head turn)."""
    max_side_head_turn: float = 0.2
    """...or, from the side, while the ear-nose length changes by this fraction."""
    view_switch_s: float = 2.0
    """A different camera view must persist this long before the counter re-takes neutral."""
    smoothing_samples: int = 3
    """Median filter length on the rep signal, samples (removes single-frame spikes)."""
    smoothing_alpha: float = 0.5
    """Then an exponential average with this weight on the newest sample (less jitter)."""
    noise_gate_factor: float = 4.0
    """The absolute gates rise to this many times the landmark noise measured at rest."""
    baseline_wait_s: float = 2.0
    """With no quiet second by then, neutral is the median of the last second anyway."""
    target_phase_s: float = 2.0
    """The intended duration of each phase."""
    slow_down_phase_s: float = 1.2
    """A phase shorter than this gets "slow down"."""
    keep_moving_phase_s: float = 5.0
    """A phase longer than this gets "a little faster"."""
    slouch_points: float = 15.0
    """A start-of-set posture this many posture points worse than neutral is a slouched base."""
    recognise_min_reps: int = 3
    """Unprompted: consecutive rhythmic reps that make a recognised set."""
    recognise_min_period_s: float = 1.5
    """Unprompted reps must be at least this far apart..."""
    recognise_max_period_s: float = 10.0
    """...and at most this far apart."""
    recognise_period_ratio: float = 2.5
    """Longest / shortest interval among the recognising reps (rhythm)."""
    recognise_phase_ratio: float = 2.5
    """...and longest / shortest duration of each judged phase among them (tempo): a set keeps
    its tempo (within 1.4 on every build and camera), a desk sitter's leans do not (one held
    9 s between two of 2-3 s)."""
    recognise_range_ratio: float = 0.5
    """Smallest / largest range among the recognising reps (consistency)."""
    recognise_cat_cow_range: float = 0.2
    """Unprompted cat-cow reps must span at least this (signal units)."""
    recognise_lateral_deg: float = 7.0
    """Unprompted side bends must reach at least this many degrees."""
    recognise_dominance: float = 2.0
    """The recognised movement's range (as a share of its nominal full range) must beat the
    other movement's signal span by this factor, so a side bend seen from the side is not cat-cow."""
    set_end_idle_s: float = 6.0
    """An unprompted set ends after this long without movement (no phase held or ended)."""
    nominal_cat_cow_range: float = 0.5
    """A full cow-to-cat range, signal units (only compares movements with each other)."""
    nominal_lateral_deg: float = 16.0
    """A full side bend, degrees (only compares movements with each other)."""
