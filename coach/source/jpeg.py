"""Provides the MJPEG helpers: JPEG packets taken undecoded, and decoded only when analysed."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from coach.records import ImageArray


def jpeg_thumbnail(packet: ImageArray) -> ImageArray | None:
    """A JPEG decoded straight to a grey eighth (the size `thumbnail` makes); None if broken."""
    small = cv2.imdecode(packet, cv2.IMREAD_REDUCED_GRAYSCALE_8)
    return None if small is None else np.asarray(small, dtype=np.uint8)


def decoded_jpeg(packet: ImageArray) -> ImageArray | None:
    """A JPEG decoded in full colour; None if it does not decode."""
    image = cv2.imdecode(packet, cv2.IMREAD_COLOR)
    return None if image is None else np.asarray(image, dtype=np.uint8)


def fourcc(capture: Any) -> str:
    """The four-letter codec code a capture reports (e.g. "MJPG")."""
    code = int(capture.get(cv2.CAP_PROP_FOURCC) or 0)
    return code.to_bytes(4, "little").decode("ascii", errors="replace")


class JpegPackets:
    """An FFmpeg MJPEG capture in raw mode: grab() takes a JPEG, retrieve() hands it over
    undecoded (a 1-D byte array), to be decoded by whoever analyses it."""

    def __init__(self, capture: Any) -> None:
        self._capture = capture

    def get(self, prop: int) -> float:
        return float(self._capture.get(prop))

    def grab(self) -> bool:
        return bool(self._capture.grab())

    def retrieve(self) -> tuple[bool, Any]:
        ok, packet = self._capture.retrieve()
        if not ok or packet is None or packet.size == 0:
            return False, None
        return True, packet.reshape(-1)

    def release(self) -> None:
        self._capture.release()
