"""Provides the control socket: a lock on the user's runtime folder and one JSON line each way."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from coach.safe.private_files import PRIVATE_FILE_MODE, private_dir

SOCKET_NAME: Final = "control.sock"
LOCK_NAME: Final = "control.lock"
MAX_LINE_BYTES: Final = 64 * 1024
"""A request or a reply longer than this is not ours."""

Reply = dict[str, Any]
Handler = Callable[[Reply], Reply]


class SocketUnavailable(Exception):
    """The control folder, its lock or its socket cannot be used (why, in one line)."""


def control_dir() -> Path:
    """The private folder of the socket: `$XDG_RUNTIME_DIR/coach`, else one under the state dir."""
    import platformdirs

    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "coach"
    # No runtime folder (a minimal session): a private one of ours; the lock file's flock,
    # not the folder, tells a live coach from a stale socket, so it may outlive a reboot.
    return platformdirs.user_state_path("coach", appauthor=False) / "run"


def supported() -> bool:
    """Unix sockets and flock exist here (not on Windows)."""
    return hasattr(socket, "AF_UNIX") and os.name == "posix"


class SocketLock:
    """The per-user lock (an flock on control.lock, held while the coach runs) and its socket.

    The flock ends with the process however it ends, so a socket file left by a crash is
    stale exactly when nobody holds the lock: the next coach removes it and binds anew.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket_path = folder / SOCKET_NAME
        self._lock_fd: int | None = None
        self._bound_inode: int | None = None

    def acquire(self) -> bool:
        """Take the lock and write our pid in it; False when another process holds it.

        Raises:
            SocketUnavailable: the folder or the lock file cannot be made.
        """
        import fcntl

        try:
            private_dir(self.folder, tighten_existing=True)
            fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        except OSError as exc:
            raise SocketUnavailable(f"cannot use {self.folder}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return False
            raise SocketUnavailable(
                f"cannot lock {self.folder / LOCK_NAME}: {exc.strerror}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
        return True

    def bind(self) -> socket.socket:
        """The listening socket, in place of a stale one; call with the lock held.

        Raises:
            SocketUnavailable: it cannot be bound (a path too long, a read-only folder...).
        """
        assert self._lock_fd is not None, "bind only with the lock held"
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # stale: its coach let go of the lock, so it is gone
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(self.socket_path))
            self.socket_path.chmod(PRIVATE_FILE_MODE)  # the 0700 folder guards it meanwhile
            sock.listen(8)
            sock.setblocking(False)
            self._bound_inode = self.socket_path.stat().st_ino
        except OSError as exc:
            sock.close()
            why = exc.strerror or str(exc)
            raise SocketUnavailable(f"cannot listen on {self.socket_path}: {why}") from None
        return sock

    def release(self) -> None:
        """Remove our socket file and let go of the lock (in that order: no one can bind between)."""
        if self._bound_inode is not None:
            with contextlib.suppress(OSError):
                if self.socket_path.stat().st_ino == self._bound_inode:
                    self.socket_path.unlink()
            self._bound_inode = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None


def holder_pid(folder: Path) -> int | None:
    """The pid the lock's holder wrote, if it can be read."""
    try:
        text = (folder / LOCK_NAME).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


class ControlServer:
    """The socket served on an event loop: each connection's one JSON request gets `handle`'s reply."""

    def __init__(self, handle: Handler, timeout_s: float) -> None:
        self._handle = handle
        self._timeout_s = timeout_s
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, sock: socket.socket) -> None:
        """Serve on the bound socket (call on the loop that will serve it)."""
        self._server = await asyncio.start_unix_server(
            self._connected, sock=sock, limit=MAX_LINE_BYTES
        )

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            line = await asyncio.wait_for(reader.readline(), self._timeout_s)
            writer.write(_encode(_answer(line, self._handle)))
            await asyncio.wait_for(writer.drain(), self._timeout_s)
        except (TimeoutError, OSError, ValueError):
            pass  # a client that stalls, hangs up or floods gets nothing; the coach runs on
        finally:
            writer.close()
            if task is not None:
                self._connections.discard(task)

    async def close(self) -> None:
        """Stop listening and end the connections still open."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)


def _answer(line: bytes, handle: Handler) -> Reply:
    try:
        request = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return {"ok": False, "error": "the request is not one line of JSON"}
    if not isinstance(request, dict):
        return {"ok": False, "error": "the request is not a JSON object"}
    return handle(request)


def _encode(reply: Reply) -> bytes:
    return json.dumps(reply, separators=(",", ":")).encode() + b"\n"


def request(path: Path, message: Reply, timeout_s: float) -> Reply | None:
    """Send one request and read the reply; None when nothing listens there (no coach).

    Raises:
        OSError: a coach is there but did not answer in time, or hung up.
        ValueError: its reply was not a JSON object.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        except OSError as exc:
            if exc.errno in (errno.ENOTDIR, errno.ENAMETOOLONG, errno.ENOTSOCK):
                return None
            raise
        sock.sendall(_encode(message))
        received = bytearray()
        while not received.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
            if len(received) > MAX_LINE_BYTES:
                raise ValueError("the reply is too long")
    reply = json.loads(received)
    if not isinstance(reply, dict):
        raise ValueError("the reply is not a JSON object")
    return reply
