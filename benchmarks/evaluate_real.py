"""Prints the coach's figures on real recordings (slouch, stillness, reps) beside the peer rules."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    real_answers,
    real_ceiling,
    real_lopo,
    real_posture,
    real_rates,
    real_reps,
    real_stillness,
)
from benchmarks.realdata import DEFAULT_DATA_DIR

HEADLINE = (
    "slouch, continuous",
    "slouch, leave one person out, overall",
    "slouch at 5, 2 and 1 samples",
    "slouch, answering false nudges",
    "slouch ceiling",
    "seated recordings, still",
    "lateral stretches counted exactly",
    "other exercises with any side bend",
)


def main(argv: list[str]) -> int:
    """`evaluate_real.py [DATA_DIR] [--full] [--lopo]`.

    By default landmark files only, at each file's own rate and decimated to 5, 2 and 1 samples
    a second, plus the replay with a user answering false nudges and the ceiling any rule on
    the coach's cues could reach on these labels (a few minutes); --full adds
    the videos through the pose model and the still / moving verdicts at 5, 15 and 30 fps;
    --lopo adds leave one person out (the sensitivity level picked on the other people), per
    person and overall, beside both peer rules.
    """
    full, lopo = "--full" in argv, "--lopo" in argv
    args = [a for a in argv[1:] if a not in ("--full", "--lopo")]
    data_dir = Path(args[0]) if args else DEFAULT_DATA_DIR
    if not (data_dir / "posture").is_dir() or not (data_dir / "keraal").is_dir():
        print(
            f"no real recordings under {data_dir}: pass the realdata folder "
            "(benchmarks/evaluate_real.py DATA_DIR)",
            file=sys.stderr,
        )
        return 1
    started = time.monotonic()
    summaries: list[str] = []
    # The parts are independent: one process each, so two cores halve the wait. The longest
    # go first (the rate sweep about 80 s, reps 65, stillness 50), so neither core is left
    # with a long part at the end; they print in the usual order.
    with ProcessPoolExecutor(max_workers=2) as pool:
        rates = pool.submit(real_rates.report, data_dir)
        reps = pool.submit(real_reps.report, data_dir, videos=full)
        stillness = pool.submit(real_stillness.report, data_dir, sweep=full)
        posture = pool.submit(real_posture.report, data_dir)
        answers = pool.submit(real_answers.report, data_dir)
        ceiling = pool.submit(real_ceiling.report, data_dir)
        for future in (posture, stillness, reps, rates, answers, ceiling):
            lines, summary = future.result()
            print("\n".join(lines), end="\n\n", flush=True)
            summaries.extend(summary)
    if lopo:
        lines = real_lopo.report(data_dir)
        print("\n".join(lines), end="\n\n", flush=True)
        summaries.extend(line for line in lines if line.startswith("slouch"))
    print(f"Real data: {data_dir} ({time.monotonic() - started:.0f} s)")
    print("\n".join(summaries))
    # The headline last, one line per figure (what a glance at the end of the output should show).
    headline = [
        next((line for line in summaries if line.startswith(prefix)), f"{prefix}: -")
        for prefix in HEADLINE
    ]
    print("\n".join(["", *headline]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
