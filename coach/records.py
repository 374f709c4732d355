"""Provides the records that cross stage boundaries: frames, poses, the vocabulary and the events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum, StrEnum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from coach.landmarks import Landmark

if TYPE_CHECKING:  # the records of later stages, named only in annotations (no import cycle)
    from coach.features.posture import PostureMetrics
    from coach.statuses import CounterStatus, PlannedPrompt, SlouchStatus

FloatArray = npt.NDArray[np.float32]
ImageArray = npt.NDArray[np.uint8]


class PostureState(StrEnum):
    """The decided posture state (after hysteresis, before any nudge hold time)."""

    UPRIGHT = "upright"
    SLOUCHED = "slouched"
    AWAY = "away"
    UNKNOWN = "unknown"


class Activity(StrEnum):
    """What the user is doing, moment by moment."""

    STILL = "still"
    MOVING = "moving"
    AWAY = "away"


class Hold(StrEnum):
    """Why the desktop holds a live coach: the camera is released and the time is a break."""

    LOCKED = "locked"
    ASLEEP = "asleep"


class Condition(StrEnum):
    """What a live coach is doing besides judging posture: coaching, or why it is not."""

    COACHING = "coaching"
    PAUSED = "paused"
    """Meeting mode, asked by the user: the camera is released until it ends."""
    LOCKED = "locked"
    """The screen is locked: the camera is released, the time is a break."""
    ASLEEP = "asleep"
    """The machine sleeps: the same as locked."""
    NO_CAMERA = "no_camera"
    """The camera is missing, busy in another app or lost: the coach retries by itself."""


@dataclass(frozen=True)
class LiveStatus:
    """A live coach's condition, told to the views as it changes (no snapshot comes while
    the camera is released)."""

    condition: Condition
    detail: str
    """One line for the tray's tooltip, the dashboard and the log."""
    retry_in_s: float | None = None
    """With NO_CAMERA: seconds until the next try."""


class Reason(StrEnum):
    """Why a prompt fires: a posture problem (a slouch's reason) or sitting still."""

    FORWARD_HEAD = "forward_head"
    THORACIC_ROUNDING = "thoracic_rounding"
    STATIONARY = "stationary"


class SlouchCue(StrEnum):
    """Which measure carried a slouch verdict (the `why` beside the reason in the JSON)."""

    SCORE = "score"
    """Forward head and rounding together."""
    FORWARD_HEAD = "forward_head"
    """The nose sinking toward the shoulders (or the head growing) alone."""
    ROUNDING = "rounding"
    """The whole head sinking in the frame alone."""
    OUT_OF_FRAME = "out_of_frame"
    """The shoulders gone through the bottom edge of the frame with the head low: a slump."""
    SIDE_LEAN = "side_lean"
    """The trunk leaning to one side with the head low."""


class Outcome(StrEnum):
    """What became of a prompt."""

    DONE = "done"
    SNOOZED = "snoozed"
    SKIPPED = "skipped"
    IGNORED = "ignored"


class CountableMovement(StrEnum):
    """The movements coach can count (values are the library ids the CLI and the JSON use).

    Each has an entry in the rep table (coach.decisions.rep_table); the movement library's
    entries are `coach.movements.Movement`.
    """

    CAT_COW = "cat-cow"
    LATERAL_FLEXION = "lateral-flexion"


COUNTABLE: tuple[CountableMovement, ...] = tuple(CountableMovement)
"""The movements coach can count, in the order the CLI lists them."""


def is_countable(movement_id: str) -> bool:
    """Whether coach can count this movement (a library id)."""
    return movement_id in COUNTABLE


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded camera or video frame.

    Attributes:
        image: BGR pixels, shape (height, width, 3).
        t_s: timestamp from the stream (video position or capture time), seconds.
        index: frame number from the start of the source.
    """

    image: ImageArray
    t_s: float
    index: int

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


class Command(StrEnum):
    """What the user asks of a running coach, from a key, the tray or a notification button.

    The keys, the tray and the notification buttons make them (`coach.actions`); the
    analyzer takes the prompt ones (`PROMPT_COMMANDS`), the live stage the rest.
    """

    DONE = "done"
    SNOOZE = "snooze"
    SKIP = "skip"
    PAUSE = "pause"
    RESUME = "resume"
    QUIT = "quit"
    START_CAT_COW = "start-cat-cow"
    START_LATERAL_FLEXION = "start-lateral-flexion"
    CALIBRATE = "calibrate"
    SITTING_FINE = "sitting-fine"
    """The answer "I'm sitting fine" to a posture nudge: widen this person's upright band."""
    RELOAD_CONFIG = "reload-config"
    """The settings file changed (the tray's Settings menu): apply it at once."""


PROMPT_COMMANDS = frozenset(
    {
        Command.DONE,
        Command.SNOOZE,
        Command.SKIP,
        Command.PAUSE,
        Command.RESUME,
        Command.SITTING_FINE,
    }
)
"""The commands the analyzer's prompt policy answers."""


class Look(Enum):
    """What the loop does with a frame the source is about to decode."""

    SKIP = "skip"
    """Not due: read past, never decoded."""
    UNCHANGED = "unchanged"
    """Due, and its thumbnail shows nothing new since the last analysed frame: that
    frame's pose still stands, at this frame's time (no pose model run)."""
    ANALYSE = "analyse"
    """Decoded and given to the pose model."""


@dataclass(frozen=True)
class SkippedFrame:
    """A frame read past without being decoded: the analysis loop would not have used it."""

    t_s: float
    index: int
    unchanged: bool = False
    """Its thumbnail matched the last analysed frame: the pose then is the pose now."""


class Tracking(Enum):
    """Whether a frame's pose can be trusted."""

    OK = "ok"
    NO_PERSON = "no_person"
    LOW_VISIBILITY = "low_visibility"


@dataclass(frozen=True, eq=False)
class Pose:
    """The landmarks of one person in one frame, converted once from MediaPipe.

    Attributes:
        t_s: the frame's timestamp, seconds.
        image_xyz: (33, 3) normalised image coordinates: x and y in [0, 1] of the
            frame width and height, z a relative depth on the scale of x.
        world_xyz: (33, 3) metric coordinates, metres, origin between the hips.
        visibility: (33,) likelihood each landmark is visible (not occluded).
        presence: (33,) likelihood each landmark is inside the frame.
        image_size: (width, height) of the analysed frame, pixels.
        tracking: whether the landmarks the coach needs are visible enough.
    """

    t_s: float
    image_xyz: FloatArray
    world_xyz: FloatArray
    visibility: FloatArray
    presence: FloatArray
    image_size: tuple[int, int]
    tracking: Tracking = Tracking.OK

    def pixels(self, landmark: Landmark) -> npt.NDArray[np.float64]:
        """Return one landmark's (x, y) position in pixels."""
        x, y = self.image_xyz[landmark, :2]
        return np.array([x * self.image_size[0], y * self.image_size[1]], dtype=np.float64)

    def is_visible(
        self, landmarks: tuple[Landmark, ...], min_visibility: float, min_presence: float
    ) -> bool:
        """Whether every given landmark is visible enough and likely inside the frame."""
        idx = list(landmarks)
        return bool(
            np.all(self.visibility[idx] >= min_visibility)
            and np.all(self.presence[idx] >= min_presence)
        )

    def with_landmarks(self, image_xyz: FloatArray, world_xyz: FloatArray) -> Pose:
        """Return a copy with new coordinates (e.g. after smoothing)."""
        return replace(self, image_xyz=image_xyz, world_xyz=world_xyz)


# The events the decisions emit (prompts, outcomes, sets) for the views and the session log.


@dataclass(frozen=True)
class Nudge:
    """A prompt to the user: what was seen and which movement answers it."""

    t_s: float
    reason: Reason
    movement: str
    """The movement's id in the library."""
    title: str
    message: str
    prompt_id: int = 0
    """Numbers prompts within a run, so outcomes and sets can refer back to them."""
    extra_movements: tuple[str, ...] = ()
    """Further movements suggested with this prompt (e.g. a lower-body one after stillness)."""


@dataclass(frozen=True)
class PromptResolved:
    """What happened after a prompt."""

    t_s: float
    prompt_id: int
    outcome: Outcome
    correction_s: float | None = None
    """After a posture nudge: seconds until the user was upright again."""


@dataclass(frozen=True)
class RepDetail:
    """One counted repetition."""

    start_s: float
    end_s: float
    phase_s: tuple[float, ...]
    """Duration of each phase (e.g. cow, cat; or lean, return), seconds."""
    range: float
    """Range of motion in the counter's own units (fraction of the user's usual range = 1)."""
    partial: bool
    side: str | None = None
    """"left" or "right" for lateral flexion."""


@dataclass(frozen=True)
class SetCompleted:
    """A set of a countable movement, finished (guided, prompted or recognised unprompted)."""

    t_s: float
    movement: str
    """A `CountableMovement`."""
    reps: int
    start_s: float
    end_s: float
    per_side: dict[str, int] | None = None
    reps_detail: tuple[RepDetail, ...] = ()
    feedback: tuple[str, ...] = ()
    prompt_id: int | None = None
    """The prompt this set answered, if any."""
    recognised: bool = False
    """True when the set was done without a prompt and recognised from the movement."""


@dataclass(frozen=True)
class Interruption:
    """A stretch of a live session with no frames, just ended: the camera was released or
    lost, the screen locked, the machine asleep, or the coach itself stopped."""

    start_s: float
    end_s: float
    condition: Condition

    @property
    def rest(self) -> bool:
        """Locked or asleep: the user had a break. Otherwise (paused, no camera) the time
        counts as neither sitting nor away."""
        return self.condition in (Condition.LOCKED, Condition.ASLEEP)

    @property
    def duration_s(self) -> float:
        """How long it lasted, seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class BandWidened:
    """The user said "I'm sitting fine" to a posture nudge: the upright band of the cue that
    fired was widened (bounded; kept in the profile; undone by calibrating again)."""

    t_s: float
    reason: Reason
    """The nudge's reason."""
    cue: SlouchCue
    """The measure whose band was widened."""
    new_threshold: float
    """Its enter threshold now (metric points, or degrees for a side lean)."""
    factor: float
    """The band's total widening (1 = as calibrated; at most `MAX_WIDEN`)."""
    recentred: float = 0.0
    """Points the measure is re-centred by this session (its reading when the user answered,
    bounded; the score: the larger of its two measures')."""


Event = Nudge | PromptResolved | SetCompleted | Interruption | BandWidened
"""What the decisions emit for the views and the session log."""


@dataclass(frozen=True, eq=False)
class PoseSample:
    """What the pose stage saw at one timestamp: a pose, or the reason there is none."""

    t_s: float
    pose: Pose | None
    tracking: Tracking
    people: int = 0
    """How many people the model found (the coach follows one)."""
    brightness: float | None = None
    """Mean luminance of the frame, 0-255 (None for recorded landmarks)."""
    contrast: float | None = None
    """Luminance standard deviation: near 0 when the lens is covered."""

    def at(self, t_s: float) -> PoseSample:
        """The same sighting at a later time (the picture did not change)."""
        pose = None if self.pose is None else replace(self.pose, t_s=t_s)
        return replace(self, t_s=t_s, pose=pose)

    @property
    def usable(self) -> bool:
        """Whether later stages may measure this sample."""
        return self.pose is not None and self.tracking is Tracking.OK


class Reply(Enum):
    """What a stage or a sink asks of the loop after one snapshot."""

    CONTINUE = "continue"
    STOP = "stop"
    """End the run here (a finished guided set, a recorded neutral, a closed window)."""


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
    activity: Activity | None = None
    """Still, moving or away (None until the user is seen): the stationary estimate."""
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
    reply: Reply = Reply.CONTINUE
    """What the analysis asks of the loop (STOP: the session's goal is met)."""

    @property
    def nudge(self) -> Nudge | None:
        """The prompt that fired at this moment, if any."""
        return next((e for e in self.events if isinstance(e, Nudge)), None)

    @property
    def state(self) -> PostureState:
        """The decided posture state (a StrEnum: published as "upright", "slouched", ...)."""
        return self.slouch.state
