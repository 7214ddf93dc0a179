"""Batched local kriging in JAX: the systems of many targets built and solved at once.

The same local kriging as :func:`afg_core.geostat.kriging_kernel.krige_local`, for an
accelerator: a batch of targets becomes padded arrays (targets x k x k covariance
matrices), built on the device with :meth:`VariogramModel.covariance` evaluated through
``jax.numpy`` (one home for the covariance rule) and solved by one batched Cholesky
factorisation (bounded models) or one batched LU solve of the semivariance system
(linear, power), all in float64. The results equal the compiled kernel's to round-off.

Padding: a target's neighbour list is padded to the width ``k`` of ``idx``; the padded
rows and columns of its matrix are those of the identity and their right-hand sides are
zero, so they decouple and their weights are exactly 0.

Where a covariance matrix is not positive definite (hole-effect models can do this) or
an LU solve is singular, those targets are kriged again by the compiled kernel, which
gives exactly what the CPU path gives: its LU fallback for ordinary kriging, NaN for
simple kriging.

JAX is imported only when this path runs, so importing afg_core stays light; 64-bit
floats are switched on only around these calls (``jax.enable_x64``), so Keras models on
the same JAX keep training in float32.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from importlib.metadata import entry_points

import numpy as np
from numpy.typing import NDArray

from afg_core.geostat.kriging_kernel import block_count, krige_local
from afg_core.geostat.variogram import VariogramModel

SOLVERS = ("auto", "cpu", "jax")
#: Device memory one batch may take (bytes). A target costs about
#: ``8 * (k * k * (d + 4) + k * (d + e + 4))`` bytes (coordinate differences, lags,
#: matrix and factor, gathered points and values); the batch is this budget over that,
#: rounded down to a power of two (few distinct shapes, few compilations) and at most
#: the next power of two above the number of targets.
BATCH_BYTES = 512 * 2**20


@functools.cache
def gpu_available() -> bool:
    """True when JAX runs on a GPU in this process.

    Without an accelerator plugin for JAX (``jax_plugins``, e.g. ``jax[cuda12]``) JAX can
    only use the CPU, so the answer is False without importing JAX; otherwise JAX is asked.
    """
    if (
        "jax" not in sys.modules
        and importlib.util.find_spec("jax_plugins") is None
        and not entry_points(group="jax_plugins")
    ):
        return False
    import jax

    return jax.default_backend() == "gpu"


def resolve_solver(solver: str) -> str:
    """``"cpu"`` (the compiled kernel) or ``"jax"`` (this module) for a ``solver`` setting.

    ``"auto"`` picks ``"jax"`` only when JAX runs on a GPU (:func:`gpu_available`).

    Raises
    ------
    ValueError
        For a setting other than ``"auto"``, ``"cpu"`` or ``"jax"``.
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown kriging solver {solver!r}; use one of {list(SOLVERS)}")
    if solver == "auto":
        return "jax" if gpu_available() else "cpu"
    return solver


def batch_size(n_targets: int, k: int, d: int, e: int) -> int:
    """Targets per device batch under :data:`BATCH_BYTES` (see there for the rule)."""
    per_target = 8 * (k * k * (d + 4) + k * (d + e + 4))
    budget = max(1, BATCH_BYTES // per_target)
    largest = 1 << (budget.bit_length() - 1)
    needed = 1 << max(0, (n_targets - 1).bit_length())
    return min(largest, needed)


@functools.cache
def _solve_batch():
    """The jitted batch solve (built on first use, so JAX is imported only then)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    def solve(coords, values, targets, idx, mean, model: VariogramModel, ordinary: bool):
        valid = idx >= 0
        real = valid.astype(coords.dtype)
        k = idx.shape[1]
        # Padding sits on the target: finite lags, then masked out (as the compiled kernel).
        points = jnp.where(valid[..., None], coords[jnp.where(valid, idx, 0)], targets[:, None, :])
        lags = jnp.sqrt(((points[:, :, None, :] - points[:, None, :, :]) ** 2).sum(-1))
        lags0 = jnp.sqrt(((points - targets[:, None, :]) ** 2).sum(-1))
        pairs = valid[:, :, None] & valid[:, None, :]
        eye = jnp.eye(k, dtype=coords.dtype)
        gathered = values[jnp.where(valid, idx, 0)]  # (b, k, e)
        if model.bounded:
            sill = model.total_sill
            matrix = jnp.where(pairs, model.covariance(lags, jnp), eye)
            c0 = model.covariance(lags0, jnp) * real
            factor = jnp.linalg.cholesky(matrix)
            rhs = jnp.stack([c0, real], axis=-1)
            half = lax.linalg.triangular_solve(factor, rhs, left_side=True, lower=True)
            solution = lax.linalg.triangular_solve(factor, half, left_side=True, lower=True, transpose_a=True)
            weights = solution[..., 0]
            variance = sill - (weights * c0).sum(-1)
            if ordinary:
                ones = solution[..., 1]
                mu = (weights.sum(-1) - 1.0) / ones.sum(-1)
                weights = weights - mu[:, None] * ones
                variance = sill - mu - (weights * c0).sum(-1)
            failed = ~jnp.isfinite(factor).all(axis=(-2, -1))
        else:
            # PyKrige's semivariance form, with the Lagrange row and column bordering it.
            gamma = jnp.where(pairs, model(lags, jnp), eye)
            border = jnp.concatenate([real, jnp.zeros_like(real[:, :1])], axis=1)
            matrix = jnp.concatenate(
                [jnp.concatenate([gamma, real[:, :, None]], axis=2), border[:, None, :]], axis=1
            )
            g0 = model(lags0, jnp) * real
            rhs = jnp.concatenate([g0, jnp.ones_like(real[:, :1])], axis=1)
            solution = jnp.linalg.solve(matrix, rhs[..., None])[..., 0]
            weights = solution[:, :k]
            variance = (weights * g0).sum(-1) + solution[:, k]
            failed = ~jnp.isfinite(solution).all(axis=-1)
        weights = weights * real
        if ordinary:
            estimate = jnp.einsum("bk,bke->be", weights, gathered)
        else:
            estimate = mean + jnp.einsum("bk,bke->be", weights, gathered - mean)
        used = valid.any(axis=1) & ~failed
        estimate = jnp.where(used[:, None], estimate, jnp.nan)
        # Only round-off can make the variance negative.
        variance = jnp.where(used, jnp.maximum(variance, 0.0), jnp.nan)
        return estimate, variance, failed & valid.any(axis=1)

    return jax.jit(solve, static_argnames=("model", "ordinary"))


def krige_local_batched(
    coords: NDArray[np.float64],
    values: NDArray[np.float64],
    targets: NDArray[np.float64],
    idx: NDArray[np.int64],
    model: VariogramModel,
    mean: float | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ordinary (``mean`` None) or simple kriging of targets from their neighbours, in JAX.

    Parameters
    ----------
    coords : numpy.ndarray
        (n, d) centred, anisotropy-scaled sample coordinates (m).
    values : numpy.ndarray
        (n, e) sample values, one column per variable kriged with the same weights.
    targets : numpy.ndarray
        (c, d) scaled target coordinates (m).
    idx : numpy.ndarray
        (c, k) int64 neighbour indices, valid ones first, then -1.
    model : VariogramModel
        Variogram; simple kriging needs a bounded one.
    mean : float or None
        Known mean (simple kriging, value units), or None for ordinary kriging.

    Returns
    -------
    tuple of numpy.ndarray
        Estimates (c, e) in value units and variances (c,) in value units², NaN for
        targets without neighbours or with a singular system: those of
        :func:`afg_core.geostat.kriging_kernel.krige_local` to round-off.

    Raises
    ------
    ValueError
        For simple kriging with an unbounded (linear, power) model.
    """
    if mean is not None and not model.bounded:
        raise ValueError("simple kriging needs a bounded variogram model")
    import jax
    import jax.numpy as jnp

    c, k = idx.shape
    d, e = coords.shape[1], values.shape[1]
    estimate = np.full((c, e), np.nan)
    variance = np.full(c, np.nan)
    if c == 0 or k == 0:
        return estimate, variance
    size = batch_size(c, k, d, e)
    solve = _solve_batch()
    failed = np.zeros(c, dtype=bool)
    with jax.enable_x64(True):
        device_coords = jnp.asarray(coords, dtype=jnp.float64)
        device_values = jnp.asarray(values, dtype=jnp.float64)
        for start in range(0, c, size):
            stop = min(start + size, c)
            # The last batch is padded to the full size: one shape, one compilation.
            batch_idx = np.full((size, k), -1, dtype=np.int64)
            batch_idx[: stop - start] = idx[start:stop]
            batch_targets = np.zeros((size, d))
            batch_targets[: stop - start] = targets[start:stop]
            est, var, bad = solve(
                device_coords,
                device_values,
                jnp.asarray(batch_targets),
                jnp.asarray(batch_idx),
                jnp.float64(0.0 if mean is None else mean),
                model=model,
                ordinary=mean is None,
            )
            estimate[start:stop] = np.asarray(est)[: stop - start]
            variance[start:stop] = np.asarray(var)[: stop - start]
            failed[start:stop] = np.asarray(bad)[: stop - start]
    if failed.any():
        rows = np.flatnonzero(failed)
        nugget, codes, sills, ranges = model.kernel_parameters()
        estimate[rows], variance[rows] = krige_local(
            coords,
            values,
            targets[rows],
            idx[rows],
            nugget,
            codes,
            sills,
            ranges,
            np.nan if mean is None else mean,
            model.bounded,
            block_count(),
        )
    return estimate, variance
