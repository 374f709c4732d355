"""Provides a small SVG writer for the report's charts: shapes, text, and the accessible frame."""

from __future__ import annotations

import math
from html import escape

FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif'
# Average glyph width over the font size in the fonts above (DejaVu Sans is the widest): for
# laying labels out without measuring text, erring wide so nothing overlaps.
CHAR_WIDTH_EM = 0.62

INK = "#1f2933"
MUTED = "#5f6b7a"
GRID = "#e6e9ee"


def text_width(text: str, size_px: float) -> float:
    """About how wide a text is drawn at this size."""
    return len(text) * size_px * CHAR_WIDTH_EM


def _n(value: float) -> str:
    """A coordinate, short: 12.5 not 12.500000."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_step(top: float, ticks: int = 4) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` steps to `top`."""
    raw = max(top, 1e-9) / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1.0, 2.0, 5.0, 10.0) if m * magnitude >= raw)


class Drawing:
    """An SVG drawing in user units (px at its natural size), built shape by shape."""

    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height
        self._parts: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, fill: str, *, rx: float = 0) -> None:
        corner = f' rx="{_n(rx)}"' if rx else ""
        self._parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}"'
            f'{corner} fill="{fill}"/>'
        )

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        stroke: str,
        *,
        width: float = 1,
        dash: str = "",
    ) -> None:
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        self._parts.append(
            f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}"'
            f' stroke-width="{_n(width)}"{dashes}/>'
        )

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 12,
        fill: str = MUTED,
        anchor: str = "start",
        bold: bool = False,
        italic: bool = False,
        halo: bool = False,
    ) -> None:
        """Text with its baseline at y; `halo` paints a white outline so it reads over lines."""
        style = ' font-weight="600"' if bold else ""
        style += ' font-style="italic"' if italic else ""
        style += (
            ' stroke="#fff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"'
            if halo
            else ""
        )
        self._parts.append(
            f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" fill="{fill}"'
            f' text-anchor="{anchor}"{style}>{escape(text)}</text>'
        )

    def svg(self, *, chart_id: str, title: str, desc: str) -> str:
        """The whole drawing: it scales to its box (viewBox), its text stays text, and it
        names itself to screen readers (role img, <title> and <desc>)."""
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}"'
            f' viewBox="0 0 {_n(self.width)} {_n(self.height)}"'
            f' width="{_n(self.width)}" height="{_n(self.height)}"'
            f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc"'
            f" font-family='{FONT_FAMILY}'>"
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
            f'<rect width="100%" height="100%" fill="#fff"/>' + "".join(self._parts) + "</svg>"
        )
