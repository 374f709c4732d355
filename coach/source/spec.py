"""Provides what the user asked to read: a source kind and target, parsed from a SOURCE argument."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from enum import StrEnum

from coach.errors import SourceError
from coach.pose.landmark_file import SUFFIXES
from coach.safe.printable import printable
from coach.safe.redact import redact
from coach.source.cameras import is_camera_name

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_FILE_URL = re.compile(r"^file://", re.IGNORECASE)
MAX_CAMERA_INDEX = 9999
"""A camera index is a device number (/dev/videoN on Linux); anything larger is a typo."""


class SourceKind(StrEnum):
    """What a SOURCE argument names."""

    CAMERA = "camera"
    VIDEO = "video"
    STREAM = "stream"
    LANDMARKS = "landmarks"


@dataclass(frozen=True)
class SourceSpec:
    """What the user asked to read: a camera index, a video path, a stream URL or landmarks."""

    kind: SourceKind
    target: str
    """The index, path or URL as given: only the capture opens it (it may hold a password)."""

    @property
    def is_live(self) -> bool:
        """Live sources run in real time and drop stale frames."""
        return self.kind in (SourceKind.CAMERA, SourceKind.STREAM)

    def __str__(self) -> str:
        """What may be shown, logged or stored: a stream's credentials are redacted."""
        if self.kind is SourceKind.CAMERA:
            return printable(f"camera {self.target.removeprefix('camera:')}")
        return printable(redact(self.target))  # a file name may hold terminal escapes


def _file_url_path(text: str) -> str:
    """The path of a file:// URL (a stream reader would replay it forever as "reconnecting").

    Raises:
        SourceError: it names another machine.
    """
    url = urllib.parse.urlsplit(text)
    if url.netloc not in ("", "localhost"):
        raise SourceError(
            f"{printable(redact(text))} names a file on another machine; "
            "give a local file path instead"
        )
    return urllib.parse.unquote(url.path)


def parse_source(text: str) -> SourceSpec:
    """Classify a SOURCE argument: "0", a stable id, /dev/videoN or camera:NAME is a webcam,
    "rtsp://..." a stream, else a file.

    A file:// URL is the file it names.

    Raises:
        SourceError: a camera index out of range, or a file URL of another machine.
    """
    if text.isascii() and text.isdigit():
        if len(text) > len(str(MAX_CAMERA_INDEX)) or int(text) > MAX_CAMERA_INDEX:
            raise SourceError(
                f"camera index {printable(text[:12])}{'…' if len(text) > 12 else ''} is out of "
                f"range: give 0 to {MAX_CAMERA_INDEX} (the first webcam is 0)"
            )
        return SourceSpec(SourceKind.CAMERA, text)
    if is_camera_name(text):  # looked up when the camera is opened
        return SourceSpec(SourceKind.CAMERA, text)
    if _FILE_URL.match(text):
        text = _file_url_path(text)
    elif _URL.match(text):
        return SourceSpec(SourceKind.STREAM, text)
    lower = text.lower()
    if lower.endswith(SUFFIXES):
        return SourceSpec(SourceKind.LANDMARKS, text)
    return SourceSpec(SourceKind.VIDEO, text)
