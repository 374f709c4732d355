"""Provides the movement coach's prompt policy: what to prompt, when, and what became of it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from coach.config import (
    DAYS,
    NudgeConfig,
    PromptConfig,
    StationaryConfig,
    working_days,
    working_hours,
)
from coach.decisions.nudge import PostureNudger, nudge_text
from coach.decisions.stationary import ActivityStatus
from coach.movements import Movement, MovementLibrary
from coach.records import (
    Activity,
    CountableMovement,
    Nudge,
    Outcome,
    PostureState,
    PromptResolved,
    Reason,
    SetCompleted,
    is_countable,
)
from coach.statuses import PlannedPrompt, SlouchStatus

# The movements that answer each posture problem most directly, in the order offered.
PRIMARY_MOVEMENTS: dict[Reason, tuple[str, ...]] = {
    Reason.FORWARD_HEAD: ("neck-waves", "chin-tuck"),
    Reason.THORACIC_ROUNDING: (
        CountableMovement.CAT_COW,
        "scapular-retraction",
        "thoracic-extension",
    ),
}
# After long stillness: one lower-body movement plus one of these spine movements.
STILLNESS_SPINE = (CountableMovement.CAT_COW, CountableMovement.LATERAL_FLEXION)

Clock = Callable[[float], dt.datetime]
"""Maps stream time to local wall-clock time (live sessions only)."""


class MovementChooser:
    """Rotation rules: no movement in two prompts in a row; body regions spread over the day."""

    def __init__(self, library: MovementLibrary) -> None:
        self.library = library
        self._previous: set[str] = set()
        self._last_used_s: dict[str, float] = {}
        self._region_count: Counter[str] = Counter()

    def _pick(self, candidates: list[Movement], avoid: set[str]) -> Movement:
        blocked = self._previous | avoid
        options = [m for m in candidates if m.id not in blocked] or candidates
        # Least-used region first, then the movement not offered for longest, then library order.
        return min(
            options,
            key=lambda m: (
                self._region_count[m.region],
                self._last_used_s.get(m.id, float("-inf")),
                candidates.index(m),
            ),
        )

    def _offer(self, movements: tuple[Movement, ...], t_s: float) -> tuple[Movement, ...]:
        for movement in movements:
            self._last_used_s[movement.id] = t_s
            self._region_count[movement.region] += 1
        self._previous = {m.id for m in movements}
        return movements

    def for_posture(self, problem: Reason, t_s: float) -> Movement:
        """The movement for a posture problem (its primary movements, rotated)."""
        answering = list(self.library.for_problem(problem))
        primary = [m for m in answering if m.id in PRIMARY_MOVEMENTS.get(problem, ())]
        return self._offer((self._pick(primary or answering, set()),), t_s)[0]

    def for_stillness(self, t_s: float) -> tuple[Movement, Movement]:
        """One leg-focused lower-body movement plus seated cat-cow or lateral flexion."""
        lower = list(self.library.for_problem("stationary_lower_body"))
        legs = self._pick([m for m in lower if m.leg_focused] or lower, set())
        spine = [self.library.get(i) for i in STILLNESS_SPINE if i in self.library.ids]
        second = self._pick(spine, {legs.id}) if spine else legs
        offered = self._offer((legs, second), t_s)
        return offered[0], offered[1]


def within_working_hours(when: dt.datetime, hours: str, days: str) -> bool:
    """Whether `when` is inside "HH:MM-HH:MM" on one of the listed days (empty = always).

    Both are checked when the config loads, so a bad one never reaches a live frame.
    """
    return _within(when, working_hours(hours), working_days(days))


def _within(when: dt.datetime, span: tuple[dt.time, dt.time] | None, days: frozenset[str]) -> bool:
    if DAYS[when.weekday()] not in days:
        return False
    if span is None:
        return True
    start, end = span
    now = when.time()
    return start <= now < end if start <= end else (now >= start or now < end)


@dataclass
class _OpenPrompt:
    nudge: Nudge
    countable: bool
    correction_s: float | None = None


class PromptPolicy:
    """Decides when to prompt and with what, and follows each prompt to its outcome.

    Gates, in order: paused (meeting mode), snoozed, outside working hours, user away,
    cooldown since the last prompt. Posture prompts wait for the slouch hold time; stillness
    prompts for `still_minutes` of sitting; a leg movement is due within every hour seated.
    """

    def __init__(
        self,
        nudge: NudgeConfig,
        prompts: PromptConfig,
        stationary: StationaryConfig,
        library: MovementLibrary,
        clock: Clock | None = None,
    ) -> None:
        self.config = prompts
        self.stationary = stationary
        self.chooser = MovementChooser(library)
        self._posture = PostureNudger(nudge, prompts.cooldown_s)
        self._clock = clock
        # Parsed once: the working hours are asked about on every live frame.
        self._hours = working_hours(prompts.working_hours)
        self._days = working_days(prompts.working_days)
        self._last_prompt_s: float | None = None
        self._last_stillness_s: float | None = None
        self._last_leg_s: float | None = None
        self._paused_until_s: float | None = None
        self._snoozed_until_s: float | None = None
        self._open: list[_OpenPrompt] = []

        self._next_id = 1

    def reconfigure(self, nudge: NudgeConfig, prompts: PromptConfig) -> None:
        """New settings from the next frame (changed in a running coach): the hold time,
        working hours and the rest; open prompts, snoozes and timers carry on."""
        self._hours = working_hours(prompts.working_hours)
        self._days = working_days(prompts.working_days)
        self.config = prompts
        self._posture.reconfigure(nudge, prompts.cooldown_s)

    # -- user commands (from keys in the views; time is the frame's) --------------------

    def snooze(self, t_s: float) -> list[PromptResolved]:
        """Snooze prompts for `snooze_s`; the open prompt counts as snoozed."""
        self._snoozed_until_s = t_s + self.config.snooze_s
        return self._resolve_all(t_s, Outcome.SNOOZED)

    def pause(self, t_s: float, duration_s: float | None = None) -> None:
        """Meeting mode: no prompts until the pause ends by itself."""
        self._paused_until_s = t_s + (duration_s if duration_s is not None else self.config.pause_s)

    def resume(self) -> None:
        """End a pause or snooze early."""
        self._paused_until_s = self._snoozed_until_s = None

    def skip(self, t_s: float) -> list[PromptResolved]:
        """The user skipped the open prompt."""
        return self._resolve_all(t_s, Outcome.SKIPPED)

    def confirm(self, t_s: float) -> list[PromptResolved]:
        """The user says they did the movement."""
        return self._resolve_all(t_s, Outcome.DONE)

    def paused_until_s(self, t_s: float) -> float | None:
        """When the pause ends, if paused now."""
        if self._paused_until_s is not None and t_s < self._paused_until_s:
            return self._paused_until_s
        return None

    def snoozed_until_s(self, t_s: float) -> float | None:
        """When the snooze ends, if snoozed now."""
        if self._snoozed_until_s is not None and t_s < self._snoozed_until_s:
            return self._snoozed_until_s
        return None

    def posture_next_in_s(self, slouch: SlouchStatus, t_s: float) -> float | None:
        """Seconds until a posture nudge if the slouch goes on (None when not slouched)."""
        return self._posture.next_in_s(slouch, t_s)

    @property
    def open_prompt(self) -> Nudge | None:
        """The most recent prompt still awaiting an outcome."""
        return self._open[-1].nudge if self._open else None

    # -- the loop ------------------------------------------------------------------------

    def _gated(self, t_s: float, activity: ActivityStatus) -> bool:
        if self.paused_until_s(t_s) is not None or self.snoozed_until_s(t_s) is not None:
            return True
        if self._clock is not None and not _within(self._clock(t_s), self._hours, self._days):
            return True
        if activity.activity is not Activity.STILL and activity.activity is not Activity.MOVING:
            return True  # never prompt someone who is away (or not yet seen)
        return (
            self._last_prompt_s is not None and t_s - self._last_prompt_s < self.config.cooldown_s
        )

    def _stillness_in_s(self, t_s: float, activity: ActivityStatus) -> float:
        """Seconds until sitting still earns a prompt: `still_minutes` into a sitting, then
        `still_minutes` after the last such prompt if the user still has not moved."""
        still_s = self.stationary.still_minutes * 60.0
        wait_s = still_s - activity.seated_s
        if self._last_stillness_s is not None and t_s - activity.seated_s <= self._last_stillness_s:
            wait_s = max(wait_s, self._last_stillness_s + still_s - t_s)
        return wait_s

    def _leg_due(self, t_s: float, activity: ActivityStatus) -> bool:
        last = self._last_leg_s if self._last_leg_s is not None else t_s - activity.seated_s
        return t_s - last >= self.config.leg_every_s - self.config.cooldown_s

    def next_prompt(
        self, t_s: float, slouch: SlouchStatus, activity: ActivityStatus
    ) -> PlannedPrompt | None:
        """The next prompt if nothing changes: in how long, and why."""
        if activity.activity is None or activity.activity is Activity.AWAY:
            return None
        due = [
            PlannedPrompt(
                self._stillness_in_s(t_s, activity),
                f"sitting still for {self.stationary.still_minutes:g} min",
            )
        ]
        posture_in = self._posture.next_in_s(slouch, t_s)
        if posture_in is not None and slouch.reason is not None:
            due.append(PlannedPrompt(posture_in, slouch.reason.replace("_", " ")))
        planned = min(due, key=lambda p: p.in_s)
        blocked_until = max(
            self.paused_until_s(t_s) or t_s,
            self.snoozed_until_s(t_s) or t_s,
            (self._last_prompt_s + self.config.cooldown_s)
            if self._last_prompt_s is not None
            else t_s,
        )
        return PlannedPrompt(max(planned.in_s, blocked_until - t_s, 0.0), planned.reason)

    def update(
        self,
        t_s: float,
        slouch: SlouchStatus,
        activity: ActivityStatus,
        sets: tuple[SetCompleted, ...] = (),
    ) -> tuple[Nudge | None, list[PromptResolved]]:
        """Advance to `t_s`: maybe a new prompt, and the outcomes of earlier ones."""
        if activity.break_taken:
            self._last_leg_s = t_s  # a real break moves the legs
        resolved = self._follow_up(t_s, slouch, activity, sets)
        posture_due = self._posture.due(slouch, t_s)
        if self._gated(t_s, activity):
            return None, resolved
        nudge: Nudge | None = None
        if self._stillness_in_s(t_s, activity) <= 0 or self._leg_due(t_s, activity):
            nudge = self._stillness_prompt(t_s, activity)
            self._last_stillness_s = t_s
        elif posture_due and slouch.reason is not None:
            self._posture.mark_nudged(t_s)
            nudge = self._posture_prompt(t_s, slouch)
        if nudge is not None:
            self._last_prompt_s = t_s
            countable = any(is_countable(m) for m in (nudge.movement, *nudge.extra_movements))
            self._open.append(_OpenPrompt(nudge, countable))
        return nudge, resolved

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _posture_prompt(self, t_s: float, slouch: SlouchStatus) -> Nudge:
        assert slouch.reason is not None
        reason = slouch.reason
        movement = self.chooser.for_posture(reason, t_s)
        title, message = nudge_text(reason, t_s - slouch.since_s, movement)
        return Nudge(t_s, reason, movement.id, title, message, prompt_id=self._new_id())

    def _stillness_prompt(self, t_s: float, activity: ActivityStatus) -> Nudge:
        legs, spine = self.chooser.for_stillness(t_s)
        self._last_leg_s = t_s
        minutes = max(1, round(activity.seated_s / 60.0))
        title = f"Time to move: {legs.name.lower()} and {spine.name.lower()}"
        message = (
            f"You have been sitting still for about {minutes} min. Try {legs.name} "
            f"({legs.dose_text}), then {spine.name} ({spine.dose_text}): {spine.cues[0]}"
        )
        return Nudge(
            t_s,
            Reason.STATIONARY,
            legs.id,
            title,
            message,
            prompt_id=self._new_id(),
            extra_movements=(spine.id,),
        )

    def _resolve_all(self, t_s: float, outcome: Outcome) -> list[PromptResolved]:
        out = [PromptResolved(t_s, p.nudge.prompt_id, outcome, p.correction_s) for p in self._open]
        self._open.clear()
        return out

    def _follow_up(
        self,
        t_s: float,
        slouch: SlouchStatus,
        activity: ActivityStatus,
        sets: tuple[SetCompleted, ...],
    ) -> list[PromptResolved]:
        resolved: list[PromptResolved] = []
        moving_since_s = activity.since_s if activity.activity is Activity.MOVING else None
        for prompt in list(self._open):
            nudge = prompt.nudge
            if (
                nudge.reason != Reason.STATIONARY
                and slouch.state is PostureState.UPRIGHT
                and prompt.correction_s is None
            ):
                prompt.correction_s = t_s - nudge.t_s
            counted = any(
                s.prompt_id == nudge.prompt_id
                or (s.movement in (nudge.movement, *nudge.extra_movements) and s.t_s >= nudge.t_s)
                for s in sets
            )
            # Movements the camera cannot count are "done" once it sees the user moving
            # for a few seconds after the prompt; countable ones need the counted set.
            seen_moving = (
                (not prompt.countable or nudge.reason == Reason.STATIONARY)
                and moving_since_s is not None
                and t_s - max(moving_since_s, nudge.t_s) >= self.config.seen_moving_s
            )
            outcome: Outcome | None = None
            if counted or seen_moving:
                outcome = Outcome.DONE
            elif t_s - nudge.t_s >= self.config.respond_s:
                outcome = Outcome.IGNORED
            if outcome is not None:
                self._open.remove(prompt)
                resolved.append(PromptResolved(t_s, nudge.prompt_id, outcome, prompt.correction_s))
        return resolved
