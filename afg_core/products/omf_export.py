"""Drill holes, block models and drill targets in one Open Mining Format file (``.omf``, OMF 1.0).

Leapfrog, Deswik, Micromine and other mining packages open OMF; so do ``omf.OMFReader`` and
``omfvista``. Every element is in the project's coordinates (m, the project CRS, stated in
the project description), with no offset:

- ``drill holes``: a line set, one segment per assay interval (from its ``from`` to its ``to``
  depth along the desurveyed hole), with the hole id, the depths and every element (and TREO
  for REE assays) per segment. A flat sample table, whose rows carry only a point, is written
  as the point set ``samples`` instead.
- block models: volume elements (regular grids) named after their source and grade (``kriged Ni
  blocks``); cell arrays as in the VTK exports
  (:func:`afg_core.products.exports.estimate_cell_arrays`, ``volume_cell_arrays``), NaN where
  not estimated.
- ``drill targets``: a point set at each zone's target (its highest-grade cell) with the
  ranking's numbers (rank, tonnes, mean grade, probability, score...).
- ``proposed holes``: a line set, one segment per hole from the collar to the end of hole,
  with rank, azimuth, dip, length and whether an existing hole already covers the zone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.geochem import REE_TARGETS, total_rare_earth_oxides
from afg_core.geostat.blockmodel import BlockModel
from afg_core.io.drillholes import DrillholeDatabase
from afg_core.learn.experiment import PredictedVolume
from afg_core.products.exports import estimate_cell_arrays, volume_cell_arrays
from afg_core.products.targets import BlockEstimate, _unit_direction

#: Ranking columns that place a target rather than describe it.
_TARGET_XYZ = ["target_x", "target_y", "target_z"]


def write_omf(
    path: str | Path,
    *,
    drillholes: DrillholeDatabase | None = None,
    estimate: BlockEstimate | None = None,
    cutoff_ppm: float | None = None,
    volume: PredictedVolume | None = None,
    targets: pd.DataFrame | None = None,
    proposed_holes: pd.DataFrame | None = None,
    name: str = "AFG project",
    crs: str = "",
) -> Path:
    """Write what is given as one OMF 1.0 project file.

    Parameters
    ----------
    path : str or Path
        The ``.omf`` file written (overwritten if present).
    drillholes : DrillholeDatabase, optional
        Assay intervals, desurveyed into segments (m).
    estimate : BlockEstimate, optional
        Kriged (or model) block model of one grade: cells ``<grade>_ppm`` (``ni_ppm``), ``log_sd``,
        ``p_above``; the element is named ``kriged <grade> blocks`` (or ``<model> <grade> blocks``).
    cutoff_ppm : float, optional
        Cut-off (ppm) of the estimate's grade for ``p_above``; needed with ``estimate``.
    volume : PredictedVolume, optional
        A model's predicted volume: cells ``<grade>_ppm``, ``<grade>_log_sd``, ``<grade>_p_above``.
    targets : DataFrame, optional
        :func:`afg_core.products.targets.rank_drill_targets` output (left out when it has no rows).
    proposed_holes : DataFrame, optional
        :func:`afg_core.products.targets.propose_holes` output (left out when it has no rows).
    name : str
        Project name shown by the reading software.
    crs : str
        Project CRS (e.g. ``EPSG:28350``), written into the project description.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        Nothing to write, or ``estimate`` without ``cutoff_ppm``.
    """
    import omf

    if estimate is not None and cutoff_ppm is None:
        raise ValueError("write_omf needs cutoff_ppm with an estimate (for p_above)")
    elements = []
    if drillholes is not None:
        elements.append(_drillholes_element(omf, drillholes))
    if estimate is not None:
        grade = estimate.grade
        made_by = "kriged" if estimate.source == "kriging" else estimate.source
        elements.append(
            _volume_element(
                omf,
                f"{made_by} {grade} blocks",
                estimate.block,
                estimate_cell_arrays(estimate, cutoff_ppm),
                f"{grade} (ppm) from {estimate.source}; p_above = P({grade} > {cutoff_ppm:g} ppm)",
            )
        )
    if volume is not None:
        cutoffs = ", ".join(f"{grade} {value:g}" for grade, value in volume.cutoffs.items())
        elements.append(
            _volume_element(
                omf,
                f"{volume.model} predicted blocks",
                volume.block,
                volume_cell_arrays(volume),
                f"{volume.model} ensemble of {volume.members}; cut-offs (ppm): {cutoffs or 'none'}",
            )
        )
    # OMF has no empty point or line set: a table without rows is left out.
    if targets is not None and len(targets):
        elements.append(_targets_element(omf, targets))
    if proposed_holes is not None and len(proposed_holes):
        elements.append(_proposed_holes_element(omf, proposed_holes))
    if not elements:
        raise ValueError("write_omf was given nothing to write")
    where = f"CRS {crs}" if crs else "the project's coordinate system"
    project = omf.Project(
        name=name,
        description=f"Written by AFG. Coordinates in metres, {where}.",
        units="m",
        elements=elements,
    )
    project.validate()
    path = Path(path)
    omf.OMFWriter(project, str(path))
    return path


def _scalar(omf, name: str, values, location: str):
    return omf.ScalarData(name=name, array=np.asarray(values, dtype=float), location=location)


def _drillholes_element(omf, drillholes: DrillholeDatabase):
    samples = drillholes.samples
    columns = list(drillholes.elements)
    ree = [e for e in REE_TARGETS if e in samples]
    grades = samples[columns].astype(float)
    if ree:
        grades = grades.assign(TREO=total_rare_earth_oxides(samples[ree]))
    if drillholes.positions_given:
        # A flat sample table locates each sample by one point: there is no interval to draw.
        keep = samples[["x", "y", "z"]].notna().all(axis=1).to_numpy()
        data = [omf.StringData(name="hole_id", array=samples.loc[keep, "hole_id"].astype(str).tolist())]
        data += [_scalar(omf, c, grades.loc[keep, c], "vertices") for c in grades]
        return omf.PointSetElement(
            name="samples",
            description="Assay samples (flat sample table: one point each)",
            geometry=omf.PointSetGeometry(vertices=samples.loc[keep, ["x", "y", "z"]].to_numpy(float)),
            data=data,
        )
    top = drillholes.positions(samples["hole_id"], samples["from"])
    bottom = drillholes.positions(samples["hole_id"], samples["to"])
    keep = np.isfinite(top).all(axis=1) & np.isfinite(bottom).all(axis=1)
    n = int(keep.sum())
    vertices = np.empty((2 * n, 3))
    vertices[0::2], vertices[1::2] = top[keep], bottom[keep]
    kept = samples.loc[keep]
    data = [
        omf.StringData(name="hole_id", array=kept["hole_id"].astype(str).tolist(), location="segments"),
        _scalar(omf, "from", kept["from"], "segments"),
        _scalar(omf, "to", kept["to"], "segments"),
    ]
    data += [_scalar(omf, c, grades.loc[keep, c], "segments") for c in grades]
    return omf.LineSetElement(
        name="drill holes",
        subtype="line",
        description="Assay intervals along the desurveyed holes (one segment each); grades in ppm, majors wt%",
        geometry=omf.LineSetGeometry(vertices=vertices, segments=np.arange(2 * n).reshape(n, 2)),
        data=data,
    )


def _volume_element(omf, name: str, block: BlockModel, arrays: dict[str, np.ndarray], description: str):
    # OMF 1 orders volume cells with w (z) fastest and u (x) slowest (as discretize and omfvista
    # read them): the C order of BlockModel.cell_centres, so the flat arrays go in unchanged.
    (nx, ny, nz), (dx, dy, dz) = block.shape, block.cell_size
    geometry = omf.VolumeGridGeometry(
        tensor_u=np.full(nx, dx),
        tensor_v=np.full(ny, dy),
        tensor_w=np.full(nz, dz),
        origin=np.asarray(block.origin) - 0.5 * np.asarray(block.cell_size),
    )
    data = [_scalar(omf, key, values, "cells") for key, values in arrays.items()]
    return omf.VolumeElement(name=name, description=description, geometry=geometry, data=data)


def _targets_element(omf, targets: pd.DataFrame):
    numbers = [c for c in targets.select_dtypes("number").columns if c not in _TARGET_XYZ]
    return omf.PointSetElement(
        name="drill targets",
        description="Ranked target zones, one point at each zone's highest-grade cell",
        geometry=omf.PointSetGeometry(vertices=targets[_TARGET_XYZ].to_numpy(float).reshape(-1, 3)),
        data=[_scalar(omf, c, targets[c], "vertices") for c in numbers],
    )


def proposed_hole_ends(holes: pd.DataFrame) -> np.ndarray:
    """End of hole (m) of each proposed hole: ``length_m`` from the collar along azimuth and dip, (n, 3)."""
    collars = holes[["collar_x", "collar_y", "collar_z"]].to_numpy(float).reshape(-1, 3)
    directions = np.array(
        [_unit_direction(a, d) for a, d in zip(holes["azimuth"], holes["dip"])], dtype=float
    ).reshape(-1, 3)
    return collars + holes["length_m"].to_numpy(float)[:, None] * directions


def _proposed_holes_element(omf, holes: pd.DataFrame):
    n = len(holes)
    vertices = np.empty((2 * n, 3))
    vertices[0::2] = holes[["collar_x", "collar_y", "collar_z"]].to_numpy(float).reshape(-1, 3)
    vertices[1::2] = proposed_hole_ends(holes)
    columns = [
        "rank",
        "zone",
        "azimuth",
        "dip",
        "length_m",
        "zone_cells_crossed",
        "nearest_hole_m",
        "covered",
    ]
    return omf.LineSetElement(
        name="proposed holes",
        subtype="line",
        description="Proposed drill holes, collar to end of hole; azimuth and dip in degrees, dip below horizontal",
        geometry=omf.LineSetGeometry(vertices=vertices, segments=np.arange(2 * n).reshape(n, 2)),
        data=[_scalar(omf, c, holes[c], "segments") for c in columns],
    )
