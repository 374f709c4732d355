"""Provides the analyzer: one pose sample in, one snapshot out, through every later stage."""

from __future__ import annotations

import math
from dataclasses import dataclass

from coach.calibration import Calibrator
from coach.config import Config
from coach.decisions.baseline import AdaptiveNeutral, Drift, NeutralAdapter
from coach.decisions.nudge import MovementRotation, Nudge, PostureNudger
from coach.decisions.setup import SetupWatcher
from coach.decisions.slouch import PostureState, SlouchDetector, SlouchStatus
from coach.features.posture import (
    CueSmoother,
    PostureCues,
    PostureMetrics,
    measure_cues,
    posture_metrics,
)
from coach.features.smoothing import LandmarkSmoother
from coach.features.view import ViewDetector
from coach.movements import MovementLibrary
from coach.records import PoseSample, Tracking


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Everything the analysis knows at one timestamp: what sinks draw, log and report."""

    t_s: float
    sample: PoseSample
    """The user's (smoothed) pose, or why there is none."""
    view: str | None
    """"front", "oblique" or "side" once a pose has been seen."""
    metrics: PostureMetrics | None
    """Forward head and thoracic rounding against neutral; None when not measurable."""
    slouch: SlouchStatus
    calibrating: float | None
    """Calibration progress 0..1 while the neutral is being recorded, else None."""
    nudge: Nudge | None
    """A nudge that fired at this moment."""
    next_nudge_in_s: float | None
    """If the slouch goes on, seconds until the next nudge."""
    recalibrate: bool
    """The camera or seat seems to have moved: the user should recalibrate."""

    @property
    def state(self) -> str:
        """The decided posture state as published ("upright", "slouched", "away", "unknown")."""
        return self.slouch.state.value


class Analyzer:
    """Chains smoothing, features and decisions; `update(sample)` once per analysed frame."""

    def __init__(
        self,
        config: Config,
        library: MovementLibrary,
        neutral: PostureCues | None = None,
        calibrate_s: float | None = None,
    ) -> None:
        self._config = config
        self._smoother = LandmarkSmoother(
            config.pose.smoothing_min_cutoff_hz, config.pose.smoothing_beta
        )
        self.view = ViewDetector()
        self._calibrator = Calibrator(
            calibrate_s if calibrate_s is not None else config.calibration.calibrate_s,
            config.calibration.min_usable_fraction,
            config.loop.posture_fps,
        )
        self._adapter: NeutralAdapter | None = None
        self._watcher: SetupWatcher | None = None
        if neutral is not None:
            self._start_from(neutral)
        self._cue_median = CueSmoother(config.slouch.median_window_s)
        self._detector = SlouchDetector(config.slouch)
        self._nudger = PostureNudger(config.nudge, MovementRotation(library))
        self.calibrated_neutral: PostureCues | None = neutral

    def _start_from(self, neutral: PostureCues) -> None:
        c = self._config.calibration
        self._adapter = NeutralAdapter(neutral, c.better_tau_s, c.worse_tau_s)
        self.calibrated_neutral = neutral

    @property
    def neutral(self) -> AdaptiveNeutral | None:
        """The neutral in use (None while calibrating)."""
        return None if self._adapter is None else self._adapter.neutral

    @property
    def wanted_fps(self) -> float:
        """How often the loop should analyse a frame right now."""
        return self._config.loop.posture_fps

    def _drift(self, metrics: PostureMetrics, state: PostureState) -> Drift:
        s, c = self._config.slouch, self._config.calibration
        if state is PostureState.SLOUCHED:
            return Drift.WORSE
        if (
            metrics.forward_head > s.forward_head_exit
            or metrics.thoracic_rounding > s.rounding_exit
        ):
            return Drift.WORSE
        if abs(metrics.pitch_change) >= s.glance_pitch:
            return Drift.WORSE  # a nod is not a posture to learn
        if (
            min(metrics.forward_head, metrics.thoracic_rounding) <= -c.better_margin
            and max(metrics.forward_head, metrics.thoracic_rounding) <= 0
        ):
            return Drift.BETTER
        return Drift.DEAD_BAND

    def update(self, sample: PoseSample) -> Snapshot:
        """Advance every stage to the sample's timestamp."""
        t_s = sample.t_s
        smoothed = self._smoother.update(sample)
        pose = smoothed.pose if smoothed.usable else None
        if pose is not None:
            self.view.update(pose)
        cues = self._cue_median.update(measure_cues(pose) if pose is not None else None, t_s)
        calibrating: float | None = None
        if self._adapter is None:
            neutral = self._calibrator.update(cues, t_s)
            if neutral is None:
                calibrating = self._calibrator.progress(t_s)
            else:
                self._start_from(neutral)
        metrics: PostureMetrics | None = None
        recalibrate = False
        if cues is not None and self._adapter is not None:
            metrics = posture_metrics(cues, self._adapter.neutral.current)
            if self._watcher is None and pose is not None:
                self._watcher = SetupWatcher(
                    self._config.calibration, pose.image_size[0] / pose.image_size[1]
                )
            if self._watcher is not None:
                recalibrate = self._watcher.update(cues, self._adapter.neutral.calibrated, t_s)
        if metrics is not None and not all(
            math.isfinite(v) for v in (metrics.forward_head, metrics.thoracic_rounding)
        ):
            metrics = None
        person_seen = sample.tracking is not Tracking.NO_PERSON
        status = self._detector.update(metrics if calibrating is None else None, person_seen, t_s)
        if cues is not None and metrics is not None and self._adapter is not None:
            self._adapter.update(cues, t_s, self._drift(metrics, status.state))
        nudge = self._nudger.update(status, t_s)
        return Snapshot(
            t_s=t_s,
            sample=smoothed,
            view=self.view.current,
            metrics=metrics,
            slouch=status,
            calibrating=calibrating,
            nudge=nudge,
            next_nudge_in_s=self._nudger.next_in_s(status, t_s),
            recalibrate=recalibrate,
        )
