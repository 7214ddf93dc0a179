"""Server-side layer builders for the 3D viewer: threshold, slices, iso-surface, gradients, zones.

Every builder returns a ``pyvista.PolyData`` in local coordinates (m from the scene offset)
with float32 points and scalars, so the browser receives surfaces only (never whole
volumes). A block model of a million cells or more is coarsened before it is drawn:
:func:`coarsen` averages ``factor``³ cells into one, and :func:`fit_to_budget` raises the
factor until the layer's serialised size (:func:`mesh_bytes`) fits its share of the
payload. The factor used is reported, so the page can say when and how much a layer was
decimated.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from afg_core.geostat.blockmodel import BlockModel
from afg_core.geostat.gradients import block_gradient

#: Cells of a (coarsened) grid a layer builder starts from at most; larger grids are coarsened first.
MAX_GRID_CELLS = 300_000


@dataclass(frozen=True)
class BuiltLayer:
    """A layer mesh and how much its grid was coarsened (1: full resolution)."""

    mesh: object
    factor: int

    @property
    def decimated(self) -> bool:
        return self.factor > 1


def mesh_bytes(mesh) -> int:
    """Upper bound of a mesh's size in the exported scene (bytes, before zip compression).

    Points as float32 (12 bytes each), cells in VTK's legacy layout of 64-bit ids (what the
    vtk.js serialiser writes), and each data array at 4 bytes per value.
    """
    cells = sum(
        getattr(mesh, part).size for part in ("verts", "lines", "faces", "strips") if hasattr(mesh, part)
    )
    arrays = sum(np.asarray(mesh.point_data[n]).size for n in mesh.point_data.keys())
    arrays += sum(np.asarray(mesh.cell_data[n]).size for n in mesh.cell_data.keys())
    return 12 * mesh.n_points + 8 * cells + 4 * arrays


def _float32(mesh):
    """The mesh with float32 points and data arrays (vtk.js draws in float32 anyway)."""
    mesh.points = np.asarray(mesh.points, dtype=np.float32)
    for data in (mesh.point_data, mesh.cell_data):
        for name in list(data.keys()):
            values = np.asarray(data[name])
            if values.dtype.kind == "f" and values.dtype != np.float32:
                data[name] = values.astype(np.float32)
    return mesh


def coarsen(
    block: BlockModel, values: ArrayLike, factor: int, how: str = "mean"
) -> tuple[BlockModel, NDArray]:
    """Average (or take the minimum of) ``factor`` cells along each axis into one.

    Parameters
    ----------
    block : BlockModel
    values : array_like
        (n_cells,) per cell in :meth:`BlockModel.cell_centres` order; NaN = no value.
    factor : int
        Cells merged along each axis (capped at the axis length); 1 returns the input.
    how : {"mean", "min"}
        NaN-ignoring mean (grades, gradients) or minimum (zone ranks: the best rank wins).

    Returns
    -------
    coarse : BlockModel
        ``ceil(n / factor)`` cells per axis, ``factor`` times larger; no mask (NaN marks empty cells).
    values : numpy.ndarray
        (n_coarse_cells,) in the coarse model's cell order; NaN where all merged cells were NaN.
    """
    field = block.reshape(np.asarray(values, dtype=float))
    if block.mask is not None:
        field = np.where(block.mask, field, np.nan)
    if factor <= 1:
        return BlockModel(block.origin, block.cell_size, block.shape), field.ravel()
    steps = [min(factor, n) for n in block.shape]
    shape = [math.ceil(n / s) for n, s in zip(block.shape, steps)]
    padded = np.full([c * s for c, s in zip(shape, steps)], np.nan)
    padded[: block.shape[0], : block.shape[1], : block.shape[2]] = field
    grouped = padded.reshape(shape[0], steps[0], shape[1], steps[1], shape[2], steps[2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups give NaN, as intended
        merged = (np.nanmean if how == "mean" else np.nanmin)(grouped, axis=(1, 3, 5))
    size = np.asarray(block.cell_size) * steps
    origin = np.asarray(block.origin) - 0.5 * np.asarray(block.cell_size) + 0.5 * size
    return BlockModel(tuple(origin), tuple(size), tuple(shape)), merged.ravel()


def start_factor(block: BlockModel, max_cells: int = MAX_GRID_CELLS) -> int:
    """Smallest coarsening factor that brings the model to at most ``max_cells`` cells."""
    factor = 1
    while np.prod([math.ceil(n / min(factor, n)) for n in block.shape]) > max_cells:
        factor += 1
    return factor


def fit_to_budget(build: Callable[[int], object], max_bytes: int, first_factor: int = 1) -> BuiltLayer:
    """Build with coarsening factors ``first_factor, ...`` until the mesh is at most ``max_bytes``.

    The factor grows by half each time (at least by one) and stops at 64, where any
    block model is a few thousand cells.
    """
    factor = first_factor
    while True:
        mesh = build(factor)
        if mesh_bytes(mesh) <= max_bytes or factor >= 64:
            return BuiltLayer(mesh, factor)
        factor = max(factor + 1, int(factor * 1.5))


def cell_image(block: BlockModel, values: ArrayLike, name: str, offset: tuple[float, float, float]):
    """Block cells as a VTK image with ``name`` as cell data (local coordinates, m)."""
    import pyvista as pv

    grid = pv.ImageData(
        dimensions=np.asarray(block.shape) + 1,
        spacing=block.cell_size,
        origin=np.asarray(block.origin) - 0.5 * np.asarray(block.cell_size) - np.asarray(offset),
    )
    # VTK images store cells x-fastest (Fortran order over (nx, ny, nz)).
    field = block.reshape(np.asarray(values, dtype=float))
    if block.mask is not None:
        field = np.where(block.mask, field, np.nan)
    grid.cell_data[name] = field.ravel(order="F")
    return grid


def threshold_cells(block: BlockModel, values: ArrayLike, name: str, offset, low: float, colour=None):
    """Cells with ``low <= value`` (NaN cells dropped) as an unstructured grid.

    ``colour``: per-cell values to colour by (e.g. P(grade > cut-off)), stored as ``name``
    instead of the thresholded values.
    """
    values = np.asarray(values, dtype=float)
    keep = np.where(values >= low, values if colour is None else np.asarray(colour, dtype=float), np.nan)
    grid = cell_image(block, keep, name, offset)
    return grid.threshold(value=float(np.nanmin(keep)) if np.isfinite(keep).any() else np.inf, scalars=name)


def threshold_surface(block: BlockModel, values, name: str, offset, low: float, colour=None):
    """Outer faces of :func:`threshold_cells` (what the browser draws), float32."""
    import pyvista as pv

    cells = threshold_cells(block, values, name, offset, low, colour)
    if cells.n_cells == 0:
        return pv.PolyData()
    return _float32(cells.extract_surface(algorithm="dataset_surface"))


def orthogonal_slice(block: BlockModel, values, name: str, offset, axis: str, position: float):
    """The cells cut by the plane ``axis = position`` (project coordinates, m) as a flat sheet.

    Each polygon carries the value of the cell it cuts; NaN cells are left out. A position
    outside the model gives an empty mesh.
    """
    import pyvista as pv

    index = "xyz".index(axis)
    origin = np.asarray(block.origin, dtype=float) - 0.5 * np.asarray(block.cell_size)
    top = origin[index] + block.shape[index] * block.cell_size[index]
    if not origin[index] <= position <= top:
        return pv.PolyData()
    grid = cell_image(block, values, name, offset)
    centre = np.asarray(grid.center, dtype=float)
    centre[index] = position - offset[index]
    # A plane exactly on a cell face is nudged into the cell above it, so every cut is one cell deep.
    cut = grid.slice(normal=axis, origin=centre + np.eye(3)[index] * 1e-6 * block.cell_size[index])
    if cut.n_cells == 0:
        return pv.PolyData()
    finite = np.isfinite(np.asarray(cut.cell_data[name]))
    cut = cut.extract_cells(np.flatnonzero(finite)).extract_surface(algorithm="dataset_surface")
    return _float32(cut)


def iso_surface(block: BlockModel, values, name: str, offset, level: float):
    """Surface where the trilinear interpolation of cell-centre values equals ``level``.

    Cells without a value are set below every value first, so the surface closes at the
    edge of the estimated cells instead of leaving holes there.
    """
    import pyvista as pv

    field = block.reshape(np.asarray(values, dtype=float))
    if block.mask is not None:
        field = np.where(block.mask, field, np.nan)
    if not np.isfinite(field).any():
        return pv.PolyData()
    low = float(np.nanmin(field))
    field = np.where(np.isfinite(field), field, min(low, level) - 1.0)
    points = pv.ImageData(
        dimensions=block.shape,
        spacing=block.cell_size,
        origin=np.asarray(block.origin) - np.asarray(offset),
    )
    points.point_data[name] = field.ravel(order="F")
    surface = points.contour(isosurfaces=[level], scalars=name, method="contour")
    for array in list(surface.point_data.keys()):
        del surface.point_data[array]
    return _float32(surface)


def gradient_vectors(block: BlockModel, log_values, offset, max_arrows: int, exaggeration: float = 1.0):
    """Gradient of a log-grade field averaged on a coarse grid of at most ``max_arrows`` valid cells.

    Returns points at the coarse cell centres with ``direction`` (drawn direction, unit
    vectors) and ``magnitude`` (|grad| in log units per metre), and the factor used.

    Points are already stretched by ``exaggeration`` (z times the factor), and the
    direction is the gradient's in the stretched scene, ``(gx, gy, gz / exaggeration)``:
    a gradient is normal to the iso-surfaces, and normals transform by the inverse of the
    stretch. Draw them without stretching again.
    """
    import pyvista as pv

    gradient = block_gradient(block, log_values)
    components = [gradient.component(axis).ravel() for axis in "xyz"]
    factor = 1
    while True:
        coarse, gx = coarsen(block, components[0], factor)
        valid = np.isfinite(gx)
        if valid.sum() <= max_arrows or factor >= 64:
            break
        factor += 1
    gy = coarsen(block, components[1], factor)[1]
    gz = coarsen(block, components[2], factor)[1]
    valid &= np.isfinite(gy) & np.isfinite(gz)
    vectors = np.column_stack([gx, gy, gz / exaggeration])[valid]
    magnitude = np.sqrt(gx**2 + gy**2 + gz**2)[valid]
    length = np.linalg.norm(vectors, axis=1)
    direction = np.divide(vectors, length[:, None], out=np.zeros_like(vectors), where=length[:, None] > 0)
    points = coarse.cell_centres()[valid] - np.asarray(offset)
    points[:, 2] *= exaggeration
    cloud = pv.PolyData(points)
    cloud.point_data["direction"] = direction
    cloud.point_data["magnitude"] = magnitude
    return cloud, factor, coarse


def arrow_glyphs(vectors, length: float, name: str):
    """Arrows at the points of :func:`gradient_vectors`, along ``direction``, scaled by magnitude.

    The longest arrow is ``length`` metres; each carries its magnitude as ``name``.
    """
    import pyvista as pv

    if vectors.n_points == 0:
        return pv.PolyData()
    magnitude = np.asarray(vectors.point_data["magnitude"], dtype=float)
    vectors.point_data["scale"] = magnitude / max(float(magnitude.max()), 1e-30)
    vectors.point_data[name] = magnitude
    arrow = pv.Arrow(
        tip_length=0.35, tip_radius=0.12, shaft_radius=0.04, tip_resolution=6, shaft_resolution=6
    )
    glyphs = vectors.glyph(orient="direction", scale="scale", factor=length, geom=arrow)
    for array in list(glyphs.point_data.keys()):
        if array != name:
            del glyphs.point_data[array]
    return _float32(glyphs)


def hole_lines(holes, offset, rank_name: str = "rank"):
    """Proposed holes (:func:`afg_core.products.propose_holes`) as straight lines from collar to end.

    Each line carries the zone's rank as ``rank_name`` (point data).
    """
    import pyvista as pv

    if len(holes) == 0:
        return pv.PolyData()
    azimuth, dip = np.radians(holes["azimuth"].to_numpy(float)), np.radians(holes["dip"].to_numpy(float))
    down = np.column_stack([np.sin(azimuth) * np.cos(dip), np.cos(azimuth) * np.cos(dip), -np.sin(dip)])
    collars = holes[["collar_x", "collar_y", "collar_z"]].to_numpy(float) - np.asarray(offset)
    ends = collars + holes["length_m"].to_numpy(float)[:, None] * down
    points = np.empty((2 * len(holes), 3))
    points[0::2], points[1::2] = collars, ends
    mesh = pv.PolyData(points)
    mesh.lines = np.column_stack(
        [np.full(len(holes), 2), np.arange(0, 2 * len(holes), 2), np.arange(1, 2 * len(holes), 2)]
    ).ravel()
    mesh.point_data[rank_name] = np.repeat(holes["rank"].to_numpy(float), 2)
    return _float32(mesh)


def thin_samples(samples, max_points: int):
    """Every k-th sample down each hole (first and last kept) so at most about ``max_points`` remain."""
    step = math.ceil(len(samples) / max_points) if len(samples) > max_points else 1
    if step == 1:
        return samples, 1
    ordered = samples.sort_values(["hole_id", "from"])
    position = ordered.groupby("hole_id", sort=False).cumcount().to_numpy()
    last = position == ordered.groupby("hole_id", sort=False)["from"].transform("size").to_numpy() - 1
    return ordered[(position % step == 0) | last], step
