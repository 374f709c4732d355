"""Provides the tray: an icon showing the state, a menu that queues commands for the loop."""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coach.actions.controls import Controls
from coach.actions.loop_thread import LoopThread
from coach.actions.tray_icons import TrayState, argb_pixmap, draw_icon
from coach.config import Config
from coach.records import (
    Activity,
    Command,
    Condition,
    Frame,
    LiveStatus,
    PostureState,
    Snapshot,
)

if TYPE_CHECKING:
    from dbus_fast.aio import MessageBus

    from coach.actions.tray_settings import SettingsMenu
    from coach.actions.tray_sni import DBusMenu, MenuEntry, StatusNotifierItem

PAUSE_MINUTES = (15, 30, 60)
ICON_SIZES_PX = (22, 32, 48)


@functools.cache
def _pixmaps(state: TrayState) -> list[tuple[int, int, bytes]]:
    """The state's icon at every size, drawn once (a tooltip that changes each second, as a
    countdown's, redraws nothing)."""
    return [argb_pixmap(draw_icon(state, px)) for px in ICON_SIZES_PX]


_STATE_WORDS = {
    TrayState.STARTING: "starting",
    TrayState.CALIBRATING: "calibrating: sit tall",
    TrayState.UPRIGHT: "upright",
    TrayState.SLOUCHED: "slouched",
    TrayState.AWAY: "away",
    TrayState.PAUSED: "paused (camera released)",
    TrayState.SET: "set in progress",
    TrayState.ERROR: "stopped by an error",
    TrayState.NO_CAMERA: "no camera",
}

# The icon for each condition other than coaching (then the snapshots decide).
_CONDITION_TRAY_STATES: dict[Condition, TrayState] = {
    Condition.PAUSED: TrayState.PAUSED,
    Condition.LOCKED: TrayState.PAUSED,
    Condition.ASLEEP: TrayState.PAUSED,
    Condition.NO_CAMERA: TrayState.NO_CAMERA,
}

# The tray state for each posture state; "unknown" (not measurable yet) shows as starting.
_POSTURE_TRAY_STATES: dict[PostureState, TrayState] = {
    PostureState.UPRIGHT: TrayState.UPRIGHT,
    PostureState.SLOUCHED: TrayState.SLOUCHED,
    PostureState.AWAY: TrayState.AWAY,
}


def state_of(snapshot: Snapshot) -> TrayState:
    """The tray state a snapshot shows: a set or calibration first, then pause, then posture."""
    if snapshot.calibrating is not None:
        return TrayState.CALIBRATING
    if snapshot.counter is not None and snapshot.counter.in_progress:
        return TrayState.SET
    if snapshot.paused_until_s is not None:
        return TrayState.PAUSED
    if snapshot.activity == Activity.AWAY:
        return TrayState.AWAY
    return _POSTURE_TRAY_STATES.get(snapshot.state, TrayState.STARTING)


def detail_of(snapshot: Snapshot, state: TrayState, countdown: _Countdown) -> str | None:
    """What the tooltip adds to the state's word: a set's count, calibration's seconds left."""
    counter = snapshot.counter
    if state is TrayState.SET and counter is not None:
        if not counter.started:
            return f"{counter.movement}: counting starts when you do"
        if counter.per_side is not None:
            count = ", ".join(f"{side} {n}" for side, n in sorted(counter.per_side.items()))
            goal = f" (of {counter.target_reps} each)" if counter.target_reps else ""
        else:
            count = f"{counter.reps}" + (
                f" of {counter.target_reps}" if counter.target_reps else ""
            )
            goal = " reps"
        unseen = " · cannot see you" if counter.paused else ""
        return f"{counter.movement}: {count}{goal}{unseen}"
    if state is TrayState.CALIBRATING and snapshot.calibrating is not None:
        left_s = countdown.left_s(snapshot.calibrating, snapshot.t_s)
        left = "" if left_s is None else f", {math.ceil(left_s)} s left"
        return f"calibrating: sit tall{left}"
    return None


class _Countdown:
    """Seconds left of a calibration, from its progress: the window is recorded at a
    steady (stream) rate, so two readings give its length without being told it."""

    def __init__(self) -> None:
        self._first: tuple[float, float] | None = None

    def left_s(self, progress: float, t_s: float) -> float | None:
        if self._first is None or progress < self._first[0]:
            self._first = (progress, t_s)  # a new calibration
        first_progress, first_t_s = self._first
        if progress <= first_progress:
            return None
        window_s = (t_s - first_t_s) / (progress - first_progress)
        return max(0.0, (1.0 - progress) * window_s)

    def reset(self) -> None:
        self._first = None


def menu_entries(
    controls: Controls,
    state: TrayState,
    open_report: Callable[[], None],
    detail: str | None = None,
    settings: MenuEntry | None = None,
) -> tuple[MenuEntry, ...]:
    """The tray menu; every entry but the report queues a command, as a key would.
    Its first line is the state, or `detail` (a set's count, calibration's countdown);
    `settings`: the Settings submenu (saved choices that queue RELOAD_CONFIG)."""
    from coach.actions.tray_sni import MenuEntry

    def push(command: Command, for_s: float | None = None) -> Callable[[], None]:
        return lambda: controls.push(command, for_s)

    pause = tuple(
        MenuEntry(f"{minutes} min", push(Command.PAUSE, minutes * 60.0))
        for minutes in PAUSE_MINUTES
    )
    paused = state is TrayState.PAUSED
    return (
        MenuEntry(f"Coach: {detail or _STATE_WORDS[state]}", enabled=False),
        MenuEntry(separator=True),
        MenuEntry("Pause for a meeting (camera off)", children=pause, enabled=not paused),
        MenuEntry("Resume now", push(Command.RESUME), enabled=paused),
        MenuEntry("Snooze prompts", push(Command.SNOOZE), enabled=not paused),
        MenuEntry(
            "I'm sitting fine (widen my upright range)",
            push(Command.SITTING_FINE),
            enabled=state is TrayState.SLOUCHED,
        ),
        MenuEntry(separator=True),
        MenuEntry("Start a cat-cow set", push(Command.START_CAT_COW), enabled=not paused),
        MenuEntry(
            "Start a lateral-flexion set", push(Command.START_LATERAL_FLEXION), enabled=not paused
        ),
        MenuEntry("Calibrate (sit tall)", push(Command.CALIBRATE), enabled=not paused),
        MenuEntry("Open today's report", open_report),
        *(() if settings is None else (settings,)),
        MenuEntry(separator=True),
        MenuEntry("Quit", push(Command.QUIT)),
    )


@dataclass(frozen=True)
class ErrorMenu:
    """What the tray shows after an error ended the session, until the user chooses."""

    message: str
    """One line: the tooltip, and the menu's first line."""
    retry: Callable[[], None]
    open_log: Callable[[], None]


def error_entries(controls: Controls, error: ErrorMenu) -> tuple[MenuEntry, ...]:
    """The menu in the ERROR state: try again, open the log, or quit."""
    from coach.actions.tray_sni import MenuEntry

    return (
        MenuEntry(f"Coach stopped: {error.message}", enabled=False),
        MenuEntry(separator=True),
        MenuEntry("Try again", error.retry),
        MenuEntry("Open the log", error.open_log),
        MenuEntry(separator=True),
        MenuEntry("Quit", lambda: controls.push(Command.QUIT)),
    )


class Tray:
    """The StatusNotifierItem on the session bus, served from its own thread and event loop.

    It talks to the session only through `controls` (the queue the keys use); `show` is
    safe to call from the frame loop.
    """

    def __init__(
        self,
        controls: Controls,
        open_report: Callable[[], None],
        settings: SettingsMenu | None = None,
    ) -> None:
        """`settings`: the Settings submenu (None: no such menu)."""
        self._controls = controls
        self._open_report = open_report
        self._settings = settings
        self._runner: LoopThread | None = None
        self._bus: MessageBus | None = None
        self._item: StatusNotifierItem | None = None
        self._menu: DBusMenu | None = None
        self._error: ErrorMenu | None = None
        self.state = TrayState.STARTING
        self.detail: str | None = None
        """What the tooltip and the menu's first line say beside the state (None: its word)."""
        self._wanted: tuple[TrayState, str | None] = (self.state, None)

    def start(self, timeout_s: float = 5.0) -> str | None:
        """Show the icon; returns why it cannot be shown (no tray host), or None."""
        if not sys.platform.startswith("linux"):
            return "the tray is only available on Linux so far"
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
        self._runner = LoopThread("coach-tray")
        future = self._runner.submit(self._connect())
        try:
            return future.result(timeout=timeout_s)
        except (OSError, concurrent.futures.TimeoutError) as exc:
            return f"the session bus did not answer ({exc or 'timed out'})"
        except Exception as exc:  # any D-Bus failure means: no tray; say why, run on
            return f"the tray host refused the icon ({exc})"

    async def _connect(self) -> str | None:
        from dbus_fast import BusType
        from dbus_fast.aio import MessageBus

        from coach.actions.tray_sni import ITEM_PATH, MENU_PATH, DBusMenu, StatusNotifierItem
        from coach.desktop.probe import (
            WATCHER,
            WATCHER_PATH,
            call,
            find_watcher,
            tray_host_problem,
        )

        bus = self._bus = await MessageBus(bus_type=BusType.SESSION).connect()
        problem = tray_host_problem(await find_watcher(bus))
        if problem is not None:
            return problem
        self._item = StatusNotifierItem("Posture coach")
        self._menu = DBusMenu(self._entries())
        self._draw()
        bus.export(ITEM_PATH, self._item)
        bus.export(MENU_PATH, self._menu)
        name = f"org.kde.StatusNotifierItem-{os.getpid()}-1"
        await bus.request_name(name)
        await call(bus, WATCHER, WATCHER_PATH, WATCHER, "RegisterStatusNotifierItem", "s", [name])
        return None

    def _entries(self) -> tuple[MenuEntry, ...]:
        if self.state is TrayState.ERROR and self._error is not None:
            return error_entries(self._controls, self._error)
        settings = None if self._settings is None else self._settings.entry(self._redraw_menu)
        return menu_entries(self._controls, self.state, self._open_report, self.detail, settings)

    def settings_applied(self, config: Config) -> None:
        """The running coach applied new settings (any thread): the Settings menu ticks them."""
        if self._settings is None:
            return
        self._settings.applied(config)
        if self._runner is not None and self._runner.loop.is_running():
            self._runner.loop.call_soon_threadsafe(self._redraw_menu)

    def _redraw_menu(self) -> None:
        """A setting changed (on the tray's thread, from a click): show the new ticks."""
        if self._menu is not None:
            self._menu.set_entries(self._entries())
            self._menu.LayoutUpdated()

    def _draw(self) -> None:
        assert self._item is not None
        self._item.pixmaps = _pixmaps(self.state)
        self._item.tooltip = self.detail or _STATE_WORDS[self.state]

    def show(self, state: TrayState, detail: str | None = None) -> None:
        """Show `state`, with `detail` as its tooltip (None: the state's word), from any
        thread; nothing is sent when neither changed."""
        if (state, detail) == self._wanted:
            return
        self._wanted = (state, detail)
        if self._runner is not None and self._runner.loop.is_running():
            self._runner.loop.call_soon_threadsafe(self._show, state, detail)

    def show_error(self, error: ErrorMenu) -> None:
        """Show the ERROR state, `error`'s message as its tooltip and its menu (any thread)."""
        self._error = error
        self.show(TrayState.ERROR, error.message)

    def _show(self, state: TrayState, detail: str | None) -> None:
        if self._item is None or self._menu is None:
            return
        if (state, detail) == (self.state, self.detail):
            return
        new_icon = state is not self.state
        self.state, self.detail = state, detail
        self._draw()
        if new_icon:
            self._item.NewIcon()
        self._item.NewToolTip()
        self._menu.set_entries(self._entries())
        self._menu.LayoutUpdated()

    def stop(self) -> None:
        """Take the icon down and end the thread."""
        if self._runner is None:
            return
        if self._bus is not None:
            bus = self._bus

            async def disconnect() -> None:
                bus.disconnect()
                await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]

            with contextlib.suppress(Exception):  # going away anyway
                self._runner.submit(disconnect()).result(2.0)
        self._runner.stop()


class TrayStatus:
    """Sink that shows each snapshot's state in the tray, with a set's count and a
    calibration's countdown; and the live coach's condition, when no snapshot comes.

    While the condition is not coaching, snapshots do not change the tray: a snapshot
    still in flight must not show "upright" over "no camera". A pause is the exception:
    the snapshots know it (meeting mode lives on stream time), so the first one after it
    ends the paused view by itself.
    """

    def __init__(self, tray: Tray) -> None:
        self._tray = tray
        self._condition = Condition.COACHING
        self._countdown = _Countdown()

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        """Show the state at this snapshot (unless a condition holds the tray)."""
        if self._condition is Condition.PAUSED:
            self._condition = Condition.COACHING
        if self._condition is not Condition.COACHING:
            return
        state = state_of(snapshot)
        if state is not TrayState.CALIBRATING:
            self._countdown.reset()
        self._tray.show(state, detail_of(snapshot, state, self._countdown))

    def status(self, status: LiveStatus) -> None:
        """The live coach's condition changed: NO_CAMERA shows the no-camera icon, PAUSED,
        LOCKED and ASLEEP the paused one, each with `status.detail` as the tooltip;
        COACHING hands the tray back to the snapshots (the next one redraws it)."""
        self._condition = status.condition
        state = _CONDITION_TRAY_STATES.get(status.condition)
        if state is not None:
            self._tray.show(state, status.detail or None)

    def close(self) -> None:
        """The tray outlives the loop's sinks; the command stops it."""
