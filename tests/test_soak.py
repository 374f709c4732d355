"""The coach stays: no camera at start, a camera lost and back, locks, sleep, a stopped process, a second start."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.mjpeg_camera import wait_for
from tests.soak_harness import SoakCoach, second_start, soak_coach


def covered_outside(coach: SoakCoach) -> tuple[float, float]:
    """Seconds the history covers, and the seconds of declared interruptions."""
    rows = coach.history()
    covered_s = sum(w for _, w, _ in rows)
    declared_s = sum(e["end_s"] - e["start_s"] for e in coach.interruptions())
    return covered_s, declared_s


@pytest.mark.slow
def test_the_coach_waits_for_its_camera_and_comes_back_after_every_fault(tmp_path: Path) -> None:
    with soak_coach(tmp_path, plugged=False) as coach:
        # 1. No camera at start: the coach waits, says so once, and never quits.
        wait_for(lambda: "Camera unavailable" in coach.notifications(), 60, "the camera notice")
        wait_for(lambda: "cannot be reached" in coach.tooltip(), 10, "the tray's no-camera state")
        time.sleep(20)
        assert coach.alive(), coach.stderr
        assert coach.notifications().count("Camera unavailable") == 1
        coach.camera.plug()
        coach.survived("camera appears after 20 s")
        assert "Camera back" in coach.notifications()
        started = time.time()

        # 2. The camera stops for 60 s mid-session and comes back.
        time.sleep(8)
        coach.camera.unplug()
        wait_for(
            lambda: "cannot be reached" in coach.tooltip() or "stopped" in coach.tooltip(),
            15,
            "lost",
        )
        time.sleep(60)
        assert coach.alive(), coach.stderr
        coach.camera.plug()
        coach.survived("camera lost for 60 s")

        # 3. Locked: the camera is let go of within a second, taken back on unlock.
        time.sleep(5)
        coach.desk.lock()
        wait_for(lambda: coach.camera.readers == 0, 1.5, "the camera released on lock")
        time.sleep(8)
        assert coach.camera.readers == 0  # nobody reads the camera while locked
        assert "locked" in coach.tooltip()
        coach.desk.unlock()
        coach.survived("screen locked 8 s")

        # 4. Going to sleep: released before the inhibitor is let go, back after resume.
        time.sleep(5)
        coach.desk.prepare_for_sleep(True)
        wait_for(lambda: coach.camera.readers == 0, 1.5, "the camera released before sleep")
        wait_for(lambda: coach.desk.inhibitors_open() == 0, 2, "the sleep inhibitor let go")
        time.sleep(5)
        coach.desk.prepare_for_sleep(False)
        coach.survived("asleep 5 s")

        # 5. The process stopped for 20 s (what a suspend does to its clock).
        time.sleep(5)
        coach.stop_and_continue(20.0)
        coach.survived("process stopped 20 s")

        # 6. A second start finds the first and leaves it be.
        again = second_start(coach)
        assert again.returncode == 0, again.stderr
        assert "already running" in (again.stdout + again.stderr)
        time.sleep(3)
        assert coach.alive()
        ended = time.time()
        assert coach.quit() == 0

    # The history covers the session but for the declared interruptions: no phantom
    # hours of sitting, no gap that nobody declared.
    covered_s, declared_s = covered_outside(coach)
    session_s = ended - started
    kinds = {e["condition"] for e in coach.interruptions()}
    assert {"no_camera", "locked", "asleep"} <= kinds, coach.interruptions()
    assert covered_s + declared_s == pytest.approx(session_s, abs=25.0), (covered_s, declared_s)
    assert covered_s < session_s - 60.0  # the 60 s without a camera is not in the history
    log = coach.log
    for words in (
        "INFO coach.session: coach started",
        "WARNING coach.activity",  # the camera missing or lost
        "screen locked",
        "screen unlocked",
        "going to sleep",
        "resumed from sleep",
        "interruption",
        "coach stopped",
    ):
        assert words in log, (words, log[-4000:])
    for fault in coach.faults:
        print(f"{fault.name}: coaching again {fault.resumed_after_s:.1f} s after it ended")
        assert fault.resumed_after_s is not None and fault.resumed_after_s < 15.0
