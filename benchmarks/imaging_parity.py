"""Compares the pose estimator's landmarks on coach.imaging (NumPy) with those on OpenCV, frame by frame.

Usage: python benchmarks/imaging_parity.py [CLIP.mp4 ...] [--frames N]. Runs the real model over
each clip (default: every sample clip) twice, once with the NumPy crops and once with
OpenCV's (the estimator before issue 22), and prints the largest and mean difference of the
33 landmarks (normalised image coordinates), of visibility, and the frames whose tracking or
people count differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from coach.config import Config  # noqa: E402
from coach.pose.estimator import PoseEstimator  # noqa: E402
from coach.pose.model_store import DEFAULT_MODEL_NAME  # noqa: E402
from coach.records import Frame, PoseSample  # noqa: E402
from testkit.opencv_reference import opencv_in_estimator  # noqa: E402

MODEL = REPO / "models" / DEFAULT_MODEL_NAME


def frames(path: Path, limit: int) -> list[Frame]:
    """The clip's first `limit` frames (all when 0), read with OpenCV."""
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    out: list[Frame] = []
    while not limit or len(out) < limit:
        ok, image = capture.read()
        if not ok:
            break
        out.append(Frame(image=image, t_s=len(out) / fps, index=len(out)))
    capture.release()
    return out


def estimate_all(clip: list[Frame]) -> list[PoseSample]:
    """One fresh estimator over the clip, in order."""
    with PoseEstimator(MODEL, Config().pose) as estimator:
        return [estimator.estimate(frame) for frame in clip]


def compare(path: Path, limit: int) -> tuple[float, float]:
    """Print one clip's differences; return its largest and mean landmark difference."""
    clip = frames(path, limit)
    numpy_samples = estimate_all(clip)
    with opencv_in_estimator():
        opencv_samples = estimate_all(clip)
    xy_diffs: list[float] = []
    visibility_diffs: list[float] = []
    light_diffs: list[float] = []
    mismatched = []
    for ours, theirs in zip(numpy_samples, opencv_samples, strict=True):
        light_diffs.append(abs(ours.brightness - theirs.brightness))
        if ours.tracking is not theirs.tracking or ours.people != theirs.people:
            mismatched.append(f"{ours.t_s:.2f}s {ours.tracking.name}/{theirs.tracking.name}")
        if ours.pose is None or theirs.pose is None:
            continue
        delta = np.abs(ours.pose.image_xyz[:, :2] - theirs.pose.image_xyz[:, :2])
        xy_diffs.extend(delta.max(axis=1).tolist())
        visibility_diffs.append(float(np.abs(ours.pose.visibility - theirs.pose.visibility).max()))
    largest = max(xy_diffs, default=0.0)
    mean = float(np.mean(xy_diffs)) if xy_diffs else 0.0
    print(
        f"{path.stem:20s} {len(clip):4d} frames  landmarks max {largest:.5f} mean {mean:.6f}  "
        f"visibility max {max(visibility_diffs, default=0.0):.4f}  "
        f"brightness max {max(light_diffs):.3f}  tracking differs on {len(mismatched)} frames"
        + (f" ({', '.join(mismatched[:5])})" if mismatched else "")
    )
    return largest, mean


def main() -> int:
    """Compare the clips named (or every sample clip) and print a summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--frames", type=int, default=0, help="frames per clip (0: all)")
    args = parser.parse_args()
    clips = args.clips or sorted((REPO / "sample_videos").glob("*.mp4"))
    results = [compare(path, args.frames) for path in clips]
    print(
        f"all clips: landmarks max {max(r[0] for r in results):.5f}, "
        f"mean of means {np.mean([r[1] for r in results]):.6f} (normalised image coordinates)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
