"""The batched JAX kriging solve (afg_core.geostat.batched_solve) against the compiled kernel.

On this machine JAX runs on the CPU, which checks the same code the GPU runs: for every
variogram kind, a nested and an anisotropic model, ordinary and simple kriging with
``solver="jax"`` must equal ``solver="cpu"`` (the numba kernel) to 1e-6 relative, with
neighbour counts that differ between targets (padding), several batches per call, the
fallback for matrices that are not positive definite, and Keras left in float32. The
class marked ``requires_gpu`` repeats the comparison and trains an LSTM on a GPU; it
skips, with its reason, where JAX sees no GPU.
"""

from __future__ import annotations

import afg_core

afg_core.configure_backends()

import importlib.util  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from importlib.metadata import entry_points  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_kriging_kernel import MODELS  # noqa: E402

from afg_core.geostat import batched_solve  # noqa: E402
from afg_core.geostat.batched_solve import gpu_available, resolve_solver  # noqa: E402
from afg_core.geostat.estimation import ordinary_kriging, simple_kriging  # noqa: E402
from afg_core.geostat.search import SearchNeighbourhood  # noqa: E402
from afg_core.geostat.variogram import KINDS, VariogramModel  # noqa: E402
from afg_core.learn.models import LSTMRegressor  # noqa: E402

# Keras copies weights through np.array(variable) (numpy 2 deprecation noise, not ours).
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"
)

RTOL = 1e-6
# Variances at a sample are exactly 0 on one path and round-off on the other.
ATOL = 1e-10
SIMPLE_MEAN = 0.3
#: 12 samples at most within 130 m: targets use anything from 0 to 12 samples.
SEARCH = SearchNeighbourhood(max_samples=12, radius=130.0)

# The kernel tests' table: one model per kind, plus a nested and an anisotropic one.
BOUNDED = [name for name, model in MODELS.items() if model.bounded]

GPU = jax.default_backend() == "gpu"
requires_gpu = pytest.mark.skipif(not GPU, reason=f"no GPU on this machine: JAX sees only {jax.devices()}")


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """150 samples, two value columns, and 80 targets in a 500 x 500 x 200 m box (m), the
    last target far outside it (no sample in reach); the first target sits on a sample."""
    rng = np.random.default_rng(0)
    coords = rng.uniform(0, 500, (150, 3)) * [1.0, 1.0, 0.4]
    first = np.sin(coords[:, 0] / 120.0) + 0.5 * np.cos(coords[:, 1] / 90.0) + 0.2 * rng.normal(size=150)
    values = np.column_stack([first, 2.0 + 0.01 * coords[:, 2] + 0.1 * rng.normal(size=150)])
    targets = rng.uniform(0, 500, (80, 3)) * [1.0, 1.0, 0.4]
    targets[0] = coords[7]
    targets[-1] = [5000.0, 5000.0, 0.0]
    return coords, values, targets


def _assert_same(jax_result, cpu_result) -> None:
    np.testing.assert_array_equal(jax_result.n_neighbours, cpu_result.n_neighbours)
    np.testing.assert_array_equal(np.isnan(jax_result.estimate), np.isnan(cpu_result.estimate))
    np.testing.assert_allclose(jax_result.estimate, cpu_result.estimate, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(jax_result.variance, cpu_result.variance, rtol=RTOL, atol=ATOL)


def _krige(kind: str, name: str, solver: str):
    coords, values, targets = _data()
    if kind == "ordinary":
        return ordinary_kriging(coords, values, targets, MODELS[name], search=SEARCH, solver=solver)
    return simple_kriging(
        coords, values, targets, MODELS[name], mean=[SIMPLE_MEAN, 2.0], search=SEARCH, solver=solver
    )


def test_the_models_cover_every_kind() -> None:
    assert {model.kind for model in MODELS.values()} == KINDS


def test_neighbour_counts_vary_between_targets() -> None:
    counts = _krige("ordinary", "spherical", "cpu").n_neighbours
    assert counts[-1] == 0 and counts.max() == SEARCH.max_samples
    assert len(np.unique(counts)) >= 5


@pytest.mark.parametrize("name", list(MODELS))
def test_ordinary_kriging_in_jax_equals_the_compiled_kernel(name: str) -> None:
    _assert_same(_krige("ordinary", name, "jax"), _krige("ordinary", name, "cpu"))


@pytest.mark.parametrize("name", BOUNDED)
def test_simple_kriging_in_jax_equals_the_compiled_kernel(name: str) -> None:
    _assert_same(_krige("simple", name, "jax"), _krige("simple", name, "cpu"))


def test_simple_kriging_with_an_unbounded_model_is_refused() -> None:
    with pytest.raises(ValueError, match="bounded"):
        _krige("simple", "linear", "jax")


def test_several_padded_batches_equal_one(monkeypatch) -> None:
    """80 targets in batches of 16: the last batch is padded with empty targets."""
    one_batch = _krige("ordinary", "anisotropic", "jax")
    monkeypatch.setattr(batched_solve, "BATCH_BYTES", 16 * 8 * (12 * 12 * 7 + 12 * 9))
    assert batched_solve.batch_size(80, 12, 3, 2) == 16
    _assert_same(_krige("ordinary", "anisotropic", "jax"), one_batch)


def test_matrices_not_positive_definite_fall_back_to_the_compiled_kernel(monkeypatch) -> None:
    """A hole-effect covariance of 150 m range is not positive definite for a few targets
    here: the JAX path hands those to the compiled kernel (LU for ordinary kriging, NaN for
    simple kriging, as the CPU path)."""
    model = VariogramModel("hole-effect", nugget=0.1, sill=1.0, range=150.0)
    coords, values, targets = _data()
    handed = []
    kernel = batched_solve.krige_local

    def spy(*args):
        handed.append(len(args[2]))
        return kernel(*args)

    monkeypatch.setattr(batched_solve, "krige_local", spy)
    for krige, extra in ((ordinary_kriging, {}), (simple_kriging, {"mean": [SIMPLE_MEAN, 2.0]})):
        handed.clear()
        on_jax = krige(coords, values, targets, model, search=SEARCH, solver="jax", **extra)
        assert handed and 0 < handed[0] < len(targets) // 4
        _assert_same(on_jax, krige(coords, values, targets, model, search=SEARCH, solver="cpu", **extra))
        if krige is ordinary_kriging:
            assert np.isfinite(on_jax.estimate[:-1]).all()
        else:
            assert np.isnan(on_jax.estimate[:-1, 0]).sum() == handed[0]


def test_keras_stays_float32_after_a_jax_kriging_call() -> None:
    """64-bit floats are on only inside the kriging call."""
    _krige("ordinary", "spherical", "jax")
    assert not jax.config.jax_enable_x64
    assert jnp.asarray(1.0).dtype == jnp.float32
    rows = np.arange(60)
    X = pd.DataFrame({"x": rows % 7, "z": -rows.astype(float)})
    model = LSTMRegressor(lstm_units=(4,), dense_units=(), window=5, stride=5, epochs=1)
    model.fit(X, np.sin(rows / 5.0)[:, None] + 2.0, rows // 10)
    assert {str(w.value.dtype) for w in model.model_.weights} == {"float32"}


def test_auto_picks_the_compiled_kernel_without_a_gpu() -> None:
    """In a fresh process: "auto" resolves without importing JAX when no JAX accelerator
    plugin is installed, and to "jax" only when JAX runs on a GPU."""
    code = (
        "import sys\n"
        "from afg_core.geostat.batched_solve import resolve_solver\n"
        "print(resolve_solver('auto'), 'jax' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    solver, imported = out.stdout.split()
    assert solver == ("jax" if GPU else "cpu")
    assert resolve_solver("auto") == solver and gpu_available() == GPU
    if importlib.util.find_spec("jax_plugins") is None and not entry_points(group="jax_plugins"):
        assert imported == "False"
    assert resolve_solver("cpu") == "cpu" and resolve_solver("jax") == "jax"


def test_an_unknown_solver_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kriging solver 'cuda'"):
        ordinary_kriging([[0.0, 0.0]], [1.0], [[1.0, 1.0]], MODELS["spherical"], solver="cuda")


@requires_gpu
class TestOnGPU:
    """The same comparisons, and LSTM training, where JAX runs on a GPU."""

    def test_auto_picks_jax(self) -> None:
        assert resolve_solver("auto") == "jax"

    @pytest.mark.parametrize("name", ["spherical", "gaussian", "power", "nested", "anisotropic"])
    def test_ordinary_kriging_on_the_gpu_equals_the_compiled_kernel(self, name: str) -> None:
        _assert_same(_krige("ordinary", name, "auto"), _krige("ordinary", name, "cpu"))

    def test_simple_kriging_on_the_gpu_equals_the_compiled_kernel(self) -> None:
        _assert_same(_krige("simple", "exponential", "auto"), _krige("simple", "exponential", "cpu"))

    def test_lstm_trains_and_predicts_on_the_gpu(self) -> None:
        rows = np.arange(200)
        X = pd.DataFrame({"x": rows % 7, "z": -rows.astype(float)})
        model = LSTMRegressor(lstm_units=(8,), dense_units=(), window=10, stride=5, epochs=3)
        model.fit(X, np.sin(rows / 5.0)[:, None] + 2.0, rows // 20)
        platforms = {device.platform for w in model.model_.weights for device in w.value.devices()}
        assert platforms == {"gpu"}
        assert np.isfinite(model.predict(X, rows // 20)).all()
