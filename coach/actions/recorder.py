"""Provides the landmark recorder sink used by `coach record --landmarks OUT`."""

from __future__ import annotations

from coach.landmark_file import LandmarkWriter
from coach.records import PoseSample


class RawSampleRecorder:
    """Writes each raw pose sample (before smoothing) so a replay smooths it the same way."""

    def __init__(self, writer: LandmarkWriter) -> None:
        self._writer = writer

    def __call__(self, sample: PoseSample) -> None:
        self._writer.write(sample)
