"""Tests the preview window for real: an X11 window under Xvfb, screenshotted, typed into and
closed the way a window manager closes it; and `coach run` showing it while it coaches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from Xlib import X, Xatom
from Xlib.display import Display
from Xlib.protocol import event as xevent
from Xlib.xobject.drawable import Window

from coach.actions.event_log import read_event_log
from coach.actions.preview import WINDOW_TITLE, PreviewWindow, display_available
from coach.commands.common import preview_sinks
from coach.config import Config
from coach.errors import DisplayUnavailable
from coach.records import Frame, Reply
from testkit.synthetic import BodyPose
from tests.conftest import REPO, sample_clip
from tests.test_views import snapshot_after

FRAME_BGR = (40, 120, 200)
"""A flat orange frame (RGB 200, 120, 40) that nothing else in the preview is drawn in."""


def grab(display: str, out: Path) -> np.ndarray:
    from PIL import ImageGrab

    shot = ImageGrab.grab(xdisplay=display)
    shot.save(out)
    return np.asarray(shot.convert("RGB"))


def find_window(display: Display) -> Window | None:
    """The mapped top-level window titled "coach preview", if there is one."""
    for window in display.screen().root.query_tree().children:
        if (
            window.get_wm_name() == WINDOW_TITLE
            and window.get_attributes().map_state == X.IsViewable
        ):
            return window
    return None


def wait_until(check: Callable[[], object], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def close_as_window_manager(display: Display, window: Window) -> None:
    """What a window manager sends when the user clicks the close button."""
    protocols = display.intern_atom("WM_PROTOCOLS")
    delete = display.intern_atom("WM_DELETE_WINDOW")
    assert delete in window.get_full_property(protocols, Xatom.ATOM).value  # it takes part
    message = xevent.ClientMessage(
        window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
    )
    window.send_event(message, event_mask=0)
    display.flush()


def press(display_name: str, window_id: int, key: str) -> None:
    """Focus the window and type `key` (XTEST: a real key press, as from the keyboard)."""
    env = {**os.environ, "DISPLAY": display_name}
    subprocess.run(["xdotool", "windowfocus", "--sync", str(window_id)], env=env, check=True)
    subprocess.run(["xdotool", "key", key], env=env, check=True)


@pytest.fixture
def screen(virtual_display: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Display]:
    monkeypatch.setenv("DISPLAY", virtual_display)
    display = Display(virtual_display)
    yield display
    display.close()


def test_the_window_shows_the_frame_takes_keys_and_notices_it_was_closed(
    screen: Display, virtual_display: str, tmp_path: Path
) -> None:
    snap = snapshot_after([BodyPose()] * 20)
    frame = Frame(np.full((240, 320, 3), FRAME_BGR, dtype=np.uint8), t_s=snap.t_s, index=0)
    keys: list[str] = []
    window = PreviewWindow(
        skeleton_only=False, thresholds=(15, 15), message_s=5, on_key=keys.append
    )
    try:
        assert window.update(snap, frame) is Reply.CONTINUE
        found = find_window(screen)
        assert found is not None and found.id == window.window_id
        geometry = found.get_geometry()
        assert (geometry.width, geometry.height) == (640, 480)
        # The frame is scaled up to fill the window: its colour fills most of it.
        pixels = grab(virtual_display, tmp_path / "preview.png")[:480, :640]
        orange = np.all(np.abs(pixels.astype(int) - FRAME_BGR[::-1]) < 4, axis=2)
        assert orange.mean() > 0.6
        assert orange[240, 320 - 100]  # the middle, left of the skeleton
        banner = pixels[:30].reshape(-1, 3)
        assert (banner == 0).all(axis=1).mean() > 0.8  # the state banner, black...
        green = np.all(np.abs(pixels[:30].astype(int) - [80, 200, 80]) < 40, axis=2)
        assert green.sum() > 50  # ...with "UPRIGHT" written in the state's colour
        # Keys: prompt keys go to the coach, q stops it.
        press(virtual_display, window.window_id, "f")
        press(virtual_display, window.window_id, "shift+p")
        deadline = time.monotonic() + 5
        while len(keys) < 2 and time.monotonic() < deadline:
            assert window.update(snap, frame) is Reply.CONTINUE
            time.sleep(0.05)
        assert keys == ["f", "P"]
        press(virtual_display, window.window_id, "q")
        wait_until(lambda: window.update(snap, frame) is Reply.STOP)
        assert keys == ["f", "P"]  # q is the window's own
        # A resized window gets the picture at its new size.
        found.configure(width=400, height=300)
        screen.flush()
        wait_until(lambda: (window.update(snap, frame), window.width_px)[1] == 400)
        pixels = grab(virtual_display, tmp_path / "resized.png")
        assert np.all(np.abs(pixels[290, 200].astype(int) - FRAME_BGR[::-1]) < 4)
        assert not np.all(np.abs(pixels[290, 500].astype(int) - FRAME_BGR[::-1]) < 4)
        bars = pixels[300 - 56 - 16 : 300 - 56 + 6, 4:300]  # the bars keep to the bottom
        assert (bars == 0).all(axis=2).mean() > 0.6
        # Closed by the window manager's close button: the coach stops.
        close_as_window_manager(screen, found)
        wait_until(lambda: window.update(snap, frame) is Reply.STOP)
        assert window.closed
    finally:
        window.close()
    window.close()  # twice is fine
    screen.sync()
    assert find_window(screen) is None


# python-xlib leaves the socket of a failed TCP connect for the collector (its bug, harmless).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_no_window_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    assert not display_available()
    monkeypatch.setenv("DISPLAY", ":4091")  # named, but no X server there
    with pytest.raises(DisplayUnavailable, match="--no-window"):
        PreviewWindow(skeleton_only=True, thresholds=(15, 15), message_s=5)
    # `coach run` says why in one line and coaches on without the window.
    console = Console(record=True, width=200)
    assert preview_sinks(Config(), console, hidden=False) == []
    said = console.export_text()
    assert said.startswith("No preview window: cannot open the X display ':4091'")
    assert said.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("skeleton_only", [False, True])
def test_preview_window_shows_the_tracked_skeleton(
    virtual_display: str, tmp_path: Path, skeleton_only: bool, model_path: Path
) -> None:
    env = {**os.environ, "DISPLAY": virtual_display, "XDG_DATA_HOME": str(tmp_path / "data")}
    events = tmp_path / "events.jsonl"
    args = [
        sys.executable,
        "-m",
        "coach",
        "run",
        str(sample_clip("slouch")),
        "--realtime",
        "--calibrate-seconds",
        "2",
        "--events",
        str(events),
    ]
    if skeleton_only:
        args.append("--skeleton-only")
    process = subprocess.Popen(
        args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    display = Display(virtual_display)
    try:
        time.sleep(9.0)  # model load, calibration (2 s), then a few seconds of coaching
        assert process.poll() is None, process.communicate()
        window = find_window(display)
        assert window is not None, "no preview window"
        pixels = grab(virtual_display, tmp_path / "preview.png")
        if not skeleton_only:
            # "c" starts a counted cat-cow set: the key reached the coach when the event log
            # shows the counter; then q ends the run on its own.
            press(virtual_display, window.id, "c")
            wait_until(lambda: any(line["set"] for line in read_event_log(events)))
            grab(virtual_display, tmp_path / "counting.png")  # to look at; the count shows
            # once the set has started (the first movement), which this clip may never make.
            press(virtual_display, window.id, "q")
            process.wait(timeout=30)
    finally:
        display.close()
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    # The window: the state banner is drawn in the upright colour (BGR 80,200,80 → RGB 80,200,80).
    green = np.all(np.abs(pixels.astype(int) - [80, 200, 80]) < 40, axis=2)
    assert green.sum() > 300, "no skeleton or state banner drawn"
    white = np.all(pixels > 235, axis=2)
    assert white.sum() > 30  # landmark dots
    window_pixels = pixels[green.any(axis=1)][:, green.any(axis=0)]
    if skeleton_only:
        # No camera pixel: the canvas is flat dark grey apart from the drawing.
        dark = np.all(np.abs(pixels.astype(int) - 24) < 6, axis=2)
        assert dark.sum() > 100_000
    else:
        assert window_pixels.std() > 20  # a real picture behind the skeleton
