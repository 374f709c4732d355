"""Synthetic seated pose streams, counted as the coach counts them: guided and unprompted."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from coach.config import RepConfig
from coach.decisions.reps import RepCounter
from coach.decisions.set_recognition import SetRecognizer
from coach.landmarks import Landmark
from coach.records import Pose
from testkit.synthetic import BodyPose, Camera, synthetic_pose


def ease(t_s: float, t0_s: float, t1_s: float) -> float:
    """0 before `t0_s`, 1 after `t1_s`, a smooth half cosine between."""
    s = min(1.0, max(0.0, (t_s - t0_s) / (t1_s - t0_s)))
    return float(1.0 - np.cos(np.pi * s)) / 2.0


def pose_stream(
    body_at: Callable[[float], BodyPose],
    duration_s: float,
    camera: Camera,
    seed: int = 3,
    fps: float = 15.0,
    hips: bool = True,
) -> Iterator[tuple[float, Pose]]:
    """(t_s, pose) of `body_at` seen by `camera`, with landmark jitter; `hips=False`: a desk in
    front hides them, as in the real desk recordings."""
    rng = np.random.default_rng(seed)
    for i in range(round(duration_s * fps)):
        t_s = i / fps
        pose = synthetic_pose(body_at(t_s), camera, t_s=t_s, noise_px=0.7, rng=rng)
        if not hips:
            visibility = pose.visibility.copy()
            visibility[[Landmark.LEFT_HIP, Landmark.RIGHT_HIP]] = 0.1
            pose = dataclasses.replace(pose, visibility=visibility)
        yield t_s, pose


def count_both(
    movement: str, stream: Iterable[tuple[float, Pose]], config: RepConfig
) -> tuple[RepCounter, int]:
    """A guided counter and an unprompted recogniser on the same stream: the counter, and the
    reps of the recognised sets of `movement`."""
    counter = RepCounter(movement, config, armed=True)
    recognizer = SetRecognizer(config)
    recognised = 0
    t_s = 0.0
    for t_s, pose in stream:
        counter.update(pose, t_s)
        done = recognizer.update(pose, t_s)
        if done is not None and done.movement == movement:
            recognised += done.reps
    done = recognizer.finish(t_s + 10.0)
    if done is not None and done.movement == movement:
        recognised += done.reps
    return counter, recognised
