"""Provides the decisions' verdicts a Snapshot carries: the slouch state, a rep counter, the next prompt."""

from __future__ import annotations

from dataclasses import dataclass

from coach.records import PostureState, Reason, SlouchCue


@dataclass(frozen=True)
class SlouchStatus:
    """The detector's verdict at one moment."""

    state: PostureState
    since_s: float
    """When the current state began (stream time)."""
    reason: Reason | None
    """While slouched: the worse of the two posture problems, relative to its threshold."""
    why: SlouchCue | None = None
    """While slouched: the measure that carried the verdict."""


@dataclass(frozen=True)
class CounterStatus:
    """What a rep counter shows at one moment."""

    movement: str
    reps: int
    """Reps counted (both sides together for lateral flexion)."""
    per_side: dict[str, int] | None
    """Lateral flexion: reps per side ("left", "right": the person's own sides)."""
    phase: str
    """"neutral", "cow", "cat", "left" or "right"."""
    paused: bool
    """True while the landmarks cannot be trusted (nobody, hidden, head turned away)."""
    started: bool
    """False while an armed counter waits for the first clear phase."""
    breath_cue: str
    """What to do with the breath right now."""
    last_feedback: str | None
    """The latest coaching remark (tempo, range, start posture)."""
    target_reps: int | None
    """Reps wanted in the set (per side for lateral flexion), if any."""
    view: str | None = None
    """The camera view the counter reads ("front", "oblique", "side")."""
    prompt_id: int | None = None
    """The prompt that armed this counter (None: a guided or a recognised set)."""

    @property
    def in_progress(self) -> bool:
        """Whether this is a set the user is doing: a guided or recognised one, or a
        prompted one once a rep is counted. A counter a prompt armed waits for a set that
        may never come (sitting up after a nudge can even look like one beginning)."""
        return self.prompt_id is None or self.reps >= 1


@dataclass(frozen=True)
class PlannedPrompt:
    """What the dashboard says about the next prompt."""

    in_s: float
    reason: str
