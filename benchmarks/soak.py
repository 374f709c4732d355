"""The long soak: a coach in the tray for MINUTES with a fault every few minutes; prints what it survived.

    python benchmarks/soak.py [--minutes 30] [--every 3]

Real processes on a desktop of its own (private session and system buses with a
notification server, a tray watcher, logind and screensaver stand-ins) and an MJPEG
camera on 127.0.0.1 (tests/soak_harness.py). The faults come in turn: the camera unplugged
for a minute, the screen locked, a sleep, the process stopped (a suspend's clock jump), a
second `coach start`. For each: whether the coach lived, and the seconds of coaching lost
after the fault ended (until a posture snapshot came again).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.mjpeg_camera import wait_for
from tests.soak_harness import SoakCoach, second_start, soak_coach


def unplug(coach: SoakCoach) -> str:
    coach.camera.unplug()
    time.sleep(60)
    coach.camera.plug()
    return "camera unplugged 60 s"


def lock(coach: SoakCoach) -> str:
    coach.desk.lock()
    wait_for(lambda: coach.camera.readers == 0, 1.5, "the camera released on lock")
    time.sleep(30)
    coach.desk.unlock()
    return "screen locked 30 s (camera released within 1.5 s)"


def sleep(coach: SoakCoach) -> str:
    coach.desk.prepare_for_sleep(True)
    wait_for(lambda: coach.camera.readers == 0, 1.5, "the camera released before sleep")
    time.sleep(20)
    coach.desk.prepare_for_sleep(False)
    return "asleep 20 s"


def stop(coach: SoakCoach) -> str:
    coach.stop_and_continue(40.0)
    return "process stopped 40 s"


def again(coach: SoakCoach) -> str:
    result = second_start(coach)
    if result.returncode != 0:
        raise AssertionError(f"a second start failed: {result.stderr.strip()}")
    return "second start (exit 0)"


FAULTS: tuple[Callable[[SoakCoach], str], ...] = (unplug, lock, sleep, stop, again)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=3.0, help="minutes between faults")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coach-soak-") as folder:
        tmp_path = Path(folder)
        started = time.time()
        deadline = started + args.minutes * 60.0
        with soak_coach(tmp_path) as coach:
            coach.wait_coaching(120)
            print(f"coaching after {time.time() - started:.1f} s", flush=True)
            for fault in itertools.cycle(FAULTS):
                next_at = time.time() + args.every * 60.0
                if next_at > deadline:
                    break
                while time.time() < next_at and coach.alive():
                    time.sleep(1.0)
                if not coach.alive():
                    break
                name = fault(coach)
                survived = coach.survived(name, timeout_s=120)
                print(
                    f"{time.time() - started:7.0f} s  {name}: alive, coaching again "
                    f"{survived.resumed_after_s:.1f} s after it ended",
                    flush=True,
                )
            while time.time() < deadline and coach.alive():
                time.sleep(1.0)
            alive = coach.alive()
            uptime_s = time.time() - started
            code = coach.quit() if alive else coach.proc.returncode
        lost = [f.resumed_after_s for f in coach.faults if f.resumed_after_s is not None]
        print()
        print(f"uptime {uptime_s / 60:.1f} min, alive to the end: {alive}, exit {code}")
        print(f"faults survived: {len(coach.faults)}")
        if lost:
            print(
                f"coaching lost after a fault ended: mean {sum(lost) / len(lost):.1f} s, "
                f"worst {max(lost):.1f} s"
            )
        return 0 if alive and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
