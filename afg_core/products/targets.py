"""Drill targets: block estimates of a grade, zones above cut-off, ranking, grade-tonnage.

A grade is an element assayed in ppm (``Ni``, ``La``) or a rare-earth project's TREO (the REE
oxides, Y2O3 included). Grades are log-normal, so a grade is kriged in log space
(:func:`afg_core.transforms.log_grade`) and back-transformed with the log-normal correction
(:func:`afg_core.transforms.lognormal_mean`); the probability of exceeding the cut-off uses the
kriging variance as the spread of the log grade (a Gaussian approximation, stated on the page).
Expected grades are top-cut at the richest assay (:attr:`BlockEstimate.top_cut_ppm`).
Tables name their grade columns after the grade (:func:`grade_columns`: ``mean_ni_ppm``,
``mean_treo_ppm``).
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

from afg_core.errors import InputError
from afg_core.geochem import REE_TARGETS, internal_unit, total_rare_earth_oxides
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
from afg_core.learn.fusion import Surface, target_sum_name
from afg_core.transforms import grade_from_log, log_grade, lognormal_mean

#: Dry bulk density of oxidised-to-fresh BIF, t/m3 (typical 3.0-3.5).
BIF_DENSITY = 3.3

#: Name of the rare-earth sum grade: the REE oxides, Y2O3 included (ppm).
TREO = "TREO"

#: Fewest samples with the grade that a variogram is fitted to and kriged from.
MIN_KRIGING_SAMPLES = 10

#: Sample columns that locate or name a sample rather than measure a grade.
_NOT_GRADES = frozenset({"hole_id", "sample_id", "from", "to", "length", "x", "y", "z"})


@dataclass(frozen=True)
class GradeColumns:
    """Column names of one grade in the tables of drill targets and block exports.

    Lower case, so TREO keeps the names its consumers know (``treo_ppm``, ``mean_treo_ppm``).

    Attributes
    ----------
    ppm : str
        Expected grade of a cell (ppm), e.g. ``ni_ppm``.
    mean : str
        Mean grade of a zone or above a cut-off (ppm), e.g. ``mean_ni_ppm``.
    contained : str
        Metal (or oxide) contained in a zone (t), e.g. ``contained_ni_t``.
    """

    ppm: str
    mean: str
    contained: str


def grade_columns(grade: str) -> GradeColumns:
    """Column names of ``grade`` in the tables of this module and the block exports.

    >>> grade_columns("Ni").mean, grade_columns("TREO").contained
    ('mean_ni_ppm', 'contained_treo_t')
    """
    key = grade.lower()
    return GradeColumns(f"{key}_ppm", f"mean_{key}_ppm", f"contained_{key}_t")


def log_field(grade: str) -> str:
    """Field of a block store holding the kriged log grade (``log_Ni``; its variance adds ``_variance``)."""
    return f"log_{grade}"


def sample_grade(samples: pd.DataFrame, grade: str) -> pd.Series:
    """Grade (ppm) of every sample: an element column, or TREO from the REE columns; NaN where not assayed.

    TREO counts missing rare earths as zero and is NaN only where no rare earth was assayed
    (:func:`afg_core.geochem.total_rare_earth_oxides`).

    Raises
    ------
    InputError
        ``grade`` is not assayed (no such column, or TREO without any REE column), or is a
        major held in wt% rather than ppm.
    """
    if grade == TREO:
        ree = [e for e in REE_TARGETS if e in samples]
        if not ree:
            raise InputError(
                "no rare-earth assays in the project: no TREO",
                column=TREO,
                fix="choose an assayed element as the grade, e.g. Ni",
            )
        return total_rare_earth_oxides(samples[ree])
    if grade not in samples or grade in _NOT_GRADES or grade.endswith("_bdl"):
        raise InputError(
            f"no element '{grade}' in the assays",
            column=grade,
            fix="choose an element column of the assays (or TREO for rare earths) as the grade",
        )
    if internal_unit(grade) != "ppm":
        raise InputError(
            f"{grade} is a major held in wt%; drill targets take grades in ppm",
            column=grade,
            fix="choose a trace element (e.g. Ni, La) or TREO as the grade",
        )
    return samples[grade].astype(float)


def target_grades(project: Project) -> list[str]:
    """Grades a project can be targeted for, headline first.

    TREO when its target elements are rare earths and any rare earth is assayed, then every
    target element held in ppm with at least one assay. Empty when none of them is assayed.
    """
    samples = project.drillholes.samples
    targets = list(project.settings.target_elements)
    grades = []
    if targets and target_sum_name(targets) == TREO and any(e in samples for e in REE_TARGETS):
        grades.append(TREO)
    for element in targets:
        if element in samples and internal_unit(element) == "ppm" and samples[element].notna().any():
            grades.append(element)
    return grades


def default_grade(project: Project) -> str:
    """The headline grade of a project (:func:`target_grades`): TREO for rare earths, else the first target.

    Raises
    ------
    InputError
        None of the project's target elements is assayed.
    """
    grades = target_grades(project)
    if not grades:
        raise InputError(
            f"none of the target elements {list(project.settings.target_elements)} is assayed",
            file="project.toml",
            column="target_elements",
            fix="list assayed elements in target_elements, or name the grade (e.g. --grade Ni)",
        )
    return grades[0]


def starting_cutoff(project: Project, grade: str) -> tuple[float, str]:
    """The cut-off (ppm, wt% for majors) a page starts from for ``grade``, and a note when not project.toml's.

    project.toml's ``[cutoffs]`` (:meth:`~afg_core.io.project.ProjectSettings.cutoff`); for a
    grade with none, the 90th percentile of its assays to two significant figures, so the
    zones shown are the richest tenth until the user sets the cut-off.

    >>> import tempfile
    >>> from afg_core.demo import generate_demo_project
    >>> from afg_core.io.project import load_project
    >>> project = load_project(generate_demo_project(tempfile.mkdtemp(), n_holes=6))
    >>> starting_cutoff(project, "TREO")
    (1000.0, '')
    """
    try:
        return project.settings.cutoff(grade), ""
    except InputError:
        samples = project.drillholes.samples
        if grade != TREO and grade not in samples:
            raise
        # Any assayed grade, a wt% major of a model's volume too (which drill targets refuse).
        values = (sample_grade(samples, grade) if grade == TREO else samples[grade]).dropna()
        value = float(f"{np.percentile(values, 90):.2g}")
        unit = "wt%" if internal_unit(grade) == "pct" else "ppm"
        return value, (
            f"No cut-off for {grade} in project.toml ([cutoffs]): starting at the 90th percentile of its "
            f"assays, {value:,g} {unit}."
        )


@dataclass(frozen=True, eq=False)
class GradeSamples:
    """The samples a grade is kriged from: those with the grade and a position.

    Attributes
    ----------
    grade : str
    coords : numpy.ndarray
        (n, 3) sample positions (m).
    log_values : numpy.ndarray
        (n,) :func:`afg_core.transforms.log_grade` of the grade (ppm).
    hole_ids : numpy.ndarray
        (n,) hole of each sample.
    total : int
        Samples offered, with or without the grade.
    """

    grade: str
    coords: np.ndarray
    log_values: np.ndarray
    hole_ids: np.ndarray
    total: int

    @property
    def used(self) -> int:
        """Samples kept (with the grade and a position)."""
        return len(self.log_values)


def grade_samples(samples: pd.DataFrame, grade: str = TREO) -> GradeSamples:
    """Positions, log grade and hole of every sample with both a ``grade`` assay and a position.

    Raises
    ------
    InputError
        ``grade`` is not assayed (:func:`sample_grade`), or fewer than
        :data:`MIN_KRIGING_SAMPLES` samples have it.
    """
    values = sample_grade(samples, grade).to_numpy(dtype=float)
    coords = samples[["x", "y", "z"]].to_numpy(dtype=float)
    use = np.isfinite(values) & np.isfinite(coords).all(axis=1)
    if use.sum() < MIN_KRIGING_SAMPLES:
        raise InputError(
            f"only {int(use.sum())} samples have {grade} and a position: too few to krige "
            f"(at least {MIN_KRIGING_SAMPLES})",
            column=grade,
            fix="choose a grade assayed in more samples",
        )
    return GradeSamples(
        grade,
        coords[use],
        log_grade(values[use]),
        samples["hole_id"].to_numpy()[use],
        len(samples),
    )


@dataclass(frozen=True, eq=False)
class BlockEstimate:
    """A log grade on a block model: kriged, or a model's predicted volume.

    Attributes
    ----------
    block : BlockModel
    log_estimate, log_variance : numpy.ndarray
        Per cell, in :meth:`BlockModel.cell_centres` order; NaN on masked cells.
    variogram : VariogramModel or None
        Model fitted to the log grade of the samples (None for a model's predicted volume).
    source : str
        What made the estimate (``kriging``, or the model kind of a predicted volume).
    grade : str
        The grade estimated (``TREO``, ``Ni``...), in ppm.
    samples_used, samples_total : int or None
        Samples kriged from (with the grade and a position) out of all samples; None when
        not kriged from samples here (a predicted volume, a block store).
    top_cut_ppm : float
        Highest expected grade (ppm): the richest assay. With a wide log spread the lognormal
        mean runs far above any assay (even past 100 %); grades above it are held at it.
    """

    block: BlockModel
    log_estimate: np.ndarray
    log_variance: np.ndarray
    variogram: VariogramModel | None = None
    source: str = "kriging"
    grade: str = TREO
    samples_used: int | None = None
    samples_total: int | None = None
    top_cut_ppm: float = np.inf

    @property
    def grade_ppm(self) -> np.ndarray:
        """Expected grade (ppm) with the log-normal back-transform, top-cut at :attr:`top_cut_ppm`."""
        return np.minimum(lognormal_mean(self.log_estimate, self.log_variance), self.top_cut_ppm)

    @property
    def samples_note(self) -> str:
        """How many samples the estimate was kriged from, as a sentence (empty when not kriged here)."""
        if self.samples_used is None:
            return ""
        note = f"{self.grade} kriged from {self.samples_used:,} of {self.samples_total:,} samples"
        if self.samples_used < (self.samples_total or 0):
            note += f" (the others have no {self.grade} assay or no position)"
        return note + "."

    def probability_above(self, cutoff_ppm: float) -> np.ndarray:
        """P(grade > cut-off) per cell."""
        sd = np.sqrt(np.maximum(self.log_variance, 1e-12))
        return ndtr((self.log_estimate - log_grade(cutoff_ppm)) / sd)


def estimate_grade_blocks(
    samples: pd.DataFrame,
    grade: str = TREO,
    cell_size: tuple[float, float, float] = (50.0, 50.0, 10.0),
    neighbours: int = 24,
    max_per_hole: int = 8,
    max_distance: float = 150.0,
    max_cells: int = MAX_BLOCK_CELLS,
    client=None,
) -> BlockEstimate:
    """Krige the log of ``grade`` (ppm) of the samples onto a block model over their extent.

    ``grade`` is an element column of the samples or ``TREO`` (:func:`sample_grade`); samples
    without it (NaN) or without a position are left out, and the counts kept are
    ``result.samples_used`` of ``result.samples_total``. ``client``: a ``distributed.Client``
    (:func:`afg_core.geostat.cluster.dask_client`) to krige the block model's tiles on a Dask
    cluster; None kriges in this process.

    Cells farther than ``max_distance`` (m), or than one and a half cell widths when cells
    had to be widened to stay within ``max_cells``, from any sample are masked, not
    extrapolated. The cell size used is ``result.block.cell_size``.

    Raises
    ------
    InputError
        ``grade`` is not assayed, or too few samples have it (:func:`grade_samples`).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> samples = pd.DataFrame({"hole_id": np.repeat(["A", "B", "C", "D"], 10),
    ...     "x": np.repeat([0.0, 100.0, 0.0, 100.0], 10), "y": np.repeat([0.0, 0.0, 100.0, 100.0], 10),
    ...     "z": np.tile(-np.arange(10.0) * 5, 4), "Ni": rng.lognormal(7.0, 0.5, 40)})
    >>> samples.loc[:4, "Ni"] = np.nan
    >>> estimate = estimate_grade_blocks(samples, "Ni", cell_size=(50.0, 50.0, 10.0))
    >>> estimate.grade, estimate.samples_used, estimate.samples_total
    ('Ni', 35, 40)
    """
    kept = grade_samples(samples, grade)
    coords, values, holes = kept.coords, kept.log_values, kept.hole_ids
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
    return BlockEstimate(
        kriged.block,
        kriged.estimate.ravel(),
        kriged.variance.ravel(),
        model,
        "kriging",
        grade,
        kept.used,
        kept.total,
        float(grade_from_log(kept.log_values.max())),
    )


def krige_grade_to_store(
    samples: pd.DataFrame,
    path: str | Path,
    grade: str = TREO,
    cell_size: tuple[float, float, float] = (10.0, 10.0, 5.0),
    neighbours: int = 24,
    max_per_hole: int = 8,
    max_distance: float = 150.0,
    client=None,
    progress: Callable[[float], None] | None = None,
) -> BlockStore:
    """Krige the log of ``grade`` (ppm) onto a block model of any size, held chunk by chunk in a zarr store.

    The out-of-core counterpart of :func:`estimate_grade_blocks` (same samples, variogram
    recipe, search and masking, no cap on the number of cells): fields ``log_<grade>`` (log
    ppm, :func:`log_field`) and ``log_<grade>_variance`` are written by chunk, in this process
    or on the Dask cluster of ``client``, so the model may be larger than any one machine's
    memory. Read it back with :func:`estimate_from_store`, :meth:`BlockStore.cells_above` or
    the streamed exports.

    Raises
    ------
    InputError
        ``grade`` is not assayed, or too few samples have it (:func:`grade_samples`).
    """
    kept = grade_samples(samples, grade)
    coords, values, holes = kept.coords, kept.log_values, kept.hole_ids
    model = auto_variogram(coords, values).model
    block = block_model_from_extent(coords, cell_size, padding=(cell_size[0], cell_size[1], 0.0))
    name = log_field(grade)
    store = BlockStore.create(path, block, [name, f"{name}{VARIANCE_SUFFIX}"])
    search = SearchNeighbourhood(max_samples=neighbours, max_per_hole=max_per_hole)
    krige_block_model_to_store(
        store, coords, values, model, [name], search, holes, max_distance, client, progress
    )
    store.record(name, top_cut_ppm=float(grade_from_log(values.max())))
    return store


def estimate_from_store(
    store: BlockStore, grade: str = TREO, max_cells: int = MAX_BLOCK_CELLS
) -> BlockEstimate:
    """The log ``grade`` of a block store as a :class:`BlockEstimate`, averaged to at most ``max_cells`` cells.

    The decimation factor is the smallest that fits (1 when the model already does); log
    estimates and variances are averaged over the fine cells of a coarse cell, which keeps
    the point-support spread, so P(> cut-off) of a coarse cell stays on the cautious side.

    Raises
    ------
    ValueError
        The store holds no ``log_<grade>`` field (:func:`log_field`).
    """
    name = log_field(grade)
    if name not in store.names:
        raise ValueError(
            f"{store.path} holds {list(store.names)}, not {name} (write it with `afg_core krige --grade {grade}`)"
        )
    factor = max(1, int(np.ceil((store.block.n_cells / max_cells) ** (1 / 3))))
    while np.prod([max(n // factor, 1) for n in store.block.shape]) > max_cells:
        factor += 1
    coarse, fields = store.decimated([name, f"{name}{VARIANCE_SUFFIX}"], factor)
    return BlockEstimate(
        coarse,
        fields[name].ravel(),
        fields[f"{name}{VARIANCE_SUFFIX}"].ravel(),
        None,
        "kriging",
        grade,
        top_cut_ppm=store.field_facts(name).get("top_cut_ppm", np.inf),
    )


def estimate_from_volume(volume: PredictedVolume, grade: str = TREO) -> BlockEstimate:
    """A model's predicted volume as a block estimate of ``grade``, for ranking and grade-tonnage.

    The log mean and the log spread of the ensemble (plus the model's residual variance)
    play the parts of the kriged log estimate and the kriging variance.
    """
    if grade not in volume.log_mean:
        raise KeyError(f"the predicted volume has no {grade}; it has {sorted(volume.log_mean)}")
    return BlockEstimate(
        volume.block,
        volume.log_mean[grade],
        volume.log_sd[grade] ** 2,
        None,
        volume.model,
        grade,
        top_cut_ppm=volume.top_cut.get(grade, np.inf),
    )


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

    A zone is a face-connected set of cells with P(grade > cut-off) >= ``min_probability``
    (the grade of ``estimate``, ppm). The score is the contained grade (t of metal, or of
    oxides for TREO) times the zone's mean probability, so large, likely zones come first;
    ``distance_to_data_m`` shows how far the zone's best cell lies from the nearest assay
    (far = less proven, more to learn by drilling).

    Returns
    -------
    DataFrame
        One row per zone, best first: ``rank, zone`` (label of :func:`zone_labels`), ``cells, tonnes,
        mean_<grade>_ppm, contained_<grade>_t`` (:func:`grade_columns`, e.g. ``mean_ni_ppm``),
        ``mean_probability, mean_log_sd, distance_to_data_m, target_x, target_y, target_z``
        (target = the zone's highest-grade cell), ``score``.
    """
    block = estimate.block
    probability = estimate.probability_above(cutoff_ppm)
    flat_labels, n_zones = zone_labels(estimate, cutoff_ppm, min_probability)
    grade = estimate.grade_ppm
    names = grade_columns(estimate.grade)
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
                names.mean: float(grade[cells].mean()),
                names.contained: float((grade[cells] * 1e-6).sum() * cell_tonnes),
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
            names.mean,
            names.contained,
            "mean_probability",
            "mean_log_sd",
            "distance_to_data_m",
            "target_x",
            "target_y",
            "target_z",
        ],
    )
    table["score"] = table[names.contained] * table["mean_probability"]
    table = table.sort_values("score", ascending=False).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def grade_tonnage(
    estimate: BlockEstimate, cutoffs_ppm: np.ndarray, density_t_m3: float = BIF_DENSITY
) -> pd.DataFrame:
    """Tonnes and mean grade above each cut-off (ppm) over the estimated cells.

    Returns
    -------
    DataFrame
        ``cutoff_ppm, tonnes, mean_<grade>_ppm`` (:func:`grade_columns` of ``estimate.grade``).
    """
    cell_tonnes = float(np.prod(estimate.block.cell_size)) * density_t_m3
    return _grade_tonnage(estimate.grade_ppm, cutoffs_ppm, cell_tonnes, grade_columns(estimate.grade).mean)


def grade_tonnage_band(
    volume: PredictedVolume, cutoffs_ppm: np.ndarray, grade: str = TREO, density_t_m3: float = BIF_DENSITY
) -> pd.DataFrame:
    """The spread of the grade-tonnage curve over the members of a predicted volume's ensemble.

    Each member's log grade (:attr:`PredictedVolume.member_log`) is back-transformed
    (:func:`afg_core.transforms.grade_from_log`) and gives its own curve; the band is the
    lowest and highest of them at each cut-off (with 5 members, about a 67 % range).

    Returns
    -------
    DataFrame
        ``cutoff_ppm, tonnes_low, tonnes_high, mean_low, mean_high`` (t and ppm of ``grade``).

    Raises
    ------
    KeyError
        When the volume kept no member grades for ``grade``.
    """
    if grade not in volume.member_log:
        raise KeyError(f"the predicted volume kept member grades of {sorted(volume.member_log)}, not {grade}")
    cell_tonnes = float(np.prod(volume.block.cell_size)) * density_t_m3
    curves = [
        _grade_tonnage(grade_from_log(member.astype(float)), cutoffs_ppm, cell_tonnes, "mean")
        for member in volume.member_log[grade]
    ]
    tonnes = np.column_stack([c["tonnes"] for c in curves])
    means = np.column_stack([c["mean"] for c in curves])
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


def _grade_tonnage(grade: np.ndarray, cutoffs_ppm: np.ndarray, cell_tonnes: float, mean: str) -> pd.DataFrame:
    grade = grade[np.isfinite(grade)]
    rows = []
    for cutoff in cutoffs_ppm:
        above = grade[grade >= cutoff]
        rows.append(
            {
                "cutoff_ppm": float(cutoff),
                "tonnes": len(above) * cell_tonnes,
                mean: float(above.mean()) if len(above) else np.nan,
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
