"""The ceiling benchmark's own arithmetic: the logistic fit and the best threshold, on NumPy."""

from __future__ import annotations

import numpy as np

from benchmarks.real_ceiling import Figures, best_threshold, fit_logistic, predict


def test_a_linear_rule_separates_what_a_line_separates_whatever_the_scale() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 3)) * np.array([1.0, 100.0, 0.01])
    truth = x[:, 0] + x[:, 1] / 100.0 > 0.5
    said = predict(fit_logistic(x, truth), x)
    assert np.mean(said == truth) >= 0.99


def test_a_cue_that_says_nothing_gets_no_weight() -> None:
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.normal(size=500), rng.normal(size=500)])
    truth = x[:, 0] > 0.0
    weights = fit_logistic(x, truth, ridge=1.0)
    assert abs(weights[2]) < 0.1 * abs(weights[1])


def test_the_best_threshold_is_the_one_that_agrees_most() -> None:
    scores = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 1.5])
    truth = np.array([False, False, False, False, True, True, True])
    figures = best_threshold(scores, truth)
    assert figures == Figures(agreement=6 / 7, flagged=0.0, caught=2 / 3)
