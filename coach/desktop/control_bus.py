"""Provides the coach's D-Bus control interface: Pause, Resume, Reload and Status on the session bus."""

# No `from __future__ import annotations`: dbus-fast reads the D-Bus signatures from the
# annotations at class creation.

from collections.abc import Callable
from typing import Final

from dbus_fast.annotations import DBusDouble, DBusStr
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface, dbus_method

BUS_NAME: Final = "io.github.coach"
OBJECT_PATH: Final = "/io/github/coach"
INTERFACE: Final = "io.github.coach.Control"
INVALID_ARGS: Final = "org.freedesktop.DBus.Error.InvalidArgs"


class ControlInterface(ServiceInterface):
    """io.github.coach.Control: what a desktop shortcut or a second `coach` asks of this one.

    Each method only hands the request on (a queue push, a copy of the status), so the
    bus thread never waits on the frame loop.
    """

    def __init__(
        self,
        pause: Callable[[float], None],
        resume: Callable[[], None],
        status_json: Callable[[], str],
        reload: Callable[[], None],
    ) -> None:
        super().__init__(INTERFACE)
        self._pause = pause
        self._resume = resume
        self._status_json = status_json
        self._reload = reload

    @dbus_method()
    def Pause(self, minutes: DBusDouble) -> None:
        """Pause for `minutes` (0 or less: the configured pause), releasing the camera."""
        try:
            self._pause(minutes)
        except ValueError as exc:
            raise DBusError(INVALID_ARGS, str(exc)) from None

    @dbus_method()
    def Resume(self) -> None:
        """End a pause now."""
        self._resume()

    @dbus_method()
    def Reload(self) -> None:
        """Read the settings file again and apply it."""
        self._reload()

    @dbus_method()
    def Status(self) -> DBusStr:
        """The coach's status as one JSON object."""
        return self._status_json()
