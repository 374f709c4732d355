"""Provides the MJPEG helpers: JPEG pictures kept undecoded, and decoded only when analysed."""

from __future__ import annotations

import numpy as np
import simplejpeg

from coach.records import ImageArray
from coach.source.gate import thumbnail_size


def jpeg_thumbnail(jpeg: bytes) -> ImageArray | None:
    """A JPEG decoded straight to a grey eighth (the size `thumbnail` makes); None if broken."""
    try:
        height, width, _, _ = simplejpeg.decode_jpeg_header(jpeg)
        # The smallest size libjpeg scales to: 1/8 inside the DCT (a fraction of the cost of
        # a full decode), rounded up.
        small = simplejpeg.decode_jpeg(
            jpeg, colorspace="GRAY", min_width=1, min_height=1, strict=False
        )
    except ValueError:
        return None
    # `thumbnail` rounds down: drop the last part-block row and column where there is one.
    cols, rows = thumbnail_size(width, height)
    return np.ascontiguousarray(small[:rows, :cols, 0], dtype=np.uint8)


def decoded_jpeg(jpeg: bytes) -> ImageArray | None:
    """A JPEG decoded in full colour (BGR); None if it does not decode."""
    try:
        image = simplejpeg.decode_jpeg(jpeg, colorspace="BGR", strict=False)
    except ValueError:
        return None
    return np.ascontiguousarray(image, dtype=np.uint8)
