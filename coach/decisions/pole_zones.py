"""Provides the pole zones: thresholds, hysteresis and minimum durations on an excursion."""

from __future__ import annotations

import itertools
import statistics
from collections import deque
from dataclasses import dataclass

from coach.config import RepConfig
from coach.decisions.rep_table import RepMovement, Visit

# A signal this close (in time, at its speed) to a pole when tracking stops was entering it.
_HEADING_S = 0.2


@dataclass
class ExcursionSample:
    t_s: float
    value: float
    """Signal minus the neutral in force at that time."""


class PoleZones:
    """Hysteresis on one movement's excursion from its neutral: when a pole is entered and left.

    The input side (view, visibility, smoothing, taking the neutral) is `PoleTracker`'s, which
    builds on this; here the excursion is judged against levels learnt from the user's reps.
    """

    def __init__(self, spec: RepMovement, config: RepConfig) -> None:
        self.spec = spec
        self.config = config
        self.gate = spec.gate(config)
        self.baseline: float | None = None
        self.visit: Visit | None = None
        self.peaks: dict[int, deque[float]] = {
            1: deque(maxlen=config.usual_window_reps),
            -1: deque(maxlen=config.usual_window_reps),
        }
        self.samples: deque[ExcursionSample] = deque()
        self.noise = 0.0
        """Spread of the raw signal at rest (standard deviation, signal units)."""
        self._armed: dict[int, bool] = {1: True, -1: True}

    # --- thresholds -------------------------------------------------------------------------

    def usual(self, pole: int) -> float | None:
        """The user's usual excursion toward a pole (median of recent peaks), if known."""
        own = self.peaks[pole]
        if own:
            return float(statistics.median(own))
        other = self.peaks[-pole]
        return float(statistics.median(other)) if other else None

    @property
    def gate_now(self) -> float:
        """The absolute gate, raised when the landmarks are noisier than usual."""
        return max(self.gate, self.config.noise_gate_factor * self.noise)

    def enter_level(self, pole: int) -> float:
        usual = self.usual(pole)
        gate = self.gate_now
        return max(gate, self.config.enter_fraction * usual) if usual else gate

    def exit_level(self, pole: int) -> float:
        usual = self.usual(pole)
        floor = self.config.exit_gate_fraction * self.gate_now
        return max(floor, self.config.exit_fraction * usual) if usual else floor

    # --- hysteresis -------------------------------------------------------------------------

    def _zones(self, excursion: float, t_s: float, gap_s: float) -> list[Visit]:
        ended: list[Visit] = []
        visit = self.visit
        min_phase_s = self.config.min_phase_s
        left_pole = 0
        if visit is not None:
            visit.hidden_s += gap_s
            pole = visit.pole
            # Time in the pole, counting half of any tracking gap (it may have left earlier).
            dwell_s = t_s - visit.enter_s - 0.5 * visit.hidden_s
            exit_level = self.exit_level(pole)
            return_fraction = self.spec.return_fraction(self.config)
            if return_fraction is not None:
                exit_level = max(exit_level, return_fraction * abs(visit.peak))
            if pole * excursion < exit_level:
                if visit.confirmed or (visit.hidden_s > 0.0 and dwell_s >= min_phase_s):
                    visit.confirmed = True
                    visit.exit_s = t_s
                    self._finish_visit(visit)
                    ended.append(visit)
                self.visit = visit = None
                left_pole = pole
                gap_s = 0.0  # the gap belonged to the visit that just ended
            else:
                if pole * excursion > pole * visit.peak:
                    visit.peak, visit.peak_s = excursion, t_s
                if not visit.confirmed and dwell_s >= min_phase_s:
                    visit.confirmed = True
                if visit.confirmed and dwell_s > self.config.max_phase_s:
                    # Held far too long for a rep: this is where the user now rests.
                    self.visit = None
                    self._rest_here(excursion)
                    return ended
        for pole in (1, -1):
            # A pole left early (cat-cow leaves at a fraction of its peak) re-arms only
            # once the signal is back inside the usual exit band.
            if pole == left_pole:
                self._armed[pole] = False
            elif pole * excursion < self.exit_level(pole):
                self._armed[pole] = True
        if visit is None and gap_s >= min_phase_s:
            hidden = self._hidden_peak(excursion, t_s, gap_s)
            if hidden is not None and hidden.exit_s > 0.0:
                self._finish_visit(hidden)
                ended.append(hidden)
                return ended
            if hidden is not None:
                self.visit = hidden
                return ended
        if visit is None:
            for pole in (1, -1):
                if not self._armed[pole]:
                    continue
                if pole * excursion > self.enter_level(pole):
                    # Entered during a tracking gap: it may have happened any time in it.
                    self.visit = Visit(
                        pole=pole,
                        enter_s=t_s - gap_s,
                        peak=excursion,
                        peak_s=t_s,
                        hidden_s=gap_s,
                    )
                    self.visit.confirmed = 0.5 * gap_s >= min_phase_s
                    break
        return ended

    def _hidden_peak(self, excursion: float, t_s: float, gap_s: float) -> Visit | None:
        """A pole the signal was entering when tracking stopped, visited unseen.

        Before the gap the signal was outside the neutral band and moving fast enough to pass
        the enter level within a fifth of a second. If it is still out on that side after the
        gap, the visit goes on; if it is back in the band, the visit ended unseen (exit_s set).
        """
        if len(self.samples) < 3:
            return None
        before, last = self.samples[-3], self.samples[-2]
        dt_s = last.t_s - before.t_s
        if dt_s <= 0.0:
            return None
        for pole in (1, -1):
            speed = pole * (last.value - before.value) / dt_s
            heading_in = pole * last.value + speed * _HEADING_S > self.enter_level(pole)
            if not heading_in or pole * last.value <= self.exit_level(pole):
                continue
            visit = Visit(
                pole=pole,
                enter_s=t_s - gap_s,
                peak=pole * max(self.usual(pole) or 0.0, self.enter_level(pole)),
                peak_s=t_s - 0.5 * gap_s,
                confirmed=True,
                hidden_s=gap_s,
            )
            if pole * excursion > self.exit_level(pole):
                return visit  # still out there: the visit goes on
            if gap_s >= 2.0 * self.config.min_phase_s:
                # Back already: there and back unseen (time enough for both).
                visit.exit_s = visit.down_s = t_s
                visit.up_s = visit.enter_s
                return visit
        return None

    def _finish_visit(self, visit: Visit) -> None:
        # Phase boundaries are where the signal crosses half the peak (midpoints of the moves).
        half = 0.5 * abs(visit.peak)
        pole = visit.pole
        before = [s for s in self.samples if visit.enter_s - 30.0 <= s.t_s <= visit.peak_s]
        visit.up_s = visit.enter_s
        for a, b in reversed(list(itertools.pairwise(before))):
            if pole * a.value < half <= pole * b.value:
                visit.up_s = _interpolate(a, b, half, pole)
                break
        after = [s for s in self.samples if visit.peak_s <= s.t_s <= visit.exit_s]
        visit.down_s = visit.exit_s
        for a, b in itertools.pairwise(after):
            if pole * a.value >= half > pole * b.value:
                visit.down_s = _interpolate(a, b, half, pole)
                break

    def _rest_here(self, excursion: float) -> None:
        """The user holds a new posture (they sat up, or sank): it is the neutral now."""
        self._rebase(excursion)

    def _rebase(self, shift: float) -> None:
        """Move the neutral by `shift`, keeping stored excursions relative to it."""
        assert self.baseline is not None
        self.baseline += shift
        for sample in self.samples:
            sample.value -= shift


def _interpolate(a: ExcursionSample, b: ExcursionSample, level: float, pole: int) -> float:
    va, vb = pole * a.value, pole * b.value
    if vb == va:
        return b.t_s
    frac = (level - va) / (vb - va)
    return a.t_s + min(1.0, max(0.0, frac)) * (b.t_s - a.t_s)
