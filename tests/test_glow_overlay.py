"""Tests the glow overlay for real under Xvfb: screenshots, a click through it, `coach run` with it."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pytest

from coach.actions.glow import OverlayProcess
from coach.actions.glow_overlay import GLOW_RGB, Monitor, band_px
from tests.mjpeg_camera import process_running
from tests.xvfb import xvfb_screen

WIDTH, HEIGHT = 1280, 480
MONITORS = "640x480+0+0,640x480+640+0"
"""Xvfb has one output; the overlay is told of two side by side (as RandR would report)."""


@pytest.fixture
def wide_display() -> Iterator[str]:
    """A private Xvfb screen two monitors wide (its background black)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (make setup installs it where it can)")
    with xvfb_screen(WIDTH, HEIGHT) as name:
        yield name


def grab(display: str, out: Path) -> np.ndarray:
    from PIL import ImageGrab

    shot = ImageGrab.grab(xdisplay=display)
    shot.save(out)
    return np.asarray(shot.convert("RGB")).astype(int)


class Said:
    """A process's lines (given to `lines.put`, or read from `stream`), waited for one by one."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        if stream is not None:
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.strip())

    def expect(self, prefix: str, timeout_s: float = 10.0) -> str:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line {prefix!r} came")


UNDER = """
from Xlib import X, display
d = display.Display()
screen = d.screen()
window = screen.root.create_window(
    0, 0, 300, 200, 0, screen.root_depth, background_pixel=0x808080, event_mask=X.ButtonPressMask
)
window.set_wm_name("under")
window.map()
d.sync()
print("window", window.id, flush=True)
while True:
    event = d.next_event()
    if event.type == X.ButtonPress:
        print("clicked", event.event_x, event.event_y, flush=True)
"""
"""A plain X window at the top-left corner that says where it was clicked."""


def test_the_glow_appears_deepens_and_clears_on_every_monitor_and_lets_clicks_through(
    wide_display: str, tmp_path: Path
) -> None:
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (make setup installs it where it can)")
    env = {**os.environ, "DISPLAY": wide_display}
    under = subprocess.Popen(
        [sys.executable, "-c", UNDER], env=env, stdout=subprocess.PIPE, text=True
    )
    assert under.stdout is not None
    heard = Said(under.stdout)
    said = Said()
    overlay = OverlayProcess(said.lines.put, env=env, monitors=MONITORS)
    try:
        window_id = heard.expect("window").split()[1]
        subprocess.run(["xdotool", "windowfocus", "--sync", window_id], env=env, check=True)
        focused = subprocess.run(
            ["xdotool", "getwindowfocus"], env=env, capture_output=True, text=True
        ).stdout.strip()
        assert said.expect("ready") == "ready 2 opaque"  # Xvfb has no compositor
        before = grab(wide_display, tmp_path / "0-before.png")
        shots = {}
        for name, level in (("faint", 0.3), ("deep", 1.0), ("cleared", 0.0)):
            overlay.show(level)
            said.expect(f"shown {level:.2f}")
            time.sleep(0.2)  # the X server has drawn what the overlay flushed
            shots[name] = grab(wide_display, tmp_path / f"{len(shots) + 1}-{name}.png")

        monitor = Monitor(0, 0, 640, 480)
        faint_px, deep_px = band_px(monitor, 0.3, False), band_px(monitor, 1.0, False)
        mid_row = HEIGHT // 2
        for edge_x in (1, 638, 642, WIDTH - 2):  # both monitors' outer and inner edges
            assert (shots["faint"][mid_row, edge_x] != before[mid_row, edge_x]).any()
            assert shots["deep"][mid_row, edge_x].sum() > shots["faint"][mid_row, edge_x].sum()
        # Deeper: a wider band, brighter at its edge; the centre of each monitor untouched.
        deep_only_x = (faint_px + deep_px) // 2
        assert (shots["faint"][mid_row, deep_only_x] == before[mid_row, deep_only_x]).all()
        assert (shots["deep"][mid_row, deep_only_x] != before[mid_row, deep_only_x]).any()
        for centre_x in (320, 960):
            centre = np.s_[deep_px + 5 : HEIGHT - deep_px - 5, centre_x - 200 : centre_x + 200]
            assert (shots["deep"][centre] == before[centre]).all()
        assert (shots["cleared"] == before).all(), "cleared: the screen as it was"

        # A click on the glow (over the window below, at its top-left corner) reaches it.
        overlay.show(1.0)
        said.expect("shown 1.00")
        time.sleep(0.2)
        covered = grab(wide_display, tmp_path / "5-over-the-button.png")
        assert (covered[100, 5] != before[100, 5]).any(), "the glow is drawn over the button"
        subprocess.run(["xdotool", "mousemove", "--sync", "5", "100", "click", "1"], env=env)
        assert heard.expect("clicked", timeout_s=5.0) == "clicked 5 100"
        still_focused = subprocess.run(
            ["xdotool", "getwindowfocus"], env=env, capture_output=True, text=True
        ).stdout.strip()
        assert still_focused == focused == window_id, "the glow never takes the focus"
    finally:
        overlay.close()
        under.kill()
        under.communicate(timeout=5)
    assert overlay.returncode == 0


COACH = """
import sys, time
from coach.actions.glow import OverlayProcess
overlay = OverlayProcess(lambda line: print(line, flush=True))
print("pid", overlay.pid, flush=True)
overlay.show(0.5)
time.sleep(60)
"""


def test_the_overlay_ends_when_the_coach_is_killed(wide_display: str) -> None:
    env = {**os.environ, "DISPLAY": wide_display}
    coach = subprocess.Popen(
        [sys.executable, "-c", COACH], env=env, stdout=subprocess.PIPE, text=True
    )
    assert coach.stdout is not None
    said = [coach.stdout.readline().strip() for _ in range(3)]
    assert said[1] == "ready 1 opaque" and said[2] == "shown 0.50", said
    pid = int(said[0].split()[1])
    coach.kill()  # no goodbye: only its end of the pipe closes
    coach.communicate(timeout=5)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and process_running(pid):
        time.sleep(0.05)
    assert not process_running(pid), "the overlay outlived the coach"


def test_no_x_server_gives_one_line_and_no_process_left() -> None:
    said = Said()
    overlay = OverlayProcess(said.lines.put, env={**os.environ, "DISPLAY": ":4321"})
    assert said.expect("unavailable").startswith("unavailable cannot open the X display")
    overlay.close()
    assert overlay.returncode == 0


def test_with_a_compositor_the_glow_is_translucent(wide_display: str, tmp_path: Path) -> None:
    if shutil.which("xcompmgr") is None:
        pytest.skip("xcompmgr is not installed (make setup installs it where it can)")
    env = {**os.environ, "DISPLAY": wide_display}
    compositor = subprocess.Popen(["xcompmgr"], env=env, stderr=subprocess.DEVNULL)
    said = Said()
    try:
        time.sleep(0.5)  # it takes the compositing selection
        overlay = OverlayProcess(said.lines.put, env=env, monitors=MONITORS)
        assert said.expect("ready") == "ready 2 alpha"
        # xcompmgr paints the screen at the first change: the glow comes and goes once first.
        for level in (0.2, 0.0):
            overlay.show(level)
            said.expect(f"shown {level:.2f}")
        time.sleep(0.3)
        before = grab(wide_display, tmp_path / "alpha-0-before.png")
        overlay.show(1.0)
        said.expect("shown 1.00")
        time.sleep(0.3)  # the compositor has painted the new frame
        deep = grab(wide_display, tmp_path / "alpha-1-deep.png")
        overlay.show(0.0)
        said.expect("shown 0.00")
        time.sleep(0.3)
        cleared = grab(wide_display, tmp_path / "alpha-2-cleared.png")
        overlay.close()
    finally:
        compositor.terminate()
        compositor.wait(timeout=5)
    row = HEIGHT // 2
    edge, background = deep[row, 1], before[row, 1]
    # Blended: at the very edge 85 % glow over 15 % of what is below (the background).
    assert (np.abs(edge - (0.85 * np.array(GLOW_RGB) + 0.15 * background)) <= 4).all()
    assert (background != GLOW_RGB).any()
    fading = [int(deep[row, x, 0] - deep[row, x, 2]) for x in (1, 10, 20, 30)]
    assert fading == sorted(fading, reverse=True), "the glow fades towards the centre"
    for centre_x in (320, 960):  # each monitor's centre
        centre = np.s_[60:-60, centre_x - 250 : centre_x + 250]
        assert (deep[centre] == before[centre]).all()
    assert (cleared == before).all()


@pytest.mark.slow
def test_coach_run_glows_while_the_clip_slouches_and_clears_when_it_sits_up(
    wide_display: str, tmp_path: Path, model_path: Path
) -> None:
    from tests.conftest import REPO, sample_clip
    from tests.mjpeg_camera import private_env

    clip = trimmed(sample_clip("slouch"), tmp_path / "slouch.mp4", from_s=13.0, to_s=48.0)
    settings = tmp_path / "coach.toml"
    settings.write_text('[nudge]\nstyle = ["glow"]\nhold_s = 4.0\nglow_strength = 1.0\n')
    env = {**private_env(tmp_path), "DISPLAY": wide_display}
    coach = subprocess.Popen(
        [
            *(sys.executable, "-m", "coach", "run", str(clip)),
            *("--config", str(settings), "--realtime", "--no-window", "--no-history"),
            *("--calibrate-seconds", "2"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[tuple[float, bool]] = []  # (seconds since start, the glow on screen)
    start = time.monotonic()
    try:
        # The trimmed clip: upright for 3.5 s (calibration), slouched from there to 31 s.
        while (elapsed := time.monotonic() - start) < 45.0 and coach.poll() is None:
            shot = grab(wide_display, tmp_path / "run.png")
            seen.append((elapsed, bool(shot[HEIGHT // 2, 1].sum() > 60)))
            if seen[-1][1]:
                grab(wide_display, tmp_path / "run-glowing.png")
            elif any(on for _, on in seen):
                break  # glowed, then cleared
            time.sleep(0.5)
        assert coach.poll() is None, coach.communicate()
    finally:
        coach.send_signal(signal.SIGINT)
        _, stderr = coach.communicate(timeout=30)
    assert coach.returncode == 0, stderr
    glowing = [t for t, on in seen if on]
    assert glowing, "no glow during the clip's slouch"
    assert 3.5 < glowing[0] < 20.0
    assert glowing[-1] > 25.0, "it glowed while the slouch lasted"
    assert any(not on for t, on in seen if t > glowing[-1]), "the glow cleared after the slouch"
    assert (grab(wide_display, tmp_path / "after.png") == 0).all(), "nothing left on screen"


def trimmed(clip: Path, out: Path, from_s: float, to_s: float) -> Path:
    """The part of `clip` between the two times, as a new video."""
    import cv2

    reader = cv2.VideoCapture(str(clip))
    fps = reader.get(cv2.CAP_PROP_FPS)
    size = (int(reader.get(cv2.CAP_PROP_FRAME_WIDTH)), int(reader.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    index = 0
    while True:
        ok, image = reader.read()
        if not ok or index / fps >= to_s:
            break
        if index / fps >= from_s:
            writer.write(image)
        index += 1
    reader.release()
    writer.release()
    return out
