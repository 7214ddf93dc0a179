"""Grid and cube readers: GeoTIFF, XYZ tables, ENVI; sampling at block-model cells and columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import spectral.io.envi as envi
from rasterio.transform import from_origin

from afg_core.errors import InputError
from afg_core.geostat.blockmodel import BlockModel
from afg_core.io.cube_readers import read_cube
from afg_core.io.grid_readers import read_geotiff_grid, read_grid, regular_grid_from_points
from afg_core.io.grids import Grid, sample_at_cells
from afg_core.io.validation import ValidationReport
from afg_core.spectral.pca import sample_scores_at, scores_at_columns, spectral_pca


def _geotiff(
    path: Path, data: np.ndarray, crs: str, x_left: float, y_top: float, size: float, **tags
) -> None:
    bands = data[None] if data.ndim == 2 else data
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=bands.shape[1],
        width=bands.shape[2],
        count=bands.shape[0],
        dtype="float32",
        crs=crs,
        transform=from_origin(x_left, y_top, size, size),
        nodata=-9999.0,
    ) as out:
        out.write(bands.astype(np.float32))
        if tags:
            out.update_tags(**tags)


def test_geotiff_grid_is_flipped_to_rows_northwards(tmp_path: Path) -> None:
    data = np.arange(12, dtype=float).reshape(3, 4)  # row 0 is the northern edge
    data[0, 0] = -9999.0
    _geotiff(tmp_path / "mag.tif", data, "EPSG:28350", 1000.0, 5030.0, 10.0)
    grid, findings = read_geotiff_grid(tmp_path / "mag.tif", "EPSG:28350")
    assert findings == []
    assert grid.origin == (1005.0, 5005.0) and grid.spacing == (10.0, 10.0)
    np.testing.assert_array_equal(grid.values[0], data[2])
    assert np.isnan(grid.values[2, 0])
    assert grid.sample(np.array([1015.0]), np.array([5025.0]))[0] == pytest.approx(1.0)


def test_geotiff_in_degrees_is_reprojected_to_the_project_crs(tmp_path: Path) -> None:
    _geotiff(tmp_path / "geo.tif", np.ones((20, 20)), "EPSG:4326", 119.0, -32.0, 0.001)
    grid, findings = read_grid(tmp_path / "geo.tif", "EPSG:28350")
    assert "reprojected" in findings[0].message
    assert 600_000 < grid.origin[0] < 800_000 and 6_400_000 < grid.origin[1] < 6_500_000
    assert np.nanmean(grid.values) == pytest.approx(1.0)


def test_xyz_regular_lattice_is_detected(tmp_path: Path) -> None:
    xs, ys = np.meshgrid(np.arange(5) * 25.0 + 100, np.arange(4) * 25.0 + 200)
    values = xs + 10 * ys
    lines = ["X,Y,TMI_nT"] + [f"{x},{y},{v}" for x, y, v in zip(xs.ravel(), ys.ravel(), values.ravel())]
    (tmp_path / "tmi.csv").write_text("\n".join(lines[:-1]) + "\n")  # one point missing: NaN cell
    grid, findings = read_grid(tmp_path / "tmi.csv")
    assert "regular 2D grid" in findings[-1].message
    assert grid.values.shape == (4, 5) and grid.spacing == (25.0, 25.0) and np.isnan(grid.values[-1, -1])
    np.testing.assert_allclose(grid.values[:3], values[:3])


def test_scattered_points_are_not_a_lattice() -> None:
    import pandas as pd

    frame = pd.DataFrame({"x": [0.0, 1.3, 2.0], "y": [0.0, 1.0, 2.0], "value": [1.0, 2.0, 3.0]})
    assert regular_grid_from_points(frame, "v") is None


def test_surface_grids_attach_to_every_depth_voxels_do_not() -> None:
    model = BlockModel((0.0, 0.0, -5.0), (10.0, 10.0, 10.0), (3, 2, 2))
    surface = Grid(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), (0.0, 0.0), (10.0, 10.0), "tmi")
    voxels = Grid(np.stack([np.zeros((2, 3)), np.ones((2, 3))]), (0.0, 0.0, -5.0), (10.0, 10.0, 10.0), "sus")
    centres = model.cell_centres()
    on_surface = sample_at_cells(surface, centres)
    np.testing.assert_allclose(on_surface, surface.sample(centres[:, 0], centres[:, 1]))
    np.testing.assert_allclose(sample_at_cells(voxels, centres), (centres[:, 2] > 0).astype(float))


def _write_envi(path: Path, reflectance: np.ndarray, wavelengths_um: np.ndarray) -> None:
    envi.save_image(
        str(path),
        (reflectance * 10000).astype(np.int16),
        force=True,
        metadata={
            "wavelength": list(wavelengths_um),
            "wavelength units": "Micrometers",
            "reflectance scale factor": 10000,
            "map info": ["UTM", 1, 1, 500000.0, 7000040.0, 2.0, 2.0, 50, "South"],
        },
    )


def test_envi_cube_reads_units_scale_and_georeference(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    reflectance = rng.uniform(0.1, 0.6, (20, 30, 8))
    wavelengths = np.linspace(0.45, 2.4, 8)
    _write_envi(tmp_path / "uav.hdr", reflectance, wavelengths)
    cube = read_cube(tmp_path / "uav.hdr")
    assert cube.shape == (20, 30, 8) and cube.pixel_size == 2.0
    np.testing.assert_allclose(cube.wavelengths_nm, wavelengths * 1000)
    assert cube.origin == (500_001.0, 7_000_001.0)  # centre of the south-west pixel
    np.testing.assert_allclose(cube.reflectance[0], reflectance[-1], atol=1e-4)  # rows run northwards


def test_envi_without_wavelengths_names_the_key(tmp_path: Path) -> None:
    envi.save_image(str(tmp_path / "x.hdr"), np.ones((2, 2, 3), np.float32), force=True)
    with pytest.raises(InputError, match="file 'x.hdr'.*wavelength"):
        read_cube(tmp_path / "x.hdr")


def test_multiband_geotiff_cube_and_pc_scores_at_block_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    wavelengths = np.linspace(450, 2400, 12)
    abundance = np.linspace(0, 1, 16)[None, :, None] * np.ones((10, 16, 1))
    reflectance = (
        0.5
        - 0.3 * abundance * np.exp(-(((wavelengths - 900) / 150) ** 2))
        + rng.normal(0, 0.002, (10, 16, 12))
    )
    _geotiff(
        tmp_path / "cube.tif",
        np.moveaxis(reflectance, -1, 0),
        "EPSG:28350",
        0.0,
        10.0,
        1.0,
        wavelength=",".join(f"{w:.1f}" for w in wavelengths),
    )
    cube = read_cube(tmp_path / "cube.tif")
    assert cube.shape == (10, 16, 12) and cube.origin == (0.5, 0.5)
    pca = spectral_pca(cube, n_components=2)
    columns = scores_at_columns(pca, cube, np.array([2.0, 8.0, 14.0]), np.array([3.0, 6.0]))
    assert columns.shape == (3, 2, 2)
    np.testing.assert_allclose(columns[:, 0], sample_scores_at(pca, cube, [2.0, 8.0, 14.0], [3.0] * 3))
    # PC1 follows the iron-oxide abundance, which grows eastwards.
    assert abs(np.corrcoef(columns[:, 0, 0], [2.0, 8.0, 14.0])[0, 1]) > 0.99


def test_geotiff_cube_without_wavelengths_is_refused(tmp_path: Path) -> None:
    _geotiff(tmp_path / "nowl.tif", np.ones((3, 4, 4)) * 0.3, "EPSG:28350", 0.0, 4.0, 1.0)
    with pytest.raises(InputError, match="no wavelength for every band"):
        read_cube(tmp_path / "nowl.tif")


def test_report_accounts_xyz_rows(tmp_path: Path) -> None:
    from afg_core.io.grid_readers import read_xyz_grid

    (tmp_path / "pts.csv").write_text("X,Y,TMI\n0,0,1\n10,0,2\n0,10,x\n10,10,4\n")
    report = ValidationReport()
    read_xyz_grid(tmp_path / "pts.csv", report)
    assert report.rows_read["pts.csv"] == 4 and report.rows_dropped["pts.csv"] == 1
    assert [(f.row, f.column) for f in report.findings if "dropped" in f.message] == [(3, "TMI")]
