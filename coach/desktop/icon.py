"""Provides the coach's own icon: a PNG (and an SVG) shipped in the package's data."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def icon_path(kind: str = "png") -> Path:
    """The icon file ("png" or "svg") for notifications and the start-at-login entry.

    The files are drawn by `coach.actions.tray_icons.draw_app_icon` (tests check they match).
    """
    return Path(str(files("coach") / "data" / f"coach.{kind}"))
