"""Tests of afg_core.estimation (kriging, cross-validation) and afg_core.blockmodel."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED_DATA
from pykrige.ok3d import OrdinaryKriging3D
from scipy.spatial import cKDTree

from afg_core.geostat.blockmodel import BlockModel, block_model_from_extent, mask_far_cells
from afg_core.geostat.estimation import (
    cross_validate_by_hole,
    krige_block_model,
    ordinary_kriging,
    simple_kriging,
)
from afg_core.geostat.experimental import experimental_variogram
from afg_core.geostat.fitting import fit_variogram
from afg_core.geostat.search import SearchNeighbourhood, _search_each, find_neighbours
from afg_core.geostat.variogram import Structure, VariogramModel
from afg_core.io.drillholes import load_drillholes

SPHERICAL = VariogramModel(kind="spherical", nugget=0.1, sill=1.0, range=300.0)


def _samples(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    coords = rng.uniform(0, 500, (n, 3)) * [1.0, 1.0, 0.4]
    values = np.sin(coords[:, 0] / 120.0) + 0.5 * np.cos(coords[:, 1] / 90.0) + 0.2 * rng.normal(size=n)
    return coords, values


def _targets(m: int = 20, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 500, (m, 3)) * [1.0, 1.0, 0.4]


def _drillholes(
    n_holes: int = 6, per_hole: int = 10, seed: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    collars = rng.uniform(0, 400, (n_holes, 2))
    depth = -5.0 * np.arange(per_hole)
    coords = np.concatenate(
        [np.column_stack([np.full(per_hole, x), np.full(per_hole, y), depth]) for x, y in collars]
    )
    values = rng.normal(size=len(coords)) + coords[:, 0] / 200.0
    hole_ids = np.repeat([f"DH{i:02d}" for i in range(n_holes)], per_hole)
    return coords, values, hole_ids


@pytest.mark.parametrize("neighbours", [None, 8])
@pytest.mark.parametrize("nugget", [0.0, 0.2])
def test_kriging_is_exact_at_the_samples(neighbours: int | None, nugget: float) -> None:
    coords, values = _samples()
    model = VariogramModel(kind="exponential", nugget=nugget, sill=1.0, range=300.0)
    result = ordinary_kriging(coords, values, coords, model, neighbours=neighbours)
    np.testing.assert_allclose(result.estimate, values, atol=1e-8)
    np.testing.assert_allclose(result.variance, 0.0, atol=1e-8)


@pytest.mark.parametrize("neighbours", [None, 12])
def test_variance_is_non_negative_and_grows_away_from_data(neighbours: int | None) -> None:
    coords, values = _samples()
    targets = np.vstack([_targets(200), [[5000.0, 5000.0, 0.0]]])
    result = ordinary_kriging(coords, values, targets, SPHERICAL, neighbours=neighbours)
    assert result.estimate.dtype == np.float64 and result.variance.dtype == np.float64
    assert np.all(result.variance >= 0)
    assert result.variance[-1] == result.variance.max()
    assert result.variance[-1] > SPHERICAL.total_sill


@pytest.mark.parametrize("kind", ["spherical", "exponential", "gaussian"])
def test_global_ordinary_kriging_agrees_with_pykrige(kind: str) -> None:
    coords, values = _samples()
    targets = _targets()
    nugget = 0.05 if kind == "gaussian" else 0.1  # a nugget keeps the gaussian system well posed
    model = VariogramModel(kind=kind, nugget=nugget, sill=0.8, range=250.0)
    reference = OrdinaryKriging3D(
        coords[:, 0],
        coords[:, 1],
        coords[:, 2],
        values,
        variogram_model=kind,
        # PyKrige's list form is [full sill, range, nugget].
        variogram_parameters=[model.total_sill, model.range, model.nugget],
    )
    expected, expected_variance = reference.execute("points", targets[:, 0], targets[:, 1], targets[:, 2])
    result = ordinary_kriging(coords, values, targets, model, neighbours=None)
    np.testing.assert_allclose(result.estimate, np.asarray(expected), rtol=1e-6)
    np.testing.assert_allclose(result.variance, np.asarray(expected_variance), rtol=1e-6)
    np.testing.assert_array_equal(result.n_neighbours, len(values))


@pytest.mark.parametrize(
    "model",
    [
        SPHERICAL,
        VariogramModel(
            kind="gaussian", nugget=0.1, sill=1.0, range=300.0, range_minor=100.0, azimuth=30.0, dip=10.0
        ),
        VariogramModel(kind="power", nugget=0.1, sill=0.01, range=1.2),
    ],
)
def test_local_kriging_with_every_sample_equals_global(model: VariogramModel) -> None:
    coords, values = _samples()
    targets = _targets(50)
    local = ordinary_kriging(coords, values, targets, model, neighbours=100, chunk_size=7)
    whole = ordinary_kriging(coords, values, targets, model, neighbours=None, chunk_size=7)
    np.testing.assert_allclose(local.estimate, whole.estimate, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(local.variance, whole.variance, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(local.n_neighbours, len(values))


def test_local_kriging_uses_the_nearest_samples() -> None:
    coords, values = _samples()
    targets = _targets(5)
    local = ordinary_kriging(coords, values, targets, SPHERICAL, neighbours=10)
    for i, target in enumerate(targets):
        nearest = np.argsort(np.linalg.norm(coords - target, axis=1))[:10]
        single = ordinary_kriging(coords[nearest], values[nearest], target[None], SPHERICAL, neighbours=None)
        assert local.estimate[i] == pytest.approx(single.estimate[0], rel=1e-9)
        assert local.variance[i] == pytest.approx(single.variance[0], rel=1e-9)


def test_max_per_hole_limits_samples_per_hole() -> None:
    coords, values, hole_ids = _drillholes()
    target = np.array([[200.0, 200.0, -20.0]])
    result = ordinary_kriging(
        coords, values, target, SPHERICAL, neighbours=9, max_per_hole=3, hole_ids=hole_ids
    )
    assert result.n_neighbours[0] == 9
    distance = np.linalg.norm(coords - target, axis=1)
    assert len(np.unique(hole_ids[np.argsort(distance)[:9]])) < 3  # so the cap matters
    chosen = []
    for hole in np.unique(hole_ids):
        in_hole = np.flatnonzero(hole_ids == hole)
        chosen.extend(in_hole[np.argsort(distance[in_hole])[:3]])
    chosen = np.array(chosen)
    chosen = chosen[np.argsort(distance[chosen])[:9]]
    expected = ordinary_kriging(coords[chosen], values[chosen], target, SPHERICAL, neighbours=None)
    assert result.estimate[0] == pytest.approx(expected.estimate[0], rel=1e-9)
    assert result.variance[0] == pytest.approx(expected.variance[0], rel=1e-9)


def test_max_per_hole_uses_fewer_samples_when_holes_run_out() -> None:
    coords, values, hole_ids = _drillholes(n_holes=3)
    result = ordinary_kriging(
        coords, values, _targets(4), SPHERICAL, neighbours=20, max_per_hole=2, hole_ids=hole_ids
    )
    np.testing.assert_array_equal(result.n_neighbours, 6)
    assert np.all(np.isfinite(result.estimate))


def test_max_per_hole_needs_hole_ids() -> None:
    coords, values = _samples()
    with pytest.raises(ValueError, match="hole_ids"):
        ordinary_kriging(coords, values, _targets(), SPHERICAL, max_per_hole=2)


def test_nan_samples_are_dropped_and_nan_targets_are_not_estimated() -> None:
    coords, values = _samples()
    with_nan = values.copy()
    with_nan[:5] = np.nan
    targets = _targets(6)
    targets[2] = np.nan
    result = ordinary_kriging(coords, with_nan, targets, SPHERICAL, neighbours=None)
    clean = ordinary_kriging(coords[5:], values[5:], targets, SPHERICAL, neighbours=None)
    assert np.isnan(result.estimate[2]) and np.isnan(result.variance[2]) and result.n_neighbours[2] == 0
    np.testing.assert_allclose(result.estimate, clean.estimate)
    assert result.n_neighbours[0] == 55


def test_co_located_samples_are_merged() -> None:
    coords, values = _samples()
    doubled = np.vstack([coords, coords[:1]])
    doubled_values = np.append(values, values[0] + 1.0)
    merged_values = values.copy()
    merged_values[0] += 0.5
    targets = _targets()
    for neighbours in (None, 10):
        result = ordinary_kriging(doubled, doubled_values, targets, SPHERICAL, neighbours=neighbours)
        expected = ordinary_kriging(coords, merged_values, targets, SPHERICAL, neighbours=neighbours)
        np.testing.assert_allclose(result.estimate, expected.estimate, rtol=1e-10)


def test_two_dimensional_kriging_runs() -> None:
    coords, values = _samples()
    result = ordinary_kriging(coords[:, :2], values, _targets()[:, :2], SPHERICAL, neighbours=16)
    assert np.all(np.isfinite(result.estimate)) and np.all(result.variance >= 0)


def test_simple_kriging_is_exact_and_reverts_to_the_mean() -> None:
    coords, values = _samples()
    model = VariogramModel(kind="spherical", nugget=0.0, sill=1.0, range=300.0)
    targets = np.vstack([coords[:5], [[1e5, 1e5, 0.0]]])
    for neighbours in (None, 16):
        result = simple_kriging(coords, values, targets, model, mean=0.25, neighbours=neighbours)
        np.testing.assert_allclose(result.estimate[:5], values[:5], atol=1e-8)
        np.testing.assert_allclose(result.variance[:5], 0.0, atol=1e-8)
        assert result.estimate[5] == pytest.approx(0.25)
        assert result.variance[5] == pytest.approx(model.total_sill)


def test_simple_kriging_local_equals_global_and_defaults_to_the_sample_mean() -> None:
    coords, values = _samples()
    targets = _targets()
    local = simple_kriging(coords, values, targets, SPHERICAL, neighbours=100)
    whole = simple_kriging(coords, values, targets, SPHERICAL, mean=float(values.mean()), neighbours=None)
    np.testing.assert_allclose(local.estimate, whole.estimate, rtol=1e-9)
    np.testing.assert_allclose(local.variance, whole.variance, rtol=1e-9)


def test_simple_kriging_rejects_unbounded_models() -> None:
    coords, values = _samples()
    with pytest.raises(ValueError, match="bounded"):
        simple_kriging(coords, values, _targets(), VariogramModel("linear", 0.0, 1.0, 100.0), mean=0.0)


def test_cross_validation_predicts_every_sample_from_other_holes() -> None:
    coords, values, hole_ids = _drillholes()
    # Irregular depths: with equidistant samples the nearest-first order would hinge on ties.
    coords[:, 2] -= np.random.default_rng(7).uniform(0, 2, len(coords))
    result = cross_validate_by_hole(coords, values, hole_ids, SPHERICAL, neighbours=16)
    assert result.predicted.shape == values.shape
    assert np.all(np.isfinite(result.predicted)) and np.all(result.variance >= 0)
    np.testing.assert_array_equal(result.observed, values)
    first = hole_ids == "DH00"
    others = ordinary_kriging(
        coords[~first], values[~first], coords[first], SPHERICAL, neighbours=16, hole_ids=hole_ids[~first]
    )
    np.testing.assert_allclose(result.predicted[first], others.estimate)
    errors = result.predicted - values
    assert result.rmse == pytest.approx(np.sqrt(np.mean(errors**2)))
    assert result.mae == pytest.approx(np.mean(np.abs(errors)))
    assert result.r2 == pytest.approx(1 - np.sum(errors**2) / np.sum((values - values.mean()) ** 2))


def test_cross_validation_of_a_single_hole_predicts_nothing() -> None:
    coords, values, hole_ids = _drillholes(n_holes=1)
    result = cross_validate_by_hole(coords, values, hole_ids, SPHERICAL)
    assert np.all(np.isnan(result.predicted))
    assert np.isnan(result.rmse) and np.isnan(result.r2)


def test_block_model_centres_are_in_c_order() -> None:
    model = BlockModel(origin=(100.0, 200.0, -50.0), cell_size=(10.0, 20.0, 5.0), shape=(3, 4, 2))
    centres = model.cell_centres()
    assert model.n_cells == 24 and centres.shape == (24, 3)
    xs, ys, zs = model.axes()
    np.testing.assert_allclose(xs, [100.0, 110.0, 120.0])
    np.testing.assert_allclose(ys, [200.0, 220.0, 240.0, 260.0])
    np.testing.assert_allclose(zs, [-50.0, -45.0])
    np.testing.assert_allclose(centres[0], [100.0, 200.0, -50.0])
    np.testing.assert_allclose(centres[1], [100.0, 200.0, -45.0])  # iz varies fastest
    np.testing.assert_allclose(centres[2], [100.0, 220.0, -50.0])
    np.testing.assert_allclose(centres[8], [110.0, 200.0, -50.0])  # ix slowest
    grid = model.reshape(centres)
    assert grid.shape == (3, 4, 2, 3)
    np.testing.assert_allclose(grid[2, 1, 1], [120.0, 220.0, -45.0])
    np.testing.assert_array_equal(model.reshape(np.arange(24))[1, 2, 1], (1 * 4 + 2) * 2 + 1)


def test_block_model_rejects_a_mask_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match="mask"):
        BlockModel(origin=(0, 0, 0), cell_size=(1, 1, 1), shape=(2, 2, 2), mask=np.ones((2, 2), dtype=bool))


def test_block_model_from_extent_covers_the_data_with_padding() -> None:
    coords = np.array([[1000.0, 2000.0, 300.0], [1210.0, 2080.0, 255.0], [np.nan, 0.0, 0.0]])
    model = block_model_from_extent(coords, cell_size=(25.0, 25.0, 10.0), padding=(50.0, 50.0, 10.0))
    low = np.asarray(model.origin) - np.asarray(model.cell_size) / 2
    high = low + np.asarray(model.cell_size) * np.asarray(model.shape)
    np.testing.assert_allclose(low, [950.0, 1950.0, 245.0])
    assert np.all(high >= [1260.0, 2130.0, 310.0])
    assert np.all(high - np.asarray(model.cell_size) < [1260.0, 2130.0, 310.0])
    assert model.mask is None and model.flat_mask().all()


def test_mask_far_cells_keeps_only_cells_near_samples() -> None:
    model = BlockModel(origin=(5.0, 5.0, 5.0), cell_size=(10.0, 10.0, 10.0), shape=(10, 1, 1))
    samples = np.array([[5.0, 5.0, 5.0]])
    masked = mask_far_cells(model, samples, max_distance=20.0)
    np.testing.assert_array_equal(masked.flat_mask(), [True, True, True] + [False] * 7)
    again = mask_far_cells(masked, np.array([[95.0, 5.0, 5.0]]), max_distance=5.0)
    assert not again.flat_mask().any()  # existing mask is kept
    assert masked.mask.shape == model.shape


def test_kriging_a_masked_block_model() -> None:
    coords, values, _ = _drillholes()
    model = mask_far_cells(block_model_from_extent(coords), coords, max_distance=60.0)
    active = model.flat_mask()
    estimate = np.full(model.n_cells, np.nan)
    estimate[active] = ordinary_kriging(coords, values, model.cell_centres()[active], SPHERICAL).estimate
    grid = model.reshape(estimate)
    assert np.isfinite(grid[model.mask]).all() and np.isnan(grid[~model.mask]).all()


def _greedy_octants(coords: np.ndarray, target: np.ndarray, k: int, per_octant: int) -> np.ndarray:
    """Brute-force octant search: nearest first, at most ``per_octant`` per octant."""
    order = np.argsort(np.linalg.norm(coords - target, axis=1), kind="stable")
    counts: dict[tuple, int] = {}
    chosen = []
    for j in order:
        octant = tuple(coords[j] > target)
        if counts.get(octant, 0) < per_octant:
            counts[octant] = counts.get(octant, 0) + 1
            chosen.append(j)
        if len(chosen) == k:
            break
    return np.array(chosen)


def test_octant_search_takes_the_nearest_samples_of_each_octant() -> None:
    coords, values = _samples(200)
    targets = _targets(6)
    search = SearchNeighbourhood(max_samples=12, max_per_octant=2, max_per_hole=None)
    result = ordinary_kriging(coords, values, targets, SPHERICAL, search=search)
    for i, target in enumerate(targets):
        chosen = _greedy_octants(coords, target, 12, 2)
        expected = ordinary_kriging(coords[chosen], values[chosen], target[None], SPHERICAL, neighbours=None)
        assert result.n_neighbours[i] == len(chosen)
        assert result.estimate[i] == pytest.approx(expected.estimate[0], rel=1e-9)
        assert result.variance[i] == pytest.approx(expected.variance[0], rel=1e-9)


def test_search_radius_and_minimum_samples_leave_far_targets_unestimated() -> None:
    coords, values = _samples()
    far = np.array([[2000.0, 2000.0, 0.0]])
    targets = np.vstack([_targets(5), far])
    result = ordinary_kriging(coords, values, targets, SPHERICAL, search=SearchNeighbourhood(radius=300.0))
    assert (
        np.isfinite(result.estimate[:5]).all()
        and np.isnan(result.estimate[5])
        and result.n_neighbours[5] == 0
    )
    strict = ordinary_kriging(
        coords, values, targets, SPHERICAL, search=SearchNeighbourhood(radius=60.0, min_samples=4)
    )
    inside = np.array([(np.linalg.norm(coords - t, axis=1) <= 60.0).sum() for t in targets])
    np.testing.assert_array_equal(np.isfinite(strict.estimate), inside >= 4)
    np.testing.assert_array_equal(strict.n_neighbours, np.where(inside >= 4, np.minimum(inside, 32), 0))


def test_anisotropic_search_ellipsoid_follows_its_axes() -> None:
    coords = np.array([[0.0, 100.0, 0.0], [100.0, 0.0, 0.0], [0.0, 0.0, 30.0]])
    values = np.array([1.0, 2.0, 3.0])
    ellipsoid = SearchNeighbourhood(radius=150.0, radius_minor=50.0, radius_vertical=40.0, azimuth=0.0)
    result = ordinary_kriging(coords, values, np.zeros((1, 3)), SPHERICAL, search=ellipsoid)
    assert result.n_neighbours[0] == 2  # north (major) and up (vertical) are inside, east is not
    turned = SearchNeighbourhood(radius=150.0, radius_minor=50.0, radius_vertical=20.0, azimuth=90.0)
    assert ordinary_kriging(coords, values, np.zeros((1, 3)), SPHERICAL, search=turned).n_neighbours[0] == 1


def test_tiled_search_equals_per_target_search() -> None:
    coords, values, hole_ids = _drillholes(n_holes=40, per_hole=30)
    block = BlockModel(origin=(0.0, 0.0, -140.0), cell_size=(20.0, 20.0, 10.0), shape=(20, 20, 15))
    targets = block.cell_centres()
    tree = cKDTree(coords)
    codes = np.unique(hole_ids, return_inverse=True)[1].astype(np.int64)
    for search in (SearchNeighbourhood(max_samples=16), SearchNeighbourhood(max_samples=16, radius=80.0)):
        tiled = find_neighbours(tree, targets, search, codes)
        each = _search_each(tree, targets, search, codes, search.hole_cap(), 0, 16)
        np.testing.assert_array_equal(tiled >= 0, each >= 0)

        def distances(idx: np.ndarray) -> np.ndarray:
            # Equidistant samples may come in either order, so compare sorted distances.
            d = np.linalg.norm(coords[np.maximum(idx, 0)] - targets[:, None, :], axis=2)
            return np.sort(np.where(idx >= 0, d, np.inf), axis=1)

        np.testing.assert_allclose(distances(tiled), distances(each), rtol=1e-12)
        assert (tiled >= 0).sum() > 0


def test_columns_kriged_together_equal_separate_calls() -> None:
    coords, values, hole_ids = _drillholes(n_holes=8)
    second = np.cos(coords[:, 0] / 50.0)
    other = VariogramModel(kind="exponential", nugget=0.05, sill=0.5, range=150.0)
    targets = _targets(30) * [0.8, 0.8, -0.25]
    together = ordinary_kriging(
        coords,
        np.column_stack([values, second]),
        targets,
        [SPHERICAL, other],
        neighbours=12,
        hole_ids=hole_ids,
    )
    for column, (vals, model) in enumerate([(values, SPHERICAL), (second, other)]):
        alone = ordinary_kriging(coords, vals, targets, model, neighbours=12, hole_ids=hole_ids)
        np.testing.assert_array_equal(together.estimate[:, column], alone.estimate)
        np.testing.assert_array_equal(together.variance[:, column], alone.variance)
    shared = ordinary_kriging(coords, np.column_stack([values, second]), targets, SPHERICAL, neighbours=12)
    np.testing.assert_array_equal(shared.variance[:, 0], shared.variance[:, 1])


def test_per_hole_cap_is_on_by_default_with_hole_ids() -> None:
    coords, values, hole_ids = _drillholes()
    target = np.array([[200.0, 200.0, -20.0]])
    default = ordinary_kriging(coords, values, target, SPHERICAL, neighbours=12, hole_ids=hole_ids)
    capped = ordinary_kriging(
        coords, values, target, SPHERICAL, neighbours=12, max_per_hole=3, hole_ids=hole_ids
    )
    assert default.estimate[0] == capped.estimate[0]  # "auto" is ceil(12 / 4) = 3
    blind = ordinary_kriging(
        coords, values, target, SPHERICAL, neighbours=12, max_per_hole=None, hole_ids=hole_ids
    )
    assert blind.estimate[0] != default.estimate[0]


def test_nested_structures_add_up_in_kriging() -> None:
    coords, values = _samples()
    targets = _targets(40)
    halves = VariogramModel(
        kind="spherical", nugget=0.1, sill=0.5, range=300.0, nested=(Structure("spherical", 0.5, 300.0),)
    )
    for neighbours in (None, 10):
        a = ordinary_kriging(coords, values, targets, halves, neighbours=neighbours)
        b = ordinary_kriging(coords, values, targets, SPHERICAL, neighbours=neighbours)
        np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-10)
    nested = VariogramModel(
        kind="exponential",
        nugget=0.05,
        sill=0.3,
        range=60.0,
        range_minor=30.0,
        azimuth=20.0,
        nested=(Structure("spherical", 0.7, 400.0),),
    )
    local = ordinary_kriging(coords, values, targets, nested, neighbours=100)
    whole = ordinary_kriging(coords, values, targets, nested, neighbours=None)
    np.testing.assert_allclose(local.estimate, whole.estimate, rtol=1e-9)
    np.testing.assert_allclose(local.variance, whole.variance, rtol=1e-9)


def test_local_kriging_agrees_with_pykrige_n_closest_points() -> None:
    coords, values = _samples(150)
    targets = _targets(40)
    model = VariogramModel(kind="spherical", nugget=0.1, sill=0.8, range=250.0)
    reference = OrdinaryKriging3D(
        coords[:, 0],
        coords[:, 1],
        coords[:, 2],
        values,
        variogram_model="spherical",
        variogram_parameters=[model.total_sill, model.range, model.nugget],
    )
    expected, expected_variance = reference.execute("points", *targets.T, backend="loop", n_closest_points=16)
    result = ordinary_kriging(coords, values, targets, model, neighbours=16)
    np.testing.assert_allclose(result.estimate, np.asarray(expected), rtol=1e-6)
    np.testing.assert_allclose(result.variance, np.asarray(expected_variance), rtol=1e-6)


def test_global_neighbourhood_refuses_large_sample_sets() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="neighbours"):
        ordinary_kriging(
            rng.uniform(size=(7000, 3)),
            rng.normal(size=7000),
            rng.uniform(size=(2, 3)),
            SPHERICAL,
            neighbours=None,
        )


@pytest.mark.shared_data
def test_forrestania_drill_holes_krige_end_to_end() -> None:
    folder = SHARED_DATA / "forrestania-wa-drillholes"
    database, _ = load_drillholes(
        folder / "forrestania_collar.csv", folder / "forrestania_assay.csv", folder / "forrestania_survey.csv"
    )
    samples = database.samples.dropna(subset=["Ni"])
    samples = samples[samples["Ni"] > 0]
    coords = samples[["x", "y", "z"]].to_numpy()
    values = np.log(samples["Ni"].to_numpy())
    holes = samples["hole_id"].to_numpy()
    model = fit_variogram(experimental_variogram(coords, values, n_lags=15, max_lag=2000.0), kind="spherical")
    block = block_model_from_extent(coords, cell_size=(500.0, 500.0, 50.0))
    kriged = krige_block_model(
        block,
        coords,
        values,
        model,
        hole_ids=holes,
        search=SearchNeighbourhood(max_samples=24, radius=1500.0),
    )
    estimated = kriged.block.mask
    assert 0 < estimated.sum() < block.n_cells  # far cells are masked, not extrapolated
    assert np.isfinite(kriged.estimate[estimated]).all() and np.isnan(kriged.estimate[~estimated]).all()
    assert (kriged.variance[estimated] >= 0).all()
    assert (
        values.min() - 1e-9 <= np.nanmin(kriged.estimate)
        and np.nanmax(kriged.estimate) <= values.max() + 1e-9
    )
    scores = cross_validate_by_hole(coords, values, holes, model, neighbours=24)
    assert np.isfinite(scores.rmse) and scores.rmse < values.std() * 1.5


def test_covariances_reused_between_consecutive_targets_change_nothing() -> None:
    # Adjacent cells share most neighbours and the kernel copies their covariances from the
    # previous target's matrix: kriging the cells together must equal kriging each alone.
    coords, values, holes = _drillholes(n_holes=12, per_hole=15)
    block = BlockModel(origin=(150.0, 150.0, -40.0), cell_size=(10.0, 10.0, 5.0), shape=(6, 6, 8))
    targets = block.cell_centres()
    model = VariogramModel(kind="spherical", nugget=0.1, sill=1.0, range=150.0)
    together = ordinary_kriging(coords, values, targets, model, neighbours=16, hole_ids=holes)
    alone = [
        ordinary_kriging(coords, values, target[None], model, neighbours=16, hole_ids=holes)
        for target in targets[::7]
    ]
    np.testing.assert_allclose(together.estimate[::7], [r.estimate[0] for r in alone], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(together.variance[::7], [r.variance[0] for r in alone], rtol=1e-10, atol=1e-12)
