"""Provides the analyzer: one pose sample in, one snapshot out, through every later stage."""

from __future__ import annotations

from collections.abc import Mapping

from coach.config import Config
from coach.decisions.analysis_rate import AnalysisRate, LookPlan, RateInputs
from coach.decisions.baseline import AdaptiveNeutral
from coach.decisions.exercise import ExerciseTracker, ExerciseUpdate
from coach.decisions.prompts import Clock, PromptPolicy
from coach.decisions.stages import (
    ActivityStage,
    GuidedSet,
    NeutralStage,
    NeutralUpdate,
    PostureStage,
    start_guided,
)
from coach.features.posture import CueSmoother, PostureCues, measure_cues, slumped_nose_y
from coach.features.smoothing import LandmarkSmoother
from coach.features.user import UserIdentity
from coach.features.view import ViewDetector
from coach.movements import MovementLibrary
from coach.records import (
    PROMPT_COMMANDS,
    Activity,
    BandWidened,
    Command,
    Condition,
    Event,
    Interruption,
    PoseSample,
    PostureState,
    Reason,
    Reply,
    SetCompleted,
    SlouchCue,
    Snapshot,
    Tracking,
)


class Analyzer:
    """Sequences smoothing, features and decisions; `update(sample)` once per analysed frame.

    Each rule lives in its stage (coach/decisions/stages.py and the modules it names);
    the analyzer only hands each stage's output to the next.
    """

    def __init__(
        self,
        config: Config,
        library: MovementLibrary,
        neutral: PostureCues | None = None,
        noise: PostureCues | None = None,
        calibrate_s: float | None = None,
        clock: Clock | None = None,
        guided: GuidedSet | None = None,
        until_calibrated: bool = False,
        widened: Mapping[SlouchCue, float] | None = None,
    ) -> None:
        """`guided` runs a guided set (`coach count`), whose end is the run's end;
        `until_calibrated` ends the run once the neutral is recorded (`coach calibrate`);
        `widened`: the upright bands the user widened ("I'm sitting fine"), from the profile."""
        self._config = config
        self._library = library
        self._smoother = LandmarkSmoother(
            config.pose.smoothing_min_cutoff_hz, config.pose.smoothing_beta
        )
        self._view = ViewDetector()
        self._exercise = ExerciseTracker(
            config.reps, library, start_within_s=config.prompts.respond_s, recognise=guided is None
        )
        self._neutral = NeutralStage(
            config.calibration,
            calibrate_s if calibrate_s is not None else config.calibration.calibrate_s,
            neutral,
            noise,
            on_neutral=self._exercise,
        )
        self._cue_median = CueSmoother(config.slouch.median_window_s)
        self._posture = PostureStage(
            config.slouch, config.stationary.away_after_s, self._neutral, widened
        )
        self._nudged: tuple[Reason, SlouchCue] | None = None
        """The reason and measure of the last posture nudge (what "I'm sitting fine" answers)."""
        self._identity = UserIdentity(
            config.stationary.user_scale_tolerance, config.stationary.user_shift_widths
        )
        self._activity = ActivityStage(config.stationary)
        self._prompts = PromptPolicy(
            config.nudge, config.prompts, config.stationary, library, clock=clock
        )
        self._commands: list[tuple[Command, float | None]] = []
        self._rate = AnalysisRate(config.loop)
        self._guided = guided
        self._until_calibrated = until_calibrated
        self._interruption: Interruption | None = None
        self._last_t_s: float | None = None

    @property
    def calibrated_neutral(self) -> PostureCues | None:
        """The neutral as calibrated (None while calibrating)."""
        neutral = self._neutral.neutral
        return None if neutral is None else neutral.calibrated

    @property
    def calibrated_noise(self) -> PostureCues | None:
        """How much each cue jittered at calibration (None: not known)."""
        return self._neutral.noise

    @property
    def widened(self) -> dict[SlouchCue, float]:
        """Each measure's band widening the user asked for (kept in the profile)."""
        return self._posture.widened

    @property
    def neutral(self) -> AdaptiveNeutral | None:
        """The neutral in use (None while calibrating)."""
        return self._neutral.neutral

    @property
    def exercise(self) -> ExerciseTracker:
        """The rep counting stage (read by tests)."""
        return self._exercise

    @property
    def overall_view(self) -> str | None:
        """The camera view over the whole run so far."""
        return self._view.overall

    @property
    def counting(self) -> bool:
        """Whether a set is in progress (not a counter a prompt armed, waiting for one)."""
        status = self._exercise.status
        return status is not None and status.in_progress

    def reconfigure(self, config: Config) -> None:
        """Settings changed in a running coach (the tray's Settings menu): the nudge, the
        prompts' working hours and the slouch thresholds apply from the next sample; the
        rest (rates, pose, calibration) at the next start."""
        if config.slouch != self._config.slouch:  # the verdict starts afresh on new thresholds
            self._judge_afresh(config)
        self._prompts.reconfigure(config.nudge, config.prompts)
        self._config = config

    def finish(self, t_s: float) -> SetCompleted | None:
        """End a set in progress when the source ends."""
        return self._exercise.finish(t_s)

    @property
    def look_plan(self) -> LookPlan:
        """How the loop should look at frames right now (rate, and whether only on change)."""
        return self._rate.plan

    def start_guided(self, movement: str, t_s: float) -> None:
        """Count a guided set of `movement` from `t_s`, to its dose (a set from the tray)."""
        start_guided(self._exercise, movement, self._library.get(movement).reps, t_s)

    def command(self, command: Command, for_s: float | None = None) -> None:
        """Queue a prompt command (`PROMPT_COMMANDS`) for the next frame; `for_s`: how long a
        pause lasts (default: the configured pause). Others are the live stage's."""
        if command not in PROMPT_COMMANDS:
            raise ValueError(f"not a prompt command: {command}")
        self._commands.append((command, for_s))

    def _judge_afresh(self, config: Config) -> None:
        """The cues' median and the posture verdict start over (what "I'm sitting fine" taught
        is kept)."""
        self._cue_median = CueSmoother(config.slouch.median_window_s)
        self._posture.afresh(config.slouch, config.stationary.away_after_s)

    def interrupted(self, interruption: Interruption) -> None:
        """A stretch with no frames that the next sample ends (the camera released or lost,
        the screen locked, the machine asleep): it is a break or no time at all, never
        sitting still, and nothing decided before it carries over."""
        self._interruption = interruption

    def _bridge(self, t_s: float) -> list[Event]:
        """Apply the interruption the next sample ends; a jump in time with no word why
        (the coach was stopped, the machine slept unannounced) is taken as a break."""
        interruption, self._interruption = self._interruption, None
        last_t_s, self._last_t_s = self._last_t_s, t_s
        if interruption is None:
            gap_s = 0.0 if last_t_s is None else t_s - last_t_s
            if last_t_s is None or gap_s < self._config.stationary.gap_break_s:
                return []
            interruption = Interruption(last_t_s, t_s, Condition.ASLEEP)
        elif last_t_s is None:
            return []  # nothing seen before it: nothing to carry over or to end
        events: list[Event] = []
        unfinished = self._exercise.finish(interruption.start_s)
        if unfinished is not None:
            events.append(unfinished)
        self._activity.bridge(interruption.start_s, interruption.end_s, interruption.rest)
        # The posture verdict and its hold start afresh: a slouch before a lock is not one now.
        self._judge_afresh(self._config)
        events.append(interruption)
        return events

    def _apply_commands(self, t_s: float) -> list[Event]:
        events: list[Event] = []
        for command, for_s in self._commands:
            if command in (Command.SNOOZE, Command.SKIP):
                put_off = (
                    self._prompts.snooze(t_s)
                    if command is Command.SNOOZE
                    else self._prompts.skip(t_s)
                )
                for resolved in put_off:
                    self._exercise.drop_prompted(resolved.prompt_id)
                events.extend(put_off)
            elif command is Command.DONE:
                events.extend(self._prompts.confirm(t_s))
            elif command is Command.PAUSE:
                self._prompts.pause(t_s, for_s)
            elif command is Command.SITTING_FINE:
                events.extend(self._sitting_fine(t_s))
            else:
                self._prompts.resume()
        self._commands.clear()
        return events

    def _sitting_fine(self, t_s: float) -> list[Event]:
        """ "I'm sitting fine" after a posture nudge: widen the band of the measure that fired
        and close the nudge; without a posture nudge to answer it does nothing."""
        if self._nudged is None:
            return []
        reason, cue = self._nudged
        self._nudged = None
        widened = self._posture.sitting_fine(cue, t_s)
        factors, shifts = self._posture.widened, self._posture.recentred
        skipped = self._prompts.skip(t_s)
        for resolved in skipped:  # the nudge's movement is not coming: disarm its counter
            self._exercise.drop_prompted(resolved.prompt_id)
        return [
            *skipped,
            *(
                BandWidened(
                    t_s,
                    reason,
                    c,
                    band.enter,
                    factors.get(c, 1.0),
                    max(shifts.values(), default=0.0)
                    if c is SlouchCue.SCORE
                    else shifts.get(c, 0.0),
                )
                for c, band in widened
            ),
        ]

    def update(self, sample: PoseSample) -> Snapshot:
        """Advance every stage to the sample's timestamp."""
        t_s = sample.t_s
        bridged = self._bridge(t_s)
        smoothed = self._smoother.update(sample)
        if smoothed.pose is not None and not self._identity.is_user(smoothed.pose, t_s):
            # Someone else (a passer-by in an empty chair's place): not the user.
            smoothed = PoseSample(
                t_s=t_s, pose=None, tracking=Tracking.NO_PERSON, people=sample.people
            )
        pose = smoothed.pose if smoothed.usable else None
        if pose is not None:
            self._view.update(pose)
        raw = measure_cues(pose) if pose is not None else None
        cues = self._cue_median.update(raw, t_s)
        # No cues: a head still seen above shoulders gone through the frame's bottom edge.
        slumped_y = None
        if cues is None and smoothed.pose is not None:
            slumped_y = slumped_nose_y(smoothed.pose)
        # The neutral is the median of cues; where the rolling median had too few to take
        # the middle of, each frame's own cue goes in rather than a blend of two.
        unblended = raw if self._cue_median.blends else None
        measured = self._neutral.update(cues, pose, t_s, slumped_y, unblended)
        if pose is not None and self._neutral.ready and not self._identity.has_reference:
            self._identity.set_reference(pose)
        user_seen = smoothed.tracking is not Tracking.NO_PERSON
        if self._guided is not None:
            self._guided.start(self._exercise, t_s)
        exercising = self._exercise.moving_on_purpose
        # The counters have their own visibility gate: hand them any pose of the user.
        exercise = self._exercise.update(smoothed.pose, t_s)
        status = self._posture.update(cues, measured, user_seen, exercising, t_s)
        sets = (exercise.finished,) if exercise.finished is not None else ()
        activity = self._activity.update(smoothed.pose, user_seen, t_s)
        events: list[Event] = [*bridged, *self._apply_commands(t_s)]
        nudge, resolved = self._prompts.update(t_s, status, activity, sets)
        if nudge is not None:
            events.append(nudge)
            if nudge.reason is not Reason.STATIONARY:
                self._nudged = (nudge.reason, status.why or SlouchCue.SCORE)
            self._exercise.arm_for(nudge, t_s)
        events.extend(resolved)
        events.extend(sets)
        metrics = measured.metrics
        self._rate.update(
            RateInputs(
                pose=smoothed.pose if user_seen else None,
                slouch_score=metrics.score if metrics is not None else None,
                exercising=self._exercise.active or self._guided is not None,
                settling=measured.calibrating is not None or self._prompts.open_prompt is not None,
                away=activity.activity is Activity.AWAY,
                posture_ok=status.state is not PostureState.SLOUCHED
                and (metrics is None or self._posture.score_clear(metrics)),
            ),
            t_s,
        )
        return Snapshot(
            t_s=t_s,
            sample=smoothed,
            view=self._view.current,
            metrics=metrics,
            slouch=status,
            calibrating=measured.calibrating,
            next_nudge_in_s=self._prompts.posture_next_in_s(status, t_s),
            recalibrate=measured.recalibrate,
            events=tuple(events),
            activity=activity.activity,
            activity_since_s=activity.since_s,
            seated_s=activity.seated_s,
            since_movement_s=activity.since_movement_s,
            next_prompt=self._prompts.next_prompt(t_s, status, activity),
            open_prompt=self._prompts.open_prompt,
            paused_until_s=self._prompts.paused_until_s(t_s),
            snoozed_until_s=self._prompts.snoozed_until_s(t_s),
            counter=self._exercise.status,
            rep=exercise.rep,
            reply=self._reply(exercise, measured),
        )

    def _reply(self, exercise: ExerciseUpdate, measured: NeutralUpdate) -> Reply:
        """Whether the run's goal is met: the guided set is over, or the neutral recorded."""
        if self._until_calibrated and measured.calibrating is None:
            return Reply.STOP
        return self._guided.reply(exercise) if self._guided is not None else Reply.CONTINUE
