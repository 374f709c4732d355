"""Provides the checks of a command's arguments at the edge: numbers, paths, source, profile.

Run once, right after parsing and before anything is opened, created or printed, so a bad
argument is one line (what is wrong, what to give) and never an OSError, an overflow or a
half-started session.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from coach.errors import CoachError
from coach.safe.checks import (
    MAX_REPS,
    check_input_file,
    check_not_special,
    check_path_text,
    number_in_range,
    whole_number,
)
from coach.safe.printable import printable


def _path_argument(text: str) -> Path:
    """An argparse type: a path within the file system's limits (a 5000-character name is
    one line from argparse, not an OSError from the first stat)."""
    try:
        return check_path_text(text, "path")
    except CoachError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def check_paths_as_parsed(parser: argparse.ArgumentParser) -> None:
    """Give every `type=Path` option of every command (the history commands' too) the check."""
    for action in parser._actions:
        if action.type is Path:
            action.type = _path_argument
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                check_paths_as_parsed(command)


_WEEK_S = 7 * 24 * 3600.0
# Number options: (option, the most it may be, unit); each must be finite and above 0.
_NUMBER_OPTIONS = {
    "max_seconds": ("--max-seconds", _WEEK_S, " s"),
    "still_minutes": ("--still-minutes", _WEEK_S / 60, " minutes"),
    "calibrate_seconds": ("--calibrate-seconds", 3600.0, " s"),
    "seconds": ("--seconds", 3600.0, " s"),
    "give_up_after": ("--give-up-after", _WEEK_S, " s"),
}
# Files a command reads: each must exist and be a regular file (not a folder or /dev/zero).
_INPUT_FILES = {"config": "--config", "model": "--model", "fallback_video": "--fallback-video"}
# Files a command writes whole or creates: never a folder or a device (none is replaced,
# none has its mode changed). --events may be a pipe or a terminal (`--events /dev/stdout`).
_OUTPUT_FILES = {"landmarks": "--landmarks", "db": "--db"}
_OUTPUT_STREAMS = {"events": "--events"}
_OUTPUT_FOLDERS = {"csv": "--csv", "out": "--out"}


def check_arguments(args: argparse.Namespace) -> None:
    """Every number in range and every path usable, before anything is opened or created."""
    for name, (option, highest, unit) in _NUMBER_OPTIONS.items():
        value = getattr(args, name, None)
        if value is not None:
            number_in_range(value, option, 0.0, highest, unit=unit)
    reps = getattr(args, "reps", None)
    if isinstance(reps, int):  # `coach count --reps` (`coach log` checks its own text)
        whole_number(reps, "--reps", 1, MAX_REPS)
    for name, option in _INPUT_FILES.items():
        path = getattr(args, name, None)
        if path is not None:
            check_input_file(path, option)
    for name, option in (_OUTPUT_FILES | _OUTPUT_STREAMS).items():
        path = getattr(args, name, None)
        if path is not None:
            check_not_special(path, option, stream_ok=name in _OUTPUT_STREAMS)
    for name, option in _OUTPUT_FOLDERS.items():
        path = getattr(args, name, None)
        if path is not None:
            check_not_special(path, option, folder_only=True)


def check_inputs(args: argparse.Namespace) -> None:
    """The source and profile a command reads (after the settings, whose errors come first)."""
    source = getattr(args, "source", None)
    if isinstance(source, str):
        _check_source(source)
    _check_profile(args)


def _check_source(source: str) -> None:
    """A SOURCE naming a file: there, a file, within the limits (cameras are indices)."""
    from coach.errors import LandmarkFileError, VideoUnreadable
    from coach.source.spec import SourceKind, parse_source

    spec = parse_source(source)  # a camera index out of range, a remote file URL: one line
    if spec.kind not in (SourceKind.VIDEO, SourceKind.LANDMARKS):
        return
    path = check_path_text(spec.target, "SOURCE").expanduser()
    check_not_special(path, "SOURCE", folder_ok=True)
    what = "video file" if spec.kind is SourceKind.VIDEO else "landmark file"
    error = VideoUnreadable if spec.kind is SourceKind.VIDEO else LandmarkFileError
    if path.is_dir():
        raise error(f"{printable(str(path))} is a folder, not a {what}")
    if not path.exists():
        raise error(f"{what} {printable(str(path))} does not exist; check the path")


def _check_profile(args: argparse.Namespace) -> None:
    """--profile: a plain name or a .json path; one to read must be a valid profile."""
    from coach.calibration import load_profile, profile_path
    from coach.commands.common import profiles_dir

    name = getattr(args, "profile", None)
    if name is None:
        return
    path = profile_path(name, profiles_dir())
    if args.command != "calibrate":  # calibrate writes it; the others read it
        load_profile(path)
