"""Provides `set_setting` / `unset_setting`: one setting changed in a TOML file, checked, kept whole."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table

from coach.config.loader import LEGACY_NUDGE_KEYS, from_mapping
from coach.config.sections import Config
from coach.config.user_file import setting_type
from coach.errors import ConfigError
from coach.safe.outputs import atomic_text
from coach.safe.private_files import private_dir

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_value(key: str, text: str) -> Any:
    """The TOML value `text` stands for as "section.key" (a list for a set of choices);
    only its shape is read here: the loader checks it.

    Raises:
        ConfigError: no such setting, or `text` is not of its type.
    """
    hint = setting_type(key)
    word = text.strip()
    if hint is bool:
        if word.lower() in _TRUE:
            return True
        if word.lower() in _FALSE:
            return False
        raise ConfigError(f"{key}: expected true or false, got {text!r}")
    if hint is int or hint is float:
        try:
            number = int(word) if hint is int else float(word)
        except ValueError:
            kind = "a whole number" if hint is int else "a number"
            raise ConfigError(f"{key}: expected {kind}, got {text!r}") from None
        return number
    if typing.get_origin(hint) is tuple:  # a set of choices: "a,b" or "a b"
        return [item for item in word.replace(",", " ").split() if item]
    return text


def set_setting(path: Path, key: str, text: str) -> Config:
    """Set "section.key" to the value `text` names in the TOML file at `path` (created, 0600 in
    a 0700 folder, when missing), keeping its other keys and comments; returns the file's
    configuration. Nothing is written unless the result loads as the loader would load it.

    Raises:
        ConfigError: an unknown setting, a bad value, or a file that is not a coach config.
    """
    value = parse_value(key, text)
    section, _, name = key.partition(".")
    document = _document(path)
    table = document.get(section)
    if not isinstance(table, Table):
        table = tomlkit.table()
        document[section] = table
    if key == "nudge.style":  # style says what the old booleans said: they go
        for old in LEGACY_NUDGE_KEYS:
            table.pop(old, None)
    table[name] = value
    return _write(path, document)


def unset_setting(path: Path, key: str) -> bool:
    """Remove "section.key" from the file (its default applies again); False when it was not
    set there.

    Raises:
        ConfigError: an unknown setting, or a file that is not a coach config.
    """
    setting_type(key)
    if not path.exists():
        return False
    section, _, name = key.partition(".")
    document = _document(path)
    table = document.get(section)
    names = (name, *LEGACY_NUDGE_KEYS) if key == "nudge.style" else (name,)
    if not isinstance(table, Table) or not any(n in table for n in names):
        return False
    for n in names:
        table.pop(n, None)
    if not table:
        document.pop(section)
    _write(path, document)
    return True


def _document(path: Path) -> tomlkit.TOMLDocument:
    """The file as an editable document (a new one when there is none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.document()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML ({exc}); fix it with `coach config edit`"
        ) from None
    return document  # checked whole once changed: a set or unset may mend a bad value


def _check(path: Path, document: tomlkit.TOMLDocument) -> Config:
    """The document as the loader reads it; raises what the loader would say."""
    return from_mapping(Config, document.unwrap(), where=str(path))


def _write(path: Path, document: tomlkit.TOMLDocument) -> Config:
    config = _check(path, document)
    try:
        private_dir(path.parent, tighten_existing=True)
        with atomic_text(path, private=True) as handle:
            handle.write(tomlkit.dumps(document))
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror or exc}") from None
    return config
