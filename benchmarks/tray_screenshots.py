"""Screenshots of the tray icon in each state and of a prompt's notification, on a virtual screen.

Starts Xvfb, a private D-Bus session bus, a StatusNotifierWatcher and a standalone tray
(`status-notifier-watcher`, `gtk-sni-tray-standalone`; Debian haskell-gtk-sni-tray-utils
and haskell-status-notifier-item-utils), shows coach's tray icon in every state and grabs
the tray; then starts dunst and sends a prompt's notification with its buttons, and grabs
it. The PNGs go to the folder given (default /tmp/issue13-shots).

    python benchmarks/tray_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageGrab

from coach.actions.controls import Controls
from coach.actions.notify import DesktopNotifier, NotifyButton
from coach.actions.tray import Tray
from coach.actions.tray_icons import TrayState

DISPLAY = ":97"
TOOLS = ("Xvfb", "dbus-daemon", "status-notifier-watcher", "gtk-sni-tray-standalone", "dunst")


@contextlib.contextmanager
def started(command: list[str], env: dict[str, str], settle_s: float = 1.0) -> Iterator[None]:
    """Run `command` in the background for the duration of the block."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(settle_s)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def private_bus(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--print-address", "--nofork"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def grab(box: tuple[int, int, int, int] | None = None) -> Image.Image:
    return ImageGrab.grab(bbox=box, xdisplay=DISPLAY)


# The tray bar runs along the top, 32 px high; its first icon is coach's.
TRAY_ICON_BOX = (0, 0, 40, 32)


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "/tmp/issue13-shots")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        print(f"missing: {' '.join(missing)} (see DEBIAN_PACKAGES in the Makefile)")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DISPLAY": DISPLAY}
    with started(["Xvfb", DISPLAY, "-screen", "0", "480x320x24"], env):
        bus, address = private_bus(env)
        env["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
        os.environ["DISPLAY"] = DISPLAY
        try:
            with (
                started(["status-notifier-watcher"], env),
                started(
                    ["gtk-sni-tray-standalone", "--top", "--size", "32", "--color", "#2b2b2b"],
                    env,
                    settle_s=2.0,
                ),
            ):
                shoot_tray(out)
            with started(["dunst"], env):
                shoot_notification(out)
        finally:
            bus.terminate()
            bus.communicate(timeout=5)
    return 0


def shoot_tray(out: Path) -> None:
    tray = Tray(Controls(pause_s=1800.0), open_report=lambda: None)
    problem = tray.start()
    if problem is not None:
        raise SystemExit(f"no tray: {problem}")
    try:
        time.sleep(1.5)
        shots = []
        for state in TrayState:
            tray.show(state)
            time.sleep(1.0)
            name = state.value.replace(" ", "-")
            shot = grab(TRAY_ICON_BOX)
            shot.save(out / f"tray-{name}.png")
            shots.append(shot)
            print(f"wrote {out / f'tray-{name}.png'}")
        # Every state side by side, four times larger, to look at.
        w, h = shots[0].size
        sheet = Image.new("RGB", (w * len(shots), h))
        for i, shot in enumerate(shots):
            sheet.paste(shot, (i * w, 0))
        sheet.resize((4 * sheet.width, 4 * h), Image.Resampling.NEAREST).save(
            out / "tray-states.png"
        )
        grab().save(out / "tray-screen.png")
    finally:
        tray.stop()


def shoot_notification(out: Path) -> None:
    notifier = DesktopNotifier()
    buttons = [NotifyButton(label, lambda: None) for label in ("Done", "Snooze", "Skip")]
    notifier.notify(
        "Posture check: try chin tuck",
        "Your head has drifted forward of your shoulders for about 1 min. "
        "Try Chin tuck (8 reps, hold 2 s): glide the chin straight back.",
        buttons,
    )
    time.sleep(2.0)
    grab().save(out / "notification.png")
    print(f"wrote {out / 'notification.png'}")
    notifier.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
