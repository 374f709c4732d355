"""Provides OpenCV's versions of coach.imaging's operations, to check and time the NumPy ones against."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from coach import imaging
from coach.imaging import Border, Matrix
from coach.pose import estimator
from coach.records import ImageArray

_BORDERS = {Border.CONSTANT: cv2.BORDER_CONSTANT, Border.REPLICATE: cv2.BORDER_REPLICATE}


def bgr_to_rgb(image: ImageArray) -> ImageArray:
    """cv2.cvtColor BGR2RGB."""
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def bgr_to_grey(image: ImageArray) -> ImageArray:
    """cv2.cvtColor BGR2GRAY (a grey image passes through)."""
    if image.ndim == 2:
        return image.copy()
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def area_resize(image: ImageArray, width_px: int, height_px: int) -> ImageArray:
    """cv2.resize with INTER_AREA."""
    resized = cv2.resize(image, (width_px, height_px), interpolation=cv2.INTER_AREA)
    return np.asarray(resized, dtype=np.uint8)


def affine_from_points(src_xy: npt.ArrayLike, dst_xy: npt.ArrayLike) -> Matrix:
    """cv2.getAffineTransform."""
    src = np.asarray(src_xy, dtype=np.float32).reshape(3, 2)
    dst = np.asarray(dst_xy, dtype=np.float32).reshape(3, 2)
    return np.asarray(cv2.getAffineTransform(src, dst), dtype=np.float64)


def warp_affine(
    image: ImageArray, matrix: npt.ArrayLike, side_px: int, border: Border
) -> ImageArray:
    """cv2.warpAffine, INTER_LINEAR, to a side_px square."""
    warped = cv2.warpAffine(
        image,
        np.asarray(matrix, dtype=np.float64).reshape(2, 3),
        (side_px, side_px),
        flags=cv2.INTER_LINEAR,
        borderMode=_BORDERS[border],
    )
    return np.asarray(warped, dtype=np.uint8)


@contextlib.contextmanager
def opencv_in_estimator() -> Iterator[None]:
    """Run the pose estimator on OpenCV's operations (as before issue 22) inside the block."""
    replacements: dict[str, Any] = {
        "affine_from_points": affine_from_points,
        "area_resize": area_resize,
        "bgr_to_grey": bgr_to_grey,
        "warp_affine": warp_affine,
    }
    saved = {name: getattr(estimator, name) for name in replacements}
    for name, replacement in replacements.items():
        assert saved[name] is getattr(imaging, name), f"the estimator no longer uses {name}"
        setattr(estimator, name, replacement)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(estimator, name, value)
