"""Provides the user tracker: which of the people in frame is the user, by position and size."""

from __future__ import annotations

import numpy as np

from coach.landmarks import Landmark
from coach.records import Pose


def shoulder_centre_and_width(pose: Pose) -> tuple[np.ndarray, float]:
    """Mid-shoulder point and shoulder width, both in normalised image units (x scaled to y)."""
    aspect = pose.image_size[0] / max(pose.image_size[1], 1)
    left = pose.image_xyz[Landmark.LEFT_SHOULDER, :2].astype(np.float64)
    right = pose.image_xyz[Landmark.RIGHT_SHOULDER, :2].astype(np.float64)
    left[0] *= aspect
    right[0] *= aspect
    return (left + right) / 2.0, float(np.linalg.norm(left - right))


# A seated person's nose sits about half a shoulder width above the shoulder line; twice that
# height is a body scale that survives turning sideways, where the shoulder width collapses.
_HEAD_HEIGHT_TO_WIDTH = 2.0


def centre_and_body_scale(pose: Pose) -> tuple[np.ndarray, float]:
    """Mid-shoulder point and the larger of the shoulder width and twice the nose's height
    above the shoulders, in normalised image units: the person's size whichever way they face."""
    centre, width = shoulder_centre_and_width(pose)
    if pose.visibility[Landmark.NOSE] < 0.5:
        return centre, width
    head_height = float(centre[1]) - float(pose.image_xyz[Landmark.NOSE, 1])
    return centre, max(width, _HEAD_HEIGHT_TO_WIDTH * head_height)


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


class UserIdentity:
    """Decides whether the followed person is the calibrated user, by place and size.

    While the user is continuously in view they may move anywhere; after a gap, whoever
    appears must match the calibrated user's shoulder width and place, so someone passing
    behind an empty chair is not taken for the user coming back.
    """

    def __init__(self, scale_tolerance: float, shift_widths: float, gap_s: float = 2.0) -> None:
        self.scale_tolerance = scale_tolerance
        self.shift_widths = shift_widths
        self.gap_s = gap_s
        self._reference: tuple[np.ndarray, float] | None = None
        self._last: tuple[float, np.ndarray, float] | None = None

    def set_reference(self, pose: Pose) -> None:
        """Remember the calibrated user's place and size."""
        self._reference = centre_and_body_scale(pose)

    @property
    def has_reference(self) -> bool:
        """Whether a calibrated reference exists."""
        return self._reference is not None

    def is_user(self, pose: Pose, t_s: float) -> bool:
        """Whether `pose` is the user (always True before calibration).

        Size is the body scale, not the shoulder width, so a user turning to the side (their
        shoulders then look narrow) is still the user.
        """
        centre, width = centre_and_body_scale(pose)
        if self._last is not None and t_s - self._last[0] <= self.gap_s:
            _, last_centre, last_width = self._last
            continuous = float(np.linalg.norm(centre - last_centre)) <= 0.5 * last_width and (
                abs(width / max(last_width, 1e-6) - 1.0) <= 0.25
            )
            if continuous:
                self._last = (t_s, centre, width)
                return True
        if self._reference is None:
            self._last = (t_s, centre, width)
            return True
        ref_centre, ref_width = self._reference
        matches = (
            abs(width / max(ref_width, 1e-6) - 1.0) <= self.scale_tolerance
            and float(np.linalg.norm(centre - ref_centre)) <= self.shift_widths * ref_width
        )
        if matches:
            self._last = (t_s, centre, width)
        return matches
