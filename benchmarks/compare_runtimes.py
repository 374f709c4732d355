"""Compares the coach's pose stage (LiteRT) with MediaPipe 1.2.x's PoseLandmarker on the same frames.

Prints, per clip, the time per frame of each and how far apart their landmarks are (pixels
and shoulder widths), so the runtime switch is measured, not assumed. MediaPipe is not a
dependency of the coach (it reports usage to Google); install it into a scratch venv to run
this: `pip install 'mediapipe>=1.2,<2'`.

    python benchmarks/compare_runtimes.py [CLIP ...]   (default: the sample clips and the
                                                        real videos in ../shared/realdata)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.realdata import DEFAULT_DATA_DIR  # noqa: E402
from coach.config import Config  # noqa: E402
from coach.pose.estimator import PoseEstimator  # noqa: E402
from coach.pose.graph import region_overlap  # noqa: E402
from coach.records import Landmark  # noqa: E402
from coach.source import VideoFileSource  # noqa: E402

MODEL = ROOT / "models" / "pose_landmarker_full.task"
MEDIAPIPE_MODEL = ROOT / "models" / ".cache" / "pose_landmarker_full.mediapipe.task"
COMPARED = (
    Landmark.NOSE,
    Landmark.LEFT_EAR,
    Landmark.RIGHT_EAR,
    Landmark.LEFT_SHOULDER,
    Landmark.RIGHT_SHOULDER,
    Landmark.LEFT_ELBOW,
    Landmark.RIGHT_ELBOW,
    Landmark.LEFT_WRIST,
    Landmark.RIGHT_WRIST,
    Landmark.LEFT_HIP,
    Landmark.RIGHT_HIP,
)


class MediaPipeLandmarker:
    """MediaPipe's Tasks PoseLandmarker in VIDEO mode, as the coach used it up to 0.9."""

    def __init__(self, model: Path) -> None:
        import mediapipe as mp
        from mediapipe.tasks.python.core.base_options import BaseOptions
        from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions
        from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
            VisionTaskRunningMode,
        )

        config = Config().pose
        self._mp = mp
        self._landmarker = PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(model)),
                running_mode=VisionTaskRunningMode.VIDEO,
                num_poses=config.max_people,
                min_pose_detection_confidence=config.min_detection_confidence,
                min_pose_presence_confidence=config.min_detection_confidence,
                min_tracking_confidence=config.min_tracking_confidence,
            )
        )

    def first_pose(self, bgr: Any, t_s: float) -> tuple[np.ndarray, np.ndarray] | None:
        import cv2

        rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        result = self._landmarker.detect_for_video(image, round(t_s * 1000))
        if not result.pose_landmarks:
            return None
        lms = result.pose_landmarks[0]
        xy = np.array([(lm.x, lm.y) for lm in lms], dtype=np.float64)
        vis = np.array([lm.visibility or 0.0 for lm in lms], dtype=np.float64)
        return xy, vis


class EveryFrameDetection(PoseEstimator):
    """The coach's estimator with MediaPipe's tracking policy, to tell graph from policy.

    MediaPipe runs the detector on every frame while it follows fewer people than it may,
    and a fresh detection replaces the tracked region of the same person.
    """

    def _track(self, rgb: Any, t_s: float) -> list[Any]:
        height, width = rgb.shape[:2]
        regions = list(self._regions)
        if len(regions) < self._config.max_people:
            found = self._detect(rgb)
            regions = [
                r
                for r in regions
                if all(region_overlap(r, f) <= self._config.min_tracking_confidence for f in found)
            ] + found
        results = []
        for region in regions[: self._config.max_people]:
            result = self._landmarks(rgb, region, (width, height))
            if result.presence_score >= self._config.min_detection_confidence:
                results.append(result)
        self._regions = [result.next_region for result in results]
        return results


def default_clips() -> list[Path]:
    clips = sorted((ROOT / "sample_videos").glob("*.mp4"))
    clips += sorted((DEFAULT_DATA_DIR / "keraal" / "videos").glob("*.avi"))
    return clips


def compare(clip: Path, max_frames: int, estimator_type: type[PoseEstimator]) -> str:
    # A fresh landmarker per clip: VIDEO mode wants timestamps that only grow.
    reference = MediaPipeLandmarker(MEDIAPIPE_MODEL)
    ours_s: list[float] = []
    theirs_s: list[float] = []
    distances: list[np.ndarray] = []
    vis_agree: list[float] = []
    found = [0, 0]
    frames = 0
    with VideoFileSource(clip) as source, estimator_type(MODEL, Config().pose) as estimator:
        for frame in source.frames():
            frames += 1
            started = time.perf_counter()
            sample = estimator.estimate(frame)
            ours_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            theirs = reference.first_pose(frame.image, frame.t_s)
            theirs_s.append(time.perf_counter() - started)
            found[0] += sample.pose is not None
            found[1] += theirs is not None
            if sample.pose is not None and theirs is not None:
                width, height = sample.pose.image_size
                ours_xy = sample.pose.image_xyz[:, :2].astype(np.float64)
                scale = np.array([width, height])
                shoulders = np.linalg.norm(
                    (theirs[0][Landmark.LEFT_SHOULDER] - theirs[0][Landmark.RIGHT_SHOULDER]) * scale
                )
                gap = np.linalg.norm((ours_xy - theirs[0]) * scale, axis=1)[list(COMPARED)]
                distances.append(np.append(gap, shoulders))
                vis_agree.append(
                    float(
                        np.mean(
                            (sample.pose.visibility[list(COMPARED)] >= 0.5)
                            == (theirs[1][list(COMPARED)] >= 0.5)
                        )
                    )
                )
            if frames >= max_frames:
                break
    if not distances:
        return f"{clip.name:28s} {frames:4d} frames: no frame with a pose from both"
    table = np.array(distances)
    gaps, shoulders = table[:, :-1], table[:, -1:]
    rel = gaps / np.maximum(shoulders, 1.0)
    return (
        f"{clip.name:28s} {frames:4d} frames  found {found[0]:4d}/{found[1]:4d}  "
        f"ms/frame {1000 * np.mean(ours_s):5.1f} vs {1000 * np.mean(theirs_s):5.1f}  "
        f"gap px median {np.median(gaps):5.1f} p95 {np.percentile(gaps, 95):6.1f}  "
        f"head+shoulders median {np.median(rel[:, :5]):.3f} shoulder widths  "
        f"visible-or-not agree {100 * np.mean(vis_agree):3.0f}%"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--max-frames", type=int, default=300)
    parser.add_argument(
        "--mediapipe-policy",
        action="store_true",
        help="detect on every frame as MediaPipe does (isolates the graph from the policy)",
    )
    args = parser.parse_args(argv)
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        print("mediapipe is not installed: pip install 'mediapipe>=1.2,<2' to compare")
        return 1
    from benchmarks.mediapipe_bundle import mediapipe_bundle

    mediapipe_bundle(MODEL, MEDIAPIPE_MODEL)
    estimator_type = EveryFrameDetection if args.mediapipe_policy else PoseEstimator
    for clip in args.clips or default_clips():
        print(compare(clip, args.max_frames, estimator_type), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
