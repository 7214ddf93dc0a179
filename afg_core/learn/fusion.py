"""Fused feature tables: at assayed samples (both tasks) and at block-model cells (the volume task).

Feature groups (:data:`FEATURE_GROUPS`), each built from what the project holds and skipped with a
note when it holds nothing for it:

``position``
    x, y, z (m) and depth below the surface (m; the surface interpolated from collar elevations).
``colocated``
    Log of the co-located measurements of non-target elements at the sample (XRF majors, pXRF,
    S, ...): by default every non-target element measured in at least half the samples. Only in the
    *along-holes* task: unsampled cells have no such measurements.
``geophysics``
    Every geophysics grid at the point (log10 for susceptibility, SI) and its gradient
    (d/dx, d/dy, d/dz, magnitude, per metre).
``spectral``
    The first k hyperspectral PC scores at the point's (x, y).
``kriged``
    Ordinary kriging of the log majors (Fe, Si, Al, Ti) and of the log target sum (TREO for
    REE targets) at the point, **from other holes only**: from the training holes for a held-out
    row, and from the training holes except the row's own hole for a training row
    (leave-own-hole-out), so a training row's features look like a held-out row's.
``gradients``
    Flux gradients of those kriged fields: dE/dx, dE/dy, dE/dz and the magnitude (log units per
    metre), by central differences with the block model's cell size as the step, kriged with the
    same exclusion as the field itself (at cells: the same differences on the kriged grid).

The named preset ``"paper"`` (:data:`PRESETS`) reproduces the 11-D input vector of the AFG-PMS
method paper, read as 1 + 2 + 3 + 5: depth below surface (1), magnetic susceptibility and IP
chargeability at the point (2), three spectral PCs (3), and the flux-gradient magnitudes of Fe, Si,
Al, Ti and total REE (5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

from afg_core.geochem import MAJORS, REE_TARGETS, total_rare_earth_oxides
from afg_core.geostat.blockmodel import BlockModel
from afg_core.geostat.estimation import krige_block_model, ordinary_kriging
from afg_core.geostat.fitting import auto_variogram
from afg_core.geostat.gradients import block_gradient, geophysics_gradient
from afg_core.geostat.search import SearchNeighbourhood
from afg_core.io.project import Project
from afg_core.spectral.pca import SpectralPCA, sample_scores_at
from afg_core.transforms import log_grade

Task = Literal["along-holes", "volume"]
FEATURE_GROUPS = ("position", "colocated", "geophysics", "spectral", "kriged", "gradients")
TASKS = ("along-holes", "volume")


@dataclass(frozen=True)
class FeatureSpec:
    """Which features to build, and how.

    Parameters
    ----------
    task : {"along-holes", "volume"}
        Along holes, co-located measurements are inputs; in the volume they are not.
    groups : tuple of str
        Feature groups to build (:data:`FEATURE_GROUPS`).
    colocated : tuple of str, optional
        Co-located elements; None: every non-target element measured in at least
        ``min_coverage`` of the samples.
    min_coverage : float
        Share of samples an element must be measured in to be a default co-located input.
    kriged_elements : tuple of str
        Elements whose log grade is kriged (the log target sum is added to them).
    gradient_step_m : tuple of float
        Central-difference step (m) along x, y, z: the block model's cell size, so that
        gradients at samples and at cells are the same differences.
    neighbours, max_per_hole : int
        Kriging search of the kriged fields (samples; samples per hole).
    only : tuple of str, optional
        Keep only these feature columns (a preset's selection); None keeps all built.
    """

    task: Task = "along-holes"
    groups: tuple[str, ...] = FEATURE_GROUPS
    colocated: tuple[str, ...] | None = None
    min_coverage: float = 0.5
    kriged_elements: tuple[str, ...] = tuple(MAJORS)
    gradient_step_m: tuple[float, float, float] = (25.0, 25.0, 10.0)
    neighbours: int = 24
    max_per_hole: int = 6
    only: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        unknown = set(self.groups) - set(FEATURE_GROUPS)
        if unknown:
            raise ValueError(f"unknown feature groups {sorted(unknown)}; use {FEATURE_GROUPS}")

    def without(self, group: str) -> FeatureSpec:
        """The same spec without one feature group (for ablations)."""
        return replace(self, groups=tuple(g for g in self.groups if g != group))


#: Named feature sets; ``paper`` is the method paper's 11-D vector (module docstring).
PRESETS: dict[str, FeatureSpec] = {
    "all": FeatureSpec(),
    "paper": FeatureSpec(
        groups=("position", "geophysics", "spectral", "gradients"),
        only=(
            "depth_m",
            "log10_magnetic_susceptibility",
            "ip_chargeability",
            "PC1",
            "PC2",
            "PC3",
            "grad_Fe",
            "grad_Si",
            "grad_Al",
            "grad_Ti",
            "grad_TREO",
        ),
    ),
}


def target_sum_name(targets: list[str]) -> str:
    """``TREO`` when the targets are rare earths, else ``SUM`` (of the target grades, ppm)."""
    return "TREO" if set(targets) <= set(REE_TARGETS) else "SUM"


def target_sum(samples: pd.DataFrame, targets: list[str]) -> pd.Series:
    """Total of the targets per sample (ppm): TREO (oxides, Y2O3 included) for REE, else the sum.

    NaN where any target is missing, so a partial sum is never mistaken for a low grade.
    """
    present = [t for t in targets if t in samples]
    if target_sum_name(present) == "TREO":
        total = total_rare_earth_oxides(samples[present])
    else:
        total = samples[present].sum(axis=1, min_count=1)
    return total.where(samples[present].notna().all(axis=1))


@dataclass(frozen=True, eq=False)
class FeatureTable:
    """Features of rows (samples or cells) with the group of every feature column.

    Attributes
    ----------
    frame : DataFrame
        ``row_id`` (hole or column id), ``x, y, z`` and the feature columns, rows of each
        ``row_id`` in down-hole order.
    groups : dict
        Feature column -> feature group.
    notes : tuple of str
        What could not be built and why (e.g. no geophysics in the project).
    """

    frame: pd.DataFrame
    groups: dict[str, str]
    notes: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return list(self.groups)

    def in_groups(self, groups: tuple[str, ...]) -> list[str]:
        """Feature columns of the given groups."""
        return [c for c, g in self.groups.items() if g in groups]


@dataclass(frozen=True, eq=False)
class KrigedFieldSource:
    """Samples the kriged fields are estimated from (training holes of a fold), with their variograms.

    Build with :func:`kriged_field_source`; ``values`` (n, f) are log grades of ``names``.
    """

    coords: np.ndarray
    values: np.ndarray
    holes: np.ndarray
    names: tuple[str, ...]
    models: tuple
    neighbours: int
    max_per_hole: int

    def krige_block(self, block: BlockModel) -> np.ndarray:
        """(n_cells, f) kriged log grades at the block's active cells (NaN elsewhere), by the tiled search
        of :func:`afg_core.geostat.krige_block_model` (the same neighbours as :meth:`krige`, faster on grids)."""
        out = np.full((block.n_cells, len(self.names)), np.nan)
        search = SearchNeighbourhood(max_samples=self.neighbours, max_per_hole=self.max_per_hole)
        for j, model in enumerate(self.models):
            use = np.isfinite(self.values[:, j])
            if model is None or use.sum() < 3:
                continue
            kriged = krige_block_model(
                block, self.coords[use], self.values[use, j], model, search=search, hole_ids=self.holes[use]
            )
            out[:, j] = kriged.estimate.ravel()
        return out

    def krige(self, points: np.ndarray, exclude_holes: np.ndarray | None = None) -> np.ndarray:
        """(m, f) kriged log grades at points; ``exclude_holes`` (m,) leave that hole out per point."""
        out = np.full((len(points), len(self.names)), np.nan)
        for j, model in enumerate(self.models):
            use = np.isfinite(self.values[:, j])
            if model is None or use.sum() < 3:
                continue
            out[:, j] = ordinary_kriging(
                self.coords[use],
                self.values[use, j],
                points,
                model,
                neighbours=self.neighbours,
                max_per_hole=self.max_per_hole,
                hole_ids=self.holes[use],
                exclude_holes=exclude_holes,
            ).estimate
        return out


def kriged_field_source(
    samples: pd.DataFrame, elements: tuple[str, ...], targets: list[str], spec: FeatureSpec
) -> KrigedFieldSource:
    """The kriged fields' samples (log majors and log target sum) and one automatic variogram each.

    ``samples`` must hold only the holes the fields may use (the fold's training holes).
    """
    names = [e for e in elements if e in samples and e not in targets]
    values = [log_grade(samples[e].to_numpy(dtype=float)) for e in names]
    if any(t in samples for t in targets):
        names.append(target_sum_name(targets))
        values.append(log_grade(target_sum(samples, targets).to_numpy(dtype=float)))
    coords = samples[["x", "y", "z"]].to_numpy(dtype=float)
    matrix = np.column_stack(values) if values else np.empty((len(samples), 0))
    models = []
    for j in range(matrix.shape[1]):
        use = np.isfinite(matrix[:, j])
        models.append(auto_variogram(coords[use], matrix[use, j]).model if use.sum() >= 10 else None)
    return KrigedFieldSource(
        coords,
        matrix,
        samples["hole_id"].to_numpy(),
        tuple(names),
        tuple(models),
        spec.neighbours,
        spec.max_per_hole,
    )


@dataclass(frozen=True, eq=False)
class Surface:
    """Topographic surface from collar elevations: linear inside their hull, nearest outside (m)."""

    linear: Callable
    nearest: Callable

    @classmethod
    def from_collars(cls, collar: pd.DataFrame) -> Surface:
        xy = collar[["x", "y"]].to_numpy(dtype=float)
        z = collar["z"].to_numpy(dtype=float)
        ok = np.isfinite(xy).all(axis=1) & np.isfinite(z)
        xy, z = xy[ok], z[ok]
        nearest = NearestNDInterpolator(xy, z)
        try:
            linear = LinearNDInterpolator(xy, z)
        except Exception:  # fewer than three non-collinear collars: no triangulation
            linear = nearest
        return cls(linear, nearest)

    def elevation(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z = np.asarray(self.linear(x, y), dtype=float)
        missing = ~np.isfinite(z)
        z[missing] = self.nearest(x[missing], y[missing])
        return z


def default_colocated(
    samples: pd.DataFrame, elements: list[str], targets: list[str], coverage: float
) -> list[str]:
    """Non-target elements measured in at least ``coverage`` of the samples."""
    return [e for e in elements if e not in targets and samples[e].notna().mean() >= coverage]


def _geophysics_columns(project: Project, points: np.ndarray) -> dict[str, np.ndarray]:
    columns = {}
    for name, grid in project.geophysics.items():
        values = grid.sample(points[:, 0], points[:, 1], points[:, 2])
        label = name
        if grid.unit == "SI":
            values = np.log10(np.clip(values, 1e-6, None))
            label = f"log10_{name}"
        columns[label] = values
        gradient = geophysics_gradient(grid).sample(points)
        for axis, component in zip(("x", "y", "z"), gradient.T):
            columns[f"d{name}_d{axis}"] = component
        columns[f"grad_{name}"] = np.sqrt(np.nansum(gradient**2, axis=1))
        columns[f"grad_{name}"][~np.isfinite(gradient).all(axis=1)] = np.nan
    return columns


def _gradient_columns(names: tuple[str, ...], components: np.ndarray) -> dict[str, np.ndarray]:
    """``d<E>_dx, d<E>_dy, d<E>_dz, grad_<E>`` from (m, f, 3) derivatives."""
    columns = {}
    for j, name in enumerate(names):
        for k, axis in enumerate("xyz"):
            columns[f"d{name}_d{axis}"] = components[:, j, k]
        columns[f"grad_{name}"] = np.linalg.norm(components[:, j, :], axis=1)
    return columns


def _assemble(
    base: pd.DataFrame,
    parts: dict[str, dict[str, np.ndarray]],
    spec: FeatureSpec,
    notes: list[str],
) -> FeatureTable:
    groups: dict[str, str] = {}
    columns = {}
    for group, part in parts.items():
        for name, values in part.items():
            if spec.only is not None and name not in spec.only:
                continue
            columns[name] = np.asarray(values, dtype=float)
            groups[name] = group
    frame = pd.concat([base.reset_index(drop=True), pd.DataFrame(columns)], axis=1)
    return FeatureTable(frame, groups, tuple(notes))


def sample_feature_table(
    project: Project,
    samples: pd.DataFrame,
    source: KrigedFieldSource | None,
    spec: FeatureSpec,
    targets: list[str],
    pca: SpectralPCA | None,
    leave_own_hole_out: np.ndarray | None = None,
) -> FeatureTable:
    """Features at assayed samples (rows in ``samples`` order, which must be down-hole per hole).

    Parameters
    ----------
    project : Project
        Geophysics, cube and collars.
    samples : DataFrame
        ``hole_id, from, to, x, y, z`` and element columns (ppm / wt%).
    source : KrigedFieldSource or None
        Samples of the fold's training holes for the kriged fields (None: no kriged fields).
    spec : FeatureSpec
    targets : list of str
        Target elements (never inputs).
    pca : SpectralPCA or None
    leave_own_hole_out : numpy.ndarray of bool, optional
        (n,) rows whose own hole is excluded from their kriged fields (the training rows);
        the other rows' holes are not in ``source`` at all.
    """
    notes: list[str] = []
    points = samples[["x", "y", "z"]].to_numpy(dtype=float)
    surface = Surface.from_collars(project.drillholes.collar)
    base = pd.DataFrame(
        {"row_id": samples["hole_id"].to_numpy(), "x": points[:, 0], "y": points[:, 1], "z": points[:, 2]}
    )
    parts: dict[str, dict[str, np.ndarray]] = {}
    if "position" in spec.groups:
        depth = surface.elevation(points[:, 0], points[:, 1]) - points[:, 2]
        parts["position"] = {"x_m": points[:, 0], "y_m": points[:, 1], "z_m": points[:, 2], "depth_m": depth}
    if "colocated" in spec.groups and spec.task == "along-holes":
        elements = (
            list(spec.colocated)
            if spec.colocated is not None
            else default_colocated(samples, project.drillholes.elements, targets, spec.min_coverage)
        )
        elements = [e for e in elements if e in samples and e not in targets]
        if elements:
            parts["colocated"] = {f"log_{e}": log_grade(samples[e].to_numpy(dtype=float)) for e in elements}
        else:
            notes.append("no co-located measurement (non-target element in at least half the samples)")
    _common_groups(project, points, spec, pca, parts, notes)
    if source is not None and ({"kriged", "gradients"} & set(spec.groups)) and source.names:
        own = np.zeros(len(points), bool) if leave_own_hole_out is None else np.asarray(leave_own_hole_out)
        kriged = np.full((len(points), len(source.names)), np.nan)
        derivatives = np.full((len(points), len(source.names), 3), np.nan)
        holes = samples["hole_id"].to_numpy()
        for rows, exclude in ((own, holes[own]), (~own, None)):
            if rows.any():
                kriged[rows], derivatives[rows] = _kriged_at_points(source, points[rows], exclude, spec)
        if "kriged" in spec.groups:
            parts["kriged"] = {f"krig_{n}": kriged[:, j] for j, n in enumerate(source.names)}
        if "gradients" in spec.groups:
            parts["gradients"] = _gradient_columns(source.names, derivatives)
    elif {"kriged", "gradients"} & set(spec.groups):
        notes.append("no kriged fields (too few samples of the majors and targets in the training holes)")
    return _assemble(base, parts, spec, notes)


def _common_groups(
    project: Project,
    points: np.ndarray,
    spec: FeatureSpec,
    pca: SpectralPCA | None,
    parts: dict[str, dict[str, np.ndarray]],
    notes: list[str],
) -> None:
    """Geophysics and spectral groups, identical for samples and cells."""
    if "geophysics" in spec.groups:
        if project.geophysics:
            parts["geophysics"] = _geophysics_columns(project, points)
        else:
            notes.append("no geophysics grids in the project: geophysics features skipped")
    if "spectral" in spec.groups:
        if pca is not None and project.hyperspectral is not None:
            scores = sample_scores_at(pca, project.hyperspectral, points[:, 0], points[:, 1])
            parts["spectral"] = {f"PC{k + 1}": scores[:, k] for k in range(scores.shape[1])}
        else:
            notes.append("no hyperspectral cube in the project: spectral features skipped")


def _kriged_at_points(
    source: KrigedFieldSource, points: np.ndarray, exclude: np.ndarray | None, spec: FeatureSpec
) -> tuple[np.ndarray, np.ndarray]:
    """Kriged fields (m, f) and their central differences (m, f, 3) at points, one kriging call per field."""
    step = np.asarray(spec.gradient_step_m, dtype=float)
    offsets = [np.zeros(3)]
    for k in range(3):
        for sign in (1.0, -1.0):
            offset = np.zeros(3)
            offset[k] = sign * step[k]
            offsets.append(offset)
    stacked = np.concatenate([points + o for o in offsets])
    excluded = None if exclude is None else np.tile(exclude, len(offsets))
    values = source.krige(stacked, excluded).reshape(len(offsets), len(points), -1)
    derivatives = np.stack(
        [(values[1 + 2 * k] - values[2 + 2 * k]) / (2 * step[k]) for k in range(3)], axis=-1
    )
    return values[0], derivatives


def cell_feature_table(
    project: Project,
    block: BlockModel,
    source: KrigedFieldSource | None,
    spec: FeatureSpec,
    pca: SpectralPCA | None,
) -> FeatureTable:
    """Features at the active cells of a block model, for the volume task.

    Rows are ordered column by column (``row_id`` = the cell column), each column from the
    top down, so a sequence model reads it as a vertical pseudo-hole. ``frame["cell"]`` is
    the cell's index in :meth:`BlockModel.cell_centres` order. The kriged fields come from
    every hole of ``source`` and their gradients are the same central differences on the
    kriged grid (cell size = the spec's gradient step).
    """
    if spec.task != "volume":
        raise ValueError("cell features exist for the volume task only (no co-located measurements at cells)")
    notes: list[str] = []
    active = np.flatnonzero(block.flat_mask())
    centres = block.cell_centres()[active]
    nx, ny, nz = block.shape
    column = active // nz
    surface = Surface.from_collars(project.drillholes.collar)
    base = pd.DataFrame(
        {"row_id": column, "x": centres[:, 0], "y": centres[:, 1], "z": centres[:, 2], "cell": active}
    )
    parts: dict[str, dict[str, np.ndarray]] = {}
    if "position" in spec.groups:
        depth = surface.elevation(centres[:, 0], centres[:, 1]) - centres[:, 2]
        parts["position"] = {
            "x_m": centres[:, 0],
            "y_m": centres[:, 1],
            "z_m": centres[:, 2],
            "depth_m": depth,
        }
    _common_groups(project, centres, spec, pca, parts, notes)
    if source is not None and ({"kriged", "gradients"} & set(spec.groups)) and source.names:
        kriged = source.krige_block(block)[active]
        if "kriged" in spec.groups:
            parts["kriged"] = {f"krig_{n}": kriged[:, j] for j, n in enumerate(source.names)}
        if "gradients" in spec.groups:
            derivatives = np.full((len(active), len(source.names), 3), np.nan)
            for j in range(len(source.names)):
                grid = np.full(block.n_cells, np.nan)
                grid[active] = kriged[:, j]
                gradient = block_gradient(block, grid)
                for k, axis in enumerate("xyz"):
                    derivatives[:, j, k] = gradient.component(axis).ravel()[active]
            parts["gradients"] = _gradient_columns(source.names, derivatives)
    table = _assemble(base, parts, spec, notes)
    # Top down within each column: cell order is z ascending, so sort by column then -z.
    order = np.lexsort((-table.frame["z"].to_numpy(), table.frame["row_id"].to_numpy()))
    return FeatureTable(table.frame.iloc[order].reset_index(drop=True), table.groups, table.notes)
