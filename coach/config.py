"""Provides the frozen, per-stage configuration and its TOML loader."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from coach.decisions.reps import RepConfig
from coach.errors import ConfigError


@dataclass(frozen=True)
class SourceConfig:
    """How frames are read."""

    camera_width_px: int = 640
    """Requested webcam width; the camera may pick the nearest it supports."""
    camera_height_px: int = 480
    """Requested webcam height."""
    camera_fps: float = 30.0
    """Requested webcam frame rate."""
    stream_open_timeout_s: float = 8.0
    """How long to wait for a stream URL (MJPEG, RTSP) before giving up."""
    stream_read_timeout_s: float = 5.0
    """How long a live source may deliver no frame before it counts as lost."""
    reconnect_s: float = 30.0
    """How long to keep reopening a camera or stream that dropped out before giving up (0: do
    not reopen it)."""


@dataclass(frozen=True)
class PoseConfig:
    """How landmarks are estimated and cleaned."""

    max_people: int = 2
    """People the model looks for; the coach follows one (the user) among them."""
    min_detection_confidence: float = 0.5
    """Person-detector score below which a frame has no person."""
    min_tracking_confidence: float = 0.5
    """Landmark-tracking score below which the detector runs again."""
    min_visibility: float = 0.5
    """Head and shoulder landmarks below this visibility make a frame untrusted."""
    min_presence: float = 0.2
    """Below this in-frame likelihood a head or shoulder landmark is taken as out of frame.

    Lower than `min_visibility`: the model's presence dips for shoulders near the bottom
    edge that are plainly visible; positions outside the frame are rejected separately."""
    smoothing_min_cutoff_hz: float = 1.0
    """One-Euro filter cutoff at rest: lower removes more jitter, adds more lag."""
    smoothing_beta: float = 8.0
    """One-Euro filter speed coefficient: higher follows fast moves with less lag."""
    max_input_width_px: int = 640
    """Frames wider than this are downscaled before the model (saves CPU)."""


@dataclass(frozen=True)
class LoopConfig:
    """How often the pipeline analyses frames."""

    idle_fps: float = 1.0
    """Analysis rate while the user sits still and nothing changes (the always-on cost)."""
    posture_fps: float = 5.0
    """Analysis rate while something changes (a move, arriving, leaving), calibrating, or a
    prompt is open; kept for `settle_s` after the last change."""
    settle_s: float = 5.0
    """How long the analysis stays at `posture_fps` after the last change."""
    wake_shift_widths: float = 0.08
    """A move of the head or shoulders by this much between two looks is a change, in body
    widths (the shoulder width, or twice the head's height when turned sideways; landmark
    jitter on real people is about 0.02-0.03)."""
    wake_score: float = 3.0
    """A change of the slouch score by this much between two looks is a change too (the
    score enters a slouch at 10): the coach looks closely while a posture is on the move."""
    exercise_fps: float = 15.0
    """Analysis rate while counting reps (movement needs finer sampling)."""
    away_fps: float = 2.0
    """Analysis rate while nobody is at the desk (enough to notice the return; saves CPU)."""
    glance: bool = True
    """While nothing happens, glance at thumbnails and run the pose model only on a change
    (False: analyse every frame due at `idle_fps`; `coach record` does, to replay exactly)."""
    glance_fps: float = 4.0
    """While nothing happens (the user upright and still, or away), how often a tiny grey
    thumbnail of the picture is compared with the one at the last look (microseconds each);
    the pose model runs only when the user's part of it changed, at most `idle_fps`."""
    quiet_look_s: float = 5.0
    """While nothing happens, the longest time without running the pose model: it catches
    a change too slow for the thumbnail (a slow creep into a slouch)."""
    change_fraction: float = 0.12
    """A thumbnail has changed when this share of its pixels around the user's head and
    shoulders (the whole picture when nobody is seen) differs from the last look."""
    change_step: float = 12.0
    """By how many grey levels (of 255) a thumbnail pixel must differ to count as changed
    (after evening out a change of exposure; camera noise is about 1 level)."""
    sample_period_s: float = 1.0
    """Spacing of the samples reported by `coach analyze`."""


@dataclass(frozen=True)
class PreviewConfig:
    """The optional preview window."""

    show_window: bool = True
    """Open a preview window when a display is available."""
    skeleton_only: bool = False
    """Draw the skeleton on a blank canvas and never show camera pixels."""


@dataclass(frozen=True)
class CalibrationConfig:
    """How the neutral posture is recorded and adapted."""

    calibrate_s: float = 5.0
    """Seconds of sitting tall that make a neutral (automatic or `coach calibrate`)."""
    min_usable_fraction: float = 0.6
    """Share of calibration frames that must show the user clearly, or it restarts."""
    better_tau_s: float = 60.0
    """Time constant of following clearly better posture (sitting taller than at calibration)."""
    worse_tau_s: float = 7200.0
    """Time constant of following posture near neutral (hours). Only postures that no cue
    reads as worse than the neutral are followed at all, so a slouch never becomes normal."""
    better_margin: float = 5.0
    """Metric points below zero that count as clearly better than neutral."""
    moved_shift: float = 0.4
    """Mid-shoulder shift, in shoulder widths, that means the camera or seat moved."""
    moved_scale: float = 0.2
    """Change in shoulder width (fraction) with an unchanged head-to-shoulder ratio: moved."""
    moved_after_s: float = 20.0
    """How long the shift must last before the user is asked to recalibrate."""


@dataclass(frozen=True)
class SlouchConfig:
    """When posture counts as slouched (metric points: 0 is neutral)."""

    median_window_s: float = 1.5
    """Posture cues are the median over this much recent time (removes landmark jitter)."""
    score_enter: float = 10.0
    """Slouch score (the mean of forward head and rounding) at or above which posture is
    slouched: the nose sinking toward the shoulders and the head sinking in the frame agree."""
    score_exit: float = 6.0
    """Slouch score at or below which posture is upright again."""
    forward_head_enter: float = 15.0
    """Forward head alone at or above which posture is slouched (the other cue unmoved)."""
    forward_head_exit: float = 10.0
    """Forward head at or below which (with the score) posture is upright again."""
    rounding_enter: float = 15.0
    """Thoracic rounding alone at or above which posture is slouched."""
    rounding_exit: float = 10.0
    """Thoracic rounding at or below which (with the score) posture is upright again."""
    enter_after_s: float = 2.0
    """Minimum duration above the enter thresholds before the state turns slouched."""
    exit_after_s: float = 1.0
    """Minimum duration below the exit thresholds before the state turns upright."""
    glance_pitch: float = 0.08
    """A nod this far from neutral (shoulder widths of nose drop below the ears) may be a
    glance at the keyboard rather than a slouch..."""
    glance_s: float = 3.0
    """...so while the head is nodded the slouch must last this long before the state turns
    slouched (a glance is over by then; a head kept down is a slouch however it is pitched)."""
    away_after_s: float = 3.0
    """Seconds with nobody in view before the state is "away" (brief misses are held)."""
    unknown_after_s: float = 3.0
    """Seconds of untrusted landmarks before the state is "unknown"."""

    def __post_init__(self) -> None:
        for enter, exit_ in (
            ("score_enter", "score_exit"),
            ("forward_head_enter", "forward_head_exit"),
            ("rounding_enter", "rounding_exit"),
        ):
            if getattr(self, enter) <= getattr(self, exit_):
                raise ConfigError(
                    f"[slouch] {enter} ({getattr(self, enter):g}) must be above "
                    f"{exit_} ({getattr(self, exit_):g}): the gap between them stops flicker"
                )


@dataclass(frozen=True)
class NudgeConfig:
    """When and how the user is nudged."""

    hold_s: float = 45.0
    """Continuous slouched time before a nudge."""
    cooldown_s: float = 300.0
    """Minimum time between two posture nudges."""
    desktop: bool = True
    """Send a desktop notification (skipped quietly where there is no notification service)."""
    chime: bool = False
    """Play a soft chime with each nudge."""
    show_s: float = 15.0
    """How long the nudge text stays on the dashboard and preview."""


@dataclass(frozen=True)
class StationaryConfig:
    """How stillness, movement breaks and absence are told apart."""

    window_s: float = 2.0
    """Motion compares the trunk's median place over the later and the earlier half of this much
    recent stream time (a displacement: landmark jitter and the frame rate do not add to it)."""
    moving_shift_widths: float = 0.25
    """The trunk's centre moved this many shoulder widths across the window: the user is moving."""
    standing_rise_widths: float = 0.5
    """The trunk this many shoulder widths above where the user last sat settled: standing, which
    counts as moving (even when standing quietly) until they sit back down."""
    reseat_after_s: float = 30.0
    """Settled this long that high, it is taken as the new seat (the camera or chair moved)."""
    moving_after_s: float = 1.0
    """Movement must last this long before the state turns "moving"."""
    still_after_s: float = 1.5
    """Calm must last this long before the state turns "still" again."""
    away_after_s: float = 3.0
    """Seconds without the user before "away" (a missed detection or brief occlusion is held)."""
    away_break_s: float = 60.0
    """Time away that counts as a break and resets the sitting timer."""
    moving_break_s: float = 10.0
    """Continuous movement (standing, stretching) that counts as a break."""
    still_minutes: float = 30.0
    """Sitting this long without a break earns a movement prompt."""
    min_still_interval_s: float = 5.0
    """Shorter still stretches are not reported as intervals."""
    user_scale_tolerance: float = 0.4
    """A person whose shoulder width differs from the user's by more than this share is someone else."""
    user_shift_widths: float = 1.2
    """...or whose shoulders are this many of the user's shoulder widths away from the user's place."""


@dataclass(frozen=True)
class PromptConfig:
    """The movement coach's prompt policy."""

    cooldown_s: float = 300.0
    """Minimum time between any two prompts."""
    respond_s: float = 300.0
    """A prompt nobody answers (done, snoozed, skipped) within this long counts as ignored."""
    snooze_s: float = 900.0
    """How long a snooze lasts (it ends by itself)."""
    pause_s: float = 1800.0
    """How long pause / meeting mode lasts (the camera is released; it resumes by itself)."""
    leg_every_s: float = 3600.0
    """At least one leg-focused movement within this much seated time."""
    working_hours: str = "08:00-19:00"
    """Prompts only between these local times (live sessions; "" = always)."""
    working_days: str = "mon,tue,wed,thu,fri"
    """Prompts only on these days (live sessions; "" = every day)."""
    seen_moving_s: float = 4.0
    """After a prompt for a movement the camera cannot count, this much movement counts as done."""


@dataclass(frozen=True)
class Config:
    """The whole configuration, one section per stage."""

    source: SourceConfig = field(default_factory=SourceConfig)
    pose: PoseConfig = field(default_factory=PoseConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    preview: PreviewConfig = field(default_factory=PreviewConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    slouch: SlouchConfig = field(default_factory=SlouchConfig)
    nudge: NudgeConfig = field(default_factory=NudgeConfig)
    stationary: StationaryConfig = field(default_factory=StationaryConfig)
    prompts: PromptConfig = field(default_factory=PromptConfig)
    reps: RepConfig = field(default_factory=RepConfig)


T = TypeVar("T")


def load_config(path: Path | None) -> Config:
    """Load a TOML file over the defaults; every key is checked.

    Args:
        path: a TOML file, or None for the defaults.

    Returns:
        The frozen configuration.

    Raises:
        ConfigError: the file is missing, not TOML, or has an unknown key or bad value.
    """
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return from_mapping(Config, data, where=str(path))


def from_mapping(cls: type[T], data: dict[str, Any], where: str) -> T:
    """Build a config dataclass from a mapping, checking names, types and ranges."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table")
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    known = {f.name for f in fields}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    values: dict[str, Any] = {}
    for name, raw in data.items():
        section = dataclasses.is_dataclass(hints[name])
        values[name] = _coerce(
            hints[name], raw, f"{where} [{name}]" if section else f"{where} {name}"
        )
    # The section as it will be (defaults and the file's values) is checked as a whole.
    merged = {f.name: getattr(cls(), f.name) for f in fields} | values
    _check_section(cls.__name__, merged, where)
    return cls(**values)


# Every number must be finite and not negative. Beyond that, by setting name:
# rates, sizes, windows and time constants must be above 0 (0 would stall or divide by zero);
_ABOVE_ZERO = frozenset(
    {
        "camera_width_px",
        "camera_height_px",
        "camera_fps",
        "stream_open_timeout_s",
        "stream_read_timeout_s",
        "max_people",
        "smoothing_min_cutoff_hz",
        "max_input_width_px",
        "idle_fps",
        "posture_fps",
        "settle_s",
        "wake_shift_widths",
        "wake_score",
        "exercise_fps",
        "away_fps",
        "glance_fps",
        "quiet_look_s",
        "change_fraction",
        "change_step",
        "sample_period_s",
        "calibrate_s",
        "min_usable_fraction",
        "better_tau_s",
        "worse_tau_s",
        "moved_shift",
        "moved_scale",
        "median_window_s",
        "window_s",
        "moving_shift_widths",
        "standing_rise_widths",
        "still_minutes",
        "user_scale_tolerance",
        "user_shift_widths",
        "respond_s",
        "leg_every_s",
        "enter_fraction",
        "exit_fraction",
        "prior_window_s",
        "max_phase_s",
        "usual_window_reps",
        "baseline_window_s",
        "baseline_tau_s",
        "smoothing_samples",
        "smoothing_alpha",
        "target_phase_s",
        "recognise_min_reps",
        "recognise_min_period_s",
        "recognise_period_ratio",
        "nominal_cat_cow_range",
        "nominal_lateral_deg",
    }
)
# shares and probabilities are at most 1;
_AT_MOST_ONE = frozenset(
    {
        "min_detection_confidence",
        "min_tracking_confidence",
        "min_visibility",
        "min_presence",
        "min_usable_fraction",
        "moved_scale",
        "change_fraction",
        "enter_fraction",
        "exit_fraction",
        "exit_gate_fraction",
        "cat_cow_return_fraction",
        "lateral_min_width_ratio",
        "partial_fraction",
        "smoothing_alpha",
        "recognise_range_ratio",
    }
)
# durations (*_s) are at most a week, and these have their own ceilings (anything else: 1e6).
_WEEK_S = 7 * 24 * 3600.0
_AT_MOST = {
    "camera_width_px": 16384,
    "camera_height_px": 16384,
    "max_input_width_px": 16384,
    "max_people": 10,
    "camera_fps": 240,
    "idle_fps": 240,
    "posture_fps": 240,
    "exercise_fps": 240,
    "away_fps": 240,
    "glance_fps": 240,
    "change_step": 255,
    "still_minutes": _WEEK_S / 60,
}
_CEILING = 1e6
# Thresholds whose first must be above the second: the gap between an enter and an exit level
# stops flicker; a minimum above its maximum would admit nothing.
_ABOVE = {
    "SlouchConfig": (
        ("score_enter", "score_exit"),
        ("forward_head_enter", "forward_head_exit"),
        ("rounding_enter", "rounding_exit"),
    ),
    "RepConfig": (
        ("enter_fraction", "exit_fraction"),
        ("max_phase_s", "min_phase_s"),
        ("recognise_max_period_s", "recognise_min_period_s"),
        ("keep_moving_phase_s", "slow_down_phase_s"),
    ),
}


def _check_section(section: str, values: dict[str, Any], where: str) -> None:
    for name, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            _check_number(name, value, f"{where} {name}")
    for high, low in _ABOVE.get(section, ()):
        if not values[high] > values[low]:
            raise ConfigError(
                f"{where} {high} ({values[high]:g}) must be above {low} ({values[low]:g}): "
                "raise the first or lower the second"
            )
    if section == "PromptConfig":
        working_hours(values["working_hours"], f"{where} working_hours")
        working_days(values["working_days"], f"{where} working_days")


def _check_number(name: str, value: float, where: str) -> None:
    if name in _ABOVE_ZERO and value == 0:
        raise ConfigError(f"{where}: must be more than 0, got {value!r}")
    ceiling = _AT_MOST.get(name, _WEEK_S if name.endswith("_s") else _CEILING)
    ceiling = 1.0 if name in _AT_MOST_ONE else ceiling
    if value > ceiling:
        raise ConfigError(f"{where}: must be at most {ceiling:g}, got {value!r}")


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def working_days(text: str, where: str = "working_days") -> frozenset[str]:
    """The days in "mon,tue,..." (full names too; "" = every day) as three-letter names."""
    days = set()
    for item in (d.strip().lower() for d in text.split(",")):
        if not item:
            continue
        day = next((d[:3] for d in _DAY_NAMES if len(item) >= 3 and d.startswith(item)), None)
        if day is None:
            raise ConfigError(
                f'{where}: {item!r} is not a day; list days like "mon,tue,wed,thu,fri"'
            )
        days.add(day)
    return frozenset(days or DAYS)


def working_hours(text: str, where: str = "working_hours") -> tuple[dt.time, dt.time] | None:
    """The (start, end) of "HH:MM-HH:MM" (end before start: overnight); None for "" (always)."""
    if not text.strip():
        return None
    try:
        start_text, end_text = text.split("-")
        start = dt.time.fromisoformat(start_text.strip())
        end = dt.time.fromisoformat(end_text.strip())
    except ValueError:
        raise ConfigError(
            f'{where}: expected "HH:MM-HH:MM" like "08:00-19:00" (or "" for always), got {text!r}'
        ) from None
    if start == end:
        raise ConfigError(f'{where}: start and end are the same ({text!r}); use "" for always')
    return start, end


def _coerce(hint: Any, raw: Any, where: str) -> Any:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_mapping(hint, raw, where)
    if hint is bool:
        if not isinstance(raw, bool):
            raise ConfigError(f"{where}: expected true or false, got {raw!r}")
        return raw
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ConfigError(f"{where}: expected a number, got {raw!r}")
        if not math.isfinite(raw):
            raise ConfigError(f"{where}: expected a finite number, got {raw!r}")
        if raw < 0:
            raise ConfigError(f"{where}: must not be negative, got {raw!r}")
        return float(raw)
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(f"{where}: expected a whole number, got {raw!r}")
        if raw < 0:
            raise ConfigError(f"{where}: must not be negative, got {raw!r}")
        return raw
    if hint is str:
        if not isinstance(raw, str):
            raise ConfigError(f"{where}: expected text, got {raw!r}")
        return raw
    raise ConfigError(f"{where}: unsupported setting type {hint!r}")
