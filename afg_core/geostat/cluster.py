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

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from afg_core.errors import InputError
from afg_core.geostat.blockmodel import BlockModel, mask_far_cells
from afg_core.geostat.blockstore import VARIANCE_SUFFIX, BlockStore
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
    except (OSError, ValueError) as exc:  # unreachable, or not an address
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


def _krige_region(
    region: tuple[slice, slice, slice],
    store: BlockStore,
    samples: tuple,
    model,
    search: SearchNeighbourhood,
    names: tuple[str, ...],
    max_distance: float | None,
) -> int:
    """Krige one chunk-aligned region of ``store`` and write it there; returns the cells estimated."""
    coords, values, hole_ids = samples
    sub = store.region_block(region)
    if max_distance is not None:
        sub = mask_far_cells(sub, coords, max_distance)
    active = np.flatnonzero(sub.flat_mask())
    if not len(active):
        return 0
    result = ordinary_kriging(
        coords, values, sub.cell_centres()[active], model, hole_ids=hole_ids, search=search
    )
    kriged = block_kriging_from_cells(sub, active, result)
    estimate = kriged.estimate.reshape(sub.shape + (len(names),))
    variance = kriged.variance.reshape(sub.shape + (len(names),))
    for j, name in enumerate(names):
        store.write(name, region, estimate[..., j])
        store.write(f"{name}{VARIANCE_SUFFIX}", region, variance[..., j])
    return int((result.n_neighbours > 0).sum())


def krige_block_model_to_store(
    store: BlockStore,
    coords: ArrayLike,
    values: ArrayLike,
    model: VariogramModel | Sequence[VariogramModel],
    names: Sequence[str],
    search: SearchNeighbourhood | None = None,
    hole_ids: ArrayLike | None = None,
    max_distance: float | None = None,
    client=None,
    progress: Callable[[float], None] | None = None,
) -> int:
    """Ordinary kriging of a block model held in a :class:`BlockStore`, one chunk per task.

    Each task kriges the cells of one chunk-aligned region and writes the estimate and the
    variance (fields ``name`` and ``name + "_variance"``, which the store must have) straight
    into the store, so neither the workers nor this process ever hold the whole model: a
    worker's memory is the samples plus one chunk. Results equal
    :func:`afg_core.geostat.krige_block_model` on the same (masked) model.

    Parameters
    ----------
    store : BlockStore
        Created with the fields to fill; its mask (if any) selects the cells.
    coords, values, model, search, hole_ids
        As in :func:`afg_core.geostat.krige_block_model`; ``values`` has one column per name.
    names : sequence of str
        Field name of each value column.
    max_distance : float, optional
        Also skip cells farther than this (m) from every sample
        (:func:`~afg_core.geostat.mask_far_cells`, applied per chunk).
    client : distributed.Client, optional
        Where the tasks run (:func:`dask_client`); None runs them one after another here.
    progress : callable, optional
        Called with the share of chunks done (0-1).

    Returns
    -------
    int
        Number of cells estimated.
    """
    first = model if isinstance(model, VariogramModel) else model[0]
    if search is None:
        search = SearchNeighbourhood(radius=max(s.range for s in first.structures))
    z = np.asarray(values, dtype=np.float64)
    names = tuple(names)
    if (z.shape[1] if z.ndim == 2 else 1) != len(names):
        raise ValueError(f"give one name per value column: {len(names)} names for {z.shape} values")
    missing = [n for n in (*names, *(f"{n}{VARIANCE_SUFFIX}" for n in names)) if n not in store.names]
    if missing:
        raise ValueError(f"the store has no field {missing}; create it with these names")
    samples = (
        np.asarray(coords, dtype=np.float64),
        z.reshape(len(z), -1),
        None if hole_ids is None else np.asarray(hole_ids),
    )
    regions = store.regions()
    report = progress or (lambda share: None)
    settings = {
        "store": store,
        "model": model,
        "search": search,
        "names": names,
        "max_distance": max_distance,
    }
    if client is None:
        estimated = 0
        for done, region in enumerate(regions, 1):
            estimated += _krige_region(region, samples=samples, **settings)
            report(done / len(regions))
        return estimated
    from distributed import as_completed

    shared = client.scatter(samples, broadcast=True)
    futures = client.map(_krige_region, regions, samples=shared, **settings, pure=False)
    estimated = 0
    for done, future in enumerate(as_completed(futures), 1):
        estimated += future.result()
        report(done / len(regions))
    return estimated


def store_gradient(store: BlockStore, name: str, client=None) -> tuple[str, str, str]:
    """dE/dx, dE/dy, dE/dz (per metre) of field ``name``, written to the store chunk by chunk.

    The same differences as :func:`afg_core.geostat.block_gradient` (central, one-sided at
    masked neighbours and at the model's edges), computed by :func:`dask.array.map_overlap`
    with a halo of one cell, so the result is identical to the in-memory gradient.
    The store must have the fields ``d{name}_dx``, ``d{name}_dy`` and ``d{name}_dz``.

    Returns
    -------
    tuple of str
        The three field names written.
    """
    import dask
    import dask.array as da

    from afg_core.geostat.gradients import grid_gradient

    outputs = tuple(f"d{name}_d{axis}" for axis in "xyz")
    missing = [n for n in outputs if n not in store.names]
    if missing:
        raise ValueError(f"the store has no field {missing}; create it with these names")
    field = store.dask(name)
    spacing = store.block.cell_size

    def derivative(chunk: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
        axes = tuple(np.arange(n, dtype=float) for n in chunk.shape)
        return grid_gradient(chunk, spacing, axes, ("x", "y", "z")).components[axis]

    writes = []
    for axis, output in enumerate(outputs):
        gradient = da.map_overlap(
            derivative, field, depth=(1, 1, 0), boundary="none", axis=axis, dtype=np.float64
        )
        writes.append(da.to_zarr(gradient, str(store.path), component=output, overwrite=True, compute=False))
    dask.compute(*writes, scheduler=client.get if client is not None else "threads")
    return outputs
