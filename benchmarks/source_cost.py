"""What the source stage costs: decoding a sample clip, and a live MJPEG camera at the idle rate.

    python benchmarks/source_cost.py [--code DIR] [--seconds 20]

Prints one JSON object: frames/s and CPU-ms per frame decoding each sample clip in full
(`VideoFileSource`),
and the CPU-seconds per second of this process while a `LiveSource` reads a 30 fps MJPEG
camera on 127.0.0.1 (served by another process, so serving is not counted) through the
loop's own gate, quiet (the user still): thumbnails glanced at 4 a second, one picture
decoded in full a second, no pose model. `--code DIR` measures the `coach` package in DIR
instead (an older checkout, e.g. from `git archive`), so two versions compare in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CAMERA = """
import sys, time
from tests.mjpeg_camera import SteadyCamera
with SteadyCamera() as camera:
    print(camera.url, flush=True)
    sys.stdin.read()
"""


def decode_rates(clips: list[Path]) -> dict[str, dict[str, float]]:
    """Frames per second (wall) and CPU-milliseconds per frame decoding each clip to BGR
    pictures, every frame (the CPU figure is the steadier one on a shared machine)."""
    from coach.source import VideoFileSource

    rates = {}
    for clip in clips:
        started, cpu0 = time.perf_counter(), time.process_time()
        with VideoFileSource(clip) as video:
            count = sum(1 for _ in video.frames())
        wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu0
        rates[clip.name] = {
            "fps": round(count / wall_s, 1),
            "cpu_ms_per_frame": round(1000 * cpu_s / count, 3),
        }
    return rates


def live_cpu(url: str, seconds: float) -> dict[str, float]:
    """CPU-s per s of this process reading `url` for `seconds`, quiet at the idle rate."""
    from coach.config import LoopConfig, SourceConfig
    from coach.decisions.analysis_rate import LookPlan
    from coach.pipeline import RateGate
    from coach.records import Frame
    from coach.source import LiveSource, SourceKind, SourceSpec

    loop = LoopConfig()
    gate = RateGate(lambda: LookPlan(fps=loop.idle_fps, quiet=True), loop)
    analysed = glanced = 0
    with LiveSource(SourceSpec(SourceKind.STREAM, url), SourceConfig()) as source:
        frames = source.frames(gate)
        next(frames)  # opened and flowing: measure from here
        cpu0, wall0 = time.process_time(), time.monotonic()
        for item in frames:
            analysed += isinstance(item, Frame)
            glanced += 1
            if time.monotonic() - wall0 >= seconds:
                break
        cpu_s, wall_s = time.process_time() - cpu0, time.monotonic() - wall0
    return {
        "cpu_s_per_s": round(cpu_s / wall_s, 4),
        "analysed_per_s": round(analysed / wall_s, 2),
        "handed_over_per_s": round(glanced / wall_s, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=REPO, help="the folder holding `coach`")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    sys.path[:0] = [str(args.code.resolve()), str(REPO)]  # `coach` from --code, tests from here
    camera = subprocess.Popen(
        [sys.executable, "-c", CAMERA],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert camera.stdout is not None
        url = camera.stdout.readline().strip()
        result = {
            "code": str(args.code),
            "decode_fps": decode_rates(sorted((REPO / "sample_videos").glob("*.mp4"))),
            "live_idle": live_cpu(url, args.seconds),
        }
    finally:
        camera.communicate("", timeout=10)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
