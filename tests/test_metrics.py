"""Tests of afg_core.metrics: regression scores and grade-class accuracy with bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from afg_core.geochem import total_rare_earth_oxides
from afg_core.metrics import grade_class_accuracy, regression_scores


def _held_out(n_holes: int = 20, per_hole: int = 12, noise: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    holes = pd.Series(np.repeat([f"H{i:02d}" for i in range(n_holes)], per_hole))
    level = np.repeat(rng.normal(0, 1, n_holes), per_hole)
    observed = pd.DataFrame(
        {
            "log_La": level + rng.normal(0, 0.5, len(holes)),
            "log_Ce": 2 + level + rng.normal(0, 0.5, len(holes)),
        }
    )
    predicted = observed + rng.normal(0, noise, observed.shape)
    return observed, predicted, holes


def test_perfect_predictions_score_rmse_0_and_r2_1() -> None:
    observed, _, holes = _held_out()
    scores = regression_scores(observed, observed.copy(), holes, n_boot=200)
    assert list(scores.index) == ["log_La", "log_Ce"]
    np.testing.assert_allclose(scores["RMSE"], 0.0, atol=1e-12)
    np.testing.assert_allclose(scores["MAE"], 0.0, atol=1e-12)
    np.testing.assert_allclose(scores["R2"], 1.0)
    np.testing.assert_allclose(scores[["RMSE_lo", "RMSE_hi"]], 0.0, atol=1e-12)
    np.testing.assert_allclose(scores[["R2_lo", "R2_hi"]], 1.0)
    assert scores["n"].tolist() == [240, 240]


def test_scores_match_hand_computation_and_skip_missing_pairs() -> None:
    observed, predicted, holes = _held_out(seed=1)
    observed.loc[3, "log_La"] = np.nan
    predicted.loc[7, "log_Ce"] = np.nan
    scores = regression_scores(observed, predicted[["log_Ce", "log_La"]], holes, n_boot=50)
    for column, dropped in (("log_La", 3), ("log_Ce", 7)):
        o = observed[column].drop(index=dropped).to_numpy()
        p = predicted[column].drop(index=dropped).to_numpy()
        assert scores.loc[column, "n"] == len(o)
        assert scores.loc[column, "RMSE"] == pytest.approx(np.sqrt(np.mean((o - p) ** 2)))
        assert scores.loc[column, "MAE"] == pytest.approx(np.mean(np.abs(o - p)))
        assert scores.loc[column, "R2"] == pytest.approx(
            1 - np.sum((o - p) ** 2) / np.sum((o - o.mean()) ** 2)
        )


def test_mean_prediction_scores_r2_0() -> None:
    observed, _, holes = _held_out(seed=2)
    mean = pd.DataFrame({c: np.full(len(observed), observed[c].mean()) for c in observed})
    scores = regression_scores(observed, mean, holes, n_boot=50)
    np.testing.assert_allclose(scores["R2"], 0.0, atol=1e-9)
    np.testing.assert_allclose(scores["RMSE"], observed.std(ddof=0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confidence_intervals_bracket_the_point_estimate(seed: int) -> None:
    observed, predicted, holes = _held_out(seed=seed)
    scores = regression_scores(observed, predicted, holes, n_boot=300, seed=seed)
    for metric in ("RMSE", "MAE", "R2"):
        assert (scores[f"{metric}_lo"] <= scores[metric]).all(), metric
        assert (scores[metric] <= scores[f"{metric}_hi"]).all(), metric
        assert (scores[f"{metric}_hi"] - scores[f"{metric}_lo"] > 0).all(), metric
    # Deterministic for a seed.
    again = regression_scores(observed, predicted, holes, n_boot=300, seed=seed)
    pd.testing.assert_frame_equal(scores, again)


def test_interval_narrows_with_more_holes() -> None:
    small = regression_scores(*_held_out(n_holes=8, seed=4), n_boot=400)
    large = regression_scores(*_held_out(n_holes=80, seed=4), n_boot=400)
    width = lambda s: (s["RMSE_hi"] - s["RMSE_lo"]).mean()
    assert width(large) < width(small)


def test_grade_class_accuracy_with_known_classes() -> None:
    cutoff = 1000.0
    # Classes: waste < 1000 <= low < 3000 <= high.
    observed = np.array([500.0, 1500.0, 4000.0, 500.0, 999.0, 1000.0, 2999.0, 3000.0])
    predicted = np.array([600.0, 2500.0, 2000.0, 1200.0, 10.0, 2000.0, 3000.0, 9000.0])
    #                      hit     hit    miss    miss    hit    hit     miss    hit
    holes = np.array(["A", "A", "B", "B", "C", "C", "D", "D"])
    accuracy, low, high = grade_class_accuracy(observed, predicted, holes, cutoff, n_boot=300)
    assert accuracy == pytest.approx(5 / 8)
    assert 0 <= low <= accuracy <= high <= 1
    assert high - low > 0


def test_grade_class_accuracy_ignores_missing_and_is_1_for_perfect_predictions() -> None:
    observed = np.array([100.0, 2000.0, 5000.0, np.nan, 800.0])
    predicted = np.array([200.0, 1500.0, 4000.0, 100.0, np.nan])
    holes = np.array(["A", "A", "B", "B", "C"])
    assert grade_class_accuracy(observed, predicted, holes, 1000.0, n_boot=50) == (1.0, 1.0, 1.0)


def test_treo_sums_ree_oxides_only() -> None:
    # Fe (an oxide-forming major, wt%) must not count towards TREO.
    table = pd.DataFrame({"La": [100.0, np.nan], "Y": [10.0, np.nan], "Fe": [30.0, 30.0], "Si": [20.0, 20.0]})
    treo = total_rare_earth_oxides(table)
    assert treo.iloc[0] == pytest.approx(100 * 1.1728 + 10 * 1.2699)
    assert np.isnan(treo.iloc[1])
