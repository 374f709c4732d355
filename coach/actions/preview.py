"""Provides the preview window: the skeleton over the camera image, or on a blank canvas."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import cv2
import numpy as np

from coach.actions.recent import RecentNudge
from coach.records import SKELETON_EDGES, Frame, ImageArray, Landmark, PostureState, Reply, Snapshot

WINDOW_TITLE = "coach preview"
_QUIT_KEYS = (ord("q"), 27)  # q or Esc

_STATE_COLOUR_BGR: dict[str, tuple[int, int, int]] = {
    PostureState.UPRIGHT: (80, 200, 80),
    PostureState.SLOUCHED: (60, 60, 230),
    PostureState.AWAY: (160, 160, 160),
    PostureState.UNKNOWN: (0, 200, 230),
}


def display_available() -> bool:
    """Whether a window can be opened (on Linux a display server must be named)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype", "/usr/share/fonts")


def _point_qt_at_system_fonts() -> None:
    """OpenCV's bundled Qt ships no fonts and warns on every window; lend it the system's."""
    if sys.platform.startswith("linux") and "QT_QPA_FONTDIR" not in os.environ:
        for folder in _FONT_DIRS:
            if os.path.isdir(folder):
                os.environ["QT_QPA_FONTDIR"] = folder
                return


def draw_preview(
    snapshot: Snapshot,
    frame: Frame | None,
    *,
    skeleton_only: bool,
    thresholds: tuple[float, float] = (15.0, 15.0),
    message: str | None = None,
    size: tuple[int, int] = (640, 480),
) -> ImageArray:
    """Draw the skeleton, state, metrics and nudge; with `skeleton_only` no camera pixel is used."""
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
        ears = (Landmark.LEFT_EAR, Landmark.RIGHT_EAR)
        shoulders = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)
        if min(pose.visibility[list(ears + shoulders)]) >= 0.5:
            # The neck: mid-ears to mid-shoulders, the line forward head bends.
            neck_top = tuple((np.add(points[ears[0]], points[ears[1]]) // 2).tolist())
            neck_base = tuple((np.add(points[shoulders[0]], points[shoulders[1]]) // 2).tolist())
            cv2.line(canvas, neck_top, neck_base, colour, 2, cv2.LINE_AA)
        for a, b in SKELETON_EDGES:
            if min(pose.visibility[a], pose.visibility[b]) >= 0.5:
                cv2.line(canvas, points[a], points[b], colour, 2, cv2.LINE_AA)
        for lm, point in points.items():
            if pose.visibility[lm] >= 0.5:
                cv2.circle(canvas, point, 3, (255, 255, 255), -1, cv2.LINE_AA)
    held_s = snapshot.t_s - snapshot.slouch.since_s
    label = f"{snapshot.state.upper()} {int(held_s) // 60}:{int(held_s) % 60:02d}"
    if snapshot.calibrating is not None:
        label = f"CALIBRATING - sit tall {snapshot.calibrating:.0%}"
    if snapshot.view:
        label += f"   {snapshot.view} view"
    cv2.rectangle(canvas, (0, 0), (width, 30), (0, 0, 0), -1)
    cv2.putText(canvas, label, (8, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 1, cv2.LINE_AA)
    metrics = snapshot.metrics
    bars = (
        ("forward head", metrics.forward_head if metrics else None, thresholds[0]),
        ("upper back", metrics.thoracic_rounding if metrics else None, thresholds[1]),
    )
    for row, (name, value, enter) in enumerate(bars):
        _draw_bar(canvas, 8, height - 56 + 24 * row, name, value, enter)
    if snapshot.counter is not None and snapshot.counter.started:
        _draw_count(canvas, snapshot)
    elif message:
        _draw_message(canvas, message)
    return canvas


def _draw_count(canvas: ImageArray, snapshot: Snapshot) -> None:
    """A set in progress: the count in big digits, top right, and the phase under it."""
    counter = snapshot.counter
    assert counter is not None
    width = canvas.shape[1]
    if counter.per_side is not None:
        big = f"L{counter.per_side.get('left', 0)} R{counter.per_side.get('right', 0)}"
    else:
        big = str(counter.reps) + (f"/{counter.target_reps}" if counter.target_reps else "")
    (text_w, _), _ = cv2.getTextSize(big, cv2.FONT_HERSHEY_DUPLEX, 2.0, 3)
    left = width - text_w - 16
    cv2.rectangle(canvas, (left - 10, 36), (width - 6, 130), (40, 10, 40), -1)
    cv2.putText(
        canvas, big, (left, 96), cv2.FONT_HERSHEY_DUPLEX, 2.0, (255, 255, 255), 3, cv2.LINE_AA
    )
    cv2.putText(
        canvas,
        counter.phase,
        (left, 122),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.6,
        (230, 200, 255),
        1,
        cv2.LINE_AA,
    )


def _draw_bar(
    canvas: ImageArray, x: int, y: int, name: str, value: float | None, enter: float
) -> None:
    """One metric as a bar from neutral to twice its slouch threshold."""
    width_px = 160
    cv2.rectangle(canvas, (x - 4, y - 16), (x + 300, y + 6), (0, 0, 0), -1)
    cv2.putText(
        canvas, name, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (230, 230, 230), 1, cv2.LINE_AA
    )
    left = x + 110
    cv2.rectangle(canvas, (left, y - 11), (left + width_px, y + 1), (90, 90, 90), 1)
    if value is None:
        cv2.putText(canvas, "-", (left + 4, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (160, 160, 160), 1)
        return
    fill = int(width_px * min(max(value, 0.0) / (2 * enter), 1.0))
    colour = (
        (60, 60, 230) if value >= enter else (0, 200, 230) if value >= enter / 2 else (80, 200, 80)
    )
    cv2.rectangle(canvas, (left, y - 11), (left + fill, y + 1), colour, -1)
    mark = left + width_px // 2
    cv2.line(canvas, (mark, y - 14), (mark, y + 4), (255, 255, 255), 1)
    cv2.putText(
        canvas,
        f"{value:+.0f}",
        (left + width_px + 6, y),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        (230, 230, 230),
        1,
        cv2.LINE_AA,
    )


def _draw_message(canvas: ImageArray, message: str) -> None:
    """The nudge text, wrapped, in a box across the top of the picture."""
    width = canvas.shape[1]
    words, lines, line = message.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width // 9:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    top = 36
    cv2.rectangle(canvas, (0, top), (width, top + 22 * len(lines) + 8), (60, 20, 60), -1)
    for i, text in enumerate(lines):
        cv2.putText(
            canvas,
            text,
            (8, top + 20 + 22 * i),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )


class PreviewWindow:
    """Shows the preview in an OpenCV window; q, Esc or closing the window stops the coach."""

    def __init__(
        self,
        *,
        skeleton_only: bool,
        thresholds: tuple[float, float],
        message_s: float,
        on_key: Callable[[str], None] | None = None,
    ) -> None:
        self._on_key = on_key
        self.skeleton_only = skeleton_only
        self.thresholds = thresholds
        self._recent = RecentNudge(message_s)
        _point_qt_at_system_fonts()
        # GUI_NORMAL hides Qt's toolbar: the preview is a picture, not an image editor.
        cv2.namedWindow(
            WINDOW_TITLE, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL
        )
        cv2.resizeWindow(WINDOW_TITLE, 640, 480)
        self._opened = False

    def update(self, snapshot: Snapshot, frame: Frame | None) -> Reply:
        """Draw one snapshot and poll the keyboard; q, Esc or a closed window: STOP."""
        image = draw_preview(
            snapshot,
            frame,
            skeleton_only=self.skeleton_only,
            thresholds=self.thresholds,
            message=self._recent.update(snapshot),
        )
        cv2.imshow(WINDOW_TITLE, image)
        key = cv2.waitKey(1) & 0xFF
        reply = Reply.STOP if key in _QUIT_KEYS else Reply.CONTINUE
        if key != 0xFF and key not in _QUIT_KEYS and self._on_key is not None:
            self._on_key(chr(key))
        if self._opened and cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1:
            reply = Reply.STOP
        self._opened = True
        return reply

    def close(self) -> None:
        """Close the window."""
        cv2.destroyWindow(WINDOW_TITLE)
        cv2.waitKey(1)
