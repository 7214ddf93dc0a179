"""Drill targets: TREO block estimates, zones above cut-off, ranking, grade-tonnage.

Grades are log-normal, so TREO is kriged in log space (:func:`afg_core.transforms.log_grade`)
and back-transformed with the log-normal correction (:func:`afg_core.transforms.lognormal_mean`);
the probability of exceeding the cut-off
uses the kriging variance as the spread of ``log TREO`` (a Gaussian approximation,
stated on the page).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree
from scipy.special import ndtr

from afg_core.geochem import REE_TARGETS, total_rare_earth_oxides
from afg_core.geostat.blockmodel import (
    MAX_BLOCK_CELLS,
    BlockModel,
    block_model_from_extent,
    cell_size_within,
    mask_far_cells,
)
from afg_core.geostat.blockstore import VARIANCE_SUFFIX, BlockStore
from afg_core.geostat.cluster import krige_block_model_on_cluster, krige_block_model_to_store
from afg_core.geostat.estimation import krige_block_model
from afg_core.geostat.fitting import auto_variogram
from afg_core.geostat.search import SearchNeighbourhood
from afg_core.geostat.variogram import VariogramModel
from afg_core.io.project import Project
from afg_core.learn.experiment import PredictedVolume
from afg_core.learn.fusion import Surface
from afg_core.transforms import grade_from_log, log_grade, lognormal_mean

#: Dry bulk density of oxidised-to-fresh BIF, t/m3 (typical 3.0-3.5).
BIF_DENSITY = 3.3


@dataclass(frozen=True, eq=False)
class BlockEstimate:
    """Kriged log TREO on a block model.

    Attributes
    ----------
    block : BlockModel
    log_estimate, log_variance : numpy.ndarray
        Per cell, in :meth:`BlockModel.cell_centres` order; NaN on masked cells.
    variogram : VariogramModel or None
        Model fitted to log TREO of the samples (None for a model's predicted volume).
    source : str
        What made the estimate (``kriging``, or the model kind of a predicted volume).
    """

    block: BlockModel
    log_estimate: np.ndarray
    log_variance: np.ndarray
    variogram: VariogramModel | None = None
    source: str = "kriging"

    @property
    def treo_ppm(self) -> np.ndarray:
        """Expected TREO (ppm) with the log-normal back-transform."""
        return lognormal_mean(self.log_estimate, self.log_variance)

    def probability_above(self, cutoff_ppm: float) -> np.ndarray:
        """P(TREO > cut-off) per cell."""
        sd = np.sqrt(np.maximum(self.log_variance, 1e-12))
        return ndtr((self.log_estimate - log_grade(cutoff_ppm)) / sd)


def estimate_treo_blocks(
    samples: pd.DataFrame,
    cell_size: tuple[float, float, float] = (50.0, 50.0, 10.0),
    neighbours: int = 24,
    max_per_hole: int = 8,
    max_distance: float = 150.0,
    max_cells: int = MAX_BLOCK_CELLS,
    client=None,
) -> BlockEstimate:
    """Krige log TREO (ppm) of the samples onto a block model over their extent.

    ``client``: a ``distributed.Client`` (:func:`afg_core.geostat.cluster.dask_client`) to
    krige the block model's tiles on a Dask cluster; None kriges in this process.

    Cells farther than ``max_distance`` (m), or than one and a half cell widths when cells
    had to be widened to stay within ``max_cells``, from any sample are masked, not
    extrapolated. The cell size used is ``result.block.cell_size``.
    """
    coords, values, holes = _log_treo_samples(samples)
    model = auto_variogram(coords, values).model
    size = cell_size_within(coords, cell_size, max_cells)
    reach = max(max_distance, 1.5 * max(size[0], size[1]))
    block = mask_far_cells(
        block_model_from_extent(coords, size, padding=(size[0], size[1], 0.0)), coords, reach
    )
    search = SearchNeighbourhood(max_samples=neighbours, max_per_hole=max_per_hole)
    if client is None:
        kriged = krige_block_model(block, coords, values, model, search=search, hole_ids=holes)
    else:
        kriged = krige_block_model_on_cluster(client, block, coords, values, model, search, holes)
    return BlockEstimate(kriged.block, kriged.estimate.ravel(), kriged.variance.ravel(), model)


def _log_treo_samples(samples: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates (m), log TREO (ppm) and hole of every sample with both."""
    elements = [e for e in REE_TARGETS if e in samples]
    treo = total_rare_earth_oxides(samples[elements]).to_numpy()
    coords = samples[["x", "y", "z"]].to_numpy(dtype=float)
    use = np.isfinite(treo) & np.isfinite(coords).all(axis=1)
    return coords[use], log_grade(treo[use]), samples["hole_id"].to_numpy()[use]


def krige_treo_to_store(
    samples: pd.DataFrame,
    path: str | Path,
    cell_size: tuple[float, float, float] = (10.0, 10.0, 5.0),
    neighbours: int = 24,
    max_per_hole: int = 8,
    max_distance: float = 150.0,
    client=None,
    progress: Callable[[float], None] | None = None,
) -> BlockStore:
    """Krige log TREO (ppm) onto a block model of any size, held chunk by chunk in a zarr store.

    The out-of-core counterpart of :func:`estimate_treo_blocks` (same variogram recipe,
    search and masking, no cap on the number of cells): fields ``log_TREO`` (log ppm) and
    ``log_TREO_variance`` are written by chunk, in this process or on the Dask cluster of
    ``client``, so the model may be larger than any one machine's memory. Read it back
    with :func:`estimate_from_store`, :meth:`BlockStore.cells_above` or the streamed exports.
    """
    coords, values, holes = _log_treo_samples(samples)
    model = auto_variogram(coords, values).model
    block = block_model_from_extent(coords, cell_size, padding=(cell_size[0], cell_size[1], 0.0))
    store = BlockStore.create(path, block, ["log_TREO", f"log_TREO{VARIANCE_SUFFIX}"])
    search = SearchNeighbourhood(max_samples=neighbours, max_per_hole=max_per_hole)
    krige_block_model_to_store(
        store, coords, values, model, ["log_TREO"], search, holes, max_distance, client, progress
    )
    return store


def estimate_from_store(store: BlockStore, max_cells: int = MAX_BLOCK_CELLS) -> BlockEstimate:
    """Log TREO of a block store as a :class:`BlockEstimate`, averaged to at most ``max_cells`` cells.

    The decimation factor is the smallest that fits (1 when the model already does); log
    estimates and variances are averaged over the fine cells of a coarse cell, which keeps
    the point-support spread, so P(> cut-off) of a coarse cell stays on the cautious side.
    """
    factor = max(1, int(np.ceil((store.block.n_cells / max_cells) ** (1 / 3))))
    while np.prod([max(n // factor, 1) for n in store.block.shape]) > max_cells:
        factor += 1
    coarse, fields = store.decimated(["log_TREO", f"log_TREO{VARIANCE_SUFFIX}"], factor)
    return BlockEstimate(
        coarse, fields["log_TREO"].ravel(), fields[f"log_TREO{VARIANCE_SUFFIX}"].ravel(), None
    )


def estimate_from_volume(volume: PredictedVolume, grade: str = "TREO") -> BlockEstimate:
    """A model's predicted volume as a block estimate of ``grade``, for ranking and grade-tonnage.

    The log mean and the log spread of the ensemble (plus the model's residual variance)
    play the parts of the kriged log estimate and the kriging variance.
    """
    if grade not in volume.log_mean:
        raise KeyError(f"the predicted volume has no {grade}; it has {sorted(volume.log_mean)}")
    return BlockEstimate(volume.block, volume.log_mean[grade], volume.log_sd[grade] ** 2, None, volume.model)


def zone_labels(
    estimate: BlockEstimate, cutoff_ppm: float, min_probability: float = 0.5
) -> tuple[np.ndarray, int]:
    """Face-connected zones of cells with P(grade > cut-off) >= ``min_probability``.

    Returns
    -------
    labels : numpy.ndarray
        (n_cells,) zone number per cell in :meth:`BlockModel.cell_centres` order, 0 outside zones.
    n_zones : int
    """
    probability = estimate.probability_above(cutoff_ppm)
    labels, n_zones = ndimage.label(estimate.block.reshape(np.nan_to_num(probability) >= min_probability))
    return labels.ravel(), int(n_zones)


def rank_drill_targets(
    estimate: BlockEstimate,
    cutoff_ppm: float,
    sample_coords: np.ndarray,
    min_probability: float = 0.5,
    density_t_m3: float = BIF_DENSITY,
    min_cells: int = 2,
) -> pd.DataFrame:
    """Zones of connected cells likely above cut-off, ranked for drilling.

    A zone is a face-connected set of cells with P(TREO > cut-off) >= ``min_probability``.
    The score is the contained TREO (t) times the zone's mean probability, so large, likely
    zones come first; ``distance_to_data_m`` shows how far the zone's best cell lies from
    the nearest assay (far = less proven, more to learn by drilling).

    Returns
    -------
    DataFrame
        One row per zone, best first: ``rank, zone`` (label of :func:`zone_labels`), ``cells, tonnes, mean_treo_ppm,
        contained_treo_t, mean_probability, mean_log_sd, distance_to_data_m,
        target_x, target_y, target_z`` (target = the zone's highest-grade cell).
    """
    block = estimate.block
    probability = estimate.probability_above(cutoff_ppm)
    flat_labels, n_zones = zone_labels(estimate, cutoff_ppm, min_probability)
    grade = estimate.treo_ppm
    centres = block.cell_centres()
    cell_tonnes = float(np.prod(block.cell_size)) * density_t_m3
    tree = cKDTree(sample_coords)
    rows = []
    for zone in range(1, n_zones + 1):
        cells = np.flatnonzero(flat_labels == zone)
        if len(cells) < min_cells:
            continue
        best = cells[np.argmax(grade[cells])]
        tonnes = len(cells) * cell_tonnes
        rows.append(
            {
                "zone": zone,
                "cells": len(cells),
                "tonnes": tonnes,
                "mean_treo_ppm": float(grade[cells].mean()),
                "contained_treo_t": float((grade[cells] * 1e-6).sum() * cell_tonnes),
                "mean_probability": float(probability[cells].mean()),
                "mean_log_sd": float(np.sqrt(estimate.log_variance[cells]).mean()),
                "distance_to_data_m": float(tree.query(centres[best])[0]),
                "target_x": centres[best, 0],
                "target_y": centres[best, 1],
                "target_z": centres[best, 2],
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "zone",
            "cells",
            "tonnes",
            "mean_treo_ppm",
            "contained_treo_t",
            "mean_probability",
            "mean_log_sd",
            "distance_to_data_m",
            "target_x",
            "target_y",
            "target_z",
        ],
    )
    table["score"] = table["contained_treo_t"] * table["mean_probability"]
    table = table.sort_values("score", ascending=False).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def grade_tonnage(
    estimate: BlockEstimate, cutoffs_ppm: np.ndarray, density_t_m3: float = BIF_DENSITY
) -> pd.DataFrame:
    """Tonnes and mean TREO above each cut-off (ppm) over the estimated cells."""
    cell_tonnes = float(np.prod(estimate.block.cell_size)) * density_t_m3
    return _grade_tonnage(estimate.treo_ppm, cutoffs_ppm, cell_tonnes)


def grade_tonnage_band(
    volume: PredictedVolume, cutoffs_ppm: np.ndarray, grade: str = "TREO", density_t_m3: float = BIF_DENSITY
) -> pd.DataFrame:
    """The spread of the grade-tonnage curve over the members of a predicted volume's ensemble.

    Each member's log grade (:attr:`PredictedVolume.member_log`) is back-transformed
    (:func:`afg_core.transforms.grade_from_log`) and gives its own curve; the band is the
    lowest and highest of them at each cut-off (with 5 members, about a 67 % range).

    Returns
    -------
    DataFrame
        ``cutoff_ppm, tonnes_low, tonnes_high, mean_low, mean_high`` (t and ppm).

    Raises
    ------
    KeyError
        When the volume kept no member grades for ``grade``.
    """
    if grade not in volume.member_log:
        raise KeyError(f"the predicted volume kept member grades of {sorted(volume.member_log)}, not {grade}")
    cell_tonnes = float(np.prod(volume.block.cell_size)) * density_t_m3
    curves = [
        _grade_tonnage(grade_from_log(member.astype(float)), cutoffs_ppm, cell_tonnes)
        for member in volume.member_log[grade]
    ]
    tonnes = np.column_stack([c["tonnes"] for c in curves])
    means = np.column_stack([c["mean_treo_ppm"] for c in curves])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cut-offs above every member's grades
        return pd.DataFrame(
            {
                "cutoff_ppm": np.asarray(cutoffs_ppm, dtype=float),
                "tonnes_low": tonnes.min(axis=1),
                "tonnes_high": tonnes.max(axis=1),
                "mean_low": np.nanmin(means, axis=1),
                "mean_high": np.nanmax(means, axis=1),
            }
        )


def _grade_tonnage(grade: np.ndarray, cutoffs_ppm: np.ndarray, cell_tonnes: float) -> pd.DataFrame:
    grade = grade[np.isfinite(grade)]
    rows = []
    for cutoff in cutoffs_ppm:
        above = grade[grade >= cutoff]
        rows.append(
            {
                "cutoff_ppm": float(cutoff),
                "tonnes": len(above) * cell_tonnes,
                "mean_treo_ppm": float(above.mean()) if len(above) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _unit_direction(azimuth_deg: float, dip_deg: float) -> np.ndarray:
    """Down-hole unit vector (x east, y north, z up) for an azimuth clockwise from north and a dip below horizontal."""
    azimuth, dip = np.radians(azimuth_deg), np.radians(dip_deg)
    return np.array([np.sin(azimuth) * np.cos(dip), np.cos(azimuth) * np.cos(dip), -np.sin(dip)])


def propose_holes(
    estimate: BlockEstimate,
    ranking: pd.DataFrame,
    cutoff_ppm: float,
    surface,
    existing_traces: pd.DataFrame,
    min_probability: float = 0.5,
    dips: tuple[float, ...] = (90.0, 75.0, 60.0),
    azimuth_step: float = 30.0,
    covered_within_m: float | None = None,
    beyond_m: float = 20.0,
) -> pd.DataFrame:
    """A proposed drill hole for each ranked zone: collar on the surface, azimuth, dip and length.

    For every zone the hole aims at the zone's core (the probability-weighted centre of its
    cells, moved to the nearest zone cell if the centre falls outside the zone) and, among
    vertical and inclined candidates (``dips`` in degrees below horizontal, azimuths every
    ``azimuth_step`` degrees), takes the one that crosses the most zone cells, the shortest
    on ties. The collar is where the line back from the core meets the surface; the hole
    ends ``beyond_m`` past the last zone cell it crosses. A zone whose core lies within
    ``covered_within_m`` (default: one cell width) of an existing hole is marked covered:
    drilling it again would add little.

    Parameters
    ----------
    estimate : BlockEstimate
    ranking : DataFrame
        From :func:`rank_drill_targets` (same ``cutoff_ppm`` and ``min_probability``).
    surface : object
        Topography with ``elevation(x, y)`` (m), e.g. :class:`afg_core.learn.fusion.Surface`.
    existing_traces : DataFrame
        ``x, y, z`` points along the existing holes (``DrillholeDatabase.traces()``).

    Returns
    -------
    DataFrame
        ``rank, zone, core_x, core_y, core_z, collar_x, collar_y, collar_z, azimuth, dip, length_m,
        zone_cells_crossed, nearest_hole_m, covered`` (m and degrees).
    """
    from scipy.spatial import cKDTree

    block = estimate.block
    labels, _ = zone_labels(estimate, cutoff_ppm, min_probability)
    probability = np.nan_to_num(estimate.probability_above(cutoff_ppm))
    centres = block.cell_centres()
    cell = np.asarray(block.cell_size, dtype=float)
    reach = float(cell[:2].max()) if covered_within_m is None else covered_within_m
    holes = cKDTree(existing_traces[["x", "y", "z"]].to_numpy(dtype=float)) if len(existing_traces) else None
    origin = np.asarray(block.origin) - 0.5 * cell
    step = 0.5 * float(cell.min())
    rows = []
    for row in ranking.itertuples(index=False):
        cells = np.flatnonzero(labels == row.zone)
        weights = probability[cells]
        core = (centres[cells] * weights[:, None]).sum(axis=0) / weights.sum()
        core = centres[cells[np.argmin(np.linalg.norm(centres[cells] - core, axis=1))]]
        best = None
        for dip in dips:
            for azimuth in [0.0] if dip == 90.0 else np.arange(0.0, 360.0, azimuth_step):
                direction = _unit_direction(azimuth, dip)
                # Back up from the core to the first point above the surface (the collar), then down the hole.
                back = np.arange(0.0, 3000.0, step)
                points = core - back[:, None] * direction
                height = points[:, 2] - surface.elevation(points[:, 0], points[:, 1])
                first = int(np.argmax(height >= 0)) if (height >= 0).any() else len(back) - 1
                t_up = float(back[first])
                if first > 0:  # interpolate the crossing: the collar sits on the surface
                    below, above = height[first - 1], height[first]
                    t_up = float(back[first - 1] + step * -below / (above - below))
                collar = core - t_up * direction
                path = collar + np.arange(0.0, t_up + 400.0, step)[:, None] * direction
                index = np.floor((path - origin) / cell).astype(int)
                inside = np.all((index >= 0) & (index < np.asarray(block.shape)), axis=1)
                flat = np.full(len(path), -1)
                flat[inside] = np.ravel_multi_index(index[inside].T, block.shape)
                in_zone = np.zeros(len(path), dtype=bool)
                in_zone[inside] = labels[flat[inside]] == row.zone
                crossed = len(np.unique(flat[in_zone]))
                last = np.flatnonzero(in_zone)[-1] * step if in_zone.any() else t_up
                length = max(last, t_up) + beyond_m
                key = (crossed, -length)
                if best is None or key > best[0]:
                    best = (key, azimuth, dip, collar, length, crossed)
        _, azimuth, dip, collar, length, crossed = best
        nearest = float(holes.query(core)[0]) if holes is not None else np.inf
        rows.append(
            {
                "rank": row.rank,
                "zone": row.zone,
                "core_x": core[0],
                "core_y": core[1],
                "core_z": core[2],
                "collar_x": collar[0],
                "collar_y": collar[1],
                "collar_z": collar[2],
                "azimuth": float(azimuth),
                "dip": float(dip),
                "length_m": float(length),
                "zone_cells_crossed": int(crossed),
                "nearest_hole_m": nearest,
                "covered": bool(nearest <= reach),
            }
        )
    columns = [
        "rank",
        "zone",
        "core_x",
        "core_y",
        "core_z",
        "collar_x",
        "collar_y",
        "collar_z",
        "azimuth",
        "dip",
        "length_m",
        "zone_cells_crossed",
        "nearest_hole_m",
        "covered",
    ]
    return pd.DataFrame(rows, columns=columns)


def propose_holes_for_project(
    project: Project,
    estimate: BlockEstimate,
    ranking: pd.DataFrame,
    cutoff_ppm: float,
    min_probability: float = 0.5,
) -> pd.DataFrame:
    """:func:`propose_holes` for a loaded :class:`afg_core.io.project.Project`: its collars as the
    surface, its hole traces as the existing holes."""
    drillholes = project.drillholes
    return propose_holes(
        estimate,
        ranking,
        cutoff_ppm,
        Surface.from_collars(drillholes.collar),
        drillholes.traces(),
        min_probability,
    )
