"""Provides `open_frames`: the frame source for a camera, stream or video file spec."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from coach.config import SourceConfig
from coach.errors import SourceError
from coach.source.live import LiveSource
from coach.source.spec import SourceKind, SourceSpec
from coach.source.video import VideoFileSource

FrameSource = VideoFileSource | LiveSource


def open_frames(
    spec: SourceSpec, config: SourceConfig, on_notice: Callable[[str], None] | None = None
) -> FrameSource:
    """Open a camera, stream or video file for reading frames (`on_notice`: stall messages)."""
    if spec.kind is SourceKind.VIDEO:
        return VideoFileSource(Path(spec.target).expanduser())
    if spec.kind in (SourceKind.CAMERA, SourceKind.STREAM):
        return LiveSource(spec, config, on_notice)
    raise SourceError(
        f"{spec} is a landmark recording, not a camera, stream or video; "
        "this command needs frames: pass a webcam index, a video file or a stream URL"
    )
