"""Feature tables per sample, hole-grouped splits and down-hole sequences.

Grades are log-normal, so models see ``log(ppm)`` targets and ``log`` majors. Every
statistic a model learns from (normalisation, kriged fields) is computed from the
training holes only: :func:`split_holes` splits by hole, never by sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from afg_core.geochem import MAJORS
from afg_core.io.project import Project
from afg_core.spectral.pca import SpectralPCA, sample_scores_at
from afg_core.transforms import log_grade


def sample_features(project: Project, pca: SpectralPCA | None = None) -> tuple[pd.DataFrame, list[str]]:
    """One row per assay interval with model inputs and log-grade targets.

    Inputs: depth along hole (m), elevation (m), log majors (wt%), each geophysics grid
    sampled at the interval midpoint (log10 for susceptibility), and hyperspectral PC
    scores at the collar (surface data attached to the whole hole).

    Returns
    -------
    table : DataFrame
        ``hole_id, from, to, x, y, z, depth`` + feature columns + ``log_<element>``
        for each target element.
    feature_columns : list of str
    """
    samples = project.drillholes.samples
    table = samples[["hole_id", "from", "to", "x", "y", "z"]].copy()
    table["depth"] = 0.5 * (samples["from"] + samples["to"])
    features = ["depth", "z"]
    for element in MAJORS:
        if element in samples:
            table[f"log_{element}"] = log_grade(samples[element].to_numpy())
            features.append(f"log_{element}")
    for name, grid in project.geophysics.items():
        values = grid.sample(table["x"].to_numpy(), table["y"].to_numpy(), table["z"].to_numpy())
        if grid.unit == "SI":
            values = np.log10(np.clip(values, 1e-6, None))
            name = f"log10_{name}"
        table[name] = values
        features.append(name)
    if pca is not None and project.hyperspectral is not None:
        collars = project.drillholes.collar.set_index("hole_id")
        scores = sample_scores_at(
            pca, project.hyperspectral, collars["x"].to_numpy(), collars["y"].to_numpy()
        )
        for k in range(scores.shape[1]):
            column = f"PC{k + 1}_collar"
            table[column] = table["hole_id"].map(pd.Series(scores[:, k], index=collars.index))
            features.append(column)
    for element in project.settings.target_elements:
        if element in samples:
            table[f"log_{element}"] = log_grade(samples[element].to_numpy())
    return table, features


def split_holes(
    hole_ids: pd.Series, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean train / test masks over samples, splitting by whole drill hole."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    train_index, _ = next(splitter.split(np.zeros(len(hole_ids)), groups=hole_ids.to_numpy()))
    train = np.zeros(len(hole_ids), dtype=bool)
    train[train_index] = True
    return train, ~train


@dataclass
class Standardiser:
    """Column means and standard deviations, fitted on training rows only."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> Standardiser:
        mean = np.nanmean(values, axis=0)
        scale = np.nanstd(values, axis=0)
        return cls(mean, np.where(scale > 0, scale, 1.0))

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Standardise; missing inputs become 0 (the training mean)."""
        return np.nan_to_num((values - self.mean) / self.scale, nan=0.0)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return values * self.scale + self.mean


@dataclass
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
