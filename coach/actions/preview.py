"""Provides the preview window: the skeleton over the camera image, in a plain X11 window."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from coach.actions.preview_draw import Picture, TextSize, draw_preview
from coach.actions.recent import RecentNudge
from coach.errors import DisplayUnavailable
from coach.records import Frame, ImageArray, Reply, Snapshot

if TYPE_CHECKING:
    from Xlib.display import Display
    from Xlib.protocol.rq import Event
    from Xlib.xobject.drawable import Pixmap, Window
    from Xlib.xobject.fontable import GC, Font

__all__ = ["WINDOW_TITLE", "PreviewWindow", "display_available", "draw_preview"]

WINDOW_TITLE = "coach preview"
_QUIT_KEYSYMS = (ord("q"), 0xFF1B)  # q or Escape
_START_SIZE = (640, 480)
# Core fonts every X server with xfonts-base has; the last, "fixed", every server has.
_FONTS: dict[TextSize, tuple[str, ...]] = {
    TextSize.SMALL: ("-misc-fixed-medium-r-normal--13-*-*-*-c-70-iso8859-1", "7x13", "fixed"),
    TextSize.NORMAL: ("-misc-fixed-bold-r-normal--18-*-*-*-c-90-iso8859-1", "9x18bold", "fixed"),
    # Scaled by the server from the bitmap: blocky, but big enough to read across the room.
    TextSize.BIG: ("-misc-fixed-bold-r-normal--40-*-*-*-c-*-iso8859-1", "10x20", "fixed"),
}
_REQUEST_SLACK_BYTES = 64
"""Room for PutImage's own header in the server's largest request."""


def display_available() -> bool:
    """Whether the preview window can be opened: an X display is named (Linux; XWayland
    names one under Wayland too). Elsewhere there is no preview window."""
    return sys.platform.startswith("linux") and bool(os.environ.get("DISPLAY"))


class PreviewWindow:
    """Shows the preview in an X11 window; q, Esc or closing the window stops the coach.

    The picture is drawn in NumPy at the window's size and sent with PutImage to an off-screen
    pixmap, the text drawn over it by the X server, then the pixmap copied to the window in
    one go (no flicker). Other keys go to `on_key` (the coach's prompt keys).
    """

    def __init__(
        self,
        *,
        skeleton_only: bool,
        thresholds: tuple[float, float],
        message_s: float,
        on_key: Callable[[str], None] | None = None,
    ) -> None:
        from Xlib import X, Xatom
        from Xlib.display import Display
        from Xlib.error import DisplayError

        self._on_key = on_key
        self.skeleton_only = skeleton_only
        self.thresholds = thresholds
        self._recent = RecentNudge(message_s)
        try:
            self._display: Display = Display()
        except (DisplayError, OSError) as exc:
            raise DisplayUnavailable(
                f"cannot open the X display {os.environ.get('DISPLAY', '')!r} for the preview "
                f"({exc}); run with --no-window, or from the desktop session"
            ) from exc
        screen = self._display.screen()
        self._depth = screen.root_depth
        self._pixel = _pixel_layout(self._display)
        self.width_px, self.height_px = _START_SIZE
        self._window: Window = screen.root.create_window(
            0,
            0,
            self.width_px,
            self.height_px,
            0,
            self._depth,
            X.InputOutput,
            X.CopyFromParent,
            background_pixel=screen.black_pixel,
            event_mask=X.KeyPressMask | X.StructureNotifyMask | X.ExposureMask,
        )
        self._window.set_wm_name(WINDOW_TITLE)
        utf8 = self._display.intern_atom("UTF8_STRING")
        self._window.change_property(
            self._display.intern_atom("_NET_WM_NAME"), utf8, 8, WINDOW_TITLE.encode()
        )
        self._window.set_wm_class("coach-preview", "coach")
        self._window.set_wm_hints(flags=1, input=1)  # InputHint: it takes the keyboard
        self._window.set_wm_normal_hints(flags=16, min_width=160, min_height=120)  # PMinSize
        self._wm_protocols = self._display.intern_atom("WM_PROTOCOLS")
        self._wm_delete = self._display.intern_atom("WM_DELETE_WINDOW")
        self._window.change_property(self._wm_protocols, Xatom.ATOM, 32, [self._wm_delete])
        self._gc: GC = self._window.create_gc(foreground=screen.white_pixel)
        self._fonts = {size: _open_font(self._display, names) for size, names in _FONTS.items()}
        self._pixmap: Pixmap | None = None
        self._pixmap_size = (0, 0)
        self.closed = False
        """The window was closed (by its window manager, or destroyed): the coach stops."""
        self._window.map()
        self._display.flush()

    @property
    def window_id(self) -> int:
        """The X window's id (for tests and screenshots)."""
        return int(self._window.id)

    def update(self, snapshot: Snapshot, frame: Frame | None) -> Reply:
        """Draw one snapshot and read the keyboard; q, Esc or a closed window: STOP."""
        from Xlib.error import ConnectionClosedError

        if self.closed:
            return Reply.STOP
        quit_asked = False
        try:
            quit_asked = self._read_events()  # first: a resize is drawn at its new size
            if self.closed:
                return Reply.STOP
            picture = draw_preview(
                snapshot,
                frame,
                skeleton_only=self.skeleton_only,
                thresholds=self.thresholds,
                message=self._recent.update(snapshot),
                size=(self.width_px, self.height_px),
            )
            self._paint(picture)
        except (ConnectionClosedError, OSError):
            self.closed = True  # the X server went away (logged out): nothing to show on
        return Reply.STOP if quit_asked or self.closed else Reply.CONTINUE

    def _paint(self, picture: Picture) -> None:
        """Put the picture and its text in the pixmap, then the pixmap on the screen."""
        from Xlib import X

        height, width = picture.image.shape[:2]
        if self._pixmap is None or self._pixmap_size != (width, height):
            if self._pixmap is not None:
                self._pixmap.free()
            self._pixmap = self._window.create_pixmap(width, height, self._depth)
            self._pixmap_size = (width, height)
        data = self._pixel.pack(picture.image)
        row_bytes = width * 4
        rows = max(
            1,
            (self._display.display.info.max_request_length * 4 - _REQUEST_SLACK_BYTES) // row_bytes,
        )
        for y in range(0, height, rows):
            strip = data[y * row_bytes : (y + rows) * row_bytes]
            count = len(strip) // row_bytes
            self._pixmap.put_image(
                self._gc.id, 0, y, width, count, X.ZPixmap, self._depth, 0, strip
            )
        for text in picture.texts:
            font = self._fonts[text.size]
            if font is None:
                continue
            b, g, r = text.colour_bgr
            self._gc.change(font=font, foreground=self._pixel.value(r, g, b))
            item: Any = {"delta": 0, "string": core_font_bytes(text.text)}  # bytes: see there
            self._pixmap.poly_text(self._gc.id, text.x, text.y, [item])
        self._copy()

    def _copy(self) -> None:
        if self._pixmap is not None:
            width, height = self._pixmap_size
            self._window.copy_area(self._gc.id, self._pixmap.id, 0, 0, width, height, 0, 0)
        self._display.flush()

    def _read_events(self) -> bool:
        """Handle what the X server sent since; whether q or Esc was pressed."""
        from Xlib import X

        quit_asked = False
        while self._display.pending_events():
            event = self._display.next_event()
            if event.type == X.KeyPress:
                quit_asked |= self._key(event)
            elif event.type == X.ConfigureNotify:
                self.width_px, self.height_px = max(1, event.width), max(1, event.height)
            elif event.type == X.Expose and event.count == 0:
                self._copy()
            elif self._ends_window(event):
                self.closed = True
        return quit_asked

    def _key(self, event: Event) -> bool:
        """One key press: whether it is q or Esc; any other character goes to `on_key`."""
        from Xlib import X

        shifted = 1 if event.state & X.ShiftMask else 0
        keysym = self._display.keycode_to_keysym(event.detail, shifted)
        if keysym in _QUIT_KEYSYMS:
            return True
        if 0x20 < keysym < 0x7F and self._on_key is not None:  # a printable ASCII key
            self._on_key(chr(keysym))
        return False

    def _ends_window(self, event: Event) -> bool:
        """The window manager's WM_DELETE_WINDOW (the user closed the window), or the window
        destroyed under us."""
        from Xlib import X

        if event.type == X.DestroyNotify:
            return bool(event.window.id == self._window.id)
        if event.type != X.ClientMessage or event.client_type != self._wm_protocols:
            return False
        _, values = event.data
        return bool(values[0] == self._wm_delete)

    def close(self) -> None:
        """Close the window and the connection (idempotent)."""
        from Xlib.error import ConnectionClosedError

        with contextlib.suppress(ConnectionClosedError, OSError):
            if not self.closed or self._window_alive():
                self._window.destroy()
            self._display.close()
        self.closed = True

    def _window_alive(self) -> bool:
        from Xlib.error import BadWindow

        try:
            self._window.get_geometry()
        except BadWindow:
            return False
        return True


_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def core_font_bytes(text: str) -> bytes:
    """`text` in the core fonts' Latin-1, typographic quotes and dashes made plain, anything
    else a "?". Bytes, not str: python-xlib would send a str as UTF-8 with its length in
    characters."""
    return text.translate(_TYPOGRAPHY).encode("latin-1", "replace")


class _PixelLayout:
    """How the screen's TrueColor visual packs a pixel: channel shifts and byte order."""

    def __init__(self, red_mask: int, green_mask: int, blue_mask: int, msb_first: bool) -> None:
        self.shifts = [_shift(mask) for mask in (red_mask, green_mask, blue_mask)]
        self._dtype = np.dtype(">u4" if msb_first else "<u4")

    def value(self, r: int, g: int, b: int) -> int:
        """One colour as a pixel value (a GC's foreground)."""
        rs, gs, bs = self.shifts
        return (r << rs) | (g << gs) | (b << bs)

    def pack(self, bgr: ImageArray) -> bytes:
        """A BGR image as ZPixmap data, 32 bits a pixel."""
        rs, gs, bs = self.shifts
        pixels = bgr.astype(np.uint32)
        packed = (pixels[..., 2] << rs) | (pixels[..., 1] << gs) | (pixels[..., 0] << bs)
        return packed.astype(self._dtype).tobytes()


def _shift(mask: int) -> int:
    """Where an 8-bit channel's mask starts."""
    return (mask & -mask).bit_length() - 1


def _pixel_layout(display: Display) -> _PixelLayout:
    """The root visual's layout; a screen that is not 24-bit TrueColor at 32 bits a pixel
    (an old 8-bit or 16-bit display) has no preview."""
    from Xlib import X

    screen = display.screen()
    formats = {f.depth: f.bits_per_pixel for f in display.display.info.pixmap_formats}
    for depth in screen.allowed_depths:
        for visual in depth.visuals:
            if visual.visual_id != screen.root_visual:
                continue
            masks = (visual.red_mask, visual.green_mask, visual.blue_mask)
            if (
                visual.visual_class == X.TrueColor
                and depth.depth in (24, 32)
                and formats.get(depth.depth) == 32
                and all(mask >> _shift(mask) == 0xFF for mask in masks)
            ):
                msb_first = display.display.info.image_byte_order == X.MSBFirst
                return _PixelLayout(*masks, msb_first=msb_first)
    display.close()
    raise DisplayUnavailable(
        "the X screen is not 24-bit TrueColor, which the preview window needs; run with --no-window"
    )


def _open_font(display: Display, names: tuple[str, ...]) -> Font | None:
    """The first of `names` the X server has (None: the text is left out)."""
    for name in names:
        font = display.open_font(name)
        if font is not None:
            return cast("Font", font)
    return None
