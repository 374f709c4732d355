"""Provides the slouch detector: metrics in, a debounced upright/slouched/away/unknown state out."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from coach.config import SlouchConfig
from coach.decisions.hysteresis import DebouncedSwitch
from coach.features.posture import PostureMetrics
from coach.records import PostureState, Reason, SlouchCue
from coach.statuses import SlouchStatus

# Readings kept of the slouch a nudge is about (2 minutes at the posture rate of 5 a second).
_HELD_MAX = 600
# "I'm sitting fine" speaks of how the user sits now: the readings of the last few seconds.
_RECENT_S = 5.0
# ...and moves them this share of the way to the measure's exit threshold, not to zero: the
# posture reads as upright with room (the analysis rests), and a slump a little deeper fires.
_RECENTRE_TO = 0.5


@dataclass(frozen=True)
class Band:
    """One measure's upright band: slouched at or above `enter`, upright at or below `exit`."""

    enter: float
    exit: float


class SlouchDetector:
    """Separate enter/exit thresholds plus minimum durations: a glance or a cough never flips it.

    Every threshold is the configured one times the sensitivity level's scale, times the
    widening the user asked for ("I'm sitting fine") for that measure.
    """

    def __init__(
        self,
        config: SlouchConfig,
        away_after_s: float,
        widened: Mapping[SlouchCue, float] | None = None,
        recentred: Mapping[SlouchCue, float] | None = None,
    ) -> None:
        """`away_after_s` is the stationary tracker's ([stationary] away_after_s), so the posture
        state and the activity turn "away" together; `widened`: each measure's band widening
        kept in the profile (1 = none); `recentred`: this session's re-centring so far."""
        self.config = config
        self.away_after_s = away_after_s
        self.scale = config.threshold_scale
        self.widened: dict[SlouchCue, float] = {
            cue: min(max(1.0, f), 1.0 + config.widen_max) for cue, f in (widened or {}).items()
        }
        self.recentred: dict[SlouchCue, float] = dict(recentred or {})
        """Points taken off forward head / rounding this session: where the user said an
        upright posture read worse than the calibration ("I'm sitting fine")."""
        # Forward head and rounding while the current slouch lasts: what the user means when
        # they answer its nudge "I'm sitting fine" (a few values a second, only while slouched).
        self._held: deque[tuple[float, float, float]] = deque(maxlen=_HELD_MAX)
        self._slouched = DebouncedSwitch(config.enter_after_s, config.exit_after_s)
        self._state = PostureState.UNKNOWN
        self._since_s = 0.0
        self._last_seen_s: float | None = None
        self._last_measured_s: float | None = None
        self._reason: Reason | None = None
        self._why: SlouchCue | None = None
        self._worse_since_s: float | None = None
        self._glance_over_s: float | None = None
        """When the glance wait of the slouch now in evidence ended (None: it had none)."""

    def band(self, cue: SlouchCue, sigma: float = math.nan) -> Band:
        """The upright band of one measure now (`sigma`: its calibration jitter, points)."""
        c = self.config
        enter, exit_ = {
            SlouchCue.SCORE: (c.score_enter, c.score_exit),
            SlouchCue.FORWARD_HEAD: (c.forward_head_enter, c.forward_head_exit),
            SlouchCue.ROUNDING: (c.rounding_enter, c.rounding_exit),
            SlouchCue.OUT_OF_FRAME: (c.rounding_enter, c.rounding_exit),
            SlouchCue.SIDE_LEAN: (c.side_lean_deg, 0.75 * c.side_lean_deg),
        }[cue]
        factor = self.widened.get(cue, 1.0)
        if cue is not SlouchCue.SIDE_LEAN:
            factor *= self.scale
        enter, exit_ = enter * factor, exit_ * factor
        if math.isfinite(sigma) and c.cue_sigmas * sigma > enter:
            # A measure that wandered at calibration needs a change beyond its wander.
            exit_, enter = exit_ * c.cue_sigmas * sigma / enter, c.cue_sigmas * sigma
        return Band(enter, exit_)

    def _readings(self, metrics: PostureMetrics) -> list[tuple[SlouchCue, float, Band]]:
        sigma_fh, sigma_tr = metrics.sigmas
        forward = metrics.forward_head - self.recentred.get(SlouchCue.FORWARD_HEAD, 0.0)
        rounding_now = metrics.thoracic_rounding - self.recentred.get(SlouchCue.ROUNDING, 0.0)
        score = metrics.weights[0] * forward + metrics.weights[1] * rounding_now
        readings = [
            (SlouchCue.SCORE, score, self.band(SlouchCue.SCORE)),
            (SlouchCue.FORWARD_HEAD, forward, self.band(SlouchCue.FORWARD_HEAD, sigma_fh)),
            (SlouchCue.ROUNDING, rounding_now, self.band(SlouchCue.ROUNDING, sigma_tr)),
        ]
        rounding = readings[2][2]
        if rounding_now > rounding.exit and math.isfinite(metrics.lean_deg):
            # Slumped to one side: the head is low and the shoulder line tilted.
            readings.append(
                (SlouchCue.SIDE_LEAN, abs(metrics.lean_deg), self.band(SlouchCue.SIDE_LEAN))
            )
        return readings

    def _evidence(
        self, readings: list[tuple[SlouchCue, float, Band]], pitch_change: float, t_s: float
    ) -> bool | None:
        fired = [
            (value / band.enter, cue)
            for cue, value, band in readings
            if value >= band.enter and self._agreed(cue, readings)
        ]
        self._glance_over_s = None
        if fired:
            self._why = max(fired)[1]
            if self._worse_since_s is None:
                self._worse_since_s = t_s
            # A glance at the keyboard nods the head down for a few seconds; a head brought
            # down and kept there is a slouch however it is pitched. Duration tells them apart.
            nodded = abs(pitch_change) >= self.config.glance_pitch
            if nodded and not self._slouched.state:
                if t_s - self._worse_since_s < self.config.glance_s:
                    return None
                # The hold starts when the wait ended, not at the first look after it.
                self._glance_over_s = self._worse_since_s + self.config.glance_s
            return True
        if all(value <= band.exit for _, value, band in readings):
            self._worse_since_s = None
            return False
        return None

    def score_clear(self, metrics: PostureMetrics) -> bool:
        """Whether the score (re-centred) is below its exit threshold (widened, scaled)."""
        _, score, band = self._readings(metrics)[0]
        return score < band.exit

    def _agreed(self, cue: SlouchCue, readings: list[tuple[SlouchCue, float, Band]]) -> bool:
        """Whether a measure past its threshold may carry a slouch: once the user re-centred a
        measure, it (or the score it feeds) counts only while the other measure also reads
        past its exit threshold, so a drift they said was upright never flags on its own."""
        if not self.recentred or cue not in (
            SlouchCue.SCORE,
            *self.recentred,
        ):
            return True
        others = [
            value > band.exit
            for c, value, band in readings
            if c in (SlouchCue.FORWARD_HEAD, SlouchCue.ROUNDING) and c is not cue
        ]
        return all(others)

    def _worse(self, metrics: PostureMetrics) -> Reason:
        # A slumped upper back carries the head forward with it, so when the back is
        # rounded past its threshold it is the root cause and the back movement answers it.
        if metrics.thoracic_rounding >= metrics.forward_head:
            return Reason.THORACIC_ROUNDING
        return Reason.FORWARD_HEAD

    def _set(self, state: PostureState, t_s: float) -> None:
        if state is not PostureState.SLOUCHED:
            self._held.clear()
        if state is not self._state:
            self._state = state
            self._since_s = t_s

    @property
    def current(self) -> SlouchStatus:
        """The verdict as it stands (held while the user does a set)."""
        return SlouchStatus(self._state, self._since_s, self._reason, self._why_now())

    def _why_now(self) -> SlouchCue | None:
        return self._why if self._state is PostureState.SLOUCHED else None

    def widen(self, cue: SlouchCue, reading: float | None = None) -> Band:
        """The user says they sit fine: widen `cue`'s band by a step, or to just above
        `reading` (the measure when they said it), never past `widen_max` in total."""
        c = self.config
        factor = self.widened.get(cue, 1.0)
        wanted = factor * (1.0 + c.widen_step)
        current = self.band(cue).enter
        if reading is not None and math.isfinite(reading) and current > 0:
            wanted = max(wanted, factor * 1.1 * reading / current)
        self.widened[cue] = min(wanted, 1.0 + c.widen_max)
        return self.band(cue)

    def recentre(self, cue: SlouchCue, metrics: PostureMetrics | None) -> float:
        """The user says they sit fine: take the measure that fired (forward head or rounding;
        both for the score) as upright up to what it read over the last few seconds (its 90th
        percentile: how they sit now, not one moment of it, nor a slump before), at most
        `recentre_max` points in all; returns the largest re-centring now in force (points).

        That reading is moved halfway to the measure's exit threshold, not to zero: the posture
        they called fine reads as upright with room, and a slump only a little deeper fires."""
        last_s = self._held[-1][0] if self._held else 0.0
        held = [(fh, tr) for t_s, fh, tr in self._held if t_s >= last_s - _RECENT_S]
        if metrics is not None:
            held.append((metrics.forward_head, metrics.thoracic_rounding))
        held = [h for h in held if all(math.isfinite(v) for v in h)]
        if not held:
            return max(self.recentred.values(), default=0.0)
        typical = np.percentile(np.array(held), 90, axis=0)
        measures = {
            SlouchCue.FORWARD_HEAD: float(typical[0]),
            SlouchCue.ROUNDING: float(typical[1]),
        }
        sigmas = dict(zip(measures, metrics.sigmas, strict=True)) if metrics is not None else {}
        chosen = list(measures) if cue is SlouchCue.SCORE else [cue]
        for each in chosen:
            raw = measures.get(each)
            if raw is None:
                continue
            raw -= _RECENTRE_TO * self.band(each, sigmas.get(each, math.nan)).exit
            if raw <= 0.0:
                continue
            offset = min(self.config.recentre_max, max(self.recentred.get(each, 0.0), raw))
            self.recentred[each] = offset
        return max(self.recentred.values(), default=0.0)

    def settle_upright(self, t_s: float) -> None:
        """The user says they sit fine: upright from now (a new slouch must build up again)."""
        self._slouched.reset(False, t_s)
        self._worse_since_s = None
        self._reason = self._why = None
        if self._state is PostureState.SLOUCHED:
            self._set(PostureState.UPRIGHT, t_s)

    def firing(self, metrics: PostureMetrics | None, slump: float | None) -> list[SlouchCue]:
        """The measures at or past their enter threshold in these metrics."""
        if metrics is None:
            out_of_frame = slump is not None and slump >= self.band(SlouchCue.OUT_OF_FRAME).enter
            return [SlouchCue.OUT_OF_FRAME] if out_of_frame else []
        return [cue for cue, value, band in self._readings(metrics) if value >= band.enter]

    def reading(
        self, metrics: PostureMetrics | None, slump: float | None, cue: SlouchCue
    ) -> float | None:
        """The value of one measure in these metrics (None: not measured)."""
        if cue is SlouchCue.OUT_OF_FRAME:
            return slump
        if metrics is None:
            return None
        return next((v for c, v, _ in self._readings(metrics) if c is cue), None)

    def update(
        self,
        metrics: PostureMetrics | None,
        person_seen: bool,
        t_s: float,
        slump: float | None = None,
    ) -> SlouchStatus:
        """Advance to `t_s` with this frame's metrics (None: no trustworthy measure).

        `slump`: with no metrics, how far the head has sunk (rounding points) while the
        shoulders are below the frame; sunk past the rounding band, that is a slouch."""
        c = self.config
        self._glance_over_s = None
        if person_seen:
            self._last_seen_s = t_s
        evidence: bool | None
        if metrics is not None:
            evidence = self._evidence(self._readings(metrics), metrics.pitch_change, t_s)
            worse = self._worse(metrics)
        elif slump is not None and slump >= self.band(SlouchCue.OUT_OF_FRAME).enter:
            self._why = SlouchCue.OUT_OF_FRAME
            evidence, worse = True, Reason.THORACIC_ROUNDING
        else:
            evidence, worse = None, Reason.THORACIC_ROUNDING
        if metrics is not None or evidence is not None:
            self._last_measured_s = t_s
            slouched = self._slouched.update(evidence, t_s, self._glance_over_s)
            if slouched and metrics is not None:
                self._held.append((t_s, metrics.forward_head, metrics.thoracic_rounding))
            if metrics is None and slouched:
                worse = self._reason or worse
            self._reason = worse if slouched else None
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
        return SlouchStatus(self._state, self._since_s, self._reason, self._why_now())
