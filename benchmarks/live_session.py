"""The scripted session `make bench-live` plays as a live camera: its script, truth and frames.

A few minutes of one person at a desk, rendered with sample_videos/build.py's warps of one
photo at 30 fps, 640x480: sitting still (the coach calibrates from the first seconds),
typing, a slouch held well past the nudge hold, standing up and leaving, coming back, and
a set of seated cat-cow at 2 s per phase. The frames are encoded to JPEG once and kept in
benchmarks/.cache/ (git-ignored), keyed by the script and the renderer, so every later run
serves the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing as mp
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sample_videos import build  # noqa: E402  (the repo root must be importable first)

FPS = 30
WIDTH, HEIGHT = build.WIDTH, build.HEIGHT
JPEG_QUALITY = 80
CACHE = Path(__file__).resolve().parent / ".cache"
SEED = 20250611


@dataclass(frozen=True)
class Script:
    """Where each part of the session begins and ends (seconds of stream time)."""

    still_s: float
    """Upright and still from 0 (calibration, then the still stretch measured)."""
    typing_s: float
    """Typing: small head nods and shoulder jitter, still seated, until the slouch."""
    slouch_hold_s: float
    """How long the slouch is held (it starts at `slouch_start_s`)."""
    upright_s: float
    """Upright again after the slouch, before standing up."""
    away_s: float
    """Out of view after standing up."""
    back_s: float
    """Seated and still after coming back, before the set."""
    reps: int
    """Cat-cow reps, 2 s per phase."""
    tail_s: float
    """Still after the set: long enough for the coach to see the set has ended."""
    nudge_hold_s: float
    """The posture nudge hold this session is played with (a config setting)."""
    measure_still_from_s: float = 15.0
    """The still stretch measured starts here (after calibration has settled)."""

    stand_s: float = 3.0
    """Standing up (rising, the head leaving the top of the frame) before leaving."""
    slouch_ramp_s: float = 1.0
    """Slouching and sitting up again each take this long (times are their midpoints)."""

    @property
    def slouch_start_s(self) -> float:
        return self.still_s + self.typing_s

    @property
    def slouch_end_s(self) -> float:
        return self.slouch_start_s + self.slouch_hold_s

    @property
    def stand_start_s(self) -> float:
        return self.slouch_end_s + self.slouch_ramp_s / 2 + self.upright_s

    @property
    def leave_s(self) -> float:
        return self.stand_start_s + self.stand_s

    @property
    def return_s(self) -> float:
        return self.leave_s + self.away_s

    @property
    def set_start_s(self) -> float:
        return self.return_s + self.back_s

    @property
    def set_end_s(self) -> float:
        return self.set_start_s + 4.0 * self.reps

    @property
    def duration_s(self) -> float:
        return self.set_end_s + self.tail_s


FULL = Script(
    still_s=75.0,
    typing_s=30.0,
    slouch_hold_s=36.0,
    upright_s=18.0,
    away_s=22.0,
    back_s=28.0,
    reps=6,
    tail_s=16.0,
    nudge_hold_s=20.0,
)
QUICK = Script(
    still_s=25.0,
    typing_s=8.0,
    slouch_hold_s=14.0,
    upright_s=5.0,
    away_s=9.0,
    back_s=8.0,
    reps=4,
    tail_s=14.0,
    nudge_hold_s=5.0,
    measure_still_from_s=10.0,
)

STAND_RISE_PX = -170.0  # standing: the head leaves the top of the frame


class _Timeline(build.Timeline):
    """build.py's keyframe timeline, at this benchmark's frame rate."""

    def __init__(self, duration_s: float) -> None:
        super().__init__(duration_s)
        self.n = round(duration_s * FPS)
        self.t = np.arange(self.n, dtype=np.float64) / FPS


def tracks(script: Script) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every frame's pose parameters (build.py's tracks) for the script; deterministic."""
    s = script
    tl = _Timeline(s.duration_s)
    half = s.slouch_ramp_s / 2
    tl.move(s.slouch_start_s - half, s.slouch_start_s + half, **build.SLOUCH_POSE)
    rest = {k: build.REST[k] for k in build.SLOUCH_POSE}
    tl.move(s.slouch_end_s - half, s.slouch_end_s + half, **rest)
    # Standing up: the body rises out of the top of the frame and sways, then is gone.
    risen_s = s.stand_start_s + 2.0 / 3.0 * s.stand_s
    tl.move(s.stand_start_s, risen_s, shift_y_px=STAND_RISE_PX, shift_x_px=12.0)
    tl.move(risen_s, s.leave_s, shift_x_px=-20.0)
    tl.set(s.leave_s, present=0.0)
    # Back: appears standing, sits down over 2 s, then still.
    tl.set(s.return_s, present=1.0)
    tl.move(s.return_s, s.return_s + 2.0, shift_y_px=0.0, shift_x_px=0.0)
    for k in range(s.reps):  # as sample_videos' cat_cow clip: cow, then cat, 2 s each
        t0 = s.set_start_s + 4.0 * k
        tl.move(t0 - 0.4, t0 + 0.4, **build.COW_POSE)
        tl.move(t0 + 1.5, t0 + 2.5, **build.CAT_POSE)
    tl.move(s.set_end_s - 0.4, s.set_end_s + 0.4, **{k: build.REST[k] for k in build.COW_POSE})
    out = tl.render()
    rng = np.random.default_rng(SEED)
    build._idle(out, tl.t, rng)
    # Typing: small irregular nods toward the keyboard and the shoulders jiggled by the arms.
    typing = (tl.t >= s.still_s) & (tl.t < s.slouch_start_s - half)
    t = tl.t[typing]
    out["head_pitch"][typing] += 2.0 * np.sin(2 * np.pi * t / 1.7) + 1.2 * np.sin(
        2 * np.pi * t / 0.63
    )
    out["shoulder_narrow"][typing] += 0.004 * np.sin(2 * np.pi * 4.1 * t)
    out["shift_x_px"][typing] += 1.5 * np.sin(2 * np.pi * 3.3 * t)
    out["shift_y_px"][typing] += 1.0 * np.sin(2 * np.pi * 5.2 * t)
    return tl.t, out


def truth(script: Script) -> dict[str, Any]:
    """The session's ground truth: where each part is, the reps, the settings it needs."""
    s = script
    segments = [
        ("still", 0.0, s.still_s),
        ("typing", s.still_s, s.slouch_start_s),
        ("slouched", s.slouch_start_s, s.slouch_end_s),
        ("upright", s.slouch_end_s, s.stand_start_s),
        ("standing", s.stand_start_s, s.leave_s),
        ("away", s.leave_s, s.return_s),
        ("back", s.return_s, s.set_start_s),
        ("set", s.set_start_s, s.set_end_s),
        ("tail", s.set_end_s, s.duration_s),
    ]
    return {
        "fps": FPS,
        "width": WIDTH,
        "height": HEIGHT,
        "frames": round(s.duration_s * FPS),
        "duration_s": round(s.duration_s, 3),
        "segments": [
            {"name": name, "start_s": round(a, 3), "end_s": round(b, 3)} for name, a, b in segments
        ],
        "still_measured_s": [s.measure_still_from_s, s.still_s],
        "slouch_start_s": s.slouch_start_s,
        "slouch_end_s": s.slouch_end_s,
        "leave_s": s.leave_s,
        "return_s": s.return_s,
        "set_start_s": s.set_start_s,
        "set_end_s": s.set_end_s,
        "reps": s.reps,
        "movement": "cat-cow",
        "nudge_hold_s": s.nudge_hold_s,
        "script": asdict(s),
        "conventions": "times are stream seconds from the first frame served; a slouch's "
        "start and end are the midpoints of its 1 s transitions; leaving is the moment the "
        "person is gone from the frame; a set runs from its first cow to its last return",
    }


RENDER_VERSION = 2
"""Raise when the rendering or encoding of frames changes (the cache is then rebuilt)."""
CHUNK_FRAMES = 20 * FPS
"""Frames one process renders in a row. The renderer starts each frame's warp from the
last one's, so the frames depend on where chunks begin: fixed, not by the process count."""


def _cache_key(script: Script) -> str:
    """Changes whenever the frames would: every frame's parameters, the renderer, the encoding."""
    digest = hashlib.sha256()
    digest.update(json.dumps(truth(script), sort_keys=True).encode())
    t, params = tracks(script)
    digest.update(np.round(t, 6).tobytes())
    for name in sorted(params):
        digest.update(name.encode() + np.round(params[name], 6).tobytes())
    digest.update(Path(build.__file__).read_bytes())
    digest.update(f"{RENDER_VERSION} {SEED} {JPEG_QUALITY}".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Session:
    """A rendered session on disk: JPEG frames back to back, their offsets, the truth."""

    folder: Path

    @property
    def frames_path(self) -> Path:
        return self.folder / "frames.bin"

    @property
    def index_path(self) -> Path:
        return self.folder / "index.npy"

    @property
    def truth(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.folder / "truth.json").read_text())
        return data


def _render_chunk(job: tuple[Script, int, int]) -> list[bytes]:
    """JPEG frames [start, stop) of the script (one process renders one chunk)."""
    import cv2

    script, start, stop = job
    _, params = tracks(script)
    renderer = build.Renderer()
    n = len(params["present"])
    rng = np.random.default_rng([SEED, 1])
    noise = rng.integers(0, len(renderer.noise), size=n)
    gains = 1.0 + rng.normal(0.0, 0.004, size=n)
    out = []
    for i in range(start, stop):
        pose = {k: float(params[k][i]) for k in build.TRACKS}
        image = renderer.render(pose, int(noise[i]), float(gains[i]))
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f"cannot encode frame {i}")
        out.append(jpeg.tobytes())
    return out


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


def ensure_session(
    script: Script, name: str, *, cache: Path = CACHE, jobs: int = 2, say: Any = print
) -> Session:
    """The rendered session for `script`, rendered now if it is not in the cache."""
    cache.mkdir(parents=True, exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # rendered frames are never committed
    folder = cache / f"{name}-{_cache_key(script)}"
    session = Session(folder)
    if (folder / "truth.json").exists():
        return session
    for stale in cache.glob(f"{name}-*"):  # an older script's frames
        shutil.rmtree(stale)
    n = round(script.duration_s * FPS)
    jobs = max(1, min(jobs, os.cpu_count() or 1))
    say(f"Rendering the {name} session once: {n} frames at {FPS} fps ({jobs} processes)…")
    work = [(script, a, b) for a, b in _chunks(n, CHUNK_FRAMES)]
    tmp = folder.with_name(folder.name + ".part")
    tmp.mkdir(exist_ok=True)
    offsets = [0]
    with contextlib.ExitStack() as stack:
        out = stack.enter_context((tmp / "frames.bin").open("wb"))
        render = map  # in order, in this process; or in `jobs` processes
        if jobs > 1:
            render = stack.enter_context(mp.get_context("spawn").Pool(jobs)).imap
        for frames in render(_render_chunk, work):
            for jpeg in frames:
                out.write(jpeg)
                offsets.append(offsets[-1] + len(jpeg))
    np.save(tmp / "index.npy", np.asarray(offsets, dtype=np.int64))
    (tmp / "truth.json").write_text(json.dumps(truth(script), indent=2) + "\n")
    tmp.rename(folder)
    return session
