"""Prints the coach's figures on real recordings (slouch, stillness, reps) beside the peer rules."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import real_posture, real_reps, real_stillness
from benchmarks.realdata import DEFAULT_DATA_DIR

PARTS = (real_posture.report, real_stillness.report, real_reps.report)


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
    # The parts are independent: one process each, so two cores halve the wait.
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(part, data_dir) for part in PARTS]
        for future in futures:
            lines, summary = future.result()
            print("\n".join(lines), end="\n\n", flush=True)
            summaries.extend(summary)
    if lopo:
        summaries.extend(real_posture.lopo_report(data_dir))
    print(f"Real data: {data_dir} ({time.monotonic() - started:.0f} s)")
    print("\n".join(summaries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
