"""Benchmark: 20,000 samples -> 10,000,000-cell block model, in process against a LocalCluster of 2 workers.

Run: .venv/bin/python benchmarks/cluster.py [--cells 10000000]
Prints the wall time of ordinary kriging with variance (32 samples, at most 8 per hole) in
this process and on ``distributed.LocalCluster(n_workers=2)``, the largest difference
between the two (must be 0 to round-off), each worker's peak memory, and the per-cell cost
that docs/scaling.md projects from.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from kriging import MODEL, drill_holes, peak_rss_gb, warm_up

from afg_core.geostat import BlockModel, SearchNeighbourhood, krige_block_model
from afg_core.geostat.cluster import TILE_CELLS, dask_client, krige_block_model_on_cluster


def worker_peak_gb(dask_worker) -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=10_000_000)
    args = parser.parse_args()
    side = round((args.cells / 100) ** 0.5)
    block = BlockModel(
        origin=(5.0, 5.0, 1.0), cell_size=(1000 / side, 1000 / side, 2.0), shape=(side, side, 100)
    )
    coords, values, holes = drill_holes(n_holes=250, per_hole=80, extent=1000.0)
    # Jittered so no two samples lie at exactly the same distance from a cell centre (see cluster.py tests).
    coords = coords + np.random.default_rng(3).normal(0, 0.01, coords.shape)
    search = SearchNeighbourhood(max_samples=32, max_per_hole=8, radius=300.0)
    warm_up()
    # Started before the in-process run: forked workers would otherwise report its peak as theirs.
    client = dask_client("local", n_workers=2)
    client.run(warm_up)

    start = time.perf_counter()
    local = krige_block_model(block, coords, values, MODEL, search=search, hole_ids=holes)
    in_process = time.perf_counter() - start
    print(
        f"{len(values):,} samples -> {block.n_cells:,} cells in process: {in_process:.1f} s "
        f"({1e6 * in_process / block.n_cells:.2f} us per cell), peak RSS {peak_rss_gb():.2f} GB"
    )

    try:
        start = time.perf_counter()
        remote = krige_block_model_on_cluster(client, block, coords, values, MODEL, search, holes)
        on_cluster = time.perf_counter() - start
        peaks = client.run(worker_peak_gb)
        print(
            f"LocalCluster(2 workers, {TILE_CELLS:,} cells per task): {on_cluster:.1f} s "
            f"({1e6 * on_cluster / block.n_cells:.2f} us per cell); worker peak RSS "
            + ", ".join(f"{v:.2f} GB" for v in peaks.values())
        )
        both = np.isfinite(local.estimate)
        scale = np.abs(local.estimate[both]).clip(1e-12)
        difference = np.max(np.abs(remote.estimate[both] - local.estimate[both]) / scale)
        print(f"largest relative difference cluster vs in process: {difference:.1e} (target <= 1e-12)")
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
