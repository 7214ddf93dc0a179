"""Benchmark: the JAX path (GPU where JAX has one) against the CPU path, for kriging and the LSTM.

Run: .venv/bin/python benchmarks/gpu.py [--cells 1000000] [--skip-lstm]
Prints the devices JAX sees, then:

(a) 20,000 drill-hole samples -> ``--cells`` block-model cells, ordinary kriging with
    variance (32 samples, at most 8 per hole): seconds with ``solver="cpu"`` (the numba
    kernel) and ``solver="jax"`` (batched Cholesky in JAX on its default device), the
    speed-up and the largest relative difference (must stay under 1e-6);
(b) seconds per training epoch of the paper's LSTM (the workload of
    benchmarks/demo_and_training.py: 4,000 windows x 16 steps x 11 features, 15 outputs)
    on every platform JAX has, CPU first.

Without a GPU the "jax" figures are CPU-JAX figures and are labelled so. Compilation
(numba from its disk cache, XLA on a small warm-up call) is excluded.
"""

from __future__ import annotations

import argparse
import time

from afg_core import configure_backends

configure_backends()

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from kriging import MODEL, drill_holes, warm_up  # noqa: E402

from afg_core.geostat import BlockModel, SearchNeighbourhood, krige_block_model  # noqa: E402
from afg_core.learn import LSTMRegressor  # noqa: E402


def label(platform: str) -> str:
    return "GPU" if platform == "gpu" else f"{platform.upper()}-JAX (no GPU)"


def bench_kriging(cells: int) -> None:
    side = round((cells / 100) ** 0.5)
    block = BlockModel(
        origin=(5.0, 5.0, 1.0), cell_size=(1000 / side, 1000 / side, 2.0), shape=(side, side, 100)
    )
    coords, values, holes = drill_holes(n_holes=250, per_hole=80, extent=1000.0)
    search = SearchNeighbourhood(max_samples=32, max_per_hole=8, radius=300.0)
    warm_up()
    # XLA compiles once per batch shape: a first call, untimed, on a slab of the model
    # large enough (20,000 cells) to use the batch size of the timed run.
    layers = min(100, -(-20_000 // side**2))
    krige_block_model(
        BlockModel(block.origin, block.cell_size, (side, side, layers)),
        coords,
        values,
        MODEL,
        search=search,
        hole_ids=holes,
        solver="jax",
    )
    seconds = {}
    results = {}
    for solver in ("cpu", "jax"):
        start = time.perf_counter()
        results[solver] = krige_block_model(
            block, coords, values, MODEL, search=search, hole_ids=holes, solver=solver
        )
        seconds[solver] = time.perf_counter() - start
    cpu, on_jax = results["cpu"], results["jax"]
    scale = np.nanmax(np.abs(cpu.estimate))
    worst = max(
        np.nanmax(np.abs(on_jax.estimate - cpu.estimate)) / scale,
        np.nanmax(np.abs(on_jax.variance - cpu.variance) / np.maximum(cpu.variance, 1e-12)),
    )
    where = label(jax.default_backend())
    print(f"(a) {len(values):,} samples -> {block.n_cells:,} cells, ordinary kriging with variance")
    print(f"    solver='cpu' (numba kernel): {seconds['cpu']:.1f} s")
    print(f"    solver='jax' on {where}: {seconds['jax']:.1f} s")
    print(
        f"    speed-up {seconds['cpu'] / seconds['jax']:.2f}x; largest relative difference {worst:.1e} "
        "(must be < 1e-6)"
    )


def lstm_epoch_seconds(device) -> tuple[float, float]:
    """(seconds per epoch after the first, first epoch with compilation) on ``device``."""
    rng = np.random.default_rng(0)
    rows = 4000 * 16
    x = pd.DataFrame(rng.normal(size=(rows, 11)), columns=[f"f{i}" for i in range(11)])
    y = rng.normal(size=(rows, 15))
    holes = np.repeat(np.arange(4000), 16)
    times: list[float] = []
    model = LSTMRegressor(
        window=16, stride=16, epochs=4, on_epoch=lambda *_: times.append(time.perf_counter())
    )
    with jax.default_device(device):
        start = time.perf_counter()
        model.fit(x, y, groups=holes)
    return float(np.diff([start, *times])[1:].mean()), times[0] - start


def bench_lstm() -> None:
    print("(b) LSTM (2 x LSTM 128, Dense 64, Dense 32, 15 outputs), 4,000 windows x 16 steps")
    per_platform = {}
    for platform in ["cpu"] + [p for p in ("gpu",) if jax.default_backend() == p]:
        per_epoch, first = lstm_epoch_seconds(jax.devices(platform)[0])
        per_platform[platform] = per_epoch
        print(f"    {label(platform)}: {per_epoch:.2f} s per epoch (first epoch with compile {first:.1f} s)")
    if "gpu" in per_platform:
        print(f"    speed-up {per_platform['cpu'] / per_platform['gpu']:.2f}x")
    else:
        print("    no GPU: no speed-up to report")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--skip-lstm", action="store_true")
    args = parser.parse_args()
    print(f"JAX {jax.__version__}, default backend {jax.default_backend()!r}, devices {jax.devices()}")
    bench_kriging(args.cells)
    if not args.skip_lstm:
        bench_lstm()


if __name__ == "__main__":
    main()
