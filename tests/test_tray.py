"""The tray: icons told apart by shape, and the StatusNotifierItem and its menu on a real D-Bus."""

from __future__ import annotations

import dataclasses
import gc
import itertools
import re
import sqlite3
import time
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image

from coach.actions.controls import Controls
from coach.actions.notify import CALIBRATED_TITLE, DesktopNotifier, NudgeAnnouncer
from coach.actions.tray import ICON_SIZES_PX, Tray, TrayStatus, state_of
from coach.actions.tray_icons import TrayState, draw_app_icon, draw_icon
from coach.analyzer import Analyzer
from coach.config import Config, StationaryConfig
from coach.desktop.icon import icon_path
from coach.live_stage import LiveStage
from coach.movements import load_library
from coach.records import (
    Command,
    Condition,
    LiveStatus,
    Outcome,
    PromptResolved,
    SetCompleted,
    Snapshot,
)
from testkit.synthetic import BodyPose, Camera, synthetic_pose, synthetic_sample
from tests.dbus_session import DesktopServices, private_bus
from tests.mjpeg_camera import SteadyCamera, start_coach, wait_for
from tests.test_exercise import cat_cow_body


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


# A set and a calibration from the tray, on synthetic poses through the live stage, the tray on
# a real bus and the real notifier: what a user without a dashboard sees.

FPS = 15.0
CALIBRATE_S = 3.0


class _Live:
    """The live stage fed synthetic poses at FPS, its snapshots handed to the tray's sinks;
    the commands the tray's menu queued are taken before each sample, as the loop does."""

    def __init__(self, controls: Controls, sinks, config: Config | None = None) -> None:
        config = config or Config()
        library = load_library()
        self.saved: list[Analyzer] = []
        self.stage = LiveStage(
            Analyzer(config, library, calibrate_s=CALIBRATE_S),
            lambda: Analyzer(config, library, calibrate_s=CALIBRATE_S),
            lambda analyzer, _sample: self.saved.append(analyzer),
        )
        self._controls = controls
        self._sinks = sinks
        self._rng = np.random.default_rng(0)
        self.t_s = 0.0

    def feed(self, body: BodyPose) -> Snapshot:
        for command in self._controls.drain():
            self.stage.command(command)
        pose = synthetic_pose(body, Camera(), noise_px=0.5, rng=self._rng)
        snapshot = self.stage.update(synthetic_sample(pose, self.t_s))
        for sink in self._sinks:
            sink.update(snapshot, None)
        self.t_s += 1.0 / FPS
        return snapshot


def _seconds_left(tooltip: str) -> int | None:
    found = re.fullmatch(r"calibrating: sit tall, (\d+) s left", tooltip)
    return int(found[1]) if found else None


def _calibrate(live: _Live, tooltip) -> list[int]:
    """Sit tall until calibrated; the countdowns the tray showed on the way."""
    shown: list[int] = []
    for _ in range(int(3 * CALIBRATE_S * FPS)):
        snapshot = live.feed(BodyPose())
        if snapshot.calibrating is None:
            return shown
        left = _seconds_left(tooltip())
        if left is not None and (not shown or shown[-1] != left):
            shown.append(left)
    raise AssertionError("the calibration never ended")


# desktop-notifier has no close: its bus connection is let go with the notifier (collected
# here, so the warning about its socket is this test's, not the next one's).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_set_and_a_calibration_from_the_tray_show_their_count_countdown_and_summary(desktop):
    controls = Controls(pause_s=1800.0)
    tray = Tray(controls, open_report=lambda: None)
    announcer = NudgeAnnouncer(DesktopNotifier(), chime=None, summaries=True)
    received = desktop.notifications.received
    live = _Live(controls, [TrayStatus(tray), announcer])
    try:
        assert tray.start() is None
        item = desktop.watcher.items[0]

        def tooltip() -> str:
            return desktop.item_property(item, "ToolTip")[3]

        def menu_label() -> str:
            return next(iter(_entries(desktop.menu_layout(item))))

        # The first calibration (no profile yet) counts down, then a notification confirms it.
        countdown = _calibrate(live, tooltip)
        assert countdown and countdown[0] <= CALIBRATE_S and countdown == sorted(countdown)[::-1]
        wait_for(lambda: received, 10, "the calibration's confirmation")
        assert [n.title for n in received] == [CALIBRATED_TITLE]
        for _ in range(int(2 * FPS)):
            live.feed(BodyPose())
        wait_for(lambda: tooltip() == "upright", 10, "upright")

        # Calibrate from the tray's menu: the same countdown, a second confirmation.
        desktop.click(item, _entries(desktop.menu_layout(item))["Calibrate (sit tall)"][0])
        countdown = _calibrate(live, tooltip)
        assert len(countdown) >= 2 and countdown == sorted(countdown)[::-1], countdown
        assert live.saved, "the new neutral is kept"
        wait_for(lambda: len(received) == 2, 10, "the second confirmation")
        assert received[1].title == CALIBRATED_TITLE

        # A cat-cow set from the tray's menu: the count as each rep comes, then a summary.
        desktop.click(item, _entries(desktop.menu_layout(item))["Start a cat-cow set"][0])
        for _ in range(int(1 * FPS)):  # from the menu back to the chair
            live.feed(BodyPose())
        target = load_library().get("cat-cow").reps
        waiting = "cat-cow: counting starts when you do"
        wait_for(lambda: tooltip() == waiting, 10, "the set waiting for its first rep")
        assert menu_label() == f"Coach: {waiting}"
        counts: list[int] = []
        for i in range(int((target + 1) * 4.0 * FPS)):
            snapshot = live.feed(cat_cow_body(i / FPS))
            if snapshot.rep is not None and snapshot.counter is None:
                counts.append(target)  # the last rep ends the set: its summary says the count
            elif snapshot.rep is not None:
                n = snapshot.counter.reps
                shown = f"cat-cow: {n} of {target} reps"
                wait_for(lambda shown=shown: tooltip() == shown, 10, shown)
                assert menu_label() == f"Coach: {shown}"
                counts.append(n)
            if any(isinstance(e, SetCompleted) for e in snapshot.events):
                break
        else:
            for _ in range(int(40 * FPS)):  # the set ends once the user stops
                if any(isinstance(e, SetCompleted) for e in live.feed(BodyPose()).events):
                    break
        assert counts == list(range(1, target + 1)), counts
        wait_for(lambda: len(received) == 3, 10, "the set's summary")
        assert received[2].title == f"Set done: cat-cow, {target} reps"
        assert received[2].body  # the coaching: tempo, range
        live.feed(BodyPose())
        wait_for(lambda: tooltip() == "upright", 10, "the set over")
        icon = icon_path().as_uri()
        assert all(n.app_icon == icon and n.image_path == icon for n in received)
    finally:
        announcer.close()
        tray.stop()
        del announcer, live
        gc.collect()


def test_a_cat_cow_prompt_armed_or_snoozed_is_never_a_set_in_progress() -> None:
    config = dataclasses.replace(Config(), stationary=StationaryConfig(still_minutes=0.25))
    controls = Controls(pause_s=1800.0)
    live = _Live(controls, [], config)
    snapshots = [live.feed(BodyPose()) for _ in range(int(20 * FPS))]
    (prompted,) = [s for s in snapshots if s.nudge is not None]
    assert "cat-cow" in (prompted.nudge.movement, *prompted.nudge.extra_movements)
    # A counter is armed for the prompt (this is what the tray took for a set)...
    assert prompted.counter is not None and prompted.counter.prompt_id == prompted.nudge.prompt_id
    # ...but it is no set until a rep is counted.
    assert not prompted.counter.in_progress and not live.stage.analyzer.counting
    assert all(state_of(s) is not TrayState.SET for s in snapshots)
    controls.push(Command.SNOOZE)
    after = [live.feed(BodyPose()) for _ in range(int(30 * FPS))]
    assert any(
        isinstance(e, PromptResolved) and e.outcome is Outcome.SNOOZED for e in after[0].events
    )
    assert all(state_of(s) is not TrayState.SET for s in after)
    assert all(s.counter is None for s in after)  # snoozed: its set is no longer awaited
    # A set asked for from the tray is one at once.
    controls.push(Command.START_CAT_COW)
    started = live.feed(BodyPose())
    assert state_of(started) is TrayState.SET
    assert started.counter is not None and started.counter.prompt_id is None


def test_a_set_asked_for_while_a_prompt_waits_for_its_own_is_started() -> None:
    config = dataclasses.replace(Config(), stationary=StationaryConfig(still_minutes=0.25))
    controls = Controls(pause_s=1800.0)
    live = _Live(controls, [], config)
    for _ in range(int(20 * FPS)):
        live.feed(BodyPose())
    assert live.stage.analyzer.exercise.status is not None  # the prompt's counter waits
    controls.push(Command.START_LATERAL_FLEXION)
    snapshot = live.feed(BodyPose())
    assert snapshot.counter is not None and snapshot.counter.movement == "lateral-flexion"
    assert state_of(snapshot) is TrayState.SET


def test_the_live_condition_holds_the_tray_until_coaching_again(desktop) -> None:
    controls = Controls(pause_s=1800.0)
    tray = Tray(controls, open_report=lambda: None)
    try:
        assert tray.start() is None
        item = desktop.watcher.items[0]
        status = TrayStatus(tray)
        live = _Live(controls, [status])
        for _ in range(int((CALIBRATE_S + 2) * FPS)):
            live.feed(BodyPose())

        def shows(state: TrayState, tip: str) -> None:
            wait_for(lambda: tray.state is state, 10, f"the {state} icon")
            wait_for(lambda: desktop.item_property(item, "ToolTip")[3] == tip, 10, tip)

        shows(TrayState.UPRIGHT, "upright")
        upright_icon = desktop.item_property(item, "IconPixmap")
        expected = {
            Condition.NO_CAMERA: TrayState.NO_CAMERA,
            Condition.LOCKED: TrayState.PAUSED,
            Condition.ASLEEP: TrayState.PAUSED,
            Condition.PAUSED: TrayState.PAUSED,
        }
        assert set(expected) == set(Condition) - {Condition.COACHING}
        for condition, state in expected.items():
            detail = f"{condition.value}: the camera is released"
            status.status(LiveStatus(condition, detail, retry_in_s=5.0))
            shows(state, detail)
            if condition is not Condition.PAUSED:
                live.feed(BodyPose())  # a snapshot still in flight does not undo it
                time.sleep(0.3)
                assert desktop.item_property(item, "ToolTip")[3] == detail
            status.status(LiveStatus(Condition.COACHING, "coaching"))
            live.feed(BodyPose())
            shows(TrayState.UPRIGHT, "upright")
        assert desktop.item_property(item, "IconPixmap") == upright_icon
        # Meeting mode as the camera keeper tells it: the minutes left, until a snapshot.
        pause = "paused (meeting mode): camera released, resuming in 15 min"
        status.status(LiveStatus(Condition.PAUSED, pause))
        shows(TrayState.PAUSED, pause)
        assert _entries(desktop.menu_layout(item))["Resume now"][1]["enabled"] is True
        live.feed(BodyPose())
        shows(TrayState.UPRIGHT, "upright")
    finally:
        tray.stop()


def test_the_shipped_icon_is_the_coach_drawing_in_png_and_svg() -> None:
    shipped = Image.open(icon_path()).convert("RGBA")
    assert shipped.size == (128, 128)
    drawn = np.asarray(draw_app_icon(128)).astype(int)
    assert np.abs(np.asarray(shipped).astype(int) - drawn).mean() < 2.0
    svg = ElementTree.parse(icon_path("svg")).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox") == "0 0 100 100"
