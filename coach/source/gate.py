"""Provides the loop's gate as a source sees it, and the thumbnails it is asked with."""

from __future__ import annotations

from typing import Protocol

from coach.imaging import area_resize, bgr_to_grey
from coach.records import ImageArray, Look, SkippedFrame

# Thumbnails are an eighth of the picture each way (80 x 60 from 640 x 480): JPEG decodes
# straight to that size for a fraction of a full decode.
_THUMB_SHRINK = 8


class FrameGate(Protocol):
    """The loop's rate, asked by a source before it decodes a frame."""

    def is_due(self, t_s: float) -> bool:
        """Whether a frame at `t_s` would be looked at (not yet taken)."""

    def admit(self, t_s: float, thumb: ImageArray | None = None) -> Look:
        """Take the frame at `t_s`: whether it is analysed (decoded in full)."""


class EveryFrame:
    """No gate: every frame is analysed."""

    def is_due(self, t_s: float) -> bool:
        return True

    def admit(self, t_s: float, thumb: ImageArray | None = None) -> Look:
        return Look.ANALYSE


def thumbnail_size(width_px: int, height_px: int) -> tuple[int, int]:
    """The thumbnail's width and height for a picture's: an eighth each way, rounded down."""
    return max(width_px // _THUMB_SHRINK, 1), max(height_px // _THUMB_SHRINK, 1)


def thumbnail(image: ImageArray) -> ImageArray:
    """A tiny grey copy of a decoded frame, for the change detector."""
    height, width = image.shape[:2]
    # Shrunk before greyed: a sixty-fourth of the grey work, within a grey level of the other
    # order (grey is a weighted sum, so only the rounding differs).
    return bgr_to_grey(area_resize(image, *thumbnail_size(width, height)))


def skipped_frame(
    gate: FrameGate, t_s: float, index: int, thumb: ImageArray
) -> SkippedFrame | None:
    """Hand the frame at `t_s` to the gate: None when it is to be analysed (decoded)."""
    look = gate.admit(t_s, thumb)
    if look is Look.ANALYSE:
        return None
    return SkippedFrame(t_s=t_s, index=index, unchanged=look is Look.UNCHANGED)
