"""Provides camera-view detection (front, oblique, side) from the shoulder line's yaw."""

from __future__ import annotations

import math
from collections import Counter, deque

from coach.landmarks import Landmark
from coach.records import Pose

FRONT_MAX_YAW_DEG = 30.0
SIDE_MIN_YAW_DEG = 65.0


def shoulder_yaw_deg(pose: Pose) -> float:
    """Angle of the shoulder line away from the image plane: 0 facing the camera, 90 side-on.

    World landmarks are metric and view-independent, so the depth difference between
    the shoulders gives the turn of the torso even when the 2D width alone is ambiguous.
    """
    left = pose.world_xyz[Landmark.LEFT_SHOULDER]
    right = pose.world_xyz[Landmark.RIGHT_SHOULDER]
    dx = abs(float(left[0] - right[0]))
    dz = abs(float(left[2] - right[2]))
    return math.degrees(math.atan2(dz, dx))


def classify_view(yaw_deg: float) -> str:
    """Name the view for a shoulder yaw."""
    if yaw_deg < FRONT_MAX_YAW_DEG:
        return "front"
    if yaw_deg < SIDE_MIN_YAW_DEG:
        return "oblique"
    return "side"


class ViewDetector:
    """Majority vote of the view over the last samples, so one odd frame does not flip it."""

    def __init__(self, window: int = 25) -> None:
        self._recent: deque[str] = deque(maxlen=window)
        self._overall: Counter[str] = Counter()

    def update(self, pose: Pose) -> str:
        """Add one pose; return the current view."""
        view = classify_view(shoulder_yaw_deg(pose))
        self._recent.append(view)
        self._overall[view] += 1
        return self.current or view

    @property
    def current(self) -> str | None:
        """The view most seen recently, or None before any pose."""
        if not self._recent:
            return None
        return Counter(self._recent).most_common(1)[0][0]

    @property
    def overall(self) -> str | None:
        """The view most seen over the whole run."""
        if not self._overall:
            return None
        return self._overall.most_common(1)[0][0]
