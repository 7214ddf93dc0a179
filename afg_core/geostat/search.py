"""Kriging search neighbourhoods: ellipsoid, sample limits, per-hole and octant caps.

The search runs in a "search frame": coordinates mapped by :func:`search_matrix` so the
search ellipsoid becomes a sphere of radius ``radius`` (metres along its major axis). A
cKDTree in that frame yields candidates nearest first; a compiled pass
(:func:`afg_core.kriging_kernel.select_neighbours`) applies the caps, and the candidate
list is widened only for the targets whose caps left them short.

Many targets (a block model) are searched in tiles instead: nearby targets share one
candidate list, gathered once per tile, which gives the same neighbours several times
faster than one tree query per target (see :func:`afg_core.kriging_kernel.select_in_tiles`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from afg_core.geostat.kriging_kernel import block_count, select_in_tiles, select_neighbours
from afg_core.geostat.variogram import VariogramModel, anisotropy_matrix

# Below this many targets per call, per-target tree queries are as quick as tiles.
_MIN_TILED_TARGETS = 2000
# Bounds the bucket grid of the tiled search at 200**3 buckets.
_MAX_BUCKETS_PER_AXIS = 200


@dataclass(frozen=True)
class SearchNeighbourhood:
    """Which samples krige a target.

    Parameters
    ----------
    max_samples : int
        Most samples per target, nearest first in the search frame.
    min_samples : int
        Targets with fewer samples inside the ellipsoid are not estimated (NaN).
    max_per_hole : int, "auto" or None
        Most samples from any one drill hole (needs hole ids at kriging time). "auto"
        (the default) is ``ceil(max_samples / 4)``, so at least four holes inform a full
        neighbourhood: nearest samples taken blindly often come from one or two holes.
        None disables the cap. Without hole ids "auto" does nothing.
    max_per_octant : int or None
        Most samples from each octant (quadrant in 2D) around the target, in the search
        frame; None disables octant search.
    radius : float or None
        Major semi-axis of the search ellipsoid (metres); None searches without bound.
    radius_minor, radius_vertical : float or None
        Minor and vertical semi-axes (metres); None keeps the variogram model's ratio to
        ``radius``.
    azimuth, dip, plunge : float or None
        Orientation of the ellipsoid in degrees (convention of
        :func:`afg_core.variography.axis_directions`); None takes the variogram model's.
    """

    max_samples: int = 32
    min_samples: int = 1
    max_per_hole: int | Literal["auto"] | None = "auto"
    max_per_octant: int | None = None
    radius: float | None = None
    radius_minor: float | None = None
    radius_vertical: float | None = None
    azimuth: float | None = None
    dip: float | None = None
    plunge: float | None = None

    def __post_init__(self) -> None:
        if self.max_samples < 1 or not 0 <= self.min_samples <= self.max_samples:
            raise ValueError("need max_samples >= 1 and 0 <= min_samples <= max_samples")
        for name in ("max_per_octant", "radius", "radius_minor", "radius_vertical"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive (or None)")
        if self.max_per_hole not in ("auto", None) and not int(self.max_per_hole) >= 1:  # type: ignore[arg-type]
            raise ValueError("max_per_hole must be a positive integer, 'auto' or None")
        if self.radius is None and (self.radius_minor is not None or self.radius_vertical is not None):
            raise ValueError("give radius (the major semi-axis) with radius_minor/radius_vertical")

    def hole_cap(self) -> int | None:
        """The per-hole cap in samples, or None."""
        if self.max_per_hole == "auto":
            return -(-self.max_samples // 4)
        return self.max_per_hole

    def matrix(self, model: VariogramModel, ndim: int) -> NDArray[np.float64]:
        """(ndim, ndim) map into the search frame; the model's anisotropy unless overridden."""
        overrides = (self.radius_minor, self.radius_vertical, self.azimuth, self.dip, self.plunge)
        if all(v is None for v in overrides):
            return model.anisotropy_matrix(ndim)
        major, minor, vertical = model.ranges
        radius = major if self.radius is None else self.radius
        axes = (
            radius,
            radius * minor / major if self.radius_minor is None else self.radius_minor,
            radius * vertical / major if self.radius_vertical is None else self.radius_vertical,
        )
        angles = [
            m if s is None else s for s, m in zip(overrides[2:], (model.azimuth, model.dip, model.plunge))
        ]
        return anisotropy_matrix(axes, *angles, ndim)


def find_neighbours(
    tree: cKDTree,
    targets: NDArray[np.float64],
    search: SearchNeighbourhood,
    hole_codes: NDArray[np.int64] | None,
    exclude_holes: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """Neighbour indices of each target under ``search``.

    Parameters
    ----------
    tree : scipy.spatial.cKDTree
        Tree over the sample coordinates in the search frame (m).
    targets : numpy.ndarray
        (c, d) target coordinates in the search frame (m).
    search : SearchNeighbourhood
        Limits and caps.
    hole_codes : numpy.ndarray or None
        (n,) int64 hole code per sample; None disables the per-hole cap.
    exclude_holes : numpy.ndarray, optional
        (c,) int64 hole code each target must not draw samples from (-1: none), for
        leave-one-hole-out cross-validation in a single pass; needs ``hole_codes``.

    Returns
    -------
    numpy.ndarray
        (c, k) int64 sample indices, nearest first, -1 padded, with
        ``k = min(max_samples, n)``; rows with fewer than ``min_samples`` are all -1.
    """
    n = tree.n
    k = min(search.max_samples, n)
    cap = search.hole_cap() if hole_codes is not None else None
    octant = search.max_per_octant or 0
    codes = hole_codes if hole_codes is not None else np.zeros(n, dtype=np.int64)
    if exclude_holes is not None or octant or len(targets) < _MIN_TILED_TARGETS:
        selected = _search_each(tree, targets, search, codes, cap, octant, k, exclude_holes)
    else:
        selected = _search_tiles(tree, targets, search, codes, cap, k)
    if search.min_samples > 1:
        selected[(selected >= 0).sum(axis=1) < search.min_samples] = -1
    return selected


def _search_each(
    tree: cKDTree,
    targets: NDArray[np.float64],
    search: SearchNeighbourhood,
    codes: NDArray[np.int64],
    cap: int | None,
    octant: int,
    k: int,
    exclude_holes: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """One tree query per target, widened where the caps or exclusions left a target short."""
    n = tree.n
    n_holes = int(codes.max()) + 1
    # cKDTree may drop a neighbour exactly at the bound; nudging it up keeps it.
    bound = np.inf if search.radius is None else np.nextafter(search.radius, np.inf)
    data = np.asarray(tree.data)
    selected = np.full((len(targets), k), -1, dtype=np.int64)
    pending = np.arange(len(targets))
    excluded = np.full(len(targets), -1, dtype=np.int64) if exclude_holes is None else exclude_holes
    n_query = k if (cap is None and not octant and exclude_holes is None) else min(n, 2 * k)
    while pending.size:
        _, candidates = tree.query(targets[pending], k=n_query, distance_upper_bound=bound, workers=-1)
        candidates = np.asarray(candidates, dtype=np.int64).reshape(len(pending), n_query)
        choice, final = select_neighbours(
            candidates,
            data,
            targets[pending],
            codes,
            n_holes,
            cap or 0,
            octant,
            k,
            excluded[pending],
            block_count(),
        )
        if n_query >= n:
            final[:] = True
        selected[pending[final]] = choice[final]
        pending = pending[~final]
        # Re-querying costs about as much as the longer query alone, so grow fast.
        n_query = min(n, 4 * n_query)
    return selected


def _search_tiles(
    tree: cKDTree,
    targets: NDArray[np.float64],
    search: SearchNeighbourhood,
    codes: NDArray[np.int64],
    cap: int | None,
    k: int,
) -> NDArray[np.int64]:
    """Tiled search (same result as :func:`_search_each` without octants), for many targets."""
    data = np.asarray(tree.data)
    radius = np.inf if search.radius is None else float(search.radius)
    # Tiles a third of the typical neighbourhood radius wide keep the shared candidate
    # lists a few times k long while each tile holds many targets.
    probe = targets[np.linspace(0, len(targets) - 1, min(256, len(targets))).astype(np.intp)]
    reach_k = tree.query(probe, k=k, distance_upper_bound=radius)[0].reshape(len(probe), k)[:, -1]
    reach_k = reach_k[np.isfinite(reach_k)]
    edge = max(float(np.median(reach_k)) if reach_k.size else radius, 1e-9) / 3.0
    position = (targets - targets.min(axis=0)) / edge
    cells = np.floor(position).astype(np.int64)
    flat = np.ravel_multi_index(tuple(cells.T), tuple(cells.max(axis=0) + 1))
    members = np.lexsort((_serpentine_rank(position - cells), flat))
    flat = flat[members]
    tile_start = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1], True])
    grouped = targets[members]
    low = np.minimum.reduceat(grouped, tile_start[:-1], axis=0)
    high = np.maximum.reduceat(grouped, tile_start[:-1], axis=0)
    centres = 0.5 * (low + high)
    delta = 0.5 * np.linalg.norm(high - low, axis=1)

    at_centre = _search_each(tree, centres, search, codes, cap, 0, k)
    reached = np.linalg.norm(data[np.maximum(at_centre, 0)] - centres[:, None, :], axis=2)
    reached = np.where(at_centre >= 0, reached, 0.0).max(axis=1)
    full = (at_centre >= 0).all(axis=1)
    reach = np.where(full, np.minimum(reached + 2 * delta, radius + delta), radius + delta)
    # No tile needs more than the farthest corner of the samples' bounding box.
    corner = np.maximum(np.abs(centres - data.min(axis=0)), np.abs(centres - data.max(axis=0)))
    reach = np.minimum(reach, np.linalg.norm(corner, axis=1)) * (1 + 1e-12) + 1e-9

    # A uniform bucket grid of the samples, buckets about one median reach wide.
    size = float(np.median(reach))
    span = data.max(axis=0) - data.min(axis=0)
    size = max(size, float(np.prod(span + size)) ** (1 / data.shape[1]) / _MAX_BUCKETS_PER_AXIS)
    shape = (np.floor(span / size) + 1).astype(np.int64)
    bucket = np.ravel_multi_index(
        tuple(np.floor((data - data.min(axis=0)) / size).astype(np.int64).T), tuple(shape)
    )
    order = np.argsort(bucket, kind="stable").astype(np.int64)
    start = np.searchsorted(bucket[order], np.arange(int(np.prod(shape)) + 1)).astype(np.int64)
    return select_in_tiles(
        tile_start.astype(np.int64),
        members.astype(np.int64),
        targets,
        centres,
        reach,
        start,
        order,
        data.min(axis=0),
        size,
        shape,
        data,
        codes,
        int(codes.max()) + 1,
        cap or 0,
        k,
        radius,
    )


def _serpentine_rank(fraction: NDArray[np.float64], bins: int = 16) -> NDArray[np.int64]:
    """Rank of each target along a boustrophedon path through its tile.

    ``fraction`` is each target's (c, d) position within its tile, in [0, 1). Walking
    the tile back and forth (reversing the last axis on every other row, and so on)
    keeps consecutive targets adjacent, so their candidates' distance order changes
    little from one target to the next, which the insertion sort in
    :func:`afg_core.kriging_kernel.select_in_tiles` turns into speed.
    """
    cells = np.minimum((fraction * bins).astype(np.int64), bins - 1)
    rank = cells[:, 0]
    for axis in range(1, cells.shape[1]):
        column = cells[:, axis]
        rank = rank * bins + np.where(rank % 2 == 1, bins - 1 - column, column)
    return rank
