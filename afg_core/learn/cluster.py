"""Model prediction over block-model cells on a Dask cluster: tiles of whole cell columns.

A cell feature table (:func:`afg_core.learn.cell_feature_table`) is cut into tiles of at
most ``tile_rows`` rows that never split a cell column, because a sequence model (the LSTM)
reads each column top-down as a pseudo-hole; row-wise models (boosting, FNN, kriging) give
the same answer whatever the cut. Fitted models go to the workers once (scattered, or left
where :func:`fit_on_cluster` fitted them) and each task carries one tile, so a worker holds
the models, one tile and its predictions, whatever the size of the block model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from afg_core.runtime import configure_backends

#: Default rows (cells) per prediction task: about 30 MB of features for 30 columns.
TILE_ROWS = 100_000


def column_tiles(groups: NDArray, tile_rows: int = TILE_ROWS) -> list[tuple[int, int]]:
    """Row ranges ``(start, stop)`` of about ``tile_rows`` rows, cut only between groups.

    Parameters
    ----------
    groups : numpy.ndarray
        (n,) cell column (or hole) of each row; each group's rows must be contiguous.
    tile_rows : int
        Target rows per tile; a group longer than this makes a tile of its own.

    Raises
    ------
    ValueError
        When a group's rows are not contiguous (the table was reordered).

    Examples
    --------
    >>> import numpy as np
    >>> column_tiles(np.array([0, 0, 0, 1, 1, 2, 2, 2, 3]), tile_rows=4)
    [(0, 3), (3, 5), (5, 9)]
    """
    groups = np.asarray(groups)
    n = len(groups)
    if n == 0:
        return []
    starts = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    if len(pd.unique(groups)) != len(starts) + 1:
        raise ValueError("the rows of each cell column must be contiguous (sort the table by column)")
    boundaries = np.concatenate([[0], starts, [n]])
    tiles, start = [], 0
    while start < n:
        # The last group boundary within tile_rows of the start, or the next one if none is.
        limit = np.searchsorted(boundaries, start + max(1, tile_rows), side="right") - 1
        stop = int(boundaries[limit]) if boundaries[limit] > start else int(boundaries[limit + 1])
        tiles.append((start, stop))
        start = stop
    return tiles


def _predict_tile(x: pd.DataFrame, groups: NDArray, models: Sequence) -> NDArray[np.float64]:
    """Every model's prediction on one tile: (models, rows, targets)."""
    configure_backends()
    return np.stack([np.asarray(m.predict(x, groups=groups), dtype=np.float64) for m in models])


def predict_on_cluster(
    client,
    models: Sequence,
    x: pd.DataFrame,
    groups: NDArray,
    tile_rows: int = TILE_ROWS,
    progress: Callable[[float], None] | None = None,
) -> NDArray[np.float64]:
    """Predictions of fitted ``models`` on the rows of ``x``, tile by tile on the workers of ``client``.

    Parameters
    ----------
    client : distributed.Client
        From :func:`afg_core.geostat.cluster.dask_client`.
    models : sequence
        Fitted estimators (:mod:`afg_core.learn.models`), or futures of them on the cluster
        (:func:`fit_on_cluster`); local ones are scattered to every worker once.
    x : pandas.DataFrame
        (n, p) features, rows of each cell column contiguous (top-down for the LSTM).
    groups : numpy.ndarray
        (n,) cell column of each row.
    tile_rows : int
        Rows per task (see :func:`column_tiles`).
    progress : callable, optional
        Called with the share of tiles done (0-1).

    Returns
    -------
    numpy.ndarray
        (models, n, targets) predictions (log grades for AFG's models), equal to each model's
        in-process ``predict(x, groups=groups)`` to float32 round-off.
    """
    from distributed import Future, as_completed

    groups = np.asarray(groups)
    tiles = column_tiles(groups, tile_rows)
    local = [m for m in models if not isinstance(m, Future)]
    shipped = iter(client.scatter(local, broadcast=True) if local else [])
    handles = [m if isinstance(m, Future) else next(shipped) for m in models]
    futures = [client.submit(_predict_tile, x.iloc[a:b], groups[a:b], handles, pure=False) for a, b in tiles]
    position = {future.key: tile for future, tile in zip(futures, tiles)}
    parts: dict[tuple[int, int], NDArray[np.float64]] = {}
    report = progress or (lambda share: None)
    for done, future in enumerate(as_completed(futures), 1):
        parts[position[future.key]] = future.result()
        future.release()  # a finished tile leaves the worker's memory now
        report(done / len(tiles))
    if not tiles:
        return np.empty((len(models), 0, 0))
    return np.concatenate([parts[tile] for tile in tiles], axis=1)


def fit_on_cluster(client, fit: Callable, *args, **kwargs):
    """Run ``fit(*args, **kwargs)`` on a worker; the fitted model stays there (a future).

    Pass the future to :func:`predict_on_cluster`: the model then travels only between
    workers, never back to this process.
    """
    return client.submit(_configured, fit, *args, **kwargs, pure=False)


def _configured(fit: Callable, *args, **kwargs):
    # A worker of an external scheduler has not run the program's configure_backends().
    configure_backends()
    return fit(*args, **kwargs)
