"""Provides body-scale-normalised motion of the upper body over a window of stream time."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coach.records import Landmark, Pose

L = Landmark

# The trunk and upper arms: what moves when the user shifts, stretches or stands up.
# Wrists and hands are left out on purpose (typing and mouse work move them all day), and
# the face counts once, through the ears, so talking does not read as moving.
CORE = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_EAR, L.RIGHT_EAR)
_MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class MotionMetrics:
    """How much the user's trunk moved recently, in shoulder widths (scale-free)."""

    travel: float
    """Path length of the core landmarks over the window / shoulder width (median landmark)."""
    spread: float
    """Largest distance of the core's centre from its window mean / shoulder width."""
    arms_up: bool
    """Both wrists above the nose: a stretch."""
    window_s: float
    """Stream time the window really covers."""


def _core_points(pose: Pose) -> tuple[npt.NDArray[np.float64], float] | None:
    """Core landmark positions in pixels and the shoulder width, or None if not visible."""
    visible = [lm for lm in CORE if pose.visibility[lm] >= _MIN_VISIBILITY]
    if L.LEFT_SHOULDER not in visible or L.RIGHT_SHOULDER not in visible:
        return None
    points = np.stack([pose.pixels(lm) for lm in CORE])
    width = float(np.linalg.norm(points[0] - points[1]))
    if width <= 1.0:
        return None
    # Hidden landmarks hold the shoulders' centre so they add no false motion.
    centre = (points[0] + points[1]) / 2.0
    for i, lm in enumerate(CORE):
        if lm not in visible:
            points[i] = centre
    return points, width


def arms_overhead(pose: Pose) -> bool:
    """Whether both wrists are visible above the nose (arms raised in a stretch)."""
    wrists = (L.LEFT_WRIST, L.RIGHT_WRIST)
    if min(pose.visibility[list(wrists)]) < _MIN_VISIBILITY:
        return False
    nose_y = pose.image_xyz[L.NOSE, 1]
    return bool(all(pose.image_xyz[w, 1] < nose_y for w in wrists))


class MotionMeter:
    """Sliding window of core landmark positions → motion metrics, driven by timestamps."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._history: deque[tuple[float, npt.NDArray[np.float64], float]] = deque()

    def reset(self) -> None:
        """Forget the window (the user left: their return is not a movement)."""
        self._history.clear()

    def update(self, pose: Pose | None, t_s: float) -> MotionMetrics | None:
        """Add one pose; returns the window's motion (None without a usable pose)."""
        core = _core_points(pose) if pose is not None else None
        if core is None or pose is None:
            return None
        points, width = core
        self._history.append((t_s, points, width))
        while self._history and self._history[0][0] < t_s - self.window_s:
            self._history.popleft()
        if len(self._history) < 2:
            return MotionMetrics(0.0, 0.0, arms_overhead(pose), 0.0)
        stack = np.stack([p for _, p, _ in self._history])  # (frames, landmarks, 2)
        scale = float(np.median([w for _, _, w in self._history]))
        steps = np.linalg.norm(np.diff(stack, axis=0), axis=2)  # (frames-1, landmarks)
        # The median landmark: one glitching point (an ear behind hair) cannot fake a move.
        travel = float(np.median(steps.sum(axis=0))) / scale
        centres = stack.mean(axis=1)
        spread = float(np.max(np.linalg.norm(centres - centres.mean(axis=0), axis=1))) / scale
        window = self._history[-1][0] - self._history[0][0]
        return MotionMetrics(travel, spread, arms_overhead(pose), window)
