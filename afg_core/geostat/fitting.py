"""Weighted least-squares fitting of variogram models to experimental variograms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares

from afg_core.geostat.experimental import Estimator, ExperimentalVariogram, experimental_variogram
from afg_core.geostat.variogram import KINDS, VariogramKind, VariogramModel


@dataclass(frozen=True)
class _FitSpec:
    """Parameter vector layout of one fit: start, bounds and how to build the model."""

    kind: str
    fixed_nugget: float | None
    linear_range: float

    def build(self, p: NDArray[np.float64]) -> VariogramModel:
        nugget = self.fixed_nugget if self.fixed_nugget is not None else float(p[-1])
        if self.kind == "linear":
            return VariogramModel("linear", nugget, float(p[0]), self.linear_range)
        return VariogramModel(self.kind, nugget, float(p[0]), float(p[1]))  # type: ignore[arg-type]


def _starts_and_bounds(
    spec: _FitSpec, lags: NDArray[np.float64], gamma: NDArray[np.float64]
) -> tuple[list[NDArray[np.float64]], NDArray[np.float64], NDArray[np.float64]]:
    """Initial guesses (one per start) and bounds of the parameter vector."""
    scale = float(gamma.max()) if gamma.max() > 0 else 1.0
    max_lag = float(lags.max())
    # The last third of the bins approximates the sill (the data variance).
    plateau = float(np.mean(gamma[-max(1, len(gamma) // 3) :]))
    nugget0 = 0.5 * min(float(gamma[0]), plateau)
    partial0 = max(plateau - (spec.fixed_nugget if spec.fixed_nugget is not None else nugget0), 0.1 * scale)

    if spec.kind == "linear":
        firsts, lower, upper = [[partial0]], [0.0], [4.0 * scale]
    elif spec.kind == "power":
        firsts = [[plateau / max_lag**e, e] for e in (0.5, 1.0, 1.5)]
        lower, upper = [0.0, 0.01], [np.inf, 1.99]
    else:
        firsts = [[partial0, f * max_lag] for f in (0.25, 0.5, 1.0)]
        lower, upper = [0.0, 1e-6 * max_lag], [2.0 * scale, 2.0 * max_lag]
    if spec.fixed_nugget is None:
        firsts = [x + [nugget0] for x in firsts]
        lower, upper = lower + [0.0], upper + [scale]

    lo, hi = np.array(lower), np.array(upper)
    # least_squares needs starts strictly inside the bounds.
    margin = 1e-9 * np.where(np.isfinite(hi), hi - lo, 1.0)
    starts = [np.clip(np.array(x, dtype=np.float64), lo + margin, hi - margin) for x in firsts]
    return starts, lo, hi


def fit_variogram(
    experimental: ExperimentalVariogram,
    kind: VariogramKind = "spherical",
    nugget: float | None = None,
) -> VariogramModel:
    """Fit an isotropic variogram model by weighted least squares.

    Parameters
    ----------
    experimental : ExperimentalVariogram
        Bins to fit; bins with non-finite semivariance are ignored.
    kind : str
        Model kind (see :class:`VariogramModel`). ``linear`` fits its slope with the
        range fixed at the largest lag, as range and sill are not separable.
    nugget : float, optional
        Fixed nugget (value units²); fitted when None.

    Returns
    -------
    VariogramModel
        Best of a few starts (range at 1/4, 1/2 and 1 of the largest lag, or three
        exponents for ``power``), found with :func:`scipy.optimize.least_squares` within
        bounds: nugget in [0, max gamma], partial sill in [0, 2 max gamma], range in
        (0, 2 max lag].

    Notes
    -----
    Residuals are weighted by ``n_pairs / lag²`` (normalised to mean 1): well-populated,
    short-lag bins, which matter most for kriging, dominate the fit.

    Examples
    --------
    Bins taken from a known model give its parameters back:

    >>> import numpy as np
    >>> from afg_core.geostat import ExperimentalVariogram, VariogramModel, fit_variogram
    >>> truth = VariogramModel("spherical", nugget=0.2, sill=1.0, range=300.0)
    >>> lags = np.linspace(25.0, 500.0, 20)
    >>> bins = ExperimentalVariogram(lags, truth(lags), np.full(20, 100), "matheron")
    >>> model = fit_variogram(bins, kind="spherical")
    >>> model.kind, round(model.nugget, 3), round(model.sill, 3), round(model.range, 1)
    ('spherical', 0.2, 1.0, 300.0)
    """
    if kind not in KINDS:
        raise ValueError(f"unknown variogram kind {kind!r}")
    ok = np.isfinite(experimental.semivariance) & (experimental.lags > 0)
    lags = np.asarray(experimental.lags, dtype=np.float64)[ok]
    gamma = np.asarray(experimental.semivariance, dtype=np.float64)[ok]
    if len(lags) < 2:
        raise ValueError("at least two non-empty lag bins are needed to fit a variogram")
    weights = np.asarray(experimental.n_pairs, dtype=np.float64)[ok] / lags**2
    root_w = np.sqrt(weights / weights.mean())
    scale = float(gamma.max()) if gamma.max() > 0 else 1.0

    spec = _FitSpec(kind, nugget, float(lags.max()))
    starts, lo, hi = _starts_and_bounds(spec, lags, gamma)

    def residuals(p: NDArray[np.float64]) -> NDArray[np.float64]:
        return root_w * (spec.build(p)(lags) - gamma) / scale

    fits = [least_squares(residuals, x0, bounds=(lo, hi)) for x0 in starts]
    best = min(fits, key=lambda f: f.cost)
    return spec.build(best.x)


def default_max_lag(coords: ArrayLike) -> float:
    """Largest lag (m) of an automatic variogram: half the longest side of the data's bounding box.

    Pairs farther apart than that are few and come from the edges of the data only.
    """
    xyz = np.asarray(coords, dtype=np.float64)
    xyz = xyz[np.isfinite(xyz).all(axis=1)]
    return 0.5 * float(np.ptp(xyz, axis=0).max()) if len(xyz) > 1 else 1.0


@dataclass(frozen=True, eq=False)
class AutoVariogram:
    """An experimental variogram and the model fitted to it by :func:`auto_variogram`."""

    experimental: ExperimentalVariogram
    model: VariogramModel


def auto_variogram(
    coords: ArrayLike,
    values: ArrayLike,
    kind: VariogramKind = "spherical",
    n_lags: int = 15,
    max_lag: float | None = None,
    estimator: Estimator = "matheron",
    direction: tuple[float, float, float, float] | None = None,
    max_pairs: int = 2_000_000,
) -> AutoVariogram:
    """The one automatic variogram recipe: experimental variogram, then a weighted least-squares fit.

    Used wherever a variogram is needed without a geologist's tuning: the kriging
    baseline of the models, drill targets, the command line and the Variogram page's
    auto-fit.

    Parameters
    ----------
    coords : array_like
        (n, d) sample coordinates (m).
    values : array_like
        (n,) values, usually :func:`afg_core.transforms.log_grade` of grades.
    kind : str
        Model kind fitted (one structure plus nugget).
    n_lags : int
        Lag bins.
    max_lag : float, optional
        Largest lag (m); default :func:`default_max_lag`.
    estimator, direction, max_pairs
        As in :func:`afg_core.geostat.experimental_variogram`.

    Examples
    --------
    >>> import numpy as np
    >>> from afg_core.geostat import auto_variogram
    >>> rng = np.random.default_rng(0)
    >>> xyz = rng.uniform(0, 1000, (300, 3))
    >>> values = np.sin(xyz[:, 0] / 150) + 0.1 * rng.normal(size=300)
    >>> auto = auto_variogram(xyz, values)
    >>> auto.model.kind, bool(100 < auto.model.range < 1000)
    ('spherical', True)
    """
    lag = default_max_lag(coords) if max_lag is None else float(max_lag)
    experimental = experimental_variogram(
        coords,
        values,
        n_lags=n_lags,
        max_lag=lag,
        estimator=estimator,
        direction=direction,
        max_pairs=max_pairs,
    )
    return AutoVariogram(experimental, fit_variogram(experimental, kind=kind))
