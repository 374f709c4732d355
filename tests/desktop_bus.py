"""Stand-ins for the desktop's lock and sleep signals: logind and the screensavers, on private buses.

Two `dbus-daemon`s of the test's own: one plays the session bus, one the system bus (found
through DBUS_SYSTEM_BUS_ADDRESS). On them, in a thread with its own event loop, an
org.freedesktop.login1 (Manager: PrepareForSleep, Inhibit handing out a real pipe end,
GetSession/GetSessionByPID; a Session with Lock/Unlock and LockedHint) and screensavers
(org.freedesktop.ScreenSaver, org.gnome.ScreenSaver: ActiveChanged, GetActive). The coach in
this process or a child process (give it `desk.env`) hears them as it would a real desktop:

    with desktop_services(tmp_path) as desk:
        coach = subprocess.Popen([...], env={**os.environ, **desk.env})
        desk.lock(); desk.unlock(); desk.prepare_for_sleep(True); desk.inhibitors_open()
"""

# No `from __future__ import annotations`: dbus-fast reads the signatures from them.

import asyncio
import os
import time
from collections.abc import Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from dbus_fast import DBusError, Message, MessageType, PropertyAccess
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusBool, DBusObjectPath, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from coach.actions.loop_thread import LoopThread
from coach.desktop.session_signals import LOGIND, LOGIND_PATH, MANAGER, SESSION
from tests.dbus_session import private_bus

T = TypeVar("T")

SESSION_ID = "c7"
SESSION_PATH = f"/org/freedesktop/login1/session/{SESSION_ID}"
SCREENSAVER_PATHS = {
    "freedesktop": (
        "org.freedesktop.ScreenSaver",
        ("/org/freedesktop/ScreenSaver", "/ScreenSaver"),
    ),
    "gnome": ("org.gnome.ScreenSaver", ("/org/gnome/ScreenSaver",)),
    "cinnamon": ("org.cinnamon.ScreenSaver", ("/org/cinnamon/ScreenSaver",)),
    "mate": ("org.mate.ScreenSaver", ("/org/mate/ScreenSaver",)),
}
"""Short name → (bus name and interface, object paths)."""


@dataclass
class Inhibitor:
    """One Inhibit call logind answered: what was asked, when, and when its fd was closed."""

    what: str
    who: str
    why: str
    mode: str
    taken_s: float
    """time.monotonic() when it was handed out."""
    closed_s: float | None = None
    """time.monotonic() when the last copy of the fd was closed (None: still open)."""


class _Manager(ServiceInterface):
    def __init__(self, logind: "FakeLogind") -> None:
        super().__init__(MANAGER)
        self._logind = logind
        self._starting = False

    @dbus_method()
    def GetSession(self, session_id: DBusStr) -> DBusObjectPath:
        if session_id == SESSION_ID:
            return SESSION_PATH
        raise DBusError("org.freedesktop.login1.NoSuchSession", f"No session '{session_id}'")

    @dbus_method()
    def GetSessionByPID(self, pid: DBusUInt32) -> DBusObjectPath:
        if not self._logind.session_by_pid:
            raise DBusError("org.freedesktop.login1.NoSessionForPID", f"PID {pid} has no session")
        return SESSION_PATH

    @dbus_signal()
    def PrepareForSleep(self) -> DBusBool:
        return self._starting

    def prepare_for_sleep(self, starting: bool) -> None:
        self._starting = starting
        self.PrepareForSleep()


class _Session(ServiceInterface):
    def __init__(self) -> None:
        super().__init__(SESSION)
        self.locked_hint = False

    @dbus_property(access=PropertyAccess.READ)
    def Id(self) -> DBusStr:
        return SESSION_ID

    @dbus_property(access=PropertyAccess.READ)
    def LockedHint(self) -> DBusBool:
        return self.locked_hint

    @dbus_signal()
    def Lock(self) -> None:
        """Asks the session's screen locker to lock."""

    @dbus_signal()
    def Unlock(self) -> None:
        """Asks the session's screen locker to unlock."""

    def set_locked_hint(self, locked: bool) -> None:
        self.locked_hint = locked
        self.emit_properties_changed({"LockedHint": locked})


class FakeLogind:
    """org.freedesktop.login1 on the bus it is given; Inhibit hands out pipe ends, like logind's FIFOs."""

    def __init__(self, bus: MessageBus, *, session_by_pid: bool = True) -> None:
        self.bus = bus
        self.session_by_pid = session_by_pid
        self.manager = _Manager(self)
        self.session = _Session()
        self.inhibitors: list[Inhibitor] = []
        self._read_ends: dict[int, Inhibitor] = {}
        bus.export(LOGIND_PATH, self.manager)
        bus.export(SESSION_PATH, self.session)
        bus.export("/org/freedesktop/login1/session/auto", _Session())  # the caller's own
        bus.add_message_handler(self._on_message)

    def _on_message(self, msg: Message) -> bool:
        """Inhibit, by hand: its fd must be closed here once sent, so only the caller holds it."""
        if not (
            msg.message_type is MessageType.METHOD_CALL
            and msg.path == LOGIND_PATH
            and msg.interface == MANAGER
            and msg.member == "Inhibit"
        ):
            return False
        what, who, why, mode = msg.body
        read_end, write_end = os.pipe()
        inhibitor = Inhibitor(what, who, why, mode, time.monotonic())
        self.inhibitors.append(inhibitor)
        self._read_ends[read_end] = inhibitor
        loop = asyncio.get_running_loop()
        loop.add_reader(read_end, self._on_readable, read_end)
        sent = self.bus.send(Message.new_method_return(msg, "h", [0], unix_fds=[write_end]))
        sent.add_done_callback(lambda _sent: os.close(write_end))
        return True

    def _on_readable(self, read_end: int) -> None:
        if os.read(read_end, 64):
            return  # nobody writes; the end of file is the close
        self._read_ends.pop(read_end).closed_s = time.monotonic()
        asyncio.get_running_loop().remove_reader(read_end)
        os.close(read_end)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for read_end in self._read_ends:
            loop.remove_reader(read_end)
            os.close(read_end)
        self._read_ends.clear()


class _ScreenSaver(ServiceInterface):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.active = False

    @dbus_method()
    def GetActive(self) -> DBusBool:
        return self.active

    @dbus_signal()
    def ActiveChanged(self) -> DBusBool:
        return self.active

    def set_active(self, active: bool) -> None:
        self.active = active
        self.ActiveChanged()


class DesktopBus:
    """logind on a private system bus and screensavers on a private session bus; see the module."""

    def __init__(
        self,
        session_address: str,
        system_address: str,
        *,
        screensavers: tuple[str, ...] = ("freedesktop", "gnome"),
        logind: bool = True,
        session_by_pid: bool = True,
    ) -> None:
        self.session_address = session_address
        self.system_address = system_address
        self._runner = LoopThread("test-desktop-bus")
        self._savers: dict[str, tuple[MessageBus, list[_ScreenSaver]]] = {}
        self.logind: FakeLogind | None = None
        if logind:
            self.logind = self.call(self._start_logind(session_by_pid))
        for kind in screensavers:
            self.start_screensaver(kind)

    @property
    def env(self) -> dict[str, str]:
        """The variables that point a coach (in or out of this process) at these buses."""
        return {
            "DBUS_SESSION_BUS_ADDRESS": self.session_address,
            "DBUS_SYSTEM_BUS_ADDRESS": self.system_address,
            "XDG_SESSION_ID": SESSION_ID,
        }

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
        """Run a coroutine on the stand-ins' loop and wait for it."""
        return self._runner.submit(coro).result(timeout_s)

    def _run(self, job: Any, *args: Any) -> Any:
        """Run `job(*args)` on the stand-ins' loop (where dbus-fast sends from) and wait."""

        async def run() -> Any:
            return job(*args)

        return self.call(run())

    async def _start_logind(self, session_by_pid: bool) -> FakeLogind:
        bus = await MessageBus(bus_address=self.system_address, negotiate_unix_fd=True).connect()
        logind = FakeLogind(bus, session_by_pid=session_by_pid)
        await bus.request_name(LOGIND)
        return logind

    def start_screensaver(self, kind: str) -> None:
        """Start one screensaver ("freedesktop", "gnome", "cinnamon", "mate"), inactive."""
        name, paths = SCREENSAVER_PATHS[kind]

        async def start() -> tuple[MessageBus, list[_ScreenSaver]]:
            bus = await MessageBus(bus_address=self.session_address).connect()
            savers = [_ScreenSaver(name) for _path in paths]  # dbus-fast: one object, one path
            for path, saver in zip(paths, savers, strict=True):
                bus.export(path, saver)
            await bus.request_name(name)
            return bus, savers

        self._savers[kind] = self.call(start())

    def stop_screensaver(self, kind: str) -> None:
        """The screensaver leaves the bus (as when it crashes or the session ends)."""
        bus, _saver = self._savers.pop(kind)
        self.call(_disconnect(bus))

    def screensaver_active(self, active: bool, service: str = "gnome") -> None:
        """The screensaver `service` ("gnome", "freedesktop", ...) turns on or off: ActiveChanged."""
        first, *others = self._savers[service][1]
        for saver in others:
            saver.active = active  # answers GetActive; the signal comes from the first path
        self._run(first.set_active, active)

    def _logind(self) -> FakeLogind:
        assert self.logind is not None, "started with logind=False"
        return self.logind

    def lock(self, *, hint: bool = True) -> None:
        """logind's session Lock() signal, then (hint=True) LockedHint turning true."""
        self._run(self._logind().session.Lock)
        if hint:
            self.locked_hint(True)

    def unlock(self, *, hint: bool = True) -> None:
        """logind's session Unlock() signal, then (hint=True) LockedHint turning false."""
        self._run(self._logind().session.Unlock)
        if hint:
            self.locked_hint(False)

    def locked_hint(self, locked: bool) -> None:
        """Only the session's LockedHint property changes (what GNOME and KDE set)."""
        self._run(self._logind().session.set_locked_hint, locked)

    def prepare_for_sleep(self, starting: bool) -> None:
        """logind's PrepareForSleep(true) before suspend, (false) after resume."""
        self._run(self._logind().manager.prepare_for_sleep, starting)

    @property
    def inhibitors(self) -> list[Inhibitor]:
        """Every inhibitor handed out so far, oldest first (copies)."""
        return self._run(lambda: [Inhibitor(**vars(i)) for i in self._logind().inhibitors])

    def inhibitors_open(self) -> int:
        """How many inhibitor fds are still held by someone."""
        return sum(i.closed_s is None for i in self.inhibitors)

    def close(self) -> None:
        async def close() -> None:
            for bus, _saver in self._savers.values():
                await _disconnect(bus)
            if self.logind is not None:
                self.logind.close()
                await _disconnect(self.logind.bus)

        self.call(close())
        self._runner.stop(timeout_s=5.0)


async def _disconnect(bus: MessageBus) -> None:
    bus.disconnect()
    await bus.wait_for_disconnect()


@contextmanager
def desktop_services(
    tmp_path: Path,
    *,
    screensavers: tuple[str, ...] = ("freedesktop", "gnome"),
    logind: bool = True,
    session_by_pid: bool = True,
) -> Iterator[DesktopBus]:
    """A private session and system bus with logind and `screensavers` on them; see the module."""
    with ExitStack() as stack:
        buses = []
        for name in ("ses", "sys"):
            folder = tmp_path / name
            folder.mkdir(parents=True)
            buses.append(stack.enter_context(private_bus(folder)))
        desk = DesktopBus(
            buses[0],
            buses[1],
            screensavers=screensavers,
            logind=logind,
            session_by_pid=session_by_pid,
        )
        stack.callback(desk.close)
        yield desk
