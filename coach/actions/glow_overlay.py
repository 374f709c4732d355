"""Provides the glow's own process: click-through X11 bands at every monitor's edges, fed over stdin."""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from Xlib.display import Display
    from Xlib.xobject.drawable import Window
    from Xlib.xobject.fontable import GC

GLOW_RGB = (255, 150, 40)
"""A warm amber: noticed at the edge of vision, not an alarm red."""
BAND_FRACTION = 0.07
"""The band's width at the deepest glow, as a share of the monitor's shorter side."""
RINGS = 14
"""Steps of the fall-off from the edge inwards (X draws each as four rectangles)."""
RISE_PER_S = 0.8
"""The glow deepens gently (a jump to full takes ~1 s)..."""
FALL_PER_S = 3.0
"""...and clears fast once the user sits up (from full to nothing in a third of a second)."""
FRAME_S = 1 / 30


@dataclass(frozen=True)
class Monitor:
    """One monitor's place on the X screen, pixels."""

    x: int
    y: int
    width_px: int
    height_px: int


Rect = tuple[int, int, int, int]
"""x, y, width, height."""


def parse_monitors(text: str) -> list[Monitor]:
    """Monitors written like xrandr's geometry: "800x600+0+0,800x600+800+0"."""
    monitors = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        size, _, place = item.partition("+")
        width, height = size.split("x")
        x, y = place.split("+")
        monitors.append(Monitor(int(x), int(y), int(width), int(height)))
    return monitors


def band_px(monitor: Monitor, level: float, alpha: bool) -> int:
    """How wide the band is at `level`: with real alpha it is mostly there and deepens in
    colour; opaque, it grows from nothing so a faint glow covers almost nothing."""
    deepest = BAND_FRACTION * min(monitor.width_px, monitor.height_px)
    share = 0.4 + 0.6 * level if alpha else level
    return max(1, round(deepest * share)) if level > 0 else 0


def ring_rects(monitor: Monitor, inset_px: int, thickness_px: int) -> list[Rect]:
    """The four sides of a frame `inset_px` in from the monitor's edges (window coordinates)."""
    w, h, t = monitor.width_px, monitor.height_px, thickness_px
    inner_w, inner_h = w - 2 * inset_px, h - 2 * inset_px
    if t <= 0 or inner_w <= 0 or inner_h <= 0:
        return []
    return [
        (inset_px, inset_px, inner_w, t),
        (inset_px, h - inset_px - t, inner_w, t),
        (inset_px, inset_px + t, t, max(0, inner_h - 2 * t)),
        (w - inset_px - t, inset_px + t, t, max(0, inner_h - 2 * t)),
    ]


def ring_colours(level: float, alpha: bool) -> list[tuple[int, int, int, int]]:
    """Each ring's colour (r, g, b, a, premultiplied), from the edge inwards."""
    colours = []
    for i in range(RINGS):
        edge = 1.0 - i / RINGS  # 1 at the screen's edge, falling towards the centre
        if alpha:
            k = 0.85 * level * edge**1.5  # the alpha, which premultiplies the colour
            a = round(255 * k)
        else:
            # Opaque: dimmer towards the inside, all of it brighter as the glow deepens.
            k = (0.3 + 0.7 * edge) * (0.45 + 0.55 * level)
            a = 255
        r, g, b = GLOW_RGB
        colours.append((round(r * k), round(g * k), round(b * k), a))
    return colours


def list_monitors(display: Display) -> list[Monitor]:
    """The monitors RandR (1.5) or Xinerama reports; else the whole screen as one."""
    from Xlib.ext import randr, xinerama

    root = display.screen().root
    with contextlib.suppress(Exception):  # an old server: no monitors request
        if display.has_extension("RANDR"):
            reply = randr.get_monitors(root)
            found = [
                Monitor(m.x, m.y, m.width_in_pixels, m.height_in_pixels) for m in reply.monitors
            ]
            if found:
                return found
    with contextlib.suppress(Exception):
        if display.has_extension("XINERAMA") and xinerama.is_active(display):
            screens = xinerama.query_screens(display).screens
            found = [Monitor(s.x, s.y, s.width, s.height) for s in screens]
            if found:
                return found
    screen = display.screen()
    return [Monitor(0, 0, screen.width_in_pixels, screen.height_in_pixels)]


class Overlay:
    """One click-through window per monitor, showing the band at a level.

    The windows are override-redirect (no window manager touches them: never focused, never in
    a task bar), their input region is empty (every click goes to the window below) and their
    visible region is only the band at the monitor's edges (the centre of the screen is never
    covered). With a compositor the band is a true translucent glow (an ARGB visual, alpha
    falling off towards the centre); without one pixels cannot be translucent, so the band
    itself grows wider and brighter from the edge.
    """

    def __init__(self, display: Display, monitors: Callable[[], list[Monitor]]) -> None:
        """`monitors` is asked each time the glow appears (a monitor plugged in since counts)."""
        from Xlib import X

        self._display = display
        self._list_monitors = monitors
        self._monitors: list[Monitor] = []
        self._windows: list[Window] = []
        self._gc: list[GC] = []
        screen = display.screen()
        self._visual = _argb_visual(display) if _composited(display) else None
        self.alpha = self._visual is not None
        self._extra = {}
        self._depth = screen.root_depth
        if self._visual is not None:
            self._depth = 32
            colormap = screen.root.create_colormap(self._visual, X.AllocNone)
            self._extra = {"colormap": colormap, "border_pixel": 0}
        self._mapped = False
        self.level = 0.0
        self._place(monitors())

    def _place(self, monitors: list[Monitor]) -> None:
        """One window per monitor (the old ones, if any, destroyed)."""
        from Xlib import X
        from Xlib.ext import shape

        for window in self._windows:
            window.destroy()
        root = self._display.screen().root
        self._monitors, self._windows = monitors, []
        for m in monitors:
            window = root.create_window(
                m.x,
                m.y,
                m.width_px,
                m.height_px,
                0,
                self._depth,
                X.InputOutput,
                self._visual if self._visual is not None else X.CopyFromParent,
                override_redirect=True,  # no window manager: no focus, no decoration, no task bar
                event_mask=X.ExposureMask,
                **self._extra,
            )
            window.set_wm_name("coach glow")
            window.set_wm_class("coach-glow", "coach")
            window.set_wm_hints(flags=1, input=0)  # InputHint: never give it the keyboard
            # No input region at all: clicks and the pointer pass to whatever is below.
            shape.rectangles(window, shape.SO.Set, shape.SK.Input, X.Unsorted, 0, 0, [])
            self._windows.append(window)
        self._gc = [w.create_gc(foreground=0) for w in self._windows]

    def show(self, level: float) -> None:
        """Draw the band at `level` (0: take the windows off the screen)."""
        from Xlib import X

        self.level = level
        if level <= 0:
            if self._mapped:
                for window in self._windows:
                    window.unmap()
                self._mapped = False
            self._display.flush()
            return
        if not self._mapped:
            monitors = self._list_monitors()
            if monitors != self._monitors:  # plugged in, unplugged or moved since
                self._place(monitors)
        for window, monitor in zip(self._windows, self._monitors, strict=True):
            self._shape(window, monitor)
            if not self._mapped:
                window.map()
            window.configure(stack_mode=X.Above)  # above windows opened since
        self._mapped = True
        self.redraw()

    @property
    def monitor_count(self) -> int:
        """How many monitors the glow covers."""
        return len(self._monitors)

    def redraw(self) -> None:
        """Paint every window's band (after `show`, and when the X server asks again)."""
        if not self._mapped:
            return
        colours = ring_colours(self.level, self.alpha)
        for window, gc, monitor in zip(self._windows, self._gc, self._monitors, strict=True):
            width = band_px(monitor, self.level, self.alpha)
            for i, (r, g, b, a) in enumerate(colours):
                inset, thick = _ring_span(width, i)
                rects = ring_rects(monitor, inset, thick)
                if rects:
                    gc.change(foreground=(a << 24) | (r << 16) | (g << 8) | b)
                    window.poly_fill_rectangle(gc.id, rects)
        self._display.flush()

    def _shape(self, window: Window, monitor: Monitor) -> None:
        from Xlib import X
        from Xlib.ext import shape

        # Only the band is part of the window: the rest of the screen is not covered at all.
        width = band_px(monitor, self.level, self.alpha)
        rects = ring_rects(monitor, 0, width)
        shape.rectangles(window, shape.SO.Set, shape.SK.Bounding, X.Unsorted, 0, 0, rects)

    def close(self) -> None:
        """Destroy the windows."""
        for window in self._windows:
            window.destroy()
        self._display.flush()


def _ring_span(band_px: int, i: int) -> tuple[int, int]:
    """Where ring `i` of the band starts (inset) and how thick it is, with no gaps."""
    start = band_px * i // RINGS
    return start, band_px * (i + 1) // RINGS - start


def _composited(display: Display) -> bool:
    """A compositing manager owns _NET_WM_CM_Sn: only then does an ARGB window blend."""
    from Xlib import X

    atom = display.intern_atom(f"_NET_WM_CM_S{display.get_default_screen()}")
    return bool(display.get_selection_owner(atom) != X.NONE)


def _argb_visual(display: Display) -> int | None:
    """The id of a 32-bit TrueColor visual (with an alpha channel), if the server has one."""
    from Xlib import X

    for depth in display.screen().allowed_depths:
        if depth.depth == 32:
            for visual in depth.visuals:
                if visual.visual_class == X.TrueColor:
                    return int(visual.visual_id)
    return None


def step(shown: float, target: float, elapsed_s: float) -> float:
    """The level shown after `elapsed_s` of easing from `shown` towards `target`."""
    if target > shown:
        return min(target, shown + RISE_PER_S * elapsed_s)
    return max(target, shown - FALL_PER_S * elapsed_s)


def parse_command(line: str, target: float) -> float | None:
    """The new target for one line of input (None: quit); a line it does not know is ignored."""
    word, _, value = line.strip().partition(" ")
    if word == "quit":
        return None
    if word == "level":
        with contextlib.suppress(ValueError):
            return min(1.0, max(0.0, float(value)))
    return target


def serve(overlay: Overlay, display: Display, stdin_fd: int, out: TextIO) -> None:
    """Ease the glow towards each level read from `stdin_fd` until it closes or says quit."""
    from Xlib import X

    target = shown = 0.0
    pending = b""
    last = time.monotonic()
    while True:
        easing = shown != target
        ready, _, _ = select.select(
            [stdin_fd, display.fileno()], [], [], FRAME_S if easing else None
        )
        if stdin_fd in ready:
            data = os.read(stdin_fd, 4096)
            if not data:
                return  # the coach is gone
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                new = parse_command(line.decode("ascii", "replace"), target)
                if new is None:
                    return
                target = new
        while display.pending_events():
            if display.next_event().type == X.Expose:
                overlay.redraw()
        now = time.monotonic()
        if not easing:
            last = now  # the easing starts now, not when the last one ended
        moved = step(shown, target, now - last)
        last = now
        if moved != shown:
            shown = moved
            overlay.show(shown)
            if shown == target:
                print(f"shown {shown:.2f}", file=out, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m coach.actions.glow_overlay`: the overlay until stdin closes or says `quit`.

    Stdin takes `level X` lines (0..1, the depth the glow should reach). Stdout says
    `ready N alpha|opaque` (N monitors) or `unavailable WHY` once, then `shown X` each time the
    glow has settled at a new level. It ends when stdin closes, so it never outlives the coach.
    """
    parser = argparse.ArgumentParser(prog="python -m coach.actions.glow_overlay")
    parser.add_argument(
        "--monitors",
        default="",
        help='monitors to cover, "WxH+X+Y,..." (default: ask the X server)',
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("unavailable no X display (DISPLAY is not set)", flush=True)
        return 0
    try:
        from Xlib import display as xdisplay
        from Xlib.error import ConnectionClosedError, DisplayError

        display = xdisplay.Display()
    except ImportError:
        print("unavailable python-xlib is not installed", flush=True)
        return 0
    except (DisplayError, OSError) as exc:
        print(f"unavailable cannot open the X display: {exc}", flush=True)
        return 0
    if not display.has_extension("SHAPE"):
        print("unavailable the X server has no SHAPE extension (needed to let clicks through)")
        return 0
    given = parse_monitors(args.monitors)
    overlay = Overlay(display, (lambda: given) if given else (lambda: list_monitors(display)))
    print(f"ready {overlay.monitor_count} {'alpha' if overlay.alpha else 'opaque'}", flush=True)
    try:
        serve(overlay, display, sys.stdin.fileno(), sys.stdout)
    except (OSError, ConnectionClosedError):
        return 0  # the X server went away (logout): nothing left to draw on
    finally:
        with contextlib.suppress(Exception):
            overlay.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
