"""Provides the tray icons: one per state, told apart by shape as well as colour."""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import numpy.typing as npt

RgbaArray = npt.NDArray[np.uint8]
"""Pixels as (height, width, 4) RGBA, straight (not premultiplied) alpha."""
_Mask = npt.NDArray[np.bool_]
_SCALE = 4
"""Drawn 4x larger and box-averaged down: 16 samples a pixel smooth the edges."""


class TrayState(StrEnum):
    """What the tray shows at a glance."""

    STARTING = "starting"
    CALIBRATING = "calibrating"
    UPRIGHT = "upright"
    SLOUCHED = "slouched"
    AWAY = "away"
    PAUSED = "paused"
    SET = "set in progress"
    NO_CAMERA = "no camera"
    ERROR = "error"
    """An error ended the session: the icon stays, its menu offers to try again."""


# Colours read by most colour-blind users too; the shapes carry the meaning on their own.
_GREEN = (46, 160, 67)
_AMBER = (230, 140, 20)
_GREY = (130, 130, 130)
_BLUE = (45, 110, 210)
_VIOLET = (140, 70, 200)
_TEAL = (20, 150, 160)
_RED = (200, 40, 40)
_WHITE = (255, 255, 255)


class _Canvas:
    """A square supersampled canvas; shapes are placed in fractions of its side."""

    def __init__(self, size_px: int) -> None:
        self.size_px = size_px
        self.n = size_px * _SCALE
        self.rgba = np.zeros((self.n, self.n, 4), dtype=np.uint8)
        centres = (np.arange(self.n, dtype=np.float64) + 0.5) / self.n  # sample centres, 0..1
        self.y, self.x = centres[:, None], centres[None, :]

    def paint(self, mask: _Mask, rgb: tuple[int, int, int]) -> None:
        self.rgba[mask] = (*rgb, 255)

    def ellipse(self, box: Sequence[float], inset: float = 0.0) -> _Mask:
        x0, y0, x1, y1 = box
        rx, ry = (x1 - x0) / 2 - inset, (y1 - y0) / 2 - inset
        if rx <= 0 or ry <= 0:
            return np.zeros((self.n, self.n), dtype=np.bool_)
        dx, dy = (self.x - (x0 + x1) / 2) / rx, (self.y - (y0 + y1) / 2) / ry
        return np.asarray(dx**2 + dy**2 <= 1.0)

    def ring(self, box: Sequence[float], width: float) -> _Mask:
        return self.ellipse(box) & ~self.ellipse(box, width)

    def arc(self, box: Sequence[float], start_deg: float, end_deg: float, width: float) -> _Mask:
        """Part of a ring, clockwise from `start_deg` (0 at three o'clock, y pointing down)."""
        x0, y0, x1, y1 = box
        angle = np.degrees(
            np.arctan2((self.y - (y0 + y1) / 2) / (y1 - y0), (self.x - (x0 + x1) / 2) / (x1 - x0))
        )
        return self.ring(box, width) & (((angle - start_deg) % 360) <= (end_deg - start_deg))

    def rect(self, box: Sequence[float], inset: float = 0.0, radius: float = 0.0) -> _Mask:
        """A rectangle, its corners rounded by `radius`, shrunk by `inset` on every side."""
        x0, y0, x1, y1 = box
        x0, y0, x1, y1 = x0 + inset, y0 + inset, x1 - inset, y1 - inset
        r = max(0.0, radius - inset)
        inside = (self.x >= x0) & (self.x <= x1) & (self.y >= y0) & (self.y <= y1)
        if r <= 0:
            return np.asarray(inside)
        # Beyond a corner's centre a point must be within the radius of it.
        dx = np.maximum(np.maximum(x0 + r - self.x, self.x - (x1 - r)), 0)
        dy = np.maximum(np.maximum(y0 + r - self.y, self.y - (y1 - r)), 0)
        return np.asarray(inside & (dx**2 + dy**2 <= r * r))

    def frame(self, box: Sequence[float], width: float, radius: float = 0.0) -> _Mask:
        return self.rect(box, radius=radius) & ~self.rect(box, width, radius)

    def line(self, ends: Sequence[float], width: float) -> _Mask:
        """A straight stroke with square-cut ends, `width` across."""
        ax, ay, bx, by = ends
        length = math.hypot(bx - ax, by - ay)
        ux, uy = (bx - ax) / length, (by - ay) / length
        along = (self.x - ax) * ux + (self.y - ay) * uy
        across = (self.x - ax) * -uy + (self.y - ay) * ux
        return np.asarray((along >= 0) & (along <= length) & (np.abs(across) <= width / 2))

    def polygon(self, points: Sequence[float]) -> _Mask:
        """A filled polygon (x, y pairs), by the even-odd rule."""
        xs, ys = points[0::2], points[1::2]
        inside = np.zeros((self.n, self.n), dtype=np.bool_)
        for i in range(len(xs)):
            xa, ya, xb, yb = xs[i - 1], ys[i - 1], xs[i], ys[i]
            if ya == yb:
                continue
            crosses = (self.y >= min(ya, yb)) & (self.y < max(ya, yb))
            x_at = xa + (self.y - ya) * (xb - xa) / (yb - ya)
            inside ^= crosses & (self.x < x_at)
        return inside

    def image(self) -> RgbaArray:
        """Box-average each 4x4 block, colour weighted by alpha (no dark fringe at the edges)."""
        s, k = self.size_px, _SCALE
        blocks = self.rgba.astype(np.float64).reshape(s, k, s, k, 4)
        alpha = blocks[..., 3].sum(axis=(1, 3))
        colour = (blocks[..., :3] * blocks[..., 3:]).sum(axis=(1, 3)) / np.maximum(alpha, 1)[
            ..., None
        ]
        out = np.concatenate([colour, (alpha / (k * k))[..., None]], axis=2)
        return np.asarray(np.clip(np.round(out), 0, 255).astype(np.uint8))


def draw_icon(state: TrayState, size_px: int = 64) -> RgbaArray:
    """The icon for `state`, `size_px` square, on a transparent background (RGBA)."""
    c = _Canvas(size_px)
    w = max(1, c.n // 12) / c.n  # stroke width, as a fraction of the side
    if state is TrayState.UPRIGHT:  # green disc, a straight spine under a head
        c.paint(c.ellipse((0.02, 0.02, 0.98, 0.98)), _GREEN)
        c.paint(c.ellipse((0.38, 0.16, 0.62, 0.40)), _WHITE)
        c.paint(c.line((0.5, 0.40, 0.5, 0.84), w), _WHITE)
    elif state is TrayState.SLOUCHED:  # amber warning triangle, a bent spine, head forward
        c.paint(c.polygon((0.5, 0.02, 0.98, 0.94, 0.02, 0.94)), _AMBER)
        c.paint(c.ellipse((0.52, 0.36, 0.70, 0.54)), _WHITE)
        c.paint(c.arc((0.20, 0.50, 0.62, 1.10), 200, 320, w), _WHITE)
    elif state is TrayState.AWAY:  # grey ring: an empty chair
        c.paint(c.ring((0.06, 0.06, 0.94, 0.94), w), _GREY)
        c.paint(c.line((0.30, 0.70, 0.70, 0.70), w), _GREY)
    elif state is TrayState.PAUSED:  # blue rounded square with the pause bars
        c.paint(c.rect((0.04, 0.04, 0.96, 0.96), radius=1 / 6), _BLUE)
        c.paint(c.rect((0.30, 0.24, 0.43, 0.76)), _WHITE)
        c.paint(c.rect((0.57, 0.24, 0.70, 0.76)), _WHITE)
    elif state is TrayState.SET:  # violet diamond with three rep marks
        c.paint(c.polygon((0.5, 0.01, 0.99, 0.5, 0.5, 0.99, 0.01, 0.5)), _VIOLET)
        for x in (0.32, 0.5, 0.68):
            c.paint(c.ellipse((x - 0.07, 0.43, x + 0.07, 0.57)), _WHITE)
    elif state is TrayState.NO_CAMERA:  # grey camera outline, struck through
        c.paint(c.frame((0.08, 0.30, 0.92, 0.82), w, radius=1 / 12), _GREY)
        c.paint(c.rect((0.34, 0.18, 0.58, 0.30)), _GREY)
        c.paint(c.ring((0.36, 0.42, 0.64, 0.70), w), _GREY)
        c.paint(c.line((0.06, 0.06, 0.94, 0.94), w), _GREY)
    elif state is TrayState.CALIBRATING:  # teal ring with a crosshair: taking a measure
        c.paint(c.ring((0.06, 0.06, 0.94, 0.94), w), _TEAL)
        c.paint(c.line((0.5, 0.0, 0.5, 1.0), w), _TEAL)
        c.paint(c.line((0.0, 0.5, 1.0, 0.5), w), _TEAL)
    elif state is TrayState.ERROR:  # a bold red cross: stopped
        stroke = max(1, c.n // 5) / c.n
        c.paint(c.line((0.16, 0.16, 0.84, 0.84), stroke), _RED)
        c.paint(c.line((0.16, 0.84, 0.84, 0.16), stroke), _RED)
    else:  # starting: a grey square outline
        c.paint(c.frame((0.12, 0.12, 0.88, 0.88), w), _GREY)
    return c.image()


def draw_app_icon(size_px: int = 128) -> RgbaArray:
    """The coach's own icon (notifications, the start-at-login entry): a figure sitting tall
    on a chair, white on a green rounded square. coach/data/coach.png is this, at 128 px;
    coach/data/coach.svg draws the same."""
    c = _Canvas(size_px)
    w = max(1, c.n // 14) / c.n
    c.paint(c.rect((0.02, 0.02, 0.98, 0.98), radius=1 / 5), _GREEN)
    c.paint(c.ellipse((0.36, 0.12, 0.56, 0.32)), _WHITE)  # the head
    c.paint(c.line((0.46, 0.34, 0.46, 0.62), w), _WHITE)  # a straight back
    c.paint(c.line((0.46 - w / 2, 0.62, 0.70 + w / 2, 0.62), w), _WHITE)  # thighs on the seat
    c.paint(c.line((0.70, 0.62, 0.70, 0.86), w), _WHITE)  # shins
    c.paint(c.line((0.30, 0.40, 0.30, 0.86), w / 2), _WHITE)  # the chair's back
    c.paint(c.line((0.30, 0.70, 0.56, 0.70), w / 2), _WHITE)  # its seat
    return c.image()


def argb_pixmap(rgba: RgbaArray) -> tuple[int, int, bytes]:
    """(width, height, ARGB32 bytes in network order): the StatusNotifierItem IconPixmap."""
    height, width = rgba.shape[:2]
    return width, height, np.ascontiguousarray(rgba[..., [3, 0, 1, 2]]).tobytes()
