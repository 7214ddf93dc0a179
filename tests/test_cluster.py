"""Block-model kriging on a distributed.LocalCluster with two worker processes equals the in-process result."""

from __future__ import annotations

import numpy as np
import pytest

from afg_core.geostat import (
    BlockModel,
    SearchNeighbourhood,
    VariogramModel,
    block_model_from_extent,
    krige_block_model,
    mask_far_cells,
)
from afg_core.geostat.cluster import dask_client, krige_block_model_on_cluster


@pytest.fixture(scope="module")
def client():
    client = dask_client("local", n_workers=2)
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


def _bit(field: np.ndarray) -> float:
    """1e-12 of the largest value of a field: the absolute tolerance of 'identical to round-off'."""
    return 1e-12 * float(np.nanmax(np.abs(field)))


def _samples(n_holes: int = 40, per_hole: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    collars = rng.uniform(0, 1000, (n_holes, 2))
    xy = np.repeat(collars, per_hole, axis=0)
    z = np.tile(np.linspace(0, -290, per_hole), n_holes)
    # Jittered: on a perfectly regular layout several samples lie at exactly the same distance from a cell
    # centre, and which of them the k-nearest search keeps depends on how the targets are batched.
    coords = np.column_stack([xy, z]) + rng.normal(0, 0.37, (len(z), 3))
    values = (
        np.sin(coords[:, 0] / 150)
        + np.cos(coords[:, 1] / 200)
        + 0.01 * coords[:, 2]
        + rng.normal(0, 0.1, len(z))
    )
    holes = np.repeat([f"H{i:02d}" for i in range(n_holes)], per_hole)
    return coords, values, holes


def test_cluster_kriging_is_identical_to_in_process(client) -> None:
    coords, values, holes = _samples()
    block = mask_far_cells(block_model_from_extent(coords, (40.0, 40.0, 20.0)), coords, 120.0)
    model = VariogramModel("spherical", nugget=0.05, sill=1.0, range=400.0)
    search = SearchNeighbourhood(max_samples=24, max_per_hole=6)
    local = krige_block_model(block, coords, values, model, search=search, hole_ids=holes)
    remote = krige_block_model_on_cluster(
        client, block, coords, values, model, search, holes, tile_cells=2_000
    )
    assert block.flat_mask().sum() > 6_000  # several tiles
    # 1e-12 of the field's size: workers and this process may round the last bit of a weight differently
    # (seen: 2e-16 absolute), which is no longer 1e-12 relative on estimates that cross zero.
    np.testing.assert_allclose(
        remote.estimate, local.estimate, rtol=1e-12, atol=_bit(local.estimate), equal_nan=True
    )
    np.testing.assert_allclose(remote.variance, local.variance, rtol=1e-12, atol=1e-15, equal_nan=True)
    np.testing.assert_array_equal(remote.block.mask, local.block.mask)
    assert len(client.scheduler_info()["workers"]) == 2


def test_cluster_kriging_of_several_columns_and_the_default_search(client) -> None:
    coords, values, holes = _samples(seed=1)
    both = np.column_stack([values, 2 * values + 1])
    block = BlockModel(origin=(20.0, 20.0, -280.0), cell_size=(50.0, 50.0, 40.0), shape=(20, 20, 8))
    models = [
        VariogramModel("exponential", nugget=0.0, sill=1.0, range=500.0),
        VariogramModel("gaussian", nugget=0.1, sill=2.0, range=300.0),
    ]
    local = krige_block_model(block, coords, both, models, hole_ids=holes)
    remote = krige_block_model_on_cluster(
        client, block, coords, both, models, hole_ids=holes, tile_cells=1_000
    )
    np.testing.assert_allclose(
        remote.estimate, local.estimate, rtol=1e-12, atol=_bit(local.estimate), equal_nan=True
    )
    np.testing.assert_allclose(remote.variance, local.variance, rtol=1e-12, atol=1e-15, equal_nan=True)


def test_targets_command_on_a_local_cluster_matches_threads(cli_demo, tmp_path, afg_cli) -> None:
    import pandas as pd

    folder, _ = cli_demo
    tables = {}
    for engine in ("threads", "local"):
        out = tmp_path / f"{engine}.csv"
        done = afg_cli("targets", str(folder), "--scheduler", engine, "--csv", str(out), timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        tables[engine] = pd.read_csv(out)
    pd.testing.assert_frame_equal(tables["local"], tables["threads"], rtol=1e-9)
