"""The camera keeper: a camera missing, lost, busy or held (locked, paused) is waited for, never given up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from coach.errors import CameraUnavailable, StreamUnreachable
from coach.records import Condition, Frame, Interruption, LiveStatus, SkippedFrame
from coach.source.gate import FrameGate
from coach.source.keeper import Backoff, CameraKeeper

FAST = Backoff(first_s=0.01, most_s=0.04)


class FakeCamera:
    """A camera that yields a frame every `period_s` of real time, fails when told, and
    records when it is opened and released."""

    def __init__(self, fail_after: int | None = None, period_s: float = 0.01) -> None:
        self.description = "camera 0"
        self.fps = 30.0
        self.closed = threading.Event()
        self._fail_after = fail_after
        self._period_s = period_s
        self._origin_s = time.monotonic()
        self._wake = threading.Event()

    def frames(
        self, gate: FrameGate | None = None, interrupted: Callable[[], bool] | None = None
    ) -> Iterator[Frame | SkippedFrame]:
        index = 0
        while not self.closed.is_set():
            if interrupted is not None and interrupted():
                return
            if self._fail_after is not None and index >= self._fail_after:
                raise StreamUnreachable("stream x stopped delivering frames; reconnect it")
            self._wake.wait(self._period_s)
            self._wake.clear()
            if interrupted is not None and interrupted():
                return
            yield SkippedFrame(t_s=time.monotonic() - self._origin_s, index=index)
            index += 1

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self.closed.set()


class Scripted:
    """What the keeper opens, try by try: an exception to raise or a camera to return."""

    def __init__(self, *tries: FakeCamera | Exception) -> None:
        self.tries = list(tries)
        self.opened: list[FakeCamera] = []
        self.attempts = 0

    def __call__(self, origin_s: float) -> FakeCamera:
        self.attempts += 1
        item = self.tries.pop(0) if len(self.tries) > 1 else self.tries[0]
        if isinstance(item, Exception):
            raise item
        self.opened.append(item)
        return item


def keeper_for(
    opener: Scripted,
    held: Callable[[], LiveStatus | None] = lambda: None,
    stop: threading.Event | None = None,
    give_up_s: float | None = None,
) -> tuple[CameraKeeper, list[LiveStatus], list[Interruption]]:
    said: list[LiveStatus] = []
    gaps: list[Interruption] = []
    stopped = stop or threading.Event()
    keeper = CameraKeeper(
        opener,
        held,
        stopped.is_set,
        said.append,
        gaps.append,
        where="camera 0",
        backoff=FAST,
        give_up_s=give_up_s,
        clock=time.monotonic,
    )
    return keeper, said, gaps


BUSY = CameraUnavailable("camera 0 cannot be opened (missing, busy in another app); close it")


def test_a_camera_missing_at_start_is_waited_for_and_said_once() -> None:
    camera = FakeCamera()
    opener = Scripted(BUSY, BUSY, BUSY, camera)
    keeper, said, gaps = keeper_for(opener)
    frames = keeper.frames()
    first = next(frames)
    assert opener.attempts == 4
    assert [s.condition for s in said] == [Condition.NO_CAMERA, Condition.COACHING]
    assert "busy in another app" in said[0].detail and said[0].retry_in_s is not None
    # The time without a camera is told to the analysis, ending at the first frame.
    assert len(gaps) == 1 and gaps[0].condition is Condition.NO_CAMERA
    assert gaps[0].end_s == pytest.approx(first.t_s) and gaps[0].start_s <= gaps[0].end_s
    assert not gaps[0].rest


def test_a_camera_lost_mid_session_is_released_and_reopened() -> None:
    lost, back = FakeCamera(fail_after=3), FakeCamera()
    opener = Scripted(lost, BUSY, back)
    keeper, said, gaps = keeper_for(opener)
    frames = keeper.frames()
    seen = [next(frames) for _ in range(6)]
    assert lost.closed.is_set()  # the lost camera was let go of
    assert opener.opened == [lost, back]
    assert [s.condition for s in said] == [Condition.NO_CAMERA, Condition.COACHING]
    assert len(gaps) == 1 and gaps[0].condition is Condition.NO_CAMERA
    assert len(seen) == 6


def test_a_bounded_wait_gives_up_with_the_cameras_own_error() -> None:
    keeper, said, _ = keeper_for(Scripted(BUSY), give_up_s=0.1)
    started = time.monotonic()
    with pytest.raises(CameraUnavailable, match="busy in another app"):
        next(keeper.frames())
    assert time.monotonic() - started < 2.0
    assert [s.condition for s in said] == [Condition.NO_CAMERA]


def test_a_lock_releases_the_camera_within_a_second_and_unlock_takes_it_back() -> None:
    first, second = FakeCamera(period_s=0.5), FakeCamera()
    locked = threading.Event()
    status = LiveStatus(Condition.LOCKED, "screen locked: camera released")

    def held() -> LiveStatus | None:
        return status if locked.is_set() else None

    opener = Scripted(first, second)
    keeper, said, gaps = keeper_for(opener, held)
    frames = keeper.frames()
    next(frames)
    released: list[bool] = []

    def lock_soon() -> None:
        time.sleep(0.05)
        locked.set()
        started = time.monotonic()
        released.append(keeper.hold_changed(wait_s=1.0))
        released.append(time.monotonic() - started < 1.0)
        time.sleep(0.3)
        locked.clear()
        keeper.hold_changed()

    thread = threading.Thread(target=lock_soon)
    thread.start()
    after = next(frames)  # blocks while locked, then comes from the reopened camera
    thread.join()
    assert released == [True, True]
    assert first.closed.is_set() and opener.opened == [first, second]
    assert [s.condition for s in said] == [Condition.LOCKED, Condition.COACHING]
    assert len(gaps) == 1 and gaps[0].condition is Condition.LOCKED and gaps[0].rest
    assert gaps[0].duration_s >= 0.25 and gaps[0].end_s == pytest.approx(after.t_s)


def test_stopping_while_waiting_for_a_camera_ends_the_frames() -> None:
    stop = threading.Event()
    keeper, _, _ = keeper_for(Scripted(BUSY), stop=stop)
    threading.Timer(0.1, stop.set).start()
    assert list(keeper.frames()) == []


def test_reopen_lets_go_of_the_camera_and_opens_the_one_chosen_now() -> None:
    """The camera setting changed (the tray's Settings menu): the old one is released and
    `open_source` is asked again, on the same stream time."""
    old, new = FakeCamera(), FakeCamera()
    opener = Scripted(old, new)
    keeper, said, gaps = keeper_for(opener)
    frames = keeper.frames()
    before = [next(frames) for _ in range(3)]
    keeper.reopen()
    after = [next(frames) for _ in range(3)]
    assert old.closed.is_set() and not new.closed.is_set()
    assert opener.opened == [old, new]
    assert said == [] and gaps == []  # a switch, not an outage
    assert before[-1].t_s < after[0].t_s
    frames.close()
    assert new.closed.is_set()


def test_a_camera_chosen_while_none_answers_is_tried_at_once() -> None:
    """Waiting out a long backoff for a missing camera, a change of the camera setting (applied
    by `idle` on the loop's thread) makes the keeper try the new one without waiting."""
    chosen = FakeCamera()
    opener = Scripted(BUSY, chosen)
    calls: list[float] = []
    keeper: CameraKeeper | None = None

    def idle() -> None:
        calls.append(time.monotonic())
        if len(calls) == 2:  # the tray's choice arrives while the keeper waits
            assert keeper is not None
            keeper.reopen()

    keeper = CameraKeeper(
        opener,
        lambda: None,
        lambda: False,
        lambda _status: None,
        lambda _gap: None,
        where="camera 0",
        backoff=Backoff(first_s=30.0, most_s=60.0),
        clock=time.monotonic,
        idle=idle,
    )
    started = time.monotonic()
    frames = keeper.frames()
    next(frames)
    assert time.monotonic() - started < 5.0  # not the 30 s backoff
    assert opener.opened == [chosen] and opener.attempts == 2
    frames.close()
