"""Provides timestamp-aware smoothing: a vectorised One-Euro filter for landmark jitter."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt

from coach.errors import ConfigError
from coach.records import Pose, PoseSample

Array = npt.NDArray[np.float64]


def _alpha(cutoff_hz: Array | float, dt_s: float) -> Array | float:
    # Exponential smoothing factor of a first-order low-pass at this cutoff and step.
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz))
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """One-Euro filter (Casiez et al., 2012) over an array of values, driven by timestamps.

    Slow movement is smoothed hard (little jitter), fast movement lightly (little lag).
    """

    def __init__(self, min_cutoff_hz: float, beta: float, d_cutoff_hz: float = 1.0) -> None:
        if min_cutoff_hz <= 0:
            raise ConfigError(
                f"[pose] smoothing_min_cutoff_hz must be more than 0, got {min_cutoff_hz!r}"
            )
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self._x: Array | None = None
        self._dx: Array | None = None
        self._t_s: float | None = None

    def reset(self) -> None:
        """Forget the history (after a gap, or a different person)."""
        self._x = self._dx = None
        self._t_s = None

    def update(self, x: npt.ArrayLike, t_s: float) -> Array:
        """Filter one observation taken at `t_s`; returns the smoothed values."""
        value = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t_s is None or self._dx is None or t_s <= self._t_s:
            self._x, self._dx, self._t_s = value.copy(), np.zeros_like(value), t_s
            return value.copy()
        dt_s = t_s - self._t_s
        dx = (value - self._x) / dt_s
        dx_hat = self._dx + _alpha(self.d_cutoff_hz, dt_s) * (dx - self._dx)
        cutoff = self.min_cutoff_hz + self.beta * np.abs(dx_hat)
        x_hat = self._x + _alpha(cutoff, dt_s) * (value - self._x)
        self._x, self._dx, self._t_s = x_hat, dx_hat, t_s
        return np.asarray(x_hat, dtype=np.float64)


class LandmarkSmoother:
    """Smooths a pose stream; restarts after a gap so a returning user is not dragged."""

    def __init__(self, min_cutoff_hz: float, beta: float, max_gap_s: float = 1.0) -> None:
        self._image = OneEuroFilter(min_cutoff_hz, beta)
        self._world = OneEuroFilter(min_cutoff_hz, beta)
        self.max_gap_s = max_gap_s
        self._last_t_s: float | None = None

    def update(self, sample: PoseSample) -> PoseSample:
        """Return the sample with smoothed landmarks (samples without a pose pass through)."""
        pose = sample.pose
        if pose is None:
            return sample
        if self._last_t_s is not None and sample.t_s - self._last_t_s > self.max_gap_s:
            self._image.reset()
            self._world.reset()
        self._last_t_s = sample.t_s
        image_xyz = self._image.update(pose.image_xyz, sample.t_s).astype(np.float32)
        world_xyz = self._world.update(pose.world_xyz, sample.t_s).astype(np.float32)
        smoothed: Pose = pose.with_landmarks(image_xyz, world_xyz)
        return dataclasses.replace(sample, pose=smoothed)
