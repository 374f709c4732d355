"""Provides rescue files: records the history could not take, kept as JSON lines for the next run."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import hashlib
import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from coach.errors import HistoryError
from coach.history.rows import (
    AddNote,
    AddPrompt,
    AddSample,
    AddSet,
    EndSession,
    PostureSampleRow,
    Record,
    RepRecord,
    ResolvePrompt,
    Sessions,
    SetRecord,
    StartSession,
)
from coach.safe.private_files import open_private_exclusive

RESCUE_FORMAT: Final = "coach-history-rescue"


def _rescue_stem(path: Path) -> str:
    """The rescue name of a database outside its folder (in the temp folder)."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return f"coach-rescue-{digest}"


def rescue_targets(path: Path) -> list[Path]:
    """Where a rescue file goes: next to the database, else in the temp folder."""
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    return [
        path.with_name(f"{path.name}.rescue-{stamp}.jsonl"),
        Path(tempfile.gettempdir()) / f"{_rescue_stem(path)}-{stamp}.jsonl",
    ]


def rescue_files(path: Path) -> list[Path]:
    """Rescue files waiting to be added to the database at `path`, oldest first."""
    found = list(path.parent.glob(f"{glob.escape(path.name)}.rescue-*.jsonl"))
    in_temp = Path(tempfile.gettempdir()).glob(f"{_rescue_stem(path)}-*.jsonl")
    found += [p for p in in_temp if _ours(p)]
    return sorted(found, key=lambda p: p.name.rsplit("rescue-", 1)[-1])


def _ours(path: Path) -> bool:
    """Whether a file in the shared temp folder is ours alone (another user's is not read)."""
    if os.name != "posix":
        return True
    try:
        st = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


_OP_NAMES: Final[dict[type[Record], str]] = {
    StartSession: "start",
    EndSession: "end",
    AddSample: "sample",
    AddPrompt: "prompt",
    ResolvePrompt: "resolve",
    AddSet: "set",
    AddNote: "note",
}
_OPS: Final[dict[str, type[Record]]] = {name: op for op, name in _OP_NAMES.items()}


def _op_json(op: Record) -> dict[str, Any]:
    return {"op": _OP_NAMES[type(op)], **dataclasses.asdict(op)}


def _session_json(start: StartSession, session_id: int | None) -> dict[str, Any]:
    return {
        "op": "session",
        "ref": start.ref,
        "source": start.source,
        "started_at": start.started_at,
        "session_id": session_id,
    }


def write_rescue(path: Path, sessions: Sessions, batch: list[Record]) -> Path:
    """Save records the database at `path` did not take to a new rescue file; returns it.

    Raises:
        OSError: no rescue file could be written, next to the database or in the temp folder.
    """
    lines = [json.dumps({"format": RESCUE_FORMAT, "version": 1, "db": str(path)})]
    lines.extend(json.dumps(_session_json(start, sid)) for start, sid in sessions)
    lines.extend(json.dumps(_op_json(op)) for op in batch)
    text = "\n".join(lines) + "\n"
    error = OSError("no place for a rescue file")
    for target in rescue_targets(path):
        try:
            handle = open_private_exclusive(target)
        except OSError as exc:
            error = exc
            continue
        try:
            with handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            error = exc
            with contextlib.suppress(OSError):
                target.unlink()  # half a rescue file would be read as a whole one
            continue
        return target
    raise error


def rescue_or_lose(path: Path, sessions: Sessions, batch: list[Record], what: str) -> str:
    """Save `batch` to a rescue file; returns the one line that says so, after `what` (the loss)."""
    try:
        target = write_rescue(path, sessions, batch)
    except OSError as exc:
        detail = exc.strerror or str(exc)
        return f"{what}, and could not be saved to a rescue file either ({detail}): they are lost"
    return (
        f"{what}; they were saved to {target}, and the next `coach run` or "
        "`coach log` that can write the history adds them to it"
    )


def _op_from_json(data: dict[str, Any]) -> Record:
    kind = data.pop("op")
    if kind == "sample":
        # A checkpoint replaces its window's earlier row: read back as one, or each of the
        # window's checkpoints would become a row of its own.
        replace = bool(data.get("replace", False))
        return AddSample(int(data["ref"]), PostureSampleRow(**data["row"]), replace=replace)
    if kind == "set":
        raw = dict(data["record"])
        raw["feedback"] = tuple(raw["feedback"])
        raw["reps_detail"] = tuple(
            RepRecord(**{**rep, "phase_s": tuple(rep["phase_s"])}) for rep in raw["reps_detail"]
        )
        return AddSet(data["ref"], SetRecord(**raw), replace=bool(data.get("replace", False)))
    return _OPS[kind](**data)


def read_rescue(path: Path) -> tuple[Sessions, list[Record]]:
    """A rescue file's sessions already in the database (with their ids) and its records.

    Raises:
        HistoryError: the file is not a rescue file.
        OSError, ValueError, KeyError, TypeError: it cannot be read, or is cut short or garbled.
    """
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header = json.loads(lines[0])
    if header.get("format") != RESCUE_FORMAT:
        raise HistoryError("not a coach rescue file")
    sessions: Sessions = []
    ops: list[Record] = []
    for line in lines[1:]:
        data = json.loads(line)
        if data.get("op") == "session":
            start = StartSession(int(data["ref"]), str(data["source"]), float(data["started_at"]))
            sid = data.get("session_id")
            sessions.append((start, None if sid is None else int(sid)))
        else:
            ops.append(_op_from_json(data))
    return sessions, ops
