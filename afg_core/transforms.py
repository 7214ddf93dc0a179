"""Value transforms of grades: log with a floor, its inverses, normal scores.

Grades are log-normal, so models and variograms work on ``log(grade + floor)`` and results
go back to grade units here. This module is the only home of these rules: every caller
(variograms, kriging, features, models, targets) goes through it.

* :func:`log_grade` / :func:`grade_from_log`: natural log with a small floor in the grade's
  own unit (ppm or wt%), so zeros stay finite, and its exact inverse (a *median* estimate).
* :func:`lognormal_mean`: the expected grade of a log-normal variable whose log has mean
  ``m`` and variance ``s2``, ``exp(m + s2/2) - floor`` (the *mean* estimate, used when a
  kriging or ensemble variance of the log is known).
* :func:`normal_scores` / :class:`NormalScoreTransform`: grades through their empirical
  quantiles onto a standard normal distribution (scikit-learn's ``QuantileTransformer``),
  the usual transform before Gaussian simulation, and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Floor added before taking logs, in each element's unit (ppm or wt%), so zeros stay finite.
LOG_FLOOR = 1e-3

Transform = Literal["raw", "log", "normal-score"]


def log_grade(values: ArrayLike) -> NDArray[np.float64]:
    """Natural log of grades with a floor: ``log(max(v, 0) + LOG_FLOOR)``; NaN stays NaN.

    Parameters
    ----------
    values : array_like
        Grades in ppm or wt% (any shape); a DataFrame keeps its labels.

    Examples
    --------
    >>> from afg_core.transforms import log_grade, grade_from_log
    >>> import numpy as np
    >>> float(np.round(grade_from_log(log_grade(250.0)), 9))
    250.0
    """
    return np.log(np.clip(values, 0, None) + LOG_FLOOR)


def grade_from_log(values: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`log_grade` (grades in the unit that was logged)."""
    return np.exp(values) - LOG_FLOOR


def lognormal_mean(log_mean: ArrayLike, log_variance: ArrayLike) -> NDArray[np.float64]:
    """Expected grade when ``log_grade`` is normal with this mean and variance.

    ``exp(m + s2 / 2) - LOG_FLOOR``; the variance is clipped at 0 (a kriging variance
    may round to a tiny negative).

    Examples
    --------
    >>> from afg_core.transforms import lognormal_mean, log_grade
    >>> round(float(lognormal_mean(log_grade(100.0), 0.0)), 6)
    100.0
    """
    return np.exp(np.asarray(log_mean) + 0.5 * np.clip(log_variance, 0, None)) - LOG_FLOOR


@dataclass(frozen=True, eq=False)
class NormalScoreTransform:
    """Values to standard normal scores through their empirical quantiles, and back.

    A thin wrapper of scikit-learn's ``QuantileTransformer(output_distribution="normal")``
    fitted on the finite values of a sample (:meth:`fit`), that keeps NaN as NaN and 1-D
    shapes. Back-transformed values stay within the fitted sample's range.
    """

    transformer: object

    @classmethod
    def fit(cls, values: ArrayLike) -> NormalScoreTransform:
        from sklearn.preprocessing import QuantileTransformer

        z = np.asarray(values, dtype=np.float64).ravel()
        finite = z[np.isfinite(z)]
        if finite.size < 2:
            raise ValueError("normal scores need at least two finite values")
        quantiles = min(1000, finite.size)
        return cls(
            QuantileTransformer(n_quantiles=quantiles, output_distribution="normal").fit(finite[:, None])
        )

    def _apply(self, method: str, values: ArrayLike) -> NDArray[np.float64]:
        z = np.asarray(values, dtype=np.float64)
        out = np.full(z.shape, np.nan)
        finite = np.isfinite(z)
        if finite.any():
            out[finite] = getattr(self.transformer, method)(z[finite][:, None])[:, 0]
        return out

    def transform(self, values: ArrayLike) -> NDArray[np.float64]:
        """Values to normal scores (dimensionless)."""
        return self._apply("transform", values)

    def inverse(self, scores: ArrayLike) -> NDArray[np.float64]:
        """Normal scores back to values (clamped to the fitted sample's range)."""
        return self._apply("inverse_transform", scores)


def normal_scores(values: ArrayLike) -> NDArray[np.float64]:
    """Normal scores of the finite values (NaN stays NaN; fewer than two finite: all NaN).

    Examples
    --------
    >>> from afg_core.transforms import normal_scores
    >>> normal_scores([1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 100.0]).round(3).tolist()
    [-5.199, -0.967, -0.431, 0.0, 0.431, 0.967, 5.199]

    The sample's minimum and maximum map to QuantileTransformer's clipping bounds
    (about +-5.2), not to plotting positions such as ``(i - 0.5) / n``.
    """
    z = np.asarray(values, dtype=np.float64)
    if np.isfinite(z).sum() < 2:
        return np.full(z.shape, np.nan)
    return NormalScoreTransform.fit(z).transform(z)


def transform_values(values: ArrayLike, transform: Transform = "raw") -> NDArray[np.float64]:
    """Values to model: raw, :func:`log_grade`, or :func:`normal_scores`.

    Parameters
    ----------
    values : array_like
        (n,) values (e.g. ppm); NaN stays NaN.
    transform : {"raw", "log", "normal-score"}

    Returns
    -------
    numpy.ndarray
        (n,) transformed values (log of the value's unit, or dimensionless normal scores).
    """
    z = np.asarray(values, dtype=np.float64)
    if transform == "raw":
        return z.copy()
    if transform == "log":
        return log_grade(z)
    if transform == "normal-score":
        return normal_scores(z)
    raise ValueError("transform must be 'raw', 'log' or 'normal-score'")
