"""The two published peer slouch rules (dorso, UpSit), reimplemented for side-by-side scoring.

Both read the same landmark frames and the same calibration frames as the coach. Time
constants follow each app's own description (dorso at 10 fps: 5-frame average, 8 bad
frames to warn, 5 good to clear; UpSit: 2 s), expressed in seconds so any frame rate works.
`frame_by_frame=True` drops the time filtering, for key-press files that keep no timing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from coach.decisions.hysteresis import DebouncedSwitch
from coach.landmarks import Landmark
from coach.records import Pose

L = Landmark


@dataclass(frozen=True)
class PeerCues:
    """What the two rules read from one frame (None parts: landmark not usable)."""

    nose_y: float
    """Nose height, fraction of the frame height (down positive)."""
    nose_ratio: float
    """Nose height above the shoulder line / shoulder width (UpSit)."""
    ear_ratio: float | None
    """Ear span / shoulder width (UpSit), None where an ear is missing."""


def _usable(pose: Pose, landmark: Landmark) -> bool:
    x, y = pose.image_xyz[landmark, :2]
    return bool(pose.visibility[landmark] >= 0.5 and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0)


def peer_cues(pose: Pose) -> PeerCues | None:
    """The cues of one frame, or None where the nose or a shoulder is missing."""
    if not all(_usable(pose, lm) for lm in (L.NOSE, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)):
        return None
    nose, ls, rs = (pose.pixels(lm) for lm in (L.NOSE, L.LEFT_SHOULDER, L.RIGHT_SHOULDER))
    width = float(np.linalg.norm(ls - rs))
    if width <= 1.0:
        return None
    ear_ratio = None
    if _usable(pose, L.LEFT_EAR) and _usable(pose, L.RIGHT_EAR):
        ear_ratio = (
            float(np.linalg.norm(pose.pixels(L.LEFT_EAR) - pose.pixels(L.RIGHT_EAR))) / width
        )
    return PeerCues(
        nose_y=float(pose.image_xyz[L.NOSE, 1]),
        nose_ratio=float((ls[1] + rs[1]) / 2.0 - nose[1]) / width,
        ear_ratio=ear_ratio,
    )


def calibrate(cues: list[PeerCues]) -> PeerCues:
    """Median of the calibration frames' cues."""
    ears = [c.ear_ratio for c in cues if c.ear_ratio is not None]
    return PeerCues(
        nose_y=float(np.median([c.nose_y for c in cues])),
        nose_ratio=float(np.median([c.nose_ratio for c in cues])),
        ear_ratio=float(np.median(ears)) if ears else None,
    )


class Dorso:
    """dorso: nose 3% of the frame height below calibration (0.5 s average); warn after
    0.8 s bad, clear after 0.5 s good (8 and 5 frames at its 10 fps)."""

    DROP = 0.03
    AVERAGE_S = 0.5
    WARN_S = 0.8
    CLEAR_S = 0.5

    def __init__(self, neutral: PeerCues, frame_by_frame: bool = False) -> None:
        self.neutral = neutral
        self.frame_by_frame = frame_by_frame
        self._recent: deque[tuple[float, float]] = deque()
        self._bad = DebouncedSwitch(self.WARN_S, self.CLEAR_S)

    def update(self, cues: PeerCues | None, t_s: float) -> bool:
        """Whether the rule says slouched at `t_s`."""
        if cues is None:
            return self._bad.state
        if self.frame_by_frame:
            return cues.nose_y - self.neutral.nose_y > self.DROP
        self._recent.append((t_s, cues.nose_y))
        while self._recent[0][0] <= t_s - self.AVERAGE_S:
            self._recent.popleft()
        bad = float(np.mean([y for _, y in self._recent])) - self.neutral.nose_y > self.DROP
        return self._bad.update(bad, t_s)


class UpSit:
    """UpSit: nose height above the shoulder line per shoulder width drops 18%, or ear span
    per shoulder width rises 10%, against calibration, for 2 s."""

    NOSE_DROP = 0.18
    EAR_RISE = 0.10
    HOLD_S = 2.0

    def __init__(self, neutral: PeerCues, frame_by_frame: bool = False) -> None:
        self.neutral = neutral
        self.frame_by_frame = frame_by_frame
        self._bad = DebouncedSwitch(self.HOLD_S, self.HOLD_S)

    def _raw(self, cues: PeerCues) -> bool:
        n = self.neutral
        nose = n.nose_ratio > 0 and cues.nose_ratio < (1.0 - self.NOSE_DROP) * n.nose_ratio
        ears = (
            n.ear_ratio is not None
            and cues.ear_ratio is not None
            and cues.ear_ratio > (1.0 + self.EAR_RISE) * n.ear_ratio
        )
        return nose or ears

    def update(self, cues: PeerCues | None, t_s: float) -> bool:
        """Whether the rule says slouched at `t_s`."""
        if cues is None:
            return self._bad.state
        bad = self._raw(cues)
        if self.frame_by_frame:
            return bad
        return self._bad.update(bad, t_s)
