"""Provides the exercise tracker: a counter armed by a prompt or a guided set, and passive set recognition."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from coach.config import RepConfig
from coach.decisions.reps import RepCounter
from coach.decisions.set_recognition import SetRecognizer
from coach.features.posture import PostureCues
from coach.movements import MovementLibrary
from coach.records import Nudge, Pose, RepDetail, SetCompleted, is_countable
from coach.statuses import CounterStatus


@dataclass
class _Armed:
    counter: RepCounter
    armed_at_s: float
    prompt_id: int | None
    idle_end_s: float


@dataclass(frozen=True)
class ExerciseUpdate:
    """What the exercise tracker saw at one moment."""

    rep: RepDetail | None = None
    """A rep counted just now."""
    finished: SetCompleted | None = None
    """A set that just ended (guided, prompted or recognised)."""


class ExerciseTracker:
    """Counts sets: armed when a prompt names a countable movement (or for a guided set),
    otherwise watching for unprompted sets. It ends a set at its target, or when the user
    stops, and gives up on an armed set nobody starts.
    """

    def __init__(
        self,
        config: RepConfig,
        library: MovementLibrary,
        *,
        start_within_s: float,
        recognise: bool = True,
    ) -> None:
        self.config = config
        self.library = library
        self.start_within_s = start_within_s
        self._armed: _Armed | None = None
        self._recognizer = SetRecognizer(config) if recognise else None
        self._neutral: PostureCues | None = None

    def set_neutral(self, neutral: PostureCues | None) -> None:
        """The calibrated neutral, so a set started from a slouch is noticed."""
        self._neutral = neutral
        if self._armed is not None:
            self._armed.counter.set_neutral(neutral)

    def target_for(self, movement: str) -> int | None:
        """Reps the library prescribes (per side for lateral flexion)."""
        return self.library.get(movement).reps if movement in self.library.ids else None

    def guide(self, movement: str, t_s: float, target_reps: int | None, idle_end_s: float) -> None:
        """Start a guided set (`coach count`): counting begins when the user does."""
        self._arm(movement, t_s, None, target_reps, idle_end_s)

    def arm_for(self, nudge: Nudge, t_s: float) -> None:
        """Arm a counter if the prompt names a countable movement."""
        for movement in (nudge.movement, *nudge.extra_movements):
            if is_countable(movement):
                self._arm(
                    movement,
                    t_s,
                    nudge.prompt_id,
                    self.target_for(movement),
                    self.config.set_end_idle_s,
                )
                return

    def _arm(
        self,
        movement: str,
        t_s: float,
        prompt_id: int | None,
        target: int | None,
        idle_end_s: float,
    ) -> None:
        counter = RepCounter(
            movement, self.config, target_reps=target, armed=True, neutral=self._neutral
        )
        self._armed = _Armed(counter, t_s, prompt_id, idle_end_s)

    @property
    def active(self) -> bool:
        """A counter is armed or a set is gathering: analyse at the exercise rate."""
        if self._armed is not None:
            return True
        return self._recognizer is not None and self._recognizer.wants_exercise_rate

    @property
    def moving_on_purpose(self) -> bool:
        """The user is doing a set: their "cat" is not a slouch, so posture is not judged.

        Only once a rep is counted: sitting up after a nudge can look like a set beginning,
        and the correction must still be seen.
        """
        if self._armed is not None:
            return self._armed.counter.reps >= 1
        return self._recognizer is not None and self._recognizer.active_movement is not None

    @property
    def status(self) -> CounterStatus | None:
        """The counter the views should show."""
        if self._armed is not None:
            status = self._armed.counter.status
            return dataclasses.replace(status, prompt_id=self._armed.prompt_id)
        return self._recognizer.status if self._recognizer is not None else None

    def drop_prompted(self, prompt_id: int) -> None:
        """The user put prompt `prompt_id` off (snoozed, skipped): stop waiting for its set,
        unless a rep of it is already counted."""
        armed = self._armed
        if armed is not None and armed.prompt_id == prompt_id and armed.counter.reps == 0:
            self._armed = None

    def update(self, pose: Pose | None, t_s: float) -> ExerciseUpdate:
        """Feed one pose of the user (None when not usable)."""
        if self._armed is not None:
            return self._update_armed(self._armed, pose, t_s)
        if self._recognizer is not None:
            done = self._recognizer.update(pose, t_s)
            if done is not None:
                return ExerciseUpdate(finished=done)
        return ExerciseUpdate()

    def _update_armed(self, armed: _Armed, pose: Pose | None, t_s: float) -> ExerciseUpdate:
        counter = armed.counter
        rep = counter.update(pose, t_s)
        if not counter.started:
            if t_s - armed.armed_at_s >= self.start_within_s:
                self._armed = None  # nobody started: the prompt's own outcome says so
            return ExerciseUpdate(rep=rep)
        status = counter.status
        reached = status.target_reps is not None and (
            min(status.per_side.values()) >= status.target_reps
            if status.per_side is not None
            else status.reps >= status.target_reps
        )
        last = counter.last_activity_s
        idle = last is not None and t_s - last >= armed.idle_end_s
        if (reached and status.phase == "neutral") or idle:
            return ExerciseUpdate(rep=rep, finished=self.finish(t_s))
        return ExerciseUpdate(rep=rep)

    def finish(self, t_s: float) -> SetCompleted | None:
        """End the set in progress now (the source ended, or the user stopped); None if none."""
        armed, self._armed = self._armed, None
        if armed is None:
            return self._recognizer.finish(t_s) if self._recognizer is not None else None
        if armed.counter.reps == 0:
            return None
        done = armed.counter.finish(t_s)
        return dataclasses.replace(done, prompt_id=armed.prompt_id, recognised=False)
