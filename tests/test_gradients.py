"""Tests of afg_core.gradients: exact derivatives of known fields, masks, directions, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from afg_core.geostat.blockmodel import BlockModel
from afg_core.geostat.estimation import krige_block_model
from afg_core.geostat.gradients import block_gradient, geophysics_gradient
from afg_core.geostat.variogram import VariogramModel
from afg_core.io.grids import Grid

BLOCK = BlockModel(origin=(100.0, 200.0, -50.0), cell_size=(10.0, 20.0, 5.0), shape=(6, 5, 4))


def _field(function) -> np.ndarray:
    centres = BLOCK.cell_centres()
    return BLOCK.reshape(function(centres[:, 0], centres[:, 1], centres[:, 2]))


def test_linear_field_gradient_is_exact_everywhere() -> None:
    gradient = block_gradient(BLOCK, _field(lambda x, y, z: 2.0 * x - 3.0 * y + 0.5 * z))
    np.testing.assert_allclose(gradient.component("x"), 2.0, rtol=1e-12)
    np.testing.assert_allclose(gradient.component("y"), -3.0, rtol=1e-12)
    np.testing.assert_allclose(gradient.component("z"), 0.5, rtol=1e-12)
    np.testing.assert_allclose(gradient.magnitude, np.sqrt(4 + 9 + 0.25))


def test_quadratic_field_gradient_is_exact_inside() -> None:
    gradient = block_gradient(BLOCK, _field(lambda x, y, z: x**2 + 0.5 * y**2 - z**2))
    xs, ys, zs = BLOCK.axes()
    inside = (slice(1, -1),) * 3
    gx, gy, gz = np.meshgrid(xs, ys, zs, indexing="ij")
    np.testing.assert_allclose(gradient.component("x")[inside], 2 * gx[inside], rtol=1e-12)
    np.testing.assert_allclose(gradient.component("y")[inside], gy[inside], rtol=1e-12)
    np.testing.assert_allclose(gradient.component("z")[inside], -2 * gz[inside], rtol=1e-12)
    # Sampling interpolates each component trilinearly, exact for these linear derivatives.
    points = np.array([[xs[2] + 3.0, ys[2] - 7.0, zs[1] + 1.0], [xs[3], ys[3], zs[2]]])
    np.testing.assert_allclose(
        gradient.sample(points),
        np.column_stack([2 * points[:, 0], points[:, 1], -2 * points[:, 2]]),
        rtol=1e-12,
    )


def test_masked_cells_use_one_sided_differences_and_stay_nan() -> None:
    mask = np.ones(BLOCK.shape, dtype=bool)
    mask[3, :, :] = False
    masked = BlockModel(BLOCK.origin, BLOCK.cell_size, BLOCK.shape, mask)
    gradient = block_gradient(masked, _field(lambda x, y, z: 4.0 * x + y))
    dx = gradient.component("x")
    assert np.isnan(dx[3]).all() and np.isnan(gradient.magnitude[3]).all()
    # Cells beside the masked slab take the one-sided difference, exact for a linear field.
    np.testing.assert_allclose(dx[2], 4.0)
    np.testing.assert_allclose(dx[4], 4.0)
    isolated = np.zeros(BLOCK.shape, dtype=bool)
    isolated[2, 2, 2] = True
    lone = block_gradient(
        BlockModel(BLOCK.origin, BLOCK.cell_size, BLOCK.shape, isolated), _field(lambda x, y, z: x)
    )
    assert np.isnan(lone.component("x")).all()


def test_gradient_direction_angles() -> None:
    east = block_gradient(BLOCK, _field(lambda x, y, z: x))
    np.testing.assert_allclose(east.azimuth, 90.0)
    np.testing.assert_allclose(east.dip, 0.0, atol=1e-12)
    north = block_gradient(BLOCK, _field(lambda x, y, z: y))
    np.testing.assert_allclose(north.azimuth % 360.0, 0.0, atol=1e-12)
    down = block_gradient(BLOCK, _field(lambda x, y, z: -z + 1e-9 * x))
    np.testing.assert_allclose(down.dip, 90.0, atol=1e-6)
    south_west_up = block_gradient(BLOCK, _field(lambda x, y, z: -x - y + np.sqrt(2.0) * z))
    np.testing.assert_allclose(south_west_up.azimuth, 225.0)
    np.testing.assert_allclose(south_west_up.dip, -45.0)


def test_flat_values_are_reshaped_to_the_block() -> None:
    flat = (2.0 * BLOCK.cell_centres()[:, 2]).ravel()
    np.testing.assert_allclose(block_gradient(BLOCK, flat).component("z"), 2.0)


def test_geophysics_grid_gradients_in_units_per_metre() -> None:
    x0, y0, dx, dy = 1000.0, 5000.0, 25.0, 50.0
    xs, ys = x0 + dx * np.arange(8), y0 + dy * np.arange(6)
    gx, gy = np.meshgrid(xs, ys)  # (ny, nx)
    surface = Grid(values=3.0 * gx - 2.0 * gy, origin=(x0, y0), spacing=(dx, dy), name="mag", unit="SI")
    gradient = geophysics_gradient(surface)
    assert gradient.names == ("y", "x")
    np.testing.assert_allclose(gradient.component("x"), 3.0)
    np.testing.assert_allclose(gradient.component("y"), -2.0)
    np.testing.assert_allclose(gradient.sample([[1010.0, 5020.0, -300.0]]), [[3.0, -2.0]])
    zs = -100.0 + 10.0 * np.arange(4)
    vz, vy, vx = np.meshgrid(zs, ys, xs, indexing="ij")
    voxels = Grid(values=vx + 0.1 * vz, origin=(x0, y0, -100.0), spacing=(dx, dy, 10.0))
    volume = geophysics_gradient(voxels)
    np.testing.assert_allclose(volume.component("z"), 0.1)
    np.testing.assert_allclose(volume.sample([[1030.0, 5040.0, -85.0]]), [[1.0, 0.0, 0.1]], atol=1e-12)


def test_gradient_of_a_kriged_block_model_is_finite_where_estimated() -> None:
    rng = np.random.default_rng(0)
    coords = rng.uniform([100, 200, -50], [160, 300, -30], (80, 3))
    values = 0.05 * coords[:, 0] + rng.normal(scale=0.01, size=80)
    model = VariogramModel(kind="spherical", nugget=0.0, sill=1.0, range=150.0)
    kriged = krige_block_model(BLOCK, coords, values, model)
    gradient = block_gradient(kriged.block, kriged.estimate)
    estimated = kriged.block.mask
    assert np.isfinite(gradient.component("x")[estimated]).all()
    assert np.nanmedian(gradient.component("x")) == pytest.approx(0.05, rel=0.3)
