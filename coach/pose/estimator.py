"""Provides the pose stage: BlazePose's two models on the LiteRT runtime, converted to NumPy.

MediaPipe's own runtime (1.2.x) reports usage to Google whenever a model runs, and the
coach promises to stay offline; so the same two .tflite models run here on LiteRT, which
opens no socket, with the detector-to-landmarks tracking of `coach.pose.graph`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np

from coach.config import PoseConfig
from coach.errors import ModelError
from coach.features.user import UserSelector
from coach.imaging import (
    Border,
    affine_from_points,
    area_resize,
    bgr_to_grey,
    bgr_to_rgb,
    warp_affine,
)
from coach.landmarks import UPPER_BODY
from coach.pose.graph import (
    ANCHOR_COUNT,
    DETECTOR_INPUT_PX,
    DETECTOR_MEAN,
    DETECTOR_STD,
    HEATMAP_PX,
    LANDMARKS_INPUT_PX,
    LANDMARKS_STD,
    LANDMARKS_TOTAL,
    LandmarkResult,
    Region,
    decode_detections,
    decode_landmarks,
    letterbox,
    region_from_points,
    region_overlap,
    ssd_anchors,
    unletterbox,
)
from coach.pose.model_store import TASK_DETECTOR_NAME, TASK_LANDMARKS_NAME, validate_model
from coach.records import Frame, ImageArray, Pose, PoseSample, Tracking
from coach.safe.closing import ClosesOnExit

# While someone is tracked but fewer people than `max_people`, the detector looks for
# others at most this often (MediaPipe runs it on every frame: a third of the cost).
REDETECT_INTERVAL_S: Final = 10.0
# Two tracked regions overlapping this much follow the same person: keep one.
SAME_PERSON_OVERLAP: Final = 0.5
# One inference thread: the coach runs beside the user's work, not instead of it.
INFERENCE_THREADS: Final = 1

_MODEL_HINT: Final = (
    "pass an official pose_landmarker_{lite,full,heavy}.task or omit --model to use the "
    "built-in one"
)


def grade_tracking(pose: Pose, min_visibility: float, min_presence: float) -> Pose:
    """Mark a pose untrusted when the head or shoulders are not visible enough."""
    if pose.is_visible(UPPER_BODY, min_visibility, min_presence):
        return pose
    return dataclasses.replace(pose, tracking=Tracking.LOW_VISIBILITY)


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide the runtime's start-up chatter (TFLite, XNNPACK) written straight to fd 2."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _Model:
    """One .tflite graph on the LiteRT interpreter, its tensors checked against what we expect."""

    def __init__(self, path: Path, member: str, input_px: int, outputs: dict[str, tuple[int, ...]]):
        try:
            with zipfile.ZipFile(path) as bundle:
                content = bundle.read(member)
        except (OSError, zipfile.BadZipFile, KeyError) as exc:
            raise ModelError(
                f"--model {path}: cannot read {member} ({exc}); {_MODEL_HINT}"
            ) from None
        # Imported here so that nothing but this stage pays for (or needs) the runtime.
        from ai_edge_litert.interpreter import Interpreter

        try:
            with _native_stderr_silenced():
                self._interpreter: Any = Interpreter(
                    model_content=content, num_threads=INFERENCE_THREADS
                )
                self._interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(
                f"--model {path}: {member} is not a usable TFLite model ({first}); {_MODEL_HINT}"
            ) from None
        inputs = self._interpreter.get_input_details()
        expected_input = (1, input_px, input_px, 3)
        if len(inputs) != 1 or tuple(int(n) for n in inputs[0]["shape"]) != expected_input:
            got = [tuple(int(n) for n in d["shape"]) for d in inputs]
            raise ModelError(
                f"--model {path}: {member} takes {got}, not one {expected_input} image: "
                f"not a BlazePose model; {_MODEL_HINT}"
            )
        self._input_index = int(inputs[0]["index"])
        by_shape = {
            tuple(int(n) for n in d["shape"]): int(d["index"])
            for d in self._interpreter.get_output_details()
        }
        missing = [name for name, shape in outputs.items() if shape not in by_shape]
        if missing:
            raise ModelError(
                f"--model {path}: {member} has no {', '.join(missing)} output of the expected "
                f"shape: not a BlazePose model; {_MODEL_HINT}"
            )
        self._outputs = {name: by_shape[shape] for name, shape in outputs.items()}
        self._first_run = True

    def run(self, tensor: np.ndarray[Any, np.dtype[np.float32]]) -> dict[str, Any]:
        """Run on one [1, H, W, 3] float input; return the named outputs."""
        self._interpreter.set_tensor(self._input_index, tensor)
        if self._first_run:
            # The first inference announces its CPU delegate on fd 2; later ones are quiet.
            self._first_run = False
            with _native_stderr_silenced():
                self._interpreter.invoke()
        else:
            self._interpreter.invoke()
        return {name: self._interpreter.get_tensor(i) for name, i in self._outputs.items()}


def _model_input(
    bgr: ImageArray, matrix: Any, side_px: int, border: Border
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The model's square input: the frame through an affine map, bilinear, as float RGB.

    The channels are swapped on the small crop rather than the whole frame (the same pixels).
    """
    return bgr_to_rgb(warp_affine(bgr, matrix, side_px, border)).astype(np.float32)


class PoseEstimator(ClosesOnExit):
    """Runs the pose models on frames, in timestamp order, and follows the user."""

    def __init__(self, model_path: Path, config: PoseConfig) -> None:
        validate_model(model_path)
        self._config = config
        self._detector = _Model(
            model_path,
            TASK_DETECTOR_NAME,
            DETECTOR_INPUT_PX,
            {"boxes": (1, ANCHOR_COUNT, 12), "scores": (1, ANCHOR_COUNT, 1)},
        )
        self._landmarker = _Model(
            model_path,
            TASK_LANDMARKS_NAME,
            LANDMARKS_INPUT_PX,
            {
                "landmarks": (1, LANDMARKS_TOTAL * 5),
                "flag": (1, 1),
                "heatmap": (1, HEATMAP_PX, HEATMAP_PX, LANDMARKS_TOTAL),
                "world": (1, LANDMARKS_TOTAL * 3),
            },
        )
        self._anchors = ssd_anchors()
        self._regions: list[Region] = []
        self._last_detection_s: float | None = None
        self._selector = UserSelector()

    def estimate(self, frame: Frame) -> PoseSample:
        """Find the user's pose in one frame."""
        image = frame.image
        height, width = image.shape[:2]
        if width > self._config.max_input_width_px:
            # Landmarks are normalised, so a smaller input changes only the cost.
            scale = self._config.max_input_width_px / width
            image = area_resize(image, round(width * scale), round(height * scale))
            height, width = image.shape[:2]
        results = self._track(image, frame.t_s)
        poses = [
            Pose(
                t_s=frame.t_s,
                image_xyz=result.image_xyz,
                world_xyz=result.world_xyz,
                visibility=result.visibility,
                presence=result.presence,
                image_size=(width, height),
            )
            for result in results
        ]
        user = self._selector.update(poses, frame.t_s)
        # Light level from a small thumbnail: tells "too dark" or "lens covered" from "away".
        thumb = bgr_to_grey(area_resize(image, 32, 24))
        light = {"brightness": float(thumb.mean()), "contrast": float(thumb.std())}
        if user is None:
            return PoseSample(
                t_s=frame.t_s, pose=None, tracking=Tracking.NO_PERSON, people=0, **light
            )
        user = grade_tracking(user, self._config.min_visibility, self._config.min_presence)
        return PoseSample(
            t_s=frame.t_s, pose=user, tracking=user.tracking, people=len(poses), **light
        )

    def _track(self, bgr: ImageArray, t_s: float) -> list[LandmarkResult]:
        """Landmarks for every person followed, re-detecting when someone may be missing."""
        height, width = bgr.shape[:2]
        regions = list(self._regions)
        wants_more = len(regions) < max(1, self._config.max_people)
        due = (
            not regions
            or self._last_detection_s is None
            or t_s - self._last_detection_s >= REDETECT_INTERVAL_S
            or t_s < self._last_detection_s
        )
        if wants_more and due:
            self._last_detection_s = t_s
            for found in self._detect(bgr):
                # A tracked region is tighter than a fresh detection of the same person.
                if all(
                    region_overlap(found, r) <= self._config.min_tracking_confidence
                    for r in regions
                ):
                    regions.append(found)
        results: list[LandmarkResult] = []
        for region in regions[: max(1, self._config.max_people)]:
            result = self._landmarks(bgr, region, (width, height))
            if result.presence_score < self._config.min_detection_confidence:
                continue
            if any(
                region_overlap(result.next_region, kept.next_region) > SAME_PERSON_OVERLAP
                for kept in results
            ):
                continue
            results.append(result)
        self._regions = [result.next_region for result in results]
        return results

    def _detect(self, bgr: ImageArray) -> list[Region]:
        """Regions of the people the detector finds in the whole frame, best first."""
        height, width = bgr.shape[:2]
        scale, offset_x, offset_y = letterbox(width, height, DETECTOR_INPUT_PX)
        matrix = np.array([[scale, 0.0, offset_x], [0.0, scale, offset_y]], dtype=np.float32)
        # Letterboxed: the bands beside the picture are black, as the detector was trained.
        square = _model_input(bgr, matrix, DETECTOR_INPUT_PX, Border.CONSTANT)
        tensor = ((square - DETECTOR_MEAN) / DETECTOR_STD)[None]
        out = self._detector.run(tensor)
        detections = decode_detections(
            out["boxes"][0], out["scores"][0], self._anchors, self._config.min_detection_confidence
        )
        regions = []
        for detection in detections[: max(1, self._config.max_people)]:
            keypoints = unletterbox(detection.keypoints, (width, height), DETECTOR_INPUT_PX)
            regions.append(region_from_points(keypoints[0], keypoints[1], (width, height)))
        return regions

    def _landmarks(
        self, bgr: ImageArray, region: Region, image_size: tuple[int, int]
    ) -> LandmarkResult:
        """Run the landmark model on one region and project its outputs onto the frame."""
        side = float(LANDMARKS_INPUT_PX)
        target = np.array([[0.0, 0.0], [side, 0.0], [0.0, side]], dtype=np.float32)
        matrix = affine_from_points(region.corners_px(), target)
        crop = _model_input(bgr, matrix, LANDMARKS_INPUT_PX, Border.REPLICATE)
        out = self._landmarker.run((crop / LANDMARKS_STD)[None])
        return decode_landmarks(
            out["landmarks"][0],
            float(out["flag"].reshape(-1)[0]),
            out["heatmap"][0],
            out["world"][0],
            region,
            image_size,
        )

    def close(self) -> None:
        """Forget the people followed (the interpreters are freed with the object)."""
        self._regions = []
