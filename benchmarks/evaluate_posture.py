"""Evaluates posture on the sample clips against their ground truth and prints the figures."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

if __package__ in (None, ""):  # run as a script: the repo root holds testkit/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach.config import Config, NudgeConfig, PromptConfig
from coach.movements import load_library
from coach.pose.model_store import ensure_default_model
from coach.session_collect import collected
from coach.session_options import Mode, SessionOptions
from testkit.evaluation import inside, load_truth, slouch_agreement, transitions

SAMPLES = Path(__file__).resolve().parent.parent / "sample_videos"
CALIBRATE_S = 5.0
MARGIN_S = 3.0
# Short hold so nudges fire inside the clip's ~25 s episodes.
EVAL_CONFIG = dataclasses.replace(
    Config(),
    nudge=NudgeConfig(hold_s=10.0),
    prompts=PromptConfig(cooldown_s=60.0),
)


def main() -> int:
    console = Console(width=120)
    model = ensure_default_model()
    if not (SAMPLES / "slouch.mp4").exists():
        console.print("sample clips missing: run `make setup`")
        return 1

    slouch = SAMPLES / "slouch.mp4"
    truth = load_truth(slouch)
    result = collected(
        SessionOptions(Mode.ANALYZE, str(slouch), model=model, calibrate_s=CALIBRATE_S),
        EVAL_CONFIG,
        load_library(),
    )
    score = slouch_agreement(
        result.snapshots, truth["slouch_intervals_s"], after_s=CALIBRATE_S, margin_s=MARGIN_S
    )
    decided = transitions(result.snapshots, "slouched")
    nudges = [s.nudge for s in result.snapshots if s.nudge is not None]
    outside = [n for n in nudges if not inside(n.t_s, truth["slouch_intervals_s"])]
    console.print("[bold]slouch.mp4[/bold] (calibrated on the first 5 s)")
    console.print(
        f"  frame-level state agreement: {score.agreement:.1%} of {score.frames_scored} frames "
        f"({score.frames_ignored} ignored: calibration and ±{MARGIN_S:g} s around transitions)"
    )
    console.print(f"  true slouch intervals:    {truth['slouch_intervals_s']}")
    console.print(f"  decided slouch intervals: {[[round(a, 1), round(b, 1)] for a, b in decided]}")
    for (ta, tb), (da, db) in zip(truth["slouch_intervals_s"], decided, strict=False):
        console.print(f"    enter lag {da - ta:+.1f} s, exit lag {db - tb:+.1f} s")
    for name in ("glance_intervals_s", "look_up_intervals_s"):
        states = {s.state for s in result.snapshots if inside(s.t_s, truth[name])}
        console.print(f"  states during {name[:-12]}: {sorted(states)}")
    console.print(
        f"  nudges (hold 10 s): {[(round(n.t_s, 1), n.reason.value, n.movement) for n in nudges]}; "
        f"outside an episode: {len(outside)}"
    )

    grades = SAMPLES / "forward_head_grades.mp4"
    truth = load_truth(grades)
    result = collected(
        SessionOptions(Mode.ANALYZE, str(grades), model=model, calibrate_s=CALIBRATE_S),
        Config(),
        load_library(),
    )
    table = Table(title="forward_head_grades.mp4: forward_head by grade (calibrated on 5 s)")
    for column in ("grade", "head scale", "mean forward_head", "share slouched"):
        table.add_column(column, justify="right")
    for grade in truth["grades"]:
        # Skip the first 2 s of each grade: the transition into it.
        window = [s for s in result.snapshots if grade["start_s"] + 2.0 <= s.t_s < grade["end_s"]]
        values = [s.metrics.forward_head for s in window if s.metrics is not None]
        slouched = np.mean([s.state == "slouched" for s in window]) if window else 0.0
        table.add_row(
            str(grade["grade"]),
            f"{grade['head_scale']:.2f}",
            f"{np.mean(values):.1f}" if values else "-",
            f"{slouched:.0%}",
        )
    look_up = [
        s.metrics.forward_head
        for s in result.snapshots
        if s.metrics is not None and inside(s.t_s, truth["look_up_intervals_s"])
    ]
    console.print(table)
    console.print(f"  looking up: mean forward_head {np.mean(look_up):.1f}")

    neutral = SAMPLES / "neutral.mp4"
    result = collected(
        SessionOptions(Mode.ANALYZE, str(neutral), model=model, calibrate_s=CALIBRATE_S),
        Config(),
        load_library(),
    )
    after = [s for s in result.snapshots if s.t_s >= CALIBRATE_S]
    console.print(
        f"[bold]neutral.mp4[/bold]: slouched in {np.mean([s.state == 'slouched' for s in after]):.1%} "
        f"of frames; forward_head sd {np.std([s.metrics.forward_head for s in after if s.metrics]):.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
