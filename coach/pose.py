"""Provides the pose stage: MediaPipe PoseLandmarker in VIDEO mode, converted once to NumPy."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from coach.closing import ClosesOnExit
from coach.config import PoseConfig
from coach.errors import ModelError
from coach.features.user import UserSelector
from coach.model_store import validate_model
from coach.records import LANDMARK_COUNT, UPPER_BODY, Frame, Pose, PoseSample, Tracking


def poses_from_mediapipe(result: Any, t_s: float, image_size: tuple[int, int]) -> list[Pose]:
    """Convert a PoseLandmarkerResult into Pose records (the only place that knows its shape)."""
    poses: list[Pose] = []
    for image_lms, world_lms in zip(
        result.pose_landmarks, result.pose_world_landmarks, strict=True
    ):
        image_xyz = np.array([(lm.x, lm.y, lm.z) for lm in image_lms], dtype=np.float32)
        world_xyz = np.array([(lm.x, lm.y, lm.z) for lm in world_lms], dtype=np.float32)
        visibility = np.array([lm.visibility or 0.0 for lm in image_lms], dtype=np.float32)
        presence = np.array([lm.presence or 0.0 for lm in image_lms], dtype=np.float32)
        if image_xyz.shape != (LANDMARK_COUNT, 3):
            continue
        poses.append(
            Pose(
                t_s=t_s,
                image_xyz=image_xyz,
                world_xyz=world_xyz,
                visibility=visibility,
                presence=presence,
                image_size=image_size,
            )
        )
    return poses


def grade_tracking(pose: Pose, min_visibility: float, min_presence: float) -> Pose:
    """Mark a pose untrusted when the head or shoulders are not visible enough."""
    if pose.is_visible(UPPER_BODY, min_visibility, min_presence):
        return pose
    return dataclasses.replace(pose, tracking=Tracking.LOW_VISIBILITY)


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide the C++ start-up chatter (TFLite, glog) that MediaPipe writes straight to fd 2."""
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


class PoseEstimator(ClosesOnExit):
    """Runs the pose model on frames, in timestamp order, and follows the user."""

    def __init__(self, model_path: Path, config: PoseConfig) -> None:
        validate_model(model_path)
        # Imported here so that nothing but this stage pays for (or needs) mediapipe.
        import mediapipe as mp
        from mediapipe.tasks.python.core.base_options import BaseOptions
        from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions
        from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
            VisionTaskRunningMode,
        )

        self._mp = mp
        self._config = config
        options = PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=VisionTaskRunningMode.VIDEO,
            num_poses=max(1, config.max_people),
            min_pose_detection_confidence=config.min_detection_confidence,
            min_pose_presence_confidence=config.min_detection_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
        )
        try:
            with _native_stderr_silenced():
                self._landmarker = PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise ModelError(
                f"{model_path} could not be loaded as a pose landmarker model ({first_line}); "
                "pass an official pose_landmarker_{lite,full,heavy}.task or omit --model"
            ) from None
        self._selector = UserSelector()
        self._last_ms = -1
        self._first_call = True

    def estimate(self, frame: Frame) -> PoseSample:
        """Find the user's pose in one frame."""
        image: Any = frame.image
        height, width = image.shape[:2]
        if width > self._config.max_input_width_px:
            # Landmarks are normalised, so a smaller input changes only the cost.
            scale = self._config.max_input_width_px / width
            image = cv2.resize(
                image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
            )
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        # VIDEO mode needs strictly increasing integer milliseconds.
        t_ms = max(round(frame.t_s * 1000.0), self._last_ms + 1)
        self._last_ms = t_ms
        image_mp = self._mp.Image(
            image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)
        )
        if self._first_call:
            # The first inference logs its own start-up warnings; later ones are quiet.
            self._first_call = False
            with _native_stderr_silenced():
                result = self._landmarker.detect_for_video(image_mp, t_ms)
        else:
            result = self._landmarker.detect_for_video(image_mp, t_ms)
        poses = poses_from_mediapipe(result, frame.t_s, (width, height))
        user = self._selector.update(poses, frame.t_s)
        # Light level from a small thumbnail: tells "too dark" or "lens covered" from "away".
        thumb = cv2.cvtColor(
            cv2.resize(image, (32, 24), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        light = {"brightness": float(thumb.mean()), "contrast": float(thumb.std())}
        if user is None:
            return PoseSample(
                t_s=frame.t_s, pose=None, tracking=Tracking.NO_PERSON, people=0, **light
            )
        user = grade_tracking(user, self._config.min_visibility, self._config.min_presence)
        return PoseSample(
            t_s=frame.t_s, pose=user, tracking=user.tracking, people=len(poses), **light
        )

    def close(self) -> None:
        """Free the model."""
        self._landmarker.close()
