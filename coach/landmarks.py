"""Provides the 33 BlazePose landmarks by name, the upper body and the skeleton's edges."""

from __future__ import annotations

from enum import IntEnum

LANDMARK_COUNT = 33


class Landmark(IntEnum):
    """The 33 BlazePose landmarks, in MediaPipe's order."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


# The landmarks every posture measure needs: the head and both shoulders.
UPPER_BODY: tuple[Landmark, ...] = (
    Landmark.NOSE,
    Landmark.LEFT_EAR,
    Landmark.RIGHT_EAR,
    Landmark.LEFT_SHOULDER,
    Landmark.RIGHT_SHOULDER,
)

# Bones drawn in the preview (a subset of MediaPipe's connections: no feet detail).
SKELETON_EDGES: tuple[tuple[Landmark, Landmark], ...] = (
    (Landmark.LEFT_EAR, Landmark.LEFT_EYE),
    (Landmark.LEFT_EYE, Landmark.NOSE),
    (Landmark.NOSE, Landmark.RIGHT_EYE),
    (Landmark.RIGHT_EYE, Landmark.RIGHT_EAR),
    (Landmark.MOUTH_LEFT, Landmark.MOUTH_RIGHT),
    (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER),
    (Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW),
    (Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST),
    (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_ELBOW),
    (Landmark.RIGHT_ELBOW, Landmark.RIGHT_WRIST),
    (Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP),
    (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_HIP),
    (Landmark.LEFT_HIP, Landmark.RIGHT_HIP),
    (Landmark.LEFT_HIP, Landmark.LEFT_KNEE),
    (Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE),
    (Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE),
    (Landmark.RIGHT_KNEE, Landmark.RIGHT_ANKLE),
)


# The vocabulary the stages share. StrEnum: each member is its string, so the JSON, SQLite
# and CLI spellings stay exactly as they were.
