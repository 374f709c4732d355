"""Provides pure landmark geometry: pixel positions, spans, angles and ratios."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from coach.landmarks import Landmark
from coach.records import Pose

Vec = npt.NDArray[np.float64]


def px(pose: Pose, landmark: Landmark) -> Vec:
    """A landmark's (x, y) in pixels, so both axes share one unit."""
    return pose.pixels(landmark)


def midpoint(pose: Pose, a: Landmark, b: Landmark) -> Vec:
    """Midpoint of two landmarks, pixels."""
    return (px(pose, a) + px(pose, b)) / 2.0


def span(pose: Pose, a: Landmark, b: Landmark) -> float:
    """Distance between two landmarks, pixels."""
    return float(np.linalg.norm(px(pose, a) - px(pose, b)))


def roll_deg(pose: Pose, left: Landmark, right: Landmark) -> float:
    """Tilt of the line from `right` to `left` against the horizontal, degrees.

    Positive when the person's left point sits lower in the image (image y points down).
    """
    d = px(pose, left) - px(pose, right)
    if d[0] < 0:  # the person's left is on the image's left: mirrored camera
        d = -d
    return math.degrees(math.atan2(float(d[1]), float(d[0])))


def angle_from_vertical_deg(lower: Vec, upper: Vec) -> float:
    """Angle of the segment lower→upper away from straight up, degrees (signed by x)."""
    d = upper - lower
    return math.degrees(math.atan2(float(d[0]), float(-d[1])))
