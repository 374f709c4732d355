"""The desktop watcher against logind and screensaver stand-ins on private D-Bus buses: each
lock and sleep signal reaches `on_change` within 1 s, the sleep-delay inhibitor is held while
awake and let go once the camera is released, and missing buses or services are left out."""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach.desktop.session_signals import (
    LOGIND_SESSION,
    LOGIND_SLEEP,
    NO_SCREENSAVER_YET,
    DesktopWatcher,
)
from coach.records import Hold
from tests.desktop_bus import DesktopBus, desktop_services

WITHIN_S = 1.0
NO_BUS = "unix:path=/nonexistent/coach-test-bus"


class Changes:
    """Records on_change calls (and the thread they came on) for the test to wait on."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[Hold, bool]] = queue.Queue()
        self.threads: set[str] = set()

    def __call__(self, hold: Hold, held: bool) -> None:
        self.threads.add(threading.current_thread().name)
        self.calls.put((hold, held))

    def next(self, timeout_s: float = WITHIN_S) -> tuple[Hold, bool]:
        return self.calls.get(timeout=timeout_s)

    def none_within(self, timeout_s: float = 0.3) -> bool:
        try:
            extra = self.calls.get(timeout=timeout_s)
        except queue.Empty:
            return True
        pytest.fail(f"an unexpected change: {extra}")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[DesktopBus]:
    with desktop_services(tmp_path) as services:
        yield services


def _watch(env: dict[str, str], changes: Changes) -> tuple[DesktopWatcher, list[str]]:
    watcher = DesktopWatcher(changes, env=env, timeout_s=2.0)
    return watcher, watcher.start()


@pytest.fixture
def watched(desk: DesktopBus) -> Iterator[tuple[DesktopBus, Changes, list[str]]]:
    changes = Changes()
    watcher, names = _watch(desk.env, changes)
    try:
        yield desk, changes, names
    finally:
        watcher.stop()


def test_it_listens_to_logind_and_the_running_screensavers(watched):
    _desk, changes, names = watched
    assert names == [
        LOGIND_SLEEP,
        LOGIND_SESSION,
        "org.freedesktop.ScreenSaver",
        "org.gnome.ScreenSaver",
    ]
    assert changes.none_within()


def test_logind_lock_and_unlock_signals(watched, caplog):
    desk, changes, _names = watched
    with caplog.at_level(logging.INFO, logger="coach.desktop"):
        desk.lock(hint=False)
        assert changes.next() == (Hold.LOCKED, True)
        desk.unlock(hint=False)
        assert changes.next() == (Hold.LOCKED, False)
    assert changes.threads == {"coach-desktop-signals"}
    said = [r.getMessage() for r in caplog.records if r.name == "coach.desktop"]
    assert said == [f"screen locked ({LOGIND_SESSION})", "screen unlocked"]


def test_the_locked_hint_alone_locks_and_unlocks(watched):
    desk, changes, _names = watched
    desk.locked_hint(True)
    assert changes.next() == (Hold.LOCKED, True)
    desk.locked_hint(False)
    assert changes.next() == (Hold.LOCKED, False)


def test_lock_then_its_hint_is_one_change_each_way(watched):
    desk, changes, _names = watched
    desk.lock()  # Lock() and LockedHint=true
    assert changes.next() == (Hold.LOCKED, True)
    assert changes.none_within()
    desk.unlock()
    assert changes.next() == (Hold.LOCKED, False)
    assert changes.none_within()


@pytest.mark.parametrize("service", ["gnome", "freedesktop"])
def test_a_screensaver_turning_on_and_off(watched, service, caplog):
    desk, changes, _names = watched
    with caplog.at_level(logging.INFO, logger="coach.desktop"):
        started = time.monotonic()
        desk.screensaver_active(True, service=service)
        assert changes.next() == (Hold.LOCKED, True)
        desk.screensaver_active(False, service=service)
        assert changes.next() == (Hold.LOCKED, False)
        assert time.monotonic() - started < 2 * WITHIN_S
    name = {"gnome": "org.gnome.ScreenSaver", "freedesktop": "org.freedesktop.ScreenSaver"}
    assert f"screen locked ({name[service]})" in caplog.messages


def test_unlocked_only_when_every_locker_lets_go_or_logind_unlocks(watched):
    desk, changes, _names = watched
    desk.screensaver_active(True, service="gnome")
    assert changes.next() == (Hold.LOCKED, True)
    desk.screensaver_active(True, service="freedesktop")
    desk.screensaver_active(False, service="freedesktop")
    assert changes.none_within()  # GNOME's screensaver still holds it
    desk.screensaver_active(False, service="gnome")
    assert changes.next() == (Hold.LOCKED, False)

    desk.screensaver_active(True, service="gnome")
    # Seen before logind speaks: the screensaver is on the session bus and logind on the
    # system bus, and nothing orders signals across two buses.
    assert changes.next() == (Hold.LOCKED, True)
    desk.locked_hint(True)
    assert changes.none_within()  # locked already
    desk.unlock()  # logind says the session is unlocked: that is for everyone
    assert changes.next() == (Hold.LOCKED, False)
    assert changes.none_within()


def test_a_locker_leaving_the_bus_lets_go(watched):
    desk, changes, _names = watched
    desk.screensaver_active(True, service="gnome")
    assert changes.next() == (Hold.LOCKED, True)
    desk.stop_screensaver("gnome")
    assert changes.next() == (Hold.LOCKED, False)


def test_the_sleep_inhibitor_is_held_awake_and_let_go_once_the_camera_is_released(desk, caplog):
    seen_during: list[int] = []
    returned_s: list[float] = []
    calls: queue.Queue[tuple[Hold, bool]] = queue.Queue()

    def release_camera(hold: Hold, held: bool) -> None:
        if hold is Hold.ASLEEP and held:
            seen_during.append(desk.inhibitors_open())  # logind must still be waiting
            time.sleep(0.3)
            returned_s.append(time.monotonic())
        calls.put((hold, held))

    watcher = DesktopWatcher(release_camera, env=desk.env)
    watcher.start()
    try:
        assert desk.inhibitors_open() == 1
        (first,) = desk.inhibitors
        assert (first.what, first.who, first.mode) == ("sleep", "coach", "delay")
        with caplog.at_level(logging.INFO, logger="coach.desktop"):
            asked_s = time.monotonic()
            desk.prepare_for_sleep(True)
            assert calls.get(timeout=WITHIN_S) == (Hold.ASLEEP, True)
            _wait_for(lambda: desk.inhibitors_open() == 0)
            assert seen_during == [1]
            closed_s = desk.inhibitors[0].closed_s
            assert closed_s is not None and returned_s[0] <= closed_s < asked_s + WITHIN_S

            desk.prepare_for_sleep(False)
            assert calls.get(timeout=WITHIN_S) == (Hold.ASLEEP, False)
            _wait_for(lambda: desk.inhibitors_open() == 1)
        assert len(desk.inhibitors) == 2
        assert [m for m in caplog.messages if "sleep" in m] == [
            "going to sleep",
            "resumed from sleep",
        ]
    finally:
        watcher.stop()
    _wait_for(lambda: desk.inhibitors_open() == 0)


def test_a_failing_callback_still_lets_sleep_go_on(desk):
    def broken(hold: Hold, held: bool) -> None:
        raise RuntimeError("camera stuck")

    watcher = DesktopWatcher(broken, env=desk.env)
    watcher.start()
    try:
        _wait_for(lambda: desk.inhibitors_open() == 1)
        desk.prepare_for_sleep(True)
        _wait_for(lambda: desk.inhibitors_open() == 0)
    finally:
        watcher.stop()


def test_a_coach_started_while_locked_knows_at_start(desk):
    desk.locked_hint(True)
    changes = Changes()
    watcher, _names = _watch(desk.env, changes)
    try:
        assert changes.calls.get_nowait() == (Hold.LOCKED, True)  # before start() returned
        desk.unlock()
        assert changes.next() == (Hold.LOCKED, False)
    finally:
        watcher.stop()


def test_an_active_screensaver_at_start_holds_the_lock(desk):
    desk.screensaver_active(True, service="freedesktop")
    changes = Changes()
    watcher, _names = _watch(desk.env, changes)
    try:
        assert changes.calls.get_nowait() == (Hold.LOCKED, True)
        desk.screensaver_active(False, service="freedesktop")
        assert changes.next() == (Hold.LOCKED, False)
    finally:
        watcher.stop()


def test_no_buses_at_all_starts_and_listens_to_nothing():
    changes = Changes()
    watcher, names = _watch({"DBUS_SYSTEM_BUS_ADDRESS": NO_BUS}, changes)
    watcher.stop()
    assert names == []


def test_no_system_bus_and_no_screensaver_yet_then_one_starts(tmp_path):
    with desktop_services(tmp_path, screensavers=(), logind=False) as desk:
        changes = Changes()
        env = {**desk.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_BUS}
        watcher, names = _watch(env, changes)
        try:
            assert names == [NO_SCREENSAVER_YET]
            desk.start_screensaver("gnome")
            desk.screensaver_active(True, service="gnome")
            assert changes.next() == (Hold.LOCKED, True)
            desk.start_screensaver("mate")
            desk.screensaver_active(True, service="mate")
            desk.screensaver_active(False, service="gnome")
            assert changes.none_within()
            desk.screensaver_active(False, service="mate")
            assert changes.next() == (Hold.LOCKED, False)
        finally:
            watcher.stop()


def test_a_system_bus_without_logind(tmp_path):
    with desktop_services(tmp_path, logind=False) as desk:
        watcher, names = _watch(desk.env, Changes())
        watcher.stop()
    assert names == ["org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver"]


@pytest.mark.parametrize("by_id", [True, False], ids=["XDG_SESSION_ID", "session-auto"])
def test_a_process_outside_the_session_finds_it_by_id_or_auto(tmp_path, by_id):
    with desktop_services(tmp_path, session_by_pid=False) as desk:  # as under systemd --user
        env = desk.env if by_id else {k: v for k, v in desk.env.items() if k != "XDG_SESSION_ID"}
        changes = Changes()
        watcher, names = _watch(env, changes)
        try:
            assert LOGIND_SESSION in names
            desk.lock(hint=False)
            assert changes.next() == (Hold.LOCKED, True)
        finally:
            watcher.stop()


def _wait_for(condition, timeout_s: float = WITHIN_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.02)


CHILD = """
import sys, time
from coach.desktop.session_signals import DesktopWatcher
watcher = DesktopWatcher(lambda hold, held: print(hold.value, held, flush=True))
print(*watcher.start(), sep=";", flush=True)
sys.stdin.readline()
watcher.stop()
"""


def test_a_coach_in_another_process_hears_the_stand_ins_through_their_env(desk):
    env = {**os.environ, **desk.env}
    with subprocess.Popen(
        [sys.executable, "-c", CHILD],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline().strip().split(";")[:2] == [LOGIND_SLEEP, LOGIND_SESSION]
        assert desk.inhibitors_open() == 1
        desk.screensaver_active(True, service="gnome")
        assert child.stdout.readline() == "locked True\n"
        desk.prepare_for_sleep(True)
        assert child.stdout.readline() == "asleep True\n"
        _wait_for(lambda: desk.inhibitors_open() == 0)
        child.stdin.write("\n")
        child.stdin.close()
        assert child.wait(timeout=10) == 0
