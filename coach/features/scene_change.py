"""Provides the cheapest cue there is: whether a tiny grey thumbnail changed since the last look."""

from __future__ import annotations

import numpy as np

from coach.records import ImageArray

Box = tuple[float, float, float, float]
"""A part of the picture: left, top, right, bottom, as fractions of its width and height."""


def changed_fraction(before: ImageArray, after: ImageArray, box: Box | None, step: float) -> float:
    """The share of pixels inside `box` (None: all) that differ by more than `step` grey levels.

    The median difference is taken out first, so the camera's exposure drifting darker
    or brighter is not a change; a person moving is. Thumbnails of different sizes (the
    camera reopened at another resolution) are wholly changed.
    """
    if before.shape != after.shape:
        return 1.0
    height, width = before.shape[:2]
    if box is not None:
        left, top, right, bottom = box
        x0 = min(max(int(left * width), 0), width - 1)
        y0 = min(max(int(top * height), 0), height - 1)
        x1 = max(min(int(np.ceil(right * width)), width), x0 + 1)
        y1 = max(min(int(np.ceil(bottom * height)), height), y0 + 1)
        before, after = before[y0:y1, x0:x1], after[y0:y1, x0:x1]
    difference = after.astype(np.int16) - before.astype(np.int16)
    difference -= np.int16(np.median(difference))
    return float(np.mean(np.abs(difference) > step))
