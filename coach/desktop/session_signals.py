"""Provides the desktop's lock and sleep signals (logind, the screensavers) as `Hold` changes.

Linux only: logind on the system bus (PrepareForSleep, the session's Lock/Unlock and
LockedHint) and the screensavers on the session bus (ActiveChanged). Signals are subscribed
with match rules, so a screensaver that starts after the coach is still heard. Whatever bus
or service is missing is left out: the watcher listens to what exists and never raises.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from coach.actions.loop_thread import LoopThread
from coach.desktop.probe import BUS, ProbeFailed, call
from coach.errors import one_line
from coach.records import Hold

if TYPE_CHECKING:
    from dbus_fast import Message
    from dbus_fast.aio import MessageBus

LOGIND: Final = "org.freedesktop.login1"
LOGIND_PATH: Final = "/org/freedesktop/login1"
MANAGER: Final = "org.freedesktop.login1.Manager"
SESSION: Final = "org.freedesktop.login1.Session"
AUTO_SESSION_PATH: Final = "/org/freedesktop/login1/session/auto"
PROPERTIES: Final = "org.freedesktop.DBus.Properties"
DEFAULT_SYSTEM_BUS: Final = "unix:path=/var/run/dbus/system_bus_socket"
LOGIND_SESSION: Final = "logind session"
LOGIND_SLEEP: Final = "logind sleep"
NO_SCREENSAVER_YET: Final = "screensaver signals (none running yet)"
SLEEP_INHIBITOR: Final = ("sleep", "coach", "release the camera before sleep", "delay")
"""Inhibit(what, who, why, mode): logind waits for the fd's close (at most InhibitDelayMaxSec)."""


@dataclass(frozen=True)
class Screensaver:
    """A screensaver's bus name (also its interface) and the object paths it serves."""

    name: str
    paths: tuple[str, ...]


SCREENSAVERS: Final = (
    Screensaver("org.freedesktop.ScreenSaver", ("/org/freedesktop/ScreenSaver", "/ScreenSaver")),
    Screensaver("org.gnome.ScreenSaver", ("/org/gnome/ScreenSaver",)),
    Screensaver("org.cinnamon.ScreenSaver", ("/org/cinnamon/ScreenSaver",)),
    Screensaver("org.mate.ScreenSaver", ("/org/mate/ScreenSaver",)),
)

log = logging.getLogger("coach.desktop")


def system_bus_address(env: Mapping[str, str]) -> str:
    """DBUS_SYSTEM_BUS_ADDRESS when set (tests point it at a private bus), else the standard one."""
    return env.get("DBUS_SYSTEM_BUS_ADDRESS") or DEFAULT_SYSTEM_BUS


def _rule(**parts: str) -> str:
    return ",".join(f"{key}='{value}'" for key, value in {"type": "signal", **parts}.items())


class DesktopWatcher:
    """Reports lock and sleep as `on_change(Hold, held)`, called on the watcher's own thread.

    Calls come one at a time, in order, only on a change. `on_change(ASLEEP, True)` is the
    last thing before sleep: the sleep-delay inhibitor is closed once it returns, so it
    should return once the camera is released (logind waits at most ~5 s). A callback must
    not call `stop()`. A state already held at `start()` is reported before it returns.
    """

    def __init__(
        self,
        on_change: Callable[[Hold, bool], object],
        *,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 3.0,
    ) -> None:
        self._on_change = on_change
        self._env = os.environ if env is None else env
        self._timeout_s = timeout_s
        self._runner: LoopThread | None = None
        self._system: MessageBus | None = None
        self._session: MessageBus | None = None
        self._session_path: str | None = None
        self._inhibitor_fd: int | None = None
        self._lockers: dict[str, str] = {}
        """Source → the unique bus name that locked (so its leaving the bus unlocks)."""
        self._asleep = False
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> list[str]:
        """Connect and subscribe; the names of what is listened to (empty: nothing to hear)."""
        if self._runner is not None:
            raise RuntimeError("DesktopWatcher.start() called twice")
        if not sys.platform.startswith("linux"):  # logind and these screensavers are Linux's
            log.info("lock and sleep are watched on Linux only")
            return []
        self._runner = LoopThread("coach-desktop-signals")
        try:
            return self._runner.submit(self._start()).result(4 * self._timeout_s)
        except Exception as exc:  # a bus that hangs or breaks must not stop the coach
            log.warning("lock and sleep signals unavailable: %s", one_line(exc))
            return []

    def stop(self) -> None:
        """Let go of the sleep inhibitor, leave both buses and end the thread."""
        runner, self._runner = self._runner, None
        if runner is None:
            return

        async def close() -> None:
            for task in self._tasks:
                task.cancel()  # a resume's inhibitor still on its way
            self._release_inhibitor()
            for bus in (self._system, self._session):
                if bus is not None and bus.connected:
                    bus.disconnect()
                    await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]

        try:
            runner.submit(close()).result(2.0)
        except Exception as exc:  # already broken: nothing left to let go of
            log.debug("closing the desktop buses: %s", one_line(exc))
        runner.stop()

    async def _start(self) -> list[str]:
        names = await self._start_logind()
        names += await self._start_screensavers()
        if self._lockers:
            self._report_lock(True, next(iter(self._lockers)))
        return names

    async def _connect(self, address: str, what: str, *, fds: bool) -> MessageBus | None:
        from dbus_fast.aio import MessageBus

        try:
            bus = MessageBus(bus_address=address, negotiate_unix_fd=fds)
            return await asyncio.wait_for(bus.connect(), self._timeout_s)
        except Exception as exc:  # no socket, refused, too slow: that bus is simply absent
            log.info("no %s bus (%s): %s", what, address, one_line(exc))
            return None

    async def _call(self, bus: MessageBus, *args: Any) -> list[Any]:
        return await asyncio.wait_for(call(bus, *args), self._timeout_s)

    async def _has_owner(self, bus: MessageBus, name: str) -> str | None:
        """The unique name owning `name`, or None (asking never starts a service)."""
        try:
            (owner,) = await self._call(bus, *BUS, "GetNameOwner", "s", [name])
        except ProbeFailed:
            return None
        return str(owner)

    async def _add_match(self, bus: MessageBus, rule: str) -> None:
        await self._call(bus, *BUS, "AddMatch", "s", [rule])

    # logind

    async def _start_logind(self) -> list[str]:
        address = system_bus_address(self._env)
        bus = self._system = await self._connect(address, "system", fds=True)
        if bus is None:
            return []
        try:
            if await self._has_owner(bus, LOGIND) is None:
                log.info("logind is not on the system bus: no sleep or session-lock signals")
                return []
            bus.add_message_handler(self._on_system_message)
            names = []
            await self._add_match(
                bus,
                _rule(sender=LOGIND, path=LOGIND_PATH, interface=MANAGER, member="PrepareForSleep"),
            )
            await self._take_inhibitor()
            names.append(LOGIND_SLEEP)
            path = self._session_path = await self._find_session(bus)
            if path is not None:
                await self._add_match(bus, _rule(sender=LOGIND, path=path, interface=SESSION))
                await self._add_match(
                    bus,
                    _rule(
                        sender=LOGIND,
                        path=path,
                        interface=PROPERTIES,
                        member="PropertiesChanged",
                        arg0=SESSION,
                    ),
                )
                (hint,) = await self._call(
                    bus, LOGIND, path, PROPERTIES, "Get", "ss", [SESSION, "LockedHint"]
                )
                if hint.value:
                    self._lockers[LOGIND_SESSION] = ""
                names.append(LOGIND_SESSION)
            return names
        except Exception as exc:  # logind broke off or is too slow: keep what was set up
            log.info("logind did not answer: %s", one_line(exc))
            return [LOGIND_SLEEP] if self._inhibitor_fd is not None else []

    async def _find_session(self, bus: MessageBus) -> str | None:
        """This process's login session object: by PID, by XDG_SESSION_ID, else logind's "auto"."""
        asks: list[tuple[str, str, list[Any]]] = [("GetSessionByPID", "u", [os.getpid()])]
        if session_id := self._env.get("XDG_SESSION_ID"):
            asks.append(("GetSession", "s", [session_id]))
        for member, signature, body in asks:
            try:
                (path,) = await self._call(
                    bus, LOGIND, LOGIND_PATH, MANAGER, member, signature, body
                )
                return str(path)
            except ProbeFailed as exc:
                log.debug("logind %s: %s", member, exc)
        try:  # "auto" is the caller's session, or its user's graphical one; signals need the real path
            (session_id,) = await self._call(
                bus, LOGIND, AUTO_SESSION_PATH, PROPERTIES, "Get", "ss", [SESSION, "Id"]
            )
            (path,) = await self._call(
                bus, LOGIND, LOGIND_PATH, MANAGER, "GetSession", "s", [session_id.value]
            )
            return str(path)
        except ProbeFailed as exc:
            log.info("no logind session for the coach (%s): no session-lock signals", exc)
            return None

    async def _take_inhibitor(self) -> None:
        from dbus_fast import Message, MessageType

        assert self._system is not None
        message = Message(
            destination=LOGIND,
            path=LOGIND_PATH,
            interface=MANAGER,
            member="Inhibit",
            signature="ssss",
            body=list(SLEEP_INHIBITOR),
        )
        try:
            reply = await asyncio.wait_for(self._system.call(message), self._timeout_s)
        except Exception as exc:  # the bus went away or is too slow: sleep is still heard
            log.info("cannot delay sleep to release the camera: %s", one_line(exc))
            return
        if reply.message_type == MessageType.ERROR or not reply.unix_fds:
            log.info("cannot delay sleep to release the camera: %s", reply.error_name or reply.body)
            return
        fd = reply.unix_fds[reply.body[0]]
        os.set_inheritable(fd, False)  # a child process must not hold sleep back
        if self._asleep or not self._system.connected:  # too late: sleep has begun, or stop()
            os.close(fd)
            return
        self._release_inhibitor()
        self._inhibitor_fd = fd

    def _release_inhibitor(self) -> None:
        fd, self._inhibitor_fd = self._inhibitor_fd, None
        if fd is not None:
            os.close(fd)

    def _on_system_message(self, msg: Message) -> None:
        from dbus_fast import MessageType

        if msg.message_type is not MessageType.SIGNAL:
            return
        if msg.path == LOGIND_PATH and msg.interface == MANAGER:
            if msg.member == "PrepareForSleep" and msg.signature == "b":
                self._on_prepare_for_sleep(bool(msg.body[0]))
        elif msg.path != self._session_path or self._session_path is None:
            return
        elif msg.interface == SESSION and msg.member == "Lock":
            self._lock(LOGIND_SESSION, "")
        elif msg.interface == SESSION and msg.member == "Unlock":
            self._unlock_all()
        elif msg.interface == PROPERTIES and msg.member == "PropertiesChanged":
            hint = msg.body[1].get("LockedHint") if msg.body[0] == SESSION else None
            if hint is not None and hint.value:
                self._lock(LOGIND_SESSION, "")
            elif hint is not None:
                self._unlock_all()

    def _on_prepare_for_sleep(self, starting: bool) -> None:
        if starting == self._asleep:
            return
        self._asleep = starting
        if starting:
            log.info("going to sleep")
            try:
                self._notify(Hold.ASLEEP, True)
            finally:
                self._release_inhibitor()  # the camera is released: logind may go on
        else:
            log.info("resumed from sleep")
            task = asyncio.get_running_loop().create_task(self._take_inhibitor())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            self._notify(Hold.ASLEEP, False)

    # screensavers

    async def _start_screensavers(self) -> list[str]:
        address = self._env.get("DBUS_SESSION_BUS_ADDRESS")
        if not address:
            log.info("no session bus (DBUS_SESSION_BUS_ADDRESS is not set): no screensaver signals")
            return []
        bus = self._session = await self._connect(address, "session", fds=False)
        if bus is None:
            return []
        try:
            bus.add_message_handler(self._on_session_message)
            for saver in SCREENSAVERS:
                await self._add_match(bus, _rule(interface=saver.name, member="ActiveChanged"))
            await self._add_match(
                bus, _rule(sender=BUS[0], interface=BUS[2], member="NameOwnerChanged")
            )
            running = [s.name for s in SCREENSAVERS if await self._initial_active(bus, s)]
        except Exception as exc:  # the bus broke off or is too slow: no screensaver signals
            log.info("the session bus did not answer: %s", one_line(exc))
            return []
        return running or [NO_SCREENSAVER_YET]

    async def _initial_active(self, bus: MessageBus, saver: Screensaver) -> bool:
        """Whether `saver` runs; if it is active now, it holds the lock."""
        owner = await self._has_owner(bus, saver.name)
        if owner is None:
            return False
        for path in saver.paths:
            try:
                (active,) = await self._call(bus, saver.name, path, saver.name, "GetActive")
            except ProbeFailed:
                continue  # not served at this path
            if active:
                self._lockers[saver.name] = owner
            break
        return True

    def _on_session_message(self, msg: Message) -> None:
        from dbus_fast import MessageType

        if msg.message_type is not MessageType.SIGNAL:
            return
        source = msg.interface or ""
        if msg.member == "ActiveChanged" and msg.signature == "b":
            if any(source == s.name for s in SCREENSAVERS):
                if msg.body[0]:
                    self._lock(source, msg.sender or "")
                else:
                    self._unlock(source)
        elif msg.member == "NameOwnerChanged" and msg.sender == BUS[0]:
            name, _old, new = msg.body
            if not new:
                self._forget(str(name))

    # the lock, held by any source until that source (or logind, for all) lets go

    def _lock(self, source: str, sender: str) -> None:
        was_locked = bool(self._lockers)
        self._lockers[source] = sender
        if not was_locked:
            self._report_lock(True, source)

    def _unlock(self, source: str) -> None:
        if self._lockers.pop(source, None) is not None and not self._lockers:
            self._report_lock(False, source)

    def _unlock_all(self) -> None:
        if self._lockers:
            self._lockers.clear()
            self._report_lock(False, LOGIND_SESSION)

    def _forget(self, unique_name: str) -> None:
        """A locker left the bus (crashed, or the session ended): it holds nothing any more."""
        gone = [source for source, sender in self._lockers.items() if sender == unique_name]
        for source in gone:
            log.info("%s left the bus while holding the lock", source)
            self._unlock(source)

    def _report_lock(self, locked: bool, source: str) -> None:
        if locked:
            log.info("screen locked (%s)", source)
        else:
            log.info("screen unlocked")
        self._notify(Hold.LOCKED, locked)

    def _notify(self, hold: Hold, held: bool) -> None:
        try:
            self._on_change(hold, held)
        except Exception as exc:  # the watcher outlives a failing callback
            log.error("handling %s=%s failed: %s", hold.value, held, one_line(exc))
