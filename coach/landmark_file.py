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
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from coach.closing import ClosesOnExit
from coach.errors import LandmarkFileError
from coach.records import LANDMARK_COUNT, Pose, PoseSample, Tracking

FORMAT = "coach-landmarks"
VERSION = 1
_DECIMALS = 5


def _open_text(path: Path, mode: str) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


def _rounded(values: np.ndarray) -> Any:
    return np.round(values.astype(np.float64), _DECIMALS).tolist()


class LandmarkWriter(ClosesOnExit):
    """Appends pose samples to a recording; each line is flushed so a crash keeps the rest."""

    def __init__(self, path: Path, *, source: str, fps: float, image_size: tuple[int, int]) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = _open_text(path, "w")
        except OSError as exc:
            raise LandmarkFileError(f"cannot write landmarks to {path}: {exc.strerror}") from None
        self.path = path
        header = {
            "format": FORMAT,
            "version": VERSION,
            "source": source,
            "fps": round(fps, 3),
            "image_size": list(image_size),
            "landmarks": LANDMARK_COUNT,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        self._write(header)

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()

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
        """Close the file."""
        self._file.close()


class LandmarkReader:
    """Replays a recording as pose samples, through the same later stages as live video."""

    live = False

    def __init__(self, path: Path, warn: Callable[[str], None] | None = None) -> None:
        """`warn` gets the one-line warning for a recording cut short (default: stderr)."""
        self._warn = warn or (lambda message: print(f"coach: warning: {message}", file=sys.stderr))
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
        self.fps = float(header.get("fps") or 0.0)
        size = header.get("image_size") or [640, 480]
        self.image_size = (int(size[0]), int(size[1]))
        self.source = str(header.get("source", ""))

    @property
    def description(self) -> str:
        """A short label for views and logs."""
        return self.path.name

    def samples(self) -> Iterator[PoseSample]:
        """Yield the recorded samples in order.

        A recording whose writer was killed ends part-way: a gzip stream without its end,
        or a last line without its newline. Every complete line before the cut is read,
        then one line warns that the file was cut short.
        """
        count = 0
        last_t_s = 0.0
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
                    count += 1
                    last_t_s = sample.t_s
                    yield sample
                else:
                    return
        except EOFError:
            pass  # gzip: "compressed file ended before the end-of-stream marker"
        except (OSError, UnicodeDecodeError, zlib.error) as exc:
            raise LandmarkFileError(f"{self.path} is truncated or corrupt ({exc})") from None
        self.cut_short = True
        self._warn(
            f"{self.path} was cut short (its recording was stopped part-way); "
            f"used the {count} complete samples before the cut, up to {last_t_s:.1f} s"
        )

    def _parse(self, line: str, number: int) -> PoseSample:
        try:
            record = json.loads(line)
            t_s = float(record["t_s"])
            tracking = Tracking(record["tracking"])
            pose = None
            if "image" in record:
                arrays = [
                    np.asarray(record[key], dtype=np.float32)
                    for key in ("image", "world", "visibility", "presence")
                ]
                if arrays[0].shape != (LANDMARK_COUNT, 3) or arrays[1].shape != (LANDMARK_COUNT, 3):
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
            return PoseSample(t_s=t_s, pose=pose, tracking=tracking, people=int(record["people"]))
        except (KeyError, ValueError, TypeError, json.JSONDecodeError):
            raise LandmarkFileError(
                f"{self.path} line {number} is not a valid landmark record (corrupt file?)"
            ) from None
