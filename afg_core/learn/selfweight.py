"""The self-evaluation loop of the method paper (section 1.4), read per feature.

Each period the model is fitted with the current input weights (they multiply the
standardised inputs; 0 removes a feature), scored on the validation holes with all
features, and scored again with each feature in turn removed (its weight set to 0, no
refit). Then, for every feature ``i``::

    gain_i = (RMSE without i - RMSE with all) / RMSE with all
    w_i <- clip(w_i + alpha * (gain_i - tolerance), 0, 1)

RMSE is that of the standardised log targets on the validation holes, averaged over the
targets; dividing by ``RMSE with all`` makes ``alpha`` independent of the data's scale (a
feature whose removal raises the error by 10 % has a gain of 0.1).

``tolerance = 0`` is the paper's rule exactly. It cannot remove a useless feature: a model
fitted with a pure-noise input uses it a little, so removing it changes the validation
error by about nothing, and its weight stays where it started (measured on a synthetic set
with boosting and the FNN: the noise weight stayed at 0.99-1.00 over five periods). The
default tolerance of 0.02 makes every feature earn its place: one must lower the
validation error by more than 2 % to gain weight, and loses ``alpha * 0.02`` per period
when it lowers it by nothing. Tree models only see a weight of exactly 0 (a tree does not
care about the scale of its inputs); networks see every weight.

The test holes are never seen: the loop gets training and validation rows only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone


@dataclass(frozen=True, eq=False)
class SelfWeighting:
    """Result of :func:`self_weighting`.

    Attributes
    ----------
    weights : numpy.ndarray
        (p,) final input weights in [0, 1], one per feature column.
    features : tuple of str
    weight_history : DataFrame
        ``period`` and one column per feature: the weights used in each period (period 0:
        all ones) and after the last update.
    rmse_history : DataFrame
        ``period, rmse``: validation RMSE (standardised log units) with all weighted features.
    estimator : object
        The model refitted with the final weights.
    """

    weights: np.ndarray
    features: tuple[str, ...]
    weight_history: pd.DataFrame
    rmse_history: pd.DataFrame
    estimator: object


def _standardised_rmse(observed: np.ndarray, predicted: np.ndarray, scale: np.ndarray) -> float:
    errors = (predicted - observed) / scale
    per_target = np.sqrt(np.nanmean(errors**2, axis=0))
    return float(np.nanmean(per_target))


def self_weighting(
    estimator,
    train: tuple[pd.DataFrame, np.ndarray, np.ndarray],
    validation: tuple[pd.DataFrame, np.ndarray, np.ndarray],
    periods: int = 6,
    alpha: float = 10.0,
    tolerance: float = 0.02,
    on_period: Callable[[int, np.ndarray, float], None] | None = None,
) -> SelfWeighting:
    """Run the self-evaluation loop for any model of :mod:`afg_core.learn.models`.

    Parameters
    ----------
    estimator : estimator
        An unfitted model with a ``feature_weights`` parameter (cloned, never modified).
    train, validation : tuple
        ``(X, y, groups)`` of the training holes and of the validation holes (log targets).
    periods : int
        Number of weight updates.
    alpha : float
        Step of the update rule (module docstring).
    tolerance : float
        Relative error reduction a feature must bring to keep its weight (0: the paper's rule).
    on_period : callable, optional
        ``on_period(period, weights, rmse)`` after each update (progress, live charts).

    Returns
    -------
    SelfWeighting
    """
    x_train, y_train, g_train = train
    x_val, y_val, g_val = validation
    features = tuple(x_train.columns)
    scale = np.nanstd(np.asarray(y_train, dtype=float), axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    weights = np.ones(len(features))
    weight_rows, rmse_rows = [], []
    for period in range(periods + 1):
        model = clone(estimator).set_params(feature_weights=tuple(weights))
        model.fit(x_train, y_train, groups=g_train, validation=validation)
        rmse_all = _standardised_rmse(y_val, model.predict(x_val, groups=g_val), scale)
        weight_rows.append({"period": period, **dict(zip(features, weights))})
        rmse_rows.append({"period": period, "rmse": rmse_all})
        if period == periods:
            break
        updated = weights.copy()
        for i in np.flatnonzero(weights > 0):
            removed = weights.copy()
            removed[i] = 0.0
            model.set_params(feature_weights=tuple(removed))
            rmse_without = _standardised_rmse(y_val, model.predict(x_val, groups=g_val), scale)
            gain = (rmse_without - rmse_all) / rmse_all
            updated[i] = np.clip(weights[i] + alpha * (gain - tolerance), 0.0, 1.0)
        weights = updated
        if on_period is not None:
            on_period(period + 1, weights.copy(), rmse_all)
    return SelfWeighting(weights, features, pd.DataFrame(weight_rows), pd.DataFrame(rmse_rows), model)
