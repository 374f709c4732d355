"""Provides safe outputs: user-named files are never an input, never replaced unasked, and written
whole or not at all; JSON output is always valid JSON.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from coach.errors import ConfigError
from coach.safe.checks import check_not_special
from coach.safe.private_files import PRIVATE_FILE_MODE, private_dir


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (also through symlinks and hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_output(
    path: Path, *, option: str, inputs: Iterable[Path | str] = (), force: bool = False
) -> Path:
    """Refuse an output that is one of the inputs, a folder, or (without --force) an existing file.

    Args:
        path: the file the user asked to write.
        option: the option that named it, for the message (e.g. "--landmarks").
        inputs: files the command reads; the output may never be one of them.
        force: the user asked to replace an existing file.

    Returns:
        The path, with `~` expanded.

    Raises:
        ConfigError: the output would destroy an input or an existing file.
    """
    path = path.expanduser()
    for source in inputs:
        if _same_file(path, Path(source).expanduser()):
            raise ConfigError(
                f"{option} {path} is the input itself and would be destroyed; "
                "choose another output name"
            )
    # A folder, a device or a pipe is never replaced (the rename would put a file in the
    # place of /dev/null): one line, --force or not.
    check_not_special(path, option)
    if not force and (path.exists() or path.is_symlink()):
        raise ConfigError(
            f"{option} {path} already exists; choose another name, or add --force to replace it"
        )
    return path


def _alive(pid: int) -> bool:
    """Whether a process runs with this id (on Windows: assume so, and keep its file)."""
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user
    return True


def _remove_stale_parts(path: Path) -> None:
    """Delete the temporary files of writers of `path` that were killed before they finished.

    Only names of our own pattern (`.NAME.PID.XXXX.part`, regular files) whose process is
    gone: they hold half a recording (pose data) nobody will finish.
    """
    prefix = f".{path.name}."
    try:
        names = [entry for entry in os.scandir(path.parent) if entry.name.startswith(prefix)]
    except OSError:
        return
    for entry in names:
        middle = entry.name[len(prefix) :].split(".")
        if len(middle) != 3 or middle[2] != "part" or not middle[0].isdigit():
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and not _alive(int(middle[0])):
                os.unlink(entry.path)


class AtomicFile:
    """A file written under a temporary name in its own folder and renamed into place at the end,
    so a crash or an error never leaves half a file where the old one (or nothing) was."""

    def __init__(self, path: Path, *, private: bool = False) -> None:
        self.path = path
        if private:  # folders made for the user's data are theirs alone, whatever the umask
            private_dir(path.parent)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(path)
        # The writer's process id is in the name, so a later writer can tell a temporary
        # file left by a killed one (kill -9 runs no clean-up) from one still being written.
        handle, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".part"
        )
        # mkstemp makes the file private; give it the mode a plain open() would (or the
        # replaced file's), so the rename changes nothing but the contents. Private data
        # (`private`: the user's history, body landmarks) stays readable by the user only.
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            umask = os.umask(0o022)
            os.umask(umask)
            mode = 0o666 & ~umask
        if private:
            mode &= PRIVATE_FILE_MODE
        os.fchmod(handle, mode)
        os.close(handle)
        self.temp = Path(name)

    def commit(self) -> None:
        """Move the finished file into place (durably: its data first, then the rename)."""
        with self.temp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temp, self.path)

    def discard(self) -> None:
        """Drop the temporary file; whatever was at the path stays as it was."""
        self.temp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_text(
    path: Path, newline: str | None = None, *, private: bool = False
) -> Iterator[IO[str]]:
    """Write a text file whole or not at all (see `AtomicFile`)."""
    target = AtomicFile(path, private=private)
    try:
        with target.temp.open("w", encoding="utf-8", newline=newline) as handle:
            yield handle
        target.commit()
    except BaseException:
        target.discard()
        raise


def write_whole(files: dict[Path, bytes], *, private: bool = False) -> None:
    """Write several files, each whole (see `AtomicFile`): a link at a path is replaced,
    never followed. When one fails, the files this call created are removed again (a
    replaced one cannot come back, but is whole).

    Raises:
        OSError: a file cannot be written.
    """
    created: list[Path] = []
    try:
        for path, data in files.items():
            existed = path.exists() or path.is_symlink()
            target = AtomicFile(path, private=private)
            try:
                with target.temp.open("wb") as handle:
                    handle.write(data)
                target.commit()
            except BaseException:
                target.discard()
                raise
            if not existed:
                created.append(path)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise


def json_safe(value: Any) -> Any:
    """The value with every NaN or infinity as None (JSON has no such numbers: null is missing)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """Strict JSON text: a missing number is null, never NaN (which no JSON parser accepts)."""
    return json.dumps(json_safe(value), allow_nan=False, **options)
