"""Scores of predictions: RMSE, MAE, R2 and grade-class accuracy, with 95 % intervals by hole.

The one home of these metrics: kriging cross-validation, model evaluation and the pages
all score through here. Intervals come from a bootstrap over drill holes (samples of
one hole are not independent, so resampling samples would give intervals that are too
narrow).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _hole_sums(observed: np.ndarray, predicted: np.ndarray, holes: np.ndarray) -> dict[str, np.ndarray]:
    """Per-hole sufficient statistics, (n_holes, n_columns) each; NaN pairs skipped."""
    codes, hole_index = np.unique(holes, return_inverse=True)
    valid = np.isfinite(observed) & np.isfinite(predicted)
    o, p = np.where(valid, observed, 0.0), np.where(valid, predicted, 0.0)
    sums = {}
    for name, values in {
        "n": valid.astype(float),
        "se": (o - p) ** 2,
        "ae": np.abs(o - p),
        "y": o,
        "yy": o**2,
    }.items():
        total = np.zeros((len(codes), observed.shape[1]))
        np.add.at(total, hole_index, values)
        sums[name] = total
    return sums


def _metrics_from_sums(sums: dict[str, np.ndarray], weights: np.ndarray) -> dict[str, np.ndarray]:
    """RMSE, MAE, R2 from per-hole sums weighted by bootstrap counts (n_boot, n_holes)."""
    n = weights @ sums["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mse = (weights @ sums["se"]) / n
        mae = (weights @ sums["ae"]) / n
        mean = (weights @ sums["y"]) / n
        variance = (weights @ sums["yy"]) / n - mean**2
        r2 = np.where(variance > 0, 1 - mse / variance, np.nan)
    return {"RMSE": np.sqrt(mse), "MAE": mae, "R2": r2}


def point_scores(observed: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R2 (``1 - SS_res / SS_tot``) over the finite pairs of two 1-D arrays.

    NaN for a score that is undefined (no finite pair; R2 with constant observations).

    Examples
    --------
    >>> from afg_core.metrics import point_scores
    >>> scores = point_scores([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    >>> {name: round(value, 6) for name, value in scores.items()}
    {'RMSE': 0.57735, 'MAE': 0.333333, 'R2': 0.5}
    """
    o = np.asarray(observed, dtype=float).reshape(-1, 1)
    p = np.asarray(predicted, dtype=float).reshape(-1, 1)
    scores = _metrics_from_sums(_hole_sums(o, p, np.zeros(len(o))), np.ones((1, 1)))
    return {name: float(value[0, 0]) for name, value in scores.items()}


def regression_scores(
    observed: pd.DataFrame,
    predicted: pd.DataFrame,
    holes: pd.Series,
    n_boot: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """RMSE, MAE and R2 per column with 95 % bootstrap-over-holes intervals.

    Parameters
    ----------
    observed, predicted : DataFrame
        Same columns (e.g. ``log_La`` or ppm values), one row per held-out sample.
    holes : Series
        Hole id per row.
    n_boot : int
        Bootstrap resamples of holes.

    Returns
    -------
    DataFrame
        One row per column with ``RMSE, RMSE_lo, RMSE_hi, MAE, ..., R2_hi, n``.
    """
    obs = observed.to_numpy(dtype=float)
    pred = predicted[observed.columns].to_numpy(dtype=float)
    sums = _hole_sums(obs, pred, holes.to_numpy())
    n_holes = sums["n"].shape[0]
    point = _metrics_from_sums(sums, np.ones((1, n_holes)))
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_holes, np.full(n_holes, 1.0 / n_holes), size=n_boot).astype(float)
    boot = _metrics_from_sums(sums, counts)
    table = {"n": sums["n"].sum(axis=0).astype(int)}
    for name in ("RMSE", "MAE", "R2"):
        table[name] = point[name][0]
        table[f"{name}_lo"] = np.nanpercentile(boot[name], 2.5, axis=0)
        table[f"{name}_hi"] = np.nanpercentile(boot[name], 97.5, axis=0)
    return pd.DataFrame(table, index=observed.columns)


def grade_class_accuracy(
    observed_treo: np.ndarray,
    predicted_treo: np.ndarray,
    holes: np.ndarray,
    cutoff: float,
    n_boot: int = 500,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Share of samples put in the right grade class, with a 95 % bootstrap-over-holes interval.

    Classes on the grade (e.g. TREO or Cu, ppm): waste below ``cutoff``, low grade up to
    3 x cutoff, high grade above.

    Returns
    -------
    accuracy, low, high : float
        NaN when no sample has both an observed and a predicted grade.
    """
    edges = np.array([cutoff, 3 * cutoff])
    valid = np.isfinite(observed_treo) & np.isfinite(predicted_treo)
    hit = (np.digitize(observed_treo, edges) == np.digitize(predicted_treo, edges)) & valid
    if not valid.any():
        return float("nan"), float("nan"), float("nan")
    codes, index = np.unique(np.asarray(holes)[valid], return_inverse=True)
    hits = np.bincount(index, weights=hit[valid], minlength=len(codes))
    totals = np.bincount(index, minlength=len(codes)).astype(float)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(codes), np.full(len(codes), 1.0 / len(codes)), size=n_boot)
    boot = (counts @ hits) / (counts @ totals)
    return float(hits.sum() / totals.sum()), float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))
