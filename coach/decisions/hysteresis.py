"""Provides a debounced on/off switch: a state changes only after its condition has held long enough."""

from __future__ import annotations


class DebouncedSwitch:
    """Turns on after `on_after_s` of continuous "on" evidence, off after `off_after_s` of "off".

    Evidence of None ("neither", e.g. between the enter and exit thresholds) keeps the
    state and resets both timers, which together with two thresholds gives hysteresis.
    """

    def __init__(self, on_after_s: float, off_after_s: float, initial: bool = False) -> None:
        self.on_after_s = on_after_s
        self.off_after_s = off_after_s
        self.state = initial
        self.changed_at_s: float | None = None
        self._pending_since_s: float | None = None

    def update(self, evidence: bool | None, t_s: float) -> bool:
        """Feed evidence seen at `t_s`; returns the (possibly new) state."""
        if evidence is None or evidence == self.state:
            self._pending_since_s = None
            return self.state
        if self._pending_since_s is None:
            self._pending_since_s = t_s
        needed_s = self.on_after_s if evidence else self.off_after_s
        if t_s - self._pending_since_s >= needed_s:
            self.state = evidence
            self.changed_at_s = t_s
            self._pending_since_s = None
        return self.state

    @property
    def pending_since_s(self) -> float | None:
        """When the evidence for the other state began (None when nothing is pending)."""
        return self._pending_since_s

    def reset(self, state: bool, t_s: float) -> None:
        """Force a state (e.g. after the user came back)."""
        if state != self.state:
            self.changed_at_s = t_s
        self.state = state
        self._pending_since_s = None
