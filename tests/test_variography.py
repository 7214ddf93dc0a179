"""Tests of afg_core.variography: model shapes, anisotropy, experimental variograms, fitting."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA
from pykrige import variogram_models as pk
from scipy.spatial.distance import pdist

from afg_core.geostat.experimental import (
    ExperimentalVariogram,
    downhole_variogram,
    experimental_variogram,
    variogram_map,
)
from afg_core.geostat.fitting import fit_variogram
from afg_core.geostat.variogram import Structure, VariogramModel, axis_directions
from afg_core.transforms import LOG_FLOOR, transform_values

BOUNDED = ["spherical", "exponential", "gaussian", "hole-effect"]


@pytest.mark.parametrize("kind", BOUNDED + ["linear", "power"])
def test_gamma_is_zero_at_zero_lag_and_jumps_by_the_nugget(kind: str) -> None:
    model = VariogramModel(kind=kind, nugget=0.1, sill=1.0, range=300.0 if kind != "power" else 1.5)
    assert model(0.0) == 0.0
    assert model(1e-9) == pytest.approx(0.1, abs=1e-6)
    if kind != "hole-effect":  # the hole effect overshoots its sill by design
        assert np.all(np.diff(model(np.linspace(1.0, 1000.0, 50))) >= -1e-12)


@pytest.mark.parametrize("kind", BOUNDED)
def test_bounded_models_approach_the_total_sill(kind: str) -> None:
    model = VariogramModel(kind=kind, nugget=0.1, sill=1.0, range=300.0)
    assert model.total_sill == pytest.approx(1.1)
    assert model(10 * 300.0) == pytest.approx(1.1, rel=1e-6)
    assert model.covariance(0.0) == pytest.approx(1.1)
    np.testing.assert_allclose(model.covariance([50.0, 200.0]), 1.1 - model([50.0, 200.0]))


def test_spherical_reaches_the_sill_exactly_at_the_range() -> None:
    model = VariogramModel(kind="spherical", nugget=0.1, sill=1.0, range=300.0)
    assert model(300.0) == 1.1
    np.testing.assert_array_equal(model([300.0, 450.0, 1e6]), 1.1)
    assert model(299.0) < 1.1


def test_exponential_reaches_95_percent_at_the_effective_range() -> None:
    model = VariogramModel(kind="exponential", nugget=0.0, sill=1.0, range=300.0)
    assert model(300.0) == pytest.approx(1.0 - np.exp(-3.0))


@pytest.mark.parametrize(
    ("kind", "pykrige_function"),
    [
        ("spherical", pk.spherical_variogram_model),
        ("exponential", pk.exponential_variogram_model),
        ("gaussian", pk.gaussian_variogram_model),
        ("hole-effect", pk.hole_effect_variogram_model),
    ],
)
def test_models_follow_pykrige_conventions(kind: str, pykrige_function) -> None:
    model = VariogramModel(kind=kind, nugget=0.2, sill=1.3, range=250.0)
    lags = np.linspace(0.5, 900.0, 200)
    np.testing.assert_allclose(model(lags), pykrige_function([1.3, 250.0, 0.2], lags), rtol=1e-12)


def test_power_and_linear_follow_pykrige_conventions() -> None:
    lags = np.linspace(0.5, 900.0, 50)
    power = VariogramModel(kind="power", nugget=0.2, sill=0.01, range=1.2)
    np.testing.assert_allclose(power(lags), pk.power_variogram_model([0.01, 1.2, 0.2], lags))
    linear = VariogramModel(kind="linear", nugget=0.2, sill=3.0, range=600.0)
    np.testing.assert_allclose(linear(lags), pk.linear_variogram_model([3.0 / 600.0, 0.2], lags))


def test_unbounded_models_have_no_covariance() -> None:
    with pytest.raises(ValueError, match="unbounded"):
        VariogramModel(kind="power", nugget=0.0, sill=1.0, range=1.0).covariance(1.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "cubic", "nugget": 0.0, "sill": 1.0, "range": 1.0},
        {"kind": "spherical", "nugget": -1.0, "sill": 1.0, "range": 1.0},
        {"kind": "spherical", "nugget": 0.0, "sill": 1.0, "range": 0.0},
        {"kind": "power", "nugget": 0.0, "sill": 1.0, "range": 2.5},
        {"kind": "power", "nugget": 0.0, "sill": 1.0, "range": 1.0, "range_minor": 1.0},
    ],
)
def test_invalid_models_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        VariogramModel(**kwargs)


def test_isotropic_lags_are_euclidean() -> None:
    model = VariogramModel(kind="spherical", nugget=0.1, sill=1.0, range=300.0, azimuth=37.0)
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 100, (5, 3)), rng.uniform(0, 100, (4, 3))
    expected = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    np.testing.assert_allclose(model.scaled_distances(a, b), expected, rtol=1e-12)
    np.testing.assert_array_equal(model.anisotropy_matrix(3), np.eye(3))


def test_azimuth_90_puts_the_major_axis_east() -> None:
    r = 200.0
    model = VariogramModel(
        kind="spherical",
        nugget=0.0,
        sill=1.0,
        range=r,
        range_minor=r / 4,
        range_vertical=r / 10,
        azimuth=90.0,
    )
    # East at distance r is one major range: the isotropic-equivalent lag is r.
    assert model.scaled_lags([r, 0.0, 0.0]) == pytest.approx(r)
    assert model(model.scaled_lags([r, 0.0, 0.0])) == pytest.approx(model.total_sill)
    # North is the minor axis, vertical the vertical axis: one of their ranges is also lag r.
    assert model.scaled_lags([0.0, r / 4, 0.0]) == pytest.approx(r)
    assert model.scaled_lags([0.0, 0.0, r / 10]) == pytest.approx(r)
    assert model.scaled_lags([0.0, r, 0.0]) == pytest.approx(4 * r)
    flat = VariogramModel(kind="spherical", nugget=0.0, sill=1.0, range=r, range_minor=r / 4, azimuth=90.0)
    assert flat.scaled_lags([r, 0.0]) == pytest.approx(r)
    assert flat.scaled_lags([0.0, r / 4]) == pytest.approx(r)


def test_dip_tilts_the_major_axis_downwards() -> None:
    major, minor, vertical = axis_directions(azimuth=0.0, dip=90.0, plunge=0.0)
    np.testing.assert_allclose(major, [0.0, 0.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(minor, [1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(vertical, [0.0, 1.0, 0.0], atol=1e-12)
    axes = axis_directions(azimuth=33.0, dip=20.0, plunge=-15.0)
    np.testing.assert_allclose(axes @ axes.T, np.eye(3), atol=1e-12)
    model = VariogramModel(kind="spherical", nugget=0.0, sill=1.0, range=100.0, range_minor=10.0, dip=90.0)
    assert model.scaled_lags([0.0, 0.0, -100.0]) == pytest.approx(100.0)
    assert model.scaled_lags([10.0, 0.0, 0.0]) == pytest.approx(100.0)


def test_plunge_turns_the_minor_axis_upwards() -> None:
    _, minor, vertical = axis_directions(azimuth=0.0, dip=0.0, plunge=90.0)
    np.testing.assert_allclose(minor, [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(vertical, [-1.0, 0.0, 0.0], atol=1e-12)


def _random_field(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    coords = rng.uniform(0, 1000, (n, 2))
    values = np.sin(coords[:, 0] / 150.0) + 0.3 * rng.normal(size=n)
    return coords, values


def test_all_pairs_are_binned_when_few() -> None:
    coords, values = _random_field(300)
    experimental = experimental_variogram(coords, values, n_lags=10, max_lag=400.0)
    distances = pdist(coords)
    assert experimental.n_pairs.sum() == np.count_nonzero((distances > 0) & (distances <= 400.0))
    np.testing.assert_allclose(experimental.lags, (np.arange(10) + 0.5) * 40.0)
    assert experimental.estimator == "matheron"


def test_matheron_matches_a_direct_computation() -> None:
    coords, values = _random_field(200)
    experimental = experimental_variogram(coords, values, n_lags=1, max_lag=100.0)
    i, j = np.triu_indices(200, k=1)
    near = np.linalg.norm(coords[i] - coords[j], axis=1) <= 100.0
    expected = 0.5 * np.mean((values[i][near] - values[j][near]) ** 2)
    assert experimental.semivariance[0] == pytest.approx(expected)


def test_nan_values_are_skipped() -> None:
    coords, values = _random_field(200)
    with_nan = values.copy()
    with_nan[::7] = np.nan
    keep = np.isfinite(with_nan)
    a = experimental_variogram(coords, with_nan, max_lag=500.0)
    b = experimental_variogram(coords[keep], values[keep], max_lag=500.0)
    np.testing.assert_allclose(a.semivariance, b.semivariance)
    np.testing.assert_array_equal(a.n_pairs, b.n_pairs)


def test_cressie_estimator_runs() -> None:
    coords, values = _random_field(400)
    cressie = experimental_variogram(coords, values, estimator="cressie")
    matheron = experimental_variogram(coords, values)
    assert cressie.estimator == "cressie"
    assert np.all(cressie.semivariance > 0)
    # Both estimate the same variogram of Gaussian-like data.
    np.testing.assert_allclose(cressie.semivariance, matheron.semivariance, rtol=0.5)


def test_unknown_estimator_is_rejected() -> None:
    coords, values = _random_field(20)
    with pytest.raises(ValueError):
        experimental_variogram(coords, values, estimator="madogram")  # type: ignore[arg-type]


def test_pair_subsampling_handles_20000_samples() -> None:
    rng = np.random.default_rng(1)
    coords = rng.uniform(0, 3000, (20_000, 3))
    values = rng.normal(size=20_000)
    experimental = experimental_variogram(coords, values, max_pairs=500_000)
    assert np.all(experimental.n_pairs > 0)
    assert experimental.n_pairs.sum() <= 500_000
    assert np.all(np.isfinite(experimental.semivariance))


def test_directional_variogram_sees_the_trend_direction() -> None:
    rng = np.random.default_rng(2)
    coords = rng.uniform(0, 1000, (600, 3))
    coords[:, 2] *= 0.01
    values = coords[:, 0] / 100.0  # varies east-west only
    east = experimental_variogram(coords, values, max_lag=300.0, n_lags=5, direction=(90.0, 0.0, 10.0, 30.0))
    north = experimental_variogram(coords, values, max_lag=300.0, n_lags=5, direction=(0.0, 0.0, 10.0, 30.0))
    assert np.all(east.semivariance > 10 * north.semivariance)
    assert east.n_pairs.sum() < experimental_variogram(coords, values, max_lag=300.0).n_pairs.sum()


def _synthetic(model: VariogramModel, noise: float = 0.0) -> ExperimentalVariogram:
    lags = np.linspace(15.0, 600.0, 20)
    jitter = 1.0 + noise * np.sin(np.arange(20) * 2.3)
    return ExperimentalVariogram(
        lags=lags,
        semivariance=model(lags) * jitter,
        n_pairs=np.full(20, 1000, dtype=np.int64),
        estimator="matheron",
    )


@pytest.mark.parametrize("kind", ["spherical", "exponential", "gaussian"])
def test_fit_recovers_known_parameters(kind: str) -> None:
    truth = VariogramModel(kind=kind, nugget=0.2, sill=1.0, range=250.0)
    fitted = fit_variogram(_synthetic(truth, noise=0.01), kind=kind)
    assert fitted.kind == kind
    assert fitted.nugget == pytest.approx(0.2, abs=0.05)
    assert fitted.sill == pytest.approx(1.0, rel=0.05)
    assert fitted.range == pytest.approx(250.0, rel=0.05)


def test_fit_with_fixed_nugget() -> None:
    truth = VariogramModel(kind="spherical", nugget=0.3, sill=0.7, range=400.0)
    fitted = fit_variogram(_synthetic(truth), kind="spherical", nugget=0.3)
    assert fitted.nugget == 0.3
    assert fitted.sill == pytest.approx(0.7, rel=1e-3)
    assert fitted.range == pytest.approx(400.0, rel=1e-3)


def test_fit_unbounded_models() -> None:
    truth = VariogramModel(kind="power", nugget=0.1, sill=0.02, range=1.3)
    fitted = fit_variogram(_synthetic(truth), kind="power")
    assert fitted.range == pytest.approx(1.3, rel=1e-2)
    linear = fit_variogram(_synthetic(VariogramModel("linear", 0.1, 2.0, 600.0)), kind="linear")
    assert linear.sill / linear.range == pytest.approx(2.0 / 600.0, rel=1e-3)


def test_fit_to_sampled_data_is_plausible() -> None:
    coords, values = _random_field(1500)
    experimental = experimental_variogram(coords, values, max_lag=500.0)
    fitted = fit_variogram(experimental, kind="gaussian")
    assert 0.0 <= fitted.nugget < fitted.total_sill
    assert fitted.total_sill == pytest.approx(np.var(values), rel=0.5)


@pytest.mark.shared_data
def test_meuse_log_zinc_fit_lands_near_gstat() -> None:
    """gstat's fit of the 155 Meuse samples: Sph, nugget 0.0507, partial sill 0.5906, range 897 m."""
    meuse = pd.read_csv(SHARED_DATA / "meuse" / "meuse_all_gstat.csv")
    meuse = meuse[meuse["in.meuse155"].astype(bool)]
    assert len(meuse) == 155
    xy = meuse[["x", "y"]].to_numpy()
    # gstat's defaults: cutoff a third of the bounding-box diagonal, 15 bins, weights N / h².
    cutoff = np.linalg.norm(np.ptp(xy, axis=0)) / 3
    experimental = experimental_variogram(
        xy, transform_values(meuse["zinc"], "log"), n_lags=15, max_lag=cutoff
    )
    assert experimental.n_pairs[0] == 57  # gstat's first bin holds 57 pairs too
    fitted = fit_variogram(experimental, kind="spherical")
    assert fitted.nugget == pytest.approx(0.05, abs=0.035)
    assert fitted.sill == pytest.approx(0.59, rel=0.1)
    assert fitted.range == pytest.approx(897.0, rel=0.1)


def test_rotation_convention_at_oblique_angles() -> None:
    major, minor, vertical = axis_directions(azimuth=45.0, dip=30.0, plunge=0.0)
    s = np.sqrt(0.5)
    np.testing.assert_allclose(
        major, [s * np.cos(np.radians(30)), s * np.cos(np.radians(30)), -0.5], atol=1e-12
    )
    np.testing.assert_allclose(minor, [s, -s, 0.0], atol=1e-12)  # horizontal, at azimuth 135
    assert vertical[2] > 0  # the third axis points upwards
    # (major, minor, vertical) starts as (north, east, up), a left-handed frame.
    np.testing.assert_allclose(np.linalg.det(np.vstack([major, minor, vertical])), -1.0)


def test_nested_structures_sum_and_validate() -> None:
    nested = VariogramModel(
        kind="spherical", nugget=0.1, sill=0.4, range=50.0, nested=(Structure("exponential", 0.6, 400.0),)
    )
    lags = np.array([0.0, 10.0, 60.0, 1000.0])
    short = VariogramModel(kind="spherical", nugget=0.1, sill=0.4, range=50.0)
    long = VariogramModel(kind="exponential", nugget=0.0, sill=0.6, range=400.0)
    np.testing.assert_allclose(nested(lags), short(lags) + long(lags))
    assert nested.total_sill == pytest.approx(1.1) and nested.bounded
    assert not VariogramModel("spherical", 0.0, 1.0, 10.0, nested=(Structure("linear", 1.0, 10.0),)).bounded
    with pytest.raises(ValueError):
        Structure("cubic", 1.0, 10.0)


def test_downhole_variogram_pairs_only_within_holes() -> None:
    depths = np.tile(0.9 * np.arange(10.0), 2)  # lags 0.9, 1.8, 2.7 fall in bins 0, 1, 2
    holes = np.repeat(["A", "B"], 10)
    values = np.concatenate([np.arange(10.0), 100 + np.arange(10.0)])  # a big jump between holes
    result = downhole_variogram(depths, values, holes, n_lags=3, max_lag=3.0)
    np.testing.assert_allclose(result.lags, [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(result.n_pairs, [18, 16, 14])
    np.testing.assert_allclose(result.semivariance, 0.5 * np.array([1.0, 4.0, 9.0]))


def test_variogram_map_shows_the_direction_of_continuity() -> None:
    rng = np.random.default_rng(3)
    coords = rng.uniform(0, 1000, (800, 2))
    values = np.sin(coords[:, 0] / 80.0)  # continuous north-south, varying east-west
    vmap = variogram_map(coords, values, max_lag=200.0, n_cells=11)
    centre = 5
    assert vmap.semivariance.shape == (11, 11)
    assert vmap.semivariance[centre, -1] > 5 * vmap.semivariance[-1, centre]  # east lag vs north lag
    np.testing.assert_array_equal(vmap.n_pairs, vmap.n_pairs[::-1, ::-1])  # symmetric


def test_normal_score_transform_is_standard_normal() -> None:
    values = np.random.default_rng(0).lognormal(size=2000)
    values[5] = np.nan
    scores = transform_values(values, "normal-score")
    assert np.isnan(scores[5])
    assert np.nanmean(scores) == pytest.approx(0.0, abs=0.05) and np.nanstd(scores) == pytest.approx(
        1.0, abs=0.1
    )
    np.testing.assert_array_equal(
        np.argsort(scores[np.isfinite(scores)]), np.argsort(values[np.isfinite(values)])
    )
    # One log rule in the whole package: non-positive grades sit at the floor, not NaN.
    np.testing.assert_allclose(
        transform_values([-1.0, 0.0, np.e, np.nan], "log")[:3],
        np.log([LOG_FLOOR, LOG_FLOOR, np.e + LOG_FLOOR]),
    )
    assert np.isnan(transform_values([np.nan], "log")[0])


def test_variogram_recomputation_on_20000_samples_is_fast() -> None:
    rng = np.random.default_rng(1)
    coords = rng.uniform(0, 3000, (20_000, 3))
    values = rng.normal(size=20_000)
    start = time.perf_counter()
    fit_variogram(experimental_variogram(coords, values), kind="spherical")
    assert time.perf_counter() - start < 3.0  # 1 s target on an idle machine; slack for CI load
