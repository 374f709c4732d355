"""Provides the TOML loader of the configuration: every name, type and range checked."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
import typing
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from coach.config.sections import Config
from coach.errors import ConfigError

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
    return from_mapping(Config, read_toml(path), where=str(path))


def read_toml(path: Path) -> dict[str, Any]:
    """The tables of a TOML file, unchecked.

    Raises:
        ConfigError: the file is missing, unreadable or not TOML.
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def from_mapping(cls: type[T], data: dict[str, Any], where: str) -> T:
    """Build a config dataclass from a mapping, checking names, types and ranges."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table")
    if cls.__name__ == "NudgeConfig":
        data = legacy_nudge(data, where)
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    known = {f.name for f in fields}
    for name in data:
        moved = _MOVED.get((cls.__name__, name))
        if moved is not None:
            raise ConfigError(
                f"{where}: {name!r} has moved: set {moved} instead (one setting for both)"
            )
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


LEGACY_NUDGE_KEYS = ("desktop", "chime")
"""[nudge] booleans an old file may hold: `style` says the same now."""


def legacy_nudge(data: dict[str, Any], where: str) -> dict[str, Any]:
    """[nudge] with an old file's `desktop` / `chime` booleans said as `style`."""
    old = [key for key in LEGACY_NUDGE_KEYS if key in data]
    if not old:
        return data
    if "style" in data:
        raise ConfigError(
            f"{where}: {' and '.join(old)} and style both say how a nudge reaches you; "
            f'keep only style (e.g. style = ["notification", "chime"])'
        )
    for key in old:
        if not isinstance(data[key], bool):
            raise ConfigError(f"{where} {key}: expected true or false, got {data[key]!r}")
    style = ["notification"] if data.get("desktop", True) else []
    style += ["chime"] if data.get("chime", False) else []
    return {k: v for k, v in data.items() if k not in old} | {"style": style}


# Settings that once lived in two sections and now live in one: an old file is told where.
_MOVED = {
    ("NudgeConfig", "cooldown_s"): "[prompts] cooldown_s",
    ("SlouchConfig", "away_after_s"): "[stationary] away_after_s",
}

# Every number must be finite and not negative. Beyond that, by setting name:
# rates, sizes, windows and time constants must be above 0 (0 would stall or divide by zero);
_ABOVE_ZERO = frozenset(
    {
        "camera_width_px",
        "camera_height_px",
        "camera_fps",
        "stream_open_timeout_s",
        "stream_read_timeout_s",
        "retry_first_s",
        "retry_most_s",
        "gap_break_s",
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
        "recognise_phase_ratio",
        "lateral_max_head_roll_ratio",
        "nominal_cat_cow_range",
        "nominal_lateral_deg",
    }
)
# shares and probabilities are at most 1;
_AT_MOST_ONE = frozenset(
    {
        "glow_strength",
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
        "cat_cow_hands_up_share",
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
    "widen_max": 9.0,  # a profile keeps at most 10 times the calibrated band
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
# Whole-number levels with their own range: (lowest, highest).
_LEVELS = {"sensitivity": (1, 5)}
# Thresholds whose first must be above the second: the gap between an enter and an exit level
# stops flicker; a minimum above its maximum would admit nothing.
_ABOVE = {
    "SourceConfig": (("retry_most_s", "retry_first_s"),),
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
    level = _LEVELS.get(name)
    if level is not None and not level[0] <= value <= level[1]:
        raise ConfigError(f"{where}: must be a level from {level[0]} to {level[1]}, got {value!r}")
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
    members = _enum_members(hint)
    if members is not None:
        return _coerce_choices(members, raw, where)
    raise ConfigError(f"{where}: unsupported setting type {hint!r}")


def _enum_members(hint: Any) -> type[StrEnum] | None:
    """The enum of a `tuple[SomeStrEnum, ...]` setting (a set of choices), else None."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        member = args[0]
        if isinstance(member, type) and issubclass(member, StrEnum):
            return member
    return None


def _coerce_choices(enum: type[StrEnum], raw: Any, where: str) -> tuple[StrEnum, ...]:
    """A list of choices (one text alone is a list of one), each named once."""
    items = [raw] if isinstance(raw, str) else raw
    known = ", ".join(f'"{m.value}"' for m in enum)
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{where}: expected a list of {known}, got {raw!r}")
    chosen: list[StrEnum] = []
    for item in items:
        try:
            member = enum(item.strip().lower())
        except ValueError:
            raise ConfigError(f"{where}: {item!r} is not one of {known}") from None
        if member in chosen:
            raise ConfigError(f"{where}: {item!r} is named twice")
        chosen.append(member)
    return tuple(chosen)
