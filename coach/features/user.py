"""Provides the user tracker: which of the people in frame is the user, by position and size."""

from __future__ import annotations

import numpy as np

from coach.records import Landmark, Pose


def shoulder_centre_and_width(pose: Pose) -> tuple[np.ndarray, float]:
    """Mid-shoulder point and shoulder width, both in normalised image units (x scaled to y)."""
    aspect = pose.image_size[0] / max(pose.image_size[1], 1)
    left = pose.image_xyz[Landmark.LEFT_SHOULDER, :2].astype(np.float64)
    right = pose.image_xyz[Landmark.RIGHT_SHOULDER, :2].astype(np.float64)
    left[0] *= aspect
    right[0] *= aspect
    return (left + right) / 2.0, float(np.linalg.norm(left - right))


class UserSelector:
    """Follows one person: the largest at first, then whoever stays nearest in place and size.

    A passer-by behind the user is smaller and elsewhere, so they are not picked up;
    after the user has been gone for `forget_after_s` the largest person is taken again.
    """

    def __init__(self, forget_after_s: float = 10.0) -> None:
        self.forget_after_s = forget_after_s
        self._centre: np.ndarray | None = None
        self._width = 0.0
        self._last_seen_s: float | None = None

    def update(self, poses: list[Pose], t_s: float) -> Pose | None:
        """Pick the user among this frame's poses (None when nobody is there)."""
        if self._last_seen_s is not None and t_s - self._last_seen_s > self.forget_after_s:
            self._centre = None
        if not poses:
            return None
        measured = [shoulder_centre_and_width(p) for p in poses]
        if self._centre is None:
            best = int(np.argmax([w for _, w in measured]))
        else:
            costs = [
                float(np.linalg.norm(c - self._centre)) / max(self._width, 1e-3)
                + abs(np.log(max(w, 1e-3) / max(self._width, 1e-3)))
                for c, w in measured
            ]
            best = int(np.argmin(costs))
        self._centre, self._width = measured[best]
        self._last_seen_s = t_s
        return poses[best]
