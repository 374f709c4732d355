"""Provides the analyzer: one pose sample in, one snapshot out, through every later stage."""

from __future__ import annotations

import math
from dataclasses import dataclass

from coach.calibration import Calibrator
from coach.config import Config
from coach.decisions.analysis_rate import AnalysisRate, LookPlan, RateInputs
from coach.decisions.baseline import AdaptiveNeutral, NeutralAdapter, judge_drift
from coach.decisions.exercise import ExerciseTracker, ExerciseUpdate
from coach.decisions.prompts import Clock, PlannedPrompt, PromptPolicy
from coach.decisions.reps import CounterStatus
from coach.decisions.setup import SetupWatcher
from coach.decisions.slouch import SlouchDetector, SlouchStatus
from coach.decisions.stationary import ActivityStatus, StationaryTracker
from coach.features.motion import MotionMeter
from coach.features.posture import (
    CueSmoother,
    PostureCues,
    PostureMetrics,
    measure_cues,
    posture_metrics,
)
from coach.features.smoothing import LandmarkSmoother
from coach.features.user import UserIdentity
from coach.features.view import ViewDetector
from coach.movements import MovementLibrary
from coach.records import (
    Activity,
    Event,
    Nudge,
    PoseSample,
    PostureState,
    RepDetail,
    SetCompleted,
    Tracking,
)

COMMANDS = ("snooze", "skip", "done", "pause", "resume")
# A guided set (`coach count`, or one started from the tray) ends after this long without a rep.
GUIDED_IDLE_END_S = 30.0


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
    next_nudge_in_s: float | None
    """If the slouch goes on, seconds until the next posture nudge."""
    recalibrate: bool
    """The camera or seat seems to have moved: the user should recalibrate."""
    events: tuple[Event, ...] = ()
    """Everything that happened at this moment (prompts, outcomes, sets), for the log."""
    activity: str | None = None
    """"still", "moving" or "away" (None until the user is seen): the stationary estimate."""
    activity_since_s: float = 0.0
    """When the current activity began (backdated to its first evidence)."""
    seated_s: float = 0.0
    """Time seated since the last real movement break, seconds."""
    since_movement_s: float = 0.0
    """Time since the user last moved, seconds."""
    next_prompt: PlannedPrompt | None = None
    """The next planned prompt and why."""
    open_prompt: Nudge | None = None
    """The prompt awaiting an outcome (shown with its movement's cues)."""
    paused_until_s: float | None = None
    """Meeting mode: no prompts (and no camera) until then."""
    snoozed_until_s: float | None = None
    """Prompts snoozed until then."""
    counter: CounterStatus | None = None
    """The rep counter of a set in progress (guided, prompted or recognised)."""
    rep: RepDetail | None = None
    """A rep counted at this moment."""

    @property
    def nudge(self) -> Nudge | None:
        """The prompt that fired at this moment, if any."""
        return next((e for e in self.events if isinstance(e, Nudge)), None)

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
        noise: PostureCues | None = None,
        calibrate_s: float | None = None,
        clock: Clock | None = None,
        guided: tuple[str, int | None] | None = None,
    ) -> None:
        """`guided` = (movement, target reps) runs a guided set (`coach count`)."""
        self._config = config
        self.library = library
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
        self._exercise = ExerciseTracker(
            config.reps, library, start_within_s=config.prompts.respond_s, recognise=guided is None
        )
        self._noise = noise
        if neutral is not None:
            self._start_from(neutral)
        self._cue_median = CueSmoother(config.slouch.median_window_s)
        self._detector = SlouchDetector(config.slouch, config.stationary.away_after_s)
        self._identity = UserIdentity(
            config.stationary.user_scale_tolerance, config.stationary.user_shift_widths
        )
        self._motion = MotionMeter(config.stationary.window_s)
        self._stationary = StationaryTracker(config.stationary)
        self.prompts = PromptPolicy(
            config.nudge, config.prompts, config.stationary, library, clock=clock
        )
        self._commands: list[str] = []
        self._rate = AnalysisRate(config.loop)
        self._away = False
        self._guided_started = False
        self._guided = guided

    def _start_from(self, neutral: PostureCues) -> None:
        c = self._config.calibration
        self._adapter = NeutralAdapter(neutral, c.better_tau_s, c.worse_tau_s)
        # The counters check that a set starts from this neutral.
        self._exercise.set_neutral(neutral)

    @property
    def calibrated_neutral(self) -> PostureCues | None:
        """The neutral as calibrated (None while calibrating)."""
        return None if self._adapter is None else self._adapter.neutral.calibrated

    @property
    def calibrated_noise(self) -> PostureCues | None:
        """How much each cue jittered at calibration (None: not known)."""
        return self._noise

    @property
    def neutral(self) -> AdaptiveNeutral | None:
        """The neutral in use (None while calibrating)."""
        return None if self._adapter is None else self._adapter.neutral

    @property
    def exercise(self) -> ExerciseTracker:
        """The rep counting stage."""
        return self._exercise

    def finish(self, t_s: float) -> SetCompleted | None:
        """End a set in progress when the source ends."""
        return self._exercise.finish(t_s)

    @property
    def wanted_fps(self) -> float:
        """How often the loop should analyse a frame right now."""
        return self._rate.plan.fps

    @property
    def look_plan(self) -> LookPlan:
        """How the loop should look at frames right now (rate, and whether only on change)."""
        return self._rate.plan

    def start_guided(self, movement: str, target: int | None, t_s: float) -> None:
        """Count a guided set of `movement` from `t_s` (`target` reps; None: its dose)."""
        self._exercise.guide(movement, t_s, target, idle_end_s=GUIDED_IDLE_END_S)

    def command(self, name: str) -> None:
        """Queue a user command ("snooze", "skip", "done", "pause", "resume") for the next frame."""
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}")
        self._commands.append(name)

    def _posture(
        self, sample: PoseSample, t_s: float
    ) -> tuple[PostureCues | None, PostureMetrics | None, float | None, bool]:
        """Cues → neutral → metrics; returns cues, metrics, calibration progress, recalibrate."""
        pose = sample.pose if sample.usable else None
        raw = measure_cues(pose) if pose is not None else None
        cues = self._cue_median.update(raw, t_s)
        calibrating: float | None = None
        if self._adapter is None:
            neutral = self._calibrator.update(cues, t_s)
            if neutral is None:
                calibrating = self._calibrator.progress(t_s)
            else:
                self._noise = self._calibrator.noise
                self._start_from(neutral)
        if pose is not None and self._adapter is not None and not self._identity.has_reference:
            self._identity.set_reference(pose)
        if cues is None or self._adapter is None or pose is None:
            return cues, None, calibrating, False
        metrics = posture_metrics(cues, self._adapter.neutral.current, self._noise)
        if self._watcher is None:
            self._watcher = SetupWatcher(
                self._config.calibration, pose.image_size[0] / pose.image_size[1]
            )
        recalibrate = self._watcher.update(cues, self._adapter.neutral.calibrated, t_s)
        if metrics is not None and not all(
            math.isfinite(v) for v in (metrics.forward_head, metrics.thoracic_rounding)
        ):
            metrics = None
        return cues, metrics, calibrating, recalibrate

    def _apply_commands(self, t_s: float) -> list[Event]:
        events: list[Event] = []
        for name in self._commands:
            if name == "snooze":
                events.extend(self.prompts.snooze(t_s))
            elif name == "skip":
                events.extend(self.prompts.skip(t_s))
            elif name == "done":
                events.extend(self.prompts.confirm(t_s))
            elif name == "pause":
                self.prompts.pause(t_s)
            else:
                self.prompts.resume()
        self._commands.clear()
        return events

    def update(self, sample: PoseSample) -> Snapshot:
        """Advance every stage to the sample's timestamp."""
        t_s = sample.t_s
        smoothed = self._smoother.update(sample)
        if smoothed.pose is not None and not self._identity.is_user(smoothed.pose, t_s):
            # Someone else (a passer-by in an empty chair's place): not the user.
            smoothed = PoseSample(
                t_s=t_s, pose=None, tracking=Tracking.NO_PERSON, people=sample.people
            )
        if smoothed.usable and smoothed.pose is not None:
            self.view.update(smoothed.pose)
        cues, metrics, calibrating, recalibrate = self._posture(smoothed, t_s)
        user_seen = smoothed.tracking is not Tracking.NO_PERSON
        if self._guided is not None and not self._guided_started:
            self._guided_started = True
            self.start_guided(self._guided[0], self._guided[1], t_s)
        exercising = self._exercise.moving_on_purpose
        # The counters have their own visibility gate: hand them any pose of the user.
        exercise = self._exercise.update(smoothed.pose, t_s)
        if exercising:
            # A cat-cow's "cat" is a deliberate slouch: hold the posture verdict during a set.
            status = self._detector.current
        else:
            judged = metrics if calibrating is None else None
            status = self._detector.update(judged, user_seen, t_s)
            if cues is not None and judged is not None and self._adapter is not None:
                self._adapter.update(
                    cues,
                    t_s,
                    judge_drift(
                        judged,
                        status.state is PostureState.SLOUCHED,
                        self._config.slouch.glance_pitch,
                        self._config.calibration.better_margin,
                    ),
                )
        sets = (exercise.finished,) if exercise.finished is not None else ()
        # Motion needs only the trunk: a user standing up (head out of frame) still moves.
        motion = self._motion.update(smoothed.pose, t_s)
        if not user_seen:
            self._motion.reset()
        activity = self._stationary.update(motion, user_seen, t_s)
        self._away = activity.activity is Activity.AWAY
        events: list[Event] = self._apply_commands(t_s)
        nudge, resolved = self.prompts.update(t_s, status, activity, sets)
        if nudge is not None:
            events.append(nudge)
            self._exercise.arm_for(nudge, t_s)
        events.extend(resolved)
        events.extend(sets)
        self._rate.update(
            RateInputs(
                pose=smoothed.pose if user_seen else None,
                slouch_score=metrics.score if metrics is not None else None,
                exercising=self._exercise.active or self._guided is not None,
                settling=calibrating is not None or self.prompts.open_prompt is not None,
                away=self._away,
                posture_ok=status.state is not PostureState.SLOUCHED
                and (metrics is None or metrics.score < self._config.slouch.score_exit),
            ),
            t_s,
        )
        return self._snapshot(
            smoothed, metrics, status, calibrating, recalibrate, activity, events, exercise
        )

    def _snapshot(
        self,
        sample: PoseSample,
        metrics: PostureMetrics | None,
        status: SlouchStatus,
        calibrating: float | None,
        recalibrate: bool,
        activity: ActivityStatus,
        events: list[Event],
        exercise: ExerciseUpdate,
    ) -> Snapshot:
        t_s = sample.t_s
        return Snapshot(
            t_s=t_s,
            sample=sample,
            view=self.view.current,
            metrics=metrics,
            slouch=status,
            calibrating=calibrating,
            next_nudge_in_s=self.prompts.posture_next_in_s(status, t_s),
            recalibrate=recalibrate,
            events=tuple(events),
            activity=activity.activity.value if activity.activity is not None else None,
            activity_since_s=activity.since_s,
            seated_s=activity.seated_s,
            since_movement_s=activity.since_movement_s,
            next_prompt=self.prompts.next_prompt(t_s, status, activity),
            open_prompt=self.prompts.open_prompt,
            paused_until_s=self.prompts.paused_until_s(t_s),
            snoozed_until_s=self.prompts.snoozed_until_s(t_s),
            counter=self._exercise.status,
            rep=exercise.rep,
        )
