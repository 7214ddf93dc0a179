"""Geophysics grids: magnetic susceptibility, IP chargeability and other regular rasters.

A grid is a regular 2D raster (a surface attribute, e.g. an airborne map) or a 3D
voxel model (e.g. an inversion). Grids are stored as ``.npz`` files with keys
``values`` (nz, ny, nx) or (ny, nx), ``origin`` (x0, y0[, z0]) of the first cell
centre in metres, ``spacing`` (dx, dy[, dz]) in metres, and optional ``name`` and
``unit`` strings. NaN marks cells without data (e.g. above topography).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from afg_core.errors import InputError


@dataclass
class Grid:
    """A regular 2D or 3D grid of one geophysical property.

    Attributes
    ----------
    values : numpy.ndarray
        (ny, nx) or (nz, ny, nx); z increases with index (upwards).
    origin : tuple of float
        Centre of the first cell, (x0, y0) or (x0, y0, z0), metres.
    spacing : tuple of float
        Cell size, (dx, dy) or (dx, dy, dz), metres.
    name : str
    unit : str
        E.g. ``"SI"`` for susceptibility, ``"mV/V"`` for chargeability.
    """

    values: np.ndarray
    origin: tuple[float, ...]
    spacing: tuple[float, ...]
    name: str = ""
    unit: str = ""

    @property
    def is_3d(self) -> bool:
        return self.values.ndim == 3

    def axes(self) -> tuple[np.ndarray, ...]:
        """Cell-centre coordinates along x, y (and z), metres."""
        shape = self.values.shape[::-1]
        return tuple(o + s * np.arange(n) for o, s, n in zip(self.origin, self.spacing, shape))

    def sample(self, x: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Values at points by bi/trilinear interpolation; NaN outside the grid.

        A 2D grid ignores ``z`` (it is a surface attribute, attached to every depth).
        """
        axes = self.axes()
        if self.is_3d:
            if z is None:
                raise ValueError(f"grid '{self.name}' is 3D: give z as well")
            points = np.column_stack([np.asarray(z), np.asarray(y), np.asarray(x)])
            grid_axes = (axes[2], axes[1], axes[0])
        else:
            points = np.column_stack([np.asarray(y), np.asarray(x)])
            grid_axes = (axes[1], axes[0])
        interpolator = RegularGridInterpolator(grid_axes, self.values, bounds_error=False, fill_value=np.nan)
        return interpolator(points)

    def plan_slice(self, elevation: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A horizontal map for plotting: (x axis, y axis, values (ny, nx)).

        For a 3D grid, the level nearest ``elevation`` (m); by default the highest
        level with data in most cells.
        """
        axes = self.axes()
        if not self.is_3d:
            return axes[0], axes[1], self.values
        if elevation is None:
            filled = np.isfinite(self.values).mean(axis=(1, 2))
            level = int(np.flatnonzero(filled > 0.5).max()) if (filled > 0.5).any() else 0
        else:
            level = int(np.argmin(np.abs(axes[2] - elevation)))
        return axes[0], axes[1], self.values[level]


def write_grid_npz(grid: Grid, path: Path) -> None:
    """Save a grid in the project's ``.npz`` grid format."""
    np.savez_compressed(
        path,
        values=grid.values.astype(np.float32),
        origin=np.asarray(grid.origin, float),
        spacing=np.asarray(grid.spacing, float),
        name=grid.name,
        unit=grid.unit,
    )


def read_grid_npz(path: Path) -> Grid:
    """Read a grid written in the project's ``.npz`` format.

    Raises
    ------
    InputError
        When a key is missing or shapes disagree.
    """
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"not a readable .npz grid ({exc})",
            file=path.name,
            fix="write it with numpy.savez (keys values, origin, spacing)",
        ) from exc
    with data:
        missing = [k for k in ("values", "origin", "spacing") if k not in data.files]
        if missing:
            raise InputError(
                f"grid file lacks key(s) {missing}",
                file=path.name,
                fix="save values (ny, nx) or (nz, ny, nx), origin and spacing in metres",
            )
        values = data["values"].astype(float)
        origin = tuple(float(v) for v in data["origin"])
        spacing = tuple(float(v) for v in data["spacing"])
        name = str(data["name"]) if "name" in data.files else path.stem
        unit = str(data["unit"]) if "unit" in data.files else ""
    if values.ndim not in (2, 3) or len(origin) != values.ndim or len(spacing) != values.ndim:
        raise InputError(
            f"values have {values.ndim} dimensions but origin/spacing have {len(origin)}/{len(spacing)}",
            file=path.name,
            fix="give one origin and spacing entry per grid dimension (x, y[, z])",
        )
    if any(s <= 0 for s in spacing):
        raise InputError(
            f"grid spacing must be positive, got {spacing}",
            file=path.name,
            column="spacing",
            fix="give the cell size in metres",
        )
    return Grid(values, origin, spacing, name, unit)


def sample_at_cells(grid: Grid, centres: np.ndarray) -> np.ndarray:
    """Grid values at block-model cell centres, e.g. ``BlockModel.cell_centres()``.

    Parameters
    ----------
    grid : Grid
    centres : array, shape (n, 3)
        Cell centres (x, y, z) in metres.

    Returns
    -------
    numpy.ndarray, shape (n,)
        A 2D grid (airborne map: a surface attribute) gives every cell the bilinear value
        at its x, y, whatever its depth; a 3D grid (inversion voxels) is sampled
        trilinearly at x, y, z. NaN outside the grid.
    """
    centres = np.asarray(centres, dtype=float)
    return grid.sample(centres[:, 0], centres[:, 1], centres[:, 2] if grid.is_3d else None)
