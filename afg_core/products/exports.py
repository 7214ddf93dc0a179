"""Block models, predicted volumes and plan maps written for the tools a geologist already uses.

Tables as CSV or Parquet (one row per estimated cell, centres and sizes in metres), volumes as
VTK images (``.vti``, read by ParaView and PyVista), plan maps as GeoTIFF in the project CRS;
holes, block models and targets together as OMF in :mod:`afg_core.products.omf_export`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.geostat.blockmodel import BlockModel
from afg_core.geostat.blockstore import BlockStore
from afg_core.learn.experiment import PredictedVolume
from afg_core.products.targets import BlockEstimate, grade_columns


def write_volume_parquet(volume: PredictedVolume, path: str | Path) -> Path:
    """Active cells of a predicted volume as Parquet: ``cell, x, y, z`` (m) and per grade
    ``<grade>_ppm``, ``<grade>_log_sd``, ``<grade>_p_above``."""
    path = Path(path)
    volume.to_frame().to_parquet(path, index=False)
    return path


def write_volume_vti(volume: PredictedVolume, path: str | Path) -> Path:
    """A predicted volume as a VTK image (``.vti``, cell data; NaN outside the predicted cells).

    Coordinates are the project's (m); cell arrays are named like the Parquet columns.
    """
    return _save_image(volume.block, volume_cell_arrays(volume), path)


def volume_cell_arrays(volume: PredictedVolume) -> dict[str, np.ndarray]:
    """Per-cell arrays of a predicted volume, named like the Parquet columns: ``<grade>_ppm``,
    ``<grade>_log_sd`` and ``<grade>_p_above``, in :meth:`BlockModel.cell_centres` order (NaN: not predicted)."""
    arrays = {}
    for name, values in volume.grade_ppm.items():
        arrays[f"{name}_ppm"] = values
        arrays[f"{name}_log_sd"] = volume.log_sd[name]
        if name in volume.probability:
            arrays[f"{name}_p_above"] = volume.probability[name]
    return arrays


def estimate_table(estimate: BlockEstimate, cutoff_ppm: float) -> pd.DataFrame:
    """Estimated cells of a block estimate: ``x, y, z`` (m, cell centres), ``dx, dy, dz`` (m),
    ``<grade>_ppm`` (expected grade, :func:`~afg_core.products.targets.grade_columns`: ``ni_ppm``,
    ``treo_ppm``), ``log_estimate``, ``log_sd`` and ``p_above`` (P(grade > cut-off))."""
    block = estimate.block
    active = block.flat_mask() & np.isfinite(estimate.log_estimate)
    centres = block.cell_centres()[active]
    dx, dy, dz = block.cell_size
    return pd.DataFrame(
        {
            "x": centres[:, 0],
            "y": centres[:, 1],
            "z": centres[:, 2],
            "dx": dx,
            "dy": dy,
            "dz": dz,
            grade_columns(estimate.grade).ppm: estimate.grade_ppm[active],
            "log_estimate": estimate.log_estimate[active],
            "log_sd": np.sqrt(np.clip(estimate.log_variance[active], 0, None)),
            "p_above": estimate.probability_above(cutoff_ppm)[active],
        }
    )


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """A table as ``.csv`` or ``.parquet`` (by the suffix of ``path``)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        table.to_parquet(path, index=False)
    elif path.suffix.lower() == ".csv":
        table.to_csv(path, index=False)
    else:
        raise ValueError(f"unknown table format {path.suffix!r}: use .csv or .parquet")
    return path


def _image(block: BlockModel):
    import pyvista as pv

    return pv.ImageData(
        dimensions=np.asarray(block.shape) + 1,
        spacing=block.cell_size,
        origin=np.asarray(block.origin) - 0.5 * np.asarray(block.cell_size),
    )


def write_estimate_vti(estimate: BlockEstimate, cutoff_ppm: float, path: str | Path) -> Path:
    """A block estimate as a VTK image (``.vti``): cells ``<grade>_ppm``, ``log_sd``, ``p_above`` (NaN: not
    estimated)."""
    return _save_image(estimate.block, estimate_cell_arrays(estimate, cutoff_ppm), path)


def estimate_cell_arrays(estimate: BlockEstimate, cutoff_ppm: float) -> dict[str, np.ndarray]:
    """Per-cell arrays of a block estimate: ``<grade>_ppm`` (expected grade, e.g. ``ni_ppm``), ``log_sd`` and
    ``p_above`` (P(grade > ``cutoff_ppm``)), in :meth:`BlockModel.cell_centres` order (NaN: masked, not estimated)."""
    mask = estimate.block.flat_mask()
    arrays = {
        grade_columns(estimate.grade).ppm: estimate.grade_ppm,
        "log_sd": np.sqrt(np.clip(estimate.log_variance, 0, None)),
        "p_above": estimate.probability_above(cutoff_ppm),
    }
    return {name: np.where(mask, values, np.nan) for name, values in arrays.items()}


def _save_image(block: BlockModel, arrays: dict[str, np.ndarray], path: str | Path) -> Path:
    grid = _image(block)
    for name, values in arrays.items():
        # VTK images store cells x-fastest (Fortran order over (nx, ny, nz)).
        grid.cell_data[name] = block.reshape(values).ravel(order="F")
    path = Path(path)
    grid.save(path)
    return path


def write_plan_geotiff(
    block: BlockModel, values: np.ndarray, path: str | Path, crs: str = "", reduce: str = "max"
) -> Path:
    """A plan view of per-cell values as a single-band GeoTIFF (float32, NaN no-data).

    Each pixel is one block-model column; ``reduce`` (``max`` or ``mean``) combines the
    column's cells. North up; pixel size = the cell size in x and y (m); ``crs`` the
    project CRS (e.g. ``EPSG:28350``), none when empty.
    """
    import rasterio
    from rasterio.transform import from_origin

    grid = block.reshape(np.where(block.flat_mask(), np.asarray(values, dtype=float), np.nan))
    with np.errstate(all="ignore"):
        if reduce == "max":
            plan = np.nanmax(np.where(np.isfinite(grid), grid, -np.inf), axis=2)
            plan[~np.isfinite(plan)] = np.nan
        elif reduce == "mean":
            plan = np.nanmean(grid, axis=2)
        else:
            raise ValueError("reduce must be 'max' or 'mean'")
    raster = plan.T[::-1].astype(np.float32)  # (ny, nx), first row northmost
    dx, dy, _ = block.cell_size
    west = block.origin[0] - 0.5 * dx
    north = block.origin[1] + (block.shape[1] - 0.5) * dy
    profile = {
        "driver": "GTiff",
        "height": raster.shape[0],
        "width": raster.shape[1],
        "count": 1,
        "dtype": "float32",
        "nodata": np.nan,
        "transform": from_origin(west, north, dx, dy),
        "crs": crs or None,
    }
    path = Path(path)
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(raster, 1)
    return path


def write_store_parquet(store: BlockStore, path: str | Path, names: Sequence[str]) -> Path:
    """Fields ``names`` of an out-of-core block model as Parquet, one row group per chunk.

    Columns ``cell, x, y, z`` (cell centre, m) and the fields; cells with no estimate are
    left out. Streamed: memory holds one chunk's table, whatever the model's size.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    writer = None
    try:
        for table in store.iter_tables(names):
            batch = pa.Table.from_pandas(table, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema)
            writer.write_table(batch)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no estimated cell: an empty table with the columns
        pd.DataFrame(columns=["cell", "x", "y", "z", *names]).to_parquet(path, index=False)
    return path


def write_store_csv(store: BlockStore, path: str | Path, names: Sequence[str]) -> Path:
    """Fields ``names`` of an out-of-core block model as CSV, appended chunk by chunk (see Parquet)."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        header = True
        for table in store.iter_tables(names):
            table.to_csv(handle, index=False, header=header)
            header = False
        if header:
            handle.write(",".join(["cell", "x", "y", "z", *names]) + "\n")
    return path
