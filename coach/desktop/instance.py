"""Provides one coach per user: the single-instance lock, and the remote control of that coach.

The running coach owns `io.github.coach` on the session bus (the name is the lock there) and,
bus or not, an flock and a Unix socket in the user's runtime folder. A second `coach` finds it
through either and asks it to pause, resume or say how it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import sys
from collections.abc import Coroutine
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from coach.desktop import control_socket
from coach.desktop.control_socket import Reply, SocketLock, SocketUnavailable
from coach.errors import AlreadyRunning, CoachError, NotRunning, RemoteFailed, one_line

if TYPE_CHECKING:
    from dbus_fast.aio import MessageBus

    from coach.actions.loop_thread import LoopThread

T = TypeVar("T")

TIMEOUT_S: Final = 2.0
"""The longest a call to or from another coach may take."""
MAX_PAUSE_MIN: Final = 24 * 60.0
NOT_RUNNING: Final = "no coach is running; start it with `coach start`"
_NO_OWNER: Final = (
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
)


class RemoteTarget(Protocol):
    """What the running coach lets another process do; called from the control thread."""

    def pause(self, for_s: float | None) -> None:
        """Pause for `for_s` seconds (None: the configured pause), releasing the camera."""

    def resume(self) -> None:
        """End a pause now."""

    def reload(self) -> None:
        """Read the settings file again and apply it (`coach config set` changed it)."""

    def status(self) -> dict[str, object]:
        """How the coach is, as JSON-able values."""


class Request(StrEnum):
    """What a client asks over the socket (`{"cmd": ...}`)."""

    PAUSE = "pause"
    RESUME = "resume"
    RELOAD = "reload"
    STATUS = "status"


class Channel(StrEnum):
    """How a client reaches the running coach."""

    BUS = "D-Bus"
    SOCKET = "socket"


def pause_for_s(minutes: float | None) -> float | None:
    """The pause asked, in seconds; None (the configured pause) for None, 0 or less.

    Raises:
        ValueError: not a finite number of minutes up to a day.
    """
    if minutes is None:
        return None
    if isinstance(minutes, bool) or not isinstance(minutes, int | float):
        raise ValueError(f"minutes must be a number, not {minutes!r}")
    if not math.isfinite(minutes) or minutes > MAX_PAUSE_MIN:
        raise ValueError(f"minutes must be a number up to {MAX_PAUSE_MIN:g}, not {minutes:g}")
    return None if minutes <= 0 else minutes * 60.0


def _status_json(target: RemoteTarget) -> str:
    return json.dumps(target.status(), default=str)


def _handler(target: RemoteTarget) -> control_socket.Handler:
    """Answer one socket request with the target."""

    def handle(request: Reply) -> Reply:
        try:
            cmd = Request(str(request.get("cmd")))
        except ValueError:
            return {
                "ok": False,
                "error": f"unknown cmd {request.get('cmd')!r}: pause, resume, reload or status",
            }
        try:
            if cmd is Request.PAUSE:
                target.pause(pause_for_s(request.get("minutes")))
            elif cmd is Request.RESUME:
                target.resume()
            elif cmd is Request.RELOAD:
                target.reload()
            else:
                return {"ok": True, "status": json.loads(_status_json(target))}
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True}

    return handle


def _bus_address() -> str | None:
    """The session bus to use, if any (the tray and D-Bus control are Linux only)."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    return address if address and sys.platform.startswith("linux") else None


class InstanceLock:
    """This user's one coach: claims the lock and serves `target` over D-Bus and the socket.

    `start` answers who runs: None when this process now holds the lock, else a client of
    the coach that does. `stop` lets go of everything (safe to call more than once).
    """

    def __init__(
        self, target: RemoteTarget, *, folder: Path | None = None, timeout_s: float = TIMEOUT_S
    ) -> None:
        self._target = target
        self._folder = folder
        self._timeout_s = timeout_s
        self._socket: SocketLock | None = None
        self._runner: LoopThread | None = None
        self._bus: MessageBus | None = None
        self._server: control_socket.ControlServer | None = None
        self.notes: list[str] = []
        """Why a channel could not be served (the coach runs on without it)."""

    def start(self) -> RemoteClient | None:
        """Claim the lock; a client of the coach already holding it, or None once it is ours."""
        folder = self._folder or control_socket.control_dir()
        if control_socket.supported():
            self._socket = SocketLock(folder)
            try:
                if not self._socket.acquire():
                    self._socket = None
                    return RemoteClient(
                        Channel.SOCKET, socket_path=folder / control_socket.SOCKET_NAME
                    )
            except SocketUnavailable as exc:
                self._socket = None
                self.notes.append(f"no control socket: {exc}")
        address = _bus_address()
        if address is not None and not self._claim_bus():
            self.stop()
            return RemoteClient(Channel.BUS, bus_address=address)
        if self._socket is not None:
            self._serve_socket(self._socket)
        return None

    def _on_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        from coach.actions.loop_thread import LoopThread

        if self._runner is None:
            self._runner = LoopThread("coach-control")
        return self._runner.submit(coro).result(self._timeout_s)

    def _claim_bus(self) -> bool:
        """Own the bus name: False when another coach owns it; True too when the bus is not
        there to ask (the socket lock then decides alone)."""
        try:
            return self._on_loop(self._request_name())
        except Exception as exc:  # no bus, a refusal, a timeout: no D-Bus control; say why
            self.notes.append(f"no D-Bus control: the session bus did not answer ({one_line(exc)})")
            self._disconnect_bus()
            return True

    async def _request_name(self) -> bool:
        from dbus_fast import BusType, NameFlag, RequestNameReply
        from dbus_fast.aio import MessageBus

        from coach.desktop.control_bus import BUS_NAME, OBJECT_PATH, ControlInterface

        target = self._target

        def pause(minutes: float) -> None:
            target.pause(pause_for_s(minutes))

        bus = self._bus = await MessageBus(bus_type=BusType.SESSION).connect()
        bus.export(
            OBJECT_PATH,
            ControlInterface(pause, target.resume, lambda: _status_json(target), target.reload),
        )
        reply = await bus.request_name(BUS_NAME, NameFlag.DO_NOT_QUEUE)
        return reply in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER)

    def _serve_socket(self, lock: SocketLock) -> None:
        try:
            sock = lock.bind()
            server = control_socket.ControlServer(_handler(self._target), self._timeout_s)
            self._server = server
            self._on_loop(server.start(sock))
        except (SocketUnavailable, OSError, TimeoutError) as exc:
            self.notes.append(f"no control socket: {one_line(exc)}")

    def _disconnect_bus(self) -> None:
        bus, self._bus = self._bus, None
        if bus is None or self._runner is None:
            return

        async def disconnect() -> None:
            bus.disconnect()
            await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]

        # Going away anyway; the bus drops the name with the connection.
        with contextlib.suppress(Exception):
            self._runner.submit(disconnect()).result(self._timeout_s)

    def stop(self) -> None:
        """Stop serving and let go of the bus name, the socket and the lock."""
        self._disconnect_bus()
        server, self._server = self._server, None
        if server is not None and self._runner is not None:
            with contextlib.suppress(Exception):  # stopping: a slow close is not waited for
                self._runner.submit(server.close()).result(self._timeout_s)
        if self._runner is not None:
            self._runner.stop()
            self._runner = None
        if self._socket is not None:
            self._socket.release()
            self._socket = None

    def __enter__(self) -> InstanceLock:
        other = self.start()
        if other is not None:
            raise AlreadyRunning(other.describe())
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RemoteClient:
    """Talks to the running coach, over D-Bus or its socket, each call within `timeout_s`.

    Raises (every method): NotRunning when it is gone; RemoteFailed when it does not answer
    or refuses.
    """

    def __init__(
        self,
        channel: Channel,
        *,
        bus_address: str | None = None,
        socket_path: Path | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.channel = channel
        self._bus_address = bus_address
        self._socket_path = socket_path
        self._timeout_s = timeout_s

    def pause(self, minutes: float | None) -> None:
        """Pause the coach for `minutes` (None: its configured pause)."""
        pause_for_s(minutes)  # a bad number is refused here, before it is sent
        if self.channel is Channel.BUS:
            self._bus_call("Pause", "d", [0.0 if minutes is None else float(minutes)])
        else:
            self._socket_call({"cmd": Request.PAUSE.value, "minutes": minutes})

    def resume(self) -> None:
        """End its pause now."""
        if self.channel is Channel.BUS:
            self._bus_call("Resume")
        else:
            self._socket_call({"cmd": Request.RESUME.value})

    def reload(self) -> None:
        """Have it read its settings file again."""
        if self.channel is Channel.BUS:
            self._bus_call("Reload")
        else:
            self._socket_call({"cmd": Request.RELOAD.value})

    def status(self) -> dict[str, object]:
        """How it is (see the running coach's RemoteTarget.status)."""
        if self.channel is Channel.BUS:
            found = json.loads(self._bus_call("Status")[0])
        else:
            found = self._socket_call({"cmd": Request.STATUS.value}).get("status")
        if not isinstance(found, dict):
            raise RemoteFailed("the running coach sent a status that is not a JSON object")
        return found

    def pid(self) -> int | None:
        """Its process id, if it says or its lock file does (never raises)."""
        try:
            pid = self.status().get("pid")
        except CoachError:
            pid = None
        if isinstance(pid, int):
            return pid
        if self._socket_path is not None:
            return control_socket.holder_pid(self._socket_path.parent)
        return None

    def describe(self) -> str:
        """One line saying a coach runs, for a second one that will not start."""
        pid = self.pid()
        which = f" (pid {pid})" if pid is not None else ""
        return (
            f"coach is already running{which}; see it with `coach status`, "
            "pause it with `coach pause`"
        )

    def _socket_call(self, message: Reply) -> Reply:
        assert self._socket_path is not None
        try:
            reply = control_socket.request(self._socket_path, message, self._timeout_s)
        except (OSError, ValueError) as exc:
            raise RemoteFailed(f"the running coach did not answer ({one_line(exc)})") from None
        if reply is None:
            raise NotRunning(NOT_RUNNING)
        if reply.get("ok") is not True:
            raise RemoteFailed(
                f"the running coach refused: {reply.get('error', 'no reason given')}"
            )
        return reply

    def _bus_call(
        self, member: str, signature: str = "", body: list[Any] | None = None
    ) -> list[Any]:
        assert self._bus_address is not None
        try:
            return asyncio.run(
                asyncio.wait_for(self._bus_message(member, signature, body or []), self._timeout_s)
            )
        except (OSError, TimeoutError, EOFError, ValueError) as exc:
            raise RemoteFailed(f"the session bus did not answer ({one_line(exc)})") from None

    async def _bus_message(self, member: str, signature: str, body: list[Any]) -> list[Any]:
        from dbus_fast import BusType, Message, MessageFlag, MessageType
        from dbus_fast.aio import MessageBus

        from coach.desktop.control_bus import BUS_NAME, INTERFACE, OBJECT_PATH

        bus = await MessageBus(bus_address=self._bus_address, bus_type=BusType.SESSION).connect()
        try:
            reply = await bus.call(
                Message(
                    destination=BUS_NAME,
                    path=OBJECT_PATH,
                    interface=INTERFACE,
                    member=member,
                    signature=signature,
                    body=body,
                    flags=MessageFlag.NO_AUTOSTART,  # a stale .service file must not start one
                )
            )
        finally:
            bus.disconnect()
        assert reply is not None
        if reply.message_type is MessageType.ERROR:
            if reply.error_name in _NO_OWNER:
                raise NotRunning(NOT_RUNNING)
            why = " ".join(map(str, reply.body)) or reply.error_name
            raise RemoteFailed(f"the running coach refused: {why}")
        return list(reply.body)


def find_running(timeout_s: float = TIMEOUT_S) -> RemoteClient | None:
    """A client of this user's running coach (D-Bus first, then the socket), or None.

    Raises:
        RemoteFailed: a coach holds the bus name or the socket but does not answer.
    """
    address = _bus_address()
    if address is not None:
        client = RemoteClient(Channel.BUS, bus_address=address, timeout_s=timeout_s)
        try:
            client.status()
            return client
        except NotRunning:
            pass
        except RemoteFailed:
            pass  # no bus to ask after all (a stale address): the socket may still answer
    if not control_socket.supported():
        return None
    path = control_socket.control_dir() / control_socket.SOCKET_NAME
    client = RemoteClient(Channel.SOCKET, socket_path=path, timeout_s=timeout_s)
    try:
        client.status()
    except NotRunning:
        return None
    return client
