"""Tests the preview window for real: `coach run` under Xvfb, screenshotted while it runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, sample_clip

pytestmark = pytest.mark.slow


def grab(display: str, out: Path) -> np.ndarray:
    from PIL import ImageGrab

    shot = ImageGrab.grab(xdisplay=display)
    shot.save(out)
    return np.asarray(shot.convert("RGB"))


@pytest.mark.parametrize("skeleton_only", [False, True])
def test_preview_window_shows_the_tracked_skeleton(
    virtual_display: str, tmp_path: Path, skeleton_only: bool, model_path: Path
) -> None:
    env = {**os.environ, "DISPLAY": virtual_display, "XDG_DATA_HOME": str(tmp_path / "data")}
    args = [
        sys.executable,
        "-m",
        "coach",
        "run",
        str(sample_clip("slouch")),
        "--realtime",
        "--calibrate-seconds",
        "2",
    ]
    if skeleton_only:
        args.append("--skeleton-only")
    process = subprocess.Popen(
        args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(9.0)  # model load, calibration (2 s), then a few seconds of coaching
        assert process.poll() is None, process.communicate()
        pixels = grab(virtual_display, tmp_path / "preview.png")
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    # The window: the state banner is drawn in the upright colour (BGR 80,200,80 → RGB 80,200,80).
    green = np.all(np.abs(pixels.astype(int) - [80, 200, 80]) < 40, axis=2)
    assert green.sum() > 300, "no skeleton or state banner drawn"
    white = np.all(pixels > 235, axis=2)
    assert white.sum() > 30  # landmark dots
    window = pixels[green.any(axis=1)][:, green.any(axis=0)]
    if skeleton_only:
        # No camera pixel: the canvas is flat dark grey apart from the drawing.
        dark = np.all(np.abs(pixels.astype(int) - 24) < 6, axis=2)
        assert dark.sum() > 100_000
    else:
        assert window.std() > 20  # a real picture behind the skeleton
