"""Exports read back: block tables (CSV, Parquet), VTK images, GeoTIFF plans, and the targets command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from afg_core.geostat import BlockModel
from afg_core.products import (
    BlockEstimate,
    estimate_table,
    write_estimate_vti,
    write_plan_geotiff,
    write_table,
)


@pytest.fixture
def estimate() -> BlockEstimate:
    mask = np.ones((4, 3, 2), dtype=bool)
    mask[0, 0, :] = False
    block = BlockModel(
        origin=(500_000.0, 7_000_000.0, 100.0), cell_size=(25.0, 50.0, 10.0), shape=(4, 3, 2), mask=mask
    )
    x, y, z = block.cell_centres().T
    log_estimate = np.log(1000.0 + (x - 500_000.0) + 0.1 * (y - 7_000_000.0) + z)
    log_estimate[~block.flat_mask()] = np.nan
    return BlockEstimate(block, log_estimate, np.full(block.n_cells, 0.04))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_block_table_round_trip(estimate: BlockEstimate, tmp_path, suffix: str) -> None:
    table = estimate_table(estimate, 1000.0)
    assert len(table) == estimate.block.flat_mask().sum() == 22
    path = write_table(table, tmp_path / f"blocks{suffix}")
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, table, check_exact=False, rtol=1e-12)
    assert set(back[["dx", "dy", "dz"]].iloc[0]) == {25.0, 50.0, 10.0}
    assert back["p_above"].between(0, 1).all()


def test_vti_round_trip_keeps_cells_in_place(estimate: BlockEstimate, tmp_path) -> None:
    import pyvista as pv

    image = pv.read(write_estimate_vti(estimate, 1000.0, tmp_path / "blocks.vti"))
    assert image.n_cells == estimate.block.n_cells
    centres = image.cell_centers().points
    table = estimate_table(estimate, 1000.0)
    for row in table.sample(5, random_state=0).itertuples():
        cell = np.argmin(np.linalg.norm(centres - [row.x, row.y, row.z], axis=1))
        assert np.linalg.norm(centres[cell] - [row.x, row.y, row.z]) < 1e-6
        assert image.cell_data["treo_ppm"][cell] == pytest.approx(row.treo_ppm)
    assert np.isnan(image.cell_data["treo_ppm"]).sum() == 2  # the masked column


def test_geotiff_plan_is_north_up_in_the_project_crs(estimate: BlockEstimate, tmp_path) -> None:
    import rasterio

    path = write_plan_geotiff(estimate.block, estimate.grade_ppm, tmp_path / "plan.tif", "EPSG:28350")
    with rasterio.open(path) as dataset:
        plan = dataset.read(1)
        assert dataset.crs.to_epsg() == 28350 and plan.shape == (3, 4)
        west, north = dataset.transform * (0, 0)
        assert (west, north) == (500_000.0 - 12.5, 7_000_000.0 + 2.5 * 50.0)
        # The pixel at the block's north-east corner holds the column's highest grade.
        grid = estimate.block.reshape(estimate.grade_ppm)
        assert plan[0, 3] == pytest.approx(np.nanmax(grid[3, 2, :]), rel=1e-6)
        assert np.isnan(plan[2, 0])  # the masked south-west column


def test_targets_command_exports_everything(cli_demo, tmp_path, afg_cli) -> None:
    import rasterio

    folder, _ = cli_demo
    out = tmp_path / "export"
    done = afg_cli("targets", str(folder), "--export", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    names = {p.name for p in out.iterdir()}
    assert names == {
        "targets.csv",
        "blocks.csv",
        "blocks.parquet",
        "blocks.vti",
        "treo_max_plan.tif",
        "targets.omf",
    }
    blocks = pd.read_parquet(out / "blocks.parquet")
    assert len(blocks) > 0 and (blocks["treo_ppm"] > 0).all()
    with rasterio.open(out / "treo_max_plan.tif") as dataset:
        assert dataset.crs is not None and np.isfinite(dataset.read(1)).any()
    import omf

    elements = {e.name: e for e in omf.OMFReader(str(out / "targets.omf")).get_project().elements}
    targets = pd.read_csv(out / "targets.csv")
    assert set(elements) == {"drill holes", "kriged TREO blocks", "drill targets", "proposed holes"}
    assert len(elements["drill targets"].geometry.vertices.array) == len(targets) > 0
    assert len(elements["proposed holes"].geometry.segments.array) == min(len(targets), 10)  # --top
