"""Provides the sensitivity advice after calibration: how much each cue wandered, which level suits."""

from __future__ import annotations

import math
from dataclasses import dataclass

from coach.config import SlouchConfig
from coach.config.sections import LEVEL_SCALE, SENSITIVITY_MAX, SENSITIVITY_MIN
from coach.features.posture import NOISE_FLOOR, PostureCues, jitter_points

# A level suits when its slouch threshold is this many times the calibration's jitter of the
# score (a heuristic: sitting still, a normally jittering score crosses 2.5 sigma about once in
# 160 looks, and the 2 s the state needs to turn slouched absorbs such lone crossings).
SUGGEST_SIGMAS = 2.5


@dataclass(frozen=True)
class Advice:
    """What `coach calibrate` says about the calibration's steadiness."""

    jitter: dict[str, float]
    """Each cue's spread while the user sat tall (1 sigma), in slouch points (15 ~ a slouch)."""
    level: int
    """The most sensitive level whose threshold stays clear of that spread."""

    def lines(self, current: int) -> list[str]:
        """One or two lines for the user."""
        moved = ", ".join(f"{name} {value:.1f}" for name, value in self.jitter.items())
        first = f"While you sat tall the cues moved by (1 sigma, slouch points): {moved}."
        if self.level == current:
            return [first, f"Sensitivity {current} (the one set) suits this calibration."]
        return [
            first,
            f"Sensitivity {self.level} suits this calibration (set [slouch] sensitivity = "
            f"{self.level}; now {current}).",
        ]


def advise(neutral: PostureCues, noise: PostureCues | None, slouch: SlouchConfig) -> Advice:
    """How far each cue moved at calibration, and the level that suits it."""
    jitter = jitter_points(neutral, noise)
    finite = [v for v in jitter.values() if math.isfinite(v)]
    # The score averages the two nose cues weighted by their steadiness (inverse variance),
    # so its own spread is that of the pair together.
    pair = [jitter.get(k, math.nan) for k in ("nose over shoulders", "head height")]
    inverse = sum(1.0 / max(v, NOISE_FLOOR) ** 2 for v in pair if math.isfinite(v))
    spread = inverse**-0.5 if inverse > 0 else 0.0
    level = SENSITIVITY_MIN
    for candidate in range(SENSITIVITY_MAX, SENSITIVITY_MIN - 1, -1):
        if slouch.score_enter * LEVEL_SCALE[candidate] >= SUGGEST_SIGMAS * spread:
            level = candidate
            break
    # Never suggest above the configured default when the calibration gave no spread at all.
    if not finite:
        level = slouch.sensitivity
    return Advice({k: v for k, v in jitter.items() if math.isfinite(v)}, level)
