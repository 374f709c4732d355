"""Provides how far the user's trunk moved recently, in shoulder widths, from frame timestamps.

The measure is a displacement, not a path length: the trunk's centre (the shoulders'
midpoint) is summarised by its median over each half of a short window, and the two
medians are compared. Landmark jitter averages out in the medians instead of adding up,
so neither jitter nor the frame rate changes the figure; only a real change of place does.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coach.features.geometry import span
from coach.landmarks import Landmark
from coach.records import Pose

L = Landmark

_MIN_VISIBILITY = 0.5
_MIN_PRESENCE = 0.5
_MIN_SHOULDER_WIDTH_PX = 1.0


@dataclass(frozen=True)
class MotionMetrics:
    """How far the user's trunk moved recently, in shoulder widths (scale-free)."""

    shift_widths: float
    """Distance between the trunk centre's median over the window's later half and over its
    earlier half / the window's median shoulder width."""
    arms_up: bool
    """Both wrists seen above the nose: a stretch."""
    window_s: float
    """Stream time the window really covers."""
    place_px: tuple[float, float]
    """Where the trunk centre is now (median over the window's later half), pixels."""
    width_px: float
    """The window's median shoulder width, pixels (the unit of every distance here)."""


def usable(pose: Pose, landmark: Landmark) -> bool:
    """Whether a landmark was really seen: visible, present and inside the frame.

    Many recordings fill visibility and presence in as 1.0, and the model guesses hidden
    points (elbows below the desk, out of frame), so the position must be checked too;
    unrecorded points sit at exactly (0, 0), which the strict bounds reject.
    """
    x, y = float(pose.image_xyz[landmark, 0]), float(pose.image_xyz[landmark, 1])
    return bool(
        pose.visibility[landmark] >= _MIN_VISIBILITY
        and pose.presence[landmark] >= _MIN_PRESENCE
        and 0.0 < x < 1.0
        and 0.0 < y < 1.0
    )


def trunk_position(pose: Pose) -> tuple[npt.NDArray[np.float64], float] | None:
    """The shoulders' midpoint and the shoulder width, pixels (None unless both are seen).

    Only the shoulders: hands type, the head talks and glances, and elbows are often
    hidden guesses; none of that is the trunk changing place.
    """
    if not (usable(pose, L.LEFT_SHOULDER) and usable(pose, L.RIGHT_SHOULDER)):
        return None
    left, right = pose.pixels(L.LEFT_SHOULDER), pose.pixels(L.RIGHT_SHOULDER)
    width_px = float(np.linalg.norm(left - right))
    if width_px <= _MIN_SHOULDER_WIDTH_PX:
        return None
    return (left + right) / 2.0, width_px


# One wrist this many shoulder widths above the nose is an arm reaching over the head.
_OVERHEAD_REACH_WIDTHS = 1.0


def arms_overhead(pose: Pose) -> bool:
    """Whether the arms are raised in a stretch: both wrists seen above the nose, or one arm
    reaching over the head (its wrist above the nose by more than a shoulder width, as in
    a seated side stretch)."""
    if not all(usable(pose, lm) for lm in (L.NOSE, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)):
        return False
    nose_y = float(pose.image_xyz[L.NOSE, 1])
    wrists = [w for w in (L.LEFT_WRIST, L.RIGHT_WRIST) if usable(pose, w)]
    above = [nose_y - float(pose.image_xyz[w, 1]) for w in wrists]
    if len(above) == 2 and min(above) > 0.0:
        return True
    # Heights are in the image's y unit: the shoulder width is put in the same unit.
    shoulder_w = span(pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER) / max(pose.image_size[1], 1)
    return any(a > _OVERHEAD_REACH_WIDTHS * shoulder_w for a in above)


class MotionMeter:
    """Sliding window of trunk positions → displacement across the window, driven by timestamps."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._history: deque[tuple[float, npt.NDArray[np.float64], float]] = deque()

    def reset(self) -> None:
        """Forget the window (the user left: their return is not a movement)."""
        self._history.clear()

    def update(self, pose: Pose | None, t_s: float) -> MotionMetrics | None:
        """Add one pose; returns the window's motion (None without a seen trunk)."""
        trunk = trunk_position(pose) if pose is not None else None
        if trunk is None or pose is None:
            return None
        self._history.append((t_s, *trunk))
        while self._history and self._history[0][0] < t_s - self.window_s:
            self._history.popleft()
        covered_s = t_s - self._history[0][0]
        split_s = t_s - self.window_s / 2.0
        earlier = [c for t, c, _ in self._history if t <= split_s]
        later = [c for t, c, _ in self._history if t > split_s] or [trunk[0]]
        # Medians: jitter and a glitching frame cancel out, whatever the frame rate.
        width_px = float(np.median([w for _, _, w in self._history]))
        place = np.median(np.stack(later), axis=0)
        shift = 0.0
        if earlier:
            shift = float(np.linalg.norm(place - np.median(np.stack(earlier), axis=0))) / width_px
        place_px = (float(place[0]), float(place[1]))
        return MotionMetrics(shift, arms_overhead(pose), covered_s, place_px, width_px)
