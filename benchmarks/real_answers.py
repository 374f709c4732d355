"""Slouch with a user who answers: the continuous recordings replayed on the production path
(`Session.run`, the loop `coach run` runs, with its command queue) while a simulated user answers
every false posture nudge (one during an upright-labelled stretch) with "I'm sitting fine".

Nudges come after `HOLD_S` of slouching and at most every `COOLDOWN_S` here (a working day's
nudges squeezed into minutes of recording), so a few answers fit in each recording.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.real_posture import (
    CONTINUOUS_SAMPLE_S,
    Recording,
    Score,
    _pct,
    on_grid,
    prepare,
    recordings,
)
from benchmarks.realdata import DEFAULT_DATA_DIR, isolated_home
from coach.actions.controls import Controls
from coach.config import load_config
from coach.movements import load_library
from coach.records import BandWidened, Command, Frame, Nudge, PostureState, Reason, Snapshot
from coach.session import Session
from coach.session_options import Mode, SessionOptions

HOLD_S = 10.0
COOLDOWN_S = 30.0
REPLAY_TOML = f"""
[nudge]
hold_s = {HOLD_S}
[prompts]
cooldown_s = {COOLDOWN_S}
respond_s = {COOLDOWN_S}
"""
SETTLE_ANSWERS = 1
"""False alarms are also counted from this many answers on ("after a few answers"): a short
recording has room for one nudge, so from the first."""


class Responder:
    """Sink playing the user: answers every posture nudge that comes while they sit upright."""

    def __init__(self, rec: Recording, controls: Controls, answer: bool) -> None:
        self.rec = rec
        self.controls = controls
        self.answer = answer
        self.answers: list[float] = []
        self.nudges: list[tuple[float, str | None]] = []
        """Every posture nudge: when, and the labelled state then."""
        self.widened: list[BandWidened] = []
        self.states: list[tuple[float, bool]] = []
        self._next_s: float | None = None

    def update(self, snapshot: Snapshot, frame: Frame | None) -> None:
        for event in snapshot.events:
            if isinstance(event, BandWidened):
                self.widened.append(event)
            if not isinstance(event, Nudge) or event.reason is Reason.STATIONARY:
                continue
            truth = self.rec.state_at(event.t_s)
            self.nudges.append((event.t_s, truth))
            if truth == "upright" and self.answer:  # a false nudge
                self.controls.push(Command.SITTING_FINE)
                self.answers.append(event.t_s)
        # One state per sample period, as `coach analyze` reports them.
        if self._next_s is None or snapshot.t_s + 1e-9 >= self._next_s:
            self.states.append((snapshot.t_s, snapshot.state is PostureState.SLOUCHED))
            self._next_s = snapshot.t_s + CONTINUOUS_SAMPLE_S

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class Replay:
    """One recording replayed: scores over the whole run and from the settling answer on."""

    whole: Score
    settled: Score
    answers_s: list[float]
    """When the user answered "I'm sitting fine"."""
    widened: list[BandWidened]
    nudges: list[tuple[float, str | None]]
    """Every posture nudge: when, and the labelled state then ("upright": a false one)."""

    @property
    def first_answer_s(self) -> float:
        """When the user first answered (inf: never)."""
        return self.answers_s[0] if self.answers_s else float("inf")

    def nudges_after(self, t_s: float) -> Counter[str]:
        """Posture nudges after `t_s`, by the labelled state then."""
        return Counter(state for when, state in self.nudges if when > t_s and state is not None)


def replay(
    rec: Recording, everything: list[Recording], work: Path, answer: bool, overrides: str = ""
) -> Replay:
    """Replay one continuous recording, the simulated user answering (or not)."""
    prep = prepare(rec, everything, work, overrides, extra_toml=REPLAY_TOML)
    profile = str(prep.argv[1]) if prep.argv[0] == "--profile" else None
    calibrate_s = float(prep.argv[1]) if prep.argv[0] == "--calibrate-seconds" else None
    options = SessionOptions(
        mode=Mode.ANALYZE, source=str(rec.path), profile=profile, calibrate_s=calibrate_s
    )
    config = load_config(prep.config)
    controls = Controls(config.prompts.pause_s)
    responder = Responder(rec, controls, answer)
    Session(options, config, load_library(), profiles=work).run(
        lambda _opened: [responder], controls=controls
    )
    whole, settled = Score(), Score()
    settle_s = (
        responder.answers[SETTLE_ANSWERS - 1]
        if len(responder.answers) >= SETTLE_ANSWERS
        else float("inf")
    )
    for t_s, slouched in on_grid(responder.states, CONTINUOUS_SAMPLE_S):
        truth = rec.state_at(t_s)
        if t_s < prep.skip_until_s or rec.near_edge(t_s) or truth is None:
            continue
        whole.add(truth, slouched)
        if t_s >= settle_s:
            settled.add(truth, slouched)
    return Replay(whole, settled, responder.answers, responder.widened, responder.nudges)


def report(data_dir: Path, overrides: str = "") -> tuple[list[str], list[str]]:
    """Per continuous recording: without answers, with answers, and after the first few."""
    everything = recordings(data_dir)
    lines = [
        f'slouch with a user answering every false nudge "I\'m sitting fine" (nudge after '
        f"{HOLD_S:g} s, cooldown {COOLDOWN_S:g} s): upright flagged / slouched caught",
        f"{'recording':44} {'no answers':^11} {'answering':^11} answers "
        f"{'from answer ' + str(SETTLE_ANSWERS):^16} widened",
    ]
    totals = {"plain": Score(), "answering": Score(), "settled": Score()}
    answers = 0
    after: Counter[str] = Counter()
    plain_after: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="coach-answers-") as tmp, isolated_home(Path(tmp)):
        for rec in everything:
            if not rec.continuous or "upright" not in {iv.state for iv in rec.intervals}:
                continue
            plain = replay(rec, everything, Path(tmp), answer=False, overrides=overrides)
            answering = replay(rec, everything, Path(tmp), answer=True, overrides=overrides)
            totals["plain"].merge(plain.whole)
            totals["answering"].merge(answering.whole)
            totals["settled"].merge(answering.settled)
            answers += len(answering.answers_s)
            after += answering.nudges_after(answering.first_answer_s)
            plain_after += plain.nudges_after(answering.first_answer_s)
            widened = ", ".join(
                f"{w.cue} {w.new_threshold:.1f} (x{w.factor:.2f})" for w in answering.widened[-2:]
            )
            settled = (
                f"{_pct(answering.settled.share('upright'))} {_pct(answering.settled.share('slouched'))}"
                if answering.settled.counts
                else f"{'-':^9}"
            )
            lines.append(
                f"{rec.source[:20] + '/' + rec.name:44} "
                f"{_pct(plain.whole.share('upright'))} {_pct(plain.whole.share('slouched'))}  "
                f"{_pct(answering.whole.share('upright'))} {_pct(answering.whole.share('slouched'))}  "
                f"{len(answering.answers_s):^7} {settled:^16} {widened}"
            )
    p, a, s = totals["plain"], totals["answering"], totals["settled"]
    summary = [
        f"slouch, answering false nudges ({answers} answers): upright flagged "
        f"{_pct(p.share('upright'))} -> {_pct(a.share('upright'))} "
        f"(from answer {SETTLE_ANSWERS} on: {_pct(s.share('upright'))}); slouched caught "
        f"{_pct(p.share('slouched'))} -> {_pct(a.share('slouched'))}; after each recording's "
        f"first answer, {after.get('upright', 0)} false nudges (unanswered "
        f"{plain_after.get('upright', 0)}) and {after.get('slouched', 0)} nudges while slouched "
        f"(unanswered {plain_after.get('slouched', 0)})"
    ]
    return lines, summary


LOOSER_TOML = "[slouch]\nwiden_max = 2.0\n"
"""For comparison: a bound of +200% instead of +50% (`--looser`)."""


def main(argv: list[str]) -> int:
    """`real_answers.py [DATA_DIR] [--looser]` (--looser: with `LOOSER_TOML`)."""
    args = [a for a in argv[1:] if a != "--looser"]
    data_dir = Path(args[0]) if args else DEFAULT_DATA_DIR
    lines, summary = report(data_dir, LOOSER_TOML if "--looser" in argv else "")
    print("\n".join([*lines, "", *summary]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
