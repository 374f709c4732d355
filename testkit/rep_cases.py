"""Provides the body and camera matrix of scripted cases and counts each one as the coach would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from coach.config import RepConfig
from coach.decisions.reps import RepCounter
from coach.decisions.set_recognition import SetRecognizer
from coach.records import SetCompleted
from testkit.exercises import (
    BODIES,
    CAMERA_DISTANCES_M,
    CAMERA_HEIGHTS_M,
    EXERCISES,
    FPS,
    NEGATIVES,
    RANGES,
    TEMPI_S,
    Case,
    render,
)


@dataclass(frozen=True)
class Counted:
    """What the coach counted on one case: guided (a counter per movement) and unprompted."""

    case: Case
    script_reps: tuple[int, int, int]
    """The truth: reps, left, right."""
    guided: dict[str, tuple[int, int, int]]
    """Per movement counted: (reps, left, right)."""
    recognised: tuple[tuple[str, int, int, int], ...]
    """Every recognised set: (movement, reps, left, right)."""

    @property
    def exact(self) -> bool:
        """The exercise counted exactly (guided, and one recognised set), and nothing else."""
        want = self.script_reps
        for movement, got in self.guided.items():
            expected = want if movement == self.case.movement else (0, 0, 0)
            if got != expected:
                return False
        if self.case.movement in EXERCISES:
            return self.recognised == ((self.case.movement, *want),)
        return self.recognised == ()


def count_case(case: Case, config: RepConfig) -> Counted:
    """Run one case through a guided counter per movement and the set recogniser."""
    script = render(case)
    counters = {m: RepCounter(m, config) for m in EXERCISES}
    recogniser = SetRecognizer(config)
    sets: list[SetCompleted] = []
    t_s = 0.0
    for t_s, pose in script.frames:
        for counter in counters.values():
            counter.update(pose, t_s)
        done = recogniser.update(pose, t_s)
        if done is not None:
            sets.append(done)
    last = script.frames[-1][1]
    for i in range(1, round(8 * FPS)):
        done = recogniser.update(last, t_s + i / FPS)
        if done is not None:
            sets.append(done)
    guided: dict[str, tuple[int, int, int]] = {}
    for movement, counter in counters.items():
        sides = counter.per_side or {"left": 0, "right": 0}
        guided[movement] = (counter.reps, sides["left"], sides["right"])
    recognised = tuple(
        (
            str(s.movement),
            s.reps,
            (s.per_side or {}).get("left", 0),
            (s.per_side or {}).get("right", 0),
        )
        for s in sets
    )
    return Counted(case, (script.reps, script.left, script.right), guided, recognised)


def covering_cases(per_exercise: int = 5, per_negative: int = 2) -> list[Case]:
    """A sample of the matrix that puts every body, camera height, camera distance, tempo and
    range into each exercise at least once, and the negatives on varied bodies and cameras
    (a rotation, so each case differs from the last in every factor)."""
    bodies, heights = list(BODIES), list(CAMERA_HEIGHTS_M)
    distances, tempi, ranges = list(CAMERA_DISTANCES_M), list(TEMPI_S), list(RANGES)
    cases: list[Case] = []
    for e, movement in enumerate(EXERCISES):
        for i in range(max(per_exercise, len(bodies))):
            cases.append(
                Case(
                    bodies[i % len(bodies)],
                    heights[(i + e) % len(heights)],
                    distances[(i // len(heights) + i + e) % len(distances)],
                    movement,
                    tempi[(i + 2 * e) % len(tempi)],
                    ranges[(i + e) % len(ranges)],
                    seed=100 + 10 * e + i,
                )
            )
    for n, movement in enumerate(NEGATIVES):
        for i in range(per_negative):
            k = n * per_negative + i
            cases.append(
                Case(
                    bodies[k % len(bodies)],
                    heights[k % len(heights)],
                    distances[(k + 1) % len(distances)],
                    movement,
                    tempi[k % len(tempi)],
                    seed=200 + k,
                )
            )
    # The hand gate from the side and at an angle too (the sweep in evaluate_reps.py covers
    # the exercises in every view).
    cases.append(
        Case("tall-small-head", "desk", "far", "arm-raises", "quick", seed=300, yaw_deg=85)
    )
    cases.append(Case("small-big-head", "high", "desk", "hand-to-face", seed=301, yaw_deg=40))
    return cases


def full_matrix(thinned: bool = True) -> list[Case]:
    """Every body at every camera height and distance, for each exercise and negative: with
    `thinned`, tempo and range rotate across the cameras; otherwise every tempo and range."""
    cases: list[Case] = []
    tempi, ranges = list(TEMPI_S), list(RANGES)
    cameras = list(itertools.product(CAMERA_HEIGHTS_M, CAMERA_DISTANCES_M))
    for b, body in enumerate(BODIES):
        for c, (height, distance) in enumerate(cameras):
            seed = 1000 + 100 * b + 10 * c
            for movement in EXERCISES:
                combos = (
                    [(tempi[(b + c) % 3], ranges[(b + c) % 2])]
                    if thinned
                    else list(itertools.product(tempi, ranges))
                )
                for k, (tempo, range_name) in enumerate(combos):
                    cases.append(
                        Case(body, height, distance, movement, tempo, range_name, seed + k)
                    )
            for k, movement in enumerate(NEGATIVES):
                cases.append(
                    Case(body, height, distance, movement, tempi[(b + c + k) % 3], seed=seed + k)
                )
    return cases
