"""The pose model's wheel fetched over HTTP from a package index: progress, hashes, errors.

A package index on 127.0.0.1 (http.server on a thread) serves a wheel made of the real pinned
tflites (taken from the built model), so the real download, the hash checks and the build run
without the internet; `tests/test_model_store.py` and `tests/test_install.py` fetch from PyPI.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rich.console import Console

from coach.errors import ModelError
from coach.pose import model_fetch, model_store
from coach.progress import Report, Unit, no_progress, terminal_progress
from tests.conftest import MODEL

WHEEL_NAME = model_fetch.PREFERRED_WHEEL
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@pytest.fixture(scope="module")
def wheel_bytes() -> bytes:
    """A wheel holding the two pinned tflites at their wheel paths (from the built model)."""
    if not MODEL.exists():
        pytest.skip(f"no built model at {MODEL}; run `make setup`")
    with zipfile.ZipFile(MODEL) as task:
        detector = task.read(model_store.TASK_DETECTOR_NAME)
        landmarks = task.read(model_store.TASK_LANDMARKS_NAME)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as wheel:
        wheel.writestr(model_store.DETECTOR_WHEEL_MEMBER, detector)
        wheel.writestr(model_store.LANDMARKS_WHEEL_MEMBER, landmarks)
        wheel.writestr("mediapipe-0.10.21.dist-info/METADATA", "Name: mediapipe\n")
    return out.getvalue()


@contextmanager
def index_serving(pages: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    """A package index on 127.0.0.1 serving `pages` (path -> content type, body); its URL."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            found = pages.get(self.path)
            if found is None:
                self.send_error(404)
                return
            content_type, body = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            """Quiet: the test's output stays readable."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def json_index(wheel: bytes, sha256: str | None = None) -> dict[str, tuple[str, bytes]]:
    digest = sha256 or hashlib.sha256(wheel).hexdigest()
    files = [
        {"filename": "mediapipe-0.10.20-cp311-cp311-manylinux_2_28_x86_64.whl", "url": "../x",
         "hashes": {"sha256": "0" * 64}},
        {"filename": WHEEL_NAME, "url": f"../../files/{WHEEL_NAME}", "size": len(wheel),
         "hashes": {"sha256": digest}},
    ]  # fmt: skip
    page = json.dumps({"meta": {"api-version": "1.1"}, "name": "mediapipe", "files": files})
    return {
        "/simple/mediapipe/": (JSON_TYPE, page.encode()),
        f"/files/{WHEEL_NAME}": ("application/octet-stream", wheel),
    }


class Recorder:
    """A progress factory that remembers what each bar was told."""

    def __init__(self) -> None:
        self.bars: list[tuple[str, float | None, Unit, list[float]]] = []

    @contextmanager
    def __call__(self, description: str, total: float | None, unit: Unit) -> Iterator[Report]:
        done: list[float] = []
        self.bars.append((description, total, unit, done))
        yield done.append


def test_the_wheel_comes_from_the_json_index_with_progress_and_its_hash_checked(
    wheel_bytes: bytes, tmp_path: Path
) -> None:
    bars = Recorder()
    with index_serving(json_index(wheel_bytes)) as index:
        path = model_fetch.fetch_wheel(tmp_path / "cache", index=index, progress=bars)

    assert path == tmp_path / "cache" / WHEEL_NAME
    assert path.read_bytes() == wheel_bytes
    assert [p.name for p in path.parent.iterdir()] == [WHEEL_NAME]  # no .part left
    ((description, total, unit, done),) = bars.bars
    assert (description, total, unit) == (
        "downloading the pose model",
        len(wheel_bytes),
        Unit.BYTES,
    )
    assert done == sorted(done) and done[-1] == len(wheel_bytes)


def test_an_html_index_page_serves_too(wheel_bytes: bytes, tmp_path: Path) -> None:
    digest = hashlib.sha256(wheel_bytes).hexdigest()
    page = f'<html><body><a href="/files/{WHEEL_NAME}#sha256={digest}">{WHEEL_NAME}</a></body>'
    pages = {
        "/simple/mediapipe/": ("text/html", page.encode()),
        f"/files/{WHEEL_NAME}": ("application/octet-stream", wheel_bytes),
    }
    with index_serving(pages) as index:
        path = model_fetch.fetch_wheel(tmp_path, index=index)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_wheel_whose_hash_differs_from_the_index_is_not_kept(
    wheel_bytes: bytes, tmp_path: Path
) -> None:
    with (
        index_serving(json_index(wheel_bytes, sha256="ab" * 32)) as index,
        pytest.raises(ModelError) as caught,
    ):
        model_fetch.fetch_wheel(tmp_path, index=index)
    message = str(caught.value)
    assert f"the downloaded {WHEEL_NAME} has SHA-256" in message
    assert "but the index publishes abababababababab" in message
    assert message.endswith("try again, or pass --model FILE") and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_an_index_without_the_release_says_so(tmp_path: Path) -> None:
    page = json.dumps({"files": [{"filename": "mediapipe-0.10.20-py3-none-any.whl", "url": "x",
                                  "hashes": {"sha256": "0" * 64}}]})  # fmt: skip
    with (
        index_serving({"/simple/mediapipe/": (JSON_TYPE, page.encode())}) as index,
        pytest.raises(ModelError, match=r"lists no mediapipe 0\.10\.21 wheel with a SHA-256"),
    ):
        model_fetch.fetch_wheel(tmp_path, index=index)


def test_the_model_is_built_from_the_download_and_then_needs_no_network(
    wheel_bytes: bytes, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    logged: list[str] = []
    with index_serving(json_index(wheel_bytes)) as index:
        built = model_store.ensure_default_model(models, index=index, log=logged.append)
    assert built.read_bytes() == MODEL.read_bytes()  # the same bytes as `make setup` built
    assert any(
        line.startswith("downloading mediapipe==0.10.21 from http://127.0.0.1") for line in logged
    )

    # The server is gone: the model is reused, and a rebuild takes the cached wheel.
    assert model_store.ensure_default_model(models, index=index) == built
    built.unlink()
    assert model_store.ensure_default_model(models, index=index).read_bytes() == MODEL.read_bytes()


def test_a_tampered_tflite_in_a_well_hashed_wheel_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as wheel:
        wheel.writestr(model_store.DETECTOR_WHEEL_MEMBER, b"not the pinned detector")
        wheel.writestr(model_store.LANDMARKS_WHEEL_MEMBER, b"not the pinned landmarks")
    with (
        index_serving(json_index(out.getvalue())) as index,
        pytest.raises(ModelError, match=r"pose_detection\.tflite in .* has SHA-256 \w+, expected"),
    ):
        model_store.ensure_default_model(tmp_path / "models", index=index)
    assert not (tmp_path / "models" / model_store.DEFAULT_MODEL_NAME).exists()


def test_the_index_is_pypi_unless_one_is_named() -> None:
    assert model_fetch.index_url({}) == "https://pypi.org/simple/"
    assert (
        model_fetch.index_url({"PIP_INDEX_URL": "file:///opt/pypi"}) == "https://pypi.org/simple/"
    )
    mirror = {"PIP_INDEX_URL": "https://mirror.example/simple"}
    assert model_fetch.index_url(mirror) == "https://mirror.example/simple/"
    both = {**mirror, "COACH_INDEX_URL": "http://127.0.0.1:9/simple/"}
    assert model_fetch.index_url(both) == "http://127.0.0.1:9/simple/"


def test_bars_show_on_a_terminal_only() -> None:
    piped = Console(file=io.StringIO(), force_terminal=False)
    assert terminal_progress(piped) is no_progress

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    with terminal_progress(terminal)("downloading the pose model", 2_000_000, Unit.BYTES) as report:
        report(1_000_000)
    drawn = screen.getvalue()
    assert "downloading the pose model" in drawn and "1.0/2.0 MB" in drawn and "left" in drawn
