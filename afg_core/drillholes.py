"""Drill-hole databases: collar, survey and interval tables, desurvey, sample positions.

Column headers of the common conventions are recognised without any mapping
(``HOLEID``/``BHID``/``hole_id``, ``X``/``EAST``/``XCOLLAR``, ``FROM``/``depth_from`` ...).
Inside afg_core depths are metres along the hole, coordinates metres in the project
CRS, and dips are negative downwards (-90 = vertical down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .geochem import internal_unit, parse_element_column, parse_lab_values, to_internal_unit
from .validation import Finding, ValidationReport

FEET_TO_METRES = 0.3048

#: Recognised headers per role, compared case-insensitively with spaces and dashes as "_".
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "hole_id": ("hole_id", "holeid", "bhid", "hole", "dhid", "hole_no", "holename", "hole_name", "drillhole", "site_id"),
    "x": ("x", "east", "easting", "xcollar", "x_collar", "e", "mga_east", "utm_east"),
    "y": ("y", "north", "northing", "ycollar", "y_collar", "n", "mga_north", "utm_north"),
    "z": ("z", "rl", "elev", "elevation", "zcollar", "z_collar", "collar_rl", "height"),
    "depth": ("depth", "max_depth", "maxdepth", "eoh", "td", "total_depth", "length", "final_depth"),
    "survey_depth": ("depth", "at", "survey_depth", "md", "distance"),
    "azimuth": ("azimuth", "az", "azi", "brg", "bearing"),
    "dip": ("dip", "incl", "inclination"),
    "from": ("from", "depth_from", "from_m", "mfrom", "frm", "start"),
    "to": ("to", "depth_to", "to_m", "mto", "end"),
    "lith": ("lith", "lithology", "rock", "rock_type", "lith_code", "unit"),
}


def _normalise_header(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def recognise_columns(
    columns: list[str],
    roles: dict[str, bool],
    file: str,
    overrides: dict[str, str] | None = None,
) -> dict[str, str]:
    """Map roles (``hole_id``, ``x`` ...) to the file's column names.

    Parameters
    ----------
    columns : list of str
        Headers of the file.
    roles : dict
        Role -> whether it is required.
    file : str
        File name, for messages.
    overrides : dict, optional
        Role -> header, from project.toml ``[columns]``; wins over recognition.

    Returns
    -------
    dict
        Role -> header for every role found.

    Raises
    ------
    InputError
        When a required role has no column, or two columns claim one role.
    """
    overrides = overrides or {}
    found: dict[str, str] = {}
    for role, required in roles.items():
        if role in overrides and overrides[role] in columns:
            found[role] = overrides[role]
            continue
        aliases = COLUMN_ALIASES[role]
        matches = [c for c in columns if _normalise_header(c) in aliases and c not in found.values()]
        if len(matches) > 1:
            raise InputError(
                f"columns {matches} could all be the '{role}' column",
                file=file,
                column=matches[0],
                fix=f"name the one to use in project.toml under [columns], e.g. {role} = \"{matches[0]}\"",
            )
        if matches:
            found[role] = matches[0]
        elif required:
            raise InputError(
                f"no column recognised as '{role}' (looked for {', '.join(aliases[:6])} ...); the file has {list(columns)}",
                file=file,
                column=role,
                fix=f"rename the column or map it in project.toml: [columns] {role} = \"YOUR_HEADER\"",
            )
    return found


def _read_csv_text(path: Path) -> pd.DataFrame:
    """Read a CSV keeping every cell as text, so lab strings such as ``<0.05`` survive."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise InputError("file not found", file=path.name, fix="check the project folder") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV table ({exc})", file=path.name, fix="export it as comma-separated UTF-8 text") from exc


def _numeric_column(
    frame: pd.DataFrame, column: str, file: str, report: ValidationReport, what: str
) -> np.ndarray:
    """Parse a coordinate-like column, reporting every cell that is not a number."""
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    for i in bad[:20]:
        report.add(
            Finding(file, f"{what} is not a number", "error", row=int(i) + 1, column=column,
                    value=str(frame[column].iloc[i]), fix="enter a numeric value or remove the row")
        )
    if len(bad) > 20:
        report.add(Finding(file, f"{len(bad) - 20} more rows with a non-numeric {what}", "error", column=column, count=len(bad) - 20))
    return values


def _to_internal_dip(dip: np.ndarray, convention: str) -> np.ndarray:
    """Dips negative downwards, whatever the file's convention."""
    if convention == "positive_down":
        return -dip
    if convention == "negative_down":
        return dip
    raise InputError(f"unknown dip convention '{convention}'", file="project.toml", column="dip_convention",
                     fix="use 'negative_down' or 'positive_down'")


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
        substituted by a fraction of the detection limit).
    elements : list of str
        Element columns of ``assay``.
    lithology : DataFrame or None
        ``hole_id, from, to, lith``.
    """

    collar: pd.DataFrame
    survey: pd.DataFrame
    assay: pd.DataFrame
    elements: list[str]
    lithology: pd.DataFrame | None = None
    units_in_file: dict[str, str] = field(default_factory=dict)

    @cached_property
    def samples(self) -> pd.DataFrame:
        """Assay intervals with the 3D position of each interval midpoint (m)."""
        samples = self.assay.copy()
        samples["length"] = samples["to"] - samples["from"]
        midpoints = 0.5 * (samples["from"] + samples["to"])
        xyz = np.full((len(samples), 3), np.nan)
        for hole_id, index in samples.groupby("hole_id", sort=False).indices.items():
            xyz[index] = self.positions_along(hole_id, midpoints.to_numpy()[index])
        samples["x"], samples["y"], samples["z"] = xyz.T
        if self.lithology is not None:
            samples["lith"] = lithology_at(self.lithology, samples["hole_id"], midpoints)
        return samples

    def positions_along(self, hole_id: str, depths: np.ndarray) -> np.ndarray:
        """3D positions (m) of points at ``depths`` (m along hole) of one hole."""
        collar = self.collar.loc[self.collar["hole_id"] == hole_id].iloc[0]
        stations = self._stations(hole_id, collar)
        return desurvey_minimum_curvature(
            np.array([collar["x"], collar["y"], collar["z"]]),
            stations["depth"].to_numpy(), stations["azimuth"].to_numpy(), stations["dip"].to_numpy(),
            np.asarray(depths, dtype=float),
        )

    def _stations(self, hole_id: str, collar: pd.Series) -> pd.DataFrame:
        stations = self.survey.loc[self.survey["hole_id"] == hole_id, ["depth", "azimuth", "dip"]]
        if len(stations):
            return stations.sort_values("depth")
        azimuth = collar.get("azimuth", np.nan)
        dip = collar.get("dip", np.nan)
        if not (np.isfinite(azimuth) and np.isfinite(dip)):
            azimuth, dip = 0.0, -90.0
        return pd.DataFrame({"depth": [0.0], "azimuth": [azimuth], "dip": [dip]})

    def traces(self, step: float = 5.0) -> pd.DataFrame:
        """Hole paths sampled every ``step`` metres: ``hole_id, depth, x, y, z``."""
        parts = []
        for hole_id, depth in zip(self.collar["hole_id"], self.collar["depth"]):
            depths = np.append(np.arange(0.0, depth, step), depth)
            xyz = self.positions_along(hole_id, depths)
            parts.append(pd.DataFrame({"hole_id": hole_id, "depth": depths, "x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2]}))
        return pd.concat(parts, ignore_index=True)


def lithology_at(lithology: pd.DataFrame, hole_ids: pd.Series, depths: pd.Series) -> pd.Series:
    """Lithology code of the interval containing each (hole, depth); NA where none does."""
    result = pd.Series(pd.NA, index=hole_ids.index, dtype="string")
    for hole_id, index in hole_ids.groupby(hole_ids, sort=False).groups.items():
        logged = lithology.loc[lithology["hole_id"] == hole_id].sort_values("from")
        if logged.empty:
            continue
        d = depths.loc[index].to_numpy()
        k = np.searchsorted(logged["from"].to_numpy(), d, side="right") - 1
        inside = (k >= 0) & (d < logged["to"].to_numpy()[np.clip(k, 0, None)])
        codes = logged["lith"].to_numpy()[np.clip(k, 0, None)]
        result.loc[index] = np.where(inside, codes, pd.NA)
    return result


def direction_vectors(azimuth_deg: np.ndarray, dip_deg: np.ndarray) -> np.ndarray:
    """Unit vectors (east, north, up) for azimuths clockwise from north and dips negative down."""
    az = np.radians(azimuth_deg)
    dip = np.radians(dip_deg)
    return np.column_stack([np.sin(az) * np.cos(dip), np.cos(az) * np.cos(dip), np.sin(dip)])


def desurvey_minimum_curvature(
    collar_xyz: np.ndarray,
    station_depths: np.ndarray,
    azimuth_deg: np.ndarray,
    dip_deg: np.ndarray,
    depths: np.ndarray,
) -> np.ndarray:
    """Positions along a hole by the minimum-curvature method.

    Between two survey stations the hole follows the circular arc tangent to both
    station directions; points inside a segment are placed on that arc (not on a
    chord). Above the first station the first direction holds; below the last one
    the hole continues straight. A single station gives a straight hole (the
    balanced-tangent limit).

    Parameters
    ----------
    collar_xyz : array, shape (3,)
        Collar position (m).
    station_depths : array, shape (k,)
        Survey depths along the hole (m), increasing.
    azimuth_deg, dip_deg : array, shape (k,)
        Direction at each station; azimuth clockwise from north, dip negative down (degrees).
    depths : array, shape (n,)
        Depths along the hole (m) at which to return positions.

    Returns
    -------
    numpy.ndarray, shape (n, 3)
        Easting, northing, elevation (m).
    """
    station_depths = np.asarray(station_depths, dtype=float)
    tangents = direction_vectors(azimuth_deg, dip_deg)
    if station_depths[0] > 0:
        station_depths = np.insert(station_depths, 0, 0.0)
        tangents = np.vstack([tangents[:1], tangents])
    lengths = np.diff(station_depths)
    t1, t2 = tangents[:-1], tangents[1:]
    dogleg = np.arccos(np.clip(np.einsum("ij,ij->i", t1, t2), -1.0, 1.0))
    ratio = np.where(dogleg > 1e-9, np.tan(dogleg / 2) / np.where(dogleg > 1e-9, dogleg / 2, 1.0), 1.0)
    steps = 0.5 * lengths[:, None] * ratio[:, None] * (t1 + t2)
    station_xyz = np.vstack([np.zeros(3), np.cumsum(steps, axis=0)]) + np.asarray(collar_xyz, dtype=float)

    depths = np.asarray(depths, dtype=float)
    segment = np.clip(np.searchsorted(station_depths, depths, side="right") - 1, 0, len(station_depths) - 1)
    below_last = segment == len(station_depths) - 1
    out = np.empty((len(depths), 3))
    # Straight continuation above the collar station and below the last station.
    last = len(station_depths) - 1
    out[below_last] = station_xyz[last] + (depths[below_last] - station_depths[last])[:, None] * tangents[last]
    inside = ~below_last
    if inside.any():
        s = segment[inside]
        length = lengths[s]
        f = (depths[inside] - station_depths[s]) / np.where(length > 0, length, 1.0)
        beta = dogleg[s]
        a, b = t1[s], t2[s]
        curved = beta > 1e-6
        # Circular arc: P = P1 + R [t1 sin(theta) + n (1 - cos(theta))], R = L / beta.
        safe = np.where(curved, beta, 1.0)
        normal = (b - a * np.cos(safe)[:, None]) / np.sin(safe)[:, None]
        radius = length / safe
        theta = f * safe
        arc = radius[:, None] * (a * np.sin(theta)[:, None] + normal * (1 - np.cos(theta))[:, None])
        # Second-order expansion where the dogleg vanishes (avoids 0/0).
        straight = (f * length)[:, None] * a + (0.5 * f**2 * length)[:, None] * (b - a)
        out[inside] = station_xyz[s] + np.where(curved[:, None], arc, straight)
    return out


def read_collar(path: Path, report: ValidationReport, column_map: dict[str, str] | None = None,
                length_factor: float = 1.0, dip_convention: str = "negative_down") -> pd.DataFrame:
    """Read a collar table into ``hole_id, x, y, z, depth`` (+ ``azimuth, dip``)."""
    raw = _read_csv_text(path)
    file = path.name
    roles = recognise_columns(list(raw.columns), {"hole_id": True, "x": True, "y": True, "z": False,
                                                   "depth": True, "azimuth": False, "dip": False}, file, column_map)
    collar = pd.DataFrame({"hole_id": raw[roles["hole_id"]].str.strip()})
    for role in ("x", "y", "z", "depth", "azimuth", "dip"):
        if role in roles:
            collar[role] = _numeric_column(raw, roles[role], file, report, f"collar {role}")
    if "z" not in roles:
        collar["z"] = 0.0
        report.add(Finding(file, "no elevation column: collars placed at z = 0 m", "warning", fix="add an RL/Z column"))
    collar["depth"] *= length_factor
    if "dip" in collar:
        collar["dip"] = _to_internal_dip(collar["dip"].to_numpy(), dip_convention)
    keep = collar[["x", "y", "z", "depth"]].notna().all(axis=1).to_numpy().copy()
    duplicated = collar["hole_id"].duplicated(keep="first").to_numpy()
    for i in np.flatnonzero(duplicated):
        report.add(Finding(file, "duplicate hole id: the first row of this hole is kept", "warning", row=int(i) + 1,
                           column=roles["hole_id"], value=collar["hole_id"].iloc[i], fix="give each hole a unique id"))
    keep &= ~duplicated
    report.account(file, len(raw), int(keep.sum()))
    return collar.loc[keep].reset_index(drop=True)


def read_survey(path: Path, report: ValidationReport, column_map: dict[str, str] | None = None,
                length_factor: float = 1.0, dip_convention: str = "negative_down") -> pd.DataFrame:
    """Read a survey table into ``hole_id, depth, azimuth, dip`` (dip negative down)."""
    raw = _read_csv_text(path)
    file = path.name
    roles = recognise_columns(list(raw.columns), {"hole_id": True, "survey_depth": True, "azimuth": True, "dip": True},
                              file, column_map)
    survey = pd.DataFrame({"hole_id": raw[roles["hole_id"]].str.strip()})
    survey["depth"] = _numeric_column(raw, roles["survey_depth"], file, report, "survey depth") * length_factor
    survey["azimuth"] = _numeric_column(raw, roles["azimuth"], file, report, "azimuth")
    survey["dip"] = _to_internal_dip(_numeric_column(raw, roles["dip"], file, report, "dip"), dip_convention)
    keep = survey[["depth", "azimuth", "dip"]].notna().all(axis=1).to_numpy().copy()
    out_of_range = keep & ((survey["dip"] < -90) | (survey["dip"] > 90)).to_numpy()
    for i in np.flatnonzero(out_of_range):
        report.add(Finding(file, "dip outside -90..90 degrees: station dropped", "error", row=int(i) + 1,
                           column=roles["dip"], value=str(survey["dip"].iloc[i]), fix="correct the dip"))
    keep &= ~out_of_range
    survey["azimuth"] = survey["azimuth"] % 360.0
    report.account(file, len(raw), int(keep.sum()))
    return survey.loc[keep].reset_index(drop=True)


def read_intervals(
    path: Path,
    report: ValidationReport,
    column_map: dict[str, str] | None = None,
    length_factor: float = 1.0,
    units: dict[str, str] | None = None,
    below_detection_fraction: float = 0.5,
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Read an interval table (assay or lithology).

    Element columns are recognised by header (``Fe_pct``, ``La_ppm``, ``Fe2O3 %`` ...),
    oxides converted to elements, and values converted to the internal unit (majors wt%,
    others ppm). ``<DL`` strings become ``below_detection_fraction * DL`` and are flagged
    in ``<element>_bdl`` columns.

    Returns
    -------
    table : DataFrame
        ``hole_id, from, to`` + elements + ``<element>_bdl`` (+ ``lith`` when present).
    elements : list of str
    units_in_file : dict
        Element -> unit the file used.
    """
    raw = _read_csv_text(path)
    file = path.name
    roles = recognise_columns(list(raw.columns), {"hole_id": True, "from": True, "to": True, "lith": False}, file, column_map)
    table = pd.DataFrame({"hole_id": raw[roles["hole_id"]].str.strip()})
    table["from"] = _numeric_column(raw, roles["from"], file, report, "from depth") * length_factor
    table["to"] = _numeric_column(raw, roles["to"], file, report, "to depth") * length_factor
    if "lith" in roles:
        table["lith"] = raw[roles["lith"]].str.strip()
    elements: list[str] = []
    units_in_file: dict[str, str] = {}
    altered = 0
    for column in raw.columns:
        if column in roles.values():
            continue
        parsed = parse_element_column(column)
        if parsed is None:
            report.add(Finding(file, "column not recognised as an element: ignored", "info", column=column,
                               fix="name it like Fe_pct or La_ppm, or declare it in project.toml [units]"))
            continue
        element, unit, oxide_factor = parsed
        unit = (units or {}).get(column) or (units or {}).get(element) or unit
        if unit is None:
            unit = internal_unit(element)
            report.add(Finding(file, f"no unit in the header: assumed {unit}", "warning", column=column,
                               fix=f"add a suffix (_{unit}) or declare it in project.toml [units]"))
        if element in elements:
            report.add(Finding(file, f"a second column for {element}: ignored", "warning", column=column,
                               fix="keep one column per element"))
            continue
        values, below, unparseable = parse_lab_values(raw[column], below_detection_fraction)
        for i in np.flatnonzero(unparseable)[:10]:
            report.add(Finding(file, "value is not a number: set missing", "warning", row=int(i) + 1, column=column,
                               value=str(raw[column].iloc[i]), fix="correct the value or leave the cell empty"))
        if unparseable.sum() > 10:
            report.add(Finding(file, "more non-numeric values set missing", "warning", column=column,
                               count=int(unparseable.sum()) - 10))
        if below.any():
            report.add(Finding(file, f"below-detection values substituted by {below_detection_fraction:g} x detection limit",
                               "info", column=column, count=int(below.sum())))
        altered += int(below.sum() + unparseable.sum())
        table[element] = to_internal_unit(values * oxide_factor, element, unit)
        table[f"{element}_bdl"] = below
        elements.append(element)
        units_in_file[element] = unit
    keep = table[["from", "to"]].notna().all(axis=1).to_numpy().copy()
    inverted = keep & (table["from"] >= table["to"]).to_numpy()
    for i in np.flatnonzero(inverted)[:20]:
        report.add(Finding(file, "interval 'from' is not less than 'to': row dropped", "error", row=int(i) + 1,
                           column=roles["from"], value=f"{raw[roles['from']].iloc[i]}-{raw[roles['to']].iloc[i]}",
                           fix="swap or correct the depths"))
    keep &= ~inverted
    report.account(file, len(raw), int(keep.sum()), altered)
    return table.loc[keep].reset_index(drop=True), elements, units_in_file


def drop_orphans(table: pd.DataFrame, collar: pd.DataFrame, file: str, report: ValidationReport) -> pd.DataFrame:
    """Drop (and report) rows whose hole has no collar."""
    orphan = ~table["hole_id"].isin(collar["hole_id"])
    if orphan.any():
        holes = sorted(table.loc[orphan, "hole_id"].unique())
        report.add(Finding(file, f"rows of holes with no collar dropped: {', '.join(holes[:10])}"
                           + (" ..." if len(holes) > 10 else ""), "warning", count=int(orphan.sum()),
                           fix="add the collars of these holes"))
        report.rows_kept[file] -= int(orphan.sum())
        report.rows_dropped[file] += int(orphan.sum())
    return table.loc[~orphan].reset_index(drop=True)


def load_drillholes(
    collar_path: Path,
    assay_path: Path,
    survey_path: Path | None = None,
    lithology_path: Path | None = None,
    *,
    column_map: dict[str, str] | None = None,
    length_unit: str = "m",
    dip_convention: str = "negative_down",
    units: dict[str, str] | None = None,
    below_detection_fraction: float = 0.5,
) -> tuple[DrillholeDatabase, ValidationReport]:
    """Read and check a collar / survey / assay (/ lithology) database.

    Parameters
    ----------
    collar_path, assay_path : Path
        Required tables.
    survey_path, lithology_path : Path, optional
        Optional tables. Holes without survey stations follow their collar
        azimuth/dip, or are vertical when the collar has none (reported).
    column_map : dict, optional
        Role -> header overrides (project.toml ``[columns]``).
    length_unit : {"m", "ft"}
        Unit of depths in the files; converted to metres.
    dip_convention : {"negative_down", "positive_down"}
    units : dict, optional
        Column or element -> unit overrides (project.toml ``[units]``).
    below_detection_fraction : float
        Fraction of the detection limit substituted for ``<DL`` values.

    Returns
    -------
    DrillholeDatabase, ValidationReport
    """
    if length_unit not in ("m", "ft"):
        raise InputError(f"unknown length unit '{length_unit}'", file="project.toml", column="length_unit",
                         fix="use 'm' or 'ft'")
    factor = FEET_TO_METRES if length_unit == "ft" else 1.0
    report = ValidationReport()
    collar = read_collar(collar_path, report, column_map, factor, dip_convention)
    if collar.empty:
        raise InputError("no usable collar rows", file=collar_path.name, fix="see the findings above")
    survey = (read_survey(survey_path, report, column_map, factor, dip_convention) if survey_path
              else pd.DataFrame(columns=["hole_id", "depth", "azimuth", "dip"]))
    survey = drop_orphans(survey, collar, survey_path.name, report) if survey_path else survey
    unsurveyed = sorted(set(collar["hole_id"]) - set(survey["hole_id"]))
    if unsurveyed:
        has_orientation = {"azimuth", "dip"} <= set(collar.columns)
        report.add(Finding(collar_path.name, f"{len(unsurveyed)} holes have no survey: "
                           + ("collar azimuth/dip used" if has_orientation else "treated as vertical"),
                           "warning", count=len(unsurveyed), fix="add survey stations for these holes"))
    assay, elements, units_in_file = read_intervals(assay_path, report, column_map, factor, units, below_detection_fraction)
    assay = drop_orphans(assay, collar, assay_path.name, report)
    lithology = None
    if lithology_path is not None:
        lithology, _, _ = read_intervals(lithology_path, report, column_map, factor)
        lithology = drop_orphans(lithology, collar, lithology_path.name, report)
    no_assays = sorted(set(collar["hole_id"]) - set(assay["hole_id"]))
    if no_assays:
        report.add(Finding(collar_path.name, f"{len(no_assays)} collars have no assays", "info", count=len(no_assays)))
    return DrillholeDatabase(collar, survey, assay, elements, lithology, units_in_file), report
