"""Provides `coach count`: a guided set, its summary, its fatigue ratings and its history."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rich.console import Console

from coach.commands.common import by_signal, preview_sinks, print_error, profiles_dir
from coach.config import Config
from coach.history.commands import rating
from coach.movements import MovementLibrary
from coach.pipeline import Sink
from coach.records import CountableMovement, SetCompleted
from coach.safe.outputs import dumps
from coach.safe.printable import literal
from coach.session import Session
from coach.session_options import Opened, SessionOptions
from coach.stopping import StopRequested

if TYPE_CHECKING:
    from coach.actions.set_recorder import GuidedSetRecorder
    from coach.history.session_log import SessionLog


def cmd_count(
    args: argparse.Namespace,
    options: SessionOptions,
    config: Config,
    library: MovementLibrary,
    console: Console,
) -> int:
    """Count one guided set; 1 when it could not be saved in the history."""
    from coach.actions.count_live import GuidedSetView
    from coach.actions.count_view import summary_table
    from coach.actions.set_recorder import GuidedSetRecorder
    from coach.history.session_log import SessionLog

    movement = library.get(args.movement)
    before = rating(args.fatigue_before, "--fatigue-before")
    after = rating(args.fatigue_after, "--fatigue-after")
    if args.ask_fatigue and before is None:
        before = _ask_rating(console, "How tired are you before the set")
    session = Session(options, config, library, console, profiles=profiles_dir())
    # The set is saved at every rep (a killed count keeps the reps so far); what cannot be
    # written goes to a rescue file, as for `coach run`.
    log = None if args.no_history else SessionLog(args.db, keep_trying=True)
    recorders: list[GuidedSetRecorder] = []

    def sinks_for(opened: Opened) -> list[Sink]:
        sinks: list[Sink] = [GuidedSetView(console, movement)]
        if log is not None:
            anchor_s = opened.started_at.timestamp()
            recorders.append(
                GuidedSetRecorder(log, opened.label, anchor_s, args.movement, fatigue_before=before)
            )
            sinks.append(recorders[-1])
        sinks.extend(preview_sinks(config, console, hidden=args.no_window))
        return sinks

    console.print(
        f"[cyan]{literal(movement.name)}: {literal(movement.dose_text)}. Start from sitting tall; "
        "counting begins when you do.[/cyan]"
    )
    try:
        result = session.run(sinks_for)
        if result.stopped is not None:
            # Ctrl-C (the footer's "Ctrl+C stop"), SIGTERM or SIGHUP: the set ends here, as if
            # the user had stopped it, with the reps counted so far.
            console.print(f"[dim]Stopped{by_signal(result.stopped)}: the set ends here.[/dim]")
        done = result.last_set
        if done is not None:
            console.print(summary_table(done))
            if args.ask_fatigue and after is None and not isinstance(result.stopped, StopRequested):
                after = _ask_rating(console, "And now, after the set")
        for recorder in recorders:
            recorder.finish(done, before=before, after=after)
    finally:
        saved = log is None or _close_log(console, log)
    out = set_json(args.movement, done)
    if args.json:
        sys.stdout.write(dumps(out) + "\n")
    elif done is None:
        console.print("No reps were counted.")
    return 0 if saved else 1


def _ask_rating(console: Console, question: str) -> int | None:
    """Ask for a 1-5 rating on the terminal (Enter skips); None without a terminal."""
    if not sys.stdin.isatty():
        return None
    answer = console.input(f"{question}, 1 (fresh) to 5 (exhausted)? [Enter to skip] ").strip()
    return rating(answer, "the rating") if answer else None


def _close_log(console: Console, log: SessionLog) -> bool:
    """Close the history; False, said in one line, when the set could not be written."""
    from coach.errors import HistoryError

    try:
        log.close()
    except HistoryError as exc:
        print_error(console, f"history: {exc}")
        return False
    return True


def set_json(movement: str, done: SetCompleted | None) -> dict[str, object]:
    """The published `coach count --json` object."""
    result: dict[str, object] = {"movement": movement, "reps": done.reps if done else 0}
    if movement == CountableMovement.LATERAL_FLEXION:
        sides = (done.per_side if done else None) or {}
        result["per_side"] = {
            "left": int(sides.get("left", 0)),
            "right": int(sides.get("right", 0)),
        }
    result["reps_detail"] = [
        {
            "start_s": round(rep.start_s, 2),
            "end_s": round(rep.end_s, 2),
            "phase_s": [round(p, 2) for p in rep.phase_s],
            "range": round(rep.range, 3),
            "partial": rep.partial,
        }
        for rep in (done.reps_detail if done else ())
    ]
    result["feedback"] = list(done.feedback) if done else []
    return result
