"""Provides the cameras there are (V4L2 on Linux), by name and stable identity, and their lookup."""

from __future__ import annotations

import os
import re
import struct
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from coach.errors import CameraUnavailable

CAMERA_PREFIX = "camera:"
"""`camera:NAME` names a camera by its name (or stable id) as `coach cameras` lists it."""
_STABLE_ID = re.compile(r"-video-index\d+$")
_NODE = re.compile(r"^/dev/video(\d+)$")
_VIDEO = re.compile(r"^video(\d+)$")
# linux/videodev2.h: VIDIOC_QUERYCAP = _IOR('V', 0, struct v4l2_capability) (104 bytes);
# capabilities at byte 84, device_caps at 88 (valid when V4L2_CAP_DEVICE_CAPS is set).
_VIDIOC_QUERYCAP = 0x80685600
_CAP_VIDEO_CAPTURE = 0x00000001
_CAP_VIDEO_CAPTURE_MPLANE = 0x00001000
_CAP_DEVICE_CAPS = 0x80000000


@dataclass(frozen=True)
class V4l2Roots:
    """Where the kernel shows its video devices (tests pass a folder tree of their own)."""

    sys_class: Path = Path("/sys/class/video4linux")
    dev: Path = Path("/dev")


@dataclass(frozen=True)
class Camera:
    """One capture device as the user knows it."""

    index: int
    """N of /dev/videoN: what the coach opens; it changes when the camera is replugged."""
    name: str
    """The device's own name (e.g. "HD Webcam C270")."""
    stable_id: str | None
    """Its /dev/v4l/by-id name (the same after a replug), else its by-path name (the same
    in the same port), else None."""
    node: Path
    size: tuple[int, int] | None = None
    """Width and height it delivers now (None: not looked at, or busy)."""
    busy: bool = False
    """It would not open (in use by another app, or not permitted)."""

    @property
    def identity(self) -> str:
        """What to store to find this camera again: the stable id, else the name."""
        return self.stable_id or f"{CAMERA_PREFIX}{self.name}"


def is_camera_name(text: str) -> bool:
    """Whether a SOURCE names a camera other than by index: camera:NAME, a stable id, /dev/videoN."""
    return (
        text.startswith(CAMERA_PREFIX) or bool(_STABLE_ID.search(text)) or bool(_NODE.match(text))
    )


def list_cameras(roots: V4l2Roots | None = None) -> list[Camera]:
    """The capture-capable video devices (metadata nodes skipped), by index; [] where there
    is no video4linux (no cameras, or not Linux)."""
    roots = roots or V4l2Roots()
    try:
        entries = sorted(roots.sys_class.iterdir())
    except OSError:
        return []
    by_id = _links(roots.dev / "v4l" / "by-id")
    by_path = _links(roots.dev / "v4l" / "by-path")
    found = []
    for entry in entries:
        number = _VIDEO.match(entry.name)
        if number is None:
            continue
        node = roots.dev / entry.name
        if not _captures(node, entry):
            continue
        stable = by_id.get(entry.name) or by_path.get(entry.name)
        found.append(Camera(int(number[1]), _read(entry / "name") or entry.name, stable, node))
    return sorted(found, key=lambda c: c.index)


def resolve_camera(target: str, roots: V4l2Roots | None = None) -> int:
    """The index the coach opens for a camera SOURCE: an index as is; a stable id, /dev/videoN or
    camera:NAME looked up now, so a replugged camera (a new index) is still found.

    Raises:
        CameraUnavailable: no such camera is connected now.
    """
    if target.isdigit():
        return int(target)
    node = _NODE.match(target)
    if node is not None:
        return int(node[1])
    roots = roots or V4l2Roots()
    wanted = target.removeprefix(CAMERA_PREFIX)
    for folder in ("by-id", "by-path"):
        link = roots.dev / "v4l" / folder / wanted
        if "/" not in wanted and link.is_symlink():
            number = _VIDEO.match(Path(os.readlink(link)).name)
            if number is not None:
                return int(number[1])
    cameras = list_cameras(roots)
    for camera in cameras:
        if wanted.casefold() in (camera.name.casefold(), (camera.stable_id or "").casefold()):
            return camera.index
    there = ", ".join(f'"{c.name}"' for c in cameras) or "none"
    raise CameraUnavailable(
        f"camera {wanted!r} is not connected (cameras now: {there}); plug it in, "
        "or choose another with `coach cameras`"
    )


def with_sizes(cameras: list[Camera], timeout_s: float = 3.0) -> list[Camera]:
    """Each camera with the size it delivers (a quick open); one that does not answer within
    `timeout_s` or will not open is marked busy (the look never hangs the command)."""
    return [_sized(camera, timeout_s) for camera in cameras]


def _sized(camera: Camera, timeout_s: float) -> Camera:
    result: list[tuple[int, int] | None] = []

    def look() -> None:
        from coach.source.capture import probe_size  # PyAV loads only when sizes are asked

        result.append(probe_size(camera.node, timeout_s))

    # A daemon: a driver that never answers is left behind, not waited for.
    thread = threading.Thread(target=look, name="coach-camera-size", daemon=True)
    thread.start()
    thread.join(timeout_s)
    size = result[0] if result else None
    return replace(camera, size=size, busy=size is None)


def _links(folder: Path) -> dict[str, str]:
    """videoN → the name of the link to it in `folder` (capture index first)."""
    found: dict[str, str] = {}
    try:
        links = sorted(folder.iterdir())
    except OSError:
        return found
    for link in links:
        if link.is_symlink():
            found.setdefault(Path(os.readlink(link)).name, link.name)
    return found


def _captures(node: Path, sys_entry: Path) -> bool:
    """Whether a video node captures pictures (a UVC camera's second node carries metadata)."""
    caps = _device_caps(node)
    if caps is not None:
        return bool(caps & (_CAP_VIDEO_CAPTURE | _CAP_VIDEO_CAPTURE_MPLANE))
    # Not asked (no permission, or not a device): a camera's first node is its picture.
    return _read(sys_entry / "index") in ("0", None)


def _device_caps(node: Path) -> int | None:
    """VIDIOC_QUERYCAP's capabilities of this node (None: it could not be asked)."""
    try:
        import fcntl  # POSIX only: elsewhere nothing is asked
    except ImportError:
        return None
    try:
        fd = os.open(node, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        reply = fcntl.ioctl(fd, _VIDIOC_QUERYCAP, bytes(104))
    except OSError:
        return None
    finally:
        os.close(fd)
    capabilities, device_caps = struct.unpack_from("=II", reply, 84)
    return int(device_caps if capabilities & _CAP_DEVICE_CAPS else capabilities)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
