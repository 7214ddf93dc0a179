"""Block models larger than memory: named grids in a zarr store, written and read chunk by chunk.

A :class:`BlockStore` is a folder (a zarr v3 group) holding the block model's geometry and
one float64 grid of shape ``(nx, ny, nz)`` per named field (``TREO``, ``TREO_variance``,
...). Chunks are whole cell columns, ``(chunk_columns[0], chunk_columns[1], nz)``, so a
chunk is a set of vertical pseudo-holes and the z-derivative never crosses a chunk.
Tasks writing distinct chunks may run in different processes or machines
(:func:`afg_core.geostat.cluster.krige_block_model_to_store`), and readers go chunk by chunk
or through :mod:`dask.array`, so neither side ever holds the whole model:

* :meth:`BlockStore.decimated` averages ``factor**3`` cells into one for views and ranking;
* :meth:`BlockStore.cells_above` keeps only the cells above a threshold;
* :meth:`BlockStore.iter_tables` yields one table of active cells per chunk, for exports.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from afg_core.geostat.blockmodel import BlockModel

#: Default cell columns per chunk along x and y: 64 x 64 columns of 100 cells is 3.3 MB per field.
CHUNK_COLUMNS = (64, 64)
_MASK = "mask"
#: Field name suffix of a kriging variance (``TREO`` -> ``TREO_variance``).
VARIANCE_SUFFIX = "_variance"


@dataclass(frozen=True, eq=False)
class BlockStore:
    """A block model's fields in a zarr store on disk (or any fsspec path zarr accepts).

    Attributes
    ----------
    path : pathlib.Path
        The store's folder.
    block : BlockModel
        Geometry only (``mask`` None); the estimability mask, when there is one, is the
        store's ``mask`` field, read per chunk.
    chunk_columns : tuple of int
        Cell columns per chunk along x and y.
    """

    path: Path
    block: BlockModel
    chunk_columns: tuple[int, int]

    @classmethod
    def create(
        cls,
        path: str | Path,
        block: BlockModel,
        names: Sequence[str],
        chunk_columns: tuple[int, int] = CHUNK_COLUMNS,
    ) -> BlockStore:
        """A new store (an existing one at ``path`` is replaced) with NaN-filled fields ``names``.

        ``block.mask``, when given, is written chunk by chunk as the ``mask`` field; for a model
        too large for an in-memory mask, pass ``block`` unmasked and mask the tasks instead
        (``max_distance`` of :func:`~afg_core.geostat.cluster.krige_block_model_to_store`).

        Examples
        --------
        >>> import tempfile
        >>> from afg_core.geostat import BlockModel
        >>> block = BlockModel((5.0, 5.0, 1.0), (10.0, 10.0, 2.0), (100, 80, 50))
        >>> store = BlockStore.create(tempfile.mkdtemp(), block, ["Fe"], chunk_columns=(32, 32))
        >>> store.names, len(store.regions())
        (('Fe',), 12)
        """
        import zarr

        if _MASK in names:
            raise ValueError(f"'{_MASK}' is reserved for the estimability mask")
        nx, ny, nz = block.shape
        chunks = (min(chunk_columns[0], nx), min(chunk_columns[1], ny), nz)
        group = zarr.open_group(str(path), mode="w")
        group.attrs.update(
            {
                "origin": list(block.origin),
                "cell_size": list(block.cell_size),
                "shape": list(block.shape),
                "chunk_columns": list(chunks[:2]),
                "names": list(names),
            }
        )
        for name in names:
            group.create_array(name, shape=block.shape, chunks=chunks, dtype="float64", fill_value=np.nan)
        geometry = BlockModel(block.origin, block.cell_size, block.shape)
        store = cls(Path(path), geometry, (chunks[0], chunks[1]))
        if block.mask is not None:
            mask = group.create_array(_MASK, shape=block.shape, chunks=chunks, dtype="bool", fill_value=False)
            for region in store.regions():
                mask[region] = block.mask[region]
        return store

    @classmethod
    def open(cls, path: str | Path) -> BlockStore:
        """The store written at ``path`` by :meth:`create`."""
        import zarr

        try:
            group = zarr.open_group(str(path), mode="r")
            attrs = dict(group.attrs)
            block = BlockModel(attrs["origin"], attrs["cell_size"], attrs["shape"])
            return cls(Path(path), block, tuple(attrs["chunk_columns"]))
        except (FileNotFoundError, KeyError, ValueError) as exc:
            raise ValueError(f"{path} is not an AFG block store ({exc})") from None

    @property
    def names(self) -> tuple[str, ...]:
        """The named fields, in the order they were created."""
        return tuple(self._group().attrs["names"])

    def field_facts(self, name: str) -> dict:
        """Facts recorded with the field ``name`` by :meth:`record` (empty when none)."""
        return dict(self._group()[name].attrs)

    def record(self, name: str, **facts) -> None:
        """Record facts (JSON values) with the field ``name``, e.g. the richest sample of a kriged grade."""
        self._group("r+")[name].attrs.update(facts)

    @property
    def has_mask(self) -> bool:
        """Whether the store holds an estimability mask."""
        return _MASK in self._group()

    def _group(self, mode: str = "r"):
        import zarr

        return zarr.open_group(str(self.path), mode=mode)

    def regions(self) -> list[tuple[slice, slice, slice]]:
        """One ``(x, y, z)`` index region per chunk, each chunk-aligned (safe for parallel writers)."""
        nx, ny, nz = self.block.shape
        cx, cy = self.chunk_columns
        return [
            (slice(i, min(i + cx, nx)), slice(j, min(j + cy, ny)), slice(0, nz))
            for i in range(0, nx, cx)
            for j in range(0, ny, cy)
        ]

    def region_block(self, region: tuple[slice, slice, slice]) -> BlockModel:
        """The sub-model of one region (its own origin and shape), with the region's mask if any."""
        start = np.array([s.start for s in region], dtype=float)
        shape = tuple(s.stop - s.start for s in region)
        origin = np.asarray(self.block.origin) + start * np.asarray(self.block.cell_size)
        mask = self._group()[_MASK][region] if self.has_mask else None
        return BlockModel(origin, self.block.cell_size, shape, mask)

    def write(self, name: str, region: tuple[slice, slice, slice], values: NDArray[np.float64]) -> None:
        """Write one region of field ``name`` (values of the region's shape)."""
        self._group("r+")[name][region] = values

    def read(self, name: str, region: tuple[slice, slice, slice] | None = None) -> NDArray[np.float64]:
        """Field ``name`` on ``region`` (the whole grid when None: mind the memory)."""
        array = self._group()[name]
        return array[region] if region is not None else array[...]

    def mask_region(self, region: tuple[slice, slice, slice]) -> NDArray[np.bool_]:
        """Estimable cells of a region: the stored mask, else all cells."""
        if self.has_mask:
            return self._group()[_MASK][region]
        return np.ones(tuple(s.stop - s.start for s in region), dtype=bool)

    def dask(self, name: str):
        """Field ``name`` as a lazy :class:`dask.array.Array` chunked like the store."""
        import dask.array as da

        return da.from_zarr(str(self.path), component=name)

    def decimated(
        self, names: Sequence[str], factor: int
    ) -> tuple[BlockModel, dict[str, NDArray[np.float64]]]:
        """Fields averaged over ``factor`` x ``factor`` x ``factor`` cells (NaN cells ignored).

        The coarse model's cell is ``factor`` times larger; its origin is the centre of the
        first coarse cell, and cells where every fine cell is NaN are masked. Computed by
        :func:`dask.array.coarsen` chunk by chunk (trailing cells that do not fill a coarse
        cell are dropped), so memory holds the coarse result and a few chunks.
        """
        import dask.array as da

        factor = max(1, int(factor))
        if factor == 1:
            grids = {n: self.dask(n) for n in names}
        else:
            grids = {}
            for name in names:
                field = self.dask(name)
                trimmed = tuple((n // factor) * factor for n in field.shape)
                field = field[: trimmed[0], : trimmed[1], : trimmed[2]]
                # Coarse cells must not straddle chunks: rechunk to multiples of the factor.
                field = field.rechunk(tuple(max(factor, (c // factor) * factor) for c in field.chunksize))
                grids[name] = da.coarsen(_nanmean, field, {0: factor, 1: factor, 2: factor})
        values = dict(zip(grids, da.compute(*grids.values())))
        shape = next(iter(values.values())).shape
        size = np.asarray(self.block.cell_size) * factor
        origin = np.asarray(self.block.origin) - np.asarray(self.block.cell_size) / 2 + size / 2
        mask = np.logical_or.reduce([np.isfinite(v) for v in values.values()])
        return BlockModel(origin, size, shape, mask), values

    def cells_above(self, name: str, threshold: float, columns: Sequence[str] = ()) -> pd.DataFrame:
        """Cell centres (m) and values of the cells where field ``name`` exceeds ``threshold``.

        Read chunk by chunk: memory holds one chunk and the cells kept.
        """
        return pd.concat(
            [t[t[name] > threshold] for t in self.iter_tables([name, *columns])]
            or [_empty([name, *columns])],
            ignore_index=True,
        )

    def iter_tables(self, names: Sequence[str]) -> Iterator[pd.DataFrame]:
        """One table per chunk of its active estimated cells: ``cell, x, y, z`` (m) and ``names``.

        ``cell`` is the flat index in :meth:`BlockModel.cell_centres` order. Cells where every
        requested field is NaN are left out; chunks without any are skipped.
        """
        nx, ny, nz = self.block.shape
        for region in self.regions():
            fields = {n: self.read(n, region) for n in names}
            keep = self.mask_region(region) & np.logical_or.reduce([np.isfinite(v) for v in fields.values()])
            if not keep.any():
                continue
            local = np.nonzero(keep)
            index = tuple(i + s.start for i, s in zip(local, region))
            axes = self.block.axes()
            table = {
                "cell": np.ravel_multi_index(index, (nx, ny, nz)),
                "x": axes[0][index[0]],
                "y": axes[1][index[1]],
                "z": axes[2][index[2]],
            }
            table.update({n: v[keep] for n, v in fields.items()})
            yield pd.DataFrame(table)


def _nanmean(values: NDArray[np.float64], axis: tuple[int, ...] | None = None) -> NDArray[np.float64]:
    """Mean over ``axis`` ignoring NaN; NaN (without a warning) where all are NaN."""
    finite = np.isfinite(values)
    count = finite.sum(axis=axis)
    total = np.where(finite, values, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _empty(names: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float) for c in ["cell", "x", "y", "z", *names]}).astype(
        {"cell": np.int64}
    )
