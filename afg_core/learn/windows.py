"""Fixed-length windows down each drill hole (or block-model column) for the sequence model.

:func:`build_sequences` cuts every hole, in down-hole order, into overlapping windows of
``length`` rows (short holes and tails padded with weight 0, so every row lies in at least
one window); :func:`unwindow` averages the windows' predictions back onto rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class Sequences:
    """Fixed-length windows down each hole.

    Attributes
    ----------
    inputs : (n_windows, length, n_features) float32
    targets : (n_windows, length, n_targets) float32, 0 where missing
    weights : (n_windows, length) float32, 0 on padding and on steps without targets
    rows : (n_windows, length) int, row index into the source table, -1 on padding
    """

    inputs: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    rows: np.ndarray


def build_sequences(
    table: pd.DataFrame, inputs: np.ndarray, targets: np.ndarray, length: int = 16, stride: int = 8
) -> Sequences:
    """Cut each hole (ordered by depth) into overlapping windows of ``length`` samples.

    Short holes and tails are padded (weight 0), so every sample lies in at least one
    window.
    """
    windows = []
    order = table.assign(_row=np.arange(len(table))).sort_values(["hole_id", "from"])
    for _, rows in order.groupby("hole_id", sort=False)["_row"]:
        rows = rows.to_numpy()
        starts = list(range(0, max(len(rows) - length, 0) + 1, stride))
        if starts[-1] + length < len(rows):
            starts.append(len(rows) - length)
        for start in starts:
            window = rows[start : start + length]
            windows.append(np.pad(window, (0, length - len(window)), constant_values=-1))
    index = np.asarray(windows)
    valid = index >= 0
    safe = np.where(valid, index, 0)
    x = np.where(valid[..., None], inputs[safe], 0.0).astype(np.float32)
    y = targets[safe]
    has_target = valid & np.isfinite(y).all(axis=-1)
    return Sequences(
        x,
        np.nan_to_num(np.where(valid[..., None], y, 0.0)).astype(np.float32),
        has_target.astype(np.float32),
        index,
    )


def unwindow(sequences: Sequences, predictions: np.ndarray, n_rows: int) -> np.ndarray:
    """Average overlapping window predictions back onto table rows."""
    total = np.zeros((n_rows, predictions.shape[-1]))
    count = np.zeros(n_rows)
    valid = sequences.rows >= 0
    np.add.at(total, sequences.rows[valid], predictions[valid])
    np.add.at(count, sequences.rows[valid], 1)
    with np.errstate(invalid="ignore"):
        return total / count[:, None]
