"""`coach cameras`: V4L2 devices by name and stable id, found again after a replug (a fake /sys and /dev)."""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

import pytest

from coach.cli import main
from coach.config import SourceConfig
from coach.errors import CameraUnavailable
from coach.source import cameras as cameras_module
from coach.source import parse_source
from coach.source.cameras import Camera, V4l2Roots, list_cameras, resolve_camera, with_sizes
from coach.source.live import LiveSource
from coach.source.spec import SourceKind

C270 = "usb-Logitech_HD_Webcam_C270_2B1C-video-index0"
BUILT_IN = "pci-0000:00:14.0-usb-0:5:1.0-video-index0"


def _device(roots: V4l2Roots, number: int, name: str, index: int) -> None:
    """A video node as the kernel shows it: /sys/class/video4linux/videoN and /dev/videoN
    (a plain file here: asking it VIDIOC_QUERYCAP fails, so its sysfs index decides)."""
    entry = roots.sys_class / f"video{number}"
    entry.mkdir(parents=True)
    (entry / "name").write_text(f"{name}\n")
    (entry / "index").write_text(f"{index}\n")
    (roots.dev / f"video{number}").write_text("")


def _link(roots: V4l2Roots, folder: str, name: str, number: int) -> None:
    links = roots.dev / "v4l" / folder
    links.mkdir(parents=True, exist_ok=True)
    (links / name).unlink(missing_ok=True)
    (links / name).symlink_to(f"../../video{number}")


@pytest.fixture
def roots(tmp_path: Path) -> V4l2Roots:
    """A C270 (video0, its metadata node video1) and a built-in camera with no serial (video2)."""
    roots = V4l2Roots(tmp_path / "sys" / "class" / "video4linux", tmp_path / "dev")
    roots.dev.mkdir(parents=True)
    _device(roots, 0, "HD Webcam C270", 0)
    _device(roots, 1, "HD Webcam C270", 1)
    _device(roots, 2, "Integrated Camera: Integrated C", 0)
    _link(roots, "by-id", C270, 0)
    _link(roots, "by-id", C270.replace("index0", "index1"), 1)
    _link(roots, "by-path", "pci-0000:00:14.0-usb-0:1:1.0-video-index0", 0)
    _link(roots, "by-path", BUILT_IN, 2)
    return roots


def test_cameras_are_listed_by_name_with_a_stable_id_and_no_metadata_node(roots) -> None:
    found = list_cameras(roots)
    assert [(c.index, c.name, c.stable_id) for c in found] == [
        (0, "HD Webcam C270", C270),  # by-id first: it follows the camera to any port
        (2, "Integrated Camera: Integrated C", BUILT_IN),  # no serial: its port
    ]
    assert found[0].node == roots.dev / "video0"
    assert found[0].identity == C270


def test_a_stable_id_finds_the_camera_again_after_a_replug(roots) -> None:
    assert resolve_camera(C270, roots) == 0
    # Unplugged: gone from /sys and /dev, its links with it; the id says it is not connected.
    for number in (0, 1):
        (roots.dev / f"video{number}").unlink()
        for item in (roots.sys_class / f"video{number}").iterdir():
            item.unlink()
        (roots.sys_class / f"video{number}").rmdir()
    for link in (roots.dev / "v4l" / "by-id").iterdir():
        link.unlink()
    with pytest.raises(CameraUnavailable, match=r"camera '.*C270.*' is not connected") as gone:
        resolve_camera(C270, roots)
    assert '"Integrated Camera: Integrated C"' in str(gone.value) and "\n" not in str(gone.value)
    # Plugged back in: the kernel gives it video3 and video4 this time.
    _device(roots, 3, "HD Webcam C270", 0)
    _device(roots, 4, "HD Webcam C270", 1)
    _link(roots, "by-id", C270, 3)
    _link(roots, "by-id", C270.replace("index0", "index1"), 4)
    assert resolve_camera(C270, roots) == 3
    assert resolve_camera("camera:HD Webcam C270", roots) == 3  # by name too
    assert resolve_camera("camera:hd webcam c270", roots) == 3
    assert resolve_camera(BUILT_IN, roots) == 2


def test_indexes_and_device_nodes_need_no_lookup(roots) -> None:
    assert resolve_camera("1", roots) == 1
    assert resolve_camera("/dev/video7", roots) == 7


def test_a_source_names_a_camera_by_index_id_node_or_name() -> None:
    for text in ("0", C270, BUILT_IN, "/dev/video2", "camera:HD Webcam C270"):
        assert parse_source(text).kind is SourceKind.CAMERA, text
    assert str(parse_source("camera:HD Webcam C270")) == "camera HD Webcam C270"
    assert parse_source("clip.mp4").kind is SourceKind.VIDEO
    assert parse_source("index0.mp4").kind is SourceKind.VIDEO


def test_opening_a_camera_that_is_not_connected_says_so_in_one_line() -> None:
    """The real /dev: this machine has no camera, so a stable id is looked up and not found."""
    with pytest.raises(CameraUnavailable, match="is not connected") as caught:
        LiveSource(parse_source(C270), SourceConfig())
    assert "\n" not in str(caught.value)


def test_a_camera_that_will_not_open_is_marked_busy_without_waiting_long(tmp_path) -> None:
    started = time.monotonic()
    (looked,) = with_sizes([Camera(63, "gone", None, tmp_path / "video63")], timeout_s=2.0)
    assert looked.busy and looked.size is None
    assert time.monotonic() - started < 5.0


def test_coach_cameras_lists_them_and_says_so_when_there_are_none(
    roots, monkeypatch, capsys, tmp_path
) -> None:
    monkeypatch.setattr(cameras_module, "list_cameras", functools.partial(list_cameras, roots))
    assert main(["cameras", "--no-size"]) == 0
    out = capsys.readouterr().out
    assert "0: HD Webcam C270  size not read" in out and f"id: {C270}" in out
    assert "2: Integrated Camera: Integrated C" in out
    assert main(["config", "set", "source.camera", C270]) == 0
    capsys.readouterr()
    assert main(["cameras", "--no-size"]) == 0
    assert f"{roots.dev / 'video0'} (chosen)" in capsys.readouterr().out
    assert main(["cameras", "--json", "--no-size"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["identity"] for c in data["cameras"]] == [C270, BUILT_IN]
    empty = V4l2Roots(tmp_path / "none", tmp_path / "none")
    monkeypatch.setattr(cameras_module, "list_cameras", functools.partial(list_cameras, empty))
    assert main(["cameras"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("No cameras found")
