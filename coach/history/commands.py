"""Provides the history subcommands: `coach report`, `export`, `log` and `data`.

Wiring into coach/cli.py, with `from coach.history.commands import add_history_commands` at the
top (this module imports nothing heavy at import time, so every command starts fast)::

    # in coach/commands/parser.py's build_parser(), right after `sub = parser.add_subparsers(...)`:
    parser.set_defaults(history_commands=add_history_commands(sub))

    # in main(), first thing inside `try:` (these commands take no --config):
    if args.command in args.history_commands:
        return args.history_commands[args.command](args, console)
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coach.errors import ConfigError, HistoryDamaged, HistoryError
from coach.safe.checks import MAX_REPS
from coach.safe.printable import literal, printable

if TYPE_CHECKING:
    import sqlite3

    from rich.console import Console

Handler = Callable[[argparse.Namespace, "Console"], int]
MAX_REPORT_DAYS = 3660
"""About ten years: more is no report anyone reads (and dates run out)."""


def db_option(parser: argparse.ArgumentParser) -> None:
    """`--db PATH`: the history database a command reads or records into."""
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="history database (default: see `coach data --path`)",
    )


def add_history_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Handler]:
    """Add report, export, log and data to the `coach` subcommands; returns their handlers."""
    report = subparsers.add_parser(
        "report", help="daily and weekly progress from your history (tables, charts, HTML)"
    )
    report.add_argument(
        "--days", default="7", help=f"how many days back, 1 to {MAX_REPORT_DAYS} (default: 7)"
    )
    report.add_argument(
        "--out", type=Path, metavar="DIR", help="also write charts and report.html into DIR"
    )
    report.add_argument(
        "--force", action="store_true", help="with --out: replace a report already in DIR"
    )
    db_option(report)

    export = subparsers.add_parser("export", help="export every history table to CSV files")
    export.add_argument(
        "--csv", type=Path, metavar="DIR", required=True, help="folder for the CSV files"
    )
    export.add_argument(
        "--force", action="store_true", help="replace CSV files already in the folder"
    )
    db_option(export)

    log = subparsers.add_parser(
        "log", help="log a set you did without the camera (reps, fatigue, a note)"
    )
    log.add_argument("movement", metavar="MOVEMENT", help="movement id (see the movement library)")
    log.add_argument("--reps", required=True, metavar="N", help="how many reps")
    log.add_argument("--fatigue-before", metavar="X", help="how tired before, 1 (fresh) to 5")
    log.add_argument("--fatigue-after", metavar="Y", help="how tired after, 1 (fresh) to 5")
    log.add_argument("--note", metavar="TEXT", help="a note (discomfort, ease)")
    db_option(log)

    data = subparsers.add_parser("data", help="where your history is kept; delete it")
    what = data.add_mutually_exclusive_group(required=True)
    what.add_argument("--path", action="store_true", help="print where the history is kept")
    what.add_argument("--delete", action="store_true", help="delete the history (all of it)")
    data.add_argument(
        "--before", metavar="YYYY-MM-DD", help="with --delete: only what was recorded before"
    )
    data.add_argument("--yes", action="store_true", help="delete without asking")
    db_option(data)
    return {"report": cmd_report, "export": cmd_export, "log": cmd_log, "data": cmd_data}


def _db_path(args: argparse.Namespace) -> Path:
    from coach.history.store import default_db_path

    db: Path | None = args.db
    return default_db_path() if db is None else db.expanduser()


def _no_history(path: Path, console: Console) -> int:
    console.print(
        f"No history yet: `coach run` records your sessions to {literal(path)} "
        "(`coach log` adds sets by hand)."
    )
    return 0


def _whole_number(value: str, lowest: int, highest: int | None, wrong: str) -> int:
    """`value` as a whole number from `lowest` to `highest` (None: no limit).

    Raises:
        ConfigError: it is not, with the message `wrong`.
    """
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(wrong) from None
    if number < lowest or (highest is not None and number > highest):
        raise ConfigError(wrong)
    return number


def _report_days(value: str) -> int:
    return _whole_number(
        value,
        1,
        MAX_REPORT_DAYS,
        f"--days must be 1 or more, up to {MAX_REPORT_DAYS} (ten years), "
        f"as a whole number; not {value!r}",
    )


def _warn(console: Console, message: str) -> None:
    console.print(
        f"[yellow]coach: warning:[/yellow] {literal(message)}", highlight=False, soft_wrap=True
    )


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """`coach report`: daily table and weekly trend; with --out, charts and report.html.

    The report goes to stdout (`coach report > file` keeps it); notes stay on stderr.
    """
    from rich.console import Console

    from coach.history.queries import load_history
    from coach.history.report.page import report_files, write_report
    from coach.history.report.terminal import print_report
    from coach.history.rescue import rescue_files
    from coach.history.store import open_for_reading

    days = _report_days(str(args.days))
    path = _db_path(args)
    if not path.exists():
        return _no_history(path, console)
    files = None
    if args.out is not None:
        # Checked before anything is read or written: a refusal changes nothing.
        database = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        files = report_files(args.out.expanduser(), inputs=database, force=args.force)
    elif args.force:
        raise ConfigError("--force goes with --out (it replaces a report already there)")
    notes: list[str] = []
    with open_for_reading(path, notes) as conn:
        history = load_history(conn, days=days)
    out = Console(highlight=False)
    print_report(out, history)
    if not history.has_data:
        out.print(f"[dim]Nothing recorded in the last {days} days ({literal(path)}).[/dim]")
    if files is not None:
        try:
            write_report(history, files)
        except OSError as exc:
            raise HistoryError(_not_written(files.html.parent, exc)) from None
        console.print(f"Wrote {literal(files.html)} and {len(files.charts)} charts.")
    waiting = rescue_files(path)
    if waiting:
        console.print(
            f"[dim]{len(waiting)} rescue file(s) hold records an earlier run could not write "
            f"({literal(waiting[0])}); the next `coach run` or `coach log` adds them.[/dim]"
        )
    if history.unreadable or notes:
        lost = "; ".join([*notes, *(str(lost) for lost in history.unreadable)])
        _warn(
            console,
            f"part of {path} could not be read, so the report leaves it out: {lost}. "
            "`coach export --csv DIR` saves every row that can be read",
        )
        return 1
    return 0


def _not_written(folder: Path, error: OSError) -> str:
    """One line: why the report's files could not be written (none is left cut off)."""
    import errno

    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        cause = "the disk is full; free some space or choose another --out"
    elif error.errno == errno.EFBIG:
        cause = "the file size limit (ulimit -f) is too small; raise it"
    else:
        cause = error.strerror or str(error)
    return f"the report could not be written into {folder} ({cause}); no file was left cut off"


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    """`coach export --csv DIR`: every table to DIR/<table>.csv, with local times added.

    From a damaged database it saves every row that can be read, says which were not,
    and exits 1.
    """
    import csv

    from coach.history.local_time import local_datetime
    from coach.history.salvage import LostRows, readable_columns, readable_rows
    from coach.history.schema import TABLES
    from coach.history.store import open_for_reading
    from coach.progress import Unit, terminal_progress
    from coach.safe.outputs import atomic_text, check_output
    from coach.safe.private_files import private_dir
    from coach.safe.redact import redact

    path = _db_path(args)
    if not path.exists():
        return _no_history(path, console)
    out_dir: Path = args.csv.expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(
            f"--csv {out_dir} is a file, not a folder; give a folder for the CSV files"
        )
    # Check every file before writing any, so a refusal leaves the folder as it was.
    targets = {
        table: check_output(
            out_dir / f"{table}.csv", option="--csv", inputs=[path], force=args.force
        )
        for table in TABLES
    }
    try:
        private_dir(out_dir)
    except OSError as exc:
        raise HistoryError(f"cannot create the export folder {out_dir}: {exc.strerror}") from None
    epoch_columns = {"t", "started_at", "ended_at", "outcome_t"}
    lost: list[LostRows] = []
    notes: list[str] = []
    bars = terminal_progress(console)
    done = 0
    with (
        open_for_reading(path, notes) as conn,
        bars("exporting the history", _row_count(conn, TABLES), Unit.ITEMS) as report,
    ):
        for table in TABLES:
            columns = readable_columns(conn, table, lost)
            if columns is None:
                continue
            times = [i for i, c in enumerate(columns) if c in epoch_columns]
            # Sessions recorded before sources were redacted may hold a stream's password.
            secret = columns.index("source") if table == "sessions" else None
            target = targets[table]
            count = 0
            lost_before = len(lost)
            try:
                with atomic_text(target, newline="", private=True) as handle:
                    writer = csv.writer(handle)
                    writer.writerow([*columns, *(f"{columns[i]}_local" for i in times)])
                    for row in readable_rows(conn, table, lost):
                        local = [
                            "" if row[i] is None else local_datetime(float(row[i])).isoformat()
                            for i in times
                        ]
                        values = list(row)
                        if secret is not None and isinstance(values[secret], str):
                            values[secret] = redact(values[secret])
                        writer.writerow([*values, *local])
                        count += 1
                        done += 1
                        if done % _PROGRESS_EVERY_ROWS == 0:
                            report(done)
            except OSError as exc:
                raise HistoryError(f"cannot write {target}: {exc.strerror}") from None
            missing = " (some could not be read)" if len(lost) > lost_before else ""
            console.print(f"{literal(target)}: {count} rows{missing}")
    if lost or notes:
        missed = f", but not {'; '.join(str(x) for x in lost)}" if lost else ""
        _warn(
            console,
            f"{path} is damaged ({'; '.join(notes) or 'some rows cannot be read'}); "
            f"every row that could be read was exported{missed}",
        )
        return 1
    return 0


_PROGRESS_EVERY_ROWS = 500


def _row_count(conn: sqlite3.Connection, tables: Sequence[str]) -> int | None:
    """Rows in `tables` (for the export's bar); None when a damaged table cannot be counted."""
    import sqlite3  # here: the history commands' import stays light for every other command

    try:
        return sum(int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables)
    except sqlite3.DatabaseError:
        return None


def rating(value: str | None, option: str) -> int | None:
    """A fatigue rating option checked: 1 (fresh) to 5 (exhausted), or None when not given."""
    if value is None:
        return None
    return _whole_number(
        value,
        1,
        5,
        f"{option} must be a whole number from 1 (fresh) to 5 (exhausted), not {value!r}",
    )


def cmd_log(args: argparse.Namespace, console: Console) -> int:
    """`coach log MOVEMENT --reps N`: a set done without the camera, with fatigue and a note."""
    from coach.history.rows import SetRecord
    from coach.history.session_log import SessionLog
    from coach.movements import default_user_movements_file, load_library

    library = load_library(default_user_movements_file())
    if args.movement not in library.ids:
        raise ConfigError(f"unknown movement {args.movement!r}; known: {', '.join(library.ids)}")
    reps = _whole_number(
        args.reps,
        1,
        MAX_REPS,
        f"--reps must be a whole number from 1 to {MAX_REPS}, not {args.reps!r}",
    )
    before = rating(args.fatigue_before, "--fatigue-before")
    after = rating(args.fatigue_after, "--fatigue-after")
    note = None if args.note is None else args.note.strip()
    if args.note is not None and not note:
        raise ConfigError("--note must not be empty")
    now = time.time()
    path = _db_path(args)
    # keep_trying: a history that cannot take the set (read-only, full, damaged) gets it
    # in a rescue file, as `coach run` does, and the error line says where.
    with SessionLog(path, keep_trying=True) as log:
        log.add_set(
            None,
            SetRecord(
                t=now,
                movement=args.movement,
                reps=reps,
                source="manual",
                fatigue_before=before,
                fatigue_after=after,
            ),
        )
        if note:
            log.add_note(now, note)
    extra = ""
    if before is not None or after is not None:
        extra = f", fatigue {before or '?'} → {after or '?'}"
    console.print(
        f"Logged {reps} reps of {literal(library.get(args.movement).name)}{extra}"
        f"{' and a note' if note else ''} to {literal(path)}."
    )
    return 0


def _parse_day(text: str) -> datetime.date:

    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--before must be a date like 2026-03-01, not {text!r}") from None


def cmd_data(args: argparse.Namespace, console: Console) -> int:
    """`coach data --path` prints where the history is; `--delete` removes all or older data."""
    from coach.history.store import delete_damaged, delete_history, describe_path

    path = _db_path(args)
    if args.path:
        if args.before is not None or args.yes:
            raise ConfigError("--before and --yes go with --delete, not --path")
        print(printable(str(path)))
        console.print(f"[dim]{literal(describe_path(path))}. Camera images are never stored.[/dim]")
        return 0
    before = None if args.before is None else _parse_day(args.before)
    if not path.exists():
        console.print(f"Nothing to delete: there is no history at {literal(path)}.")
        return 0
    scope = "everything" if before is None else f"everything recorded before {before}"
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"refusing to delete {scope} in {path} without confirmation: add --yes"
            )
        answer = console.input(f"Delete {scope} in {literal(path)}? {literal('[y/N]')} ")
        if answer.strip().lower() not in ("y", "yes"):
            console.print("Nothing deleted.")
            return 1
    try:
        deleted = delete_history(path, before)
    except HistoryDamaged:
        if before is not None:
            raise HistoryDamaged(
                f"{path} is damaged, so what was recorded before {before} cannot be picked "
                "out of it; nothing was deleted. Save what it holds with `coach export --csv "
                "DIR`, then `coach data --delete` (without --before) deletes the whole file"
            ) from None
        removed_b = delete_damaged(path)
        console.print(
            f"{literal(path)} was damaged, so it could not be emptied row by row: the "
            f"whole file was deleted ({removed_b / 1024:.0f} KiB)."
        )
        return 0
    summary = ", ".join(f"{n} {table}" for table, n in deleted.items() if n) or "no rows"
    console.print(f"Deleted {summary} ({scope}) from {literal(path)}.")
    return 0
