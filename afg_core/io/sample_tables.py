"""Flat sample tables (``samples.csv``): one located sample per row, no desurvey needed.

For surface geochemistry (soils, laterites, rock chips) and for drill samples that
were desurveyed elsewhere. Columns: x, y (m) or longitude/latitude (degrees,
projected on reading); optional z (m; 0 when absent, reported); optional hole id
(samples of one hole or site share it; otherwise each row is its own site, named by
its sample id or row); optional from/to (m); element columns as in assay tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.io.assay_columns import LabSettings, read_element_columns
from afg_core.io.columns import TABLE_ROLES, recognise_columns
from afg_core.io.coordinates import table_xy
from afg_core.io.csvtable import drop_rows, numeric_cells, read_csv_text
from afg_core.io.drillholes import DrillholeDatabase, flag_heavy_losses, require_rows
from afg_core.io.validation import Finding, ValidationReport


def load_sample_table(
    path: Path,
    *,
    column_map: dict[str, str] | None = None,
    lab: LabSettings | None = None,
    crs: str = "",
    length_factor: float = 1.0,
) -> tuple[DrillholeDatabase, ValidationReport, str]:
    """Read a flat sample table into a :class:`DrillholeDatabase` whose samples carry x, y, z.

    Parameters
    ----------
    path : Path
        The CSV file.
    column_map : dict, optional
        Role -> header overrides (project.toml ``[columns]``).
    lab : LabSettings, optional
        Units and below-detection rules.
    crs : str
        Project CRS (for longitude/latitude); empty to choose the data's UTM zone.
    length_factor : float
        Metres per unit of from/to (0.3048 for feet).

    Returns
    -------
    database : DrillholeDatabase
        ``collar``: one row per hole or site (its highest sample, depth 0); ``survey``
        empty; ``assay``: ``hole_id, from, to, x, y, z`` + elements + ``<element>_bdl``.
    report : ValidationReport
    crs : str
        CRS of x, y ("" when x/y columns were given and no CRS declared).

    Raises
    ------
    InputError
        When the file is unreadable, has no coordinate columns, or no usable row.
    """
    report = ValidationReport()
    raw = read_csv_text(path)
    file = path.name
    roles = recognise_columns(list(raw.columns), TABLE_ROLES["samples"], file, column_map)
    report.account(file, len(raw), len(raw))
    report.column_roles[file] = dict(roles)
    frame = pd.DataFrame(index=raw.index)
    frame, crs = table_xy(frame, raw, roles, file, report, crs)
    if "z" in roles:
        frame["z"] = numeric_cells(raw.loc[frame.index], roles["z"])
        frame = drop_rows(
            frame,
            frame["z"].isna().to_numpy(),
            report,
            file,
            "z missing or not a number: row dropped",
            column=roles["z"],
            values=raw.loc[frame.index, roles["z"]],
            fix="enter the elevation (m)",
        )
    else:
        frame["z"] = 0.0
        report.add(Finding(file, "no elevation column: samples placed at z = 0 m (surface data)", "info"))
    frame["hole_id"] = _site_ids(raw.loc[frame.index], roles, report, file)
    for role in ("from", "to"):
        frame[role] = (
            numeric_cells(raw.loc[frame.index], roles[role]) * length_factor if role in roles else np.nan
        )
    if "from" in roles and "to" in roles:
        frame = drop_rows(
            frame,
            (frame["from"] >= frame["to"]).to_numpy(),
            report,
            file,
            "interval 'from' is not less than 'to': row dropped",
            column=roles["from"],
            values=raw.loc[frame.index, roles["from"]],
            fix="swap or correct the depths",
        )
    require_rows(frame, file, report)
    parsed = read_element_columns(
        raw.loc[frame.index], set(roles.values()), file, report, lab or LabSettings()
    )
    report.values_altered[file] += parsed.altered
    if not parsed.elements:
        report.add(
            Finding(
                file,
                "no element column recognised: nothing to model",
                "error",
                fix="name element columns like Fe_pct or La_ppm, or declare them in project.toml [units]",
            )
        )
    assay = pd.concat([frame[["hole_id", "from", "to", "x", "y", "z"]], parsed.values], axis=1)
    top = assay.sort_values("z", ascending=False, kind="stable").drop_duplicates("hole_id")
    collar = top[["hole_id", "x", "y", "z"]].assign(depth=0.0).sort_index().reset_index(drop=True)
    survey = pd.DataFrame(
        {
            "hole_id": pd.Series(dtype=object),
            "depth": pd.Series(dtype=float),
            "azimuth": pd.Series(dtype=float),
            "dip": pd.Series(dtype=float),
        }
    )
    flag_heavy_losses(report)
    database = DrillholeDatabase(
        collar, survey, assay.reset_index(drop=True), parsed.elements, units_in_file=parsed.units_in_file
    )
    return database, report, crs


def _site_ids(raw: pd.DataFrame, roles: dict[str, str], report: ValidationReport, file: str) -> np.ndarray:
    """Hole id, else sample id, else ``row N``: what groups samples into holes or sites."""
    for role in ("hole_id", "sample_id"):
        if role in roles:
            ids = raw[roles[role]].to_numpy(dtype=object)
            empty = ids == ""
            ids[empty] = [f"row {i + 1}" for i in raw.index[empty]]
            if role == "sample_id":
                report.add(
                    Finding(
                        file,
                        f"no hole id column: each sample is its own site, named by {roles[role]}",
                        "info",
                    )
                )
            return ids
    report.add(Finding(file, "no hole or sample id column: each row is its own site, named 'row N'", "info"))
    return np.array([f"row {i + 1}" for i in raw.index], dtype=object)
