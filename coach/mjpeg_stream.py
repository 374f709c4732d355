"""Provides a plain-socket reader for HTTP MJPEG streams: each picture handed over undecoded."""

from __future__ import annotations

import base64
import http.client
import re
import socket
import urllib.parse
from typing import Any

import numpy as np

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)

_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)")
# How much is asked of the socket at once: a few reads per picture.
_CHUNK_BYTES = 64 * 1024
# Part headers longer than this are not MJPEG: the reader gives up rather than buffer them.
_MAX_HEAD_BYTES = 16 * 1024
# No camera picture is this big; a larger Content-Length means the stream is not what it says.
_MAX_PICTURE_BYTES = 32 * 1024 * 1024


class MjpegStream:
    """An HTTP multipart/x-mixed-replace stream read part by part, the way a capture is read.

    `grab()` takes the next picture off the socket; `retrieve()` hands it over as a 1-D
    byte array (a JPEG) for the loop to glance at or decode. FFmpeg reads the same stream
    at about twice the CPU (it parses and copies each packet through its demuxer), which
    is most of what the coach costs while the user sits still.
    """

    def __init__(self, response: http.client.HTTPResponse, boundary: str) -> None:
        self._response = response
        self._boundary = b"--" + boundary.encode("latin-1")
        self._picture: bytes | None = None
        self._pending = False
        self._buffer = bytearray()
        """Read from the socket, not yet handed over."""

    def get(self, prop: int) -> float:
        """No property is known from the stream (the frame rate is the camera's setting)."""
        return 0.0

    def first_picture(self) -> bool:
        """Read the first picture now, as FFmpeg does when it opens a stream: a server that
        answers but sends no picture is not a working camera (False)."""
        self._pending = self.grab()
        return self._pending

    def grab(self) -> bool:
        """Read the next picture; False when the stream ends, breaks or stalls."""
        if self._pending:  # the first picture, read when the stream was opened
            self._pending = False
            return True
        try:
            self._picture = self._next_part()
        except (OSError, http.client.HTTPException, ValueError):
            self._picture = None
        return self._picture is not None

    def retrieve(self) -> tuple[bool, Any]:
        """The picture grab() read, as an undecoded JPEG byte array."""
        if not self._picture:
            return False, None
        return True, np.frombuffer(self._picture, dtype=np.uint8)

    def release(self) -> None:
        """Hang up."""
        self._response.close()

    def _fill(self, buffer: bytearray) -> None:
        chunk = self._response.read1(_CHUNK_BYTES)
        if not chunk:
            raise ValueError("the stream ended")
        buffer += chunk

    def _next_part(self) -> bytes:
        # Whole chunks are scanned with bytes.find (in C), not line by line: reading the
        # camera's 30 pictures a second is then a few system calls each and little Python.
        buffer = self._buffer
        start = buffer.find(self._boundary)
        while start < 0:
            del buffer[: max(len(buffer) - len(self._boundary), 0)]  # keep a split boundary
            self._fill(buffer)
            start = buffer.find(self._boundary)
        head_end = buffer.find(b"\r\n\r\n", start)
        while head_end < 0:
            if len(buffer) - start > _MAX_HEAD_BYTES:
                raise ValueError("a part header that never ends: not MJPEG")
            self._fill(buffer)
            head_end = buffer.find(b"\r\n\r\n", start)
        length_match = _CONTENT_LENGTH.search(buffer, start, head_end)
        body = head_end + 4
        if length_match is None:
            # A part without a Content-Length runs to the next boundary line.
            end = buffer.find(b"\r\n" + self._boundary, body)
            while end < 0:
                if len(buffer) - body > _MAX_PICTURE_BYTES:
                    raise ValueError("a picture that never ends: not MJPEG")
                self._fill(buffer)
                end = buffer.find(b"\r\n" + self._boundary, body)
            picture = bytes(buffer[body:end])
            del buffer[:end]
            return picture
        length = int(length_match.group(1))
        if not 0 < length <= _MAX_PICTURE_BYTES:
            raise ValueError(f"a part of {length} bytes: not a camera picture")
        while len(buffer) < body + length:
            self._fill(buffer)
        picture = bytes(buffer[body : body + length])
        del buffer[: body + length]
        return picture


def open_mjpeg(url: str, open_timeout_s: float, read_timeout_s: float) -> MjpegStream | None:
    """Connect to an http(s) URL; the stream if it is MJPEG, None if it is anything else.

    Raises OSError (or http.client.HTTPException) when the server cannot be reached.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    connection_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_type(parts.hostname, parts.port, timeout=open_timeout_s)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = {"Accept": "multipart/x-mixed-replace, image/jpeg, */*"}
    if parts.username is not None:
        secret = (
            f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        )
        headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode("ascii")
    try:
        connection.request("GET", path, headers=headers)
        sock = connection.sock  # the response keeps reading it after the connection lets go
        response = connection.getresponse()
    except (OSError, http.client.HTTPException):
        connection.close()
        raise
    content_type = response.getheader("Content-Type", "")
    match = _BOUNDARY.search(content_type)
    if response.status != 200 or "multipart/" not in content_type.lower() or match is None:
        connection.close()
        return None
    if isinstance(sock, socket.socket):
        sock.settimeout(read_timeout_s)
    stream = MjpegStream(response, match.group(1).strip())
    if not stream.first_picture():
        stream.release()
        raise ConnectionError("the stream sends no picture")
    return stream
