"""Provides the adaptive neutral: quick toward better posture, very slow toward worse, frozen when slouched."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import Enum

from coach.features.posture import PostureCues, PostureMetrics

# Position and view are never adapted: comparing them with calibration shows a moved camera.
_FIXED = ("view_code", "shoulder_x", "shoulder_y")


class Drift(Enum):
    """How the current posture relates to the neutral, as judged by the metrics."""

    BETTER = "better"
    """Every cue at or better than neutral, one clearly: the neutral follows within a minute."""
    DEAD_BAND = "dead_band"
    """Every cue at or better than neutral: the neutral follows over hours (slow setup change)."""
    WORSE = "worse"
    """Any cue reads worse than neutral, a nod, or slouched: the neutral does not move."""


def judge_drift(
    metrics: PostureMetrics, slouched: bool, glance_pitch: float, better_margin: float
) -> Drift:
    """How the neutral may follow this posture: never toward one that any cue reads as worse.

    Every cue is checked on its own, so a cue that reads a real slouch as better (the
    shoulders of a trunk leaning toward a front camera, say) cannot pull the neutral with it.
    """
    if slouched or metrics.worst_cue > 0.0 or abs(metrics.pitch_change) >= glance_pitch:
        return Drift.WORSE
    if min(metrics.forward_head, metrics.thoracic_rounding) <= -better_margin:
        return Drift.BETTER
    return Drift.DEAD_BAND


@dataclass(frozen=True)
class AdaptiveNeutral:
    """The neutral posture: as calibrated, and as adapted since."""

    calibrated: PostureCues
    current: PostureCues


class NeutralAdapter:
    """Adapts the neutral asymmetrically so that a long slouch never becomes the new normal.

    The whole cue set moves together (never cue by cue), and only on the metrics' verdict,
    so jitter in one cue cannot ratchet the neutral toward its best-looking extreme.
    """

    def __init__(self, calibrated: PostureCues, better_tau_s: float, worse_tau_s: float) -> None:
        self.neutral = AdaptiveNeutral(calibrated, calibrated)
        self.better_tau_s = better_tau_s
        self.worse_tau_s = worse_tau_s
        self._last_t_s: float | None = None

    def update(self, cues: PostureCues, t_s: float, drift: Drift) -> AdaptiveNeutral:
        """Move the neutral toward `cues` for the time elapsed; returns the new neutral."""
        dt_s = 0.0 if self._last_t_s is None else max(0.0, t_s - self._last_t_s)
        self._last_t_s = t_s
        if drift is Drift.WORSE or dt_s == 0.0 or cues.view != self.neutral.current.view:
            return self.neutral
        tau_s = self.better_tau_s if drift is Drift.BETTER else self.worse_tau_s
        gain = 1.0 - math.exp(-dt_s / tau_s)
        current = asdict(self.neutral.current)
        for name, new in asdict(cues).items():
            old = current[name]
            if name in _FIXED or math.isnan(old) or math.isnan(new):
                continue
            current[name] = old + gain * (new - old)
        self.neutral = AdaptiveNeutral(self.neutral.calibrated, PostureCues(**current))
        return self.neutral
