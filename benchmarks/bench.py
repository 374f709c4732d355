"""Benchmarks the pipeline on the sample clips: ms per frame for decoding, pose and the rest."""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from coach.analyzer import Analyzer
from coach.config import Config, LoopConfig
from coach.movements import load_library
from coach.pipeline import LoopStats, RateGate, analysed_frames, run
from coach.pose.estimator import PoseEstimator
from coach.pose.model_store import ensure_default_model
from coach.source import VideoFileSource

SAMPLES = Path(__file__).resolve().parent.parent / "sample_videos"


def bench_clip(path: Path, model: Path, analysis_fps: float) -> tuple[LoopStats, float]:
    """Run one clip through every stage at `analysis_fps`; returns the counters and wall time."""
    config = dataclasses.replace(Config(), loop=LoopConfig(posture_fps=analysis_fps))
    analyzer = Analyzer(config, load_library(), calibrate_s=5.0)
    stats = LoopStats()
    with VideoFileSource(path) as source, PoseEstimator(model, config.pose) as estimator:
        gate = RateGate(lambda: analyzer.look_plan, config.loop)
        run(analysed_frames(source.frames(gate), estimator, stats), analyzer, [], stats)
    # The loop's own wall time: model loading is a one-off start-up cost, reported apart.
    return stats, stats.wall_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clips", nargs="*", type=Path, help="videos (default: every sample clip)")
    parser.add_argument(
        "--fps",
        type=float,
        nargs="+",
        default=[5.0, 1000.0],
        help="analysis rates to measure (1000 = every frame)",
    )
    args = parser.parse_args()
    clips = args.clips or sorted(SAMPLES.glob("*.mp4"))
    if not clips:
        print("no sample clips: run `make setup` first", file=sys.stderr)
        return 1
    model = ensure_default_model()
    console = Console(width=150)
    table = Table(title="coach pipeline benchmark (one process, this machine)")
    for column in (
        "clip",
        "rate",
        "frames read",
        "analysed",
        "decode ms/frame",
        "pose ms/analysed",
        "rest ms/analysed",
        "analysed/s",
        "x real time",
    ):
        table.add_column(column, justify="right" if column != "clip" else "left")
    for clip in clips:
        for fps in args.fps:
            stats, wall_s = bench_clip(clip, model, fps)
            analysed = max(stats.frames_analysed, 1)
            table.add_row(
                clip.stem,
                "all" if fps >= 240 else f"{fps:g} fps",
                str(stats.frames_read),
                str(stats.frames_analysed),
                f"{1000 * stats.decode_s / max(stats.frames_read, 1):.2f}",
                f"{1000 * stats.pose_s / analysed:.1f}",
                f"{1000 * (stats.rest_s + stats.sinks_s) / analysed:.2f}",
                f"{stats.frames_analysed / wall_s:.1f}",
                f"{stats.duration_s / wall_s:.1f}",
            )
    console.print(table)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"Peak memory (max RSS): {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
