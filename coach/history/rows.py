"""Provides the rows the history stores and the records its writer queues for them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class PostureSampleRow:
    """One aggregated window of posture (wall-clock epoch seconds; no pixels, no landmarks)."""

    t: float
    """Window start, seconds since the Unix epoch."""
    window_s: float
    state: str
    """The state that held for most of the window."""
    upright_s: float
    slouched_s: float
    away_s: float
    unknown_s: float
    forward_head_mean: float | None
    thoracic_rounding_mean: float | None
    activity: str | None
    """The activity that held for most of the window, None when not yet known."""
    seated_s: float | None
    """Seated time since the last real break, at the window's end."""


# The posture_samples columns a window writes (beside session_id and t): one list for the
# insert and the in-place update of the window still filling.
SAMPLE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(PostureSampleRow) if f.name != "t"
)


def sample_values(row: PostureSampleRow) -> tuple[object, ...]:
    """A window's values in SAMPLE_FIELDS order."""
    return tuple(getattr(row, name) for name in SAMPLE_FIELDS)


@dataclass(frozen=True)
class RepRecord:
    """One repetition of a set; times are seconds from the set's start."""

    index: int
    start_s: float
    end_s: float
    phase_s: tuple[float, ...]
    range: float | None
    partial: bool
    side: str | None = None


@dataclass(frozen=True)
class SetRecord:
    """A finished set, from the camera or logged by hand."""

    t: float
    """When the set started, seconds since the Unix epoch."""
    movement: str
    reps: int
    source: str = "camera"
    duration_s: float | None = None
    per_side_left: int | None = None
    per_side_right: int | None = None
    mean_phase_s: float | None = None
    """Mean length of one phase over the full reps (tempo; about 2 s is the aim), seconds."""
    partial_reps: int = 0
    feedback: tuple[str, ...] = ()
    prompt_id: int | None = None
    recognised: bool = False
    reps_detail: tuple[RepRecord, ...] = ()
    fatigue_before: int | None = None
    fatigue_after: int | None = None


SessionRef = int
"""A session as the writer knows it (not its database id, which only the writer thread sees)."""


@dataclass(frozen=True)
class StartSession:
    ref: SessionRef
    source: str
    started_at: float


@dataclass(frozen=True)
class EndSession:
    ref: SessionRef
    ended_at: float


@dataclass(frozen=True)
class AddSample:
    ref: SessionRef
    row: PostureSampleRow
    replace: bool = False
    """Update the session's window that starts at row.t, if logged; else insert."""


@dataclass(frozen=True)
class AddPrompt:
    ref: SessionRef
    prompt_id: int
    t: float
    reason: str
    movement: str


@dataclass(frozen=True)
class ResolvePrompt:
    ref: SessionRef
    prompt_id: int
    outcome: str
    outcome_t: float
    correction_s: float | None


@dataclass(frozen=True)
class AddSet:
    ref: SessionRef | None
    record: SetRecord
    replace: bool = False
    """Replace the session's set, if logged (a checkpoint of a guided set in progress)."""


@dataclass(frozen=True)
class AddNote:
    t: float
    text: str


Sessions = list[tuple[StartSession, int | None]]
"""Sessions already in a database that records of a batch belong to, with their row ids."""

Record = StartSession | EndSession | AddSample | AddPrompt | ResolvePrompt | AddSet | AddNote
"""What the writer writes."""
