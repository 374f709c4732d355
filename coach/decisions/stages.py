"""Provides the analyzer's stages that hold a rule of their own: the neutral, posture, activity, guided set."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from coach.calibration import Calibrator
from coach.config import CalibrationConfig, SlouchConfig, StationaryConfig
from coach.decisions.baseline import AdaptiveNeutral, NeutralAdapter, judge_drift
from coach.decisions.exercise import ExerciseTracker, ExerciseUpdate
from coach.decisions.setup import SetupWatcher
from coach.decisions.slouch import Band, SlouchDetector
from coach.decisions.stationary import ActivityStatus, StationaryTracker
from coach.features.motion import MotionMeter
from coach.features.posture import PostureCues, PostureMetrics, posture_metrics, slump_points
from coach.records import Pose, PostureState, Reply, SlouchCue
from coach.statuses import SlouchStatus

# A guided set (`coach count`, or one started from the tray) ends after this long without a rep.
GUIDED_IDLE_END_S = 30.0


@dataclass(frozen=True)
class NeutralUpdate:
    """The posture against the neutral at one timestamp."""

    metrics: PostureMetrics | None
    """None while calibrating, without cues, or when not finite."""
    calibrating: float | None
    """Calibration progress 0..1 while the neutral is being recorded, else None."""
    recalibrate: bool
    """The camera or seat seems to have moved."""
    slump: float | None = None
    """With no metrics: how far the head sank (rounding points) while the shoulders are below
    the frame (`slumped_nose_y`); None otherwise."""


class NeutralStage:
    """The neutral: recorded at calibration (or given), then following the user's drift."""

    def __init__(
        self,
        config: CalibrationConfig,
        calibrate_s: float,
        neutral: PostureCues | None,
        noise: PostureCues | None,
        on_neutral: ExerciseTracker,
    ) -> None:
        """`on_neutral`: the exercise stage, told the neutral a set must start from."""
        self._config = config
        self._calibrator = Calibrator(calibrate_s, config.min_usable_fraction)
        self._adapter: NeutralAdapter | None = None
        self._watcher: SetupWatcher | None = None
        self._noise = noise
        self._exercise = on_neutral
        if neutral is not None:
            self._start_from(neutral)

    def _start_from(self, neutral: PostureCues) -> None:
        self._adapter = NeutralAdapter(neutral, self._config.better_tau_s, self._config.worse_tau_s)
        self._exercise.set_neutral(neutral)

    @property
    def ready(self) -> bool:
        """Whether a neutral is recorded (calibration is over)."""
        return self._adapter is not None

    @property
    def neutral(self) -> AdaptiveNeutral | None:
        """The neutral in use (None while calibrating)."""
        return None if self._adapter is None else self._adapter.neutral

    @property
    def noise(self) -> PostureCues | None:
        """How much each cue jittered at calibration (None: not known)."""
        return self._noise

    def update(
        self,
        cues: PostureCues | None,
        pose: Pose | None,
        t_s: float,
        slumped_y: float | None = None,
        unblended: PostureCues | None = None,
    ) -> NeutralUpdate:
        """Calibrate, or measure the cues against the neutral (`slumped_y`: the nose's height
        when the shoulders left through the bottom of the frame; `unblended`: the frame's own
        cues to record in place of a median of too few)."""
        calibrating: float | None = None
        if self._adapter is None:
            # (The median exists whenever the frame's own cues do.)
            recorded = unblended if unblended is not None else cues
            neutral = self._calibrator.update(recorded, t_s)
            if neutral is None:
                calibrating = self._calibrator.progress(t_s)
            else:
                self._noise = self._calibrator.noise
                self._start_from(neutral)
        if self._adapter is not None and cues is None and slumped_y is not None:
            slump = slump_points(slumped_y, self._adapter.neutral.calibrated)
            return NeutralUpdate(None, calibrating, False, slump)
        if cues is None or self._adapter is None or pose is None:
            return NeutralUpdate(None, calibrating, False)
        metrics = posture_metrics(cues, self._adapter.neutral.current, self._noise)
        if self._watcher is None:
            self._watcher = SetupWatcher(self._config, pose.image_size[0] / pose.image_size[1])
        recalibrate = self._watcher.update(cues, self._adapter.neutral.calibrated, t_s)
        if metrics is not None and not all(
            math.isfinite(v) for v in (metrics.forward_head, metrics.thoracic_rounding)
        ):
            metrics = None
        return NeutralUpdate(metrics, calibrating, recalibrate)

    def follow(
        self,
        cues: PostureCues,
        metrics: PostureMetrics,
        slouched: bool,
        slouch: SlouchConfig,
        t_s: float,
    ) -> None:
        """The drift policy: follow a posture judged better or a glance, never a slouch."""
        if self._adapter is None:
            return
        drift = judge_drift(metrics, slouched, slouch.glance_pitch, self._config.better_margin)
        self._adapter.update(cues, t_s, drift)


class PostureStage:
    """The posture verdict; held during a set, where a cat-cow's "cat" is a deliberate slouch."""

    def __init__(
        self,
        slouch: SlouchConfig,
        away_after_s: float,
        neutral: NeutralStage,
        widened: Mapping[SlouchCue, float] | None = None,
    ) -> None:
        self._slouch = slouch
        self._detector = SlouchDetector(slouch, away_after_s, widened)
        self._neutral = neutral
        self._last: NeutralUpdate | None = None
        self._exercising = False

    @property
    def widened(self) -> dict[SlouchCue, float]:
        """Each measure's band widening asked for by the user (1 = as calibrated)."""
        return dict(self._detector.widened)

    def score_clear(self, metrics: PostureMetrics) -> bool:
        """Whether the slouch score is below its exit threshold as the detector reads it
        (re-centred, widened): nothing about the posture is pending."""
        return self._detector.score_clear(metrics)

    @property
    def recentred(self) -> dict[SlouchCue, float]:
        """Points forward head / rounding are re-centred by this session ("I'm sitting fine")."""
        return dict(self._detector.recentred)

    def afresh(self, slouch: SlouchConfig, away_after_s: float) -> None:
        """Start the verdict and its hold afresh (new thresholds, a stretch with no frames, the
        end of a set), keeping what the user taught it ("I'm sitting fine": the widened bands
        and the session's re-centring)."""
        self._slouch = slouch
        old = self._detector
        self._detector = SlouchDetector(slouch, away_after_s, old.widened, old.recentred)

    def sitting_fine(self, cue: SlouchCue, t_s: float) -> list[tuple[SlouchCue, Band]]:
        """The user says they sit fine: re-centre `cue` (the one that fired) on its reading now,
        widen its band and that of any other measure past its threshold now, each to just above
        its reading (all bounded), and take the posture as upright from now; returns the
        widened bands."""
        last = self._last
        fired = {cue}
        if last is not None:
            fired |= set(self._detector.firing(last.metrics, last.slump))
        if last is not None:
            self._detector.recentre(cue, last.metrics)
        widened = []
        for each in sorted(fired):
            reading = None
            if last is not None:
                reading = self._detector.reading(last.metrics, last.slump, each)
            widened.append((each, self._detector.widen(each, reading)))
        self._detector.settle_upright(t_s)
        return widened

    def update(
        self,
        cues: PostureCues | None,
        measured: NeutralUpdate,
        user_seen: bool,
        exercising: bool,
        t_s: float,
    ) -> SlouchStatus:
        """Judge the posture (not while calibrating), and let the neutral follow the drift."""
        was_exercising, self._exercising = self._exercising, exercising
        if exercising:
            return self._detector.current
        if was_exercising:  # a set's last "cat" is not the start of a slouch
            self.afresh(self._slouch, self._detector.away_after_s)
        self._last = measured
        judged = measured.metrics if measured.calibrating is None else None
        status = self._detector.update(judged, user_seen, t_s, measured.slump)
        if cues is not None and judged is not None:
            slouched = status.state is PostureState.SLOUCHED
            self._neutral.follow(cues, judged, slouched, self._slouch, t_s)
        return status


class ActivityStage:
    """Still, moving or away, from the trunk's motion (a user standing up still moves)."""

    def __init__(self, config: StationaryConfig) -> None:
        self._motion = MotionMeter(config.window_s)
        self._stationary = StationaryTracker(config)

    def bridge(self, start_s: float, end_s: float, rest: bool) -> None:
        """A stretch with no frames (see `StationaryTracker.bridge`): motion starts afresh."""
        self._motion.reset()
        self._stationary.bridge(start_s, end_s, rest)

    def update(self, pose: Pose | None, user_seen: bool, t_s: float) -> ActivityStatus:
        """Measure the motion; an unseen user's motion starts afresh when they are back."""
        motion = self._motion.update(pose, t_s)
        if not user_seen:
            self._motion.reset()
        return self._stationary.update(motion, user_seen, t_s)


class GuidedSet:
    """A guided set (`coach count`): counting from the first sample, and the run's end with it."""

    def __init__(self, movement: str, target_reps: int | None) -> None:
        """`target_reps` None: the movement's own dose."""
        self._movement = movement
        self._target_reps = target_reps
        self._started = False

    def start(self, exercise: ExerciseTracker, t_s: float) -> None:
        """Arm the counter at the first sample."""
        if not self._started:
            self._started = True
            start_guided(exercise, self._movement, self._target_reps, t_s)

    @staticmethod
    def reply(update: ExerciseUpdate) -> Reply:
        """A set that ended ends the guided session."""
        return Reply.STOP if update.finished is not None else Reply.CONTINUE


def start_guided(
    exercise: ExerciseTracker, movement: str, target_reps: int | None, t_s: float
) -> None:
    """Count a guided set of `movement` from `t_s` (`target_reps` None: its dose)."""
    exercise.guide(movement, t_s, target_reps, idle_end_s=GUIDED_IDLE_END_S)
