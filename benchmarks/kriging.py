"""Benchmark: local kriging speed and memory, against PyKrige, and variogram recomputation.

Run: .venv/bin/python benchmarks/kriging.py [--skip-pykrige]

Prints, in one run:

(a) 20,000 drill-hole samples -> 1,000,000-cell block model, ordinary kriging with
    variance, 32 samples (at most 8 per hole): seconds (target <= 10 s) and the peak
    resident memory of the process (target < 2 GB);
(b) 1,500 samples -> 32,000 cells, 32 nearest samples: our seconds against PyKrige's
    fastest option (OrdinaryKriging3D, backend "loop", n_closest_points=32, BLAS pinned to
    one thread; constructor included since a user must run it) and the ratio (target >= 100x);
(c) the Variogram page's recomputation on 20,000 samples (omnidirectional experimental
    variogram + auto-fit): seconds (target < 1 s).

Numba compilation is excluded (cached on disk after the first run, and warmed up here).
"""

from __future__ import annotations

import argparse
import resource
import time

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from afg_core.geostat.blockmodel import BlockModel
from afg_core.geostat.estimation import krige_block_model, ordinary_kriging
from afg_core.geostat.experimental import experimental_variogram
from afg_core.geostat.fitting import fit_variogram
from afg_core.geostat.search import SearchNeighbourhood
from afg_core.geostat.variogram import VariogramModel

MODEL = VariogramModel(kind="spherical", nugget=0.1, sill=1.0, range=300.0, range_vertical=100.0)


def drill_holes(n_holes: int, per_hole: int, extent: float, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Inclined synthetic holes sampled every 2.5 m, with a smooth field plus noise."""
    rng = np.random.default_rng(seed)
    collars = np.column_stack([rng.uniform(0, extent, (n_holes, 2)), np.full(n_holes, 200.0)])
    azimuth = np.radians(rng.uniform(0, 360, n_holes))
    dip = np.radians(rng.uniform(60, 90, n_holes))
    direction = np.column_stack([np.sin(azimuth) * np.cos(dip), np.cos(azimuth) * np.cos(dip), -np.sin(dip)])
    along = 2.5 * (np.arange(per_hole) + 0.5)
    coords = (collars[:, None, :] + along[None, :, None] * direction[:, None, :]).reshape(-1, 3)
    values = np.sin(coords[:, 0] / 150.0) + np.cos(coords[:, 1] / 110.0) + 0.3 * rng.normal(size=len(coords))
    holes = np.repeat(np.arange(n_holes), per_hole)
    return coords, values, holes


def cpu_seconds() -> float:
    """User + system CPU time of this process so far, all threads (s).

    Quoted next to wall time because other jobs on a shared machine stretch the wall time
    but hardly the CPU time; CPU time / cores is the wall time on an idle machine.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far (GB; Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def warm_up() -> None:
    """Compile (or load from the cache) every numba kernel before timing."""
    coords, values, holes = drill_holes(20, 20, 500.0)
    ordinary_kriging(coords, values, coords[:50], MODEL, neighbours=16, hole_ids=holes)


def bench_block_model() -> None:
    coords, values, holes = drill_holes(n_holes=250, per_hole=80, extent=1000.0)
    block = BlockModel(origin=(5.0, 5.0, 1.0), cell_size=(10.0, 10.0, 2.0), shape=(100, 100, 100))
    search = SearchNeighbourhood(max_samples=32, max_per_hole=8, radius=300.0)
    start, cpu = time.perf_counter(), cpu_seconds()
    result = krige_block_model(block, coords, values, MODEL, search=search, hole_ids=holes)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    estimated = int(result.block.flat_mask().sum())
    print(
        f"(a) {len(values):,} samples -> {block.n_cells:,} cells ({estimated:,} within the search ellipsoid), "
        f"OK + variance, 32 samples (<= 8 per hole): {seconds:.2f} s (target <= 10 s; CPU {cpu:.1f} s on "
        f"{numba.get_num_threads()} threads); "
        f"peak RSS {peak_rss_gb():.2f} GB (target < 2 GB)"
    )


def bench_against_pykrige(skip: bool) -> None:
    from pykrige.ok3d import OrdinaryKriging3D

    coords, values, _ = drill_holes(n_holes=30, per_hole=50, extent=600.0, seed=1)
    rng = np.random.default_rng(2)
    targets = rng.uniform([0, 0, 50], [600, 600, 200], (32_000, 3))
    start = time.perf_counter()
    ours = ordinary_kriging(coords, values, targets, MODEL, neighbours=32, max_per_hole=None)
    our_seconds = time.perf_counter() - start
    print(f"(b) {len(values):,} samples -> {len(targets):,} points, 32 nearest: AFG {our_seconds:.3f} s")
    if skip:
        return
    for threads in (1, None):
        with threadpool_limits(limits=threads):
            start = time.perf_counter()
            kriger = OrdinaryKriging3D(
                coords[:, 0],
                coords[:, 1],
                coords[:, 2],
                values,
                variogram_model="spherical",
                variogram_parameters=[MODEL.total_sill, MODEL.range, MODEL.nugget],
                anisotropy_scaling_z=MODEL.range / MODEL.range_vertical,
            )
            expected, _ = kriger.execute("points", *targets.T, backend="loop", n_closest_points=32)
            seconds = time.perf_counter() - start
        label = "BLAS 1 thread" if threads == 1 else "BLAS default threads"
        difference = float(np.max(np.abs(np.asarray(expected) - ours.estimate)))
        print(
            f"    PyKrige loop backend ({label}): {seconds:.1f} s -> AFG is {seconds / our_seconds:.0f}x faster "
            f"(target >= 100x); max |estimate difference| {difference:.2e}"
        )


def bench_variogram() -> None:
    coords, values, _ = drill_holes(n_holes=250, per_hole=80, extent=1000.0)
    start = time.perf_counter()
    experimental = experimental_variogram(coords, values, n_lags=15, max_lag=500.0)
    fit_variogram(experimental, kind="spherical")
    seconds = time.perf_counter() - start
    print(f"(c) variogram recomputation + fit on {len(values):,} samples: {seconds:.2f} s (target < 1 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-pykrige", action="store_true", help="skip the slow PyKrige timing")
    args = parser.parse_args()
    warm_up()
    bench_block_model()
    bench_against_pykrige(args.skip_pykrige)
    bench_variogram()


if __name__ == "__main__":
    main()
