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


def hole_bootstrap_counts(n_holes: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_holes) times each hole is drawn in each bootstrap resample.

    Every score of one evaluation uses the same seed, hence the same resampled holes, so
    intervals of different models are comparable and their differences are paired.
    """
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_holes, np.full(n_holes, 1.0 / n_holes), size=n_boot).astype(float)


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
    boot = _metrics_from_sums(sums, hole_bootstrap_counts(n_holes, n_boot, seed))
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
    counts = hole_bootstrap_counts(len(codes), n_boot, seed)
    boot = (counts @ hits) / (counts @ totals)
    return float(hits.sum() / totals.sum()), float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))


def paired_rmse_differences(
    observed: pd.DataFrame,
    predicted_a: pd.DataFrame,
    predicted_b: pd.DataFrame,
    holes: pd.Series,
    n_boot: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """RMSE of model a minus RMSE of model b per column, with a paired 95 % bootstrap-over-holes interval.

    Both RMSEs of a resample are computed on the same resampled holes and on the rows where
    both models predict, so the interval is that of the *difference*: a model "wins" on a
    column when the whole interval lies below 0.

    Returns
    -------
    DataFrame
        One row per column: ``rmse_diff, lo, hi, n``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from afg_core.metrics import paired_rmse_differences
    >>> rng = np.random.default_rng(0)
    >>> holes = pd.Series(np.repeat(np.arange(30), 10))
    >>> observed = pd.DataFrame({"Cu": rng.normal(size=300)})
    >>> good, poor = observed + 0.1 * rng.normal(size=(300, 1)), observed + rng.normal(size=(300, 1))
    >>> row = paired_rmse_differences(observed, good, poor, holes).loc["Cu"]
    >>> bool(row["hi"] < 0)
    True
    """
    obs = observed.to_numpy(dtype=float)
    a = predicted_a[observed.columns].to_numpy(dtype=float)
    b = predicted_b[observed.columns].to_numpy(dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    a, b = np.where(both, a, np.nan), np.where(both, b, np.nan)
    codes = holes.to_numpy()
    sums_a, sums_b = _hole_sums(obs, a, codes), _hole_sums(obs, b, codes)
    n_holes = sums_a["n"].shape[0]
    ones = np.ones((1, n_holes))
    counts = hole_bootstrap_counts(n_holes, n_boot, seed)
    point = _metrics_from_sums(sums_a, ones)["RMSE"][0] - _metrics_from_sums(sums_b, ones)["RMSE"][0]
    boot = _metrics_from_sums(sums_a, counts)["RMSE"] - _metrics_from_sums(sums_b, counts)["RMSE"]
    return pd.DataFrame(
        {
            "rmse_diff": point,
            "lo": np.nanpercentile(boot, 2.5, axis=0),
            "hi": np.nanpercentile(boot, 97.5, axis=0),
            "n": sums_a["n"].sum(axis=0).astype(int),
        },
        index=observed.columns,
    )


def productive_scores(
    observed: np.ndarray,
    predicted: np.ndarray,
    holes: np.ndarray,
    cutoff: float,
    n_boot: int = 500,
    seed: int = 0,
) -> dict[str, float]:
    """Productive (grade >= cut-off) against unproductive: accuracy, precision and recall with 95 % intervals.

    Precision: share of samples predicted productive that are; recall: share of productive
    samples found. Intervals by bootstrap over holes; NaN where undefined (e.g. no sample
    predicted productive).

    Returns
    -------
    dict
        ``accuracy, accuracy_lo, accuracy_hi, precision, ..., recall_hi, n``.
    """
    obs, pred = np.asarray(observed, dtype=float), np.asarray(predicted, dtype=float)
    valid = np.isfinite(obs) & np.isfinite(pred)
    result: dict[str, float] = {"n": int(valid.sum())}
    if not valid.any():
        for name in ("accuracy", "precision", "recall"):
            result.update({name: np.nan, f"{name}_lo": np.nan, f"{name}_hi": np.nan})
        return result
    actual, called = obs[valid] >= cutoff, pred[valid] >= cutoff
    codes, index = np.unique(np.asarray(holes)[valid], return_inverse=True)

    def per_hole(flags: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=flags.astype(float), minlength=len(codes))

    counts = {
        "hit": per_hole(actual == called),
        "all": per_hole(np.ones_like(actual)),
        "true_positive": per_hole(actual & called),
        "called": per_hole(called),
        "actual": per_hole(actual),
    }
    weights = np.vstack([np.ones(len(codes)), hole_bootstrap_counts(len(codes), n_boot, seed)])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = {
            "accuracy": (weights @ counts["hit"]) / (weights @ counts["all"]),
            "precision": (weights @ counts["true_positive"]) / (weights @ counts["called"]),
            "recall": (weights @ counts["true_positive"]) / (weights @ counts["actual"]),
        }
    for name, values in ratios.items():
        boot = values[1:]
        finite = boot[np.isfinite(boot)]
        result[name] = float(values[0])
        result[f"{name}_lo"] = float(np.percentile(finite, 2.5)) if finite.size else np.nan
        result[f"{name}_hi"] = float(np.percentile(finite, 97.5)) if finite.size else np.nan
    return result
