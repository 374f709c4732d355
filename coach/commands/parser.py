"""Provides the `coach` argument parser: every command, its options and their help."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path

from coach import __version__
from coach.commands.arguments import check_paths_as_parsed
from coach.commands.settings import add_settings_commands
from coach.history.commands import add_history_commands, db_option
from coach.records import COUNTABLE

DEFAULT_CAMERA = "0"
"""The webcam when neither the command line nor [source] camera names one."""


def _source_argument(parser: argparse.ArgumentParser, *, landmarks: bool) -> None:
    """The optional SOURCE of the live commands (the chosen camera when omitted)."""
    kinds = "webcam index or id (see `coach cameras`), video file, stream URL (rtsp://, http://)"
    parser.add_argument(
        "source",
        nargs="?",
        default=None,
        help=f"{kinds}{' or landmark file' if landmarks else ''} "
        "(default: [source] camera, else 0)",
    )


def _camera_wait_argument(parser: argparse.ArgumentParser) -> None:
    """A bounded wait for the camera, for scripts (a coach left running never gives up)."""
    parser.add_argument(
        "--give-up-after",
        type=float,
        metavar="SECONDS",
        help="exit 1 after this long without a camera (default: wait for it, however long)",
    )


def _history_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """Where a command records into the history, or not at all."""
    db_option(parser)
    parser.add_argument(
        "--no-history", action="store_true", help=f"do not record this {what} in the history"
    )


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported like every other bad input: one line, status 1."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(1, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser for every `coach` command."""
    parser: argparse.ArgumentParser = _Parser(
        prog="coach",
        description="A webcam posture and movement coach for people who sit at a desk all day.",
    )
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML settings file (see README)")
    common.add_argument(
        "--model",
        type=Path,
        help="an official pose_landmarker_{lite,full,heavy}.task (default: the built-in full model)",
    )
    common.add_argument(
        "--max-seconds", type=float, default=None, help="stop after this much stream time"
    )
    posture = argparse.ArgumentParser(add_help=False)
    calibration = posture.add_mutually_exclusive_group()
    calibration.add_argument(
        "--profile", help="calibration profile name (or path) saved by `coach calibrate`"
    )
    posture.add_argument(
        "--still-minutes",
        type=float,
        metavar="M",
        help="prompt a movement after M minutes sitting still (default 30; short for short clips)",
    )
    calibration.add_argument(
        "--calibrate-seconds",
        type=float,
        metavar="N",
        help="calibrate the neutral from the first N seconds of the source",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.set_defaults(history_commands=add_history_commands(sub))

    run = sub.add_parser(
        "run",
        parents=[common, posture],
        help="coach live from the webcam, a stream, a video or landmarks",
    )
    _source_argument(run, landmarks=True)
    run.add_argument("--no-window", action="store_true", help="do not open the preview window")
    run.add_argument(
        "--skeleton-only",
        action="store_true",
        help="preview only the skeleton; no camera pixels are shown",
    )
    run.add_argument(
        "--fallback-video",
        type=Path,
        help="if the webcam cannot be opened, run on this video instead (and say so)",
    )
    run.add_argument(
        "--realtime", action="store_true", help="play a video file at its own speed, not file speed"
    )
    run.add_argument(
        "--events",
        type=Path,
        metavar="FILE",
        help="also write the decisions to FILE as JSON lines, one per change (for scripts)",
    )
    run.add_argument(
        "--tray",
        action="store_true",
        help="no terminal view: a tray icon and menu, notifications with buttons, a log file",
    )
    _history_arguments(run, "session")
    _camera_wait_argument(run)

    start = sub.add_parser(
        "start",
        parents=[common, posture],
        help="coach from the tray with no terminal (`coach run --tray`; for start at login)",
    )
    _source_argument(start, landmarks=True)
    _history_arguments(start, "session")
    _camera_wait_argument(start)
    start.add_argument(
        "--respawn",
        action="store_true",
        help="start again by itself if killed or crashed (what start at login uses; "
        "not after 5 such stops in 10 minutes; Linux and macOS)",
    )
    run.set_defaults(respawn=False)
    start.set_defaults(
        tray=True,
        no_window=True,
        skeleton_only=False,
        fallback_video=None,
        realtime=False,
        events=None,
    )

    analyze = sub.add_parser(
        "analyze", parents=[common, posture], help="analyse a video or landmark file and report"
    )
    analyze.add_argument("source", help="video file or landmark file")
    analyze.add_argument("--json", action="store_true", help="print one JSON object")

    record = sub.add_parser(
        "record", parents=[common], help="save the pose stream (never pixels) to a landmark file"
    )
    _source_argument(record, landmarks=False)
    record.add_argument(
        "--landmarks", type=Path, required=True, help="output file (.jsonl or .jsonl.gz)"
    )
    record.add_argument(
        "--force", action="store_true", help="replace the output file if it already exists"
    )

    count = sub.add_parser(
        "count",
        parents=[common],
        help="a guided set of seated cat-cow or lateral flexion: counts reps and coaches form",
    )
    _source_argument(count, landmarks=True)
    count.add_argument("--movement", required=True, choices=COUNTABLE, help="what to count")
    count.add_argument(
        "--reps", type=int, default=None, help="target reps (per side for lateral flexion)"
    )
    count.add_argument("--profile", help="calibration profile, to check the set starts from it")
    count.add_argument("--json", action="store_true", help="print one JSON object at the end")
    count.add_argument("--no-window", action="store_true", help="do not open the preview window")
    count.add_argument("--fatigue-before", metavar="X", help="how tired before the set, 1-5")
    count.add_argument("--fatigue-after", metavar="Y", help="how tired after the set, 1-5")
    count.add_argument(
        "--ask-fatigue", action="store_true", help="ask how tired you are before and after the set"
    )
    _history_arguments(count, "set")

    calibrate = sub.add_parser(
        "calibrate", parents=[common], help="record your neutral (sit tall) as a named profile"
    )
    _source_argument(calibrate, landmarks=True)
    calibrate.add_argument("--profile", default="default", help="profile name (default: default)")
    calibrate.add_argument(
        "--seconds", type=float, default=None, help="how long to sit tall (default: 5)"
    )

    models = sub.add_parser(
        "models", parents=[common], help="build (once) and check the pose model; print its path"
    )
    models.add_argument("--rebuild", action="store_true", help="build the default model again")

    doctor = sub.add_parser(
        "doctor", parents=[common], help="check camera, model, history and desktop; say what to fix"
    )
    _source_argument(doctor, landmarks=False)
    doctor.add_argument(
        "--fallback-video", type=Path, help="the video `coach run --fallback-video` would use"
    )
    doctor.add_argument("--db", type=Path, metavar="PATH", help="history database to check")

    autostart = sub.add_parser("autostart", help="start the coach at login: on, off or status")
    autostart.add_argument("action", choices=("on", "off", "status"), help="what to do")
    _remote_commands(sub)

    desktop = sub.add_parser(
        "install-desktop",
        help="put Coach in the applications menu with its icon (Linux); --remove takes it out",
    )
    desktop.add_argument(
        "--remove", action="store_true", help="remove the launcher and icons coach installed"
    )
    parser.set_defaults(settings_commands=add_settings_commands(sub))
    check_paths_as_parsed(parser)
    return parser


def _remote_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`coach pause`, `resume` and `status`: ask the running coach (for a desktop shortcut)."""
    pause = sub.add_parser("pause", help="pause the running coach and release the camera")
    pause.add_argument(
        "minutes", nargs="?", metavar="MINUTES", help="how long (default: [prompts] pause_s)"
    )
    sub.add_parser("resume", help="resume the running coach now")
    status = sub.add_parser("status", help="say whether a coach runs, since when, and its state")
    status.add_argument("--json", action="store_true", help="print its status as one JSON object")
