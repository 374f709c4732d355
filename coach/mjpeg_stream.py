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

# A part header line longer than this is not MJPEG: the reader gives up rather than buffer it.
_MAX_LINE = 4096
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
        self._in_part = False
        """A part's boundary line was read already (the previous part ran up to it)."""

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

    def _line(self) -> bytes:
        line = self._response.readline(_MAX_LINE + 1)
        if not line or len(line) > _MAX_LINE:
            raise ValueError("the stream ended or is not MJPEG")
        return line

    def _next_part(self) -> bytes:
        if not self._in_part:
            while not self._line().startswith(self._boundary):
                pass
        self._in_part = False
        length: int | None = None
        while (line := self._line().strip()) != b"":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            return self._until_boundary()
        if not 0 < length <= _MAX_PICTURE_BYTES:
            raise ValueError(f"part of {length} bytes")
        picture = self._response.read(length)
        if len(picture) != length:
            raise ValueError("the stream ended inside a picture")
        return picture

    def _until_boundary(self) -> bytes:
        """A part without a Content-Length runs to the next boundary line."""
        lines: list[bytes] = []
        while True:
            line = self._response.readline(_MAX_PICTURE_BYTES)
            if not line:
                raise ValueError("the stream ended inside a picture")
            if line.startswith(self._boundary):
                self._in_part = True
                break
            lines.append(line)
        picture = b"".join(lines)
        return picture[:-2] if picture.endswith(b"\r\n") else picture


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
