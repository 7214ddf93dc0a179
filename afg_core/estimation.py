"""Ordinary and simple kriging with global or local neighbourhoods, and hole cross-validation.

Coordinates are in metres; estimates are in the units of the values and variances in
those units squared.

Conventions
-----------
* Ordinary kriging is solved in **semivariance form** (as PyKrige does, and valid for
  the unbounded linear/power models too)::

      [Gamma 1] [w ]   [gamma_0]
      [1'    0] [mu] = [1      ]      variance = w . gamma_0 + mu

* Simple kriging needs a covariance, so it is solved in **covariance form**::

      C w = c_0                      variance = C(0) - w . c_0

  and is only available for bounded models.
* ``gamma(0) = 0``, so both are exact interpolators at sample locations even with a
  nugget (PyKrige's ``exact_values=True``).
* Samples with NaN values or coordinates are dropped. Samples at identical
  (anisotropy-scaled) locations would make the system singular, so they are merged
  into one sample carrying their mean value.
* Targets are processed in chunks through a single kernel, :func:`_krige_chunk`, which
  takes only picklable inputs so another backend (e.g. Dask) can map it over chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import lu_factor, lu_solve
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from afg_core.variography import VariogramModel

# Caps the entries of one chunk's kriging matrices (8 MB per array) whatever chunk_size
# says: batches this small stay cache-resident, which measured about twice as fast as
# 20,000-target batches, and a global neighbourhood cannot exhaust memory.
_MAX_CHUNK_ELEMENTS = 1 << 20


@dataclass(frozen=True, eq=False)
class KrigingResult:
    """Kriging output per target.

    Attributes
    ----------
    estimate : numpy.ndarray
        (m,) float64 estimates (value units); NaN where not estimable.
    variance : numpy.ndarray
        (m,) float64 kriging variances (value units²), >= 0; NaN where not estimable.
    n_neighbours : numpy.ndarray
        (m,) number of samples each estimate used, co-located samples counting once
        (0 where not estimable).
    """

    estimate: NDArray[np.float64]
    variance: NDArray[np.float64]
    n_neighbours: NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class CrossValidationResult:
    """Leave-one-hole-out predictions, one per input sample, in input order.

    Attributes
    ----------
    observed, predicted, variance : numpy.ndarray
        (n,) observed values, predictions from the other holes, and kriging variances.
    hole_ids : numpy.ndarray
        (n,) hole of each sample.
    """

    observed: NDArray[np.float64]
    predicted: NDArray[np.float64]
    variance: NDArray[np.float64]
    hole_ids: NDArray

    def _errors(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        ok = np.isfinite(self.observed) & np.isfinite(self.predicted)
        return self.observed[ok], self.predicted[ok] - self.observed[ok]

    @property
    def rmse(self) -> float:
        """Root-mean-square prediction error (value units) over finite pairs."""
        _, error = self._errors()
        return float(np.sqrt(np.mean(error**2))) if error.size else float("nan")

    @property
    def mae(self) -> float:
        """Mean absolute prediction error (value units) over finite pairs."""
        _, error = self._errors()
        return float(np.mean(np.abs(error))) if error.size else float("nan")

    @property
    def r2(self) -> float:
        """Coefficient of determination ``1 - SS_res / SS_tot`` over finite pairs."""
        observed, error = self._errors()
        total = np.sum((observed - observed.mean()) ** 2) if observed.size else 0.0
        return float(1.0 - np.sum(error**2) / total) if total > 0 else float("nan")


@dataclass(frozen=True, eq=False)
class _GlobalSolver:
    """LU factorisation of the one kriging matrix of a global neighbourhood."""

    lu: NDArray[np.float64]
    pivots: NDArray[np.int32]

    def solve(self, rhs: NDArray[np.float64]) -> NDArray[np.float64]:
        return lu_solve((self.lu, self.pivots), rhs, check_finite=False)


@dataclass(frozen=True, eq=False)
class _KrigingSystem:
    """Everything :func:`_krige_chunk` needs besides the targets.

    ``coords`` are centred, anisotropy-scaled sample coordinates; ``mean`` is None for
    ordinary kriging; ``solver`` is set for a global neighbourhood.
    """

    coords: NDArray[np.float64]
    values: NDArray[np.float64]
    model: VariogramModel
    mean: float | None
    solver: _GlobalSolver | None


def _structure(system: _KrigingSystem, lags: NDArray[np.float64]) -> NDArray[np.float64]:
    """Semivariance (ordinary kriging) or covariance (simple kriging) at ``lags``."""
    if system.mean is None:
        return system.model(lags)
    return system.model.covariance(lags)


def _pairwise_lags(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """(c, k, k) lags between the k points of each of c neighbourhoods (c, k, d)."""
    squared = np.zeros(points.shape[:2] + points.shape[1:2])
    # One coordinate at a time keeps the temporaries at (c, k, k) rather than (c, k, k, d).
    for axis in range(points.shape[2]):
        column = points[:, :, axis]
        squared += (column[:, :, None] - column[:, None, :]) ** 2
    return np.sqrt(squared)


def _local_matrices(
    system: _KrigingSystem, points: NDArray[np.float64], targets: NDArray[np.float64], valid: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Stacked left- and right-hand sides; padded slots get an identity row and zero weight."""
    c, k = valid.shape
    ordinary = system.mean is None
    size = k + 1 if ordinary else k
    lhs = np.zeros((c, size, size))
    pair_valid = valid[:, :, None] & valid[:, None, :]
    lhs[:, :k, :k] = np.where(pair_valid, _structure(system, _pairwise_lags(points)), 0.0)
    diagonal = np.arange(k)
    lhs[:, diagonal, diagonal] = np.where(valid, lhs[:, diagonal, diagonal], 1.0)
    rhs = np.zeros((c, size))
    target_lags = np.linalg.norm(points - targets[:, None, :], axis=2)
    rhs[:, :k] = np.where(valid, _structure(system, target_lags), 0.0)
    if ordinary:
        lhs[:, :k, k] = valid
        lhs[:, k, :k] = valid
        rhs[:, k] = 1.0
    return lhs, rhs


def _combine(
    system: _KrigingSystem, solution: NDArray[np.float64], rhs: NDArray[np.float64], values: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Estimates and variances from weights (c, k[+1]), right-hand sides and values (c, k)."""
    k = values.shape[1]
    weights = solution[:, :k]
    weighted_rhs = np.sum(weights * rhs[:, :k], axis=1)
    if system.mean is None:
        estimate = np.sum(weights * values, axis=1)
        variance = weighted_rhs + solution[:, k]
    else:
        estimate = system.mean + np.sum(weights * (values - system.mean), axis=1)
        variance = system.model.total_sill - weighted_rhs
    # Only round-off can make the variance negative.
    return estimate, np.maximum(variance, 0.0)


def _krige_chunk(
    system: _KrigingSystem, targets: NDArray[np.float64], neighbour_idx: NDArray[np.intp] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Krige one chunk of targets.

    Parameters
    ----------
    system : _KrigingSystem
        Samples, model and (global neighbourhood) factorised matrix.
    targets : numpy.ndarray
        (c, d) centred, anisotropy-scaled target coordinates.
    neighbour_idx : numpy.ndarray or None
        (c, k) sample indices per target, -1 for unused slots; None for the global
        neighbourhood.

    Returns
    -------
    tuple of numpy.ndarray
        Estimates (c,), variances (c,) and numbers of samples used (c,).
    """
    n = len(system.values)
    if neighbour_idx is None:
        rhs = _structure(system, cdist(system.coords, targets))
        if system.mean is None:
            rhs = np.vstack([rhs, np.ones((1, len(targets)))])
        solution = system.solver.solve(rhs).T  # type: ignore[union-attr]
        values = np.broadcast_to(system.values, (len(targets), n))
        estimate, variance = _combine(system, solution, rhs.T, values)
        return estimate, variance, np.full(len(targets), n, dtype=np.int64)

    valid = neighbour_idx >= 0
    safe = np.where(valid, neighbour_idx, 0)
    lhs, rhs = _local_matrices(system, system.coords[safe], targets, valid)
    solution = np.linalg.solve(lhs, rhs[:, :, None])[:, :, 0]
    values = np.where(valid, system.values[safe], 0.0)
    estimate, variance = _combine(system, solution, rhs, values)
    return estimate, variance, valid.sum(axis=1).astype(np.int64)


def _global_solver(coords: NDArray[np.float64], model: VariogramModel, ordinary: bool) -> _GlobalSolver:
    structure = model(cdist(coords, coords)) if ordinary else model.covariance(cdist(coords, coords))
    n = len(coords)
    if ordinary:
        lhs = np.ones((n + 1, n + 1))
        lhs[:n, :n] = structure
        lhs[n, n] = 0.0
    else:
        lhs = structure
    lu, pivots = lu_factor(lhs, check_finite=False)
    return _GlobalSolver(lu, pivots)


def _cap_per_hole(
    candidates: NDArray[np.intp], hole_codes: NDArray[np.intp], max_per_hole: int, k: int
) -> NDArray[np.intp]:
    """Nearest-first selection of at most k candidates, at most ``max_per_hole`` per hole.

    ``candidates`` (c, q) are sorted nearest first; returns (c, k) with -1 padding.
    """
    holes = hole_codes[candidates]
    order = np.argsort(holes, axis=1, kind="stable")
    sorted_holes = np.take_along_axis(holes, order, axis=1)
    position = np.broadcast_to(np.arange(holes.shape[1]), holes.shape)
    group_start = np.ones(holes.shape, dtype=bool)
    group_start[:, 1:] = sorted_holes[:, 1:] != sorted_holes[:, :-1]
    first_of_group = np.maximum.accumulate(np.where(group_start, position, 0), axis=1)
    # Stable sorting keeps distance order within a hole, so this is the rank by distance.
    rank = np.empty_like(position)
    np.put_along_axis(rank, order, position - first_of_group, axis=1)
    keep = rank < max_per_hole
    keep &= np.cumsum(keep, axis=1) <= k
    front = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    selected = np.take_along_axis(candidates, front, axis=1)
    selected[~np.take_along_axis(keep, front, axis=1)] = -1
    return selected


def _query(tree: cKDTree, targets: NDArray[np.float64], k: int) -> NDArray[np.intp]:
    _, idx = tree.query(targets, k=k)
    return idx.reshape(len(targets), k)


def _neighbour_indices(
    tree: cKDTree,
    targets: NDArray[np.float64],
    k: int,
    hole_codes: NDArray[np.intp] | None,
    max_per_hole: int | None,
) -> NDArray[np.intp]:
    """(c, k) nearest samples per target, capped per hole when ``max_per_hole`` is set."""
    if max_per_hole is None:
        return _query(tree, targets, k)
    n = tree.n
    selected = np.full((len(targets), k), -1, dtype=np.intp)
    pending = np.arange(len(targets))
    # Enough candidates when each of the k / max_per_hole holes needed offers at most
    # k samples; the search is widened only for targets where that falls short.
    n_query = min(n, k * -(-k // max_per_hole))
    while pending.size:
        choice = _cap_per_hole(_query(tree, targets[pending], n_query), hole_codes, max_per_hole, k)
        done = (choice[:, -1] >= 0) | (n_query == n)
        selected[pending[done]] = choice[done]
        pending = pending[~done]
        n_query = min(n, 2 * n_query)
    return selected


@dataclass(frozen=True, eq=False)
class _Prepared:
    coords: NDArray[np.float64]
    values: NDArray[np.float64]
    hole_codes: NDArray[np.intp] | None
    targets: NDArray[np.float64]
    targets_ok: NDArray[np.bool_]


def _prepare(
    coords: ArrayLike, values: ArrayLike, targets: ArrayLike, model: VariogramModel, hole_ids: ArrayLike | None
) -> _Prepared:
    """Validate, drop NaN samples, scale for anisotropy and merge co-located samples."""
    xyz = np.asarray(coords, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    points = np.asarray(targets, dtype=np.float64)
    if xyz.ndim != 2 or points.ndim != 2 or xyz.shape[1] != points.shape[1]:
        raise ValueError("coords and targets must be (n, d) and (m, d) arrays with the same d")
    if z.shape != (len(xyz),):
        raise ValueError("values must be a 1D array with one value per coordinate row")
    keep = np.isfinite(z) & np.isfinite(xyz).all(axis=1)
    if not keep.any():
        raise ValueError("no sample has finite coordinates and value")
    codes = None
    if hole_ids is not None:
        holes = np.asarray(hole_ids)
        if holes.shape != z.shape:
            raise ValueError("hole_ids must have one entry per sample")
        codes = np.unique(holes[keep], return_inverse=True)[1].ravel()

    centre = xyz[keep].mean(axis=0)
    matrix = model.anisotropy_matrix(xyz.shape[1])
    scaled = (xyz[keep] - centre) @ matrix.T
    unique, inverse = np.unique(scaled, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    merged = np.bincount(inverse, weights=z[keep]) / np.bincount(inverse)
    if codes is not None:
        # A merged sample keeps the hole of the first sample merged into it.
        codes = codes[np.unique(inverse, return_index=True)[1]]
    return _Prepared(
        coords=unique,
        values=merged,
        hole_codes=codes,
        targets=(points - centre) @ matrix.T,
        targets_ok=np.isfinite(points).all(axis=1),
    )


def _krige(
    coords: ArrayLike,
    values: ArrayLike,
    targets: ArrayLike,
    model: VariogramModel,
    mean: float | None,
    neighbours: int | None,
    max_per_hole: int | None,
    hole_ids: ArrayLike | None,
    chunk_size: int,
) -> KrigingResult:
    if max_per_hole is not None and (hole_ids is None or neighbours is None):
        raise ValueError("max_per_hole needs hole_ids and a local neighbourhood (neighbours)")
    if neighbours is not None and neighbours < 1:
        raise ValueError("neighbours must be at least 1 (or None for a global neighbourhood)")
    if mean is not None and not model.bounded:
        raise ValueError(f"simple kriging needs a bounded variogram, not {model.kind}")
    data = _prepare(coords, values, targets, model, hole_ids)
    n = len(data.values)
    ordinary = mean is None
    solver = _global_solver(data.coords, model, ordinary) if neighbours is None else None
    system = _KrigingSystem(data.coords, data.values, model, mean, solver)
    tree = cKDTree(data.coords) if neighbours is not None else None
    k = n if neighbours is None else min(neighbours, n)
    width = (n + 1) if neighbours is None else (k + 1) ** 2
    step = max(1, min(chunk_size, _MAX_CHUNK_ELEMENTS // width))

    m = len(data.targets)
    estimate = np.full(m, np.nan)
    variance = np.full(m, np.nan)
    used = np.zeros(m, dtype=np.int64)
    rows_ok = np.flatnonzero(data.targets_ok)
    for start in range(0, len(rows_ok), step):
        rows = rows_ok[start : start + step]
        chunk = data.targets[rows]
        idx = None if tree is None else _neighbour_indices(tree, chunk, k, data.hole_codes, max_per_hole)
        estimate[rows], variance[rows], used[rows] = _krige_chunk(system, chunk, idx)
    return KrigingResult(estimate, variance, used)


def ordinary_kriging(
    coords: ArrayLike,
    values: ArrayLike,
    targets: ArrayLike,
    model: VariogramModel,
    neighbours: int | None = 32,
    max_per_hole: int | None = None,
    hole_ids: ArrayLike | None = None,
    chunk_size: int = 20_000,
) -> KrigingResult:
    """Ordinary kriging (unknown constant local mean) of point targets.

    Parameters
    ----------
    coords : array_like
        (n, d) sample coordinates in metres, d = 2 or 3.
    values : array_like
        (n,) sample values; NaN samples are dropped.
    targets : array_like
        (m, d) target coordinates in metres; rows with NaN give NaN results.
    model : VariogramModel
        Variogram; its anisotropy also shapes the neighbour search.
    neighbours : int or None
        Samples per local neighbourhood, nearest in anisotropy-scaled distance; None
        for a global neighbourhood (one system over all samples, LU-factorised once).
    max_per_hole : int, optional
        At most this many samples from any one hole (needs ``hole_ids``), nearest first.
    hole_ids : array_like, optional
        (n,) hole label of each sample.
    chunk_size : int
        Most targets per batch (neighbour search plus one call of the solver kernel).
        Batches are further capped at about 2**20 kriging-matrix entries.

    Returns
    -------
    KrigingResult
        Estimates, ordinary-kriging variances ``w . gamma_0 + mu`` and neighbour counts.
    """
    return _krige(coords, values, targets, model, None, neighbours, max_per_hole, hole_ids, chunk_size)


def simple_kriging(
    coords: ArrayLike,
    values: ArrayLike,
    targets: ArrayLike,
    model: VariogramModel,
    mean: float | None = None,
    neighbours: int | None = 32,
    max_per_hole: int | None = None,
    hole_ids: ArrayLike | None = None,
    chunk_size: int = 20_000,
) -> KrigingResult:
    """Simple kriging (known global mean) of point targets.

    Parameters are those of :func:`ordinary_kriging`, plus:

    mean : float, optional
        Known mean (value units); the mean of the finite sample values when None.

    Returns
    -------
    KrigingResult
        Estimates, simple-kriging variances ``C(0) - w . c_0`` and neighbour counts.

    Raises
    ------
    ValueError
        For unbounded (linear, power) models, which have no covariance.
    """
    if mean is None:
        mean = float(np.nanmean(np.asarray(values, dtype=np.float64)))
    return _krige(coords, values, targets, model, mean, neighbours, max_per_hole, hole_ids, chunk_size)


def cross_validate_by_hole(
    coords: ArrayLike,
    values: ArrayLike,
    hole_ids: ArrayLike,
    model: VariogramModel,
    neighbours: int | None = 32,
) -> CrossValidationResult:
    """Leave-one-hole-out cross-validation of ordinary kriging.

    Each hole's samples are predicted from all other holes, so that the (highly
    correlated) samples of the same hole cannot flatter the score.

    Parameters
    ----------
    coords : array_like
        (n, d) sample coordinates in metres.
    values : array_like
        (n,) sample values.
    hole_ids : array_like
        (n,) hole label of each sample.
    model : VariogramModel
        Variogram used for kriging.
    neighbours : int or None
        Local neighbourhood size, or None for global.

    Returns
    -------
    CrossValidationResult
        One prediction per sample, in input order; NaN where no other hole has data.
    """
    xyz = np.asarray(coords, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    holes = np.asarray(hole_ids)
    if holes.shape != z.shape or len(xyz) != len(z):
        raise ValueError("coords, values and hole_ids must have one entry per sample")
    predicted = np.full(len(z), np.nan)
    variance = np.full(len(z), np.nan)
    codes = np.unique(holes, return_inverse=True)[1].ravel()
    usable = np.isfinite(z) & np.isfinite(xyz).all(axis=1)
    for code in np.unique(codes):
        held_out = codes == code
        training = usable & ~held_out
        if not training.any():
            continue
        result = ordinary_kriging(xyz[training], z[training], xyz[held_out], model, neighbours=neighbours)
        predicted[held_out] = result.estimate
        variance[held_out] = result.variance
    return CrossValidationResult(observed=z, predicted=predicted, variance=variance, hole_ids=holes)
