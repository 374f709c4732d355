"""The tray's Settings menu: a choice is saved as `coach config set` saves it, and the running
coach applies it at once (the analyzer's hold time and working hours, the nudge's style)."""

from __future__ import annotations

import datetime as dt
import functools
import subprocess
from pathlib import Path

import numpy as np
import pytest

from coach.actions.controls import Controls
from coach.actions.notify import NotifyButton, NudgeAnnouncer
from coach.actions.tray_settings import SettingsMenu
from coach.actions.tray_sni import MenuEntry
from coach.analyzer import Analyzer
from coach.config import Config, NudgeStyle, load_config
from coach.config.editing import set_setting
from coach.config.user_file import load_settings, user_config_path
from coach.live_stage import LiveStage
from coach.movements import load_library
from coach.records import Command, Reason, Snapshot
from coach.source import parse_source
from coach.source.cameras import list_cameras
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample
from tests.dbus_session import DesktopServices, private_bus
from tests.mjpeg_camera import COACH, SteadyCamera, private_env, start_coach, wait_for
from tests.test_cameras import C270, roots  # noqa: F401 (the fake /sys and /dev fixture)
from tests.test_tray import _entries

FPS = 5.0
UPRIGHT = BodyPose()
SLOUCHED = BodyPose(forward_head_m=0.05, rounding=0.6)
MONDAY_3AM = dt.datetime(2026, 12, 7, 3, 0).astimezone()


def _children(entry: MenuEntry) -> dict[str, MenuEntry]:
    return {child.label: child for child in entry.children}


def _submenu(menu: SettingsMenu, title: str) -> dict[str, MenuEntry]:
    return _children(_children(menu.entry(lambda: None))[title])


def _menu(controls: Controls, **kwargs) -> SettingsMenu:
    return SettingsMenu(controls, load_settings().config, lambda: load_settings().config, **kwargs)


def test_each_choice_is_saved_to_the_settings_file_and_asks_for_a_reload(roots) -> None:  # noqa: F811
    controls = Controls(pause_s=1800.0)
    redrawn: list[bool] = []
    menu = _menu(controls, cameras=functools.partial(list_cameras, roots))
    settings = _children(menu.entry(lambda: redrawn.append(True)))
    assert list(settings) == [
        "Sensitivity",
        "Nudge after slouching for",
        "Nudge style",
        "Camera",
        "Working hours (prompts)",
    ]
    hold = _children(settings["Nudge after slouching for"])
    assert list(hold) == ["30 s", "45 s", "1 min", "2 min"]
    assert [e.checked for e in hold.values()] == [False, True, False, False]
    assert all(e.radio for e in hold.values())
    hold["1 min"].on_click()  # type: ignore[misc]
    assert load_config(user_config_path()).nudge.hold_s == 60
    assert controls.drain() == [Command.RELOAD_CONFIG] and redrawn == [True]
    assert _submenu(menu, "Nudge after slouching for")["1 min"].checked

    style = _submenu(menu, "Nudge style")
    assert list(style) == ["Notification", "Glow", "Chime"]
    assert not style["Notification"].radio and style["Notification"].checked
    assert not style["Notification"].enabled  # the only style: it cannot be taken away
    style["Glow"].on_click()  # type: ignore[misc]
    _submenu(menu, "Nudge style")["Notification"].on_click()  # type: ignore[misc]
    assert load_config(user_config_path()).nudge.style == (NudgeStyle.GLOW,)

    camera = _submenu(menu, "Camera")
    assert list(camera) == ["HD Webcam C270 (video0)", "Integrated Camera: Integrated C (video2)"]
    camera["HD Webcam C270 (video0)"].on_click()  # type: ignore[misc]
    assert load_config(user_config_path()).source.camera == C270  # its identity, not its index

    hours = _submenu(menu, "Working hours (prompts)")
    assert list(hours) == ["Always", "08:00-18:00", "09:00-17:00", "08:00-19:00"]  # + the current
    hours["09:00-17:00"].on_click()  # type: ignore[misc]
    config = load_config(user_config_path())
    assert config.prompts.working_hours == "09:00-17:00"
    assert config.nudge.hold_s == 60  # the earlier choices are all kept
    assert controls.drain() == [Command.RELOAD_CONFIG] * 4


def test_a_choice_a_config_file_overrides_is_saved_and_said(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text("[nudge]\nhold_s = 90\n")
    said: list[str] = []
    menu = SettingsMenu(
        Controls(pause_s=1800.0),
        load_settings(extra).config,
        lambda: load_settings(extra).config,
        cameras=list,
        on_error=said.append,
    )
    _submenu(menu, "Nudge after slouching for")["30 s"].on_click()  # type: ignore[misc]
    assert load_config(user_config_path()).nudge.hold_s == 30
    assert said and "a --config file sets it too and wins" in said[0]
    assert list(_submenu(menu, "Camera")) == ["none found"]


class _Coach:
    """A running coach's live stage on synthetic poses at FPS, its clock at 03:00 on a Monday;
    the tray's commands are taken before each sample, as the loop does."""

    def __init__(self, controls: Controls) -> None:
        library = load_library()
        self.reloaded: list[Config] = []

        def reload() -> Config:
            self.reloaded.append(load_settings().config)
            return self.reloaded[-1]

        def clock(t_s: float) -> dt.datetime:
            return MONDAY_3AM + dt.timedelta(seconds=t_s)

        config = load_settings().config
        analyzer = Analyzer(config, library, calibrate_s=3.0, clock=clock)
        self.stage = LiveStage(analyzer, lambda: analyzer, lambda *_: None, reload_config=reload)
        self._controls = controls
        self._rng = np.random.default_rng(0)
        self.t_s = 0.0

    def sit(self, body: BodyPose, seconds: float) -> list[Snapshot]:
        out = []
        for _ in range(int(seconds * FPS)):
            for command in self._controls.drain():
                self.stage.command(command)
            pose = synthetic_pose(body, Camera(), noise_px=0.5, rng=self._rng)
            out.append(self.stage.update(synthetic_sample(pose, self.t_s)))
            self.t_s += 1.0 / FPS
        return out


def _nudges(snapshots: list[Snapshot]) -> list[float]:
    return [
        s.t_s for s in snapshots if s.nudge is not None and s.nudge.reason is not Reason.STATIONARY
    ]


def test_working_hours_and_hold_time_chosen_in_the_tray_apply_at_once() -> None:
    controls = Controls(pause_s=1800.0)
    menu = _menu(controls, cameras=list)
    coach = _Coach(controls)
    coach.sit(UPRIGHT, 6.0)  # calibrated
    # 03:00 is outside the default working hours (08:00-19:00): a long slouch, no nudge.
    assert _nudges(coach.sit(SLOUCHED, 60.0)) == []
    _submenu(menu, "Working hours (prompts)")["Always"].on_click()  # type: ignore[misc]
    # The slouch goes on: the nudge it has long earned comes at the next sample.
    assert _nudges(coach.sit(SLOUCHED, 1.0)) == [pytest.approx(66.0)]
    _submenu(menu, "Nudge after slouching for")["30 s"].on_click()  # type: ignore[misc]
    coach.sit(UPRIGHT, 300.0)  # the prompts' cooldown
    assert len(coach.reloaded) == 2  # both reached the running coach
    started_s = coach.t_s
    nudges = _nudges(coach.sit(SLOUCHED, 50.0))
    assert len(nudges) == 1
    # The new hold time (30 s, not 45 s) after the slouch is confirmed (a few seconds).
    assert 30.0 <= nudges[0] - started_s < 38.0


class _Recorded:
    """A notifier that keeps what it was asked to show."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def notify(
        self,
        title: str,
        message: str,
        buttons: tuple[NotifyButton, ...] = (),
        tag: str | None = None,
    ) -> None:
        self.shown.append(title)

    def withdraw(self, tag: str) -> None:
        """Nothing shown stays."""

    def close(self) -> None:
        """Nothing to release."""


def test_the_nudge_style_reaches_the_announcer_of_a_running_coach() -> None:
    controls = Controls(pause_s=1800.0)
    set_setting(user_config_path(), "prompts.working_hours", "")
    set_setting(user_config_path(), "nudge.style", "glow")
    menu = _menu(controls, cameras=list)
    coach = _Coach(controls)
    notifier = _Recorded()
    announcer = NudgeAnnouncer(notifier, None, style=load_settings().config.nudge.style)
    coach.sit(UPRIGHT, 6.0)
    for snapshot in coach.sit(SLOUCHED, 55.0):
        announcer.update(snapshot, None)
    assert notifier.shown == []  # a glow only: no notification
    _submenu(menu, "Nudge style")["Notification"].on_click()  # type: ignore[misc]
    coach.sit(UPRIGHT, 1.0)
    announcer.reconfigure(coach.reloaded[-1].nudge)  # what the session tells its listeners
    coach.sit(UPRIGHT, 300.0)  # past the cooldown
    for snapshot in coach.sit(SLOUCHED, 55.0):
        announcer.update(snapshot, None)
    assert len(notifier.shown) == 1


def test_coach_start_saves_and_applies_a_setting_chosen_in_its_tray(tmp_path: Path) -> None:
    camera = SteadyCamera()
    config_file = tmp_path / "xdg_config_home" / "coach" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text("# my settings\n[nudge]\nhold_s = 45\n")
    with private_bus(tmp_path) as address:
        services = DesktopServices(address)
        proc = start_coach(
            tmp_path, "start", camera.url, "--no-history", env={"DBUS_SESSION_BUS_ADDRESS": address}
        )
        log = tmp_path / "xdg_state_home" / "coach" / "log" / "coach.log"
        try:
            assert services.watcher is not None
            wait_for(lambda: services.watcher.items or proc.poll() is not None, 60, "the icon")
            assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
            item = services.watcher.items[0]
            wait_for(lambda: services.item_property(item, "ToolTip")[3] != "starting", 60, "a look")
            settings = _entries(_entries(services.menu_layout(item))["Settings"][2])
            hold = _entries(settings["Nudge after slouching for"][2])
            assert hold["45 s"][1]["toggle-state"] == 1
            services.click(item, hold["2 min"][0])
            wait_for(lambda: "Settings applied." in log.read_text(), 30, "the reload")
            settings = _entries(_entries(services.menu_layout(item))["Settings"][2])
            hold = _entries(settings["Nudge after slouching for"][2])
            assert hold["2 min"][1]["toggle-state"] == 1
            assert hold["45 s"][1]["toggle-state"] == 0
            # `coach config set` in a terminal asks the running coach to apply it too.
            told = subprocess.run(
                [*COACH, "config", "set", "prompts.working_hours", "09:00-17:00"],
                env={**private_env(tmp_path), "DBUS_SESSION_BUS_ADDRESS": address},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert told.returncode == 0, told.stderr
            assert told.stdout.strip().endswith("; the running coach applies it now")
            wait_for(lambda: log.read_text().count("Settings applied.") == 2, 30, "the reload")
            hours = _entries(
                _entries(_entries(services.menu_layout(item))["Settings"][2])[
                    "Working hours (prompts)"
                ][2]
            )
            assert hours["09:00-17:00"][1]["toggle-state"] == 1
            services.click(item, _entries(services.menu_layout(item))["Quit"][0])
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            services.close()
            camera.close()
    text = config_file.read_text()
    assert text.startswith("# my settings") and "hold_s = 120" in text


def test_a_camera_chosen_in_the_tray_is_opened_in_place_of_the_missing_one(roots) -> None:  # noqa: F811
    """A live session waiting for its camera (not connected) switches to the one chosen in
    the Settings menu at once, without a frame; here neither is connected, so the keeper
    then says the new one is missing."""
    import io
    import threading

    from rich.console import Console

    from coach.session import Session
    from coach.session_options import Mode, SessionOptions
    from tests.conftest import MODEL

    set_setting(user_config_path(), "source.camera", "camera:Old Cam")
    controls = Controls(pause_s=1800.0)
    menu = _menu(controls, cameras=functools.partial(list_cameras, roots))
    out = io.StringIO()
    statuses: list[str] = []
    session = Session(
        SessionOptions(Mode.RUN, "camera:Old Cam", model=MODEL),
        load_settings().config,
        load_library(),
        Console(file=out, width=200),
        reload_config=lambda: load_settings().config,
    )
    session.status_listeners.append(lambda status: statuses.append(status.detail))
    runner = threading.Thread(
        target=session.run, args=(lambda _opened: [],), kwargs={"controls": controls}
    )
    runner.start()
    try:
        wait_for(lambda: any("'Old Cam' is not connected" in s for s in statuses), 30, "no camera")
        camera = _submenu(menu, "Camera")
        assert camera["Old Cam (not connected)"].checked
        camera["HD Webcam C270 (video0)"].on_click()  # type: ignore[misc]
        wait_for(lambda: f"Switching to camera {C270}" in out.getvalue(), 10, "the switch")
        assert session.spec == parse_source(C270)
        assert "Settings applied." in out.getvalue()
    finally:
        controls.push(Command.QUIT)
        runner.join(timeout=30)
    assert not runner.is_alive()
