"""Provides the events the decisions emit (prompts, outcomes, sets) for the views and the session log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Nudge:
    """A prompt to the user: what was seen and which movement answers it."""

    t_s: float
    reason: str
    """"forward_head", "thoracic_rounding" or "stationary"."""
    movement: str
    """The movement's id in the library."""
    title: str
    message: str
    prompt_id: int = 0
    """Numbers prompts within a run, so outcomes and sets can refer back to them."""
    extra_movements: tuple[str, ...] = ()
    """Further movements suggested with this prompt (e.g. a lower-body one after stillness)."""


@dataclass(frozen=True)
class PromptResolved:
    """What happened after a prompt."""

    t_s: float
    prompt_id: int
    outcome: str
    """"done", "snoozed", "skipped" or "ignored"."""
    correction_s: float | None = None
    """After a posture nudge: seconds until the user was upright again."""


@dataclass(frozen=True)
class RepDetail:
    """One counted repetition."""

    start_s: float
    end_s: float
    phase_s: tuple[float, ...]
    """Duration of each phase (e.g. cow, cat; or lean, return), seconds."""
    range: float
    """Range of motion in the counter's own units (fraction of the user's usual range = 1)."""
    partial: bool
    side: str | None = None
    """"left" or "right" for lateral flexion."""


@dataclass(frozen=True)
class SetCompleted:
    """A set of a countable movement, finished (guided, prompted or recognised unprompted)."""

    t_s: float
    movement: str
    reps: int
    start_s: float
    end_s: float
    per_side: dict[str, int] | None = None
    reps_detail: tuple[RepDetail, ...] = ()
    feedback: tuple[str, ...] = ()
    prompt_id: int | None = None
    """The prompt this set answered, if any."""
    recognised: bool = False
    """True when the set was done without a prompt and recognised from the movement."""


Event = Nudge | PromptResolved | SetCompleted
