"""Tests for the landmark recording format."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from coach.errors import LandmarkFileError
from coach.pose.landmark_file import LandmarkReader, LandmarkWriter
from coach.records import Tracking
from tests.conftest import make_pose, sample_of


@pytest.mark.parametrize("name", ["rec.jsonl", "rec.jsonl.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    samples = [sample_of(make_pose(i / 5, lean_deg=i), i / 5) for i in range(5)]
    samples.append(sample_of(None, 1.0))
    with LandmarkWriter(path, source="test", fps=5.0, image_size=(640, 480)) as writer:
        for s in samples:
            writer.write(s)
    reader = LandmarkReader(path)
    back = list(reader.samples())
    assert reader.fps == 5.0 and reader.image_size == (640, 480)
    assert [s.tracking for s in back] == [s.tracking for s in samples]
    assert back[-1].pose is None and back[-1].tracking is Tracking.NO_PERSON
    for a, b in zip(samples[:-1], back[:-1], strict=True):
        assert a.pose is not None and b.pose is not None
        assert np.allclose(a.pose.image_xyz, b.pose.image_xyz, atol=1e-5)
        assert np.allclose(a.pose.visibility, b.pose.visibility, atol=1e-5)


def test_never_stores_pixels(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with LandmarkWriter(path, source="x", fps=5.0, image_size=(640, 480)) as writer:
        writer.write(sample_of(make_pose(), 0.0))
    text = path.read_text()
    assert set(text.splitlines()[1].split('"')[1::2]) >= {"t_s", "image", "world"}
    assert "pixels" not in text and "jpeg" not in text.lower()


def test_rejects_missing_foreign_and_corrupt(tmp_path: Path) -> None:
    with pytest.raises(LandmarkFileError, match="does not exist"):
        LandmarkReader(tmp_path / "none.jsonl")
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"hello": 1}\n')
    with pytest.raises(LandmarkFileError, match="not a coach landmark recording"):
        LandmarkReader(foreign)
    broken = tmp_path / "broken.jsonl.gz"
    with LandmarkWriter(broken, source="x", fps=5.0, image_size=(640, 480)) as writer:
        writer.write(sample_of(make_pose(), 0.0))
    data = gzip.decompress(broken.read_bytes()).decode()
    broken.write_bytes(gzip.compress((data + '{"t_s": "x"}\n').encode()))
    with pytest.raises(LandmarkFileError, match="line 3"):
        list(LandmarkReader(broken).samples())
