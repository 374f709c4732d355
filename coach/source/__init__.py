"""Provides frame sources: webcam index, video file and stream URL, each yielding timestamped frames."""

from coach.source.gate import FrameGate, thumbnail
from coach.source.live import LiveSource
from coach.source.opener import FrameSource, open_frames
from coach.source.spec import SourceKind, SourceSpec, parse_source
from coach.source.video import VideoFileSource

__all__ = [
    "FrameGate",
    "FrameSource",
    "LiveSource",
    "SourceKind",
    "SourceSpec",
    "VideoFileSource",
    "open_frames",
    "parse_source",
    "thumbnail",
]
