"""Predicted volumes and targets written for the tools a geologist already uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from afg_core.learn.experiment import PredictedVolume


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
    import pyvista as pv

    block = volume.block
    grid = pv.ImageData(
        dimensions=np.asarray(block.shape) + 1,
        spacing=block.cell_size,
        origin=np.asarray(block.origin) - 0.5 * np.asarray(block.cell_size),
    )
    # VTK images store cells x-fastest (Fortran order over (nx, ny, nz)).
    for name, values in volume.grade_ppm.items():
        grid.cell_data[f"{name}_ppm"] = block.reshape(values).ravel(order="F")
        grid.cell_data[f"{name}_log_sd"] = block.reshape(volume.log_sd[name]).ravel(order="F")
        if name in volume.probability:
            grid.cell_data[f"{name}_p_above"] = block.reshape(volume.probability[name]).ravel(order="F")
    path = Path(path)
    grid.save(path)
    return path
