"""Provides calibration: recording the user's neutral posture and saving it as a named profile."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from coach.errors import CalibrationError
from coach.features.posture import PostureCues, median_cues, spread_cues
from coach.records import SlouchCue
from coach.safe.checks import check_name, check_not_special, check_path_text, shown
from coach.safe.outputs import atomic_text
from coach.safe.printable import printable
from coach.safe.private_files import private_dir, tighten

PROFILE_FORMAT = "coach-profile"
PROFILE_VERSION = 2
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Profile:
    """A calibrated neutral for one camera setup."""

    name: str
    created: str
    """ISO 8601 time of calibration."""
    view: str
    image_size: tuple[int, int]
    neutral: PostureCues
    noise: PostureCues | None = None
    """How much each cue jittered while calibrating (weights the cues; None: unknown)."""
    widened: Mapping[SlouchCue, float] = field(default_factory=dict)
    """Each measure's upright band widening the user asked for ("I'm sitting fine"; 1 = as
    calibrated). A new calibration starts without it."""


def _cues_to_json(cues: PostureCues) -> dict[str, float | None]:
    return {k: (None if math.isnan(v) else round(v, 6)) for k, v in asdict(cues).items()}


# Each cue's plausible range (beyond it the profile was edited or broken: every sample would
# read as slouched, or as unknown); null is "not measurable in this view".
_CUE_RANGES: dict[str, tuple[float, float]] = {
    "view_code": (0.0, 2.0),
    "nose_rise": (-10.0, 10.0),
    "nose_y": (-1.0, 2.0),
    "ear_rise": (-10.0, 10.0),
    "head_size": (0.0, 10.0),
    "pitch": (-10.0, 10.0),
    "head_offset": (-10.0, 10.0),
    "ear_shoulder_deg": (-180.0, 180.0),
    "shoulder_width": (0.0, 10.0),
    "shoulder_x": (-1.0, 2.0),
    "shoulder_y": (-1.0, 2.0),
    "lean_deg": (-180.0, 180.0),
}
# The cues a neutral cannot do without, by view: without them nothing can be compared.
_NEEDED = {
    "front": ("nose_rise", "nose_y", "shoulder_width"),
    "oblique": ("nose_rise", "nose_y", "shoulder_width"),
    "side": ("ear_rise", "ear_shoulder_deg"),
}
_MAX_IMAGE_PX = 16384
_MIN_NOSE_RISE = 0.05
"""Below it the posture measures compare nothing (features/posture.py's own floor)."""


class _BadField(ValueError):
    """A profile field out of range: the message names it."""


def _cues_from_json(raw: object, where: str, *, spread: bool = False) -> PostureCues:
    """Cues from JSON: each null (not measurable) or a finite number in its range.

    `spread`: the cues' jitter at calibration, from 0 up to the width of each range.
    """
    names = {f.name for f in fields(PostureCues)}
    if not isinstance(raw, dict) or set(raw) != names:
        raise _BadField(f"{where} must list the cues {', '.join(sorted(names))}")
    values = {}
    for name in sorted(names):
        value = raw[name]
        if value is None and (spread or name != "view_code"):
            values[name] = math.nan
            continue
        lowest, highest = _CUE_RANGES[name]
        if spread:
            lowest, highest = 0.0, highest - lowest
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not lowest <= value <= highest
        ):
            raise _BadField(
                f"{where}.{name} is {shown(str(value))}; expected a number from "
                f"{lowest:g} to {highest:g}"
            )
        values[name] = float(value)
    return PostureCues(**values)


def _check_neutral(neutral: PostureCues, view: str) -> None:
    if view not in _NEEDED or neutral.view != view:
        raise _BadField(f"view is {shown(view)}; expected the neutral's own view")
    for name in _NEEDED[view]:
        value = getattr(neutral, name)
        if not math.isfinite(value):
            raise _BadField(f"neutral.{name} is missing; a {view} neutral needs it")
    if view != "side" and not neutral.nose_rise >= _MIN_NOSE_RISE:
        raise _BadField(
            f"neutral.nose_rise is {neutral.nose_rise:g}; a {view} neutral needs at least "
            f"{_MIN_NOSE_RISE:g} (the nose above the shoulders)"
        )
    if not neutral.shoulder_width > 0:
        raise _BadField("neutral.shoulder_width is 0; expected the shoulders' width")


def _image_size(raw: object) -> tuple[int, int]:
    if (
        isinstance(raw, list)
        and len(raw) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in raw)
        and all(1 <= v <= _MAX_IMAGE_PX for v in raw)
    ):
        return raw[0], raw[1]
    raise _BadField(f"image_size is {shown(str(raw))}; expected [width, height] in pixels")


_MOST_WIDENED = 10.0


def _widened_from_json(raw: object) -> dict[SlouchCue, float]:
    """The "widened" field (absent in profiles made before it: nothing widened)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("widened")
    known = {str(cue): cue for cue in SlouchCue}
    # A measure this coach does not know (a later version's) is left out, not an error.
    widened = {known[k]: float(v) for k, v in raw.items() if k in known}
    for cue, factor in widened.items():
        # At most what any setting allows (`[slouch] widen_max` is checked the same way).
        if not (math.isfinite(factor) and 1.0 <= factor <= _MOST_WIDENED):
            raise _BadField(
                f"widened {cue} is {shown(str(factor))}; expected 1 to {_MOST_WIDENED:g}"
            )
    return widened


def with_widened(profile: Profile, widened: Mapping[SlouchCue, float]) -> Profile:
    """The profile with the user's band widening replaced."""
    return replace(profile, widened=dict(widened))


def profile_path(name_or_path: str, profiles_dir: Path) -> Path:
    """A profile name maps to `profiles_dir/NAME.json`; a path to a .json file is used as is.

    Raises:
        ConfigError: a name with a path in it (`../x` would save outside the profiles
            folder), a control character, or over 64 characters; a path too long.
    """
    if name_or_path.endswith(".json"):
        return check_path_text(name_or_path, "--profile").expanduser()
    check_name(name_or_path, "--profile", or_else=", or a path to a .json file")
    if not _NAME.match(name_or_path):
        raise CalibrationError(
            f"profile name {shown(name_or_path)} is not valid; use letters, digits, '-', '_' "
            "or '.' (or give a path to a .json file)"
        )
    return profiles_dir / f"{name_or_path}.json"


def profile_option(path: Path, profiles_dir: Path) -> str:
    """What to pass as --profile to use the profile at `path`: its name, or else its path."""
    if path.parent == profiles_dir and path.suffix == ".json" and _NAME.match(path.stem):
        return path.stem
    return str(path)


def save_profile(profile: Profile, path: Path) -> Path:
    """Write a profile as JSON (atomically: a crash never leaves half a profile)."""
    data = {
        "format": PROFILE_FORMAT,
        "version": PROFILE_VERSION,
        "name": profile.name,
        "created": profile.created,
        "view": profile.view,
        "image_size": list(profile.image_size),
        "neutral": _cues_to_json(profile.neutral),
        "noise": None if profile.noise is None else _cues_to_json(profile.noise),
        "widened": {str(cue): round(f, 4) for cue, f in profile.widened.items()},
    }
    try:
        private_dir(path.parent)
        with atomic_text(path, private=True) as handle:  # the user's body: 0600
            handle.write(json.dumps(data, indent=2) + "\n")
    except OSError as exc:
        raise CalibrationError(f"cannot save profile to {path}: {exc.strerror}") from None
    return path


def is_profile_file(path: Path) -> bool:
    """Whether a file is a coach calibration profile (of any version), so it may be replaced."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == PROFILE_FORMAT


def load_profile(path: Path) -> Profile:
    """Read a profile written by `save_profile`."""
    if not path.exists():
        raise CalibrationError(
            f"calibration profile {printable(str(path))} does not exist; "
            "run `coach calibrate --profile NAME` first"
        )
    check_not_special(path, "--profile")  # not a folder, nor /dev/zero
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != PROFILE_FORMAT:
            raise ValueError("format")
        if data.get("version") != PROFILE_VERSION:
            raise CalibrationError(
                f"{printable(str(path))} was made by another version of the coach (its cues differ); "
                "calibrate again with `coach calibrate`"
            )
        tighten(path)  # a coach profile, made 0644 by an older coach
        neutral = _cues_from_json(data["neutral"], "neutral")
        noise = None
        if data.get("noise") is not None:
            noise = _cues_from_json(data["noise"], "noise", spread=True)
        view = str(data["view"])
        _check_neutral(neutral, view)
        widened = _widened_from_json(data.get("widened"))
        return Profile(
            name=str(data["name"]),
            created=str(data["created"]),
            view=view,
            image_size=_image_size(data["image_size"]),
            neutral=neutral,
            noise=noise,
            widened=widened,
        )
    except _BadField as exc:
        raise CalibrationError(
            f"{printable(str(path))} is not a valid calibration profile: {exc}; "
            "calibrate again with `coach calibrate`"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise CalibrationError(
            f"{printable(str(path))} is not a valid calibration profile; "
            "calibrate again with `coach calibrate`"
        ) from None


def new_profile(
    name: str,
    neutral: PostureCues,
    image_size: tuple[int, int],
    noise: PostureCues | None = None,
) -> Profile:
    """A profile stamped with the current time (the only clock read here: a label, not a decision)."""
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return Profile(
        name=name,
        created=created,
        view=neutral.view,
        image_size=image_size,
        neutral=neutral,
        noise=noise,
    )


class Calibrator:
    """Collects cues over a window of stream time and yields their median as the neutral.

    The window slides until enough of it shows the user clearly, so a calibration that
    starts before the user sits down simply finishes a little later. "Enough" is a share of
    the frames seen in the window, not a frame count, so any sample rate from 1 a second
    calibrates in the same time.
    """

    # Fewer usable frames than this make no median, whatever the rate.
    MIN_FRAMES = 3

    def __init__(self, window_s: float, min_usable_fraction: float) -> None:
        self.window_s = window_s
        self.min_usable_fraction = min_usable_fraction
        self._cues: deque[tuple[float, PostureCues]] = deque()
        self._seen: deque[float] = deque()
        self._start_s: float | None = None
        self.neutral: PostureCues | None = None
        self.noise: PostureCues | None = None
        """How much each cue jittered over the window (set with the neutral)."""

    @property
    def done(self) -> bool:
        """Whether a neutral has been recorded."""
        return self.neutral is not None

    def progress(self, t_s: float) -> float:
        """Fraction of the window covered so far (for the views)."""
        if self._start_s is None:
            return 0.0
        return min(1.0, (t_s - self._start_s) / max(self.window_s, 1e-9))

    def update(self, cues: PostureCues | None, t_s: float) -> PostureCues | None:
        """Add one frame's cues (None: not usable); returns the neutral once recorded."""
        if self.neutral is not None:
            return self.neutral
        if self._start_s is None:
            self._start_s = t_s
        self._seen.append(t_s)
        if cues is not None:
            self._cues.append((t_s, cues))
        while self._cues and self._cues[0][0] < t_s - self.window_s:
            self._cues.popleft()
        while self._seen and self._seen[0] < t_s - self.window_s:
            self._seen.popleft()
        if t_s - self._start_s + 1e-9 < self.window_s:
            return None
        usable = len(self._cues)
        if usable >= self.MIN_FRAMES and usable >= self.min_usable_fraction * len(self._seen):
            views = [c.view for _, c in self._cues]
            main_view = max(set(views), key=views.count)
            window = [c for _, c in self._cues if c.view == main_view]
            self.neutral = median_cues(window)
            self.noise = spread_cues(window, self.neutral)
        return self.neutral
