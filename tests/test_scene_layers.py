"""The 3D viewer's server-side layers: each builder on small synthetic grids, the payload cap on 1M cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import RegularGridInterpolator

from afg_core.geostat.blockmodel import BlockModel
from afg_core.products import BlockEstimate
from afg_core.products.scene3d import LayerStyle, Scene, legend_entries
from afg_core.products.scene_layers import (
    arrow_glyphs,
    coarsen,
    gradient_vectors,
    iso_surface,
    mesh_bytes,
    orthogonal_slice,
    start_factor,
    threshold_cells,
)
from afg_core.products.scene_overlay import ColourBar, Swatch, axes_meshes, colour_bar_ticks, legend_html
from afg_core.products.viewer import PAGE_OVERHEAD_MB, ViewerSettings, build_viewer_scene

OFFSET = (1000.0, 2000.0, 0.0)
BLOCK = BlockModel(origin=(1005.0, 2005.0, 2.5), cell_size=(10.0, 10.0, 5.0), shape=(12, 10, 8))


def linear_field(block: BlockModel, gradient=(0.02, -0.01, 0.05)) -> np.ndarray:
    return block.cell_centres() @ np.asarray(gradient) - 30.0


def test_threshold_keeps_only_cells_above_cutoff() -> None:
    values = np.random.default_rng(1).lognormal(6.0, 1.0, BLOCK.n_cells)
    cells = threshold_cells(BLOCK, values, "grade", OFFSET, 500.0)
    kept = np.asarray(cells.cell_data["grade"])
    assert cells.n_cells == int((values >= 500.0).sum())
    assert np.sort(kept) == pytest.approx(np.sort(values[values >= 500.0]))


def test_slice_returns_the_plane_of_cells_at_its_position() -> None:
    values = linear_field(BLOCK)
    grid = BLOCK.reshape(values)
    for axis, position, index in [("x", 1043.0, 4), ("y", 2071.0, 7), ("z", 12.4, 2)]:
        cut = orthogonal_slice(BLOCK, values, "v", OFFSET, axis, position)
        i = "xyz".index(axis)
        plane = np.take(grid, index, axis=i)
        assert cut.n_cells == plane.size
        assert np.sort(np.asarray(cut.cell_data["v"])) == pytest.approx(np.sort(plane.ravel()), rel=1e-6)
        # Flat at the position, in local coordinates.
        assert np.asarray(cut.points)[:, i] == pytest.approx(position - OFFSET[i], abs=1e-3)
    assert orthogonal_slice(BLOCK, values, "v", OFFSET, "x", 5000.0).n_points == 0


def test_iso_surface_lies_where_the_interpolated_field_equals_the_level() -> None:
    rng = np.random.default_rng(2)
    values = np.log(rng.lognormal(6.0, 1.0, BLOCK.n_cells))
    level = float(np.median(values))
    surface = iso_surface(BLOCK, values, "v", OFFSET, level)
    assert surface.n_points > 50
    interpolate = RegularGridInterpolator(BLOCK.axes(), BLOCK.reshape(values))
    at_vertices = interpolate(np.asarray(surface.points, dtype=float) + np.asarray(OFFSET))
    assert at_vertices == pytest.approx(np.full(len(at_vertices), level), abs=1e-4)


def test_coarsen_caps_cells_and_keeps_the_range() -> None:
    block = BlockModel((5.0, 5.0, 2.5), (10.0, 10.0, 5.0), (60, 50, 40))
    values = np.random.default_rng(3).lognormal(6.0, 0.5, block.n_cells)
    factor = start_factor(block, 5_000)
    coarse, merged = coarsen(block, values, factor)
    assert coarse.n_cells <= 5_000 < block.n_cells
    assert coarse.cell_size == (10.0 * factor, 10.0 * factor, 5.0 * factor)
    assert np.nanmean(merged) == pytest.approx(values.mean(), rel=0.02)
    assert values.min() <= np.nanmin(merged) and np.nanmax(merged) <= values.max()
    # A smooth field keeps its range under averaging.
    smooth = linear_field(block)
    merged = coarsen(block, smooth, factor)[1]
    assert np.nanmin(merged) == pytest.approx(smooth.min(), abs=0.1 * np.ptp(smooth))
    assert np.nanmax(merged) == pytest.approx(smooth.max(), abs=0.1 * np.ptp(smooth))
    # Masked cells do not count, and a group of masked cells stays empty.
    mask = np.ones(block.shape, dtype=bool)
    mask[:factor] = False
    masked = coarsen(BlockModel(block.origin, block.cell_size, block.shape, mask), values, factor)[1]
    assert np.isnan(coarse.reshape(masked)[0]).all() and np.isfinite(coarse.reshape(masked)[1:]).all()


@pytest.mark.parametrize("exaggeration", [1.0, 3.0])
def test_arrows_follow_a_linear_fields_gradient(exaggeration: float) -> None:
    gradient = np.array([0.02, -0.01, 0.05])
    vectors, factor, coarse = gradient_vectors(BLOCK, linear_field(BLOCK, gradient), OFFSET, 60, exaggeration)
    assert 0 < vectors.n_points <= 60 and factor > 1
    drawn = gradient * [1.0, 1.0, 1.0 / exaggeration]
    expected = drawn / np.linalg.norm(drawn)
    assert np.asarray(vectors.point_data["direction"]) == pytest.approx(
        np.tile(expected, (vectors.n_points, 1))
    )
    assert np.asarray(vectors.point_data["magnitude"]) == pytest.approx(np.linalg.norm(gradient))
    # Points sit at coarse cell centres, z stretched.
    centres = coarse.cell_centres() - np.asarray(OFFSET)
    centres[:, 2] *= exaggeration
    assert np.isin(np.round(np.asarray(vectors.points)[:, 2], 3), np.round(centres[:, 2], 3)).all()

    # Each arrow's long axis (first principal direction of its points) is the drawn gradient.
    arrows = arrow_glyphs(vectors, 8.0, "gradient")
    per_arrow = arrows.n_points // vectors.n_points
    one = np.asarray(arrows.points[:per_arrow], dtype=float)
    axis = np.linalg.svd(one - one.mean(axis=0))[2][0]
    assert abs(axis @ expected) == pytest.approx(1.0, abs=1e-3)


def test_axes_have_one_title_each_and_labels_apart() -> None:
    bounds = (0.0, 2000.0, 0.0, 1800.0, 0.0, 800.0)
    lines, text = axes_meshes(bounds, (400_000.0, 7_000_000.0, -200.0), exaggeration=2.0)
    assert lines.n_lines > 12 and text.n_points > 0
    # Text lies outside the box: south of it (x), west of it (y) or east of it (z), never on the data.
    points = np.asarray(text.points)
    outside = (points[:, 1] < 0) | (points[:, 0] > 2000.0) | (points[:, 0] < 0) | (points[:, 2] < 0)
    assert outside.all()


def test_colour_bar_ticks_and_legend() -> None:
    ticks = colour_bar_ticks(ColourBar("TREO (ppm, log scale)", "YlOrRd", (2.0, 4.0), log10_values=True))
    assert [label for _, label in ticks][0] == "100" and len(ticks) <= 5
    assert all(0.0 <= f <= 1.0 for f, _ in ticks)
    fractions = [f for f, _ in ticks]
    assert fractions == sorted(fractions) and min(np.diff(fractions)) > 0.1  # labels do not touch
    page = legend_html([ColourBar("P", "viridis", (0.0, 1.0)), Swatch("Iso-surface", "#e6550d")])
    assert page.count('class="afg-bar"') == 1 and page.count('class="afg-swatch"') == 1
    assert "http" not in page  # nothing fetched


def test_legend_has_one_bar_per_coloured_layer() -> None:
    import pyvista as pv

    mesh = pv.PolyData(np.zeros((3, 3)))
    mesh.point_data["a"] = [0.0, 1.0, 2.0]
    mesh.point_data["b"] = [0.0, 1.0, 2.0]
    shared = LayerStyle(scalars="a", clim=(0.0, 2.0), scalar_bar_title="A")
    scene = Scene((0.0, 0.0, 0.0))
    scene.layers += [
        (mesh, shared),
        (mesh, shared),  # blocks and slices of one field share one bar
        (mesh, LayerStyle(scalars="b", cmap="plasma", scalar_bar_title="B")),
        (mesh, LayerStyle(color="red", legend="Iso")),
        (mesh, LayerStyle(color="grey")),
    ]
    entries = legend_entries(scene)
    assert entries == [
        ColourBar("A", "viridis", (0.0, 2.0)),
        ColourBar("B", "plasma", (0.0, 2.0)),
        Swatch("Iso", "red"),
    ]


def test_a_million_cell_scene_stays_under_the_payload_cap() -> None:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(4)
    block = BlockModel((5.0, 5.0, 2.5), (10.0, 10.0, 5.0), (100, 100, 100))
    smooth = gaussian_filter(rng.standard_normal(block.shape), sigma=(6, 6, 3)).ravel()
    log_treo = np.log(800.0) + 0.9 * smooth / smooth.std()
    estimate = BlockEstimate(block, log_treo, np.full(block.n_cells, 0.1), None, "synthetic")
    samples = pd.DataFrame(
        {"hole_id": np.repeat(np.arange(50), 100), "from": np.tile(np.arange(100) * 5.0, 50)}
    ).assign(x=lambda t: t["hole_id"] * 19.0, y=lambda t: t["hole_id"] * 17.0, z=lambda t: 500.0 - t["from"])
    samples["TREO"] = rng.lognormal(6.5, 1.0, len(samples))
    settings = ViewerSettings(
        cutoff=1000.0,
        slices=("x", "y", "z"),
        iso=True,
        gradient=True,
        arrows=True,
        zones=True,
        exaggeration=2.0,
    )
    built = build_viewer_scene(settings, estimate, samples, (0.0, 0.0, 0.0))
    assert {"blocks", "slices", "iso", "gradient", "arrows", "traces", "zones"} <= set(built.layer_bytes)
    # Meshes before compression, base64-inflated, plus the page: within 5 MB.
    assert built.mesh_mb * 4 / 3 + PAGE_OVERHEAD_MB < settings.payload_mb
    assert any("coarser grid" in note for note in built.notes)  # the page is told what was thinned
    assert all(mesh_bytes(mesh) > 0 for mesh, _ in built.scene.layers)
