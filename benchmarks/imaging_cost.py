"""Times coach.imaging's operations against OpenCV's on a real 640 x 480 frame, and against inference.

Usage: python benchmarks/imaging_cost.py [--repeat N]. Each operation runs as the coach runs it
(the detector's 224 px letterbox, the landmark model's turned 256 px crop, the 32 x 24 light
thumbnail, the gate's 80 x 60 thumbnail, and an 800 x 600 frame shrunk to 640 wide); the
best of N runs is printed for NumPy and OpenCV with their ratio, then the pixel work of one
analysed frame, and the median time estimate() takes per frame of a clip on each (turn about).
On a shared machine best-of-N is the figure other work inflates least.
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from coach import imaging  # noqa: E402
from coach.config import Config  # noqa: E402
from coach.imaging import Border  # noqa: E402
from coach.pose.estimator import PoseEstimator  # noqa: E402
from coach.pose.graph import DETECTOR_INPUT_PX, LANDMARKS_INPUT_PX, letterbox  # noqa: E402
from coach.pose.model_store import DEFAULT_MODEL_NAME  # noqa: E402
from coach.records import Frame  # noqa: E402
from coach.source.gate import thumbnail  # noqa: E402
from testkit import opencv_reference as opencv  # noqa: E402
from testkit.opencv_reference import opencv_in_estimator  # noqa: E402

MODEL = REPO / "models" / DEFAULT_MODEL_NAME


def best_ms(call: Callable[[], Any], repeat: int) -> float:
    """The fastest of `repeat` single calls, in milliseconds (after one warm-up call)."""
    call()
    return min(timeit.repeat(call, number=1, repeat=repeat)) * 1000.0


def sample_frame(index: int = 40) -> Any:
    """Frame `index` of the neutral sample clip (640 x 480)."""
    capture = cv2.VideoCapture(str(REPO / "sample_videos" / "neutral.mp4"))
    image = None
    for _ in range(index + 1):
        ok, image = capture.read()
        if not ok:
            raise SystemExit("sample_videos/neutral.mp4 is missing or short: run `make setup`")
    capture.release()
    return np.asarray(image, dtype=np.uint8)


def operations(frame: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Each operation as the coach calls it: (NumPy, OpenCV)."""
    height, width = frame.shape[:2]
    scale, offset_x, offset_y = letterbox(width, height, DETECTOR_INPUT_PX)
    letterbox_map = np.array([[scale, 0.0, offset_x], [0.0, scale, offset_y]], np.float32)
    # A person's region: 360 px, turned 0.2 rad, its foot past the bottom edge.
    half, angle = 180.0, 0.2
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = (np.array([[-half, -half], [half, -half], [-half, half]]) @ rotation.T) + [320, 330]
    corners = corners.astype(np.float32)
    side = float(LANDMARKS_INPUT_PX)
    target = np.array([[0.0, 0.0], [side, 0.0], [0.0, side]], np.float32)
    crop_map = opencv.affine_from_points(corners, target)
    large = np.asarray(cv2.resize(frame, (800, 600)), dtype=np.uint8)
    return {
        "detector letterbox 224": (
            lambda: imaging.warp_affine(frame, letterbox_map, DETECTOR_INPUT_PX, Border.CONSTANT),
            lambda: opencv.warp_affine(frame, letterbox_map, DETECTOR_INPUT_PX, Border.CONSTANT),
        ),
        "landmark crop 256 turned": (
            lambda: imaging.warp_affine(frame, crop_map, LANDMARKS_INPUT_PX, Border.REPLICATE),
            lambda: opencv.warp_affine(frame, crop_map, LANDMARKS_INPUT_PX, Border.REPLICATE),
        ),
        "affine map": (
            lambda: imaging.affine_from_points(corners, target),
            lambda: opencv.affine_from_points(corners, target),
        ),
        "light thumbnail 32x24": (
            lambda: imaging.bgr_to_grey(imaging.area_resize(frame, 32, 24)),
            lambda: opencv.bgr_to_grey(opencv.area_resize(frame, 32, 24)),
        ),
        "gate thumbnail 80x60": (
            lambda: thumbnail(frame),
            lambda: opencv.area_resize(opencv.bgr_to_grey(frame), 80, 60),
        ),
        "grey 640x480": (lambda: imaging.bgr_to_grey(frame), lambda: opencv.bgr_to_grey(frame)),
        "bgr to rgb 640x480": (lambda: imaging.bgr_to_rgb(frame), lambda: opencv.bgr_to_rgb(frame)),
        "shrink 800x600 to 640": (
            lambda: imaging.area_resize(large, 640, 480),
            lambda: opencv.area_resize(large, 640, 480),
        ),
    }


def clip_frames(count: int) -> list[Frame]:
    """The first `count` frames of the neutral sample clip, at 15 frames a second."""
    capture = cv2.VideoCapture(str(REPO / "sample_videos" / "neutral.mp4"))
    out = []
    for index in range(count):
        ok, image = capture.read()
        if not ok:
            break
        out.append(Frame(image=np.asarray(image, np.uint8), t_s=index / 15.0, index=index))
    capture.release()
    return out


def interleaved_estimates(frames: list[Frame]) -> tuple[list[float], list[float]]:
    """Milliseconds per estimate() on NumPy and on OpenCV, frame by frame in turn (two
    estimators, so both see the same load at the same moments)."""
    numpy_ms: list[float] = []
    opencv_ms: list[float] = []
    with (
        PoseEstimator(MODEL, Config().pose) as ours,
        PoseEstimator(MODEL, Config().pose) as theirs,
    ):
        for frame in frames:
            started = time.perf_counter()
            ours.estimate(frame)
            numpy_ms.append((time.perf_counter() - started) * 1000)
            with opencv_in_estimator():
                started = time.perf_counter()
                theirs.estimate(frame)
                opencv_ms.append((time.perf_counter() - started) * 1000)
    return numpy_ms[1:], opencv_ms[1:]  # the first frame also runs the detector


def main() -> int:
    """Time, compare and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=60, help="runs per figure (best is kept)")
    parser.add_argument("--frames", type=int, default=150, help="frames for the estimate() figure")
    args = parser.parse_args()
    frame = sample_frame()
    print(f"{'operation':28s} {'numpy ms':>9s} {'opencv ms':>10s} {'ratio':>7s}")
    timed: dict[str, tuple[float, float]] = {}
    for name, (ours, theirs) in operations(frame).items():
        ours_ms, theirs_ms = best_ms(ours, args.repeat), best_ms(theirs, args.repeat)
        timed[name] = (ours_ms, theirs_ms)
        print(f"{name:28s} {ours_ms:9.3f} {theirs_ms:10.3f} {ours_ms / theirs_ms:6.1f}x")
    # Every analysed frame: the landmark crop, its map and the light thumbnail (the detector's
    # letterbox only while nobody is followed, or every REDETECT_INTERVAL_S).
    per_frame = ["landmark crop 256 turned", "affine map", "light thumbnail 32x24"]
    ours_frame = sum(timed[name][0] for name in per_frame)
    theirs_frame = sum(timed[name][1] for name in per_frame)
    numpy_ms, opencv_ms = interleaved_estimates(clip_frames(args.frames))
    print(
        f"\nper analysed frame (crop + map + light thumbnail): numpy {ours_frame:.2f} ms, "
        f"opencv {theirs_frame:.2f} ms, added {ours_frame - theirs_frame:.2f} ms"
    )
    print(
        f"estimate() over {len(numpy_ms)} frames, turn about: median {np.median(numpy_ms):.1f} ms "
        f"on numpy, {np.median(opencv_ms):.1f} ms on opencv (added "
        f"{np.median(numpy_ms) - np.median(opencv_ms):+.1f} ms); the pixel work by itself is "
        f"{100 * ours_frame / np.median(numpy_ms):.0f}% of a frame"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
