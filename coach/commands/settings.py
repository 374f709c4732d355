"""Provides `coach config` (show, set, unset, edit, path) and `coach cameras`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from rich.console import Console

from coach.config.editing import set_setting, unset_setting
from coach.config.user_file import (
    field_docs,
    load_settings,
    sections,
    setting_keys,
    setting_value,
    user_config_path,
)
from coach.errors import ConfigError
from coach.safe.outputs import atomic_text
from coach.safe.private_files import private_dir

Handler = Callable[[argparse.Namespace, Console], int]

_TEMPLATE = """\
# The coach's settings: `coach config` lists every one with its default and what it does.
# Only what you set here differs from the defaults; for example:
#
# [nudge]
# hold_s = 60
# style = ["notification", "glow"]
#
# [prompts]
# working_hours = "09:00-17:00"
"""


def add_settings_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Handler]:
    """Add `config` and `cameras`; returns their handlers by command name."""
    config = sub.add_parser(
        "config", help="show, set or edit the settings (the file in your config folder)"
    )
    config.add_argument("--config", type=Path, help="also layer this TOML file (as others take it)")
    actions = config.add_subparsers(dest="config_action", metavar="ACTION")
    show = actions.add_parser("show", help="every setting, its value and where it came from")
    for parser in (config, show):
        parser.add_argument("--json", action="store_true", help="print one JSON object")
    set_ = actions.add_parser("set", help="set one setting in your settings file")
    set_.add_argument("key", metavar="SECTION.KEY", help="e.g. nudge.style")
    set_.add_argument("value", nargs="+", metavar="VALUE", help="e.g. glow (or: notification glow)")
    unset = actions.add_parser("unset", help="remove one setting from your file (default again)")
    unset.add_argument("key", metavar="SECTION.KEY")
    actions.add_parser("edit", help="open your settings file in your editor, then check it")
    actions.add_parser("path", help="print where your settings file is")
    cameras = sub.add_parser("cameras", help="list the cameras, by name, with a stable id")
    cameras.add_argument("--json", action="store_true", help="print one JSON object")
    cameras.add_argument(
        "--no-size", action="store_true", help="do not open each camera to read its size"
    )
    return {"config": cmd_config, "cameras": cmd_cameras}


def cmd_config(args: argparse.Namespace, console: Console) -> int:
    """`coach config ...`: one action on the settings."""
    action = args.config_action or "show"
    path = user_config_path()
    if action == "path":
        print(path)
        return 0
    if action == "set":
        value = " ".join(args.value)
        set_setting(path, args.key, value)
        settings = load_settings(args.config)
        shown = _shown(setting_value(settings.config, args.key))
        print(f"{args.key} = {shown}  (saved in {path}){_tell_running()}")
        return 0
    if action == "unset":
        removed = unset_setting(path, args.key)
        settings = load_settings(args.config)
        now = _shown(setting_value(settings.config, args.key))
        said = "removed from" if removed else "was not set in"
        told = _tell_running() if removed else ""
        print(f"{args.key} {said} {path}; now {now}  ({settings.origins[args.key]}){told}")
        return 0
    if action == "edit":
        return edit_settings(path, console)
    return _show(args)


def _show(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    rows = []
    for key in setting_keys():
        section, _, name = key.partition(".")
        value = setting_value(settings.config, key)
        doc = field_docs(sections()[section]).get(name, "")
        rows.append((key, value, settings.origins[key], doc))
    if args.json:
        print(
            json.dumps(
                {
                    "file": str(settings.user_file),
                    "settings": {
                        key: {"value": _plain(value), "from": origin, "about": doc}
                        for key, value, origin, doc in rows
                    },
                },
                indent=2,
            )
        )
        return 0
    exists = "" if settings.user_file.exists() else " (not created yet: all defaults)"
    print(f"# settings file: {settings.user_file}{exists}")
    for key, value, origin, doc in rows:
        print(f"{key} = {_shown(value)}  ({origin})")
        if doc:
            print(f"    {doc}")
    return 0


def edit_settings(
    path: Path, console: Console, run: Callable[[list[str]], int] | None = None
) -> int:
    """Open the settings file in the user's editor, then check it as the loader will. The
    last good copy is kept as config.toml.bak, so a broken file is never silently in use."""
    run = run or (lambda argv: subprocess.call(argv))
    editor = _editor()
    if editor is None:
        raise ConfigError(
            f"no editor found: set $EDITOR (e.g. EDITOR=nano), or edit {path} yourself"
        )
    backup = path.with_name(path.name + ".bak")
    if not path.exists():
        private_dir(path.parent)
        with atomic_text(path, private=True) as handle:
            handle.write(_TEMPLATE)
    elif _problem(path) is None:
        shutil.copy2(path, backup)
    while True:
        if run([*editor, str(path)]) != 0:
            console.print(f"[yellow]The editor ({editor[0]}) did not exit cleanly.[/yellow]")
        problem = _problem(path)
        if problem is None:
            print(f"{path}: the settings are valid.{_tell_running()}")
            return 0
        kept = f" The last good copy is {backup}." if backup.exists() else ""
        print(f"coach: error: {problem}.{kept}", file=sys.stderr)
        if not (sys.stdin.isatty() and _ask("Edit it again? [Y/n] ")):
            print(
                "The coach will not start until it is fixed (`coach config edit`).", file=sys.stderr
            )
            return 1


def _tell_running() -> str:
    """Ask a running coach to read the settings again; what to add to the line that says so."""
    from coach.desktop.instance import find_running
    from coach.errors import CoachError

    try:
        running = find_running()
        if running is None:
            return ""
        running.reload()
    except CoachError as exc:
        return f"; the running coach did not answer ({exc}): it applies them at its next start"
    return "; the running coach applies it now"


def _problem(path: Path) -> str | None:
    """What the loader would say of the file (None: it loads)."""
    try:
        load_settings(None, user_file=path)
    except ConfigError as exc:
        return str(exc)
    return None


def _ask(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("", "y", "yes")
    except EOFError:
        return False


def _editor() -> list[str] | None:
    """$VISUAL, $EDITOR, else nano or vi (xdg-open last: it returns before you are done)."""
    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable, "").strip()
        if value:
            return shlex.split(value)
    for program in ("nano", "vi", "xdg-open"):
        found = shutil.which(program)
        if found is not None:
            return [found]
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value.value if isinstance(value, Enum) else value


def _shown(value: Any) -> str:
    """A value as TOML spells it."""
    plain = _plain(value)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, float):
        return f"{plain:g}"
    return json.dumps(plain) if isinstance(plain, str | list) else str(plain)


def cmd_cameras(args: argparse.Namespace, console: Console) -> int:
    """`coach cameras`: the connected cameras, their names, stable ids and sizes."""
    from coach.source.cameras import list_cameras, with_sizes

    cameras = list_cameras()
    if not args.no_size:
        cameras = with_sizes(cameras)
    if args.json:
        rows = [
            dataclasses.asdict(c) | {"node": str(c.node), "identity": c.identity} for c in cameras
        ]
        print(json.dumps({"cameras": rows}, indent=2))
        return 0
    if not cameras:
        print("No cameras found (none connected, or this system has no video4linux).")
        return 0
    chosen = load_settings(None).config.source.camera
    for camera in cameras:
        size = "size not read" if args.no_size else "busy or not permitted"
        if camera.size is not None:
            size = f"{camera.size[0]}x{camera.size[1]}"
        mark = (
            " (chosen)" if chosen in (camera.identity, camera.stable_id, str(camera.index)) else ""
        )
        print(f"{camera.index}: {camera.name}  {size}  {camera.node}{mark}")
        print(f"    id: {camera.identity}")
    print("Choose one: coach config set source.camera ID")
    return 0
