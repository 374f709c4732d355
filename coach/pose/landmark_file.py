"""Provides the landmark recording format: the pose stream as JSON Lines, never pixels.

A recording is UTF-8 JSON Lines, gzip-compressed when the name ends in ``.gz``.
The first line is a header, every further line one analysed frame::

    {"format": "coach-landmarks", "version": 1, "source": "...", "fps": 15.0,
     "image_size": [640, 480], "landmarks": 33, "created": "2026-11-21T09:00:00+00:00"}
    {"t_s": 0.0, "tracking": "ok", "people": 1,
     "image": [[x, y, z], ... 33], "world": [[x, y, z], ... 33],
     "visibility": [... 33], "presence": [... 33]}
    {"t_s": 0.2, "tracking": "no_person", "people": 0}

``image`` holds normalised image coordinates (x, y in 0..1 of the frame), ``world``
metric coordinates in metres; ``tracking`` is one of ok, no_person, low_visibility.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from coach.errors import LandmarkFileError
from coach.landmarks import LANDMARK_COUNT
from coach.records import Pose, PoseSample, Tracking
from coach.safe.closing import ClosesOnExit
from coach.safe.outputs import AtomicFile, dumps
from coach.safe.printable import printable
from coach.safe.redact import redact

FORMAT = "coach-landmarks"
VERSION = 1
SUFFIXES = (".jsonl", ".jsonl.gz", ".landmarks", ".landmarks.gz")
"""File names that are landmark recordings (any other SOURCE is a video, camera or stream)."""
_DECIMALS = 5

# Stream time starts near 0 and a recording runs hours, not weeks: a timestamp past MAX_T_S,
# or a jump forward of more than MAX_GAP_S, is corruption. Replayed, it would stall the
# analysis and fill the history with empty windows up to that time.
MAX_T_S = 7 * 24 * 3600.0
MAX_GAP_S = 6 * 3600.0
# Landmarks are normalised image units or metres, visibility a probability: far beyond
# this a value is corruption (and would overflow the geometry).
_MAX_VALUE = 1000.0
_MAX_PEOPLE = 100


def _open_text(path: Path, mode: str, gz: bool | None = None) -> IO[str]:
    """Open as text, gzip-compressed if `gz` (default: when the name ends in .gz)."""
    if path.name.endswith(".gz") if gz is None else gz:
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


def _rounded(values: np.ndarray) -> Any:
    return np.round(values.astype(np.float64), _DECIMALS).tolist()


class LandmarkWriter(ClosesOnExit):
    """Appends pose samples to a recording, each line flushed (a crash keeps what came before).

    The recording is written under a temporary name next to `path` and renamed into place
    when it is closed, so an existing file is only ever replaced by a whole recording.
    """

    def __init__(self, path: Path, *, source: str, fps: float, image_size: tuple[int, int]) -> None:
        self._existed = path.exists()
        try:
            self._target = AtomicFile(path, private=True)  # body landmarks: the user's alone
            self._file = _open_text(self._target.temp, "w", gz=path.name.endswith(".gz"))
        except OSError as exc:
            raise LandmarkFileError(f"cannot write landmarks to {path}: {exc.strerror}") from None
        self.path = path
        header = {
            "format": FORMAT,
            "version": VERSION,
            "source": redact(source),
            "fps": round(fps, 3),
            "image_size": list(image_size),
            "landmarks": LANDMARK_COUNT,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        self._write(header)

    def _write(self, record: dict[str, Any]) -> None:
        try:
            self._file.write(dumps(record, separators=(",", ":")) + "\n")
            self._file.flush()
        except OSError as exc:
            raise LandmarkFileError(
                f"cannot write landmarks to {self.path}: {exc.strerror}"
            ) from None

    def write(self, sample: PoseSample) -> None:
        """Append one sample."""
        record: dict[str, Any] = {
            "t_s": round(sample.t_s, 4),
            "tracking": sample.tracking.value,
            "people": sample.people,
        }
        if sample.pose is not None:
            record["image"] = _rounded(sample.pose.image_xyz)
            record["world"] = _rounded(sample.pose.world_xyz)
            record["visibility"] = _rounded(sample.pose.visibility)
            record["presence"] = _rounded(sample.pose.presence)
        self._write(record)

    def close(self) -> None:
        """Close the file and move it into place."""
        self._finish(keep=True)

    def _finish(self, keep: bool) -> None:
        if self._file.closed:
            return
        try:
            self._file.close()
            if keep:
                self._target.commit()
                return
        except OSError as exc:
            self._target.discard()
            raise LandmarkFileError(
                f"cannot write landmarks to {self.path}: {exc.strerror}"
            ) from None
        self._target.discard()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A recording cut short by an error keeps what was seen (whole lines, readable), but
        # never replaces an older file: that one stays as it was.
        self._finish(keep=exc_type is None or not self._existed)


class LandmarkReader:
    """Replays a recording as pose samples, through the same later stages as live video."""

    live = False

    def __init__(self, path: Path, warn: Callable[[str], None] | None = None) -> None:
        """`warn` gets the one-line warning for a recording cut short (default: stderr)."""
        self._warn = warn or (
            lambda message: print(f"coach: warning: {printable(message)}", file=sys.stderr)
        )
        self.cut_short = False
        """Whether the recording ended part-way (its writer was killed); set by samples()."""
        if not path.exists():
            raise LandmarkFileError(f"landmark file {path} does not exist; check the path")
        self.path = path
        try:
            with _open_text(path, "r") as handle:
                first = handle.readline()
            header = json.loads(first)
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError):
            raise LandmarkFileError(
                f"{path} is not a coach landmark recording (unreadable header); "
                "record one with `coach record --landmarks OUT`"
            ) from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise LandmarkFileError(
                f"{path} is not a coach landmark recording; "
                "record one with `coach record --landmarks OUT`"
            )
        if header.get("version") != VERSION:
            raise LandmarkFileError(
                f"{path} is landmark format version {header.get('version')}, this coach reads "
                f"version {VERSION}; update the coach"
            )
        self.fps = float(_header_field(path, header, "fps", 0.0, _is_fps))
        size = _header_field(path, header, "image_size", [640, 480], _is_image_size)
        self.image_size = (int(size[0]), int(size[1]))
        self.source = redact(_header_field(path, header, "source", "", _is_text))
        _header_field(path, header, "landmarks", LANDMARK_COUNT, lambda v: v == LANDMARK_COUNT)
        self.skipped = 0
        """Frames left out by `samples()` (non-finite values, impossible timestamps)."""
        self._first_skip: tuple[int, str] | None = None

    @property
    def description(self) -> str:
        """A short label for views and logs."""
        return printable(self.path.name)

    def samples(self) -> Iterator[PoseSample]:
        """Yield the recorded samples in order; malformed frames are skipped and counted.

        A line that is not a landmark record at all stops the replay with an error; a record
        with a non-finite value or an impossible timestamp (backward, or far in the future)
        is left out, so one bad value can neither stall the analysis nor invent history.
        A recording whose writer was killed ends part-way: a gzip stream without its end,
        or a last line without its newline. Every complete line before the cut is read,
        then one line warns that the file was cut short.
        """
        self.skipped, self._first_skip = 0, None
        last_t_s: float | None = None
        count = 0
        try:
            with _open_text(self.path, "r") as handle:
                handle.readline()
                for number, line in enumerate(handle, start=2):
                    if not line.strip():
                        continue
                    if not line.endswith("\n"):  # the last line: complete only if it parses
                        try:
                            sample = self._parse(line, number)
                        except LandmarkFileError:
                            break
                    else:
                        sample = self._parse(line, number)
                    problem = _problem(sample, last_t_s)
                    if problem is not None:
                        self.skipped += 1
                        self._first_skip = self._first_skip or (number, problem)
                        continue
                    count += 1
                    last_t_s = sample.t_s
                    yield sample
                else:
                    self._check_some(count)
                    return
        except EOFError:
            pass  # gzip: "compressed file ended before the end-of-stream marker"
        except (OSError, UnicodeDecodeError, zlib.error) as exc:
            raise LandmarkFileError(f"{self.path} is truncated or corrupt ({exc})") from None
        self._check_some(count)
        self.cut_short = True
        self._warn(
            f"{self.path} was cut short (its recording was stopped part-way); "
            f"used the {count} complete samples before the cut, up to {last_t_s or 0.0:.1f} s"
        )

    def _check_some(self, count: int) -> None:
        """A recording with no usable sample is an error, not an empty analysis.

        Raises:
            LandmarkFileError: only a header, or every frame malformed.
        """
        if count:
            return
        what = "only a header"
        if self._first_skip is not None:
            number, problem = self._first_skip
            what = f"no valid frame ({self.skipped} malformed; first at line {number}: {problem})"
        raise LandmarkFileError(
            f"{self.path} holds {what}; nothing to analyse: "
            "re-record it with `coach record --landmarks OUT`"
        )

    @property
    def skipped_note(self) -> str | None:
        """One line on the frames `samples()` left out (None: none were)."""
        if self._first_skip is None:
            return None
        number, problem = self._first_skip
        frames = "frame" if self.skipped == 1 else "frames"
        return (
            f"{self.path}: skipped {self.skipped} malformed {frames} "
            f"(first at line {number}: {problem}); re-record the file if results look wrong"
        )

    def _parse(self, line: str, number: int) -> PoseSample:
        try:
            record = json.loads(line)
            t_s = float(record["t_s"])
            tracking = Tracking(record["tracking"])
            people = int(record["people"])
            if not 0 <= people <= _MAX_PEOPLE:
                raise ValueError("people")
            pose = None
            if "image" in record:
                # null (a missing value) reads as NaN, and the frame is then skipped.
                arrays = [
                    np.asarray(record[key], dtype=np.float32)
                    for key in ("image", "world", "visibility", "presence")
                ]
                shapes = [a.shape for a in arrays]
                if shapes != [(LANDMARK_COUNT, 3)] * 2 + [(LANDMARK_COUNT,)] * 2:
                    raise ValueError("wrong landmark count")
                pose = Pose(
                    t_s=t_s,
                    image_xyz=arrays[0],
                    world_xyz=arrays[1],
                    visibility=arrays[2],
                    presence=arrays[3],
                    image_size=self.image_size,
                    tracking=tracking,
                )
            return PoseSample(t_s=t_s, pose=pose, tracking=tracking, people=people)
        except (KeyError, ValueError, TypeError, OverflowError, json.JSONDecodeError):
            raise LandmarkFileError(
                f"{self.path} line {number} is not a valid landmark record (corrupt file?); "
                "re-record it with `coach record --landmarks OUT`"
            ) from None


def _problem(sample: PoseSample, last_t_s: float | None) -> str | None:
    """Why a parsed sample cannot be replayed (None: it can)."""
    t_s = sample.t_s
    if not math.isfinite(t_s):
        return "t_s is not a finite number"
    if not 0.0 <= t_s <= MAX_T_S:
        return f"t_s {t_s:g} s is outside 0 to {MAX_T_S:g} s"
    if last_t_s is not None and t_s < last_t_s:
        return f"t_s goes back from {last_t_s:g} s to {t_s:g} s"
    if last_t_s is not None and t_s - last_t_s > MAX_GAP_S:
        return f"t_s jumps from {last_t_s:g} s to {t_s:g} s"
    pose = sample.pose
    if pose is not None:
        for values in (pose.image_xyz, pose.world_xyz, pose.visibility, pose.presence):
            if not np.all(np.abs(values) <= _MAX_VALUE):  # False for NaN too
                return "a landmark value is missing, not finite or absurdly large"
    return None


def _is_fps(value: object) -> bool:
    return _is_number(value) and 0.0 <= float(value) <= 1000.0  # type: ignore[arg-type]


def _is_image_size(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100_000 for v in value)
    )


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_FIELD_RULES = {
    "fps": "a number from 0 to 1000",
    "image_size": "[width, height] in whole pixels",
    "source": "text",
    "landmarks": str(LANDMARK_COUNT),
}


def _header_field(
    path: Path, header: dict[str, Any], name: str, default: Any, valid: Callable[[Any], bool]
) -> Any:
    """A header field checked (missing or null: the default); a bad one is one error line."""
    value = header.get(name)
    if value is None:
        return default
    if not valid(value):
        shown = json.dumps(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise LandmarkFileError(
            f"{path} line 1: header field {name!r} must be {_FIELD_RULES[name]}, not {shown}; "
            "re-record the file with `coach record --landmarks OUT`"
        )
    return value
