"""Provides the stationary tracker: still, moving or away, and the sitting timer that breaks reset."""

from __future__ import annotations

from dataclasses import dataclass

from coach.config import StationaryConfig
from coach.decisions.hysteresis import DebouncedSwitch
from coach.features.motion import MotionMetrics
from coach.records import Activity


@dataclass(frozen=True)
class ActivityStatus:
    """The tracker's verdict at one moment."""

    activity: Activity | None
    """None until the user has been seen once."""
    since_s: float
    """When the current activity began (backdated to the first evidence)."""
    seated_s: float
    """Time since the last real break (movement or time away), seconds."""
    since_movement_s: float
    """Time since the user last moved (or returned), seconds."""
    break_taken: bool
    """A break just reset the sitting timer at this moment."""


class StationaryTracker:
    """Turns trunk motion and presence into still / moving / away and a sitting timer.

    Fidgeting, typing, talking and a glance stay "still": they move the hands or the face,
    not the trunk's place. Standing, stretching (arms overhead) or shifting in the chair move
    it; they are breaks once they last, as is leaving. Thresholds are in shoulder widths and
    seconds only, so the verdict does not depend on the frame rate or the camera distance.
    """

    def __init__(self, config: StationaryConfig) -> None:
        self.config = config
        self._moving = DebouncedSwitch(config.moving_after_s, config.still_after_s)
        self._activity: Activity | None = None
        self._since_s = 0.0
        self._last_seen_s: float | None = None
        self._seated_since_s: float | None = None
        self._last_movement_s: float | None = None
        self._in_break = False
        self._seat_px: tuple[float, float] | None = None
        self._high_since_s: float | None = None

    def _standing(self, motion: MotionMetrics, t_s: float) -> bool:
        """Whether the trunk is far above the seat; follows the seat while the user sits settled."""
        c = self.config
        # Clearly settled, not merely below the moving threshold: a slow rise must not drag
        # the seat up with it.
        settled = motion.shift_widths < 0.5 * c.moving_shift_widths
        if self._seat_px is None:
            self._seat_px = motion.place_px
        # Image y grows downwards: a rise is the seat's y minus the current y.
        rise_widths = (self._seat_px[1] - motion.place_px[1]) / motion.width_px
        if rise_widths < c.standing_rise_widths:
            self._high_since_s = None
            if settled:
                self._seat_px = motion.place_px  # slumping, sitting up, sliding: the new seat
            return False
        if not settled:
            self._high_since_s = None
            return True
        if self._high_since_s is None:
            self._high_since_s = t_s
        if t_s - self._high_since_s >= c.reseat_after_s:
            self._seat_px, self._high_since_s = motion.place_px, None
            return False
        return True

    def _moving_evidence(self, motion: MotionMetrics, t_s: float) -> bool:
        c = self.config
        if motion.window_s < 0.75 * c.window_s:
            return motion.arms_up  # too little history to compare two halves fairly
        shifting = motion.shift_widths > c.moving_shift_widths
        standing = self._standing(motion, t_s)
        return motion.arms_up or shifting or standing

    def _become(self, activity: Activity, since_s: float) -> None:
        if activity is not self._activity:
            self._activity = activity
            self._since_s = since_s

    def bridge(self, start_s: float, end_s: float, rest: bool) -> None:
        """A stretch with no frames from `start_s` to `end_s`: with `rest` (locked, asleep)
        a break, so the sitting timer starts again; otherwise (paused, no camera) it counts as
        neither sitting nor away: the timer carries on from where it stopped."""
        if self._seated_since_s is None:
            return
        gap_s = max(0.0, end_s - start_s)
        if rest:
            self._seated_since_s = self._last_movement_s = end_s
        else:
            self._seated_since_s += gap_s
            if self._last_movement_s is not None:
                self._last_movement_s += gap_s
        if self._last_seen_s is not None:
            self._last_seen_s = max(self._last_seen_s + gap_s, self._last_seen_s)
        self._in_break = False
        self._moving.reset(False, end_s)
        self._seat_px = self._high_since_s = None
        self._since_s = end_s  # what is seen next is a stretch of its own

    def update(self, motion: MotionMetrics | None, user_seen: bool, t_s: float) -> ActivityStatus:
        """Advance to `t_s` (motion None: no usable trunk landmarks in this frame)."""
        c = self.config
        break_taken = False
        if user_seen:
            if self._activity is Activity.AWAY and self._last_seen_s is not None:
                gone_s = t_s - self._last_seen_s
                if gone_s >= c.away_break_s:
                    self._seated_since_s = t_s
                    break_taken = True
                self._last_movement_s = t_s
                self._moving.reset(False, t_s)
                self._seat_px = None  # wherever they sit down now is the seat
                self._become(Activity.STILL, t_s)
            self._last_seen_s = t_s
            if self._seated_since_s is None:
                self._seated_since_s = t_s
                self._last_movement_s = t_s
            if motion is not None:
                was_moving = self._moving.state
                pending = self._moving.pending_since_s
                moving = self._moving.update(self._moving_evidence(motion, t_s), t_s)
                if moving != was_moving:
                    # Backdate to when the evidence began, so intervals have true edges.
                    self._become(Activity.MOVING if moving else Activity.STILL, pending or t_s)
                elif self._activity is None:
                    self._become(Activity.STILL, t_s)
                if moving:
                    self._last_movement_s = t_s
                    if t_s - self._since_s >= c.moving_break_s:
                        break_taken = not self._in_break
                        self._in_break = True
                        # The sitting timer restarts when the movement break ends.
                        self._seated_since_s = t_s
                else:
                    self._in_break = False
        elif self._last_seen_s is not None and t_s - self._last_seen_s >= c.away_after_s:
            self._become(Activity.AWAY, self._last_seen_s)
        seated_since = self._seated_since_s if self._seated_since_s is not None else t_s
        last_move = self._last_movement_s if self._last_movement_s is not None else t_s
        long_gone = (
            self._activity is Activity.AWAY
            and self._last_seen_s is not None
            and t_s - self._last_seen_s >= c.away_break_s
        )
        return ActivityStatus(
            activity=self._activity,
            since_s=self._since_s,
            seated_s=0.0 if long_gone else max(0.0, t_s - seated_since),
            since_movement_s=max(0.0, t_s - last_move),
            break_taken=break_taken,
        )
