"""Tests the live source on a real MJPEG stream served on localhost: stale frames are dropped."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from coach.config import Config, SourceConfig
from coach.errors import StreamUnreachable
from coach.pose.estimator import PoseEstimator
from coach.source import LiveSource, SourceKind, SourceSpec
from tests.mjpeg_camera import SteadyCamera

pytestmark = pytest.mark.slow


@pytest.fixture
def mjpeg_url(request: pytest.FixtureRequest) -> Iterator[tuple[str, threading.Event]]:
    """An MJPEG camera on 127.0.0.1 at 30 fps; setting the event ends the stream.

    Parametrised indirectly with a number, each connection drops after that many frames.
    """
    with SteadyCamera(getattr(request, "param", 3000)) as camera:
        yield camera.url, camera.stop


def test_a_slow_consumer_gets_the_newest_frames(mjpeg_url, model_path) -> None:
    url, _ = mjpeg_url
    indices, stamps = [], []
    with (
        LiveSource(SourceSpec(SourceKind.STREAM, url), SourceConfig()) as source,
        PoseEstimator(model_path, Config().pose) as estimator,
    ):
        for frame in source.frames():
            sample = estimator.estimate(frame)
            assert sample.pose is not None  # the person in the stream is tracked
            indices.append(frame.index)
            stamps.append(frame.t_s)
            time.sleep(0.15)  # a consumer slower than the 30 fps camera
            if len(indices) == 8:
                break
    steps = [b - a for a, b in itertools.pairwise(indices)]
    assert min(steps) >= 3, indices  # stale frames were dropped, not queued
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert stamps[-1] - stamps[0] == pytest.approx(7 * (stamps[1] - stamps[0]), rel=0.5)


def test_a_stream_that_stops_is_reported(mjpeg_url) -> None:
    url, stop = mjpeg_url
    config = SourceConfig(stream_read_timeout_s=2.0, reconnect_s=2.0)
    with (
        LiveSource(SourceSpec(SourceKind.STREAM, url), config) as source,
        pytest.raises(StreamUnreachable),
    ):
        for i, _frame in enumerate(source.frames()):
            if i == 3:
                stop.set()


@pytest.mark.parametrize("mjpeg_url", [20], indirect=True)
def test_a_dropped_stream_is_reopened(mjpeg_url) -> None:
    url, _ = mjpeg_url
    indices, stamps = [], []
    config = SourceConfig(stream_read_timeout_s=2.0, reconnect_s=10.0)
    with LiveSource(SourceSpec(SourceKind.STREAM, url), config) as source:
        for frame in source.frames():
            indices.append(frame.index)
            stamps.append(frame.t_s)
            if len(indices) == 50:  # the camera drops every 20 frames
                break
    assert all(b > a for a, b in itertools.pairwise(indices))
    assert all(b > a for a, b in itertools.pairwise(stamps))
