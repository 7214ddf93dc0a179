"""Compositing assay intervals to a fixed length down each hole.

Rules
-----
* Composites start at the top of each hole's first assayed interval and run in steps
  of ``length`` metres down to the bottom of its last one. They never cross from one
  hole into another (hole ends are honoured).
* A grade is the length-weighted mean of the parts of intervals inside the composite
  that have a value for that element. Unsampled ground (gaps) and missing values carry
  no weight, so they never count as zero grade; ``<element>_length`` says how many
  metres of the composite carried a value.
* A composite whose measured length for an element is below ``min_coverage`` x its
  length gets NaN for that element (too little of it was sampled to stand for it).
* Residual rule: the last piece of a hole, shorter than a full composite, is kept as
  its own composite when it is at least ``min_residual`` x ``length`` long; otherwise
  it is merged into the composite above it (which then is up to 1.5 x ``length`` long
  with the default 0.5). A hole shorter than ``length`` gives one short composite.
* Below-detection flags are carried as ``<element>_bdl_fraction``, the share of the
  measured length that was below detection, and ``<element>_bdl``, true when more than
  half of it was.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def composite_intervals(
    intervals: pd.DataFrame,
    elements: list[str],
    length: float,
    *,
    min_residual: float = 0.5,
    min_coverage: float = 0.5,
) -> pd.DataFrame:
    """Composite ``hole_id, from, to`` + element intervals to ``length`` metres.

    Parameters
    ----------
    intervals : DataFrame
        ``hole_id, from, to`` (m along hole) + element columns (any unit: means keep
        it) + optional ``<element>_bdl`` booleans. Intervals of a hole must not
        overlap (the loaders drop overlaps).
    elements : list of str
        Element columns to composite.
    length : float
        Composite length (m), > 0.
    min_residual : float
        Shortest residual kept as its own composite, as a fraction of ``length``.
    min_coverage : float
        Shortest measured length for a grade, as a fraction of the composite length.

    Returns
    -------
    DataFrame
        ``hole_id, from, to, length`` + per element: grade, ``<element>_length`` (m),
        ``<element>_bdl_fraction``, ``<element>_bdl``. Ordered by hole, then depth.

    Raises
    ------
    ValueError
        When ``length`` is not positive.
    """
    if not length > 0:
        raise ValueError(f"composite length must be positive, got {length}")
    table = intervals.loc[intervals["to"] > intervals["from"]]
    codes, holes = pd.factorize(table["hole_id"], sort=True)
    top = table["from"].to_numpy(float)
    bottom = table["to"].to_numpy(float)
    start = np.full(len(holes), np.inf)
    end = np.full(len(holes), -np.inf)
    np.minimum.at(start, codes, top)
    np.maximum.at(end, codes, bottom)

    # Composites per hole after the residual rule.
    span = end - start
    full = np.floor(span / length + 1e-9).astype(int)
    residual = span - full * length
    keep_residual = (residual > 1e-9) & ((residual >= min_residual * length) | (full == 0))
    count = full + keep_residual.astype(int)  # a short residual joins the last full composite

    # Split each interval at composite boundaries: one piece per (interval, composite).
    first = np.floor((top - start[codes]) / length + 1e-9).astype(int)
    last = np.ceil((bottom - start[codes]) / length - 1e-9).astype(int) - 1
    last = np.maximum(first, last)
    n_pieces = last - first + 1
    piece_interval = np.repeat(np.arange(len(table)), n_pieces)
    piece_index = first[piece_interval] + (
        np.arange(len(piece_interval)) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    )
    hole = codes[piece_interval]
    lower = np.maximum(top[piece_interval], start[hole] + piece_index * length)
    upper = np.minimum(bottom[piece_interval], start[hole] + (piece_index + 1) * length)
    piece_index = np.minimum(piece_index, count[hole] - 1)  # merged residual pieces join the last composite
    weight = np.clip(upper - lower, 0.0, None)

    offsets = np.r_[0, np.cumsum(count)[:-1]]
    comp_hole = np.repeat(np.arange(len(holes)), count)
    comp_index = np.arange(count.sum()) - offsets[comp_hole]
    comp_from = start[comp_hole] + comp_index * length
    is_last = comp_index == count[comp_hole] - 1
    comp_to = np.where(is_last, end[comp_hole], np.minimum(comp_from + length, end[comp_hole]))
    target = offsets[hole] + piece_index
    comp_length = comp_to - comp_from

    out = {"hole_id": holes.to_numpy()[comp_hole], "from": comp_from, "to": comp_to, "length": comp_length}
    n = len(comp_from)
    for element in elements:
        values = table[element].to_numpy(float)[piece_interval]
        measured = np.isfinite(values) & (weight > 0)
        w = np.where(measured, weight, 0.0)
        metres = np.bincount(target, w, minlength=n)
        grade_sum = np.bincount(target, w * np.where(measured, values, 0.0), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            grade = grade_sum / metres
        grade[metres < min_coverage * comp_length - 1e-9] = np.nan
        out[element] = grade
        out[f"{element}_length"] = metres
        flag = f"{element}_bdl"
        if flag in table:
            below = table[flag].to_numpy(bool)[piece_interval]
            bdl_metres = np.bincount(target, np.where(below, w, 0.0), minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                fraction = np.where(metres > 0, bdl_metres / np.where(metres > 0, metres, 1.0), np.nan)
            out[f"{element}_bdl_fraction"] = fraction
            out[flag] = fraction > 0.5
    return pd.DataFrame(out)
