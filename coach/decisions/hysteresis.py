"""Provides a debounced on/off switch: a state changes only after its condition has held long enough."""

from __future__ import annotations

# The longest stretch a change is dated back before the look that saw it: half the gap
# between looks at the slowest rate the coach runs at (1 a second).
_BACKDATE_MAX_S = 0.5
# A start the caller knows (a wait that ended between two looks) is taken at most one look gap
# at the slowest rate back: an older one is stale (the switch was not fed for a while).
_SINCE_MAX_S = 1.0


class DebouncedSwitch:
    """Turns on after `on_after_s` of continuous "on" evidence, off after `off_after_s` of "off".

    Evidence of None ("neither", e.g. between the enter and exit thresholds) keeps the
    state and resets both timers, which together with two thresholds gives hysteresis.

    Durations are of time, not of looks: evidence first seen at a look began somewhere
    since the look before, so it is dated midway between them (at most `_BACKDATE_MAX_S`
    back). Dated at the look itself, a change seen once a second would wait half a second
    longer on average than one seen five times a second.
    """

    def __init__(self, on_after_s: float, off_after_s: float, initial: bool = False) -> None:
        self.on_after_s = on_after_s
        self.off_after_s = off_after_s
        self.state = initial
        self.changed_at_s: float | None = None
        self._pending_since_s: float | None = None
        self._last_t_s: float | None = None

    def update(self, evidence: bool | None, t_s: float, since_s: float | None = None) -> bool:
        """Feed evidence seen at `t_s`; returns the (possibly new) state.

        `since_s`: when the caller knows the evidence began (a wait that ended between two
        looks); used when it falls between the last look and this one."""
        last_t_s, self._last_t_s = self._last_t_s, t_s
        if evidence is None or evidence == self.state:
            self._pending_since_s = None
            return self.state
        if self._pending_since_s is None:
            self._pending_since_s = _onset(last_t_s, t_s, since_s)
        needed_s = self.on_after_s if evidence else self.off_after_s
        # (A hair of slack: look times are sums of float steps, 11.9999... is 12.)
        if t_s - self._pending_since_s >= needed_s - 1e-9:
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
        self._last_t_s = t_s


def _onset(last_t_s: float | None, t_s: float, since_s: float | None) -> float:
    """When evidence first seen at `t_s` (the look before at `last_t_s`) most likely began."""
    if last_t_s is None or last_t_s >= t_s:
        return t_s
    if since_s is not None and max(last_t_s, t_s - _SINCE_MAX_S) < since_s <= t_s:
        return since_s
    return max((last_t_s + t_s) / 2, t_s - _BACKDATE_MAX_S)
