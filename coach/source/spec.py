"""Provides what the user asked to read: a source kind and target, parsed from a SOURCE argument."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from coach.pose.landmark_file import SUFFIXES
from coach.safe.redact import redact
from coach.source.cameras import is_camera_name

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


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
            return f"camera {self.target.removeprefix('camera:')}"
        return redact(self.target)


def parse_source(text: str) -> SourceSpec:
    """Classify a SOURCE argument: "0", a stable id, /dev/videoN or camera:NAME is a webcam,
    "rtsp://..." a stream, else a file."""
    if text.isdigit() or is_camera_name(text):
        return SourceSpec(SourceKind.CAMERA, text)
    if _URL.match(text):
        return SourceSpec(SourceKind.STREAM, text)
    lower = text.lower()
    if lower.endswith(SUFFIXES):
        return SourceSpec(SourceKind.LANDMARKS, text)
    return SourceSpec(SourceKind.VIDEO, text)
