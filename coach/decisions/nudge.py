"""Provides the posture nudge timing: a hold time before a nudge, a cooldown between nudges."""

from __future__ import annotations

from dataclasses import dataclass

from coach.config import NudgeConfig
from coach.decisions.slouch import PostureState, SlouchStatus
from coach.movements import Movement, MovementLibrary

_WHAT_WAS_SEEN = {
    "forward_head": "Your head has drifted forward of your shoulders",
    "thoracic_rounding": "Your upper back is rounding and your shoulders are rolling forward",
}


@dataclass(frozen=True)
class Nudge:
    """One prompt to the user: what was seen and which movement answers it."""

    t_s: float
    reason: str
    """"forward_head", "thoracic_rounding" (later: "stationary")."""
    movement: str
    """The movement's id in the library."""
    title: str
    message: str


# The movements that answer each posture problem most directly, in the order offered.
PRIMARY_MOVEMENTS: dict[str, tuple[str, ...]] = {
    "forward_head": ("neck-waves", "chin-tuck"),
    "thoracic_rounding": ("cat-cow", "scapular-retraction", "thoracic-extension"),
}


class MovementRotation:
    """Picks the movement answering a problem, never the same one twice in a row."""

    def __init__(self, library: MovementLibrary) -> None:
        self._library = library
        self._last_id: str | None = None
        self._turn: dict[str, int] = {}

    def choose(self, problem: str) -> Movement:
        """The next movement for `problem`."""
        answering = list(self._library.for_problem(problem))
        primary = [m for m in answering if m.id in PRIMARY_MOVEMENTS.get(problem, ())]
        candidates = primary or answering
        options = [m for m in candidates if m.id != self._last_id] or candidates
        if not options:
            raise ValueError(f"no movement answers {problem!r}")
        turn = self._turn.get(problem, 0)
        self._turn[problem] = turn + 1
        movement = options[turn % len(options)]
        self._last_id = movement.id
        return movement


def nudge_text(reason: str, held_s: float, movement: Movement) -> tuple[str, str]:
    """Title and message of a posture nudge."""
    minutes = max(1, round(held_s / 60.0))
    seen = _WHAT_WAS_SEEN.get(reason, "Your posture has changed")
    title = f"Posture check: try {movement.name.lower()}"
    message = (
        f"{seen} for about {minutes} min. Try {movement.name} ({movement.dose_text}): "
        f"{movement.cues[0]}"
    )
    return title, message


class PostureNudger:
    """Nudges once a slouch has lasted `hold_s`, then not again within `cooldown_s`."""

    def __init__(self, config: NudgeConfig, rotation: MovementRotation) -> None:
        self.config = config
        self._rotation = rotation
        self._last_nudge_s: float | None = None

    def next_in_s(self, status: SlouchStatus, t_s: float) -> float | None:
        """Seconds until the next nudge if the slouch goes on (None when not slouched)."""
        if status.state is not PostureState.SLOUCHED:
            return None
        due_s = status.since_s + self.config.hold_s
        if self._last_nudge_s is not None:
            due_s = max(due_s, self._last_nudge_s + self.config.cooldown_s)
        return max(0.0, due_s - t_s)

    def update(self, status: SlouchStatus, t_s: float) -> Nudge | None:
        """A nudge when one is due now, else None."""
        wait_s = self.next_in_s(status, t_s)
        if wait_s is None or wait_s > 0 or status.reason is None:
            return None
        self._last_nudge_s = t_s
        movement = self._rotation.choose(status.reason.value)
        title, message = nudge_text(status.reason.value, t_s - status.since_s, movement)
        return Nudge(t_s, status.reason.value, movement.id, title, message)
