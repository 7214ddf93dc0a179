"""The compiled local-kriging kernel (afg_core.geostat.kriging_kernel) against direct solves.

For every variogram kind, a nested and an anisotropic model, :func:`ordinary_kriging` and
:func:`simple_kriging` with a local neighbourhood (the compiled kernel: Cholesky for
bounded models, LU for linear/power and for matrices that are not positive definite) must
equal a kriging system built here from ``model(h)`` / ``model.covariance(h)`` over the
same neighbours (the ``k`` nearest by an independently computed anisotropic lag) and
solved with :func:`numpy.linalg.solve`; PyKrige is a second reference where it has the
model (one isotropic structure).
"""

from __future__ import annotations

import numpy as np
import pytest
from pykrige.ok3d import OrdinaryKriging3D
from scipy.spatial.transform import Rotation

from afg_core.geostat import estimation
from afg_core.geostat.estimation import ordinary_kriging, simple_kriging
from afg_core.geostat.variogram import KINDS, Structure, VariogramModel

N_SAMPLES = 40
#: Local neighbourhood sizes: a true subset, and every sample (so the global path compares too).
NEIGHBOURS = (10, N_SAMPLES)
SIMPLE_MEAN = 0.3
RTOL = 1e-6

#: One model per kind of KINDS, plus a nested and an anisotropic one. A nugget keeps the
#: gaussian system well posed; linear's slope is sill / range per metre, power's range is
#: its exponent.
MODELS = {
    "spherical": VariogramModel("spherical", nugget=0.1, sill=0.8, range=250.0),
    "exponential": VariogramModel("exponential", nugget=0.1, sill=0.8, range=250.0),
    "gaussian": VariogramModel("gaussian", nugget=0.05, sill=0.8, range=250.0),
    "hole-effect": VariogramModel("hole-effect", nugget=0.1, sill=0.8, range=250.0),
    "linear": VariogramModel("linear", nugget=0.1, sill=0.8, range=250.0),
    "power": VariogramModel("power", nugget=0.1, sill=0.01, range=1.2),
    "nested": VariogramModel(
        "spherical", nugget=0.1, sill=0.4, range=100.0, nested=(Structure("exponential", 0.5, 400.0),)
    ),
    "anisotropic": VariogramModel(
        "exponential",
        nugget=0.1,
        sill=0.8,
        range=300.0,
        range_minor=120.0,
        range_vertical=60.0,
        azimuth=30.0,
        dip=15.0,
        plunge=10.0,
    ),
}


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """40 samples and 15 targets in a 500 x 500 x 200 m box (m), values of unit order."""
    rng = np.random.default_rng(0)
    coords = rng.uniform(0, 500, (N_SAMPLES, 3)) * [1.0, 1.0, 0.4]
    values = (
        np.sin(coords[:, 0] / 120.0) + 0.5 * np.cos(coords[:, 1] / 90.0) + 0.2 * rng.normal(size=N_SAMPLES)
    )
    targets = np.random.default_rng(1).uniform(0, 500, (15, 3)) * [1.0, 1.0, 0.4]
    return coords, values, targets


def _lags(model: VariogramModel, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) anisotropic lags (m along the major axis), built without afg_core's matrices.

    With all angles zero the major, minor and vertical axes are north, east and up; the
    axes are turned by ``plunge`` about the major axis (lifting the minor one), then by
    ``dip`` (major axis down) and ``azimuth`` (clockwise from north).
    """
    turn = Rotation.from_euler("ZXY", [-model.azimuth, -model.dip, -model.plunge], degrees=True)
    major, minor, vertical = turn.apply([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    r_major, r_minor, r_vertical = model.ranges
    d = a[:, None, :] - b[None, :, :]
    return np.sqrt(
        (d @ major) ** 2 + (d @ minor * r_major / r_minor) ** 2 + (d @ vertical * r_major / r_vertical) ** 2
    )


def _direct_kriging(
    model: VariogramModel,
    coords: np.ndarray,
    values: np.ndarray,
    targets: np.ndarray,
    k: int,
    mean: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ordinary (``mean`` None) or simple kriging from the ``k`` nearest samples, one dense solve each."""
    estimate, variance = np.empty(len(targets)), np.empty(len(targets))
    for t, target in enumerate(targets):
        to_target = _lags(model, coords, target[None])[:, 0]
        near = np.argsort(to_target, kind="stable")[:k]
        between = _lags(model, coords[near], coords[near])
        if mean is None:
            # [Gamma 1; 1' 0] [w; mu] = [gamma_0; 1], variance = w . gamma_0 + mu.
            lhs = np.ones((k + 1, k + 1))
            lhs[:k, :k] = model(between)
            lhs[k, k] = 0.0
            rhs = np.append(model(to_target[near]), 1.0)
            solution = np.linalg.solve(lhs, rhs)
            estimate[t] = solution[:k] @ values[near]
            variance[t] = solution @ rhs
        else:
            # C w = c_0, variance = C(0) - w . c_0.
            rhs = model.covariance(to_target[near])
            weights = np.linalg.solve(model.covariance(between), rhs)
            estimate[t] = mean + weights @ (values[near] - mean)
            variance[t] = model.total_sill - weights @ rhs
    return estimate, variance


@pytest.fixture
def kernel_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Shapes of the neighbour index arrays handed to the compiled kernel, call by call."""
    calls: list[tuple[int, ...]] = []
    compiled = estimation.krige_local

    def spy(coords, values, targets, idx, *args):
        calls.append(idx.shape)
        return compiled(coords, values, targets, idx, *args)

    monkeypatch.setattr(estimation, "krige_local", spy)
    return calls


def _assert_close(result, expected: tuple[np.ndarray, np.ndarray]) -> None:
    np.testing.assert_allclose(result.estimate, expected[0], rtol=RTOL, atol=1e-10)
    np.testing.assert_allclose(result.variance, expected[1], rtol=RTOL, atol=1e-10)


def test_the_checks_cover_every_kind_a_nested_and_an_anisotropic_model() -> None:
    assert {model.kind for model in MODELS.values()} == KINDS
    assert any(model.nested for model in MODELS.values())
    assert any(len(set(model.ranges)) > 1 and model.dip and model.plunge for model in MODELS.values())


@pytest.mark.parametrize("neighbours", NEIGHBOURS)
@pytest.mark.parametrize("name", list(MODELS))
def test_compiled_ordinary_kriging_equals_a_direct_solve(
    name: str, neighbours: int, kernel_calls: list[tuple[int, ...]]
) -> None:
    model = MODELS[name]
    coords, values, targets = _data()
    expected = _direct_kriging(model, coords, values, targets, neighbours)

    local = ordinary_kriging(coords, values, targets, model, neighbours=neighbours)
    assert kernel_calls == [(len(targets), neighbours)]
    np.testing.assert_array_equal(local.n_neighbours, neighbours)
    _assert_close(local, expected)

    if neighbours == N_SAMPLES:
        whole = ordinary_kriging(coords, values, targets, model, neighbours=None)
        assert len(kernel_calls) == 1  # the global path solves its own (LU-factorised) system
        _assert_close(whole, expected)


def _simple_cases() -> list:
    cases = []
    for name, model in MODELS.items():
        if not model.bounded:
            continue
        for neighbours in NEIGHBOURS:
            if (name, neighbours) == ("hole-effect", N_SAMPLES):
                # 3D hole-effect covariances of 40 samples are not positive definite (an
                # eigenvalue of -1.4): the kernel's Cholesky fails and, unlike ordinary
                # kriging, simple kriging has no LU fallback, so every estimate is NaN
                # (n_neighbours still 40) while the global path solves the system.
                reason = (
                    "local simple kriging returns NaN when the covariance matrix is not positive definite"
                )
                cases.append(
                    pytest.param(name, neighbours, marks=pytest.mark.xfail(strict=True, reason=reason))
                )
            else:
                cases.append(pytest.param(name, neighbours))
    return cases


@pytest.mark.parametrize(("name", "neighbours"), _simple_cases())
def test_compiled_simple_kriging_equals_a_direct_solve(
    name: str, neighbours: int, kernel_calls: list[tuple[int, ...]]
) -> None:
    model = MODELS[name]
    coords, values, targets = _data()
    expected = _direct_kriging(model, coords, values, targets, neighbours, mean=SIMPLE_MEAN)

    local = simple_kriging(coords, values, targets, model, mean=SIMPLE_MEAN, neighbours=neighbours)
    assert kernel_calls == [(len(targets), neighbours)]
    _assert_close(local, expected)

    if neighbours == N_SAMPLES:
        whole = simple_kriging(coords, values, targets, model, mean=SIMPLE_MEAN, neighbours=None)
        _assert_close(whole, expected)


def _pykrige_parameters(model: VariogramModel) -> list[float]:
    """PyKrige's list form: [full sill, range, nugget]; linear [slope, nugget]; power [scale, exp, nugget]."""
    if model.kind == "linear":
        return [model.sill / model.range, model.nugget]
    if model.kind == "power":
        return [model.sill, model.range, model.nugget]
    return [model.total_sill, model.range, model.nugget]


@pytest.mark.parametrize("neighbours", NEIGHBOURS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_compiled_ordinary_kriging_agrees_with_pykrige(
    kind: str, neighbours: int, kernel_calls: list[tuple[int, ...]]
) -> None:
    model = MODELS[kind]
    coords, values, targets = _data()
    reference = OrdinaryKriging3D(
        *coords.T, values, variogram_model=kind, variogram_parameters=_pykrige_parameters(model)
    )
    if neighbours < N_SAMPLES:
        expected = reference.execute("points", *targets.T, backend="loop", n_closest_points=neighbours)
    else:
        expected = reference.execute("points", *targets.T)
    local = ordinary_kriging(coords, values, targets, model, neighbours=neighbours)
    assert kernel_calls == [(len(targets), neighbours)]
    _assert_close(local, (np.asarray(expected[0]), np.asarray(expected[1])))
