"""Coordinates at the door: longitude/latitude to metres in the project CRS (pyproj).

Inside afg_core coordinates are metres in the project CRS (project.toml ``crs``).
Tables that give only longitude/latitude (WGS84/GDA94 degrees; the metre-level datum
difference is below sample spacing here) are projected on reading. Without a
project CRS the UTM zone of the data's centre is chosen, and the report says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from afg_core.errors import InputError
from afg_core.io.columns import ColumnMappingError
from afg_core.io.csvtable import drop_rows, numeric_cells
from afg_core.io.validation import Finding, ValidationReport

GEOGRAPHIC = "EPSG:4326"


def parse_crs(text: str) -> CRS:
    """A pyproj CRS from project.toml text (``"EPSG:28350"``, WKT, PROJ string).

    Raises
    ------
    InputError
        When pyproj does not know it, or it is not in metres.
    """
    try:
        crs = CRS.from_user_input(text)
    except CRSError as exc:
        raise InputError(
            f"unknown coordinate reference system '{text}' ({exc})",
            file="project.toml",
            column="crs",
            fix='give an EPSG code such as crs = "EPSG:28350"',
        ) from exc
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise InputError(
            f"'{text}' is not a projected CRS in metres",
            file="project.toml",
            column="crs",
            fix="give a projected CRS in metres, e.g. the UTM or MGA zone of the project",
        )
    return crs


def utm_crs_for(longitude: np.ndarray, latitude: np.ndarray) -> str:
    """EPSG code of the WGS84 UTM zone holding the median of the points, e.g. ``"EPSG:32750"``."""
    lon = float(np.nanmedian(longitude))
    lat = float(np.nanmedian(latitude))
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def lonlat_to_xy(longitude: np.ndarray, latitude: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Project degrees (WGS84) to metres (easting, northing) in ``crs``."""
    transformer = Transformer.from_crs(GEOGRAPHIC, parse_crs(crs), always_xy=True)
    x, y = transformer.transform(np.asarray(longitude, float), np.asarray(latitude, float))
    return np.asarray(x, float), np.asarray(y, float)


def table_xy(
    frame: pd.DataFrame,
    raw: pd.DataFrame,
    roles: dict[str, str],
    file: str,
    report: ValidationReport,
    crs: str,
) -> tuple[pd.DataFrame, str]:
    """Add ``x, y`` (m) to ``frame`` from the x/y columns, or from longitude/latitude.

    Rows whose coordinates are missing, not numbers, or (for degrees) outside
    -180..180 / -90..90 are dropped with a finding each.

    Parameters
    ----------
    frame : DataFrame
        Rows kept so far, indexed by file row.
    raw : DataFrame
        The file as text.
    roles : dict
        Recognised roles (``x``, ``y`` or ``longitude``, ``latitude``).
    crs : str
        Project CRS; empty to choose the UTM zone of the data.

    Returns
    -------
    frame : DataFrame
        With ``x`` and ``y``.
    crs : str
        The CRS of ``x, y`` (the project's, the chosen UTM zone, or "" for x/y columns
        with no CRS declared).

    Raises
    ------
    ColumnMappingError
        When the table has neither x/y nor longitude/latitude columns.
    """
    if "x" in roles and "y" in roles:
        for role in ("x", "y"):
            frame[role] = numeric_cells(raw.loc[frame.index], roles[role])
            frame = drop_rows(
                frame,
                frame[role].isna().to_numpy(),
                report,
                file,
                f"{role} coordinate missing or not a number: row dropped",
                column=roles[role],
                values=raw.loc[frame.index, roles[role]],
                fix="enter the coordinate in metres",
            )
        unused = [roles[r] for r in ("longitude", "latitude") if r in roles]
        if unused:
            report.add(Finding(file, f"x/y columns used; {', '.join(unused)} not used", "info"))
        return frame, crs
    if "longitude" not in roles or "latitude" not in roles:
        missing = "x" if "x" not in roles else "y"
        found = "x" if missing == "y" else "y" if "y" in roles else None
        what = (
            f"no column recognised as '{missing}' (the '{found}' column is {roles[found]})"
            if found
            else "no coordinate columns: neither x/y (easting/northing) nor longitude/latitude recognised"
        )
        raise ColumnMappingError(
            f"{what}; the file has {list(raw.columns)}",
            file=file,
            role=missing,
            candidates=[],
            headers=list(raw.columns),
            fix='map them in project.toml, e.g. [columns] x = "EAST_M" and y = "NORTH_M" (with crs = "EPSG:...")',
        )
    lon = numeric_cells(raw.loc[frame.index], roles["longitude"])
    lat = numeric_cells(raw.loc[frame.index], roles["latitude"])
    frame = frame.assign(longitude=lon, latitude=lat)
    for role, limit in (("longitude", 180.0), ("latitude", 90.0)):
        bad = ~(frame[role].abs() <= limit).to_numpy()
        frame = drop_rows(
            frame,
            bad,
            report,
            file,
            f"{role} missing, not a number or beyond +-{limit:g} degrees: row dropped",
            column=roles[role],
            values=raw.loc[frame.index, roles[role]],
            fix="enter decimal degrees",
        )
    if not crs:
        crs = utm_crs_for(frame["longitude"], frame["latitude"]) if len(frame) else "EPSG:32601"
        report.add(
            Finding(
                file,
                f"longitude/latitude projected to {crs} (UTM zone of the data; no crs in project.toml)",
                "info",
                fix='set crs = "EPSG:..." in project.toml to choose the CRS',
            )
        )
    else:
        report.add(Finding(file, f"longitude/latitude projected to {crs}", "info"))
    x, y = lonlat_to_xy(frame["longitude"].to_numpy(), frame["latitude"].to_numpy(), crs)
    return frame.drop(columns=["longitude", "latitude"]).assign(x=x, y=y), crs
