"""Tests for the TOML configuration loader."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from coach.config import Config, load_config
from coach.errors import ConfigError


def test_defaults_without_a_file() -> None:
    assert load_config(None) == Config()


def test_sections_override_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[loop]\nposture_fps = 3\n[preview]\nskeleton_only = true\n")
    config = load_config(path)
    assert config.loop.posture_fps == 3.0
    assert config.preview.skeleton_only is True
    assert config.pose == Config().pose


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[loop]\nposture_fsp = 3\n", "unknown setting 'posture_fsp'"),
        ("[nosuch]\nx = 1\n", "unknown setting 'nosuch'"),
        ("[loop]\nposture_fps = 'fast'\n", "expected a number"),
        ("[pose]\nmax_people = 1.5\n", "expected a whole number"),
        ("[preview]\nshow_window = 1\n", "expected true or false"),
        ("[loop]\nposture_fps = -1\n", "must not be negative"),
        ("[loop\n", "not valid TOML"),
    ],
)
def test_invalid_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[nudge]\ncooldown_s = 300\n",
            "[nudge]: 'cooldown_s' has moved: set [prompts] cooldown_s instead",
        ),
        (
            "[slouch]\naway_after_s = 3\n",
            "[slouch]: 'away_after_s' has moved: set [stationary] away_after_s instead",
        ),
    ],
)
def test_a_setting_that_moved_names_its_new_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path} {message} (one setting for both)"


def test_each_setting_lives_in_one_section() -> None:
    sections = typing.get_type_hints(Config).values()
    names = [f.name for section in sections for f in dataclasses.fields(section)]
    # The pose model's trust in a frame and a rep signal's are separate thresholds.
    shared = {"min_visibility"}
    assert sorted({n for n in names if names.count(n) > 1} - shared) == []
