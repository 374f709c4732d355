"""Builds, caches and validates the MediaPipe pose landmarker model offline."""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from coach.errors import ModelError

DEFAULT_MODEL_NAME: Final = "pose_landmarker_full.task"

# mediapipe 1.x ships the Tasks API but no pose model; this legacy-solutions
# wheel on PyPI carries the pose graph tflites, so pip can fetch them from the registry.
SOURCE_PACKAGE: Final = "mediapipe==0.10.21"
# The wheels for each platform hold byte-identical tflites (checked for the
# linux x86_64 and win_amd64 wheels); asking pip for one fixed platform makes
# the download independent of the interpreter and OS that runs the coach.
SOURCE_WHEEL_TAGS: Final = ("cp", "cp311", "3.11", "manylinux_2_28_x86_64")
SOURCE_WHEEL_GLOB: Final = "mediapipe-0.10.21-*.whl"

DETECTOR_WHEEL_MEMBER: Final = "mediapipe/modules/pose_detection/pose_detection.tflite"
LANDMARKS_WHEEL_MEMBER: Final = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
# SHA-256 of the two tflites exactly as they sit in the mediapipe 0.10.21 wheel.
DETECTOR_SHA256: Final = "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"
LANDMARKS_SHA256: Final = "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"

# Member names the Tasks PoseLandmarker looks up inside a .task bundle.
TASK_DETECTOR_NAME: Final = "pose_detector.tflite"
TASK_LANDMARKS_NAME: Final = "pose_landmarks_detector.tflite"

# Input normalisation the two graphs were trained with (pixel' = (pixel - mean) / std):
# the detector expects [-1, 1], the landmark model expects [0, 1].
DETECTOR_MEAN: Final = 127.5
DETECTOR_STD: Final = 127.5
LANDMARKS_MEAN: Final = 0.0
LANDMARKS_STD: Final = 255.0

# Bump when the build recipe changes so existing models are rebuilt.
BUILD_RECIPE_VERSION: Final = 1

_METADATA_FIELD_NAME: Final = "TFLITE_METADATA"
_TFLITE_FILE_IDENTIFIER: Final = b"TFL3"
_METADATA_FILE_IDENTIFIER: Final = b"M001"
# Only 1.0.0 features (image properties, normalisation, stats) are written.
_MIN_METADATA_PARSER_VERSION: Final = "1.0.0"
_TFLITE_FLOAT32: Final = 0
_TFLITE_BUFFER_ALIGNMENT_BYTES: Final = 16
_PIP_TIMEOUT_S: Final = 900.0
# A fixed zip timestamp keeps the built .task byte-for-byte reproducible.
_ZIP_DATE_TIME: Final = (1980, 1, 1, 0, 0, 0)
_ZIP_LOCAL_HEADER_BYTES: Final = 30
_ZIPALIGN_EXTRA_ID: Final = 0xD935
_FIX_HINT: Final = "pass --model PATH to an official pose_landmarker_full.task"
_MODEL_HINT: Final = (
    "pass an official pose_landmarker_{lite,full,heavy}.task "
    "or omit --model to use the built-in one"
)

Log = Callable[[str], None]


def _no_log(_message: str) -> None:
    """Discard progress messages when the caller did not ask for them."""


def default_models_dir() -> Path:
    """Return the repo's models/ dir in a source checkout, else the user data dir."""
    checkout_dir = Path(__file__).resolve().parent.parent / "models"
    if checkout_dir.is_dir() and os.access(checkout_dir, os.W_OK):
        return checkout_dir
    import platformdirs  # lazy: only needed outside a source checkout

    return Path(platformdirs.user_data_dir("coach", appauthor=False)) / "models"


def validate_model(path: Path) -> Path:
    """Cheaply check that `path` is a pose landmarker .task bundle and return it."""
    if not path.exists():
        raise ModelError(f"--model {path} does not exist; {_MODEL_HINT}")
    if not path.is_file():
        raise ModelError(f"--model {path} is not a file; {_MODEL_HINT}")
    try:
        with zipfile.ZipFile(path) as bundle:
            names = set(bundle.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(
            f"--model {path} is not a MediaPipe .task bundle ({_one_line(exc)}); {_MODEL_HINT}"
        ) from exc
    for member in (TASK_DETECTOR_NAME, TASK_LANDMARKS_NAME):
        if member not in names:
            raise ModelError(
                f"--model {path} is not a pose landmarker model (no {member} inside); {_MODEL_HINT}"
            )
    return path


def add_image_metadata(tflite: bytes, *, mean: float, std: float, name: str) -> bytes:
    """Return `tflite` with TFLite model metadata describing its RGB float image input.

    Mirrors what the official metadata writer (MetadataPopulator) does: the
    ModelMetadata flatbuffer goes into a new model buffer, referenced by a
    "TFLITE_METADATA" entry of the model's metadata vector (an existing entry
    is replaced), and the model is re-serialised.
    """
    import flatbuffers
    import numpy as np
    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
    from mediapipe.tasks.metadata import schema_py_generated as tflite_fb

    if std <= 0:
        raise ModelError(f"cannot describe {name}: normalisation std must be > 0, got {std}")
    if not tflite_fb.Model.ModelBufferHasIdentifier(tflite, 0):
        raise ModelError(f"cannot describe {name}: the data is not a TFLite model")
    model = tflite_fb.ModelT.InitFromObj(tflite_fb.Model.GetRootAs(tflite, 0))
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise ModelError(f"cannot describe {name}: expected exactly one TFLite subgraph")
    subgraph = model.subgraphs[0]
    inputs = [subgraph.tensors[i] for i in subgraph.inputs]
    outputs = [subgraph.tensors[i] for i in subgraph.outputs]
    image = inputs[0] if len(inputs) == 1 else None
    if (
        image is None
        or image.type != _TFLITE_FLOAT32
        or image.shape is None
        or len(image.shape) != 4
        or int(image.shape[3]) != 3
    ):
        raise ModelError(f"cannot describe {name}: expected one float32 [1, H, W, 3] image input")

    model_metadata = _image_model_metadata(meta_fb, name, mean, std, outputs)
    meta_builder = flatbuffers.Builder(0)
    meta_builder.Finish(model_metadata.Pack(meta_builder), _METADATA_FILE_IDENTIFIER)
    metadata_bytes = bytes(meta_builder.Output())

    metadata_buffer = tflite_fb.BufferT()
    # A numpy array makes BufferT.Pack copy the bytes in one go instead of per byte.
    metadata_buffer.data = np.frombuffer(metadata_bytes, dtype=np.uint8)
    if model.buffers is None:
        model.buffers = []
    if model.metadata is None:
        model.metadata = []
    existing = [m for m in model.metadata if _decode(m.name) == _METADATA_FIELD_NAME]
    if existing:
        # The wheel's detector carries stale metadata copied from a face model.
        for entry in existing:
            model.buffers[entry.buffer] = metadata_buffer
    else:
        model.buffers.append(metadata_buffer)
        entry = tflite_fb.MetadataT()
        entry.name = _METADATA_FIELD_NAME
        entry.buffer = len(model.buffers) - 1
        model.metadata.append(entry)

    model.buffers = [_aligned_buffer(tflite_fb, buffer) for buffer in model.buffers]
    model_builder = flatbuffers.Builder(len(tflite) + len(metadata_bytes) + 4096)
    model_builder.Finish(model.Pack(model_builder), _TFLITE_FILE_IDENTIFIER)
    return bytes(model_builder.Output())


def _aligned_buffer(tflite_fb: Any, buffer: Any) -> Any:
    """Wrap a BufferT so its bytes are packed at a 16-byte boundary.

    The generated Pack aligns weights to 1 byte only; TFLite then warns and
    copies every unaligned constant tensor to the heap instead of using it in
    place, as the original converter output (16-byte aligned) allowed.
    """

    class AlignedBufferT(tflite_fb.BufferT):  # type: ignore[misc]
        def Pack(self, builder: Any) -> Any:
            if self.data is not None and len(self.data) > 0:
                # Pad now so the data that Pack prepends next ends up aligned.
                builder.Prep(_TFLITE_BUFFER_ALIGNMENT_BYTES, len(self.data))
            return super().Pack(builder)

    return AlignedBufferT(data=buffer.data, offset=buffer.offset, size=buffer.size)


def _image_model_metadata(
    meta_fb: Any, name: str, mean: float, std: float, outputs: Sequence[Any]
) -> Any:
    """Build the ModelMetadataT the official image writers produce for one input."""
    normalization = meta_fb.NormalizationOptionsT()
    normalization.mean = [float(mean)]
    normalization.std = [float(std)]
    process_unit = meta_fb.ProcessUnitT()
    process_unit.optionsType = meta_fb.ProcessUnitOptions.NormalizationOptions
    process_unit.options = normalization

    image_properties = meta_fb.ImagePropertiesT()
    image_properties.colorSpace = meta_fb.ColorSpaceType.RGB
    image_content = meta_fb.ContentT()
    image_content.contentPropertiesType = meta_fb.ContentProperties.ImageProperties
    image_content.contentProperties = image_properties

    # Stats hold the value range of the normalised float input (8-bit pixels in).
    image_stats = meta_fb.StatsT()
    image_stats.min = [(0.0 - mean) / std]
    image_stats.max = [(255.0 - mean) / std]

    image_tensor = meta_fb.TensorMetadataT()
    image_tensor.name = "image"
    image_tensor.description = "Input RGB image, float32, normalised as (pixel - mean) / std."
    image_tensor.content = image_content
    image_tensor.processUnits = [process_unit]
    image_tensor.stats = image_stats

    output_tensors = []
    for tensor in outputs:
        feature_content = meta_fb.ContentT()
        feature_content.contentPropertiesType = meta_fb.ContentProperties.FeatureProperties
        feature_content.contentProperties = meta_fb.FeaturePropertiesT()
        output_tensor = meta_fb.TensorMetadataT()
        output_tensor.name = _decode(tensor.name)
        output_tensor.content = feature_content
        output_tensor.stats = meta_fb.StatsT()
        output_tensors.append(output_tensor)

    subgraph = meta_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image_tensor]
    subgraph.outputTensorMetadata = output_tensors

    model_metadata = meta_fb.ModelMetadataT()
    model_metadata.name = name
    model_metadata.description = f"{name} from {SOURCE_PACKAGE}, metadata added by coach."
    model_metadata.license = (
        "Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0."
    )
    model_metadata.subgraphMetadata = [subgraph]
    model_metadata.minParserVersion = _MIN_METADATA_PARSER_VERSION
    return model_metadata


def build_task_file(
    detector_tflite: bytes, landmarks_tflite: bytes, out: Path, *, comment: str = ""
) -> Path:
    """Zip the two tflites (already carrying metadata) into a .task bundle at `out`.

    The bundle is written to a temporary file next to `out` and renamed into
    place, so a crash never leaves a half-written model behind.
    """
    members = ((TASK_DETECTOR_NAME, detector_tflite), (TASK_LANDMARKS_NAME, landmarks_tflite))

    def write(handle: Any) -> None:
        # Stored, not deflated: tflites barely compress and MediaPipe reads members in place.
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as bundle:
            for member_name, data in members:
                info = zipfile.ZipInfo(member_name, date_time=_ZIP_DATE_TIME)
                info.external_attr = 0o644 << 16
                info.extra = _zipalign_extra(handle.tell(), member_name)
                bundle.writestr(info, data)
            bundle.comment = comment.encode("utf-8")

    _write_atomically(out, write)
    return out


def _zipalign_extra(header_offset_bytes: int, member_name: str) -> bytes:
    """Return a zip extra field that puts the member's data on an aligned offset.

    MediaPipe maps stored members in place, so an unaligned member makes
    TFLite copy its weights; this is the padding trick Android's zipalign uses.
    """
    fixed_bytes = _ZIP_LOCAL_HEADER_BYTES + len(member_name.encode("utf-8")) + 4
    padding_bytes = -(header_offset_bytes + fixed_bytes) % _TFLITE_BUFFER_ALIGNMENT_BYTES
    return struct.pack("<HH", _ZIPALIGN_EXTRA_ID, padding_bytes) + bytes(padding_bytes)


def ensure_default_model(
    models_dir: Path | None = None,
    *,
    wheel: Path | None = None,
    log: Log | None = None,
) -> Path:
    """Return the built-in pose model, building it from the mediapipe wheel on first use."""
    say = log or _no_log
    directory = models_dir if models_dir is not None else default_models_dir()
    target = directory / DEFAULT_MODEL_NAME
    if _is_reusable(target):
        return target
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(
            f"cannot create the model directory {directory} ({_one_line(exc)}); "
            f"make it writable or {_FIX_HINT}"
        ) from exc

    started_s = time.monotonic()
    say(f"building the pose model {target} from {SOURCE_PACKAGE} (one-time step)")
    cache_dir = directory / ".cache"
    if wheel is not None:
        detector, landmarks = _read_pinned_tflites(wheel)
    else:
        cached = _cached_wheel(cache_dir)
        if cached is None:
            cached = _download_wheel(cache_dir, say)
            detector, landmarks = _read_pinned_tflites(cached)
        else:
            try:
                detector, landmarks = _read_pinned_tflites(cached)
            except ModelError as exc:
                # A truncated or tampered cache must not wedge the build forever.
                say(f"discarding the cached wheel: {exc}")
                cached.unlink(missing_ok=True)
                detector, landmarks = _read_pinned_tflites(_download_wheel(cache_dir, say))

    build_task_file(
        add_image_metadata(detector, mean=DETECTOR_MEAN, std=DETECTOR_STD, name="Pose detector"),
        add_image_metadata(
            landmarks, mean=LANDMARKS_MEAN, std=LANDMARKS_STD, name="Pose landmarks detector"
        ),
        target,
        comment=_build_stamp(),
    )
    say(f"pose model ready: {target} ({time.monotonic() - started_s:.1f} s)")
    return target


def _build_stamp() -> str:
    """Describe the build recipe; stored as the .task's zip comment.

    A model whose comment differs (older recipe, other pins, or a file someone
    else put there) is rebuilt instead of silently reused.
    """
    return (
        f"coach.model_store recipe {BUILD_RECIPE_VERSION} from {SOURCE_PACKAGE}; "
        f"pose_detection.tflite sha256 {DETECTOR_SHA256}; "
        f"pose_landmark_full.tflite sha256 {LANDMARKS_SHA256}"
    )


def _is_reusable(target: Path) -> bool:
    """Tell whether `target` is an intact model built by the current recipe.

    The zip comment identifies the recipe and the CRC-32 check over both
    members (a few ms for ~9 MB) catches truncation or bit rot, so reuse
    stays far below the cost of a rebuild without a separate stamp file.
    """
    try:
        with zipfile.ZipFile(target) as bundle:
            if bundle.comment.decode("utf-8", errors="replace") != _build_stamp():
                return False
            if set(bundle.namelist()) != {TASK_DETECTOR_NAME, TASK_LANDMARKS_NAME}:
                return False
            return bundle.testzip() is None
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile):
        return False


def _write_atomically(out: Path, write: Callable[[Any], object]) -> None:
    """Write via a temp file in the same directory, fsync, then rename over `out`."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise ModelError(
            f"cannot write {out} ({_one_line(exc)}); check the directory is writable"
        ) from exc
    temp_path = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_path, 0o644)
        os.replace(temp_path, out)
    except OSError as exc:
        temp_path.unlink(missing_ok=True)
        raise ModelError(
            f"cannot write {out} ({_one_line(exc)}); check free disk space and permissions"
        ) from exc
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise


def _cached_wheel(cache_dir: Path) -> Path | None:
    candidates = sorted(cache_dir.glob(SOURCE_WHEEL_GLOB)) if cache_dir.is_dir() else []
    return candidates[0] if candidates else None


def _download_wheel(cache_dir: Path, say: Log) -> Path:
    """Fetch the mediapipe 0.10.21 wheel into `cache_dir` with pip."""
    implementation, abi, python_version, platform = SOURCE_WHEEL_TAGS
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet",
        "--implementation", implementation, "--abi", abi,
        "--python-version", python_version, "--platform", platform,
        "--dest", str(cache_dir), SOURCE_PACKAGE,
    ]  # fmt: skip
    say(f"downloading {SOURCE_PACKAGE} (~35 MB) with pip into {cache_dir}")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = _one_line(exc)
    else:
        wheel = _cached_wheel(cache_dir)
        if result.returncode == 0 and wheel is not None:
            return wheel
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"pip exited with status {result.returncode}"
    raise ModelError(
        f"could not download {SOURCE_PACKAGE} from the package registry to build the "
        f"pose model ({reason}); check your network or {_FIX_HINT}"
    )


def _read_pinned_tflites(wheel: Path) -> tuple[bytes, bytes]:
    """Extract the detector and landmark tflites from `wheel` and check their pins."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            detector = archive.read(DETECTOR_WHEEL_MEMBER)
            landmarks = archive.read(LANDMARKS_WHEEL_MEMBER)
    except KeyError as exc:
        raise ModelError(
            f"{wheel} has no pose models ({_one_line(exc)}); use the {SOURCE_PACKAGE} wheel "
            f"or {_FIX_HINT}"
        ) from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(
            f"cannot read the wheel {wheel} ({_one_line(exc)}); delete it and retry or {_FIX_HINT}"
        ) from exc
    for member, data, expected in (
        (DETECTOR_WHEEL_MEMBER, detector, DETECTOR_SHA256),
        (LANDMARKS_WHEEL_MEMBER, landmarks, LANDMARKS_SHA256),
    ):
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise ModelError(
                f"{member} in {wheel.name} has SHA-256 {actual}, expected {expected}; "
                f"delete the wheel and retry or {_FIX_HINT}"
            )
    return detector, landmarks


def _decode(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value or ""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or reuse) the default pose model and print its path."""
    parser = argparse.ArgumentParser(prog="python -m coach.model_store", description=main.__doc__)
    parser.add_argument("--models-dir", type=Path, default=None, help="where to keep the model")
    parser.add_argument("--wheel", type=Path, default=None, help="a local mediapipe 0.10.21 wheel")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        path = ensure_default_model(args.models_dir, wheel=args.wheel, log=log)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
