"""Flux gradients: spatial derivatives of kriged grade fields and geophysics grids.

``dE/dx``, ``dE/dy``, ``dE/dz`` of a gridded field are taken by central differences on
the grid (:func:`numpy.gradient`, second order inside, one-sided first order on the
grid's outer faces), in field units per metre (ppm/m, wt%/m, SI/m, ...). x is easting,
y northing and z elevation (up).

Masked or NaN cells: a central difference needs both neighbours. Where one of them is
masked the one-sided difference towards the valid neighbour is used instead, and where
both are masked (or the axis has a single cell) the derivative is NaN. So a gradient is
never computed across missing data, and a cell at a mask edge still gets one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import RegularGridInterpolator

from afg_core.geostat.blockmodel import BlockModel
from afg_core.io.grids import Grid


@dataclass(frozen=True, eq=False)
class GradientField:
    """Gradient of a field on a regular grid, in the grid's own axis order.

    Attributes
    ----------
    axes : tuple of numpy.ndarray
        Cell-centre coordinates (m) along each grid axis, in the order of the array axes.
    components : tuple of numpy.ndarray
        Derivative along each grid axis (field units per metre), arrays of the grid's
        shape, NaN where not computable.
    names : tuple of str
        Coordinate of each axis, e.g. ``("x", "y", "z")`` for a block model or
        ``("z", "y", "x")`` for a 3D geophysics grid.
    """

    axes: tuple[NDArray[np.float64], ...]
    components: tuple[NDArray[np.float64], ...]
    names: tuple[str, ...]

    def component(self, name: str) -> NDArray[np.float64]:
        """Derivative along coordinate ``name`` ("x", "y" or "z"), units per metre."""
        return self.components[self.names.index(name)]

    @property
    def magnitude(self) -> NDArray[np.float64]:
        """Length of the gradient vector (units per metre)."""
        return np.sqrt(sum(c**2 for c in self.components))

    @property
    def azimuth(self) -> NDArray[np.float64]:
        """Direction of steepest increase, degrees clockwise from north in [0, 360)."""
        return np.degrees(np.arctan2(self.component("x"), self.component("y"))) % 360.0

    @property
    def dip(self) -> NDArray[np.float64]:
        """Inclination of the gradient below horizontal, degrees (positive: increasing downwards).

        0 for a 2D grid, whose gradient is horizontal.
        """
        if "z" not in self.names:
            return np.where(np.isfinite(self.magnitude), 0.0, np.nan)
        horizontal = np.hypot(self.component("x"), self.component("y"))
        return np.degrees(np.arctan2(-self.component("z"), horizontal))

    def sample(self, points: ArrayLike) -> NDArray[np.float64]:
        """Gradient at points by (tri)linear interpolation of each component.

        Parameters
        ----------
        points : array_like
            (m, 2) or (m, 3) coordinates (x, y[, z]) in metres; extra columns (z for a 2D
            grid) are ignored.

        Returns
        -------
        numpy.ndarray
            (m, len(names)) derivatives in the order ``("x", "y"[, "z"])`` (units per
            metre); NaN outside the grid or where an interpolation corner is NaN.
        """
        xyz = np.asarray(points, dtype=np.float64)
        order = [n for n in ("x", "y", "z") if n in self.names]
        columns = {"x": 0, "y": 1, "z": 2}
        grid_points = np.column_stack([xyz[:, columns[n]] for n in self.names])
        out = np.empty((len(xyz), len(order)))
        for i, name in enumerate(order):
            interpolator = RegularGridInterpolator(
                self.axes, self.component(name), bounds_error=False, fill_value=np.nan
            )
            out[:, i] = interpolator(grid_points)
        return out


def _derivative(values: NDArray[np.float64], spacing: float, axis: int) -> NDArray[np.float64]:
    """Derivative along one axis: central where both neighbours exist, else one-sided."""
    if values.shape[axis] < 2:
        return np.full(values.shape, np.nan)
    # np.gradient propagates NaN into the central difference at mask edges.
    central = np.gradient(values, spacing, axis=axis, edge_order=1)
    moved = np.moveaxis(values, axis, 0)
    forward = np.full(moved.shape, np.nan)
    backward = np.full(moved.shape, np.nan)
    forward[:-1] = (moved[1:] - moved[:-1]) / spacing
    backward[1:] = forward[:-1]
    forward, backward = np.moveaxis(forward, 0, axis), np.moveaxis(backward, 0, axis)
    one_sided = np.where(np.isfinite(forward), forward, backward)
    # A masked cell gets no gradient even though its two neighbours could give one.
    return np.where(np.isfinite(values), np.where(np.isfinite(central), central, one_sided), np.nan)


def grid_gradient(
    values: ArrayLike,
    spacing: tuple[float, ...],
    axes: tuple[ArrayLike, ...],
    names: tuple[str, ...],
    mask: ArrayLike | None = None,
) -> GradientField:
    """Gradient of an array on a regular grid.

    Parameters
    ----------
    values : array_like
        Field values; NaN marks missing cells.
    spacing : tuple of float
        Cell size along each array axis (m).
    axes : tuple of array_like
        Cell-centre coordinates along each array axis (m).
    names : tuple of str
        Coordinate name ("x", "y", "z") of each array axis.
    mask : array_like, optional
        Boolean array, True where a cell is valid; False cells are treated as NaN.

    Returns
    -------
    GradientField
        One derivative per axis (field units per metre), see the module notes on masks.
    """
    field = np.array(values, dtype=np.float64)
    if mask is not None:
        field[~np.asarray(mask, dtype=bool)] = np.nan
    if not (len(spacing) == len(axes) == len(names) == field.ndim):
        raise ValueError("give one spacing, axis and name per array dimension")
    components = tuple(_derivative(field, float(s), axis) for axis, s in enumerate(spacing))
    return GradientField(tuple(np.asarray(a, dtype=np.float64) for a in axes), components, tuple(names))


def block_gradient(block: BlockModel, values: ArrayLike) -> GradientField:
    """Gradient of a kriged block-model field.

    Parameters
    ----------
    block : BlockModel
        Grid geometry; its mask (if any) marks the valid cells.
    values : array_like
        (nx, ny, nz) grid or (n_cells,) values in :meth:`BlockModel.cell_centres` order
        (e.g. ``BlockKriging.estimate``), in field units.

    Returns
    -------
    GradientField
        Components named ("x", "y", "z"), field units per metre.

    Examples
    --------
    >>> from afg_core.geostat import BlockModel, block_gradient
    >>> block = BlockModel(origin=(0.0, 0.0, 0.0), cell_size=(10.0, 10.0, 5.0), shape=(3, 2, 2))
    >>> x, y, z = block.cell_centres().T
    >>> gradient = block_gradient(block, 0.2 * x - 0.1 * z)  # rising eastwards and downwards
    >>> [round(float(gradient.component(axis).mean()), 3) for axis in "xyz"]  # per metre
    [0.2, 0.0, -0.1]
    >>> round(float(gradient.azimuth[0, 0, 0]), 1), round(float(gradient.dip[0, 0, 0]), 1)
    (90.0, 26.6)
    """
    field = np.asarray(values, dtype=np.float64)
    if field.shape != block.shape:
        field = block.reshape(field)
    return grid_gradient(field, block.cell_size, block.axes(), ("x", "y", "z"), block.mask)


def geophysics_gradient(grid: Grid) -> GradientField:
    """Gradient of a geophysics grid (2D map or 3D voxel model).

    Returns
    -------
    GradientField
        Components named ("y", "x") for a map or ("z", "y", "x") for a voxel model, in
        the grid's unit per metre (e.g. SI/m, mV/V/m).
    """
    axes = grid.axes()  # x, y(, z)
    return grid_gradient(
        grid.values, tuple(grid.spacing[::-1]), tuple(axes[::-1]), ("x", "y", "z")[: grid.values.ndim][::-1]
    )
