"""Decides how often to analyse a frame: rarely while nothing changes, more at once when it does."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from coach.config import LoopConfig
from coach.features.scene_change import Box
from coach.features.user import centre_and_body_scale
from coach.landmarks import Landmark
from coach.records import Pose

# The head and shoulders: they move when the user shifts, slouches, stands or starts a set,
# and stay put while the hands type (typing must not keep the analysis awake).
_WATCHED = (Landmark.NOSE, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)
_MIN_VISIBILITY = 0.5
# The thumbnail is watched over the head and shoulders and this many body widths around
# them: the user moving shows there, hands typing and people passing behind mostly do not.
_WATCH_MARGIN_WIDTHS = 0.4


@dataclass(frozen=True)
class LookPlan:
    """How the loop should look at frames from now on."""

    fps: float
    """Frames analysed per second (while quiet: at most)."""
    quiet: bool = False
    """Nothing is happening: run the pose model only when the picture changed in `watch`."""
    watch: Box | None = None
    """While quiet, the part of the picture where a change matters (None: all of it)."""


@dataclass(frozen=True)
class RateInputs:
    """What the rate depends on, from the stages that ran on this sample."""

    pose: Pose | None
    """The user's pose (None: not seen)."""
    slouch_score: float | None
    """The posture's slouch score (None: not measured): a posture on the move is a change."""
    exercising: bool
    """A set is armed or gathering: movement needs fine sampling."""
    settling: bool
    """Calibrating, or a prompt is open: something is about to happen."""
    away: bool
    posture_ok: bool = True
    """Upright and clear of the slouch threshold: nothing about the posture is pending."""


class AnalysisRate:
    """Picks how to look at frames from what the last samples showed.

    While the user sits upright and still, or is away, the plan is quiet: at most `idle_fps`
    looks a second, and only when the picture changed where the plan watches (the gate in
    `coach.pipeline` compares thumbnails). When the head or shoulders move by more than
    `wake_shift_widths` body widths between two looks, the slouch score moves by more than
    `wake_score`, or the user appears or disappears, it looks `posture_fps` times a second
    at once and for `settle_s` after the last change (the hysteresis that keeps it from
    flapping); a slouch under way is looked at `idle_fps` times a second. Sets get
    `exercise_fps`.
    """

    def __init__(self, config: LoopConfig) -> None:
        self._config = config
        self._last_pose: Pose | None = None
        self._last_score: float | None = None
        self._seen: bool | None = None
        self._awake_until_s: float | None = None
        self.plan = LookPlan(config.posture_fps)

    def update(self, inputs: RateInputs, t_s: float) -> LookPlan:
        """Take one analysed sample; return how to look from now on."""
        seen = inputs.pose is not None
        if self._seen is not None and seen != self._seen:
            self._wake(t_s)
        self._seen = seen
        if inputs.pose is not None:
            if self._last_pose is not None and self._moved(self._last_pose, inputs.pose):
                self._wake(t_s)
            self._last_pose = inputs.pose
        if inputs.slouch_score is not None and math.isfinite(inputs.slouch_score):
            if (
                self._last_score is not None
                and abs(inputs.slouch_score - self._last_score) > self._config.wake_score
            ):
                self._wake(t_s)
            self._last_score = inputs.slouch_score
        c = self._config
        if inputs.exercising:
            self.plan = LookPlan(c.exercise_fps)
        elif inputs.settling or (self._awake_until_s is not None and t_s < self._awake_until_s):
            self.plan = LookPlan(c.posture_fps)
        elif inputs.away:
            self.plan = LookPlan(min(c.away_fps, c.idle_fps), quiet=True)
        else:
            # A slouch under way is watched at the idle rate, so its nudge comes on time.
            watch = _watch_box(inputs.pose) if inputs.pose is not None else None
            self.plan = LookPlan(c.idle_fps, quiet=inputs.posture_ok, watch=watch)
        return self.plan

    def _wake(self, t_s: float) -> None:
        self._awake_until_s = t_s + self._config.settle_s

    def _moved(self, before: Pose, now: Pose) -> bool:
        visible = [
            lm
            for lm in _WATCHED
            if before.visibility[lm] >= _MIN_VISIBILITY and now.visibility[lm] >= _MIN_VISIBILITY
        ]
        if not visible:
            return True  # the head and shoulders went out of view: something happened
        _, scale = centre_and_body_scale(before)
        if scale <= 0:
            return True
        size = np.array(now.image_size, dtype=np.float64)
        shift = (now.image_xyz[visible, :2] - before.image_xyz[visible, :2]) * size / size[1]
        return bool(np.max(np.linalg.norm(shift, axis=1)) > self._config.wake_shift_widths * scale)


def _watch_box(pose: Pose) -> Box | None:
    """The head and shoulders with a margin, as fractions of the picture (None: not seen)."""
    visible = [lm for lm in _WATCHED if pose.visibility[lm] >= _MIN_VISIBILITY]
    if not visible:
        return None
    _, scale = centre_and_body_scale(pose)  # in picture heights
    width, height = pose.image_size
    margin_y = _WATCH_MARGIN_WIDTHS * scale
    margin_x = margin_y * height / max(width, 1)
    points = pose.image_xyz[visible, :2]
    left, top = np.min(points, axis=0)
    right, bottom = np.max(points, axis=0)
    return (
        max(float(left) - margin_x, 0.0),
        max(float(top) - 1.5 * margin_y, 0.0),  # the head reaches above the nose
        min(float(right) + margin_x, 1.0),
        min(float(bottom) + margin_y, 1.0),
    )
