"""A private D-Bus session bus, a recording notification server and a tray watcher, for tests.

Real D-Bus: a `dbus-daemon` of the test's own, and services on it speaking the
org.freedesktop.Notifications and org.kde.StatusNotifierWatcher protocols, in a thread
with its own event loop, so a coach in this process or in a child process can use them.
"""

# No `from __future__ import annotations`: dbus-fast reads the signatures from them.

import shutil
import subprocess
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pytest
from dbus_fast import BusType, PropertyAccess, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusBool, DBusInt32, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from coach.actions.loop_thread import LoopThread

T = TypeVar("T")
StrList = Annotated[list[str], DBusSignature("as")]


@contextmanager
def private_bus(tmp_path: Path) -> Iterator[str]:
    """Start a `dbus-daemon` of this test's own, with no activatable services; yields its address.

    Nothing on it is started on demand: only what the test itself starts answers.
    """
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (Debian package dbus)")
    config = tmp_path / "bus.conf"
    config.write_text(
        '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"'
        ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
        f"<busconfig><type>session</type><listen>unix:dir={tmp_path}</listen>"
        "<auth>EXTERNAL</auth><policy context='default'><allow send_destination='*' "
        "eavesdrop='true'/><allow eavesdrop='true'/><allow own='*'/></policy></busconfig>\n"
    )
    proc = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # "cannot raise the fd limit" as a non-root user
        text=True,
    )
    try:
        assert proc.stdout is not None
        with proc.stdout:
            address = proc.stdout.readline().strip()
        assert address.startswith("unix:"), address
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Notified:
    """One Notify call as the server received it."""

    id: int
    app_name: str
    title: str
    body: str
    actions: dict[str, str] = field(default_factory=dict)
    """Action key → button label."""
    app_icon: str = ""
    image_path: str = ""
    """The image-path hint (where servers such as GNOME Shell take the icon from)."""


class _Notifications(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.freedesktop.Notifications")
        self.received: list[Notified] = []
        self.closed: list[int] = []
        """The ids the client asked to close (CloseNotification), in order."""
        self._closed_signal = (0, 0)

    @dbus_method()
    def GetCapabilities(self) -> StrList:
        return ["actions", "body"]

    @dbus_method()
    def GetServerInformation(
        self,
    ) -> Annotated[tuple[str, str, str, str], DBusSignature("ssss")]:
        return ("coach-test", "coach", "1", "1.2")

    @dbus_method()
    def Notify(
        self,
        app_name: DBusStr,
        replaces_id: DBusUInt32,
        app_icon: DBusStr,
        summary: DBusStr,
        body: DBusStr,
        actions: StrList,
        hints: Annotated[dict[str, Variant], DBusSignature("a{sv}")],
        expire_timeout: DBusInt32,
    ) -> DBusUInt32:
        pairs = dict(zip(actions[::2], actions[1::2], strict=True))
        image = hints.get("image-path")
        self.received.append(
            Notified(
                len(self.received) + 1,
                app_name,
                summary,
                body,
                pairs,
                app_icon,
                str(image.value) if image is not None else "",
            )
        )
        return len(self.received)

    @dbus_method()
    def CloseNotification(self, notification_id: DBusUInt32) -> None:
        """Record it, and say it closed (reason 3: closed by a call), as a daemon does."""
        self.closed.append(notification_id)
        self._closed_signal = (notification_id, 3)
        self.NotificationClosed()

    @dbus_signal()
    def ActionInvoked(self) -> Annotated[tuple[int, str], DBusSignature("us")]:
        return self._invoked

    @dbus_signal()
    def NotificationClosed(self) -> Annotated[tuple[int, int], DBusSignature("uu")]:
        return self._closed_signal

    def invoke(self, notification_id: int, key: str) -> None:
        self._invoked = (notification_id, key)
        self.ActionInvoked()


class _Watcher(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.kde.StatusNotifierWatcher")
        self.items: list[str] = []
        """The bus name of each registered item."""

    @dbus_method()
    def RegisterStatusNotifierItem(self, service: DBusStr) -> None:
        self.items.append(service)

    @dbus_method()
    def RegisterStatusNotifierHost(self, service: DBusStr) -> None:
        """The test is the host."""

    @dbus_property(access=PropertyAccess.READ)
    def IsStatusNotifierHostRegistered(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def RegisteredStatusNotifierItems(self) -> StrList:
        return self.items

    @dbus_property(access=PropertyAccess.READ)
    def ProtocolVersion(self) -> DBusInt32:
        return 0


class DesktopServices:
    """The notification server and (optionally) the tray watcher on a private bus."""

    def __init__(self, address: str, *, watcher: bool = True) -> None:
        self.address = address
        self.notifications = _Notifications()
        self.watcher = _Watcher() if watcher else None
        self._runner = LoopThread("test-desktop-services")
        self.bus: MessageBus = self.call(self._connect())

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
        """Run a coroutine on the services' loop and wait for it."""
        return self._runner.submit(coro).result(timeout_s)

    async def _connect(self) -> MessageBus:
        bus = await MessageBus(bus_address=self.address, bus_type=BusType.SESSION).connect()
        bus.export("/org/freedesktop/Notifications", self.notifications)
        await bus.request_name("org.freedesktop.Notifications")
        if self.watcher is not None:
            bus.export("/StatusNotifierWatcher", self.watcher)
            await bus.request_name("org.kde.StatusNotifierWatcher")
        return bus

    def invoke(self, notification_id: int, key: str) -> None:
        """Press a notification's button, as a notification daemon reports it."""
        self._runner.loop.call_soon_threadsafe(self.notifications.invoke, notification_id, key)

    async def _proxy(self, service: str, path: str, interface: str) -> Any:
        introspection = await self.bus.introspect(service, path)
        return self.bus.get_proxy_object(service, path, introspection).get_interface(interface)

    def item_property(self, service: str, name: str) -> Any:
        """A property of a registered StatusNotifierItem."""

        async def get() -> Any:
            item = await self._proxy(service, "/StatusNotifierItem", "org.kde.StatusNotifierItem")
            return await getattr(item, f"get_{_snake(name)}")()

        return self.call(get())

    def menu_layout(self, service: str) -> list[tuple[int, dict[str, Any], list[Any]]]:
        """The item's menu: (id, properties, submenu) per top-level entry, values unwrapped."""

        async def get() -> Any:
            menu = await self._proxy(service, "/MenuBar", "com.canonical.dbusmenu")
            return await menu.call_get_layout(0, -1, [])

        _revision, (_root, _props, children) = self.call(get())
        return [_unwrap(child.value) for child in children]

    def click(self, service: str, item_id: int) -> None:
        """Click a menu entry, as a tray host reports it."""

        async def send() -> None:
            menu = await self._proxy(service, "/MenuBar", "com.canonical.dbusmenu")
            await menu.call_event(item_id, "clicked", Variant("i", 0), 0)

        self.call(send())

    def close(self) -> None:
        async def disconnect() -> None:
            self.bus.disconnect()
            await self.bus.wait_for_disconnect()

        self.call(disconnect())
        self._runner.stop(timeout_s=5.0)


def _unwrap(layout: list[Any]) -> tuple[int, dict[str, Any], list[Any]]:
    item_id, props, children = layout
    return (
        item_id,
        {k: v.value for k, v in props.items()},
        [_unwrap(c.value) for c in children],
    )


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
