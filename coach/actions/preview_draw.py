"""Provides the preview's picture: the skeleton, bars and boxes in NumPy, and where its text goes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from coach.landmarks import SKELETON_EDGES, Landmark
from coach.records import Frame, ImageArray, PostureState, Snapshot

Bgr = tuple[int, int, int]

_STATE_COLOUR_BGR: dict[str, Bgr] = {
    PostureState.UPRIGHT: (80, 200, 80),
    PostureState.SLOUCHED: (60, 60, 230),
    PostureState.AWAY: (160, 160, 160),
    PostureState.UNKNOWN: (0, 200, 230),
}
_BLANK = 24
"""The grey of the canvas where no camera pixel is shown."""


class TextSize(Enum):
    """The three text sizes; the window picks an X core font for each."""

    SMALL = "small"
    NORMAL = "normal"
    BIG = "big"


CHAR_WIDTH_PX = {TextSize.SMALL: 7, TextSize.NORMAL: 9, TextSize.BIG: 25}
"""The width of a character in the font the window asks for first (misc-fixed, monospaced):
the boxes behind the text are sized by it."""


@dataclass(frozen=True)
class Text:
    """One line of text to draw over the picture: its left end on the baseline at (x, y)."""

    x: int
    y: int
    text: str
    colour_bgr: Bgr
    size: TextSize = TextSize.NORMAL


@dataclass(frozen=True)
class Picture:
    """The preview at the window's size: the pixels (BGR) and the text to draw over them."""

    image: ImageArray
    texts: tuple[Text, ...]


def draw_preview(
    snapshot: Snapshot,
    frame: Frame | None,
    *,
    skeleton_only: bool,
    thresholds: tuple[float, float] = (15.0, 15.0),
    message: str | None = None,
    size: tuple[int, int] | None = None,
) -> Picture:
    """Draw the skeleton, state, metrics and nudge; with `skeleton_only` no camera pixel is used.

    `size` (width, height) is the picture's, default the frame's (640x480 without one); the
    camera image is scaled to fit in it, keeping its shape.
    """
    frame_w, frame_h = frame.size if frame is not None else (640, 480)
    width, height = size if size is not None else (frame_w, frame_h)
    canvas = np.full((height, width, 3), _BLANK, dtype=np.uint8)
    scale = min(width / frame_w, height / frame_h)
    fit_w, fit_h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
    left, top = (width - fit_w) // 2, (height - fit_h) // 2
    if frame is not None and not skeleton_only:
        canvas[top : top + fit_h, left : left + fit_w] = scaled(frame.image, fit_w, fit_h)
    texts: list[Text] = []
    colour = _STATE_COLOUR_BGR.get(snapshot.state, (255, 255, 255))
    pose = snapshot.sample.pose
    if pose is not None:
        xy = pose.image_xyz[:, :2] * (fit_w, fit_h) + (left, top)
        visible = pose.visibility >= 0.5
        ears = [Landmark.LEFT_EAR, Landmark.RIGHT_EAR]
        shoulders = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]
        if visible[ears + shoulders].all():
            # The neck: mid-ears to mid-shoulders, the line forward head bends.
            line(canvas, xy[ears].mean(axis=0), xy[shoulders].mean(axis=0), colour, 2)
        for a, b in SKELETON_EDGES:
            if visible[a] and visible[b]:
                line(canvas, xy[a], xy[b], colour, 2)
        for lm in Landmark:
            if visible[lm]:
                disc(canvas, xy[lm], 3.5, (255, 255, 255))
    held_s = snapshot.t_s - snapshot.slouch.since_s
    label = f"{snapshot.state.upper()} {int(held_s) // 60}:{int(held_s) % 60:02d}"
    if snapshot.calibrating is not None:
        label = f"CALIBRATING - sit tall {snapshot.calibrating:.0%}"
    if snapshot.view:
        label += f"   {snapshot.view} view"
    box(canvas, 0, 0, width, 30, (0, 0, 0))
    texts.append(Text(8, 21, label, colour))
    metrics = snapshot.metrics
    bars = (
        ("forward head", metrics.forward_head if metrics else None, thresholds[0]),
        ("upper back", metrics.thoracic_rounding if metrics else None, thresholds[1]),
    )
    for row, (name, value, enter) in enumerate(bars):
        texts += _draw_bar(canvas, 8, height - 56 + 24 * row, name, value, enter)
    if snapshot.counter is not None and snapshot.counter.started:
        texts += _draw_count(canvas, snapshot)
    elif message:
        texts += _draw_message(canvas, message)
    return Picture(canvas, tuple(texts))


def _draw_count(canvas: ImageArray, snapshot: Snapshot) -> list[Text]:
    """A set in progress: the count in big digits, top right, and the phase under it."""
    counter = snapshot.counter
    assert counter is not None
    width = canvas.shape[1]
    if counter.per_side is not None:
        big = f"L{counter.per_side.get('left', 0)} R{counter.per_side.get('right', 0)}"
    else:
        big = str(counter.reps) + (f"/{counter.target_reps}" if counter.target_reps else "")
    left = width - len(big) * CHAR_WIDTH_PX[TextSize.BIG] - 16
    box(canvas, left - 10, 36, width - 6, 130, (40, 10, 40))
    return [
        Text(left, 96, big, (255, 255, 255), TextSize.BIG),
        Text(left, 122, counter.phase, (230, 200, 255)),
    ]


def _draw_bar(
    canvas: ImageArray, x: int, y: int, name: str, value: float | None, enter: float
) -> list[Text]:
    """One metric as a bar from neutral to twice its slouch threshold."""
    width_px = 160
    box(canvas, x - 4, y - 16, x + 300, y + 6, (0, 0, 0))
    texts = [Text(x, y, name, (230, 230, 230), TextSize.SMALL)]
    left = x + 110
    outline(canvas, left, y - 11, left + width_px, y + 1, (90, 90, 90))
    if value is None:
        return [*texts, Text(left + 4, y, "-", (160, 160, 160), TextSize.SMALL)]
    fill = int(width_px * min(max(value, 0.0) / (2 * enter), 1.0))
    colour = (
        (60, 60, 230) if value >= enter else (0, 200, 230) if value >= enter / 2 else (80, 200, 80)
    )
    box(canvas, left, y - 11, left + fill, y + 1, colour)
    mark = left + width_px // 2
    box(canvas, mark, y - 14, mark + 1, y + 5, (255, 255, 255))
    return [*texts, Text(left + width_px + 6, y, f"{value:+.0f}", (230, 230, 230), TextSize.SMALL)]


def _draw_message(canvas: ImageArray, message: str) -> list[Text]:
    """The nudge text, wrapped, in a box across the top of the picture."""
    width = canvas.shape[1]
    per_line = max(8, (width - 16) // CHAR_WIDTH_PX[TextSize.NORMAL])
    lines, current = [], ""
    for word in message.split():
        if current and len(current) + len(word) + 1 > per_line:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    top = 36
    box(canvas, 0, top, width, top + 22 * len(lines) + 8, (60, 20, 60))
    return [Text(8, top + 20 + 22 * i, text, (255, 255, 255)) for i, text in enumerate(lines)]


def scaled(image: ImageArray, width: int, height: int) -> ImageArray:
    """`image` resized to width x height, each pixel the nearest source pixel."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    # The source pixel under each target pixel's centre.
    rows = ((np.arange(height) + 0.5) * image.shape[0] / height).astype(np.intp)
    cols = ((np.arange(width) + 0.5) * image.shape[1] / width).astype(np.intp)
    return np.asarray(image[rows[:, None], cols[None, :]], dtype=np.uint8)


def box(canvas: ImageArray, x0: int, y0: int, x1: int, y1: int, colour: Bgr) -> None:
    """Fill the rectangle from (x0, y0) up to, not including, (x1, y1); clipped to the canvas."""
    height, width = canvas.shape[:2]
    x0, x1 = max(0, min(x0, x1)), min(width, max(x0, x1))
    y0, y1 = max(0, min(y0, y1)), min(height, max(y0, y1))
    if x0 < x1 and y0 < y1:
        canvas[y0:y1, x0:x1] = colour


def outline(canvas: ImageArray, x0: int, y0: int, x1: int, y1: int, colour: Bgr) -> None:
    """A one-pixel rectangle outline through both corners."""
    box(canvas, x0, y0, x1 + 1, y0 + 1, colour)
    box(canvas, x0, y1, x1 + 1, y1 + 1, colour)
    box(canvas, x0, y0, x0 + 1, y1 + 1, colour)
    box(canvas, x1, y0, x1 + 1, y1 + 1, colour)


def line(
    canvas: ImageArray, a: np.ndarray, b: np.ndarray, colour: Bgr, thickness_px: float
) -> None:
    """A round-ended anti-aliased stroke from `a` to `b` (x, y pixel coordinates)."""
    _blend(canvas, a, b, thickness_px / 2, colour)


def disc(canvas: ImageArray, centre: np.ndarray, radius_px: float, colour: Bgr) -> None:
    """A filled anti-aliased circle."""
    _blend(canvas, centre, centre, radius_px, colour)


def _blend(canvas: ImageArray, a: np.ndarray, b: np.ndarray, radius_px: float, colour: Bgr) -> None:
    """Paint every pixel within `radius_px` of the segment a-b, its edge a pixel's fade wide."""
    height, width = canvas.shape[:2]
    (ax, ay), (bx, by) = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    reach = radius_px + 1
    x0, x1 = max(0, int(min(ax, bx) - reach)), min(width, int(max(ax, bx) + reach) + 1)
    y0, y1 = max(0, int(min(ay, by) - reach)), min(height, int(max(ay, by) + reach) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    px = np.arange(x0, x1, dtype=np.float64)[None, :] + 0.5
    py = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5
    dx, dy = bx - ax, by - ay
    length_sq = dx * dx + dy * dy
    # Where along the segment each pixel's nearest point is (0 at a, 1 at b).
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / length_sq, 0, 1) if length_sq > 0 else 0.0
    distance = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
    cover = np.clip(radius_px + 0.5 - distance, 0.0, 1.0)[..., None]
    region = canvas[y0:y1, x0:x1].astype(np.float64)
    canvas[y0:y1, x0:x1] = np.round(region + (np.asarray(colour) - region) * cover).astype(np.uint8)
