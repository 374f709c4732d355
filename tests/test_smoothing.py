"""Tests for the One-Euro landmark filter."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from coach.features.smoothing import LandmarkSmoother, OneEuroFilter
from tests.conftest import make_pose, sample_of


@given(st.floats(-10, 10), st.integers(2, 40))
def test_constant_input_is_a_fixed_point(value: float, steps: int) -> None:
    f = OneEuroFilter(1.0, 0.5)
    for i in range(steps):
        out = f.update([value], i * 0.2)
    assert np.allclose(out, value)


@given(st.lists(st.floats(-5, 5), min_size=2, max_size=50))
def test_output_stays_within_the_inputs_range(values: list[float]) -> None:
    f = OneEuroFilter(1.0, 0.5)
    for i, v in enumerate(values):
        out = float(f.update([v], i * 0.1)[0])
        assert min(values[: i + 1]) - 1e-9 <= out <= max(values[: i + 1]) + 1e-9


def test_jitter_is_reduced_and_a_step_is_followed() -> None:
    rng = np.random.default_rng(0)
    f = OneEuroFilter(1.0, 8.0)
    raw = 0.5 + rng.normal(0, 0.004, 100)
    out = np.array([f.update([v], i / 15)[0] for i, v in enumerate(raw)])
    assert out[20:].std() < 0.5 * raw[20:].std()
    # A real move of 0.1 is followed within half a second at 15 fps.
    out2 = [f.update([0.6], (100 + i) / 15)[0] for i in range(8)]
    assert out2[-1] > 0.58


def test_smoother_restarts_after_a_gap() -> None:
    smoother = LandmarkSmoother(1.0, 8.0, max_gap_s=1.0)
    smoother.update(sample_of(make_pose(0.0, centre_x=0.3), 0.0))
    after_gap = smoother.update(sample_of(make_pose(5.0, centre_x=0.7), 5.0))
    assert after_gap.pose is not None
    assert abs(float(after_gap.pose.image_xyz[0, 0]) - 0.7) < 1e-6
