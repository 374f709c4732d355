"""Provides the movement library: seated micro-movements read from packaged and user TOML."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import platformdirs

from coach.errors import ConfigError
from coach.records import COUNTABLE, Reason, is_countable

REGIONS: tuple[str, ...] = (
    "neck",
    "upper_back",
    "shoulders",
    "lower_back",
    "hips",
    "legs",
    "feet",
    "wrists_hands",
    "eyes",
    "core",
)
"""Body regions a movement can belong to."""

PROBLEMS: tuple[str, ...] = (
    Reason.FORWARD_HEAD,
    Reason.THORACIC_ROUNDING,
    "stationary_lower_body",
    "stationary_upper_body",
    "wrists_hands",
    "eyes",
)
"""Problems the coach detects or schedules for, which movements answer."""


@dataclass(frozen=True)
class Movement:
    """One seated micro-movement and how to dose it."""

    id: str
    """Short unique name with hyphens, such as "cat-cow"."""
    name: str
    """What the coach calls it on screen."""
    region: str
    """The body region it works, one of REGIONS."""
    targets: tuple[str, ...]
    """Muscles or structures it works."""
    cues: tuple[str, ...]
    """How to do it, one short line each."""
    reps: int | None
    """Repetitions in a set (per side when per_side), or None for a plain hold."""
    hold_s: float | None
    """Seconds to hold in each rep (or the whole hold), or None."""
    per_side: bool
    """Each side (or direction) gets the reps."""
    tempo_s_per_phase: float
    """Seconds for each phase of a rep; 0 for a plain hold."""
    breath: str
    """When to breathe in and when to breathe out."""
    answers: tuple[str, ...]
    """Problems (from PROBLEMS) it helps with."""
    countable: bool
    """The camera can count its reps: only a movement in the rep table (the loader checks)."""
    leg_focused: bool
    """It gets the legs moving."""
    mistakes: tuple[str, ...]
    """Common mistakes to watch for."""
    duration_s: float
    """About how long one set takes."""

    @property
    def dose_text(self) -> str:
        """The dose in words: "6 reps, about 2 s per phase", "8 reps per side", "hold 5 s"."""
        side = " per side" if self.per_side else ""
        parts: list[str] = []
        if self.reps is not None:
            parts.append(f"{self.reps} {'rep' if self.reps == 1 else 'reps'}{side}")
            if self.hold_s is not None:
                parts.append(f"hold {self.hold_s:g} s")
            if self.tempo_s_per_phase > 0:
                parts.append(f"about {self.tempo_s_per_phase:g} s per phase")
        elif self.hold_s is not None:
            parts.append(f"hold {self.hold_s:g} s{side}")
        return ", ".join(parts)


@dataclass(frozen=True)
class MovementLibrary:
    """The movements the coach offers, in order."""

    movements: tuple[Movement, ...]
    _by_id: dict[str, Movement] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Movement] = {}
        for movement in self.movements:
            if movement.id in by_id:
                raise ConfigError(f"movement library: duplicate movement id {movement.id!r}")
            by_id[movement.id] = movement
        object.__setattr__(self, "_by_id", by_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every movement id, in order."""
        return tuple(m.id for m in self.movements)

    def get(self, movement_id: str) -> Movement:
        """The movement with this id; ConfigError when there is none."""
        try:
            return self._by_id[movement_id]
        except KeyError:
            raise ConfigError(
                f"unknown movement {movement_id!r}; known: {', '.join(self.ids)}"
            ) from None

    def __iter__(self) -> Iterator[Movement]:
        return iter(self.movements)

    def __len__(self) -> int:
        return len(self.movements)

    def for_problem(self, problem: str) -> tuple[Movement, ...]:
        """The movements that answer a problem (one of PROBLEMS), in order."""
        if problem not in PROBLEMS:
            raise ConfigError(f"unknown problem {problem!r}; known: {', '.join(PROBLEMS)}")
        return tuple(m for m in self.movements if problem in m.answers)

    def in_region(self, region: str) -> tuple[Movement, ...]:
        """The movements for a body region (one of REGIONS), in order."""
        if region not in REGIONS:
            raise ConfigError(f"unknown region {region!r}; known: {', '.join(REGIONS)}")
        return tuple(m for m in self.movements if m.region == region)


def default_user_movements_file() -> Path:
    """Where the user's own movements file lives (it is not created here)."""
    return platformdirs.user_config_path("coach", appauthor=False) / "movements.toml"


def load_library(user_file: Path | None = None) -> MovementLibrary:
    """Load the packaged movements, then merge the user's file over them if it exists.

    In the user file, a table with a packaged id changes only the keys it sets, a new id
    is appended, and `enabled = false` hides a movement.

    Raises:
        ConfigError: a file cannot be read, is not TOML, or has an invalid entry.
    """
    resource = files("coach") / "data" / "movements.toml"
    where = str(resource)
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the packaged movements {where}: {exc}; reinstall coach"
        ) from None
    merged: dict[str, dict[str, Any]] = {}
    for entry in _read_entries(text, where):
        _require_complete(entry, where, ())
        merged[entry["id"]] = entry
    origin = dict.fromkeys(merged, where)
    if user_file is not None and user_file.exists():
        user_where = str(user_file)
        try:
            user_text = user_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read movements file {user_where}: {exc}") from None
        packaged = tuple(merged)
        for entry in _read_entries(user_text, user_where):
            if entry["id"] in merged:
                merged[entry["id"]] = {**merged[entry["id"]], **entry}
            else:
                _require_complete(entry, user_where, packaged)
                merged[entry["id"]] = entry
            if "countable" in entry:
                origin[entry["id"]] = user_where
    for movement_id, entry in merged.items():
        if entry["countable"] and not is_countable(movement_id):
            # A prompt would wait for a counted set that never starts.
            raise ConfigError(
                f"{origin[movement_id]}: {movement_id} is marked countable but coach cannot "
                f"count it; countable: {', '.join(COUNTABLE)}"
            )
    return MovementLibrary(tuple(_build(e) for e in merged.values() if e.get("enabled", True)))


class _Invalid(Exception):
    """One problem with one entry; the loader adds the file and the id."""


_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# Key -> kind of value. Every Movement field, plus "enabled".
_KINDS: dict[str, str] = {
    "id": "id",
    "name": "text",
    "region": "region",
    "targets": "texts",
    "cues": "texts",
    "reps": "count",
    "hold_s": "seconds",
    "per_side": "bool",
    "tempo_s_per_phase": "tempo",
    "breath": "text",
    "answers": "answers",
    "countable": "bool",
    "leg_focused": "bool",
    "mistakes": "texts_or_none",
    "duration_s": "seconds",
    "enabled": "bool",
}
_OPTIONAL = frozenset({"reps", "hold_s", "enabled"})
_REQUIRED = tuple(k for k in _KINDS if k not in _OPTIONAL)


def _read_entries(text: str, where: str) -> list[dict[str, Any]]:
    """Parse a movements file into checked (possibly partial) entries."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"movement"})
    if extra:
        raise ConfigError(
            f"{where}: unknown top-level key {extra[0]!r}; the file holds only [[movement]] tables"
        )
    raw = data.get("movement", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: 'movement' must be [[movement]] tables")
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: movement #{index} must be a [[movement]] table")
        movement_id = item.get("id")
        label = repr(movement_id) if isinstance(movement_id, str) else f"#{index} (no id)"
        try:
            entry = _check_entry(item)
        except _Invalid as exc:
            raise ConfigError(f"{where}: movement {label}: {exc}") from None
        if entry["id"] in seen:
            raise ConfigError(f"{where}: movement {label}: duplicate id in this file")
        seen.add(entry["id"])
        entries.append(entry)
    return entries


def _check_entry(item: dict[str, Any]) -> dict[str, Any]:
    unknown = [k for k in item if k not in _KINDS]
    if unknown:
        raise _Invalid(f"unknown key {unknown[0]!r}; known: {', '.join(_KINDS)}")
    if "id" not in item:
        raise _Invalid("missing required key 'id'")
    return {key: _check_value(key, value) for key, value in item.items()}


def _require_complete(entry: dict[str, Any], where: str, packaged: tuple[str, ...]) -> None:
    label = repr(entry["id"])
    hint = f"; to change a packaged movement use its id: {', '.join(packaged)}" if packaged else ""
    if packaged and set(entry) <= {"id", "enabled"}:
        raise ConfigError(f"{where}: movement {label}: no such movement to change{hint}")
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        keys = ", ".join(repr(k) for k in missing)
        raise ConfigError(f"{where}: movement {label}: missing required key(s) {keys}{hint}")
    if "reps" not in entry and "hold_s" not in entry:
        raise ConfigError(f"{where}: movement {label}: give 'reps', 'hold_s' or both")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_value(key: str, value: object) -> Any:
    kind = _KINDS[key]
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Invalid(f"{key!r} must be true or false, not {_show(value)}")
        return value
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _Invalid(f"{key!r} must be a whole number of at least 1, not {_show(value)}")
        return value
    if kind in ("seconds", "tempo"):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
            or (kind == "seconds" and value == 0)
        ):
            bound = "above 0" if kind == "seconds" else "0 or more"
            raise _Invalid(f"{key!r} must be a number of seconds {bound}, not {_show(value)}")
        return float(value)
    if kind in ("id", "text", "region"):
        text = _text(key, value)
        if kind == "id" and not _ID.fullmatch(text):
            raise _Invalid(
                f"'id' must be lowercase letters, digits and hyphens, not {_show(value)}"
            )
        if kind == "region" and text not in REGIONS:
            raise _Invalid(f"unknown region {text!r}; known: {', '.join(REGIONS)}")
        return text
    if not isinstance(value, list):
        raise _Invalid(f"{key!r} must be a list of strings, not {_show(value)}")
    texts = tuple(_text(key, v) for v in value)
    if not texts and kind != "texts_or_none":
        raise _Invalid(f"{key!r} must not be empty")
    if kind == "answers":
        for text in texts:
            if text not in PROBLEMS:
                raise _Invalid(
                    f"unknown problem {text!r} in 'answers'; known: {', '.join(PROBLEMS)}"
                )
        if len(set(texts)) != len(texts):
            raise _Invalid("'answers' lists a problem twice")
    return texts


def _text(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip() or "\n" in value or "\r" in value:
        raise _Invalid(f"{key!r} must be a non-empty one-line string, not {_show(value)}")
    return value.strip()


def _build(entry: dict[str, Any]) -> Movement:
    values = {k: v for k, v in entry.items() if k != "enabled"}
    values.setdefault("reps", None)
    values.setdefault("hold_s", None)
    return Movement(**values)
