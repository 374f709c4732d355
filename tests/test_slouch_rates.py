"""Tests that the slouch timeline is one of time, not of frames: 1, 2, 5 and 30 samples a second agree."""

from __future__ import annotations

import numpy as np
import pytest

from coach.analyzer import Analyzer
from coach.config import Config
from coach.decisions.hysteresis import DebouncedSwitch
from coach.movements import load_library
from coach.pipeline import LoopStats, RateGate, replayed_samples
from coach.records import PoseSample, PostureState
from testkit.synthetic import slump, synthetic_pose, synthetic_sample

FULL_FPS = 30.0
GRID_S = 0.1
# (seconds, slump depth): tall for the calibration, then slouches of a few lengths and depths.
SCRIPT = (
    (20.0, 0.0),
    (20.0, 0.6),
    (15.0, 0.0),
    (10.0, 0.45),
    (15.0, 0.0),
    (12.0, 0.7),
    (18.0, 0.0),
)
# The landmark jitter of a real webcam (pixels, 1 sigma): enough that a 1 s look reads each
# frame's own noise where 5 looks a second take the median of several.
NOISE_PX = 3.0


def _stream() -> list[PoseSample]:
    """The scripted sitter at 30 frames a second, each frame with its own fixed jitter."""
    depths = [depth for seconds, depth in SCRIPT for _ in range(round(seconds * FULL_FPS))]
    out = []
    for index, depth in enumerate(depths):
        t_s = index / FULL_FPS
        rng = np.random.default_rng(index)
        pose = synthetic_pose(slump(depth), t_s=t_s, noise_px=NOISE_PX, rng=rng)
        out.append(synthetic_sample(pose, t_s))
    return out


def _decimated(samples: list[PoseSample], rate_hz: float) -> list[PoseSample]:
    """One frame at or after each mark of an even 1/rate_hz grid (a tool saving that often)."""
    kept, next_s = [], 0.0
    for sample in samples:
        if sample.t_s >= next_s - 1e-6:
            kept.append(sample)
            next_s += 1.0 / rate_hz
    return kept


def _timeline(samples: list[PoseSample], end_s: float) -> list[bool]:
    """Slouched or not on an even grid, as `coach analyze` decides it (the analysis rate's
    gate, calibrating from the start); the state holds between decisions."""
    config = Config()
    analyzer = Analyzer(config, load_library(None))
    gate = RateGate(lambda: analyzer.look_plan, config.loop)
    decided = [
        (s.t_s, analyzer.update(s).slouch.state is PostureState.SLOUCHED)
        for _, s in replayed_samples(samples, gate, LoopStats())
    ]
    grid, i = [], 0
    for k in range(int(end_s / GRID_S)):
        t_s = k * GRID_S
        while i + 1 < len(decided) and decided[i + 1][0] <= t_s + 1e-9:
            i += 1
        grid.append(decided[i][1])
    return grid


@pytest.fixture(scope="module")
def stream() -> list[PoseSample]:
    return _stream()


def test_the_slouch_timeline_is_the_same_at_1_2_5_and_30_samples_a_second(
    stream: list[PoseSample],
) -> None:
    end_s = stream[-1].t_s
    full = _timeline(stream, end_s)
    assert 0.25 < np.mean(full) < 0.5, "the script slouches for about a third of the time"
    for rate_hz in (1.0, 2.0, 5.0):
        grid = _timeline(_decimated(stream, rate_hz), end_s)
        differs = np.mean(np.array(grid) != np.array(full))
        # Three slouches in 110 s, each starting and ending within about a look of the full
        # rate's: at most 2% of the time (2.2-2.4% when each decision was dated at its look
        # and the calibration's jitter was read after the median).
        assert differs <= 0.02, f"{rate_hz:g}/s disagrees with 30/s {differs:.1%} of the time"
        assert abs(np.mean(grid) - np.mean(full)) <= 0.02


def test_a_change_seen_at_a_look_is_dated_midway_since_the_look_before() -> None:
    # Seen once a second, a slouch that began between two looks holds its 2 s a look sooner
    # than if it began at the look that saw it.
    switch = DebouncedSwitch(on_after_s=2.0, off_after_s=1.0)
    assert not switch.update(False, 0.0)
    assert not switch.update(True, 1.0)
    assert switch.pending_since_s == pytest.approx(0.5)
    assert not switch.update(True, 2.0)
    assert switch.update(True, 3.0)
    # Never more than half a second back, however long since the last look.
    switch = DebouncedSwitch(on_after_s=2.0, off_after_s=1.0)
    switch.update(False, 0.0)
    switch.update(True, 10.0)
    assert switch.pending_since_s == pytest.approx(9.5)
