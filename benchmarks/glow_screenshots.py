"""Screenshots of the glow nudge on a virtual two-monitor screen: faint, at the nudge, deepest, cleared.

Starts Xvfb (1280x480, told of two 640x480 monitors side by side), puts a light "document"
window on it, and drives the real overlay process at the levels `glow_level` gives with the
default strength (the moment a slouch is decided, at the nudge's hold time, a hold later) and
back to nothing. It does so without a compositor (an opaque band) and, where xcompmgr is
installed, with one (a translucent glow). The PNGs go to the folder given (default
/tmp/glow-shots).

    python benchmarks/glow_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from PIL import ImageGrab

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach.actions.glow import AT_HOLD, FAINT, OverlayProcess
from coach.config import NudgeConfig
from tests.xvfb import xvfb_screen

WIDTH, HEIGHT = 1280, 480
MONITORS = "640x480+0+0,640x480+640+0"
DOCUMENT = """
from Xlib import X, display
d = display.Display()
s = d.screen()
for x in (6, 646):  # a light window filling each monitor, a darker "text" block in each
    page = s.root.create_window(x, 6, 628, 468, 0, s.root_depth, background_pixel=0xF4F1EA)
    page.map()
    text = page.create_window(14, 14, 600, 300, 0, s.root_depth, background_pixel=0x5A6070)
    text.map()
d.sync()
print("up", flush=True)
import time
time.sleep(3600)
"""


@contextlib.contextmanager
def virtual_screen() -> Iterator[str]:
    """A private Xvfb screen; its display name."""
    with xvfb_screen(WIDTH, HEIGHT) as name:
        yield name


def shoot(display: str, out_dir: Path, tag: str, compositor: bool) -> list[Path]:
    """Drive the overlay through the levels; one PNG per level."""
    env = {**os.environ, "DISPLAY": display}
    helpers = [subprocess.Popen([sys.executable, "-c", DOCUMENT], env=env, stdout=subprocess.PIPE)]
    assert helpers[0].stdout is not None
    helpers[0].stdout.readline()
    if compositor:
        helpers.append(subprocess.Popen(["xcompmgr"], env=env, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
    lines: queue.Queue[str] = queue.Queue()
    overlay = OverlayProcess(lines.put, env=env, monitors=MONITORS)
    strength = NudgeConfig().glow_strength
    saved = []
    try:
        print(f"{tag}: {lines.get(timeout=10)}")
        for name, level in (
            ("1-faint", FAINT * strength),
            ("2-at-nudge", AT_HOLD * strength),
            ("3-deepest", strength),
            ("4-cleared", 0.0),
        ):
            overlay.show(level)
            while not lines.get(timeout=10).startswith(f"shown {level:.2f}"):
                pass
            time.sleep(0.3)
            path = out_dir / f"glow-{tag}-{name}.png"
            ImageGrab.grab(xdisplay=display).save(path)
            saved.append(path)
    finally:
        overlay.close()
        for helper in helpers:
            helper.kill()
            helper.communicate(timeout=5)
    return saved


def main() -> int:
    """Save the screenshots; print where."""
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/glow-shots")
    out_dir.mkdir(parents=True, exist_ok=True)
    if shutil.which("Xvfb") is None:
        print("Xvfb is not installed (make setup installs it)")
        return 1
    saved = []
    with virtual_screen() as display:
        saved += shoot(display, out_dir, "opaque", compositor=False)
    if shutil.which("xcompmgr") is not None:
        with virtual_screen() as display:
            saved += shoot(display, out_dir, "translucent", compositor=True)
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
