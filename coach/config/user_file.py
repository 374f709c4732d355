"""Provides the user's settings file and the layers: defaults < user file < --config file."""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import itertools
import re
import textwrap
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from coach.config.loader import from_mapping, legacy_nudge, read_toml
from coach.config.sections import Config
from coach.errors import ConfigError

CONFIG_FILENAME = "config.toml"
DEFAULT = "default"
USER_FILE = "user file"


def user_config_path() -> Path:
    """The settings file loaded by default (under $XDG_CONFIG_HOME/coach on Linux)."""
    return platformdirs.user_config_path("coach", appauthor=False) / CONFIG_FILENAME


@dataclass(frozen=True)
class Settings:
    """The configuration in use, and where each of its settings came from."""

    config: Config
    origins: dict[str, str]
    """"section.key" → "default", "user file" or "--config FILE"."""
    user_file: Path
    config_file: Path | None


def load_settings(config_file: Path | None = None, user_file: Path | None = None) -> Settings:
    """The defaults, the user's file over them (when it exists), `config_file` over both.

    Each file is checked on its own over the defaults (so an error names its file and key),
    then the layers together (a pair such as score_enter > score_exit may span both).

    Raises:
        ConfigError: a file is unreadable, not TOML, or has an unknown key or bad value;
            `config_file` (not the user's file) is missing.
    """
    user_file = user_config_path() if user_file is None else user_file
    layers: list[tuple[str, dict[str, Any]]] = []
    if user_file.exists():
        data = read_toml(user_file)
        from_mapping(Config, data, where=str(user_file))
        layers.append((USER_FILE, data))
    if config_file is not None:
        data = read_toml(config_file)
        from_mapping(Config, data, where=str(config_file))
        layers.append((f"--config {config_file}", data))
    merged: dict[str, Any] = {}
    origins = {key: DEFAULT for key in setting_keys()}
    for label, data in layers:
        for section, table in data.items():
            if section == "nudge":  # old booleans said as style, so a later layer replaces them
                table = legacy_nudge(table, label)
            merged[section] = merged.get(section, {}) | table
            origins.update({f"{section}.{name}": label for name in table})
    read = [user_file] if user_file.exists() else []
    where = " with ".join(str(p) for p in [*read, *([config_file] if config_file else [])])
    return Settings(from_mapping(Config, merged, where=where), origins, user_file, config_file)


def sections() -> dict[str, type]:
    """Each section's name and its dataclass, in file order."""
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config)}


def setting_keys() -> list[str]:
    """Every "section.key", in file order."""
    return [f"{name}.{f.name}" for name, cls in sections().items() for f in dataclasses.fields(cls)]


def setting_type(key: str) -> Any:
    """The type of "section.key".

    Raises:
        ConfigError: no such setting (the message lists the known ones).
    """
    section, _, name = key.partition(".")
    found = sections().get(section)
    if found is None or not name:
        raise ConfigError(
            f"unknown setting {key!r}: name it as SECTION.KEY, e.g. nudge.style; sections: "
            f"{', '.join(sections())} (`coach config` lists them all)"
        )
    hints = typing.get_type_hints(found)
    if name not in {f.name for f in dataclasses.fields(found)}:
        raise ConfigError(
            f"unknown setting {key!r}; [{section}] has: "
            f"{', '.join(f.name for f in dataclasses.fields(found))}"
        )
    return hints[name]


def setting_value(config: Config, key: str) -> Any:
    """The value of "section.key" in `config`."""
    section, _, name = key.partition(".")
    return getattr(getattr(config, section), name)


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """The first sentence of each field's docstring (the string under it in the source)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for here, after in itertools.pairwise(body):
        if (
            isinstance(here, ast.AnnAssign)
            and isinstance(here.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[here.target.id] = _first_sentence(after.value.value)
    return docs


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    end = re.search(r"(?<!e\.g)\.\s+(?=[A-Z])", flat)
    return flat if end is None else flat[: end.start() + 1]
