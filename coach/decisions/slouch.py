"""Provides the slouch detector: metrics in, a debounced upright/slouched/away/unknown state out."""

from __future__ import annotations

from dataclasses import dataclass

from coach.config import SlouchConfig
from coach.decisions.hysteresis import DebouncedSwitch
from coach.features.posture import PostureMetrics
from coach.records import PostureState, Reason


@dataclass(frozen=True)
class SlouchStatus:
    """The detector's verdict at one moment."""

    state: PostureState
    since_s: float
    """When the current state began (stream time)."""
    reason: Reason | None
    """While slouched: the worse of the two posture problems, relative to its threshold."""


class SlouchDetector:
    """Separate enter/exit thresholds plus minimum durations: a glance or a cough never flips it."""

    def __init__(self, config: SlouchConfig, away_after_s: float) -> None:
        """`away_after_s` is the stationary tracker's ([stationary] away_after_s), so the posture
        state and the activity turn "away" together."""
        self.config = config
        self.away_after_s = away_after_s
        self._slouched = DebouncedSwitch(config.enter_after_s, config.exit_after_s)
        self._state = PostureState.UNKNOWN
        self._since_s = 0.0
        self._last_seen_s: float | None = None
        self._last_measured_s: float | None = None
        self._reason: Reason | None = None
        self._worse_since_s: float | None = None

    def _evidence(self, metrics: PostureMetrics, t_s: float) -> bool | None:
        c = self.config
        fh, tr = metrics.forward_head, metrics.thoracic_rounding
        if metrics.score >= c.score_enter or fh >= c.forward_head_enter or tr >= c.rounding_enter:
            if self._worse_since_s is None:
                self._worse_since_s = t_s
            # A glance at the keyboard nods the head down for a few seconds; a head brought
            # down and kept there is a slouch however it is pitched. Duration tells them apart.
            nodded = abs(metrics.pitch_change) >= c.glance_pitch
            if nodded and not self._slouched.state and t_s - self._worse_since_s < c.glance_s:
                return None
            return True
        if metrics.score <= c.score_exit and fh <= c.forward_head_exit and tr <= c.rounding_exit:
            self._worse_since_s = None
            return False
        return None

    def _worse(self, metrics: PostureMetrics) -> Reason:
        # A slumped upper back carries the head forward with it, so when the back is
        # rounded past its threshold it is the root cause and the back movement answers it.
        if metrics.thoracic_rounding >= metrics.forward_head:
            return Reason.THORACIC_ROUNDING
        return Reason.FORWARD_HEAD

    def _set(self, state: PostureState, t_s: float) -> None:
        if state is not self._state:
            self._state = state
            self._since_s = t_s

    @property
    def current(self) -> SlouchStatus:
        """The verdict as it stands (held while the user does a set)."""
        return SlouchStatus(self._state, self._since_s, self._reason)

    def update(self, metrics: PostureMetrics | None, person_seen: bool, t_s: float) -> SlouchStatus:
        """Advance to `t_s` with this frame's metrics (None: no trustworthy measure)."""
        c = self.config
        if person_seen:
            self._last_seen_s = t_s
        if metrics is not None:
            self._last_measured_s = t_s
            slouched = self._slouched.update(self._evidence(metrics, t_s), t_s)
            self._reason = self._worse(metrics) if slouched else None
            self._set(PostureState.SLOUCHED if slouched else PostureState.UPRIGHT, t_s)
        elif not person_seen and (
            self._last_seen_s is None or t_s - self._last_seen_s >= self.away_after_s
        ):
            self._slouched.reset(False, t_s)
            self._reason = None
            self._set(PostureState.AWAY, t_s)
        elif person_seen and (
            self._last_measured_s is None or t_s - self._last_measured_s >= c.unknown_after_s
        ):
            self._slouched.reset(False, t_s)
            self._reason = None
            self._set(PostureState.UNKNOWN, t_s)
        return SlouchStatus(self._state, self._since_s, self._reason)
