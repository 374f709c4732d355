"""Prints the coach's figures on real recordings (slouch, stillness, reps) beside the peer rules."""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import real_posture, real_reps, real_stillness
from benchmarks.realdata import DEFAULT_DATA_DIR


def main(argv: list[str]) -> int:
    """`evaluate_real.py [DATA_DIR] [--lopo]`: --lopo adds the leave-one-person-out tuning."""
    lopo = "--lopo" in argv
    args = [a for a in argv[1:] if a != "--lopo"]
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
    for part in (real_posture, real_stillness, real_reps):
        lines, summary = part.report(data_dir)
        print("\n".join(lines), end="\n\n", flush=True)
        summaries.extend(summary)
    if lopo:
        summaries.extend(real_posture.lopo_report(data_dir))
    print(f"Real data: {data_dir} ({time.monotonic() - started:.0f} s)")
    print("\n".join(summaries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
