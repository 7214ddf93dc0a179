"""Out-of-core block models (zarr store) and model prediction on a distributed.LocalCluster of 2 workers.

Kriging into the store, its gradients and the models' predictions over tiles must equal the
in-process results; a task's memory must depend on the chunk, not on the size of the model.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from afg_core.runtime import configure_backends

configure_backends()

from afg_core.geostat import (  # noqa: E402
    BlockModel,
    SearchNeighbourhood,
    VariogramModel,
    block_gradient,
    krige_block_model,
    mask_far_cells,
)
from afg_core.geostat.blockstore import BlockStore  # noqa: E402
from afg_core.geostat.cluster import (  # noqa: E402
    _krige_region,
    dask_client,
    krige_block_model_to_store,
    store_gradient,
)
from afg_core.learn.cluster import column_tiles, predict_on_cluster  # noqa: E402
from afg_core.learn.models import BoostingRegressor, FNNRegressor, LSTMRegressor  # noqa: E402
from afg_core.products.exports import write_store_csv, write_store_parquet  # noqa: E402

MODEL = VariogramModel("spherical", nugget=0.05, sill=1.0, range=400.0)
SEARCH = SearchNeighbourhood(max_samples=16, max_per_hole=4, radius=300.0)


@pytest.fixture(scope="module")
def client():
    client = dask_client("local", n_workers=2)
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


def _samples(seed: int = 0):
    rng = np.random.default_rng(seed)
    collars = rng.uniform(0, 1000, (40, 2))
    coords = np.column_stack([np.repeat(collars, 15, axis=0), np.tile(np.linspace(-10, -290, 15), 40)])
    # Jittered: equidistant samples would make the k-nearest choice depend on batching.
    coords = coords + rng.normal(0, 0.37, coords.shape)
    values = np.column_stack([np.sin(coords[:, 0] / 150) + 0.01 * coords[:, 2], np.cos(coords[:, 1] / 200)])
    holes = np.repeat([f"H{i:02d}" for i in range(40)], 15)
    return coords, values, holes


def _store(tmp_path, block: BlockModel, chunk_columns=(16, 16)) -> BlockStore:
    names = ["Fe", "Fe_variance", "Si", "Si_variance", "dFe_dx", "dFe_dy", "dFe_dz"]
    return BlockStore.create(tmp_path / "model.zarr", block, names, chunk_columns=chunk_columns)


BLOCK = BlockModel(origin=(10.0, 10.0, -295.0), cell_size=(20.0, 20.0, 10.0), shape=(50, 50, 30))


@pytest.mark.parametrize("engine", ["in-process", "cluster"])
def test_kriging_into_the_store_equals_in_memory_kriging(tmp_path, engine, request) -> None:
    coords, values, holes = _samples()
    store = _store(tmp_path, BLOCK)
    client = request.getfixturevalue("client") if engine == "cluster" else None
    shares: list[float] = []
    estimated = krige_block_model_to_store(
        store, coords, values, MODEL, ["Fe", "Si"], SEARCH, holes, 100.0, client, shares.append
    )
    local = krige_block_model(mask_far_cells(BLOCK, coords, 100.0), coords, values, MODEL, SEARCH, holes)
    assert estimated == local.block.mask.sum() > 10_000
    assert len(store.regions()) == 16 and shares[-1] == 1.0 and len(shares) == 16
    for j, name in enumerate(["Fe", "Si"]):
        # 1e-12 of the field's size: workers may round the last bit differently (seen: 2e-16 absolute).
        bit = 1e-12 * np.nanmax(np.abs(local.estimate[..., j]))
        np.testing.assert_allclose(
            store.read(name), local.estimate[..., j], rtol=1e-12, atol=bit, equal_nan=True
        )
        np.testing.assert_allclose(
            store.read(f"{name}_variance"), local.variance[..., j], rtol=1e-12, atol=1e-15, equal_nan=True
        )
    # Gradients by map_overlap over chunks equal the in-memory differences, masks included.
    store_gradient(store, "Fe", client)
    gradient = block_gradient(local.block, local.estimate[..., 0])
    for axis in "xyz":
        expected = gradient.component(axis)
        # Differences of estimates equal to round-off (workers run one numba thread, this process
        # two) are equal to round-off of the field over a cell, not of the (small) gradient.
        scale = np.nanmax(np.abs(local.estimate[..., 0])) / BLOCK.cell_size["xyz".index(axis)]
        np.testing.assert_allclose(
            store.read(f"dFe_d{axis}"), expected, rtol=1e-12, atol=1e-12 * scale, equal_nan=True
        )
    assert BlockStore.open(store.path).names == store.names


def test_a_tasks_memory_follows_the_chunk_not_the_model(tmp_path) -> None:
    coords, values, holes = _samples()
    peaks = {}
    for nx in (20, 400):  # the larger model has twenty times the cells and chunks
        block = BlockModel((10.0, 10.0, -295.0), (1000 / nx, 10.0, 10.0), (nx, 100, 30))
        store = BlockStore.create(tmp_path / f"m{nx}", block, ["v", "v_variance"], chunk_columns=(10, 25))
        region = store.regions()[0]
        tracemalloc.start()
        _krige_region(region, store, (coords, values[:, :1], holes), MODEL, SEARCH, ("v",), None)
        peaks[nx] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        model_bytes = 2 * 8 * block.n_cells
    assert peaks[400] < 1.3 * peaks[20]
    assert peaks[400] < model_bytes / 5


def test_decimated_and_thresholded_reads_and_streamed_exports(tmp_path) -> None:
    coords, values, holes = _samples()
    block = mask_far_cells(BLOCK, coords, 100.0)
    store = _store(tmp_path, block)
    krige_block_model_to_store(store, coords, values, MODEL, ["Fe", "Si"], SEARCH, holes)
    full = store.read("Fe")
    assert store.has_mask and np.isnan(full[~block.mask]).all()

    coarse, fields = store.decimated(["Fe"], 5)
    assert coarse.shape == (10, 10, 6) and coarse.cell_size == (100.0, 100.0, 50.0)
    # The first coarse cell is the NaN-ignoring mean of the first 5 x 5 x 5 fine cells, centred on them.
    np.testing.assert_allclose(fields["Fe"][0, 0, 0], np.nanmean(full[:5, :5, :5]), rtol=1e-12)
    np.testing.assert_allclose(coarse.origin, np.array(BLOCK.origin) + 2 * np.array(BLOCK.cell_size))

    above = store.cells_above("Fe", 0.5, ["Fe_variance"])
    assert len(above) == np.sum(full > 0.5) > 0
    centres = BLOCK.cell_centres()[above["cell"].to_numpy()]
    np.testing.assert_array_equal(above[["x", "y", "z"]].to_numpy(), centres)
    np.testing.assert_array_equal(above["Fe"].to_numpy(), full.ravel()[above["cell"].to_numpy()])

    parquet = write_store_parquet(store, tmp_path / "blocks.parquet", ["Fe", "Si"])
    csv = write_store_csv(store, tmp_path / "blocks.csv", ["Fe", "Si"])
    for table in (pd.read_parquet(parquet), pd.read_csv(csv)):
        assert len(table) == np.isfinite(full).sum()
        table = table.sort_values("cell")
        np.testing.assert_allclose(table["Fe"], full.ravel()[table["cell"]], rtol=1e-12)


def test_column_tiles_never_split_a_column() -> None:
    groups = np.repeat(np.arange(50), np.random.default_rng(0).integers(1, 20, 50))
    tiles = column_tiles(groups, 64)
    assert tiles[0][0] == 0 and tiles[-1][1] == len(groups)
    assert all(a == b for (_, a), (b, _) in zip(tiles, tiles[1:]))
    for start, _ in tiles[1:]:
        assert groups[start] != groups[start - 1]
    with pytest.raises(ValueError, match="contiguous"):
        column_tiles(np.array([0, 0, 1, 0]))


def test_models_predict_on_the_cluster_as_in_process(client) -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(1200, 4)), columns=["a", "b", "c", "d"])
    y = np.column_stack([x["a"] + x["b"] ** 2, np.sin(x["c"])])
    groups = np.repeat(np.arange(60), 20)
    models = [
        BoostingRegressor(max_iter=30).fit(x, y, groups=groups),
        FNNRegressor(dense_units=(16,), epochs=3, random_state=1).fit(x, y, groups=groups),
        LSTMRegressor(lstm_units=(16,), dense_units=(8,), epochs=2, window=8, random_state=1).fit(
            x, y, groups=groups
        ),
    ]
    shares: list[float] = []
    remote = predict_on_cluster(client, models, x, groups, tile_rows=250, progress=shares.append)
    assert remote.shape == (3, 1200, 2) and len(shares) == 5
    for model, predicted in zip(models, remote):
        local = model.predict(x, groups=groups)
        np.testing.assert_allclose(predicted, local, rtol=1e-5, atol=1e-6)


def test_volume_ensemble_fitted_and_predicted_on_the_cluster_equals_in_process(client, tmp_path) -> None:
    from afg_core.demo.generator import generate_demo_project
    from afg_core.io.project import load_project
    from afg_core.learn import RunConfig, run_experiment

    project = load_project(generate_demo_project(tmp_path / "demo", seed=5, n_holes=16))
    config = RunConfig(
        task="volume",
        models=("boosting",),
        ablation=False,
        importance=False,
        groups=("position", "kriged"),
        n_boot=10,
        ensemble=2,
        cell_size=(200.0, 200.0, 40.0),
    )
    here = run_experiment(project, config).volume
    there = run_experiment(project, config, client=client).volume
    assert there.members == here.members == 2
    members = here.member_log["TREO"]
    assert members.shape == (2, here.block.n_cells) and members.dtype == np.float32
    np.testing.assert_allclose(
        members.mean(axis=0), here.log_mean["TREO"], rtol=1e-5, atol=1e-5, equal_nan=True
    )
    np.testing.assert_allclose(there.member_log["TREO"], members, rtol=1e-5, equal_nan=True)
    for name in here.log_mean:
        np.testing.assert_allclose(there.log_mean[name], here.log_mean[name], rtol=1e-5, equal_nan=True)
        np.testing.assert_allclose(there.log_sd[name], here.log_sd[name], rtol=1e-5, equal_nan=True)


def test_krige_command_streams_an_out_of_core_store_on_a_local_cluster(cli_demo, tmp_path, afg_cli) -> None:
    from afg_core.products.targets import krige_grade_to_store

    folder, _ = cli_demo
    out = tmp_path / "blocks.parquet"
    args = ("krige", str(folder), "--store", str(tmp_path / "s.zarr"), "--cell", "50", "--parquet", str(out))
    done = afg_cli(*args, "--scheduler", "local", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "log TREO kriged from" in done.stdout and "samples onto" in done.stdout and "rank" in done.stdout
    from afg_core.io.project import load_project

    samples = load_project(folder).drillholes.samples
    store = krige_grade_to_store(samples, tmp_path / "here.zarr", "TREO", cell_size=(50.0, 50.0, 25.0))
    remote = pd.read_parquet(out).sort_values("cell", ignore_index=True)
    local = pd.concat(store.iter_tables(["log_TREO", "log_TREO_variance"])).sort_values(
        "cell", ignore_index=True
    )
    assert len(remote) == len(local) > 1000
    pd.testing.assert_frame_equal(remote, local, rtol=1e-12)
