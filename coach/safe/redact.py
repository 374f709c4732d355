"""Provides the one redaction of credentials in a source: what may be shown, logged, stored or exported.

Only the capture itself opens the real URL; every other use of a source goes through `redact`.
"""

from __future__ import annotations

import re

MASK = "***"

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)

# Query (or fragment) parameters whose values may be credentials, by a part of their name.
_SECRET_NAME = re.compile(
    r"pass|pwd|token|key|secret|auth|sig|credential|session|cookie|jwt|user|login|account",
    re.IGNORECASE,
)


def _redact_params(text: str) -> str:
    """`a=1&token=x` → `a=1&token=***` (names kept, so the user can still tell the URLs apart)."""
    parts = []
    for part in re.split(r"([?&;#])", text):
        name, equals, value = part.partition("=")
        if equals and value and _SECRET_NAME.search(name):
            part = f"{name}={MASK}"
        parts.append(part)
    return "".join(parts)


def redact(source: str) -> str:
    """The source with a URL's user and password, and secret-looking query values, as ***.

    Anything that is not a URL (a camera index, a file path) is returned unchanged.
    """
    match = _URL.match(source)
    if match is None:
        return source
    scheme, rest = source[: match.end()], source[match.end() :]
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    head, tail = rest[:cut], rest[cut:]
    # Everything up to the last "@" before the query is user information: a password may
    # itself hold "@" or "/", so the whole of it goes.
    if "@" in head:
        head = f"{MASK}@{head.rpartition('@')[2]}"
    return scheme + head + _redact_params(tail)
