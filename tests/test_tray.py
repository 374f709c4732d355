"""The tray: icons told apart by shape, and the StatusNotifierItem and its menu on a real D-Bus."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from coach.actions.controls import Controls
from coach.actions.tray import ICON_SIZES_PX, Tray
from coach.actions.tray_icons import TrayState, draw_icon
from coach.records import Command
from tests.dbus_session import DesktopServices, private_bus
from tests.mjpeg_camera import SteadyCamera, start_coach, wait_for


def _shape(state: TrayState) -> np.ndarray:
    """The icon with its colour taken away: 0 transparent, 1 coloured, 2 white glyph."""
    rgba = np.asarray(draw_icon(state, 32)).astype(int)
    shape = np.where(rgba[..., 3] > 128, 1, 0)
    return np.where((shape == 1) & (rgba[..., :3].min(axis=2) > 200), 2, shape)


def test_each_state_has_its_own_shape_not_only_its_own_colour() -> None:
    shapes = {s: _shape(s) for s in TrayState}
    for a, b in itertools.combinations(TrayState, 2):
        drawn = (shapes[a] > 0) | (shapes[b] > 0)
        differ = (shapes[a] != shapes[b])[drawn].mean()
        assert differ > 0.2, f"{a} and {b} differ mostly by colour ({differ:.2f} of pixels)"


@pytest.fixture
def desktop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        services = DesktopServices(address)
        yield services
        services.close()


def _entries(layout) -> dict[str, tuple[int, dict, list]]:
    found = {}
    for item_id, props, children in layout:
        if "label" in props:
            found[props["label"]] = (item_id, props, children)
    return found


def test_the_tray_icon_shows_the_state_and_its_menu_queues_commands(desktop) -> None:
    controls = Controls(pause_s=1800.0)
    opened: list[bool] = []
    tray = Tray(controls, open_report=lambda: opened.append(True))
    try:
        assert tray.start() is None
        assert desktop.watcher is not None
        assert len(desktop.watcher.items) == 1
        item = desktop.watcher.items[0]
        pixmaps = desktop.item_property(item, "IconPixmap")
        assert [(w, h) for w, h, _ in pixmaps] == [(px, px) for px in ICON_SIZES_PX]
        assert all(len(data) == 4 * w * h for w, h, data in pixmaps)
        assert desktop.item_property(item, "ToolTip")[3] == "starting"

        tray.show(TrayState.SLOUCHED)
        wait_for(lambda: desktop.item_property(item, "ToolTip")[3] == "slouched", 5, "the state")
        assert desktop.item_property(item, "IconPixmap") != pixmaps
        entries = _entries(desktop.menu_layout(item))
        assert entries["Coach: slouched"][1]["enabled"] is False
        assert entries["Resume now"][1]["enabled"] is False

        desktop.click(item, entries["Snooze prompts"][0])
        desktop.click(item, entries["Start a cat-cow set"][0])
        desktop.click(item, entries["Start a lateral-flexion set"][0])
        desktop.click(item, entries["Calibrate (sit tall)"][0])
        assert controls.drain() == [
            Command.SNOOZE,
            Command.START_CAT_COW,
            Command.START_LATERAL_FLEXION,
            Command.CALIBRATE,
        ]
        pause = _entries(entries["Pause for a meeting (camera off)"][2])
        assert list(pause) == ["15 min", "30 min", "60 min"]
        desktop.click(item, pause["30 min"][0])
        assert controls.pause_for_s == 1800
        assert controls.drain() == [Command.PAUSE]

        tray.show(TrayState.PAUSED)
        wait_for(lambda: "paused" in desktop.item_property(item, "ToolTip")[3], 5, "paused")
        entries = _entries(desktop.menu_layout(item))
        desktop.click(item, entries["Resume now"][0])
        assert controls.resuming() and controls.drain() == [Command.RESUME]
        desktop.click(item, entries["Open today's report"][0])
        assert opened == [True]
        assert not controls.quit
        desktop.click(item, entries["Quit"][0])
        assert controls.quit
    finally:
        tray.stop()


def test_without_a_tray_host_the_tray_says_why(tmp_path: Path, monkeypatch) -> None:
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        services = DesktopServices(address, watcher=False)
        tray = Tray(Controls(pause_s=60.0), open_report=lambda: None)
        try:
            problem = tray.start()
        finally:
            tray.stop()
            services.close()
    assert problem is not None
    assert "StatusNotifierWatcher" in problem


def test_without_a_session_bus_the_tray_says_why(monkeypatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    problem = Tray(Controls(pause_s=60.0), open_report=lambda: None).start()
    assert problem is not None
    assert "session bus" in problem


@pytest.mark.slow
def test_coach_start_lives_in_the_tray_pauses_and_quits_from_its_menu(tmp_path: Path) -> None:
    camera = SteadyCamera()
    db = tmp_path / "coach.sqlite3"
    with private_bus(tmp_path) as address:
        services = DesktopServices(address)
        proc = start_coach(
            tmp_path,
            "start",
            camera.url,
            "--db",
            str(db),
            env={"DBUS_SESSION_BUS_ADDRESS": address},
        )
        try:
            assert services.watcher is not None
            wait_for(lambda: services.watcher.items or proc.poll() is not None, 60, "the icon")
            assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
            item = services.watcher.items[0]

            def tooltip() -> str:
                return services.item_property(item, "ToolTip")[3]

            wait_for(lambda: tooltip() != "starting", 60, "the first snapshot")
            entries = _entries(services.menu_layout(item))
            pause = _entries(entries["Pause for a meeting (camera off)"][2])
            services.click(item, pause["15 min"][0])
            wait_for(lambda: "paused" in tooltip(), 20, "the paused icon")
            entries = _entries(services.menu_layout(item))
            assert entries["Resume now"][1]["enabled"] is True
            services.click(item, entries["Quit"][0])
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            services.close()
            camera.close()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "coach runs in the tray" in stderr
    log = tmp_path / "xdg_state_home" / "coach" / "log" / "coach.log"
    assert "Paused (meeting mode): camera released" in log.read_text()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1


@pytest.mark.slow
def test_coach_start_without_a_tray_host_says_so_and_shows_the_terminal_view(
    tmp_path: Path,
) -> None:
    camera = SteadyCamera()
    with private_bus(tmp_path) as address:
        services = DesktopServices(address, watcher=False)
        try:
            proc = start_coach(
                tmp_path,
                "start",
                camera.url,
                "--no-history",
                "--max-seconds",
                "2",
                env={"DBUS_SESSION_BUS_ADDRESS": address},
            )
            assert proc.wait(timeout=60) == 0
        finally:
            services.close()
            camera.close()
    stderr = (tmp_path / "stderr.txt").read_text()
    lines = [line for line in stderr.splitlines() if "No tray icon" in line]
    assert len(lines) == 1, stderr
    assert "StatusNotifierWatcher" in lines[0]
    assert "Done:" in stderr  # the terminal view's closing line
