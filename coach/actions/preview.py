"""Provides the preview window: the skeleton over the camera image, or on a blank canvas."""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from coach.records import SKELETON_EDGES, Frame, ImageArray, Landmark, Snapshot

WINDOW_TITLE = "coach preview"
_QUIT_KEYS = (ord("q"), 27)  # q or Esc

_STATE_COLOUR_BGR = {
    "upright": (80, 200, 80),
    "present": (80, 200, 80),
    "slouched": (60, 60, 230),
    "away": (160, 160, 160),
    "unknown": (0, 200, 230),
}


def display_available() -> bool:
    """Whether a window can be opened (on Linux a display server must be named)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def draw_preview(
    snapshot: Snapshot,
    frame: Frame | None,
    *,
    skeleton_only: bool,
    size: tuple[int, int] = (640, 480),
) -> ImageArray:
    """Draw the skeleton and state; with `skeleton_only` no camera pixel is used."""
    if frame is not None and not skeleton_only:
        canvas = frame.image.copy()
    else:
        width, height = frame.size if frame is not None else size
        canvas = np.full((height, width, 3), 24, dtype=np.uint8)
    height, width = canvas.shape[:2]
    colour = _STATE_COLOUR_BGR.get(snapshot.state, (255, 255, 255))
    pose = snapshot.sample.pose
    if pose is not None:
        points = {
            lm: (int(pose.image_xyz[lm, 0] * width), int(pose.image_xyz[lm, 1] * height))
            for lm in Landmark
        }
        for a, b in SKELETON_EDGES:
            if min(pose.visibility[a], pose.visibility[b]) >= 0.5:
                cv2.line(canvas, points[a], points[b], colour, 2, cv2.LINE_AA)
        for lm, point in points.items():
            if pose.visibility[lm] >= 0.5:
                cv2.circle(canvas, point, 3, (255, 255, 255), -1, cv2.LINE_AA)
    label = f"{snapshot.state}  t={snapshot.t_s:0.1f}s"
    if snapshot.view:
        label += f"  view={snapshot.view}"
    cv2.rectangle(canvas, (0, 0), (width, 28), (0, 0, 0), -1)
    cv2.putText(canvas, label, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 1, cv2.LINE_AA)
    return canvas


class PreviewWindow:
    """Shows the preview in an OpenCV window; q, Esc or closing the window stops the coach."""

    def __init__(self, *, skeleton_only: bool) -> None:
        self.skeleton_only = skeleton_only
        self.wants_stop = False
        cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_NORMAL)
        self._opened = False

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Draw one snapshot and poll the keyboard."""
        cv2.imshow(WINDOW_TITLE, draw_preview(snapshot, frame, skeleton_only=self.skeleton_only))
        key = cv2.waitKey(1) & 0xFF
        if key in _QUIT_KEYS:
            self.wants_stop = True
        if self._opened and cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1:
            self.wants_stop = True
        self._opened = True

    def close(self) -> None:
        """Close the window."""
        cv2.destroyWindow(WINDOW_TITLE)
        cv2.waitKey(1)
