"""Provides the words of rep coaching: breath cues, per-rep remarks and the end-of-set summary."""

from __future__ import annotations

from dataclasses import dataclass

from coach.records import RepDetail

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

NECK_ONLY = "Move the whole spine, not just the neck: lift the chest, then round the back."
RESET_TO_NEUTRAL = "Reset to neutral first: sit tall, shoulders relaxed, then start the set."


@dataclass(frozen=True)
class CoachingText:
    """One movement's words: what its poles and phases are called, and its breath cues."""

    pole_names: dict[int, str]
    """The phase shown while in each pole (+1, -1), e.g. "cow" and "cat"."""
    phase_names: tuple[str, ...]
    """What each judged phase is called in tempo remarks, e.g. ("cow", "cat") or ("lean",)."""
    ready_cue: str
    """The breath cue before a rep, and between reps."""
    pole_cues: dict[int, str]
    """The breath cue while in each pole."""
    after_cues: dict[int, str]
    """The breath cue after leaving each pole, while the rep goes on."""

    def breath_cue(self, pole: int | None, after_pole: int | None) -> str:
        """The cue in `pole` (None: in neutral), `after_pole` being the pole last left."""
        if pole is not None:
            return self.pole_cues[pole]
        if after_pole is not None:
            return self.after_cues[after_pole]
        return self.ready_cue


CAT_COW_TEXT = CoachingText(
    pole_names={1: "cow", -1: "cat"},
    phase_names=("cow", "cat"),
    ready_cue="Inhale as you lift your chest into cow",
    pole_cues={
        1: "Inhale: lift your chest, let your back arch",
        -1: "Exhale: round your back, chin toward your chest",
    },
    after_cues={1: "Exhale as you round into cat", -1: "Inhale as you lift your chest into cow"},
)

LATERAL_FLEXION_TEXT = CoachingText(
    pole_names={1: "left", -1: "right"},
    phase_names=("lean",),
    ready_cue="Inhale: sit tall and reach up",
    pole_cues={1: "Exhale as you bend to the left", -1: "Exhale as you bend to the right"},
    after_cues={1: "Inhale as you come back up tall", -1: "Inhale as you come back up tall"},
)


def number_word(n: int) -> str:
    """A small count in words ("two"), larger ones in digits."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def balance_remark(per_side: dict[str, int]) -> str:
    """Side balance advice, e.g. "Left 4, right 2: add two to the right."."""
    left, right = per_side.get("left", 0), per_side.get("right", 0)
    if left == right:
        return f"Balanced: left {left}, right {right}."
    short, more = ("right", left - right) if left > right else ("left", right - left)
    return f"Left {left}, right {right}: add {number_word(more)} to the {short}."


def rep_remarks(
    n: int,
    phases: tuple[float, ...],
    text: CoachingText,
    rep: RepDetail,
    *,
    target_phase_s: float,
    slow_down_phase_s: float,
    keep_moving_phase_s: float,
) -> list[str]:
    """Remarks on rep number `n`: tempo (from its judged `phases`) and partial range."""
    out: list[str] = []
    fastest, slowest = min(phases), max(phases)
    if fastest < slow_down_phase_s:
        name = text.phase_names[phases.index(fastest)]
        out.append(
            f"Rep {n}: slow down, about {target_phase_s:g} s per phase "
            f"(the {name} took {fastest:.1f} s)."
        )
    elif slowest > keep_moving_phase_s:
        name = text.phase_names[phases.index(slowest)]
        out.append(f"Rep {n}: a little faster, keep moving (the {name} took {slowest:.1f} s).")
    if rep.partial:
        out.append(
            f"Rep {n}: partial, {rep.range:.0%} of your usual range; go as far as is comfortable."
        )
    return out


def set_summary(
    judged_phase_s: list[float],
    reps: list[RepDetail] | tuple[RepDetail, ...],
    *,
    per_side: dict[str, int] | None,
    target_reps: int | None,
    slouched_start: bool,
    target_phase_s: float,
    slow_down_phase_s: float,
    keep_moving_phase_s: float,
) -> list[str]:
    """End-of-set coaching: tempo, range, start posture, side balance, target."""
    if not reps:
        return ["No reps counted."]
    out: list[str] = []
    mean_s = sum(judged_phase_s) / len(judged_phase_s)
    if mean_s < slow_down_phase_s:
        out.append(
            f"Tempo {mean_s:.1f} s per phase: slow down to about {target_phase_s:g} s next time."
        )
    elif mean_s > keep_moving_phase_s:
        out.append(
            f"Tempo {mean_s:.1f} s per phase: keep moving, about {target_phase_s:g} s each way."
        )
    else:
        out.append(f"Good tempo: {mean_s:.1f} s per phase.")
    partial = sum(1 for rep in reps if rep.partial)
    if partial:
        out.append(f"{partial} of {len(reps)} reps were partial: move as far as is comfortable.")
    else:
        out.append("Full range on every rep.")
    if slouched_start:
        out.append("The set started from a slouch: sit tall before the next one.")
    if per_side is not None:
        out.append(balance_remark(per_side))
    if target_reps is not None:
        done = min(per_side.values()) if per_side is not None else len(reps)
        if done >= target_reps:
            out.append(f"Target reached: {target_reps} of {target_reps}.")
        else:
            out.append(f"{done} of {target_reps} done.")
    return out
