"""Provides the posture nudge timing: a hold time before a nudge, a cooldown between nudges."""

from __future__ import annotations

from coach.config import NudgeConfig
from coach.movements import Movement
from coach.records import PostureState, Reason
from coach.statuses import SlouchStatus

_WHAT_WAS_SEEN = {
    Reason.FORWARD_HEAD: "Your head has drifted forward of your shoulders",
    Reason.THORACIC_ROUNDING: "Your upper back is rounding and your shoulders are rolling forward",
}


def nudge_text(reason: Reason, held_s: float, movement: Movement) -> tuple[str, str]:
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
    """Times posture nudges: due once a slouch has lasted `hold_s`, not again within `cooldown_s`."""

    def __init__(self, config: NudgeConfig, cooldown_s: float) -> None:
        """`cooldown_s` is the prompts' ([prompts] cooldown_s): a posture nudge is a prompt."""
        self.config = config
        self.cooldown_s = cooldown_s
        self._last_nudge_s: float | None = None

    def reconfigure(self, config: NudgeConfig, cooldown_s: float) -> None:
        """New settings from here on (a nudge already sent keeps its cooldown)."""
        self.config = config
        self.cooldown_s = cooldown_s

    def next_in_s(self, status: SlouchStatus, t_s: float) -> float | None:
        """Seconds until the next nudge if the slouch goes on (None when not slouched)."""
        if status.state is not PostureState.SLOUCHED:
            return None
        due_s = status.since_s + self.config.hold_s
        if self._last_nudge_s is not None:
            due_s = max(due_s, self._last_nudge_s + self.cooldown_s)
        return max(0.0, due_s - t_s)

    def due(self, status: SlouchStatus, t_s: float) -> bool:
        """Whether a posture nudge is due now."""
        wait_s = self.next_in_s(status, t_s)
        return wait_s is not None and wait_s <= 0 and status.reason is not None

    def mark_nudged(self, t_s: float) -> None:
        """Record that a posture nudge went out (starts the cooldown)."""
        self._last_nudge_s = t_s
