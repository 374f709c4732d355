"""Prints rep counting on the body and camera matrix: every build, camera height and distance, tempo and range."""

from __future__ import annotations

import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

if __package__ in (None, ""):  # run as a script: the repo root holds testkit/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach.config import RepConfig
from testkit.exercises import EXERCISES, Case
from testkit.rep_cases import Counted, count_case, full_matrix


def _run(case: Case) -> Counted:
    return count_case(case, RepConfig())


def run_matrix(*, full: bool, jobs: int) -> list[Counted]:
    """Every case of the matrix (tempo and range rotated unless `full`), counted."""
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_run, full_matrix(thinned=not full), chunksize=4))


def _fmt(movement: str, counts: tuple[int, int, int]) -> str:
    reps, left, right = counts
    return f"L{left}/R{right}" if movement == "lateral-flexion" else str(reps)


def _got(result: Counted) -> str:
    """Guided counts of every movement (the one done first), then recognised sets."""
    movement = result.case.movement
    own = movement if movement in EXERCISES else EXERCISES[0]
    parts = [f"{own} {_fmt(own, result.guided[own])}"]
    parts += [f"{m} {_fmt(m, c)}" for m, c in result.guided.items() if m != own and c != (0, 0, 0)]
    sets = [f"{m} {_fmt(m, (r, lft, rgt))}" for m, r, lft, rgt in result.recognised]
    return "; ".join(parts) + " | sets: " + (", ".join(sets) if sets else "none")


def print_matrix(results: list[Counted], console: Console) -> None:
    """Per case: expected vs counted; then exact shares per movement, body, camera and tempo."""
    table = Table(title="Body and camera matrix: guided counts | recognised sets")
    for col in ("case", "expected", "counted", "exact"):
        table.add_column(col)
    for r in results:
        movement = r.case.movement
        want = _fmt(movement, r.script_reps) if movement in EXERCISES else "0, no set"
        table.add_row(r.case.label, want, _got(r), "yes" if r.exact else "NO")
    console.print(table)
    for factor in ("movement", "body", "height", "distance", "tempo", "range_name"):
        tally: dict[str, list[bool]] = defaultdict(list)
        for r in results:
            if factor in ("tempo", "range_name") and r.case.movement not in EXERCISES:
                continue
            tally[str(getattr(r.case, factor))].append(r.exact)
        shares = ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in tally.items())
        console.print(f"  exact by {factor}: {shares}")
    exact = sum(r.exact for r in results)
    console.print(f"  all cases exact: {exact}/{len(results)}")


def main(argv: list[str]) -> int:
    """`python benchmarks/rep_matrix.py [--full]`: the thinned (or full) matrix."""
    results = run_matrix(full="--full" in argv, jobs=2)
    print_matrix(results, Console(width=140))
    return 0 if all(r.exact for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
