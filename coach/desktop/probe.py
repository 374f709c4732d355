"""Provides read-only probes of the Linux desktop for `coach doctor`: D-Bus services, the X tray.

Nothing here changes the desktop: it asks the session bus who owns a name and reads an X
selection owner, each with a short timeout, and reports what it found as plain data.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from coach.errors import one_line

T = TypeVar("T")

NOTIFICATIONS: Final = "org.freedesktop.Notifications"
WATCHER: Final = "org.kde.StatusNotifierWatcher"
WATCHER_PATH: Final = "/StatusNotifierWatcher"
XEMBED_TRAY_SELECTION: Final = "_NET_SYSTEM_TRAY_S{screen}"
BUS: Final = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")


class ProbeFailed(Exception):
    """The bus or display could not be asked (not there, refused, or too slow)."""


@dataclass(frozen=True)
class NotificationServer:
    """The desktop's notification daemon, as it describes itself."""

    name: str
    version: str
    actions: bool
    """It shows action buttons (the prompt's Done / Snooze / Skip)."""


@dataclass(frozen=True)
class Watcher:
    """A StatusNotifierItem watcher: where tray icons register on the session bus."""

    host_registered: bool
    """A tray host (a panel) is listening: without one no icon is drawn."""


async def call(
    bus: Any,
    destination: str,
    path: str,
    interface: str,
    member: str,
    signature: str = "",
    body: list[Any] | None = None,
) -> list[Any]:
    """One method call on `bus`; the reply's body, or ProbeFailed on an error reply."""
    from dbus_fast import Message, MessageType

    message = Message(
        destination=destination,
        path=path,
        interface=interface,
        member=member,
        signature=signature,
        body=body or [],
    )
    reply = await bus.call(message)
    if reply.message_type == MessageType.ERROR:
        raise ProbeFailed(f"{member}: {reply.error_name} {' '.join(map(str, reply.body))}")
    return list(reply.body)


async def _has_owner(bus: Any, name: str) -> bool:
    return bool((await call(bus, *BUS, "NameHasOwner", "s", [name]))[0])


async def _notifications(bus: Any) -> NotificationServer | None:
    if not await _has_owner(bus, NOTIFICATIONS):
        return None
    path, interface = "/org/freedesktop/Notifications", NOTIFICATIONS
    name, _vendor, version, _spec = await call(
        bus, NOTIFICATIONS, path, interface, "GetServerInformation"
    )
    (capabilities,) = await call(bus, NOTIFICATIONS, path, interface, "GetCapabilities")
    return NotificationServer(str(name), str(version), "actions" in capabilities)


async def find_watcher(bus: Any) -> Watcher | None:
    """The StatusNotifierWatcher on `bus` (None: nobody owns the name)."""
    if not await _has_owner(bus, WATCHER):
        return None
    (value,) = await call(
        bus,
        WATCHER,
        WATCHER_PATH,
        "org.freedesktop.DBus.Properties",
        "Get",
        "ss",
        [WATCHER, "IsStatusNotifierHostRegistered"],
    )
    return Watcher(bool(value.value))


def tray_host_problem(watcher: Watcher | None) -> str | None:
    """Why `coach start` cannot show its icon beside this watcher (None: it can).

    The coach's icon is a StatusNotifierItem only: an XEmbed tray alone cannot show it.
    The tray and `coach doctor` both ask this, so they agree on what the desktop has."""
    if watcher is None:
        return "no StatusNotifierWatcher on the session bus (no tray area in this desktop)"
    if not watcher.host_registered:
        return "the StatusNotifierWatcher has no tray host registered"
    return None


def _on_bus(
    address: str,
    timeout_s: float,
    ask: Callable[[Any], Awaitable[T]],
    which: str = "the session bus",
) -> T:
    """Connect to the bus at `address`, run `ask(bus)`, disconnect; ProbeFailed on any trouble."""
    from dbus_fast.aio import MessageBus

    async def probe() -> T:
        bus = await MessageBus(bus_address=address).connect()
        try:
            return await ask(bus)
        finally:
            bus.disconnect()

    try:
        return asyncio.run(asyncio.wait_for(probe(), timeout_s))
    except TimeoutError:
        raise ProbeFailed(f"{which} did not answer within {timeout_s:g} s") from None
    except ProbeFailed:
        raise
    except Exception as exc:  # dbus-fast raises its own types, OSError and ValueError
        raise ProbeFailed(one_line(exc)) from None


def notification_server(address: str, timeout_s: float = 3.0) -> NotificationServer | None:
    """Who serves org.freedesktop.Notifications on the bus at `address` (None: nobody)."""
    return _on_bus(address, timeout_s, _notifications)


def status_notifier_watcher(address: str, timeout_s: float = 3.0) -> Watcher | None:
    """The StatusNotifierWatcher on the bus at `address` (None: nobody owns the name)."""
    return _on_bus(address, timeout_s, find_watcher)


def owned_names(
    address: str, names: tuple[str, ...], which: str = "the session bus", timeout_s: float = 3.0
) -> tuple[str, ...]:
    """Which of `names` someone owns on the bus at `address` (asking starts no service)."""

    async def owned(bus: Any) -> tuple[str, ...]:
        return tuple([name for name in names if await _has_owner(bus, name)])

    return _on_bus(address, timeout_s, owned, which)


def xembed_tray(display: str) -> bool:
    """Whether an XEmbed system tray owns _NET_SYSTEM_TRAY_S<screen> on the X `display`.

    libX11 through ctypes: one selection-owner query needs no X library in the venv.
    """
    library = ctypes.util.find_library("X11")
    if library is None:
        raise ProbeFailed("libX11 is not installed")
    x11 = ctypes.CDLL(library)
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XGetSelectionOwner.restype = ctypes.c_ulong
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = x11.XOpenDisplay(display.encode())
    if not handle:
        raise ProbeFailed(f"cannot open the X display {display}")
    try:
        selection = XEMBED_TRAY_SELECTION.format(screen=x11.XDefaultScreen(handle))
        atom = x11.XInternAtom(handle, selection.encode(), 0)
        return bool(x11.XGetSelectionOwner(handle, atom))
    finally:
        x11.XCloseDisplay(handle)
