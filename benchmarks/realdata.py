"""Shared helpers for the real-data evaluation: where the recordings are, and the production path."""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coach.cli import main as coach_main
from coach.pose.landmark_file import LandmarkReader

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "realdata"


class CoachFailed(RuntimeError):
    """The coach exited non-zero on a recording."""


@contextlib.contextmanager
def isolated_home(root: Path) -> Iterator[None]:
    """Point the coach's per-user folders at `root` so an evaluation never touches the user's."""
    names = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ[name] = str(root / name.lower())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run(argv: tuple[str | Path, ...]) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = coach_main([str(a) for a in argv])
        except SystemExit as exc:  # argparse refuses the arguments
            status = exc.code if isinstance(exc.code, int) else 2
    if status != 0:
        command = " ".join(map(str, argv))
        raise CoachFailed(f"coach {command} exited {status}: {err.getvalue().strip()}")
    return out.getvalue()


def coach_json(*argv: str | Path) -> dict[str, Any]:
    """Run one `coach` command in-process (the code `coach analyze` / `coach count` run) and
    return the JSON it prints on stdout."""
    data: dict[str, Any] = json.loads(_run(argv))
    return data


def coach_call(*argv: str | Path) -> None:
    """Run one `coach` command in-process for its side effects (calibrate)."""
    _run(argv)


@functools.cache
def frame_times(path: Path) -> tuple[float, ...]:
    """Every frame's timestamp in a landmark recording (read once per process: the recordings
    do not change while an evaluation runs)."""
    return tuple(s.t_s for s in LandmarkReader(path).samples())


@functools.cache
def landmark_rows(path: Path) -> tuple[str, tuple[tuple[float, str], ...]]:
    """A landmark recording's header line and each frame's time and line, as written (read
    once per process, for the copies decimated from it)."""
    with gzip.open(path, "rt", encoding="utf-8") as src:
        header = src.readline()
        return header, tuple((float(json.loads(line)["t_s"]), line) for line in src)


def load_json(path: Path) -> Any:
    """A truth file."""
    return json.loads(path.read_text(encoding="utf-8"))
