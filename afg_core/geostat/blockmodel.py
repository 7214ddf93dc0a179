"""Regular 3D block models: cell geometry, cell ordering and estimability masks.

Coordinates are in metres (x = easting, y = northing, z = elevation). Cells are
numbered in C order over ``(nx, ny, nz)``: ``ix`` varies slowest and ``iz`` fastest, so
flat cell ``f`` is ``(ix, iy, iz)`` with ``f = (ix * ny + iy) * nz + iz``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree


def _triple(values: ArrayLike, name: str, dtype: type) -> tuple:
    array = np.asarray(values, dtype=dtype).ravel()
    if array.shape != (3,):
        raise ValueError(f"{name} must have three entries (x, y, z)")
    return tuple(array.tolist())


@dataclass(frozen=True, eq=False)
class BlockModel:
    """A regular grid of rectangular cells.

    Parameters
    ----------
    origin : tuple of float
        Centre ``(x0, y0, z0)`` of the first cell (metres).
    cell_size : tuple of float
        Cell dimensions ``(dx, dy, dz)`` (metres).
    shape : tuple of int
        Number of cells ``(nx, ny, nz)``.
    mask : numpy.ndarray or None
        Boolean array of ``shape``, True where a cell is estimable; None means all are.
    """

    origin: tuple[float, float, float]
    cell_size: tuple[float, float, float]
    shape: tuple[int, int, int]
    mask: NDArray[np.bool_] | None = None

    def __post_init__(self) -> None:
        # The dataclass is frozen, so normalised fields are written past __setattr__.
        object.__setattr__(self, "origin", _triple(self.origin, "origin", float))
        object.__setattr__(self, "cell_size", _triple(self.cell_size, "cell_size", float))
        object.__setattr__(self, "shape", _triple(self.shape, "shape", int))
        if min(self.cell_size) <= 0 or min(self.shape) <= 0:
            raise ValueError("cell sizes and shape must be positive")
        if self.mask is not None:
            mask = np.asarray(self.mask, dtype=bool)
            if mask.shape != self.shape:
                raise ValueError(f"mask has shape {mask.shape}, expected {self.shape}")
            object.__setattr__(self, "mask", mask)

    @property
    def n_cells(self) -> int:
        """Total number of cells, estimable or not."""
        nx, ny, nz = self.shape
        return nx * ny * nz

    def axes(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Cell-centre coordinates along x, y and z (metres), each 1D."""
        return tuple(  # type: ignore[return-value]
            o + s * np.arange(n) for o, s, n in zip(self.origin, self.cell_size, self.shape)
        )

    def cell_centres(self) -> NDArray[np.float64]:
        """Centres of all cells, (n_cells, 3) metres, in C order (ix slowest, iz fastest)."""
        xs, ys, zs = np.meshgrid(*self.axes(), indexing="ij")
        return np.column_stack([xs.ravel(), ys.ravel(), zs.ravel()])

    def flat_mask(self) -> NDArray[np.bool_]:
        """Estimable flags per cell, (n_cells,), in the order of :meth:`cell_centres`."""
        if self.mask is None:
            return np.ones(self.n_cells, dtype=bool)
        return self.mask.ravel()

    def reshape(self, values: ArrayLike) -> NDArray:
        """Turn per-cell values (n_cells, ...) in :meth:`cell_centres` order into (nx, ny, nz, ...)."""
        values = np.asarray(values)
        if values.shape[0] != self.n_cells:
            raise ValueError(f"expected {self.n_cells} values, got {values.shape[0]}")
        return values.reshape(self.shape + values.shape[1:])


def _finite_xyz(coords: ArrayLike) -> NDArray[np.float64]:
    xyz = np.asarray(coords, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError("coords must be an (n, 3) array")
    xyz = xyz[np.isfinite(xyz).all(axis=1)]
    if len(xyz) == 0:
        raise ValueError("coords has no finite rows")
    return xyz


def block_model_from_extent(
    coords: ArrayLike,
    cell_size: tuple[float, float, float] = (25.0, 25.0, 10.0),
    padding: tuple[float, float, float] = (50.0, 50.0, 10.0),
) -> BlockModel:
    """Block model covering the bounding box of ``coords`` plus ``padding`` on every side.

    Parameters
    ----------
    coords : array_like
        (n, 3) sample coordinates in metres; rows with NaN are ignored.
    cell_size : tuple of float
        Cell dimensions ``(dx, dy, dz)`` (metres).
    padding : tuple of float
        Margin added below the minimum and above the maximum on each axis (metres).

    Returns
    -------
    BlockModel
        Unmasked model whose first cell's lower corner is at ``min - padding``; the
        upper side is rounded up to whole cells.
    """
    xyz = _finite_xyz(coords)
    size = np.asarray(cell_size, dtype=np.float64)
    pad = np.asarray(padding, dtype=np.float64)
    low = xyz.min(axis=0) - pad
    high = xyz.max(axis=0) + pad
    shape = np.maximum(np.ceil((high - low) / size).astype(int), 1)
    return BlockModel(origin=low + size / 2, cell_size=size, shape=shape)


def mask_far_cells(model: BlockModel, coords: ArrayLike, max_distance: float) -> BlockModel:
    """Mask cells whose centre is farther than ``max_distance`` from every sample.

    Parameters
    ----------
    model : BlockModel
        Model to mask; cells it already masks stay masked.
    coords : array_like
        (n, 3) sample coordinates in metres; rows with NaN are ignored.
    max_distance : float
        Largest Euclidean centre-to-nearest-sample distance (metres) of an estimable cell.

    Returns
    -------
    BlockModel
        A copy of ``model`` with the combined mask.
    """
    tree = cKDTree(_finite_xyz(coords))
    # The bound is nudged up because cKDTree may exclude neighbours exactly at it.
    bound = np.nextafter(max_distance, np.inf)
    distance, _ = tree.query(model.cell_centres(), k=1, distance_upper_bound=bound)
    near = model.reshape(distance <= max_distance)
    mask = near if model.mask is None else near & model.mask
    return dataclasses.replace(model, mask=mask)


#: Most cells of a block model built over the data; larger extents get coarser cells (see ``cell_size``).
MAX_BLOCK_CELLS = 1_000_000


def cell_size_within(
    coords: np.ndarray, cell_size: tuple[float, float, float], max_cells: int
) -> tuple[float, ...]:
    """``cell_size`` (m), widened in x and y by a common factor until the model has at most ``max_cells``.

    Regional data (e.g. a soil survey over 1,000 km) would otherwise ask for billions of cells.
    """
    size = np.asarray(cell_size, dtype=float)
    span = np.ptp(coords, axis=0)
    while True:
        shape = np.ceil((span + 2 * np.array([size[0], size[1], 0.0])) / size) + 1
        if np.prod(shape) <= max_cells:
            return tuple(float(v) for v in size)
        size[:2] *= max(1.25, float(np.sqrt(np.prod(shape) / max_cells)))
