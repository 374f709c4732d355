"""Provides `build_analyzer`: the analyzer with the neutral a session's options ask for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coach.analyzer import Analyzer
from coach.config import Config
from coach.decisions.stages import GuidedSet
from coach.errors import ConfigError
from coach.movements import MovementLibrary
from coach.safe.printable import literal
from coach.session_options import Mode, SessionOptions

if TYPE_CHECKING:
    from coach.calibration import Profile


@dataclass(frozen=True)
class BuiltAnalyzer:
    """The analyzer, what to say about its neutral, and the profile it came from."""

    analyzer: Analyzer
    note: str | None
    """Rich markup, said once the source has opened."""
    profile: tuple[Path, Profile] | None
    """The profile the neutral came from (where "I'm sitting fine" is kept)."""


def build_analyzer(
    options: SessionOptions,
    config: Config,
    library: MovementLibrary,
    clock: Callable[[float], dt.datetime] | None,
    profiles_dir: Callable[[], Path],
    calibrate_s: float | None = None,
) -> BuiltAnalyzer:
    """The analyzer: from the options' profile, or calibrating for `calibrate_s` (a running
    coach's recalibration) or the options' seconds; `clock` maps stream time to local time
    (None for files)."""
    from coach.calibration import load_profile, profile_path

    if options.calibrate_s is not None and options.calibrate_s <= 0:
        raise ConfigError("--calibrate-seconds must be more than 0")
    guided = None
    if options.guided is not None:
        target = options.guided.target_reps
        if target is None:
            target = library.get(options.guided.movement).reps
        if target is not None and target <= 0:
            raise ConfigError("--reps must be more than 0")
        guided = GuidedSet(options.guided.movement, target)
    until_calibrated = options.mode is Mode.CALIBRATE
    if options.profile is not None and calibrate_s is None:
        path = profile_path(options.profile, profiles_dir())
        loaded = load_profile(path)
        analyzer = Analyzer(
            config,
            library,
            neutral=loaded.neutral,
            noise=loaded.noise,
            clock=clock,
            guided=guided,
            until_calibrated=until_calibrated,
            widened=loaded.widened,
        )
        using = f"[dim]Using calibration profile {literal(repr(loaded.name))}.[/dim]"
        return BuiltAnalyzer(analyzer, using, (path, loaded))
    seconds = calibrate_s if calibrate_s is not None else options.calibrate_s
    note: str | None = None
    if seconds is None and options.mode in (Mode.RUN, Mode.ANALYZE):
        note = (
            f"[cyan]No calibration profile given: calibrating from the first "
            f"{config.calibration.calibrate_s:g} s. Sit tall and look at the screen.[/cyan]"
        )
    analyzer = Analyzer(
        config,
        library,
        calibrate_s=seconds,
        clock=clock,
        guided=guided,
        until_calibrated=until_calibrated,
    )
    return BuiltAnalyzer(analyzer, note, None)
