"""Builds, caches and validates the pose model bundle (BlazePose's two .tflite graphs)."""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from coach.errors import ModelError, one_line
from coach.pose import model_fetch
from coach.progress import ProgressBars, no_progress

DEFAULT_MODEL_NAME: Final = "pose_landmarker_full.task"

# This legacy-solutions wheel on PyPI carries the pose graph tflites; `model_fetch` downloads
# it over HTTPS and only the two files are read from it (mediapipe itself never runs).
# The release the tflites come from is named once, in model_fetch.
SOURCE_PACKAGE: Final = f"{model_fetch.PROJECT}=={model_fetch.VERSION}"
SOURCE_WHEEL_GLOB: Final = f"{model_fetch.PROJECT}-{model_fetch.VERSION}-*.whl"

DETECTOR_WHEEL_MEMBER: Final = "mediapipe/modules/pose_detection/pose_detection.tflite"
LANDMARKS_WHEEL_MEMBER: Final = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
# SHA-256 of the two tflites exactly as they sit in the mediapipe 0.10.21 wheel.
DETECTOR_SHA256: Final = "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"
LANDMARKS_SHA256: Final = "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"

# Member names the Tasks PoseLandmarker looks up inside a .task bundle.
TASK_DETECTOR_NAME: Final = "pose_detector.tflite"
TASK_LANDMARKS_NAME: Final = "pose_landmarks_detector.tflite"

# Bump when the build recipe changes so existing models are rebuilt. Recipe 2: the tflites
# go in as they are (recipe 1 added the metadata MediaPipe's runtime needed; LiteRT does not).
BUILD_RECIPE_VERSION: Final = 2

_TFLITE_BUFFER_ALIGNMENT_BYTES: Final = 16
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
    checkout = Path(__file__).resolve().parents[2]  # coach/pose/ -> the checkout
    checkout_dir = checkout / "models"
    # pyproject.toml marks a checkout: an installed coach sits in site-packages, where a
    # models/ folder would be another package's, not the place for ours.
    is_checkout = (checkout / "pyproject.toml").is_file()
    if is_checkout and checkout_dir.is_dir() and os.access(checkout_dir, os.W_OK):
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
            f"--model {path} is not a MediaPipe .task bundle ({one_line(exc)}); {_MODEL_HINT}"
        ) from exc
    for member in (TASK_DETECTOR_NAME, TASK_LANDMARKS_NAME):
        if member not in names:
            raise ModelError(
                f"--model {path} is not a pose landmarker model (no {member} inside); {_MODEL_HINT}"
            )
    return path


def build_task_file(
    detector_tflite: bytes, landmarks_tflite: bytes, out: Path, *, comment: str = ""
) -> Path:
    """Zip the two tflites into a .task bundle at `out` (the layout of the official bundles).

    The bundle is written to a temporary file next to `out` and renamed into
    place, so a crash never leaves a half-written model behind.
    """
    members = ((TASK_DETECTOR_NAME, detector_tflite), (TASK_LANDMARKS_NAME, landmarks_tflite))

    def write(handle: Any) -> None:
        # Stored, not deflated: tflites barely compress and the runtime reads them whole.
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
    progress: ProgressBars = no_progress,
    index: str | None = None,
) -> Path:
    """Return the built-in pose model, building it from the mediapipe wheel on first use.

    The wheel is `wheel`, else the copy cached in the models folder, else downloaded from
    `index` (default: `model_fetch.index_url()`, PyPI) with a progress bar.
    """
    say = log or _no_log
    directory = models_dir if models_dir is not None else default_models_dir()
    target = directory / DEFAULT_MODEL_NAME
    if _is_reusable(target):
        return target
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(
            f"cannot create the model directory {directory} ({one_line(exc)}); "
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
            cached = _download_wheel(cache_dir, say, progress, index)
            detector, landmarks = _read_pinned_tflites(cached)
        else:
            try:
                detector, landmarks = _read_pinned_tflites(cached)
            except ModelError as exc:
                # A truncated or tampered cache must not wedge the build forever.
                say(f"discarding the cached wheel: {exc}")
                cached.unlink(missing_ok=True)
                detector, landmarks = _read_pinned_tflites(
                    _download_wheel(cache_dir, say, progress, index)
                )

    build_task_file(detector, landmarks, target, comment=_build_stamp())
    say(f"pose model ready: {target} ({time.monotonic() - started_s:.1f} s)")
    return target


def _build_stamp() -> str:
    """Describe the build recipe; stored as the .task's zip comment.

    A model whose comment differs (older recipe, other pins, or a file someone
    else put there) is rebuilt instead of silently reused.
    """
    # The stamp keeps the module's old name: a new one would rebuild every user's model.
    return (
        f"coach.pose.model_store recipe {BUILD_RECIPE_VERSION} from {SOURCE_PACKAGE}; "
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
            f"cannot write {out} ({one_line(exc)}); check the directory is writable"
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
            f"cannot write {out} ({one_line(exc)}); check free disk space and permissions"
        ) from exc
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise


def _cached_wheel(cache_dir: Path) -> Path | None:
    candidates = sorted(cache_dir.glob(SOURCE_WHEEL_GLOB)) if cache_dir.is_dir() else []
    return candidates[0] if candidates else None


def _download_wheel(cache_dir: Path, say: Log, progress: ProgressBars, index: str | None) -> Path:
    """Fetch the source wheel into `cache_dir` (checked against the index's SHA-256)."""
    where = index or model_fetch.index_url()
    say(f"downloading {SOURCE_PACKAGE} from {where} (once; about 36 MB)")
    return model_fetch.fetch_wheel(cache_dir, index=where, progress=progress)


def _read_pinned_tflites(wheel: Path) -> tuple[bytes, bytes]:
    """Extract the detector and landmark tflites from `wheel` and check their pins."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            detector = archive.read(DETECTOR_WHEEL_MEMBER)
            landmarks = archive.read(LANDMARKS_WHEEL_MEMBER)
    except KeyError as exc:
        raise ModelError(
            f"{wheel} has no pose models ({one_line(exc)}); use the {SOURCE_PACKAGE} wheel "
            f"or {_FIX_HINT}"
        ) from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(
            f"cannot read the wheel {wheel} ({one_line(exc)}); delete it and retry or {_FIX_HINT}"
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


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or reuse) the default pose model and print its path."""
    parser = argparse.ArgumentParser(
        prog="python -m coach.pose.model_store", description=main.__doc__
    )
    parser.add_argument("--models-dir", type=Path, default=None, help="where to keep the model")
    parser.add_argument("--wheel", type=Path, default=None, help="a local mediapipe 0.10.21 wheel")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    from rich.console import Console

    from coach.progress import terminal_progress

    bars = terminal_progress(Console(stderr=True))
    try:
        path = ensure_default_model(args.models_dir, wheel=args.wheel, log=log, progress=bars)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
