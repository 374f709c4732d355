"""Provides the setup watcher: notices that the camera or seat moved since calibration."""

from __future__ import annotations

import math

from coach.config import CalibrationConfig
from coach.decisions.hysteresis import DebouncedSwitch
from coach.features.posture import PostureCues


class SetupWatcher:
    """Flags a lasting shift or rescale of the whole body against the calibrated neutral.

    A slouch moves the head relative to the shoulders; a moved camera or chair moves and
    scales everything together, which is what this looks for.
    """

    def __init__(self, config: CalibrationConfig, aspect: float) -> None:
        self.config = config
        self.aspect = aspect
        """Frame width / height, to put x and y shifts in one unit."""
        self._moved = DebouncedSwitch(config.moved_after_s, config.moved_after_s / 2)

    def update(self, cues: PostureCues, calibrated: PostureCues, t_s: float) -> bool:
        """Whether the user should recalibrate."""
        width = calibrated.shoulder_width
        dx = (cues.shoulder_x - calibrated.shoulder_x) * self.aspect
        dy = cues.shoulder_y - calibrated.shoulder_y
        shift = math.hypot(dx, dy) / max(width, 1e-6)
        scale = cues.shoulder_width / max(width, 1e-6) - 1.0
        head_ratio_same = (
            math.isnan(cues.head_size)
            or abs(cues.head_size / calibrated.head_size - 1.0) < 0.5 * self.config.moved_scale
        )
        moved = shift > self.config.moved_shift or (
            abs(scale) > self.config.moved_scale and head_ratio_same
        )
        return self._moved.update(moved, t_s)

    def reset(self, t_s: float) -> None:
        """After recalibrating."""
        self._moved.reset(False, t_s)
