"""Provides the tray icons: one per state, told apart by shape as well as colour."""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from PIL import Image, ImageDraw


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


def draw_icon(state: TrayState, size_px: int = 64) -> Image.Image:
    """The icon for `state`, `size_px` square, on a transparent background (RGBA)."""
    scale = 4  # drawn large and scaled down, for smooth edges
    n = size_px * scale
    image = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    w = max(1, n // 12)  # stroke width

    def at(*fractions: float) -> list[float]:
        return [f * n for f in fractions]

    if state is TrayState.UPRIGHT:  # green disc, a straight spine under a head
        draw.ellipse(at(0.02, 0.02, 0.98, 0.98), fill=_GREEN)
        draw.ellipse(at(0.38, 0.16, 0.62, 0.40), fill=_WHITE)
        draw.line(at(0.5, 0.40, 0.5, 0.84), fill=_WHITE, width=w)
    elif state is TrayState.SLOUCHED:  # amber warning triangle, a bent spine, head forward
        draw.polygon(at(0.5, 0.02, 0.98, 0.94, 0.02, 0.94), fill=_AMBER)
        draw.ellipse(at(0.52, 0.36, 0.70, 0.54), fill=_WHITE)
        draw.arc(at(0.20, 0.50, 0.62, 1.10), start=200, end=320, fill=_WHITE, width=w)
    elif state is TrayState.AWAY:  # grey ring: an empty chair
        draw.ellipse(at(0.06, 0.06, 0.94, 0.94), outline=_GREY, width=w)
        draw.line(at(0.30, 0.70, 0.70, 0.70), fill=_GREY, width=w)
    elif state is TrayState.PAUSED:  # blue rounded square with the pause bars
        draw.rounded_rectangle(at(0.04, 0.04, 0.96, 0.96), radius=n // 6, fill=_BLUE)
        draw.rectangle(at(0.30, 0.24, 0.43, 0.76), fill=_WHITE)
        draw.rectangle(at(0.57, 0.24, 0.70, 0.76), fill=_WHITE)
    elif state is TrayState.SET:  # violet diamond with three rep marks
        draw.polygon(at(0.5, 0.01, 0.99, 0.5, 0.5, 0.99, 0.01, 0.5), fill=_VIOLET)
        for x in (0.32, 0.5, 0.68):
            draw.ellipse(at(x - 0.07, 0.43, x + 0.07, 0.57), fill=_WHITE)
    elif state is TrayState.NO_CAMERA:  # grey camera outline, struck through
        draw.rounded_rectangle(at(0.08, 0.30, 0.92, 0.82), radius=n // 12, outline=_GREY, width=w)
        draw.rectangle(at(0.34, 0.18, 0.58, 0.30), fill=_GREY)
        draw.ellipse(at(0.36, 0.42, 0.64, 0.70), outline=_GREY, width=w)
        draw.line(at(0.06, 0.06, 0.94, 0.94), fill=_GREY, width=w)
    elif state is TrayState.CALIBRATING:  # teal ring with a crosshair: taking a measure
        draw.ellipse(at(0.06, 0.06, 0.94, 0.94), outline=_TEAL, width=w)
        draw.line(at(0.5, 0.0, 0.5, 1.0), fill=_TEAL, width=w)
        draw.line(at(0.0, 0.5, 1.0, 0.5), fill=_TEAL, width=w)
    elif state is TrayState.ERROR:  # a bold red cross: stopped
        stroke = max(1, n // 5)
        draw.line(at(0.16, 0.16, 0.84, 0.84), fill=_RED, width=stroke)
        draw.line(at(0.16, 0.84, 0.84, 0.16), fill=_RED, width=stroke)
    else:  # starting: a grey square outline
        draw.rectangle(at(0.12, 0.12, 0.88, 0.88), outline=_GREY, width=w)
    return image.resize((size_px, size_px), Image.Resampling.LANCZOS)


def draw_app_icon(size_px: int = 128) -> Image.Image:
    """The coach's own icon (notifications, the start-at-login entry): a figure sitting tall
    on a chair, white on a green rounded square. coach/data/coach.png is this, at 128 px;
    coach/data/coach.svg draws the same."""
    scale = 4
    n = size_px * scale
    image = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    w = max(1, n // 14)

    def at(*fractions: float) -> list[float]:
        return [f * n for f in fractions]

    draw.rounded_rectangle(at(0.02, 0.02, 0.98, 0.98), radius=n // 5, fill=_GREEN)
    draw.ellipse(at(0.36, 0.12, 0.56, 0.32), fill=_WHITE)  # the head
    draw.line(at(0.46, 0.34, 0.46, 0.62), fill=_WHITE, width=w)  # a straight back
    draw.line(at(0.46, 0.62, 0.70, 0.62), fill=_WHITE, width=w)  # thighs on the seat
    draw.line(at(0.70, 0.62, 0.70, 0.86), fill=_WHITE, width=w)  # shins
    draw.line(at(0.30, 0.40, 0.30, 0.86), fill=_WHITE, width=w // 2)  # the chair's back
    draw.line(at(0.30, 0.70, 0.56, 0.70), fill=_WHITE, width=w // 2)  # its seat
    return image.resize((size_px, size_px), Image.Resampling.LANCZOS)


def argb_pixmap(image: Image.Image) -> tuple[int, int, bytes]:
    """(width, height, ARGB32 bytes in network order): the StatusNotifierItem IconPixmap."""
    rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
    argb = rgba[..., [3, 0, 1, 2]]
    return image.width, image.height, argb.tobytes()
