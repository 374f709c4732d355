"""Imports point down the pipeline: the vocabulary, the settings and the features never import the
decisions (not even for annotations), and every countable movement has its rep-table entry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from coach.decisions.rep_table import movement_table
from coach.records import COUNTABLE, CountableMovement, is_countable
from tests.conftest import REPO

COACH = REPO / "coach"
BELOW_DECISIONS = [
    COACH / "records.py",
    COACH / "landmarks.py",
    COACH / "statuses.py",
    COACH / "movements.py",
    *sorted((COACH / "config").glob("*.py")),
    *sorted((COACH / "features").glob("*.py")),
]
LATER_STAGES = ("coach.decisions", "coach.actions", "coach.commands", "coach.session")


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at run time or for annotations alone."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", BELOW_DECISIONS, ids=lambda p: str(p.relative_to(COACH)))
def test_the_vocabulary_settings_and_features_never_import_a_later_stage(path: Path) -> None:
    later = sorted(n for n in imported(path) if n.startswith(LATER_STAGES))
    assert later == [], f"{path.relative_to(REPO)} imports {later}"


def test_the_scan_sees_imports_made_only_for_annotations(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from coach.decisions import x\n"
    )
    assert "coach.decisions" in imported(module)


def test_every_countable_movement_has_its_rep_table_entry() -> None:
    assert set(movement_table()) == set(CountableMovement)
    assert COUNTABLE == (CountableMovement.CAT_COW, CountableMovement.LATERAL_FLEXION)
    assert is_countable("cat-cow") and is_countable("lateral-flexion")
    assert not is_countable("neck-roll") and not is_countable("")
