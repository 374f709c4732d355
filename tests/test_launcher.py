"""`coach install-desktop`: the menu launcher (desktop-file-validate) and the icons, never over
another program's files; the first `coach start` installs them once."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coach.desktop import launcher
from coach.desktop.autostart import parse_exec
from coach.desktop.launcher import Outcome

VALIDATE = shutil.which("desktop-file-validate")
needs_validator = pytest.mark.skipif(
    VALIDATE is None, reason="desktop-file-validate missing (Debian package desktop-file-utils)"
)


def _paths(home: Path) -> tuple[Path, Path, Path]:
    share = home / ".local" / "share"
    return (
        share / "applications" / "coach.desktop",
        share / "icons" / "hicolor" / "scalable" / "apps" / "coach.svg",
        share / "icons" / "hicolor" / "128x128" / "apps" / "coach.png",
    )


def _coach(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coach", *args], capture_output=True, text=True, check=False
    )


def test_the_shipped_icons_are_an_svg_and_a_128_px_png() -> None:
    assert launcher.icon_bytes("svg").lstrip().startswith(b"<?xml")
    assert b"<svg" in launcher.icon_bytes("svg")
    png = launcher.icon_bytes("png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (128, 128)


@needs_validator
def test_install_writes_a_valid_launcher_that_starts_this_coach_and_the_icons(
    private_home: Path,
) -> None:
    entry, svg, png = _paths(private_home)
    done = _coach("install-desktop")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"written: {p}" for p in (entry, svg, png)]

    checked = subprocess.run([VALIDATE, str(entry)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr
    lines = entry.read_text().splitlines()
    assert "Icon=coach" in lines and "Terminal=false" in lines and "Name=Coach" in lines
    command = parse_exec(next(x for x in lines if x.startswith("Exec="))[len("Exec=") :])
    assert command == [str(Path(sys.executable).absolute()), "-m", "coach", "start", "--respawn"]
    assert svg.read_bytes() == launcher.icon_bytes("svg")
    assert png.read_bytes() == launcher.icon_bytes("png")

    again = _coach("install-desktop")
    assert again.stdout.splitlines() == [f"up to date: {p}" for p in (entry, svg, png)]

    removed = _coach("install-desktop", "--remove")
    assert removed.returncode == 0
    assert removed.stdout.splitlines() == [f"removed: {p}" for p in (entry, svg, png)]
    assert not any(p.exists() for p in (entry, svg, png))


def test_another_programs_launcher_and_icon_are_left_alone(private_home: Path) -> None:
    entry, svg, png = _paths(private_home)
    entry.parent.mkdir(parents=True)
    entry.write_text("[Desktop Entry]\nType=Application\nName=Coach (someone else's)\nExec=x\n")
    svg.parent.mkdir(parents=True)
    svg.write_text("<svg>another coach</svg>")

    done = _coach("install-desktop")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"left alone (not written by coach): {entry}",
        f"left alone (not written by coach): {svg}",
        f"written: {png}",
    ]
    assert "someone else's" in entry.read_text() and svg.read_text() == "<svg>another coach</svg>"

    result = launcher.remove()
    assert [o for _, o in result.outcomes] == [Outcome.FOREIGN, Outcome.FOREIGN, Outcome.REMOVED]
    assert entry.exists() and svg.exists() and not png.exists()


def test_an_older_coachs_icon_beside_our_launcher_is_refreshed(private_home: Path) -> None:
    entry, svg, _png = _paths(private_home)
    launcher.install(["/opt/old/coach", "start"])
    svg.write_text("<svg>an older coach icon</svg>")

    result = launcher.install(["/opt/new/coach", "start"])
    assert [o for _, o in result.outcomes] == [Outcome.WRITTEN, Outcome.WRITTEN, Outcome.UNCHANGED]
    assert svg.read_bytes() == launcher.icon_bytes("svg")
    assert "Exec=/opt/new/coach start" in entry.read_text().splitlines()


def test_the_first_start_installs_once_and_a_removal_stays(private_home: Path) -> None:
    entry, _svg, _png = _paths(private_home)
    assert launcher.first_start_due()
    assert launcher.install_on_first_start().launcher is Outcome.WRITTEN
    assert entry.exists() and not launcher.first_start_due()

    launcher.remove()
    assert not entry.exists()
    assert not launcher.first_start_due()  # the user took it out: a start does not put it back


def test_autostart_on_brings_the_launcher_and_icon_too(private_home: Path) -> None:
    _entry, svg, png = _paths(private_home)
    done = _coach("autostart", "on")
    assert done.returncode == 0, done.stderr
    autostart = private_home / ".config" / "autostart" / "coach.desktop"
    assert "X-Coach-Autostart=true" in autostart.read_text().splitlines()
    assert svg.read_bytes() == launcher.icon_bytes("svg") and png.exists()
    assert (private_home / ".local" / "share" / "applications" / "coach.desktop").exists()
