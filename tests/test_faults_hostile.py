"""Fault matrix, hostile arguments: every command, every option, a table of values no user means.

Huge, negative and non-finite numbers, empty strings, control characters, 5000-character and
`../` names, a folder where a file is wanted, a device node, a missing file: each is refused
at the edge with one line on stderr (no traceback, no raw control character), exit status 1
or 2, and nothing of the user's is created, changed or has its mode changed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach.cli import main
from coach.commands.parser import build_parser
from coach.pose.landmark_file import LandmarkWriter
from tests.conftest import make_pose, sample_of

# The kinds of value an option takes, and the hostile values each must refuse.
NUMBER, WHOLE, REPS, NAME, PROFILE, INPUT, OUTPUT, STREAM, FOLDER, SOURCE, CHOICE = [
    "number",
    "whole",
    "reps",
    "name",
    "profile",
    "input",
    "output",
    "stream",
    "folder",
    "source",
    "choice",
]
LONG = "x" * 5000
CONTROL = "a\x1b]0;pwned\x07b"  # sets the terminal's window title when printed raw
NUMBERS = ["99999999999999999999999", "1e400", "-1", "nan", "inf", "-inf", "", CONTROL, LONG]
HOSTILE: dict[str, list[str]] = {
    NUMBER: NUMBERS,
    WHOLE: [*NUMBERS, "9223372036854775807", "0", "2.5", "0x10"],
    REPS: [*NUMBERS, "9223372036854775807", "0", "1001", "2.5"],
    NAME: ["", "../x", "a/b", CONTROL, LONG],
    PROFILE: ["", "../x", "a/b", CONTROL, LONG, "{missing}.json", "{folder}/p.json", "{device}"],
    INPUT: ["", LONG, "{folder}", "{device}", "{missing}", f"{{folder}}/{CONTROL}.toml"],
    OUTPUT: ["", LONG, "{folder}", "{device}", f"{LONG}/x"],
    STREAM: ["", LONG, "{folder}"],
    FOLDER: ["", LONG, "{file}", "{device}"],
    SOURCE: [
        "99999999999999999999",
        "10000",
        LONG,
        "{folder}",
        "{device}",
        "{missing}",
        f"{{folder}}/{CONTROL}.mp4",
        "file://elsewhere/x.mp4",
    ],
    CHOICE: ["", CONTROL, LONG, "../x"],
}
# Each command with arguments that would work ("REC": a small landmark recording), and the
# options to make hostile. "@1" is the first argument after the command.
COMMANDS: dict[str, tuple[list[str], dict[str, str]]] = {
    "run": (
        ["REC", "--no-window", "--no-history"],
        {
            "@1": SOURCE,
            "--max-seconds": NUMBER,
            "--still-minutes": NUMBER,
            "--calibrate-seconds": NUMBER,
            "--profile": PROFILE,
            "--config": INPUT,
            "--model": INPUT,
            "--events": STREAM,
            "--fallback-video": INPUT,
            "--db": OUTPUT,
        },
    ),
    "start": (
        ["REC", "--no-history"],
        {"@1": SOURCE, "--max-seconds": NUMBER, "--profile": PROFILE, "--config": INPUT},
    ),
    "analyze": (
        ["REC", "--json"],
        {
            "@1": SOURCE,
            "--max-seconds": NUMBER,
            "--still-minutes": NUMBER,
            "--calibrate-seconds": NUMBER,
            "--profile": PROFILE,
            "--config": INPUT,
            "--model": INPUT,
        },
    ),
    "record": (
        ["REC", "--landmarks", "{out}"],
        {"@1": SOURCE, "--landmarks": OUTPUT, "--max-seconds": NUMBER, "--model": INPUT},
    ),
    "count": (
        ["REC", "--movement", "cat-cow", "--no-window", "--no-history"],
        {
            "@1": SOURCE,
            "--movement": CHOICE,
            "--reps": REPS,
            "--profile": PROFILE,
            "--fatigue-before": WHOLE,
            "--fatigue-after": WHOLE,
            "--max-seconds": NUMBER,
            "--db": OUTPUT,
        },
    ),
    "calibrate": (
        ["REC"],
        {"@1": SOURCE, "--profile": NAME, "--seconds": NUMBER, "--config": INPUT},
    ),
    "models": ([], {"--model": INPUT}),
    "doctor": (["REC"], {"@1": SOURCE, "--db": OUTPUT, "--fallback-video": INPUT}),
    "autostart": (["status"], {"@1": CHOICE}),
    "report": ([], {"--days": WHOLE, "--out": FOLDER, "--db": OUTPUT}),
    "export": (["--csv", "{csv}"], {"--csv": FOLDER, "--db": OUTPUT}),
    "log": (
        ["cat-cow", "--reps", "3"],
        {
            "@1": NAME,
            "--reps": REPS,
            "--fatigue-before": WHOLE,
            "--fatigue-after": WHOLE,
            "--db": OUTPUT,
        },
    ),
    "data": (["--path"], {"--db": OUTPUT}),
    # Ask the running coach (none runs here): only MINUTES can be hostile.
    "pause": (["5"], {"@1": NUMBER}),
    "resume": ([], {}),
    "status": (["--json"], {}),
    # The settings file lives in the private home, not the user's folder looked at here.
    "config": (
        ["set", "nudge.hold_s", "30"],
        {"@1": CHOICE, "@2": NAME, "@3": NUMBER},
    ),
    "cameras": (["--no-size"], {}),
    # A flag only: nothing a user types into it can be hostile.
    "install-desktop": (["--remove"], {}),
}


def test_the_table_covers_every_command() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands is not None
    assert set(commands) == set(COMMANDS)


def cases() -> Iterator[tuple[str, str, str]]:
    for command, (_, options) in COMMANDS.items():
        for option, kind in options.items():
            for value in HOSTILE[kind]:
                yield command, option, value


def argv_for(command: str, option: str, value: str, places: dict[str, str]) -> list[str]:
    base, _ = COMMANDS[command]
    args = [command, *base]
    if option.startswith("@"):  # "@N": the Nth argument after the command
        args[int(option[1:])] = value
    elif option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    return [places["REC"] if a == "REC" else a.format(**places) for a in args]


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every entry under `folder`: its mode and (for files) content digest."""
    found = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
        found[str(path.relative_to(folder))] = (st.st_mode, digest)
    return found


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The user's folder (the working directory): a recording, a folder, a file, a device."""
    monkeypatch.delenv("DISPLAY", raising=False)
    user = tmp_path / "user"
    user.mkdir()
    monkeypatch.chdir(user)  # relative names ("nan", "../x") land here, where we look
    rec = user / "rec.jsonl"
    with LandmarkWriter(rec, source="synthetic", fps=15.0, image_size=(640, 480)) as writer:
        for i in range(30):
            writer.write(sample_of(make_pose(i / 15), i / 15))
    folder = user / "folder"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    (folder / "notes.txt").write_text("mine\n")
    file = user / "notes.md"
    file.write_text("my notes\n")
    file.chmod(0o644)
    device = Path("/dev/null")
    if os.geteuid() == 0:  # a private device node: a test that fails must not change /dev/null
        device = user / "null"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        device.chmod(0o666)
    return {
        "REC": str(rec),
        "folder": str(folder),
        "file": str(file),
        "device": str(device),
        "missing": str(user / "missing"),
        "out": str(tmp_path / "out.jsonl"),
        "csv": str(tmp_path / "csv"),
        "user": str(user),
    }


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # what would reach the user as a traceback: listed, not raised
        out, err = capsys.readouterr()
        return -1, out, f"{err}Traceback: {type(exc).__name__}: {exc}"
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_refuses_hostile_arguments_in_one_line(
    capsys: pytest.CaptureFixture[str], places: dict[str, str]
) -> None:
    user = Path(places["user"])
    device = Path(places["device"])
    device_mode = device.stat().st_mode
    before = snapshot(user)
    failures = []
    for command, option, value in cases():
        argv = argv_for(command, option, value, places)
        code, out, err = run(capsys, argv)
        lines = [line for line in err.splitlines() if line.strip()]
        problems = []
        if code not in (1, 2):
            problems.append(f"exit {code}")
        if "Traceback" in err or len(lines) != 1:
            problems.append(f"{len(lines)} lines on stderr")
        elif "error:" not in lines[0]:
            problems.append("no error line")
        if any(c in out + err for c in "\x1b\x07"):
            problems.append("a raw control character was printed")
        if device.stat().st_mode != device_mode:
            problems.append("the device's mode changed")
            device.chmod(stat.S_IMODE(device_mode))
        after = snapshot(user)
        if after != before:
            changed = sorted(set(after.items()) ^ set(before.items()))
            problems.append(f"the user's folder changed: {changed[:2]}")
        if problems:
            shown = [a if len(a) < 40 else a[:37] + "..." for a in argv]
            failures.append(f"{shown}: {', '.join(problems)}: {err.strip()[-300:]!r}")
    assert not failures, f"{len(failures)} of {len(list(cases()))}:\n" + "\n".join(failures)
