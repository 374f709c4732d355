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
from coach.safe.outputs import atomic_text
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


def _cues_from_json(raw: object) -> PostureCues:
    names = {f.name for f in fields(PostureCues)}
    if not isinstance(raw, dict) or set(raw) != names:
        raise ValueError("cues")
    return PostureCues(**{k: math.nan if raw[k] is None else float(raw[k]) for k in names})


def _widened_from_json(raw: object) -> dict[SlouchCue, float]:
    """The "widened" field (absent in profiles made before it: nothing widened)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("widened")
    known = {str(cue): cue for cue in SlouchCue}
    # A measure this coach does not know (a later version's) is left out, not an error.
    return {known[k]: float(v) for k, v in raw.items() if k in known and float(v) >= 1.0}


def with_widened(profile: Profile, widened: Mapping[SlouchCue, float]) -> Profile:
    """The profile with the user's band widening replaced."""
    return replace(profile, widened=dict(widened))


def profile_path(name_or_path: str, profiles_dir: Path) -> Path:
    """A profile name maps to `profiles_dir/NAME.json`; a path (with / or .json) is used as is."""
    if "/" in name_or_path or name_or_path.endswith(".json"):
        return Path(name_or_path).expanduser()
    if not _NAME.match(name_or_path):
        raise CalibrationError(
            f"profile name {name_or_path!r} is not valid; use letters, digits, '-', '_' or '.'"
        )
    return profiles_dir / f"{name_or_path}.json"


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
            f"calibration profile {path} does not exist; run `coach calibrate --profile NAME` first"
        )
    tighten(path)  # made 0644 by an older coach
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != PROFILE_FORMAT:
            raise ValueError("format")
        if data.get("version") != PROFILE_VERSION:
            raise CalibrationError(
                f"{path} was made by another version of the coach (its cues differ); "
                "calibrate again with `coach calibrate`"
            )
        neutral = _cues_from_json(data["neutral"])
        noise = None if data.get("noise") is None else _cues_from_json(data["noise"])
        size = data["image_size"]
        widened = _widened_from_json(data.get("widened"))
        return Profile(
            name=str(data["name"]),
            created=str(data["created"]),
            view=str(data["view"]),
            image_size=(int(size[0]), int(size[1])),
            neutral=neutral,
            noise=noise,
            widened=widened,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise CalibrationError(
            f"{path} is not a valid calibration profile; calibrate again with `coach calibrate`"
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
