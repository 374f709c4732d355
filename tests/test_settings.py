"""The settings file: loaded by default, in layers, and `coach config` show/set/unset/edit/path."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from coach.cli import main
from coach.commands.common import with_overrides
from coach.config import Config, NudgeStyle, load_config
from coach.config.editing import set_setting, unset_setting
from coach.config.user_file import load_settings, user_config_path
from coach.errors import ConfigError


def _user_file(private_home: Path, text: str) -> Path:
    path = private_home / ".config" / "coach" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_user_file_is_in_the_xdg_config_folder(private_home: Path, capsys) -> None:
    expected = private_home / ".config" / "coach" / "config.toml"
    assert user_config_path() == expected
    assert main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(expected)


def test_no_user_file_means_the_defaults() -> None:
    settings = load_settings()
    assert settings.config == Config()
    assert set(settings.origins.values()) == {"default"}


def test_layers_defaults_then_user_file_then_config_file_then_options(
    private_home: Path, tmp_path: Path
) -> None:
    _user_file(
        private_home,
        '[nudge]\nhold_s = 30\n[prompts]\nworking_hours = "09:00-17:00"\n'
        "[stationary]\nstill_minutes = 20\n",
    )
    extra = tmp_path / "extra.toml"
    extra.write_text("[nudge]\nhold_s = 60\n[stationary]\nstill_minutes = 25\n")
    settings = load_settings(extra)
    assert settings.config.nudge.hold_s == 60  # --config wins over the user file
    assert settings.config.prompts.working_hours == "09:00-17:00"  # the user file over defaults
    assert settings.config.slouch == Config().slouch
    assert settings.origins["nudge.hold_s"] == f"--config {extra}"
    assert settings.origins["prompts.working_hours"] == "user file"
    assert settings.origins["slouch.score_enter"] == "default"
    options = argparse.Namespace(still_minutes=10.0)
    assert with_overrides(settings.config, options).stationary.still_minutes == 10.0


def test_a_pair_may_span_the_layers_and_is_checked_across_them(
    private_home: Path, tmp_path: Path
) -> None:
    _user_file(private_home, "[slouch]\nscore_enter = 14\n")
    extra = tmp_path / "extra.toml"
    extra.write_text("[slouch]\nscore_exit = 7\n")
    assert load_settings(extra).config.slouch.score_enter == 14
    extra.write_text("[slouch]\nscore_exit = 9\nscore_enter = 8.5\n")
    with pytest.raises(ConfigError, match=r"score_enter \(8.5\) must be above score_exit"):
        load_settings(extra)


def test_a_bad_user_file_stops_every_command_with_one_line_naming_file_and_key(
    private_home: Path, capsys
) -> None:
    path = _user_file(private_home, "[nudge]\nhold_s = -3\n")
    assert main(["analyze", "whatever.jsonl"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert str(path) in err and "hold_s" in err and "must not be negative" in err
    assert "Traceback" not in err


def test_old_nudge_booleans_are_read_as_the_style_and_conflict_with_it(tmp_path: Path) -> None:
    path = tmp_path / "old.toml"
    path.write_text("[nudge]\ndesktop = false\nchime = true\n")
    nudge = load_config(path).nudge
    assert nudge.style == (NudgeStyle.CHIME,) and nudge.chime and not nudge.desktop
    path.write_text("[nudge]\nchime = true\n")
    assert load_config(path).nudge.style == (NudgeStyle.NOTIFICATION, NudgeStyle.CHIME)
    path.write_text('[nudge]\nchime = true\nstyle = ["glow"]\n')
    with pytest.raises(ConfigError, match="chime and style both say how a nudge reaches you"):
        load_config(path)
    path.write_text('[nudge]\nstyle = ["glow", "blink"]\n')
    with pytest.raises(ConfigError, match="'blink' is not one of"):
        load_config(path)
    path.write_text('[nudge]\nstyle = "glow"\n')
    assert load_config(path).nudge.style == (NudgeStyle.GLOW,)


def test_set_writes_a_private_file_and_keeps_the_users_comments_and_keys(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.toml"
    set_setting(path, "nudge.style", "glow")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_config(path).nudge.style == (NudgeStyle.GLOW,)
    path.write_text(
        "# mine, keep me\n[nudge]\nchime = true  # old style\nhold_s = 30 # short\n"
        "\n[loop]\nidle_fps = 2\n"
    )
    config = set_setting(path, "nudge.style", "notification, glow")
    assert config.nudge.style == (NudgeStyle.NOTIFICATION, NudgeStyle.GLOW)
    text = path.read_text()
    assert "# mine, keep me" in text and "hold_s = 30 # short" in text and "idle_fps = 2" in text
    assert "chime" not in text  # the old boolean gave way to the style
    set_setting(path, "preview.skeleton_only", "yes")
    set_setting(path, "prompts.working_hours", "")
    config = load_config(path)
    assert config.preview.skeleton_only is True and config.prompts.working_hours == ""
    assert not list(path.parent.glob(".*part"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("nudge.hold", "30", r"unknown setting 'nudge.hold'; \[nudge\] has: hold_s, style"),
        ("nudge.hold_s", "soon", "expected a number"),
        ("nudge.hold_s", "-5", "must not be negative"),
        ("pose.max_people", "50", "must be at most 10"),
        ("slouch.score_exit", "12", r"score_enter \(8\) must be above score_exit \(12\)"),
        ("prompts.working_hours", "9-5", 'expected "HH:MM-HH:MM"'),
        ("nudge.style", "blink", "'blink' is not one of"),
        ("hold_s", "5", "name it as SECTION.KEY"),
    ],
)
def test_set_checks_as_the_loader_does_and_writes_nothing_bad(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# mine\n[nudge]\nhold_s = 30\n")
    with pytest.raises(ConfigError, match=message):
        set_setting(path, key, value)
    assert path.read_text() == "# mine\n[nudge]\nhold_s = 30\n"


def test_set_never_writes_over_a_file_that_is_not_a_coach_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    for text in ("this is not toml = = \n", "[server]\nport = 80\n"):
        path.write_text(text)
        with pytest.raises(ConfigError):
            set_setting(path, "nudge.hold_s", "30")
        assert path.read_text() == text


def test_set_and_unset_may_mend_the_bad_value_they_change(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[nudge]\nhold_s = -3\n[loop]\nidle_fps = 2\n")
    assert set_setting(path, "nudge.hold_s", "30").nudge.hold_s == 30
    path.write_text("[nudge]\nhold_s = -3\n[loop]\nidle_fps = 2\n")
    assert unset_setting(path, "nudge.hold_s") is True
    assert load_config(path).loop.idle_fps == 2
    path.write_text("[nudge]\nhold_s = -3\n")
    with pytest.raises(ConfigError, match="hold_s: must not be negative"):
        set_setting(path, "loop.idle_fps", "3")  # another key: the bad one still stops it
    assert path.read_text() == "[nudge]\nhold_s = -3\n"


def test_unset_brings_the_default_back(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert unset_setting(path, "nudge.hold_s") is False and not path.exists()
    path.write_text("# keep\n[nudge]\nhold_s = 30\n[loop]\nidle_fps = 2\n")
    assert unset_setting(path, "nudge.hold_s") is True
    assert load_config(path).nudge.hold_s == Config().nudge.hold_s
    assert "[nudge]" not in path.read_text() and "# keep" in path.read_text()
    assert unset_setting(path, "nudge.hold_s") is False


def test_coach_config_shows_every_setting_its_value_and_origin(
    private_home: Path, tmp_path: Path, capsys
) -> None:
    assert main(["config", "set", "nudge.style", "notification", "glow"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('nudge.style = ["notification", "glow"]  (saved in ')
    extra = tmp_path / "extra.toml"
    extra.write_text("[nudge]\nhold_s = 60\n")
    assert main(["config", "--config", str(extra)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert 'nudge.style = ["notification", "glow"]  (user file)' in lines
    assert f"nudge.hold_s = 60  (--config {extra})" in lines
    assert "nudge.show_s = 15  (default)" in lines
    doc = lines[lines.index("nudge.show_s = 15  (default)") + 1]
    assert doc.strip() == "How long the nudge text stays on the dashboard and preview."
    shown = {line.split(" = ")[0] for line in lines if " = " in line and not line[0].isspace()}
    assert len(shown) == len(load_settings().origins)  # every setting, once
    assert main(["config", "show", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["nudge.style"] == {
        "value": ["notification", "glow"],
        "from": "user file",
        "about": data["settings"]["nudge.style"]["about"],
    }
    assert data["settings"]["source.camera"]["from"] == "default"
    assert main(["config", "unset", "nudge.style"]) == 0
    assert 'now ["notification"]  (default)' in capsys.readouterr().out


def test_coach_config_set_says_what_is_wrong_in_one_line(private_home: Path, capsys) -> None:
    assert main(["config", "set", "slouch.score_exit", "12"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("coach: error:") and "\n" not in err
    assert not user_config_path().exists()


_EDITOR = """#!{python}
import pathlib, sys
state = pathlib.Path(sys.argv[1] + ".runs")
runs = int(state.read_text()) if state.exists() else 0
state.write_text(str(runs + 1))
value = "-30" if runs == 0 else "90"
pathlib.Path(sys.argv[1]).write_text("# edited\\n[nudge]\\nhold_s = " + value + "\\n")
"""


def test_edit_opens_the_editor_then_checks_keeping_the_last_good_copy(
    private_home: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(_EDITOR.format(python=sys.executable))
    editor.chmod(0o700)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    path = user_config_path()
    set_setting(path, "nudge.hold_s", "45")
    good = path.read_text()
    # The first edit writes a bad value: said in one line, the good copy kept aside.
    assert main(["config", "edit"]) == 1
    err = capsys.readouterr().err
    assert "hold_s: must not be negative" in err and f"last good copy is {path}.bak" in err
    assert Path(f"{path}.bak").read_text() == good
    assert main(["run", "x.jsonl"]) == 1  # nothing starts on the broken file
    assert "must not be negative" in capsys.readouterr().err
    # The second edit fixes it.
    assert main(["config", "edit"]) == 0
    assert "the settings are valid" in capsys.readouterr().out
    assert load_settings().config.nudge.hold_s == 90


def test_edit_creates_a_commented_private_file_first(private_home: Path, monkeypatch) -> None:
    monkeypatch.setenv("EDITOR", "true")
    assert main(["config", "edit"]) == 0
    path = user_config_path()
    assert path.read_text().startswith("# The coach's settings")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings().config == Config()


def test_the_chosen_camera_is_the_default_source(private_home: Path, capsys) -> None:
    """With no SOURCE, a session command opens `[source] camera` (here: one not connected)."""
    _user_file(
        private_home,
        '[source]\ncamera = "usb-Nowhere_Cam-video-index0"\ngive_up_s = 0.5\n[preview]\nshow_window = false\n',
    )
    assert main(["record", "--landmarks", os.devnull + ".jsonl"]) == 1
    err = capsys.readouterr().err
    assert "usb-Nowhere_Cam-video-index0" in err and "not connected" in err
