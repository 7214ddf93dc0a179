"""Block-model kriging on a Dask cluster: tiles of cells mapped over workers, samples shipped once.

One setting chooses where the work runs (:func:`dask_client`):

* ``"threads"`` (default): in this process, the compiled kernel's own threads (no Dask);
* ``"local"``: a ``distributed.LocalCluster`` on this machine (one worker per core);
* ``"tcp://host:8786"``: an existing scheduler, e.g. one started by dask-jobqueue on a
  cluster or by the Dask Helm chart on Kubernetes (see docs/scaling.md).

The active cells are cut into tiles of at most ``tile_cells`` cells in the block model's
cell order; each worker kriges a tile with :func:`afg_core.geostat.ordinary_kriging`
against the samples and the active-cell list it received once (``Client.scatter(...,
broadcast=True)``; a task carries only its start and stop), so a worker's memory is bounded
by the samples, the cell list and one tile, whatever the number of tiles.
Every target's neighbours and weights depend on the samples only, not on the tiling, so
the results equal the in-process :func:`afg_core.geostat.krige_block_model`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from afg_core.errors import InputError
from afg_core.geostat.blockmodel import BlockModel
from afg_core.geostat.estimation import (
    BlockKriging,
    KrigingResult,
    block_kriging_from_cells,
    ordinary_kriging,
)
from afg_core.geostat.search import SearchNeighbourhood
from afg_core.geostat.variogram import VariogramModel

#: Default cells per task: about 20 MB of targets and results per tile.
TILE_CELLS = 250_000


def dask_client(engine: str = "threads", n_workers: int | None = None):
    """A ``distributed.Client`` for ``engine`` (``"local"`` or a scheduler address), None for ``"threads"``.

    Raises
    ------
    InputError
        When the scheduler cannot be reached.
    """
    if engine == "threads":
        return None
    from distributed import Client, LocalCluster

    if engine == "local":
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return Client(cluster)
    try:
        return Client(engine, timeout="10s")
    except OSError as exc:
        raise InputError(
            f"cannot reach the Dask scheduler at {engine} ({exc})",
            column="scheduler",
            fix="give the address the scheduler prints (tcp://host:8786), 'local', or 'threads'",
        ) from None


def _krige_tile(
    start: int, stop: int, samples: tuple, active: NDArray[np.int64], block: BlockModel, model, search
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Krige the active cells ``active[start:stop]``; their centres are computed here, not shipped."""
    coords, values, hole_ids = samples
    index = np.unravel_index(active[start:stop], block.shape)
    targets = np.column_stack([axis[i] for axis, i in zip(block.axes(), index)])
    result = ordinary_kriging(coords, values, targets, model, hole_ids=hole_ids, search=search)
    return result.estimate, result.variance, result.n_neighbours


def krige_block_model_on_cluster(
    client,
    block: BlockModel,
    coords: ArrayLike,
    values: ArrayLike,
    model: VariogramModel | Sequence[VariogramModel],
    search: SearchNeighbourhood | None = None,
    hole_ids: ArrayLike | None = None,
    tile_cells: int = TILE_CELLS,
) -> BlockKriging:
    """:func:`afg_core.geostat.krige_block_model` with the tiles kriged by the workers of ``client``.

    Parameters
    ----------
    client : distributed.Client
        From :func:`dask_client` (``"local"`` or a scheduler address).
    block, coords, values, model, search, hole_ids
        As in :func:`afg_core.geostat.krige_block_model` (same defaults).
    tile_cells : int
        Most cells per task.

    Returns
    -------
    BlockKriging
        Identical to the in-process result.
    """
    first = model if isinstance(model, VariogramModel) else model[0]
    if search is None:
        search = SearchNeighbourhood(radius=max(s.range for s in first.structures))
    xyz = np.asarray(coords, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    holes = None if hole_ids is None else np.asarray(hole_ids)
    active = np.flatnonzero(block.flat_mask())
    if not len(active):
        raise ValueError("the block model has no active cell")
    # Samples and the active-cell list travel to every worker once; a task carries two integers.
    shared = client.scatter((xyz, z, holes), broadcast=True)
    shared_active = client.scatter(active, broadcast=True)
    starts = list(range(0, len(active), max(1, tile_cells)))
    stops = [min(s + tile_cells, len(active)) for s in starts]
    futures = client.map(
        _krige_tile,
        starts,
        stops,
        samples=shared,
        active=shared_active,
        block=block,
        model=model,
        search=search,
        pure=False,
    )
    parts = client.gather(futures)
    result = KrigingResult(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
    return block_kriging_from_cells(block, active, result)
