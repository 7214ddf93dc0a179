"""Geophysics grids from files: GeoTIFF (rasterio), XYZ tables, and scattered or flight-line points.

* GeoTIFF: band 1 of a north-up raster; nodata becomes NaN; rows are flipped so
  that y increases with the row index, as in :class:`afg_core.geophysics.Grid`.
  A raster in another CRS than the project's (e.g. longitude/latitude) is
  reprojected (bilinear) to the project CRS.
* XYZ table (CSV): coordinate columns (x, y[, z] in metres, or longitude/latitude)
  and one value column. Points on a regular lattice become a grid directly
  (regular-grid detection); anything else is scattered data and is gridded by
  :func:`grid_scattered`.
* :func:`grid_scattered`: verde's block-median reduction followed by verde's
  piecewise-cubic interpolator (scipy's Clough-Tocher on a Delaunay triangulation),
  with cells farther than ``max_distance`` from any point left NaN. verde is the
  well-kept gridder of the Fatiando project; a full biharmonic spline (verde.Spline)
  would need an n x n matrix (80,000 airborne points: ~50 GB), while block reduction
  to the cell size plus local cubic interpolation honours flight lines at seconds' cost.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import verde as vd

from afg_core.errors import InputError
from afg_core.io.columns import COLUMN_ALIASES, normalise_header, recognise_columns
from afg_core.io.coordinates import parse_crs, table_xy, utm_crs_for
from afg_core.io.csvtable import drop_rows, numeric_cells, read_csv_text
from afg_core.io.grids import Grid, read_grid_npz
from afg_core.io.validation import Finding, ValidationReport

_XYZ_ROLES = {"x": False, "y": False, "z": False, "longitude": False, "latitude": False}


def read_grid(path: Path, crs: str = "") -> tuple[Grid, list[Finding]]:
    """Read a grid file by its extension (``.npz``, ``.tif``/``.tiff``, ``.csv``).

    Returns
    -------
    Grid
    list of Finding
        What was assumed or done (reprojection, gridding, dropped rows).
    """
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return read_grid_npz(path), []
    if suffix in (".tif", ".tiff"):
        return read_geotiff_grid(path, crs)
    if suffix == ".csv":
        report = ValidationReport()
        grid = read_xyz_grid(path, report, crs)
        return grid, report.findings
    raise InputError(
        f"unknown grid format '{suffix}'", file=path.name, fix="use .npz, GeoTIFF (.tif) or XYZ .csv"
    )


def read_geotiff_grid(path: Path, crs: str = "") -> tuple[Grid, list[Finding]]:
    """Band 1 of a GeoTIFF as a 2D grid in the project CRS (metres).

    Parameters
    ----------
    path : Path
    crs : str
        Project CRS; empty to keep the raster's CRS (a geographic raster then goes to
        the UTM zone of its centre).

    Raises
    ------
    InputError
        When the file is not a readable raster, is rotated, or has no CRS while
        the project declares one it could be compared with.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    findings: list[Finding] = []
    try:
        with rasterio.open(path) as source:
            values = source.read(1, masked=True).astype(float).filled(np.nan)
            transform, source_crs, count = source.transform, source.crs, source.count
            unit = source.units[0] if source.units and source.units[0] else ""
    except RasterioIOError as exc:
        raise InputError(
            f"not a readable GeoTIFF ({exc})", file=path.name, fix="export the grid as GeoTIFF"
        ) from exc
    if count > 1:
        findings.append(Finding(path.name, f"{count} bands: band 1 used as the grid", "info"))
    if transform.b != 0 or transform.d != 0:
        raise InputError("the raster is rotated", file=path.name, fix="export a north-up raster")
    target = crs or (
        utm_crs_for([transform.c], [transform.f]) if source_crs and source_crs.is_geographic else ""
    )
    if source_crs is None and crs:
        findings.append(
            Finding(
                path.name,
                f"the raster has no CRS: taken to be the project's ({crs})",
                "warning",
                fix="write the CRS into the GeoTIFF",
            )
        )
    elif source_crs is not None and target and parse_crs(target) != source_crs:
        dst_crs = parse_crs(target)
        height, width = values.shape
        dst_transform, dst_width, dst_height = calculate_default_transform(
            source_crs, dst_crs, width, height, *rasterio.transform.array_bounds(height, width, transform)
        )
        projected = np.full((dst_height, dst_width), np.nan)
        reproject(
            values,
            projected,
            src_transform=transform,
            src_crs=source_crs,
            dst_transform=dst_transform,
            dst_crs=dst_crs,
            resampling=Resampling.bilinear,
            src_nodata=np.nan,
            dst_nodata=np.nan,
        )
        values, transform = projected, dst_transform
        findings.append(
            Finding(path.name, f"reprojected from {source_crs.to_string()} to {target} (bilinear)", "info")
        )
    # North-up rasters store the top row first; Grid wants y increasing with the row.
    dx, dy = transform.a, -transform.e
    origin = (transform.c + dx / 2, transform.f - dy * (values.shape[0] - 0.5))
    return Grid(values[::-1].copy(), origin, (dx, dy), path.stem, unit), findings


def _value_column(raw: pd.DataFrame, roles: dict[str, str], file: str) -> str:
    """The one column that is not a coordinate and holds numbers."""
    used = set(roles.values())
    numeric = [
        c
        for c in raw.columns
        if c not in used
        and pd.to_numeric(raw[c].head(200), errors="coerce").notna().mean() > 0.5
        and normalise_header(c) not in COLUMN_ALIASES["hole_id"] + ("line", "line_number", "fid", "id")
    ]
    if not numeric:
        raise InputError(
            "no numeric value column besides the coordinates",
            file=file,
            fix="give the grid values in a column such as 'value' or 'tmi_nt'",
        )
    return numeric[0]


def read_xyz_grid(path: Path, report: ValidationReport, crs: str = "", spacing: float | None = None) -> Grid:
    """A grid from an XYZ table: regular lattice read directly, scattered points gridded.

    Parameters
    ----------
    path : Path
        CSV with x, y[, z] (m) or longitude, latitude columns and a value column (the
        first numeric non-coordinate column; line numbers and ids are skipped).
    report : ValidationReport
        Receives row accounting and findings.
    crs : str
        Project CRS for longitude/latitude input.
    spacing : float, optional
        Cell size (m) for scattered data; default: the median distance between
        consecutive points times 4, rounded (flight-line sampling to a line-spacing-ish cell).
    """
    raw = read_csv_text(path)
    file = path.name
    roles = recognise_columns(list(raw.columns), _XYZ_ROLES, file)
    report.account(file, len(raw), len(raw))
    frame, crs = table_xy(pd.DataFrame(index=raw.index), raw, roles, file, report, crs)
    value_column = _value_column(raw, roles, file)
    frame["value"] = numeric_cells(raw.loc[frame.index], value_column)
    frame = drop_rows(
        frame,
        frame["value"].isna().to_numpy(),
        report,
        file,
        "value missing or not a number: row dropped",
        column=value_column,
        values=raw.loc[frame.index, value_column],
    )
    if "z" in roles:
        frame["z"] = numeric_cells(raw.loc[frame.index], roles["z"])
    grid = regular_grid_from_points(frame, value_column)
    if grid is not None:
        report.add(
            Finding(
                file,
                f"regular {'3D' if grid.is_3d else '2D'} grid of {value_column} detected "
                f"(spacing {', '.join(f'{s:g}' for s in grid.spacing)} m)",
                "info",
            )
        )
        return grid
    x, y, v = frame["x"].to_numpy(), frame["y"].to_numpy(), frame["value"].to_numpy()
    if spacing is None:
        step = np.hypot(np.diff(x), np.diff(y))
        spacing = float(np.round(4 * np.median(step[step > 0]), 0)) or 1.0
    grid = grid_scattered(x, y, v, spacing, name=path.stem)
    report.add(
        Finding(
            file,
            f"scattered points of {value_column} gridded (verde block median + cubic, {spacing:g} m cells)",
            "info",
        )
    )
    return grid


def regular_grid_from_points(frame: pd.DataFrame, name: str) -> Grid | None:
    """A Grid when the x, y (and z) of ``frame`` sit on a regular lattice, else None.

    The lattice is the unique coordinates per axis with one common step; points must
    lie on it within 0.1 % of the step and fill at least half of it (unfilled cells NaN).
    """
    axes = [c for c in ("x", "y", "z") if c in frame]
    origin, spacing, index = [], [], []
    for axis in axes:
        coords = frame[axis].to_numpy(float)
        unique = np.unique(coords)
        if len(unique) < 2:
            if axis == "z":  # one level: a surface grid
                axes = axes[:2]
                break
            return None
        step = float(np.min(np.diff(unique)))
        k = (coords - unique[0]) / step
        if np.max(np.abs(k - np.round(k))) > 1e-3:
            return None
        origin.append(float(unique[0]))
        spacing.append(step)
        index.append(np.round(k).astype(int))
    shape = [int(i.max()) + 1 for i in index]
    if len(frame) < 0.5 * np.prod(shape):
        return None
    values = np.full(shape[::-1], np.nan)
    values[tuple(index[::-1])] = frame["value"].to_numpy(float)
    return Grid(values, tuple(origin), tuple(spacing), name)


def grid_scattered(
    x: np.ndarray,
    y: np.ndarray,
    values: np.ndarray,
    spacing: float,
    *,
    name: str = "",
    unit: str = "",
    max_distance: float | None = None,
) -> Grid:
    """Grid scattered or flight-line points (m) onto a regular 2D grid of ``spacing`` metres.

    Block medians over ``spacing`` cells (robust to spikes, evens out the dense
    along-line sampling), then piecewise-cubic interpolation between block centres.
    Cells farther than ``max_distance`` (default 3 x ``spacing``) from any point are NaN.
    """
    reducer = vd.BlockReduce(np.median, spacing=spacing)
    coordinates, reduced = reducer.filter(
        (np.asarray(x, float), np.asarray(y, float)), np.asarray(values, float)
    )
    if len(reduced) < 4:
        raise InputError(
            f"only {len(reduced)} cells of {spacing:g} m hold data: too few to grid",
            file=name or None,
            fix="use a smaller cell size",
        )
    gridder = vd.Cubic().fit(coordinates, reduced)
    region = vd.get_region(coordinates)
    grid = gridder.grid(region=region, spacing=spacing, data_names=["value"])
    masked = vd.distance_mask(
        (np.asarray(x, float), np.asarray(y, float)), maxdist=max_distance or 3 * spacing, grid=grid
    )
    easting, northing = masked.easting.to_numpy(), masked.northing.to_numpy()
    return Grid(
        masked["value"].to_numpy().astype(float),
        (float(easting[0]), float(northing[0])),
        (float(easting[1] - easting[0]), float(northing[1] - northing[0])),
        name,
        unit,
    )
