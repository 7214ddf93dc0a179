"""Ordinary and simple kriging with global or local neighbourhoods, and hole cross-validation.

Coordinates are in metres; estimates are in the units of the values and variances in
those units squared.

Conventions
-----------
* Ordinary kriging with a global neighbourhood is solved in **semivariance form** (as
  PyKrige does, and valid for the unbounded linear/power models too)::

      [Gamma 1] [w ]   [gamma_0]
      [1'    0] [mu] = [1      ]      variance = w . gamma_0 + mu

  Local neighbourhoods go through the compiled kernel
  (:func:`afg_core.kriging_kernel.krige_local`), which solves the equivalent covariance
  form by Cholesky for bounded models and this form by LU otherwise.
* Simple kriging needs a covariance, so it is solved in **covariance form**::

      C w = c_0                      variance = C(0) - w . c_0

  and is only available for bounded models.
* ``gamma(0) = 0``, so both are exact interpolators at sample locations even with a
  nugget (PyKrige's ``exact_values=True``).
* Samples with NaN values or coordinates are dropped. Samples at identical locations
  would make the system singular, so they are merged into one sample carrying their
  mean value.
* Several value columns kriged on the same samples share one neighbour search: give
  ``values`` as an (n, e) array (and optionally one model per column).
* Targets are processed in chunks through a single kernel, :func:`_krige_chunk`, which
  takes only picklable inputs so another backend (e.g. Dask) can map it over chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import lu_factor, lu_solve
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from afg_core.geostat.batched_solve import krige_local_batched, resolve_solver
from afg_core.geostat.blockmodel import BlockModel
from afg_core.geostat.kriging_kernel import block_count, krige_local
from afg_core.geostat.search import SearchNeighbourhood, find_neighbours
from afg_core.geostat.variogram import VariogramModel
from afg_core.metrics import point_scores

# Caps the entries of one chunk's global right-hand sides (8 MB) whatever chunk_size says.
_MAX_CHUNK_ELEMENTS = 1 << 20
# A global system needs an (n+1)^2 matrix and n^2 flops per target: beyond this many
# samples it costs gigabytes and minutes, so a local neighbourhood is required.
MAX_GLOBAL_SAMPLES = 6000


@dataclass(frozen=True, eq=False)
class KrigingResult:
    """Kriging output per target.

    Attributes
    ----------
    estimate : numpy.ndarray
        (m,) float64 estimates (value units), or (m, e) for e value columns; NaN where
        not estimable (no sample in the search neighbourhood).
    variance : numpy.ndarray
        Kriging variances (value units²), >= 0, shaped like ``estimate``; NaN where not
        estimable.
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

    @property
    def scores(self) -> dict[str, float]:
        """RMSE and MAE (value units) and R2 over finite pairs (:func:`afg_core.metrics.point_scores`)."""
        return point_scores(self.observed, self.predicted)

    @property
    def rmse(self) -> float:
        """Root-mean-square prediction error (value units) over finite pairs."""
        return self.scores["RMSE"]

    @property
    def mae(self) -> float:
        """Mean absolute prediction error (value units) over finite pairs."""
        return self.scores["MAE"]

    @property
    def r2(self) -> float:
        """Coefficient of determination ``1 - SS_res / SS_tot`` over finite pairs."""
        return self.scores["R2"]


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

    ``coords`` are centred, anisotropy-scaled sample coordinates (m); ``values`` is
    (n, e); ``mean`` is None for ordinary kriging; ``solver`` is set for a global
    neighbourhood; ``local_solver`` is ``"cpu"`` (compiled kernel) or ``"jax"``
    (:mod:`afg_core.geostat.batched_solve`) for a local one.
    """

    coords: NDArray[np.float64]
    values: NDArray[np.float64]
    model: VariogramModel
    mean: float | None
    solver: _GlobalSolver | None
    local_solver: str = "cpu"


def _structure(system: _KrigingSystem, lags: NDArray[np.float64]) -> NDArray[np.float64]:
    """Semivariance (ordinary kriging) or covariance (simple kriging) at ``lags``."""
    if system.mean is None:
        return system.model(lags)
    return system.model.covariance(lags)


def _krige_chunk(
    system: _KrigingSystem, targets: NDArray[np.float64], neighbour_idx: NDArray[np.int64] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Krige one chunk of targets.

    Parameters
    ----------
    system : _KrigingSystem
        Samples, model and (global neighbourhood) factorised matrix.
    targets : numpy.ndarray
        (c, d) centred, anisotropy-scaled target coordinates (m).
    neighbour_idx : numpy.ndarray or None
        (c, k) int64 sample indices per target, valid ones first then -1; None for the
        global neighbourhood.

    Returns
    -------
    tuple of numpy.ndarray
        Estimates (c, e), variances (c,) and numbers of samples used (c,).
    """
    n = len(system.values)
    if neighbour_idx is not None and system.local_solver == "jax":
        estimate, variance = krige_local_batched(
            system.coords, system.values, targets, neighbour_idx, system.model, system.mean
        )
        return estimate, variance, (neighbour_idx >= 0).sum(axis=1).astype(np.int64)
    if neighbour_idx is not None:
        nugget, codes, sills, ranges = system.model.kernel_parameters()
        mean = np.nan if system.mean is None else system.mean
        estimate, variance = krige_local(
            system.coords,
            system.values,
            targets,
            neighbour_idx,
            nugget,
            codes,
            sills,
            ranges,
            mean,
            system.model.bounded,
            block_count(),
        )
        return estimate, variance, (neighbour_idx >= 0).sum(axis=1).astype(np.int64)
    rhs = _structure(system, cdist(system.coords, targets))
    if system.mean is None:
        rhs = np.vstack([rhs, np.ones((1, len(targets)))])
    solution = system.solver.solve(rhs)  # type: ignore[union-attr]
    weights = solution[:n]
    weighted_rhs = np.einsum("ij,ij->j", weights, rhs[:n])
    if system.mean is None:
        estimate = weights.T @ system.values
        variance = weighted_rhs + solution[n]
    else:
        estimate = system.mean + weights.T @ (system.values - system.mean)
        variance = system.model.total_sill - weighted_rhs
    # Only round-off can make the variance negative.
    return estimate, np.maximum(variance, 0.0), np.full(len(targets), n, dtype=np.int64)


def _global_solver(coords: NDArray[np.float64], model: VariogramModel, ordinary: bool) -> _GlobalSolver:
    if len(coords) > MAX_GLOBAL_SAMPLES:
        raise ValueError(
            f"a global neighbourhood over {len(coords)} samples is too costly (more than "
            f"{MAX_GLOBAL_SAMPLES}); give neighbours (e.g. 32) for local kriging"
        )
    lags = cdist(coords, coords)
    structure = model(lags) if ordinary else model.covariance(lags)
    n = len(coords)
    if ordinary:
        lhs = np.ones((n + 1, n + 1))
        lhs[:n, :n] = structure
        lhs[n, n] = 0.0
    else:
        lhs = structure
    lu, pivots = lu_factor(lhs, check_finite=False)
    return _GlobalSolver(lu, pivots)


@dataclass(frozen=True, eq=False)
class _Prepared:
    """Centred sample coordinates (n, d), values (n, e), hole codes and centred targets."""

    coords: NDArray[np.float64]
    values: NDArray[np.float64]
    hole_codes: NDArray[np.int64] | None
    hole_labels: NDArray | None
    targets: NDArray[np.float64]
    targets_ok: NDArray[np.bool_]


def _prepare(
    coords: ArrayLike, values: ArrayLike, targets: ArrayLike, hole_ids: ArrayLike | None
) -> _Prepared:
    """Validate, drop samples with any NaN, centre and merge co-located samples."""
    xyz = np.asarray(coords, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    points = np.asarray(targets, dtype=np.float64)
    if xyz.ndim != 2 or points.ndim != 2 or xyz.shape[1] != points.shape[1]:
        raise ValueError("coords and targets must be (n, d) and (m, d) arrays with the same d")
    if z.ndim not in (1, 2) or len(z) != len(xyz):
        raise ValueError("values must be (n,) or (n, e) with one row per coordinate row")
    z = z.reshape(len(z), -1)
    keep = np.isfinite(z).all(axis=1) & np.isfinite(xyz).all(axis=1)
    if not keep.any():
        raise ValueError("no sample has finite coordinates and values")
    codes = labels = None
    if hole_ids is not None:
        holes = np.asarray(hole_ids)
        if holes.shape != (len(xyz),):
            raise ValueError("hole_ids must have one entry per sample")
        labels, codes = np.unique(holes[keep], return_inverse=True)
        codes = codes.ravel().astype(np.int64)

    # Removing a shared offset first avoids losing precision on UTM-sized coordinates.
    centre = xyz[keep].mean(axis=0)
    unique, first, inverse = np.unique(xyz[keep] - centre, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse)
    merged = np.column_stack([np.bincount(inverse, weights=col) / counts for col in z[keep].T])
    return _Prepared(
        coords=unique,
        values=merged,
        # A merged sample keeps the hole of the first sample merged into it.
        hole_codes=None if codes is None else codes[first],
        hole_labels=labels,
        targets=points - centre,
        targets_ok=np.isfinite(points).all(axis=1),
    )


def _resolve_search(
    neighbours: int | None, max_per_hole: int | str | None, search: SearchNeighbourhood | None
) -> SearchNeighbourhood | None:
    """The search of the call: ``search`` if given, else built from the shortcuts (None = global)."""
    if search is not None:
        return search
    if neighbours is None:
        if max_per_hole not in ("auto", None):
            raise ValueError("max_per_hole needs a local neighbourhood (neighbours)")
        return None
    if neighbours < 1:
        raise ValueError("neighbours must be at least 1 (or None for a global neighbourhood)")
    return SearchNeighbourhood(max_samples=neighbours, max_per_hole=max_per_hole)  # type: ignore[arg-type]


def _krige(
    coords: ArrayLike,
    values: ArrayLike,
    targets: ArrayLike,
    model: VariogramModel | Sequence[VariogramModel],
    mean: float | NDArray[np.float64] | None,
    search: SearchNeighbourhood | None,
    hole_ids: ArrayLike | None,
    chunk_size: int,
    exclude_holes: ArrayLike | None = None,
    solver: str = "auto",
) -> KrigingResult:
    """Kriging behind the public functions; ``exclude_holes`` (m,) names the hole each
    target must not use (local search only), for single-pass hole cross-validation."""
    local_solver = resolve_solver(solver)
    if search is not None and search.max_per_hole not in ("auto", None) and hole_ids is None:
        raise ValueError("max_per_hole needs hole_ids")
    data = _prepare(coords, values, targets, hole_ids)
    excluded = None
    if exclude_holes is not None:
        wanted = np.asarray(exclude_holes)
        slot = np.minimum(np.searchsorted(data.hole_labels, wanted), len(data.hole_labels) - 1)
        excluded = np.where(data.hole_labels[slot] == wanted, slot, -1).astype(np.int64)
    n, e = data.values.shape
    models = [model] * e if isinstance(model, VariogramModel) else list(model)
    if len(models) != e:
        raise ValueError(f"got {len(models)} variogram models for {e} value columns")
    means = np.broadcast_to(np.asarray(np.nan if mean is None else mean, dtype=np.float64), (e,))
    if mean is not None and not all(m.bounded for m in models):
        raise ValueError("simple kriging needs a bounded variogram (no linear or power structure)")

    # Columns sharing a model (and mean) share their weights: one system per group.
    groups: dict[tuple[VariogramModel, float | None], list[int]] = {}
    for column, (m, mu) in enumerate(zip(models, means)):
        groups.setdefault((m, None if np.isnan(mu) else float(mu)), []).append(column)
    ndim = data.coords.shape[1]
    systems = []
    for (group_model, group_mean), columns in groups.items():
        matrix = group_model.anisotropy_matrix(ndim)
        scaled = data.coords @ matrix.T
        solver = None if search is not None else _global_solver(scaled, group_model, group_mean is None)
        system = _KrigingSystem(
            scaled, data.values[:, columns], group_model, group_mean, solver, local_solver
        )
        systems.append((system, matrix, columns))

    tree = search_matrix = None
    if search is not None:
        search_matrix = search.matrix(models[0], ndim)
        tree = cKDTree(data.coords @ search_matrix.T)
        step = max(1, chunk_size)
    else:
        step = max(1, min(chunk_size, _MAX_CHUNK_ELEMENTS // (n + 1)))

    m_targets = len(data.targets)
    estimate = np.full((m_targets, e), np.nan)
    variance = np.full((m_targets, e), np.nan)
    used = np.zeros(m_targets, dtype=np.int64)
    rows_ok = np.flatnonzero(data.targets_ok)
    for start in range(0, len(rows_ok), step):
        rows = rows_ok[start : start + step]
        chunk = data.targets[rows]
        idx = None
        if search is not None:
            exclude = None if excluded is None else excluded[rows]
            idx = find_neighbours(tree, chunk @ search_matrix.T, search, data.hole_codes, exclude)
        for system, matrix, columns in systems:
            est, var, used[rows] = _krige_chunk(system, chunk @ matrix.T, idx)
            estimate[rows[:, None], columns] = est
            variance[rows[:, None], columns] = var[:, None]
    if np.ndim(values) == 1:
        estimate, variance = estimate[:, 0], variance[:, 0]
    return KrigingResult(estimate, variance, used)


def ordinary_kriging(
    coords: ArrayLike,
    values: ArrayLike,
    targets: ArrayLike,
    model: VariogramModel | Sequence[VariogramModel],
    neighbours: int | None = 32,
    max_per_hole: int | str | None = "auto",
    hole_ids: ArrayLike | None = None,
    chunk_size: int = 50_000,
    search: SearchNeighbourhood | None = None,
    exclude_holes: ArrayLike | None = None,
    solver: str = "auto",
) -> KrigingResult:
    """Ordinary kriging (unknown constant local mean) of point targets.

    Parameters
    ----------
    coords : array_like
        (n, d) sample coordinates in metres, d = 2 or 3.
    values : array_like
        (n,) sample values, or (n, e) for e variables kriged on the same samples with one
        shared neighbour search; samples with any NaN value are dropped.
    targets : array_like
        (m, d) target coordinates in metres; rows with NaN give NaN results.
    model : VariogramModel or sequence of VariogramModel
        Variogram, or one per value column. The first model's anisotropy shapes the
        search unless ``search`` says otherwise.
    neighbours : int or None
        Shortcut for ``SearchNeighbourhood(max_samples=neighbours)``; None for a global
        neighbourhood (one system over all samples, LU-factorised once; at most
        :data:`MAX_GLOBAL_SAMPLES` samples).
    max_per_hole : int, "auto" or None
        Most samples from one hole (see :class:`SearchNeighbourhood`); "auto" caps at a
        quarter of ``neighbours`` when ``hole_ids`` are given. An explicit number needs
        ``hole_ids``.
    hole_ids : array_like, optional
        (n,) hole label of each sample.
    chunk_size : int
        Most targets per batch (one neighbour search and one kernel call).
    search : SearchNeighbourhood, optional
        Full search settings (ellipsoid, minimum samples, octants); overrides
        ``neighbours`` and ``max_per_hole``.
    exclude_holes : array_like, optional
        (m,) hole label per target: that hole's samples are not used for that target
        (leave-own-hole-out features for training rows; needs ``hole_ids`` and a local
        neighbourhood). Labels that name no sample hole exclude nothing.
    solver : {"auto", "cpu", "jax"}
        Solver of local neighbourhoods: ``"cpu"`` the compiled kernel; ``"jax"`` batched
        Cholesky solves in JAX (:mod:`afg_core.geostat.batched_solve`, same results to
        round-off), on a GPU where JAX has one; ``"auto"`` picks ``"jax"`` only when JAX
        runs on a GPU. A global neighbourhood is always one LU factorisation.

    Returns
    -------
    KrigingResult
        Estimates, ordinary-kriging variances ``w . gamma_0 + mu`` and neighbour counts;
        NaN where the search ellipsoid holds fewer than ``min_samples`` samples.

    Examples
    --------
    >>> import numpy as np
    >>> from afg_core.geostat import VariogramModel, ordinary_kriging
    >>> coords = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0], [0.0, 100.0, 0.0], [100.0, 100.0, 0.0]])
    >>> values = np.array([1.0, 2.0, 3.0, 4.0])
    >>> model = VariogramModel("spherical", nugget=0.0, sill=1.0, range=300.0)
    >>> targets = [[50.0, 50.0, 0.0], [0.0, 0.0, 0.0]]  # the centre of the square, and a sample
    >>> result = ordinary_kriging(coords, values, targets, model, neighbours=4)
    >>> result.estimate.round(3).tolist()  # the mean at the centre; exact at the sample
    [2.5, 1.0]
    >>> result.variance.round(3).tolist(), result.n_neighbours.tolist()
    ([0.29, 0.0], [4, 4])
    """
    chosen = _resolve_search(neighbours, max_per_hole, search)
    if exclude_holes is not None and (chosen is None or hole_ids is None):
        raise ValueError("exclude_holes needs hole_ids and a local neighbourhood")
    return _krige(
        coords,
        values,
        targets,
        model,
        None,
        chosen,
        hole_ids,
        chunk_size,
        exclude_holes=exclude_holes,
        solver=solver,
    )


def simple_kriging(
    coords: ArrayLike,
    values: ArrayLike,
    targets: ArrayLike,
    model: VariogramModel | Sequence[VariogramModel],
    mean: float | ArrayLike | None = None,
    neighbours: int | None = 32,
    max_per_hole: int | str | None = "auto",
    hole_ids: ArrayLike | None = None,
    chunk_size: int = 50_000,
    search: SearchNeighbourhood | None = None,
    solver: str = "auto",
) -> KrigingResult:
    """Simple kriging (known global mean) of point targets.

    Parameters are those of :func:`ordinary_kriging`, plus:

    mean : float or array_like, optional
        Known mean (value units), one per value column; the mean of the finite sample
        values when None.

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
        mean = np.nanmean(np.asarray(values, dtype=np.float64).reshape(len(np.asarray(values)), -1), axis=0)
    chosen = _resolve_search(neighbours, max_per_hole, search)
    return _krige(
        coords,
        values,
        targets,
        model,
        np.asarray(mean, dtype=np.float64),
        chosen,
        hole_ids,
        chunk_size,
        solver=solver,
    )


@dataclass(frozen=True, eq=False)
class BlockKriging:
    """Kriged block model.

    Attributes
    ----------
    block : BlockModel
        The input model with its mask narrowed to the cells that were estimated: cells
        whose search ellipsoid holds fewer than ``min_samples`` samples are masked, not
        extrapolated.
    estimate, variance : numpy.ndarray
        (nx, ny, nz) grids, or (nx, ny, nz, e) for e value columns (value units and
        value units²); NaN on masked cells.
    """

    block: BlockModel
    estimate: NDArray[np.float64]
    variance: NDArray[np.float64]


def krige_block_model(
    block: BlockModel,
    coords: ArrayLike,
    values: ArrayLike,
    model: VariogramModel | Sequence[VariogramModel],
    search: SearchNeighbourhood | None = None,
    hole_ids: ArrayLike | None = None,
    chunk_size: int = 50_000,
    solver: str = "auto",
) -> BlockKriging:
    """Ordinary kriging of cell centres of a block model (point support).

    Parameters
    ----------
    block : BlockModel
        Grid to fill; cells it masks are skipped.
    coords, values, model, hole_ids, chunk_size, solver
        As in :func:`ordinary_kriging`.
    search : SearchNeighbourhood, optional
        Search settings; default 32 samples, per-hole cap when ``hole_ids`` are given,
        ellipsoid radius of the longest structure's range (cells beyond it are masked).

    Returns
    -------
    BlockKriging
        Estimates, variances and the narrowed mask.

    Examples
    --------
    A row of eight 50 m cells eastwards from 30 samples in a 100 m cube; the default
    search radius is the range (150 m), so the cells beyond it are masked:

    >>> import numpy as np
    >>> from afg_core.geostat import BlockModel, VariogramModel, krige_block_model
    >>> rng = np.random.default_rng(0)
    >>> coords = rng.uniform(0, 100, (30, 3))
    >>> values = coords[:, 0] / 50.0  # rising eastwards from 0 to 2
    >>> block = BlockModel(origin=(25.0, 50.0, 50.0), cell_size=(50.0, 50.0, 50.0), shape=(8, 1, 1))
    >>> model = VariogramModel("spherical", nugget=0.0, sill=1.0, range=150.0)
    >>> kriged = krige_block_model(block, coords, values, model)
    >>> kriged.estimate.shape
    (8, 1, 1)
    >>> kriged.estimate.ravel().round(2).tolist()
    [0.5, 1.54, 2.0, 1.75, 1.85, nan, nan, nan]
    >>> kriged.block.mask.ravel().tolist()
    [True, True, True, True, True, False, False, False]
    """
    first = model if isinstance(model, VariogramModel) else model[0]
    if search is None:
        search = SearchNeighbourhood(radius=max(s.range for s in first.structures))
    active = np.flatnonzero(block.flat_mask())
    result = ordinary_kriging(
        coords,
        values,
        block.cell_centres()[active],
        model,
        hole_ids=hole_ids,
        chunk_size=chunk_size,
        search=search,
        solver=solver,
    )
    return block_kriging_from_cells(block, active, result)


def block_kriging_from_cells(
    block: BlockModel, active: NDArray[np.int64], result: KrigingResult
) -> BlockKriging:
    """A :class:`BlockKriging` from the kriging of the ``active`` cells (indices in cell order).

    Cells the search left without a sample are masked in the returned block.
    """
    shape = (block.n_cells, *result.estimate.shape[1:])
    estimate = np.full(shape, np.nan)
    variance = np.full(shape, np.nan)
    estimate[active] = result.estimate
    variance[active] = result.variance
    estimated = np.zeros(block.n_cells, dtype=bool)
    estimated[active] = result.n_neighbours > 0
    narrowed = BlockModel(block.origin, block.cell_size, block.shape, block.reshape(estimated))
    return BlockKriging(narrowed, block.reshape(estimate), block.reshape(variance))


def cross_validate_by_hole(
    coords: ArrayLike,
    values: ArrayLike,
    hole_ids: ArrayLike,
    model: VariogramModel,
    neighbours: int | None = 32,
    search: SearchNeighbourhood | None = None,
    max_targets: int | None = None,
    seed: int = 0,
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
        (n,) hole label of each sample; also drives the per-hole search cap.
    model : VariogramModel
        Variogram used for kriging.
    neighbours : int or None
        Local neighbourhood size, or None for global.
    search : SearchNeighbourhood, optional
        Full search settings; overrides ``neighbours``.
    max_targets : int, optional
        Predict at most this many samples, drawn at random (``seed``), the others NaN:
        a live score on a large data set need not predict every sample.
    seed : int
        Seed of that draw.

    Returns
    -------
    CrossValidationResult
        One prediction per sample, in input order (``observed`` against ``predicted`` is
        the scatter data); NaN where no other hole has data.
    """
    xyz = np.asarray(coords, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    holes = np.asarray(hole_ids)
    if holes.shape != z.shape or len(xyz) != len(z):
        raise ValueError("coords, values and hole_ids must have one entry per sample")
    chosen = _resolve_search(neighbours, "auto", search)
    predicted = np.full(len(z), np.nan)
    variance = np.full(len(z), np.nan)
    usable = np.isfinite(z) & np.isfinite(xyz).all(axis=1)
    wanted = usable.copy()
    if max_targets is not None and usable.sum() > max_targets:
        wanted[:] = False
        wanted[np.random.default_rng(seed).choice(np.flatnonzero(usable), max_targets, replace=False)] = True
    if not usable.any():
        return CrossValidationResult(observed=z, predicted=predicted, variance=variance, hole_ids=holes)
    if chosen is not None:
        # One pass: every target's search skips the samples of its own hole.
        result = _krige(
            xyz[usable],
            z[usable],
            xyz[wanted],
            model,
            None,
            chosen,
            holes[usable],
            50_000,
            exclude_holes=holes[wanted],
        )
        predicted[wanted], variance[wanted] = result.estimate, result.variance
        return CrossValidationResult(observed=z, predicted=predicted, variance=variance, hole_ids=holes)
    codes = np.unique(holes, return_inverse=True)[1].ravel()
    for code in np.unique(codes[wanted]):
        held_out = (codes == code) & wanted
        training = usable & ~held_out
        if not training.any():
            continue
        result = _krige(xyz[training], z[training], xyz[held_out], model, None, None, None, 50_000)
        predicted[held_out] = result.estimate
        variance[held_out] = result.variance
    return CrossValidationResult(observed=z, predicted=predicted, variance=variance, hole_ids=holes)
