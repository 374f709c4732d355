"""Provides the analyzer: one pose sample in, one snapshot out, through every later stage."""

from __future__ import annotations

from coach.config import Config
from coach.features.smoothing import LandmarkSmoother
from coach.features.view import ViewDetector
from coach.records import PoseSample, Snapshot, Tracking


class Analyzer:
    """Chains smoothing, features and decisions; `update(sample)` once per analysed frame."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._smoother = LandmarkSmoother(
            config.pose.smoothing_min_cutoff_hz, config.pose.smoothing_beta
        )
        self.view = ViewDetector()

    @property
    def wanted_fps(self) -> float:
        """How often the loop should analyse a frame right now."""
        return self._config.loop.posture_fps

    def update(self, sample: PoseSample) -> Snapshot:
        """Advance every stage to the sample's timestamp."""
        smoothed = self._smoother.update(sample)
        if smoothed.usable and smoothed.pose is not None:
            self.view.update(smoothed.pose)
        if sample.tracking is Tracking.NO_PERSON:
            state = "away"
        elif smoothed.usable:
            state = "present"
        else:
            state = "unknown"
        return Snapshot(t_s=sample.t_s, sample=smoothed, view=self.view.current, state=state)
