"""Shared fixtures: a private home for every test, synthetic poses, the model and clips."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import platformdirs
import pytest

from coach.landmarks import LANDMARK_COUNT, Landmark
from coach.records import Pose, PoseSample, Tracking
from tests.xvfb import xvfb_screen

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_videos"
MODEL = REPO / "models" / "pose_landmarker_full.task"
REAL_USER_DATA = platformdirs.user_data_path("coach", appauthor=False)
"""The developer's real data folder, resolved before any test changes the environment."""


def private_home_env(home: Path) -> dict[str, str]:
    """The variables that place every user folder (platformdirs, XDG, Windows) under `home`."""
    return {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(home / ".run"),
        # Windows: platformdirs asks the system, unless these overrides are set.
        "USERPROFILE": str(home),
        "APPDATA": str(home / "AppData" / "Roaming"),
        "LOCALAPPDATA": str(home / "AppData" / "Local"),
        "WIN_PD_OVERRIDE_APPDATA": str(home / "AppData" / "Roaming"),
        "WIN_PD_OVERRIDE_LOCAL_APPDATA": str(home / "AppData" / "Local"),
    }


def _use_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in private_home_env(home).items():
        monkeypatch.setenv(name, value)
    # Never the user's session bus: a coach in a test would own the running coach's name.
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    (home / ".run").mkdir(mode=0o700)  # XDG wants the runtime folder private
    return home


@pytest.fixture(scope="session", autouse=True)
def _private_session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private home for module- and session-scoped fixtures too (they run before tests)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        home = _use_home(tmp_path_factory.mktemp("session-home"), monkeypatch)
        # One matplotlib config and font cache for the whole run (building one takes seconds).
        monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path_factory.mktemp("matplotlib")))
        yield home


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty home of its own, inherited by the subprocesses it starts.

    So neither the coach in process nor `python -m coach` can read or write the real
    history, profiles or settings. The pose model is found in the checkout's models/,
    which does not depend on these folders.
    """
    return _use_home(tmp_path_factory.mktemp("home"), monkeypatch)


def make_pose(
    t_s: float = 0.0,
    *,
    centre_x: float = 0.5,
    shoulder_y: float = 0.75,
    shoulder_width: float = 0.36,
    head_height: float = 0.30,
    head_scale: float = 1.0,
    lean_deg: float = 0.0,
    yaw_deg: float = 0.0,
    visibility: float = 0.99,
    image_size: tuple[int, int] = (640, 480),
) -> Pose:
    """A seated person facing the camera, in normalised image units (y down).

    Lengths are in units of frame height; x is converted to frame-width units at the end.
    """
    aspect = image_size[0] / image_size[1]
    pts = np.zeros((LANDMARK_COUNT, 3), dtype=np.float64)
    half = shoulder_width / 2 * math.cos(math.radians(yaw_deg))
    head_w = 0.16 * head_scale
    nose = (0.0, -head_height)
    layout: dict[Landmark, tuple[float, float]] = {
        Landmark.NOSE: nose,
        Landmark.LEFT_EYE_INNER: (0.02 * head_scale, nose[1] - 0.03 * head_scale),
        Landmark.LEFT_EYE: (0.035 * head_scale, nose[1] - 0.03 * head_scale),
        Landmark.LEFT_EYE_OUTER: (0.05 * head_scale, nose[1] - 0.03 * head_scale),
        Landmark.RIGHT_EYE_INNER: (-0.02 * head_scale, nose[1] - 0.03 * head_scale),
        Landmark.RIGHT_EYE: (-0.035 * head_scale, nose[1] - 0.03 * head_scale),
        Landmark.RIGHT_EYE_OUTER: (-0.05 * head_scale, nose[1] - 0.03 * head_scale),
        Landmark.LEFT_EAR: (head_w / 2, nose[1] - 0.01 * head_scale),
        Landmark.RIGHT_EAR: (-head_w / 2, nose[1] - 0.01 * head_scale),
        Landmark.MOUTH_LEFT: (0.025 * head_scale, nose[1] + 0.035 * head_scale),
        Landmark.MOUTH_RIGHT: (-0.025 * head_scale, nose[1] + 0.035 * head_scale),
        Landmark.LEFT_SHOULDER: (half, 0.0),
        Landmark.RIGHT_SHOULDER: (-half, 0.0),
        Landmark.LEFT_ELBOW: (half + 0.04, 0.25),
        Landmark.RIGHT_ELBOW: (-half - 0.04, 0.25),
        Landmark.LEFT_WRIST: (half, 0.45),
        Landmark.RIGHT_WRIST: (-half, 0.45),
        Landmark.LEFT_HIP: (0.8 * half, 0.55),
        Landmark.RIGHT_HIP: (-0.8 * half, 0.55),
    }
    # Lean rotates the upper body about the hips' midpoint (image y points down).
    angle = math.radians(lean_deg)
    pivot = np.array([0.0, 0.55])
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    for lm, (x, y) in layout.items():
        xy = np.array([x, y])
        if lm not in (Landmark.LEFT_HIP, Landmark.RIGHT_HIP):
            xy = pivot + rot @ (xy - pivot)
        pts[lm, 0] = centre_x + xy[0] / aspect
        pts[lm, 1] = shoulder_y + xy[1]
    # MediaPipe's left is the person's left, on the image's right for a mirrored view.
    world = np.zeros((LANDMARK_COUNT, 3), dtype=np.float64)
    world[:, 0] = (pts[:, 0] - centre_x) * aspect
    world[:, 1] = pts[:, 1] - 0.75
    depth = shoulder_width / 2 * math.sin(math.radians(yaw_deg))
    world[Landmark.LEFT_SHOULDER, 2] = -depth
    world[Landmark.RIGHT_SHOULDER, 2] = depth
    vis = np.full(LANDMARK_COUNT, visibility, dtype=np.float32)
    return Pose(
        t_s=t_s,
        image_xyz=pts.astype(np.float32),
        world_xyz=world.astype(np.float32),
        visibility=vis,
        presence=vis.copy(),
        image_size=image_size,
    )


def sample_of(pose: Pose | None, t_s: float) -> PoseSample:
    """Wrap a pose (or its absence) as the pose stage would."""
    if pose is None:
        return PoseSample(t_s=t_s, pose=None, tracking=Tracking.NO_PERSON)
    return PoseSample(t_s=t_s, pose=pose, tracking=pose.tracking, people=1)


@pytest.fixture
def model_path() -> Path:
    """The built default model (`make test` builds it first)."""
    if not MODEL.exists():
        pytest.fail("pose model not built: run `make setup` (make test does it)")
    return MODEL


@pytest.fixture
def virtual_display() -> Iterator[str]:
    """A private Xvfb screen; its display name (-noreset: clients may connect and leave often)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (make setup installs it where it can)")
    with xvfb_screen() as name:
        yield name


def sample_clip(name: str) -> Path:
    """A built sample clip (`make test` builds them first)."""
    path = SAMPLES / f"{name}.mp4"
    if not path.exists():
        pytest.fail(f"sample clip {path.name} not built: run `make setup` (make test does it)")
    return path
