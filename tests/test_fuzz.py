"""Property-based tests of what comes from outside: landmark files, profiles, settings, numbers.

For any input, the coach gives a valid result or a `CoachError` with one line (the CLI: exit
status 1 or 2 and one error line), never a traceback. A fixed budget and derandomize keep
each run short and the same on every machine (`make test` runs these).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools
import json
import math
import tempfile
import typing
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.calibration import load_profile, new_profile, profile_path, save_profile
from coach.cli import main
from coach.config import Config, load_config
from coach.errors import CoachError
from coach.features.posture import PostureCues
from coach.pose.landmark_file import LandmarkReader, LandmarkWriter
from coach.safe.checks import check_name, check_path_text
from coach.safe.printable import printable
from tests.conftest import make_pose, sample_of

BUDGET = settings(
    max_examples=60,
    deadline=None,  # a shared CI machine: time is bounded by the example count
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# JSON values of every kind, with the numbers JSON cannot hold (written as NaN, Infinity).
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=12,
)


def one_line(exc: CoachError) -> None:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the module (hypothesis runs many examples per test call)."""
    return tmp_path_factory.mktemp("fuzz")


def _example_folder(folder: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=folder))


# Landmark files: a real recording with its header or frames edited.

FRAMES = 6


@pytest.fixture(scope="module")
def recording(folder: Path) -> list[dict[str, Any]]:
    path = folder / "rec.jsonl"
    with LandmarkWriter(path, source="synthetic", fps=15.0, image_size=(640, 480)) as writer:
        for i in range(FRAMES):
            writer.write(sample_of(make_pose(i / 15), i / 15))
    return [json.loads(line) for line in path.read_text().splitlines()]


@BUDGET
@given(
    line=st.integers(min_value=0, max_value=FRAMES),
    key=st.sampled_from(
        [
            *("fps", "image_size", "source", "landmarks", "version", "format", "t_s"),
            *("tracking", "people", "image", "world", "visibility", "presence", "new"),
        ]
    ),
    value=json_values,
    cut=st.integers(min_value=0, max_value=4000),
    kept=st.integers(min_value=0, max_value=FRAMES),
)
def test_any_edited_landmark_file_is_samples_or_one_line(
    folder: Path,
    recording: list[dict[str, Any]],
    line: int,
    key: str,
    value: Any,
    cut: int,
    kept: int,
) -> None:
    records = [dict(r) for r in recording[: 1 + kept]]  # the header and `kept` frames
    records[min(line, kept)][key] = value
    text = "".join(json.dumps(r) + "\n" for r in records)
    path = _example_folder(folder) / "edited.jsonl"
    path.write_text(text[: len(text) - cut] if cut < len(text) else text)
    try:
        reader = LandmarkReader(path, warn=lambda message: None)
        samples = list(reader.samples())
    except CoachError as exc:
        one_line(exc)
        return
    assert samples and all(math.isfinite(s.t_s) for s in samples)
    assert all(b.t_s >= a.t_s for a, b in itertools.pairwise(samples))


@BUDGET
@given(data=st.binary(max_size=300))
def test_any_bytes_as_a_landmark_file_are_samples_or_one_line(folder: Path, data: bytes) -> None:
    path = _example_folder(folder) / "noise.jsonl"
    path.write_bytes(data)
    try:
        list(LandmarkReader(path, warn=lambda message: None).samples())
    except CoachError as exc:
        one_line(exc)


# Calibration profiles: a valid one with one field, or one cue, replaced.

_NEUTRAL = PostureCues(
    view_code=0.0,
    nose_rise=0.8,
    nose_y=0.45,
    ear_rise=0.6,
    head_size=0.45,
    pitch=0.1,
    head_offset=math.nan,
    ear_shoulder_deg=math.nan,
    shoulder_width=0.36,
    shoulder_x=0.5,
    shoulder_y=0.75,
    lean_deg=0.0,
)
_CUES = [f.name for f in dataclasses.fields(PostureCues)]


@BUDGET
@given(
    where=st.sampled_from(["neutral", "noise", "top"]),
    key=st.sampled_from([*_CUES, "image_size", "view", "version", "name", "neutral", "noise"]),
    value=json_values,
)
def test_any_edited_profile_loads_sound_or_is_one_line(
    folder: Path, where: str, key: str, value: Any
) -> None:
    saved = save_profile(new_profile("desk", _NEUTRAL, (640, 480)), folder / "desk.json")
    data = json.loads(saved.read_text())
    if where == "top" or key not in _CUES:
        data[key] = value
    else:
        if data.get(where) is None:
            data[where] = {name: 0.0 for name in _CUES}
        data[where][key] = value
    path = _example_folder(folder) / "p.json"
    path.write_text(json.dumps(data))
    try:
        profile = load_profile(path)
    except CoachError as exc:
        one_line(exc)
        return
    neutral = profile.neutral
    assert math.isfinite(neutral.view_code) and neutral.shoulder_width > 0
    assert math.isfinite(neutral.nose_rise) or profile.view == "side"
    for name in _CUES:
        assert not math.isinf(getattr(neutral, name))
    assert all(1 <= v <= 16384 for v in profile.image_size)


# Settings: TOML files of known sections and keys with values of any type.

_SECTIONS = {
    name: [f.name for f in dataclasses.fields(kind)]
    for name, kind in typing.get_type_hints(Config).items()
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a basic string (lone surrogates: not TOML, one line too)


toml_values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.lists(st.integers(-5, 5), max_size=3),
)


@BUDGET
@given(
    settings_=st.lists(
        st.tuples(
            st.sampled_from(sorted(_SECTIONS)),
            st.data(),
            toml_values,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_settings_file_loads_sound_or_is_one_line(
    folder: Path, settings_: list[tuple[str, st.DataObject, Any]]
) -> None:
    sections: dict[str, dict[str, Any]] = {}
    for section, data, value in settings_:
        key = data.draw(st.sampled_from([*_SECTIONS[section], "unknown_key"]))
        sections.setdefault(section, {})[key] = value
    text = "".join(
        f"[{section}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in keys.items())
        for section, keys in sections.items()
    )
    path = _example_folder(folder) / "c.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        config = load_config(path)
    except CoachError as exc:
        one_line(exc)
        return
    for section in _SECTIONS:
        for name, value in dataclasses.asdict(getattr(config, section)).items():
            if isinstance(value, float):
                assert math.isfinite(value), (section, name)


@BUDGET
@given(raw=st.text(max_size=60))
def test_any_settings_text_loads_or_is_one_line(folder: Path, raw: str) -> None:
    path = _example_folder(folder) / "c.toml"
    path.write_text(raw, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path)
    except CoachError as exc:
        one_line(exc)


# Numbers on the command line: an option's value of any spelling.

numbers_as_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(alphabet="0123456789.-+eEinfa_x ", max_size=25),
    st.text(max_size=8),
)
_OPTIONS = [
    ("analyze", "MISSING", "--max-seconds"),
    ("analyze", "MISSING", "--still-minutes"),
    ("analyze", "MISSING", "--calibrate-seconds"),
    ("calibrate", "MISSING", "--seconds"),
    ("count", "MISSING", "--movement", "cat-cow", "--reps"),
    ("count", "MISSING", "--movement", "cat-cow", "--fatigue-before"),
    ("log", "cat-cow", "--db", "DB", "--reps"),
    ("log", "cat-cow", "--reps", "2", "--db", "DB", "--fatigue-after"),
    ("report", "--db", "DB", "--days"),
    ("run", "NUMBER", "--no-window"),
]


@BUDGET
@given(option=st.sampled_from(_OPTIONS), value=numbers_as_text)
def test_any_number_on_the_command_line_is_used_or_one_line(
    folder: Path, option: tuple[str, ...], value: str
) -> None:
    here = _example_folder(folder)
    places = {"MISSING": str(here / "missing.jsonl"), "DB": str(here / "h.sqlite3")}
    argv = [places.get(a, a) for a in option]
    argv = [value if a == "NUMBER" else a for a in argv]
    if "NUMBER" not in option:
        argv.append(value)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 1
    text = err.getvalue()
    assert "Traceback" not in text and "\x1b" not in text
    if code != 0:
        lines = [line for line in text.splitlines() if line.strip()]
        assert code in (1, 2) and len(lines) == 1 and "error:" in lines[0], (argv, text)


# Names and text shown to the user.


@BUDGET
@given(text=st.text())
def test_printable_text_holds_no_control_character(text: str) -> None:
    shown = printable(text)
    assert all(c in "\n\t" or unicodedata.category(c) != "Cc" for c in shown)
    assert "\u202e" not in shown
    if text.isprintable():
        assert shown == text


@BUDGET
@given(text=st.text(max_size=300), option=st.sampled_from(["--db", "--profile", "SOURCE"]))
def test_any_name_is_a_path_a_profile_or_one_line(text: str, option: str) -> None:
    for check in (lambda: check_path_text(text, option), lambda: check_name(text, option)):
        try:
            check()
        except CoachError as exc:
            one_line(exc)
    try:
        path = profile_path(text, Path("/profiles"))
    except CoachError as exc:
        one_line(exc)
        return
    assert path.parent == Path("/profiles") or text.endswith(".json")
