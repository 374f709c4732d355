"""Tests for the movement library and its TOML loader."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from coach.errors import ConfigError
from coach.movements import (
    PROBLEMS,
    REGIONS,
    Movement,
    MovementLibrary,
    default_user_movements_file,
    load_library,
)
from coach.records import COUNTABLE
from tests.test_cli import assert_one_line_error, coach

REQUIRED_IDS = (
    "cat-cow",
    "lateral-flexion",
    "scapular-retraction",
    "neck-waves",
    "chin-tuck",
    "arm-windmills",
    "ankle-pumps",
    "hip-flexor-twist",
    "knee-extension",
    "thoracic-extension",
    "head-tilt",
    "pelvic-tilt",
    "heel-lift",
    "wrist-rotation",
    "eye-flicker",
)

FIELDS = (
    "id",
    "name",
    "region",
    "targets",
    "cues",
    "reps",
    "hold_s",
    "per_side",
    "tempo_s_per_phase",
    "breath",
    "answers",
    "countable",
    "leg_focused",
    "mistakes",
    "duration_s",
)

NEW_MOVEMENT = """
[[movement]]
id = "shoulder-roll"
name = "Shoulder rolls"
region = "shoulders"
targets = ["upper trapezius"]
cues = ["Roll your shoulders up, back and down.", "Go slowly."]
reps = 5
per_side = false
tempo_s_per_phase = 2.0
breath = "Inhale as the shoulders rise; exhale as they roll down."
answers = ["stationary_upper_body"]
countable = false
leg_focused = false
mistakes = ["Rolling forward"]
duration_s = 20.0
"""


@pytest.fixture(scope="module")
def library() -> MovementLibrary:
    return load_library()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "movements.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- The packaged library ---------------------------------------------------------------


def test_packaged_library_has_every_required_movement(library: MovementLibrary) -> None:
    assert len(library) >= len(REQUIRED_IDS)
    assert set(REQUIRED_IDS) <= set(library.ids)
    assert len(set(library.ids)) == len(library)
    assert [m.id for m in library] == list(library.ids)


def test_movement_has_exactly_the_documented_fields() -> None:
    assert tuple(f.name for f in dataclasses.fields(Movement)) == FIELDS


def test_every_movement_is_well_formed(library: MovementLibrary) -> None:
    for m in library:
        assert m.region in REGIONS, m.id
        assert m.targets, m.id
        assert 2 <= len(m.cues) <= 4, m.id
        assert all(cue and "\n" not in cue for cue in m.cues), m.id
        assert m.mistakes, m.id
        assert m.reps is not None or m.hold_s is not None, m.id
        assert m.dose_text, m.id


def test_every_region_has_a_movement(library: MovementLibrary) -> None:
    for region in REGIONS:
        assert library.in_region(region), region


def test_every_movement_answers_a_problem(library: MovementLibrary) -> None:
    for m in library:
        assert m.answers, m.id
        assert set(m.answers) <= set(PROBLEMS), m.id


def test_every_problem_has_a_movement(library: MovementLibrary) -> None:
    for problem in PROBLEMS:
        assert library.for_problem(problem), problem


def test_forward_head_and_rounding_answers(library: MovementLibrary) -> None:
    forward_head = {m.id for m in library.for_problem("forward_head")}
    assert {"neck-waves", "chin-tuck"} <= forward_head
    rounding = {m.id for m in library.for_problem("thoracic_rounding")}
    assert {"cat-cow", "scapular-retraction", "thoracic-extension"} <= rounding


def test_stationary_lower_body_has_leg_movements(library: MovementLibrary) -> None:
    legs = [m for m in library.for_problem("stationary_lower_body") if m.leg_focused]
    assert len(legs) >= 3


def test_only_cat_cow_and_lateral_flexion_are_countable(library: MovementLibrary) -> None:
    assert {m.id for m in library if m.countable} == {"cat-cow", "lateral-flexion"}


def test_rep_movements_use_a_two_second_tempo(library: MovementLibrary) -> None:
    for m in library:
        if m.reps is not None:
            assert 1.5 <= m.tempo_s_per_phase <= 3.0, m.id


def test_durations_match_the_dose(library: MovementLibrary) -> None:
    for m in library:
        sides = 2 if m.per_side else 1
        hold = m.hold_s or 0.0
        expected = (m.reps or 1) * sides * (2 * m.tempo_s_per_phase + hold)
        assert 0.75 * expected <= m.duration_s <= 1.25 * expected, m.id


def test_breath_cues_mention_inhale_and_exhale(library: MovementLibrary) -> None:
    for m in library:
        assert "inhale" in m.breath.lower(), m.id
        assert "exhale" in m.breath.lower(), m.id


def _movement(**changes: object) -> Movement:
    base: dict[str, object] = {
        "id": "x",
        "name": "X",
        "region": "neck",
        "targets": ("a",),
        "cues": ("b", "c"),
        "reps": None,
        "hold_s": None,
        "per_side": False,
        "tempo_s_per_phase": 0.0,
        "breath": "Inhale, exhale.",
        "answers": ("forward_head",),
        "countable": False,
        "leg_focused": False,
        "mistakes": (),
        "duration_s": 10.0,
    }
    base.update(changes)
    return Movement(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"reps": 6, "tempo_s_per_phase": 2.0}, "6 reps, about 2 s per phase"),
        ({"reps": 8, "per_side": True}, "8 reps per side"),
        ({"hold_s": 5.0}, "hold 5 s"),
        ({"reps": 6, "hold_s": 3.0, "per_side": True, "tempo_s_per_phase": 2.0},
         "6 reps per side, hold 3 s, about 2 s per phase"),
        ({"reps": 1, "tempo_s_per_phase": 2.5}, "1 rep, about 2.5 s per phase"),
    ],
)  # fmt: skip
def test_dose_text(changes: dict[str, object], text: str) -> None:
    assert _movement(**changes).dose_text == text


def test_unknown_lookups_raise_config_error(library: MovementLibrary) -> None:
    with pytest.raises(ConfigError, match=r"^unknown movement 'nope'; known: cat-cow, ") as info:
        library.get("nope")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="unknown problem 'slouch'"):
        library.for_problem("slouch")
    with pytest.raises(ConfigError, match="unknown region 'toes'"):
        library.in_region("toes")
    assert library.get("chin-tuck").region == "neck"


def test_default_user_file_is_not_created() -> None:
    path = default_user_movements_file()
    assert path.name == "movements.toml"
    assert path.parent.name == "coach"


# --- The user's file ----------------------------------------------------------------------


def test_missing_user_file_gives_packaged_library(tmp_path: Path, library: MovementLibrary) -> None:
    assert load_library(tmp_path / "absent.toml") == library
    assert load_library(None) == library


def test_user_file_adds_replaces_and_disables(tmp_path: Path, library: MovementLibrary) -> None:
    path = _write(
        tmp_path,
        NEW_MOVEMENT
        + """
[[movement]]
id = "cat-cow"
reps = 8
cues = ["Hands on knees.", "Arch, then round."]

[[movement]]
id = "arm-windmills"
enabled = false
""",
    )
    merged = load_library(path)
    assert merged.ids[-1] == "shoulder-roll"
    assert merged.get("shoulder-roll").dose_text == "5 reps, about 2 s per phase"
    assert "arm-windmills" not in merged.ids
    with pytest.raises(ConfigError):
        merged.get("arm-windmills")
    assert len(merged) == len(library)  # one added, one hidden
    cat_cow = merged.get("cat-cow")
    assert cat_cow.reps == 8
    assert cat_cow.cues == ("Hands on knees.", "Arch, then round.")
    assert cat_cow.breath == library.get("cat-cow").breath  # keys not set are kept
    assert merged.ids.index("cat-cow") == library.ids.index("cat-cow")  # keeps its place
    assert all(m.id != "arm-windmills" for m in merged.for_problem("stationary_upper_body"))


def test_user_file_can_add_a_hidden_movement(tmp_path: Path) -> None:
    path = _write(tmp_path, NEW_MOVEMENT + "enabled = false\n")
    assert "shoulder-roll" not in load_library(path).ids


def test_empty_user_file_changes_nothing(tmp_path: Path, library: MovementLibrary) -> None:
    assert load_library(_write(tmp_path, "# nothing yet\n")) == library


def _replace(old: str, new: str) -> str:
    assert old in NEW_MOVEMENT
    return NEW_MOVEMENT.replace(old, new)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (NEW_MOVEMENT + "colour = 'red'\n", "unknown key 'colour'"),
        (_replace('name = "Shoulder rolls"\n', ""), "missing required key(s) 'name'"),
        (_replace("reps = 5\n", ""), "give 'reps', 'hold_s' or both"),
        (_replace("reps = 5", 'reps = "five"'), "'reps' must be a whole number"),
        (_replace("reps = 5", "reps = 0"), "'reps' must be a whole number"),
        (_replace("reps = 5", "reps = 5.5"), "'reps' must be a whole number"),
        (_replace("per_side = false", 'per_side = "no"'), "'per_side' must be true or false"),
        (_replace("duration_s = 20.0", "duration_s = -1"), "'duration_s' must be a number"),
        (_replace("tempo_s_per_phase = 2.0", "tempo_s_per_phase = nan"), "'tempo_s_per_phase'"),
        (_replace('cues = ["Roll your shoulders up, back and down.", "Go slowly."]', 'cues = "Go slowly."'), "'cues' must be a list of strings"),
        (_replace('targets = ["upper trapezius"]', "targets = []"), "'targets' must not be empty"),
        (_replace('targets = ["upper trapezius"]', "targets = [3]"), "'targets' must be"),
        (_replace('region = "shoulders"', 'region = "elbows"'), "unknown region 'elbows'"),
        (_replace('answers = ["stationary_upper_body"]', 'answers = ["slouch"]'),
         "unknown problem 'slouch'"),
        (_replace('breath = "Inhale as', 'breath = "Inhale\\nas'), "'breath' must be a non-empty one-line"),
        (NEW_MOVEMENT + NEW_MOVEMENT, "duplicate id"),
        ('[[movement]]\nid = "shoulder-roll"\nenabled = false\n', "no such movement to change"),
        ('[[movement]]\nid = "shoulder-roll"\nenabled = "no"\n', "'enabled' must be true or false"),
        ('[[movement]]\nid = "cat-cow"\nreps = -2\n', "'reps' must be a whole number"),
    ],
)  # fmt: skip
def test_invalid_user_file_names_file_id_and_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_library(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: movement ")
    assert "'shoulder-roll'" in message or "'cat-cow'" in message
    assert problem in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[movement]]\nname = 'No id'\n", "movement #1 (no id): missing required key 'id'"),
        ('[[movement]]\nid = "Bad Id"\n', "'id' must be lowercase"),
        ("movement = 3\n", "'movement' must be [[movement]] tables"),
        ("[settings]\nx = 1\n", "unknown top-level key 'settings'"),
        ("[[movement]\n", "not valid TOML"),
    ],
)
def test_invalid_user_file_structure(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_library(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert problem in message


# --- Countable movements come from the rep table ------------------------------------------


def test_countable_movements_are_the_rep_tables(library: MovementLibrary) -> None:
    assert {m.id for m in library if m.countable} == set(COUNTABLE)


@pytest.mark.parametrize(
    "text",
    [
        NEW_MOVEMENT.replace("countable = false", "countable = true"),
        '[[movement]]\nid = "chin-tuck"\ncountable = true\n',
    ],
)
def test_a_movement_coach_cannot_count_is_not_countable(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_library(path)
    movement = "shoulder-roll" if "shoulder-roll" in text else "chin-tuck"
    assert str(info.value) == (
        f"{path}: {movement} is marked countable but coach cannot count it; "
        "countable: cat-cow, lateral-flexion"
    )


def test_the_cli_rejects_a_countable_movement_it_cannot_count(tmp_path: Path) -> None:
    user_file = default_user_movements_file()
    user_file.parent.mkdir(parents=True, exist_ok=True)
    user_file.write_text('[[movement]]\nid = "chin-tuck"\ncountable = true\n', encoding="utf-8")
    result = coach("log", "chin-tuck", "--reps", "3", "--db", str(tmp_path / "coach.sqlite3"))
    assert_one_line_error(
        result, "movements.toml: chin-tuck is marked countable but coach cannot count it"
    )
    assert not (tmp_path / "coach.sqlite3").exists()
