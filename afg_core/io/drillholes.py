"""Drill-hole databases: collar, survey and interval tables, checks, desurvey, sample positions.

Column headers of the common conventions are recognised without any mapping
(:mod:`afg_core.columns`). Inside afg_core depths are metres along the hole,
coordinates metres in the project CRS, and dips are negative downwards (-90 =
vertical down). Every row read is accounted for in the :class:`ValidationReport`:
kept, or dropped with a finding naming the file, row, column and value.

Severity policy
---------------
* ``InputError`` (fatal, nothing loads): a file is unreadable, a required column is
  missing or ambiguous, or a required table has no usable row.
* ``error`` finding (loads, but the report says NOT usable): more than half of a
  file's rows had to be dropped (most likely a wrong mapping, unit or convention),
  or the assay table has no element column.
* ``warning`` finding: a row dropped or a value altered for a reason the user should
  fix (from >= to, overlap, NaN coordinate, dip out of range, orphan rows ...); the
  rest of the project stays usable, because one bad row should not hide 40,000 good ones.
* ``info`` finding: an assumption or a fact with nothing lost (gaps between samples,
  collars without assays, defaults applied).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.errors import InputError
from afg_core.io.assay_columns import LabSettings, read_element_columns
from afg_core.io.columns import TABLE_ROLES, recognise_columns
from afg_core.io.compositing import composite_intervals
from afg_core.io.coordinates import table_xy
from afg_core.io.csvtable import drop_rows, numeric_cells, read_csv_text, report_rows
from afg_core.io.desurvey import desurvey_holes
from afg_core.io.validation import Finding, ValidationReport

FEET_TO_METRES = 0.3048
#: Depth tolerance (m) for "beyond the hole depth", overlaps and gaps: rounding in lab exports.
DEPTH_TOLERANCE = 0.01


@dataclass
class DesurveySettings:
    """How depths and directions are read (project.toml top level and ``[desurvey]``).

    Attributes
    ----------
    length_unit : {"m", "ft"}
        Unit of depths in the files.
    dip_convention : {"auto", "negative_down", "positive_down"}
        ``auto``: positive down when every dip in the files is >= 0 and one is > 0
        (reported), negative down otherwise.
    unsurveyed_azimuth, unsurveyed_dip : float or None
        Direction (degrees; dip in the file convention) of holes with neither survey
        stations nor a collar azimuth/dip. None: vertical (azimuth 0, dip -90).
    """

    length_unit: str = "m"
    dip_convention: str = "auto"
    unsurveyed_azimuth: float | None = None
    unsurveyed_dip: float | None = None

    @property
    def length_factor(self) -> float:
        """Metres per file length unit."""
        if self.length_unit not in ("m", "ft"):
            raise InputError(
                f"unknown length unit '{self.length_unit}'",
                file="project.toml",
                column="length_unit",
                fix="use 'm' or 'ft'",
            )
        return FEET_TO_METRES if self.length_unit == "ft" else 1.0


@dataclass
class DrillholeDatabase:
    """Collar, survey and interval tables with canonical columns, in metres.

    Attributes
    ----------
    collar : DataFrame
        ``hole_id, x, y, z, depth`` (m) plus ``azimuth, dip`` (degrees) when given.
    survey : DataFrame
        ``hole_id, depth, azimuth, dip``; depth m along hole, dip negative down.
    assay : DataFrame
        ``hole_id, from, to`` (m) + one column per element in its internal unit
        (majors wt%, others ppm) + ``<element>_bdl`` booleans (below detection,
        substituted by a fraction of the detection limit). Tables read from a flat
        sample file carry ``x, y, z`` (m) already.
    elements : list of str
        Element columns of ``assay``.
    lithology : DataFrame or None
        ``hole_id, from, to, lith``.
    units_in_file : dict
        Element -> unit the file used.
    unsurveyed_direction : tuple of float
        (azimuth, dip) in degrees, negative down, of holes with no survey and no
        collar orientation.
    """

    collar: pd.DataFrame
    survey: pd.DataFrame
    assay: pd.DataFrame
    elements: list[str]
    lithology: pd.DataFrame | None = None
    units_in_file: dict[str, str] = field(default_factory=dict)
    unsurveyed_direction: tuple[float, float] = (0.0, -90.0)

    @property
    def positions_given(self) -> bool:
        """True for flat sample tables, whose rows carry their own x, y, z."""
        return {"x", "y", "z"} <= set(self.assay.columns)

    @cached_property
    def _stations(self) -> pd.DataFrame:
        """Survey stations of every collar: the survey, else collar orientation, else the default."""
        surveyed = set(self.survey["hole_id"])
        missing = self.collar.loc[~self.collar["hole_id"].isin(surveyed)]
        azimuth, dip = self.unsurveyed_direction
        if {"azimuth", "dip"} <= set(missing.columns):
            oriented = missing["azimuth"].notna() & missing["dip"].notna()
            az = np.where(oriented, missing["azimuth"], azimuth)
            dp = np.where(oriented, missing["dip"], dip)
        else:
            az, dp = np.full(len(missing), azimuth), np.full(len(missing), dip)
        implied = pd.DataFrame(
            {"hole_id": missing["hole_id"].to_numpy(), "depth": 0.0, "azimuth": az, "dip": dp}
        )
        stations = pd.concat(
            [self.survey[["hole_id", "depth", "azimuth", "dip"]], implied], ignore_index=True
        )
        return stations.loc[stations["hole_id"].isin(self.collar["hole_id"])]

    def positions(self, hole_ids: np.ndarray | pd.Series, depths: np.ndarray | pd.Series) -> np.ndarray:
        """3D positions (m) of points given by hole id and depth along the hole (m).

        Returns
        -------
        numpy.ndarray, shape (n, 3)
            NaN for hole ids that have no collar.
        """
        holes = pd.Index(self.collar["hole_id"])
        point_hole = holes.get_indexer(np.asarray(hole_ids, dtype=object))
        known = point_hole >= 0
        out = np.full((len(point_hole), 3), np.nan)
        if not known.any():
            return out
        stations = self._stations
        out[known] = desurvey_holes(
            self.collar[["x", "y", "z"]].to_numpy(float),
            holes.get_indexer(stations["hole_id"]),
            stations["depth"].to_numpy(float),
            stations["azimuth"].to_numpy(float),
            stations["dip"].to_numpy(float),
            point_hole[known],
            np.asarray(depths, dtype=float)[known],
        )
        return out

    def positions_along(self, hole_id: str, depths: np.ndarray) -> np.ndarray:
        """3D positions (m) of points at ``depths`` (m along hole) of one hole."""
        depths = np.asarray(depths, dtype=float)
        return self.positions(np.full(len(depths), hole_id, dtype=object), depths)

    @cached_property
    def samples(self) -> pd.DataFrame:
        """Assay intervals with the 3D position of each interval midpoint (m) and ``length`` (m)."""
        samples = self.assay.copy()
        samples["length"] = samples["to"] - samples["from"]
        if not self.positions_given:
            midpoints = 0.5 * (samples["from"] + samples["to"])
            samples["x"], samples["y"], samples["z"] = self.positions(samples["hole_id"], midpoints).T
        if self.lithology is not None:
            samples["lith"] = lithology_at(
                self.lithology, samples["hole_id"], 0.5 * (samples["from"] + samples["to"])
            )
        return samples

    def composites(self, length: float, min_residual: float = 0.5, min_coverage: float = 0.5) -> pd.DataFrame:
        """Assays composited to ``length`` m (see :mod:`afg_core.compositing`) with midpoint x, y, z (m)."""
        if self.positions_given:
            raise ValueError("a flat sample table has no intervals to composite")
        table = composite_intervals(
            self.assay, self.elements, length, min_residual=min_residual, min_coverage=min_coverage
        )
        table["x"], table["y"], table["z"] = self.positions(
            table["hole_id"], 0.5 * (table["from"] + table["to"])
        ).T
        return table

    def traces(self, step: float = 5.0) -> pd.DataFrame:
        """Hole paths sampled every ``step`` metres: ``hole_id, depth, x, y, z``.

        For flat sample tables, the samples themselves (by hole id, top down).
        """
        if self.positions_given:
            points = self.assay[["hole_id", "x", "y", "z"]].sort_values(
                ["hole_id", "z"], ascending=[True, False]
            )
            return points.assign(depth=np.nan)[["hole_id", "depth", "x", "y", "z"]].reset_index(drop=True)
        depth = self.collar["depth"].to_numpy(float)
        counts = np.ceil(depth / step).astype(int) + 1
        hole = np.repeat(np.arange(len(depth)), counts)
        index = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        depths = np.minimum(index * step, depth[hole])
        ids = self.collar["hole_id"].to_numpy()[hole]
        xyz = self.positions(ids, depths)
        return pd.DataFrame({"hole_id": ids, "depth": depths, "x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2]})


def lithology_at(lithology: pd.DataFrame, hole_ids: pd.Series, depths: pd.Series) -> pd.Series:
    """Lithology code of the interval containing each (hole, depth); NA where none does."""
    logged = lithology.sort_values(["hole_id", "from"])
    holes = pd.Index(pd.unique(logged["hole_id"]))
    span = (
        2
        * max(float(np.nanmax(np.abs(logged["to"]), initial=0)), float(np.nanmax(np.abs(depths), initial=0)))
        + 1
    )
    key = holes.get_indexer(logged["hole_id"]) * span + logged["from"].to_numpy(float)
    point_hole = holes.get_indexer(hole_ids)
    d = np.asarray(depths, dtype=float)
    k = np.searchsorted(key, point_hole * span + d, side="right") - 1
    kc = np.clip(k, 0, None)
    inside = (
        (point_hole >= 0)
        & (k >= 0)
        & (holes.get_indexer(logged["hole_id"])[kc] == point_hole)
        & (d < logged["to"].to_numpy(float)[kc])
    )
    codes = logged["lith"].to_numpy(dtype=object)[kc]
    return pd.Series(np.where(inside, codes, pd.NA), index=hole_ids.index, dtype="string")


# --------------------------------------------------------------------------- readers


def _start(
    path: Path, report: ValidationReport, table: str, column_map: dict[str, str] | None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read a table, recognise its columns and open its row accounting."""
    raw = read_csv_text(path)
    roles = recognise_columns(list(raw.columns), TABLE_ROLES[table], path.name, column_map)
    report.account(path.name, len(raw), len(raw))
    report.column_roles[path.name] = dict(roles)
    return raw, roles


def _drop_missing_hole_ids(
    frame: pd.DataFrame, raw: pd.DataFrame, roles: dict[str, str], report: ValidationReport, file: str
) -> pd.DataFrame:
    return drop_rows(
        frame,
        (frame["hole_id"] == "").to_numpy(),
        report,
        file,
        "no hole id: row dropped",
        column=roles["hole_id"],
        values=raw.loc[frame.index, roles["hole_id"]],
        fix="fill in the hole id",
    )


def _drop_non_numeric(
    frame: pd.DataFrame,
    raw: pd.DataFrame,
    roles: dict[str, str],
    role: str,
    what: str,
    report: ValidationReport,
    file: str,
) -> pd.DataFrame:
    """Drop rows whose ``role`` cell is empty or not a number."""
    column = roles[role]
    text = raw.loc[frame.index, column]
    missing = frame[role].isna().to_numpy()
    frame = drop_rows(
        frame,
        missing & (text != "").to_numpy(),
        report,
        file,
        f"{what} is not a number: row dropped",
        column=column,
        values=text,
        fix="enter a number or remove the row",
    )
    text = raw.loc[frame.index, column]
    return drop_rows(
        frame,
        frame[role].isna().to_numpy(),
        report,
        file,
        f"{what} is empty: row dropped",
        column=column,
        values=text,
        fix="enter a number or remove the row",
    )


def _wrap_azimuths(frame: pd.DataFrame, column: str, report: ValidationReport, file: str) -> int:
    """Bring azimuths into 0-360 degrees (reported per row); returns how many changed."""
    outside = ((frame["azimuth"] < 0) | (frame["azimuth"] > 360)).to_numpy()
    report_rows(
        report,
        file,
        frame.index.to_numpy()[outside],
        "azimuth outside 0-360 degrees: wrapped into 0-360",
        "warning",
        column,
        frame["azimuth"].to_numpy()[outside],
        "correct the azimuth",
    )
    frame["azimuth"] = frame["azimuth"] % 360.0
    return int(outside.sum())


def read_collar(
    path: Path,
    report: ValidationReport,
    column_map: dict[str, str] | None = None,
    length_factor: float = 1.0,
    crs: str = "",
) -> pd.DataFrame:
    """Read a collar table into ``hole_id, x, y, z, depth`` (+ ``azimuth, dip`` as in the file).

    Coordinates come from x/y columns (m), else from longitude/latitude projected to
    ``crs`` (see :func:`afg_core.coordinates.table_xy`).

    Rows without hole id or with a missing or non-numeric x, y or z are dropped, and
    so are repeats of a hole id (the first row is kept). A depth that is missing or
    not positive is left NaN, for :func:`load_drillholes` to derive from the intervals.
    An azimuth outside 0-360 is wrapped; a dip outside -90..90 is discarded (the
    hole then counts as without collar orientation). Dips keep the file's sign here.
    """
    raw, roles = _start(path, report, "collar", column_map)
    file = path.name
    frame = pd.DataFrame({"hole_id": raw[roles["hole_id"]]}, index=raw.index)
    for role in ("z", "depth", "azimuth", "dip"):
        if role in roles:
            frame[role] = numeric_cells(raw, roles[role])
    frame = _drop_missing_hole_ids(frame, raw, roles, report, file)
    frame, _ = table_xy(frame, raw, roles, file, report, crs)
    if "z" in roles:
        frame = _drop_non_numeric(frame, raw, roles, "z", "collar z coordinate", report, file)
    else:
        frame["z"] = 0.0
        report.add(
            Finding(
                file, "no elevation column: collars placed at z = 0 m", "warning", fix="add an RL/Z column"
            )
        )
    frame = drop_rows(
        frame,
        frame["hole_id"].duplicated(keep="first").to_numpy(),
        report,
        file,
        "duplicate hole id: row dropped, the first row of this hole is kept",
        column=roles["hole_id"],
        values=frame["hole_id"],
        fix="give each hole a unique id",
    )
    altered = 0
    if "depth" in roles:
        bad = ~(frame["depth"] > 0).to_numpy()
        report_rows(
            report,
            file,
            frame.index.to_numpy()[bad],
            "hole depth missing or not positive: taken from the deepest interval or survey station",
            "warning",
            roles["depth"],
            raw.loc[frame.index, roles["depth"]].to_numpy()[bad],
            "enter the total depth of the hole",
        )
        frame.loc[bad, "depth"] = np.nan
        altered += int(bad.sum())
        frame["depth"] *= length_factor
    else:
        frame["depth"] = np.nan
        report.add(
            Finding(
                file,
                "no depth column: each hole's depth is taken from its deepest interval or survey station",
                "info",
                fix="add a total depth (EOH) column",
            )
        )
    if "azimuth" in roles:
        altered += _wrap_azimuths(frame, roles["azimuth"], report, file)
    if "dip" in roles:
        outside = (frame["dip"].abs() > 90).to_numpy()
        report_rows(
            report,
            file,
            frame.index.to_numpy()[outside],
            "dip outside -90..90 degrees: collar orientation ignored",
            "warning",
            roles["dip"],
            frame["dip"].to_numpy()[outside],
            "correct the dip",
        )
        frame.loc[outside, "dip"] = np.nan
        altered += int(outside.sum())
    report.values_altered[file] += altered
    return frame


def read_survey(
    path: Path, report: ValidationReport, column_map: dict[str, str] | None = None, length_factor: float = 1.0
) -> pd.DataFrame:
    """Read a survey table into ``hole_id, depth, azimuth, dip`` (dips as in the file).

    Rows without hole id or with a missing or non-numeric depth, azimuth or dip are
    dropped, and so are negative depths, dips outside -90..90 degrees and repeated
    stations (same hole and depth: the first is kept). Azimuths outside 0-360 are wrapped.
    """
    raw, roles = _start(path, report, "survey", column_map)
    file = path.name
    frame = pd.DataFrame({"hole_id": raw[roles["hole_id"]]}, index=raw.index)
    frame["depth"] = numeric_cells(raw, roles["survey_depth"]) * length_factor
    frame["azimuth"] = numeric_cells(raw, roles["azimuth"])
    frame["dip"] = numeric_cells(raw, roles["dip"])
    frame = _drop_missing_hole_ids(frame, raw, roles, report, file)
    roles["depth"] = roles["survey_depth"]
    for role, what in (("depth", "survey depth"), ("azimuth", "azimuth"), ("dip", "dip")):
        frame = _drop_non_numeric(frame, raw, roles, role, what, report, file)
    frame = drop_rows(
        frame,
        (frame["depth"] < 0).to_numpy(),
        report,
        file,
        "negative survey depth: station dropped",
        column=roles["survey_depth"],
        values=raw.loc[frame.index, roles["survey_depth"]],
        fix="depths are measured down the hole from the collar",
    )
    frame = drop_rows(
        frame,
        (frame["dip"].abs() > 90).to_numpy(),
        report,
        file,
        "dip outside -90..90 degrees: station dropped",
        column=roles["dip"],
        values=raw.loc[frame.index, roles["dip"]],
        fix="correct the dip",
    )
    frame = drop_rows(
        frame,
        frame.duplicated(["hole_id", "depth"], keep="first").to_numpy(),
        report,
        file,
        "second survey station at the same depth: dropped",
        column=roles["survey_depth"],
        values=raw.loc[frame.index, roles["survey_depth"]],
        fix="keep one station per depth",
    )
    report.values_altered[file] += _wrap_azimuths(frame, roles["azimuth"], report, file)
    return frame


def read_intervals(
    path: Path,
    report: ValidationReport,
    column_map: dict[str, str] | None = None,
    length_factor: float = 1.0,
    lab: LabSettings | None = None,
    table: str = "assay",
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Read an interval table (``table`` = "assay" or "lithology").

    Rows without hole id, with a missing or non-numeric from/to, a negative from or
    from >= to are dropped. For assays, element columns are parsed by
    :func:`afg_core.assay_columns.read_element_columns`.

    Returns
    -------
    table : DataFrame
        ``hole_id, from, to`` + elements + ``<element>_bdl`` (or + ``lith``), indexed by file row.
    elements : list of str
    units_in_file : dict
        Element -> unit the file used.
    """
    raw, roles = _start(path, report, table, column_map)
    file = path.name
    frame = pd.DataFrame({"hole_id": raw[roles["hole_id"]]}, index=raw.index)
    frame["from"] = numeric_cells(raw, roles["from"]) * length_factor
    frame["to"] = numeric_cells(raw, roles["to"]) * length_factor
    frame = _drop_missing_hole_ids(frame, raw, roles, report, file)
    frame = _drop_non_numeric(frame, raw, roles, "from", "'from' depth", report, file)
    frame = _drop_non_numeric(frame, raw, roles, "to", "'to' depth", report, file)
    frame = drop_rows(
        frame,
        (frame["from"] < 0).to_numpy(),
        report,
        file,
        "negative 'from' depth: row dropped",
        column=roles["from"],
        values=raw.loc[frame.index, roles["from"]],
        fix="depths are measured down the hole from the collar",
    )
    shown = raw.loc[frame.index, roles["from"]] + "-" + raw.loc[frame.index, roles["to"]]
    frame = drop_rows(
        frame,
        (frame["from"] >= frame["to"]).to_numpy(),
        report,
        file,
        "interval 'from' is not less than 'to': row dropped",
        column=roles["from"],
        values=shown,
        fix="swap or correct the depths",
    )
    if table == "lithology":
        frame["lith"] = raw.loc[frame.index, roles["lith"]] if "lith" in roles else pd.NA
        return frame, [], {}
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
    return pd.concat([frame, parsed.values], axis=1), parsed.elements, parsed.units_in_file


# --------------------------------------------------------------------------- checks across tables


def drop_orphans(
    table: pd.DataFrame, collar: pd.DataFrame, file: str, report: ValidationReport, column: str
) -> pd.DataFrame:
    """Drop (and report, per row) rows whose hole has no collar."""
    orphan = ~table["hole_id"].isin(collar["hole_id"]).to_numpy()
    holes = sorted(pd.unique(table.loc[orphan, "hole_id"]))
    if holes:
        report.add(
            Finding(
                file,
                f"{len(holes)} holes have no collar: {', '.join(holes[:10])}"
                + (" ..." if len(holes) > 10 else ""),
                "warning",
                column=column,
                count=len(holes),
                fix="add the collars of these holes",
            )
        )
    return drop_rows(
        table,
        orphan,
        report,
        file,
        "hole has no collar: row dropped",
        column=column,
        values=table["hole_id"],
        fix="add the collar of this hole or correct the hole id",
    )


def drop_overlaps(table: pd.DataFrame, file: str, report: ValidationReport, column: str) -> pd.DataFrame:
    """Drop intervals overlapping an earlier kept interval of the same hole; report gaps (info).

    Intervals are taken in order of hole, 'from', then file row; an interval starting
    above the deepest 'to' kept so far in its hole overlaps, and is dropped (keeping
    the first avoids double-counting metres in composites and statistics).
    """
    ordered = table.sort_values(["hole_id", "from"], kind="stable")
    hole = ordered["hole_id"].to_numpy()
    top = ordered["from"].to_numpy(float)
    bottom = ordered["to"].to_numpy(float)
    overlap = np.zeros(len(ordered), dtype=bool)
    gap = np.zeros(len(ordered), dtype=bool)
    deepest = -np.inf
    for i in range(len(ordered)):
        if i == 0 or hole[i] != hole[i - 1]:
            deepest = bottom[i]
            continue
        if top[i] < deepest - DEPTH_TOLERANCE:
            overlap[i] = True
            continue
        gap[i] = top[i] > deepest + DEPTH_TOLERANCE
        deepest = bottom[i]
    report_rows(
        report,
        file,
        ordered.index.to_numpy()[gap],
        "gap above this interval (unsampled ground, kept)",
        "info",
        column,
        top[gap],
        None,
    )
    ordered = drop_rows(
        ordered,
        overlap,
        report,
        file,
        "interval overlaps an earlier interval of the hole: row dropped",
        column=column,
        values=[f"{a:g}-{b:g}" for a, b in zip(top, bottom)],
        fix="correct the depths or remove the duplicate interval",
    )
    return ordered.sort_index()


def _report_beyond_depth(
    table: pd.DataFrame,
    depth: pd.Series,
    depth_column: str,
    file: str,
    report: ValidationReport,
    what: str,
    header: str,
) -> None:
    """Warn (per row, kept) where an interval or station lies below the collar's total depth."""
    hole_depth = table["hole_id"].map(depth).to_numpy(float)
    beyond = table[depth_column].to_numpy(float) > hole_depth + DEPTH_TOLERANCE
    report_rows(
        report,
        file,
        table.index.to_numpy()[beyond],
        f"{what} beyond the collar depth (kept; the hole continues straight)",
        "warning",
        header,
        table[depth_column].to_numpy()[beyond],
        "correct the depth, or the collar's total depth",
    )


def _resolve_dips(
    collar: pd.DataFrame,
    survey: pd.DataFrame,
    settings: DesurveySettings,
    report: ValidationReport,
    file: str,
) -> str:
    """The dip convention in force; ``auto`` reads all-positive dips as positive down (reported)."""
    convention = settings.dip_convention
    if convention not in ("auto", "negative_down", "positive_down"):
        raise InputError(
            f"unknown dip convention '{convention}'",
            file="project.toml",
            column="dip_convention",
            fix="use 'negative_down', 'positive_down' or 'auto'",
        )
    if convention == "auto":
        dips = np.concatenate(
            [survey["dip"].to_numpy(float), collar.get("dip", pd.Series(dtype=float)).to_numpy(float)]
        )
        dips = dips[np.isfinite(dips)]
        convention = (
            "positive_down" if len(dips) and (dips >= 0).all() and (dips > 0).any() else "negative_down"
        )
        if convention == "positive_down":
            report.add(
                Finding(
                    file,
                    "every dip is positive: read as positive downwards",
                    "warning",
                    fix='say dip_convention = "positive_down" (or "negative_down") in project.toml',
                )
            )
    return convention


def load_drillholes(
    collar_path: Path,
    assay_path: Path,
    survey_path: Path | None = None,
    lithology_path: Path | None = None,
    *,
    column_map: dict[str, str] | None = None,
    length_unit: str = "m",
    dip_convention: str = "auto",
    units: dict[str, str] | None = None,
    below_detection_fraction: float = 0.5,
    negative_is_below_detection: bool = True,
    unsurveyed_azimuth: float | None = None,
    unsurveyed_dip: float | None = None,
    crs: str = "",
) -> tuple[DrillholeDatabase, ValidationReport]:
    """Read and check a collar / survey / assay (/ lithology) database.

    Parameters
    ----------
    collar_path, assay_path : Path
        Required tables.
    survey_path, lithology_path : Path, optional
        Optional tables. Holes without survey stations follow their collar
        azimuth/dip, else ``unsurveyed_azimuth``/``unsurveyed_dip``, else are vertical
        (reported).
    column_map : dict, optional
        Role -> header overrides (project.toml ``[columns]``).
    length_unit : {"m", "ft"}
        Unit of depths in the files; converted to metres.
    dip_convention : {"auto", "negative_down", "positive_down"}
    units : dict, optional
        Column or element -> unit overrides (project.toml ``[units]``).
    below_detection_fraction : float
        Fraction of the detection limit substituted for below-detection values.
    negative_is_below_detection : bool
        Read negative assay values as ``-DL``.
    unsurveyed_azimuth, unsurveyed_dip : float, optional
        Direction (degrees, dip in the file convention) of holes without any orientation.
    crs : str
        Project CRS, for collars given in longitude/latitude.

    Returns
    -------
    DrillholeDatabase, ValidationReport

    Raises
    ------
    InputError
        When a table is unreadable, a required column missing or ambiguous, or the
        collar or assay table has no usable row.
    """
    settings = DesurveySettings(length_unit, dip_convention, unsurveyed_azimuth, unsurveyed_dip)
    lab = LabSettings(units or {}, below_detection_fraction, negative_is_below_detection)
    factor = settings.length_factor
    report = ValidationReport()
    collar = read_collar(collar_path, report, column_map, factor, crs)
    require_rows(collar, collar_path.name, report)
    survey = (
        read_survey(survey_path, report, column_map, factor)
        if survey_path
        else pd.DataFrame(columns=["hole_id", "depth", "azimuth", "dip"]).astype(
            {"depth": float, "azimuth": float, "dip": float}
        )
    )
    convention = _resolve_dips(collar, survey, settings, report, (survey_path or collar_path).name)
    sign = -1.0 if convention == "positive_down" else 1.0
    survey["dip"] = survey["dip"] * sign
    if "dip" in collar:
        collar["dip"] = collar["dip"] * sign
    assay, elements, units_in_file = read_intervals(assay_path, report, column_map, factor, lab)
    lithology = None
    if lithology_path is not None:
        lithology, _, _ = read_intervals(lithology_path, report, column_map, factor, table="lithology")

    # Cross-table checks, each row-level finding naming the file's own row.
    checked = []
    for path, table in ((survey_path, survey), (assay_path, assay), (lithology_path, lithology)):
        if path is None or table is None:
            checked.append(table)
            continue
        headers = report.column_roles[path.name]
        table = drop_orphans(table, collar, path.name, report, headers["hole_id"])
        if "to" in table:
            table = drop_overlaps(table, path.name, report, headers["from"])
        checked.append(table)
    survey, assay, lithology = checked
    require_rows(assay, assay_path.name, report)
    _fill_depths(collar, survey, assay, lithology, report, collar_path.name)
    given = collar.set_index("hole_id")["depth"]
    given = given[~collar.set_index("hole_id")["depth_derived"]]
    _report_beyond_depth(
        assay, given, "to", assay_path.name, report, "interval", report.column_roles[assay_path.name]["to"]
    )
    if survey_path is not None:
        headers = report.column_roles[survey_path.name]
        _report_beyond_depth(
            survey, given, "depth", survey_path.name, report, "survey station", headers["survey_depth"]
        )
        upward = (survey["dip"] > 0).to_numpy()
        report_rows(
            report,
            survey_path.name,
            survey.index.to_numpy()[upward],
            "hole points upwards at this station (kept: underground hole?)",
            "warning",
            headers["dip"],
            survey["dip"].to_numpy()[upward],
            "check the dip sign, or dip_convention in project.toml",
        )
    no_assays = ~collar["hole_id"].isin(assay["hole_id"]).to_numpy()
    report_rows(
        report,
        collar_path.name,
        collar.index.to_numpy()[no_assays],
        "collar without assays (kept)",
        "info",
        report.column_roles[collar_path.name]["hole_id"],
        collar["hole_id"].to_numpy()[no_assays],
        None,
    )
    direction = _unsurveyed_direction(settings, sign)
    _report_unsurveyed(collar, survey, direction, settings, report, collar_path.name)
    flag_heavy_losses(report)
    database = DrillholeDatabase(
        collar.drop(columns="depth_derived").reset_index(drop=True),
        survey.reset_index(drop=True),
        assay.reset_index(drop=True),
        elements,
        None if lithology is None else lithology.reset_index(drop=True),
        units_in_file,
        direction,
    )
    return database, report


def require_rows(table: pd.DataFrame, file: str, report: ValidationReport) -> None:
    """Raise one InputError, naming the first problem row, when nothing of a required table is left."""
    if len(table):
        return
    first = next((f for f in report.findings if f.file == file and f.row is not None), None)
    if first is None:
        raise InputError("the table has no data rows", file=file, fix="export the table with its rows")
    raise InputError(
        f"no usable rows; the first problem: {first.message}",
        file=file,
        row=first.row,
        column=first.column,
        fix=first.fix,
    )


def _fill_depths(
    collar: pd.DataFrame,
    survey: pd.DataFrame,
    assay: pd.DataFrame,
    lithology: pd.DataFrame | None,
    report: ValidationReport,
    file: str,
) -> None:
    """Give holes without a depth the deepest interval bottom or survey station (0 when none)."""
    missing = collar["depth"].isna().to_numpy()
    collar["depth_derived"] = missing
    if not missing.any():
        return
    deepest = pd.concat(
        [survey.groupby("hole_id")["depth"].max(), assay.groupby("hole_id")["to"].max()]
        + ([lithology.groupby("hole_id")["to"].max()] if lithology is not None else [])
    )
    deepest = deepest.groupby(level=0).max()
    collar.loc[missing, "depth"] = collar.loc[missing, "hole_id"].map(deepest).fillna(0.0).to_numpy()
    report.add(
        Finding(
            file,
            "hole depths taken from the deepest interval or survey station",
            "info",
            column="depth",
            count=int(missing.sum()),
        )
    )


def _unsurveyed_direction(settings: DesurveySettings, sign: float) -> tuple[float, float]:
    azimuth = 0.0 if settings.unsurveyed_azimuth is None else float(settings.unsurveyed_azimuth) % 360.0
    dip = -90.0 if settings.unsurveyed_dip is None else float(settings.unsurveyed_dip) * sign
    if abs(dip) > 90:
        raise InputError(
            f"dip {settings.unsurveyed_dip} outside -90..90 degrees",
            file="project.toml",
            column="unsurveyed_dip",
            fix="give the dip of unsurveyed holes in degrees",
        )
    return azimuth, dip


def _report_unsurveyed(
    collar: pd.DataFrame,
    survey: pd.DataFrame,
    direction: tuple[float, float],
    settings: DesurveySettings,
    report: ValidationReport,
    file: str,
) -> None:
    unsurveyed = ~collar["hole_id"].isin(survey["hole_id"]).to_numpy()
    if not unsurveyed.any():
        return
    oriented = np.zeros(len(collar), dtype=bool)
    if {"azimuth", "dip"} <= set(collar.columns):
        oriented = (collar["azimuth"].notna() & collar["dip"].notna()).to_numpy()
    by_collar = int((unsurveyed & oriented).sum())
    by_default = int((unsurveyed & ~oriented).sum())
    if settings.unsurveyed_dip is None and settings.unsurveyed_azimuth is None:
        default = "treated as vertical"
    else:
        default = f"given azimuth {direction[0]:g}, dip {direction[1]:g} from project.toml [desurvey]"
    parts = ([f"{by_collar} collar azimuth/dip used"] if by_collar else []) + (
        [f"{by_default} {default}"] if by_default else []
    )
    holes = collar.loc[unsurveyed, "hole_id"].tolist()
    report.add(
        Finding(
            file,
            f"{int(unsurveyed.sum())} holes have no survey: " + "; ".join(parts),
            "warning",
            value=", ".join(holes[:10]) + (" ..." if len(holes) > 10 else ""),
            count=int(unsurveyed.sum()),
            fix="add survey stations for these holes, or set [desurvey] unsurveyed_azimuth/unsurveyed_dip",
        )
    )


def flag_heavy_losses(report: ValidationReport) -> None:
    """An error when a file lost more than half its rows: most likely a wrong mapping or convention."""
    for file, read in report.rows_read.items():
        if read and report.rows_dropped[file] > read / 2:
            report.add(
                Finding(
                    file,
                    f"{report.rows_dropped[file]} of {read} rows dropped",
                    "error",
                    fix="check the column mapping, units and conventions in project.toml; see the "
                    "findings of this file",
                )
            )
