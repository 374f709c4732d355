"""Slouch, leave one person out: the sensitivity level is chosen on the other people, then the
held-out person is scored with it, beside the dorso and UpSit rules (which have no setting)."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.real_posture import JUDGES, Recording, Score, _pct, score_all
from coach.config.sections import SENSITIVITY_MAX, SENSITIVITY_MIN

LEVELS = tuple(range(SENSITIVITY_MIN, SENSITIVITY_MAX + 1))
PersonScores = dict[str, dict[str, Score]]
"""person -> judge -> the person's recordings merged."""


def by_person(scores: dict[Recording, dict[str, Score] | str]) -> PersonScores:
    """Each person's scores, their recordings merged (recordings the coach failed on left out)."""
    out: PersonScores = {}
    for rec, per_judge in scores.items():
        if isinstance(per_judge, str):
            continue
        mine = out.setdefault(rec.person, {judge: Score() for judge in JUDGES})
        for judge in JUDGES:
            mine[judge].merge(per_judge[judge])
    return out


def mean_agreement(people: PersonScores, judge: str, only: set[str] | None = None) -> float:
    """The mean over people of each person's agreement (every person counts the same)."""
    values = [
        s[judge].agreement
        for person, s in people.items()
        if (only is None or person in only) and s[judge].agreement is not None
    ]
    return statistics.fmean(v for v in values if v is not None) if values else 0.0


def level_scores(data_dir: Path) -> dict[int, PersonScores]:
    """Every person's scores at each sensitivity level."""
    return {
        level: by_person(score_all(data_dir, f"[slouch]\nsensitivity = {level}\n"))
        for level in LEVELS
    }


def report(data_dir: Path) -> list[str]:
    """Per held-out person and overall, the level picked on the others, beside both rules."""
    per_level = level_scores(data_dir)
    people = sorted(per_level[LEVELS[0]])
    lines = [
        "slouch, leave one person out (sensitivity level picked on the other people; "
        "agreement / upright flagged / slouched caught):",
        f"  {'person':34} level  {'coach':^16}  {'dorso':^16}  {'upsit':^16}",
    ]
    held: dict[str, dict[str, Score]] = {}
    for person in people:
        others = set(people) - {person}
        best = max(
            LEVELS, key=lambda lv: (mean_agreement(per_level[lv], "coach", others), -abs(lv - 3))
        )
        held[person] = per_level[best][person]
        cells = "  ".join(
            f"{_pct(s.agreement)} {_pct(s.share('upright'))} {_pct(s.share('slouched'))}"
            for s in (held[person][judge] for judge in JUDGES)
        )
        lines.append(f"  {person:34} {best:^5}  {cells}")
    pooled = {judge: Score() for judge in JUDGES}
    for scores in held.values():
        for judge in JUDGES:
            pooled[judge].merge(scores[judge])
    lines.append(
        "slouch, leave one person out, overall: "
        + "; ".join(
            f"{j} mean {100 * mean_agreement(held, j):.1f}% agree (pooled {_pct(pooled[j].agreement)}), "
            f"{_pct(pooled[j].share('upright'))} upright flagged, "
            f"{_pct(pooled[j].share('slouched'))} caught"
            for j in JUDGES
        )
    )
    by_level = ", ".join(
        f"{lv}: {100 * mean_agreement(per_level[lv], 'coach'):.1f}%" for lv in LEVELS
    )
    lines.append(f"slouch, coach mean agreement over all {len(people)} people by level: {by_level}")
    return lines


def main(argv: list[str]) -> int:
    data_dir = (
        Path(argv[1])
        if len(argv) > 1
        else Path(__file__).resolve().parents[2] / "shared" / "realdata"
    )
    print("\n".join(report(data_dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
