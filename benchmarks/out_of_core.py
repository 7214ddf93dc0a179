"""Benchmark: a block model larger than a worker's memory, kriged chunk by chunk into a zarr store.

Run: .venv/bin/python benchmarks/out_of_core.py [--cells 30000000] [--worker-memory 0.5]
Starts ``distributed.LocalCluster(n_workers=2, memory_limit=...)``, kriges 20,000 samples onto
every cell (ordinary kriging with variance, 32 samples, at most 8 per hole) with
:func:`afg_core.geostat.cluster.krige_block_model_to_store`, and prints the wall time, the
model's size in memory (estimate + variance, float64) against the worker memory limit, each
worker's peak RSS, the store's size on disk, and then the times of a decimated read (for the
3D view and targets), a thresholded read and a streamed Parquet export, with this process's
peak RSS.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from cluster import worker_peak_gb
from kriging import MODEL, drill_holes, peak_rss_gb, warm_up

from afg_core.geostat import BlockModel, SearchNeighbourhood
from afg_core.geostat.blockstore import BlockStore
from afg_core.geostat.cluster import krige_block_model_to_store
from afg_core.products.exports import write_store_parquet


def folder_gb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=30_000_000)
    parser.add_argument("--worker-memory", type=float, default=0.5, help="GB per worker")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    side = round((args.cells / 100) ** 0.5)
    block = BlockModel(
        origin=(5.0, 5.0, 1.0), cell_size=(1000 / side, 1000 / side, 2.0), shape=(side, side, 100)
    )
    coords, values, holes = drill_holes(n_holes=250, per_hole=80, extent=1000.0)
    coords = coords + np.random.default_rng(3).normal(0, 0.01, coords.shape)
    search = SearchNeighbourhood(max_samples=32, max_per_hole=8, radius=300.0)
    model_gb = 2 * 8 * block.n_cells / 1e9
    folder = Path(tempfile.mkdtemp(prefix="afg-store-"))
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        memory_limit=f"{args.worker_memory}GB",
        dashboard_address=None,
    )
    client = Client(cluster)
    try:
        client.run(warm_up)
        store = BlockStore.create(folder / "model.zarr", block, ["v", "v_variance"])
        print(
            f"{len(values):,} samples -> {block.n_cells:,} cells ({block.shape}), {len(store.regions())} chunks; "
            f"model in memory would be {model_gb:.2f} GB, worker memory limit {args.worker_memory:.2f} GB"
        )
        start = time.perf_counter()
        estimated = krige_block_model_to_store(
            store, coords, values, MODEL, ["v"], search, holes, client=client
        )
        seconds = time.perf_counter() - start
        peaks = client.run(worker_peak_gb)
        print(
            f"kriged {estimated:,} cells on LocalCluster(2 workers): {seconds:.1f} s "
            f"({1e6 * seconds / block.n_cells:.2f} us per cell); worker peak RSS "
            + ", ".join(f"{v:.2f} GB" for v in peaks.values())
            + f"; store on disk {folder_gb(folder):.2f} GB"
        )
    finally:
        client.close()
        cluster.close()

    start = time.perf_counter()
    coarse, fields = store.decimated(["v"], 4)
    print(f"decimated read (4x4x4 averages, {coarse.n_cells:,} cells): {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    above = store.cells_above("v", float(np.nanquantile(fields["v"], 0.99)))
    print(f"thresholded read (top ~1 %: {len(above):,} cells): {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    parquet = write_store_parquet(store, folder / "blocks.parquet", ["v", "v_variance"])
    print(
        f"streamed Parquet export ({parquet.stat().st_size / 1e9:.2f} GB): {time.perf_counter() - start:.1f} s; "
        f"this process's peak RSS {peak_rss_gb():.2f} GB"
    )
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
