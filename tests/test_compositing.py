"""Compositing against hand-worked examples; the all-holes desurvey bookkeeping (sorting, per-hole
restarts) against one hole at a time (whose arc maths tests/test_drillholes.py checks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from afg_core.io.compositing import composite_intervals
from afg_core.io.desurvey import desurvey_holes, desurvey_minimum_curvature


def _intervals(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["hole_id", "from", "to", "La", "La_bdl"])
    return frame.astype({"La": float, "La_bdl": bool})


def test_full_composites_and_a_kept_residual() -> None:
    # 0-1 @10, 1-3 @20, 3-4 missing, 4-5.2 @30; 2 m composites.
    # 0-2: (1x10 + 1x20) / 2 = 15.  2-4: only 2-3 measured (1 m = half): 20.  4-5.2: residual 1.2 m >= 1 m, kept: 30.
    table = _intervals(
        [("A", 0, 1, 10, False), ("A", 1, 3, 20, False), ("A", 3, 4, np.nan, False), ("A", 4, 5.2, 30, False)]
    )
    out = composite_intervals(table, ["La"], 2.0)
    assert out["from"].tolist() == [0, 2, 4] and out["to"].tolist() == pytest.approx([2, 4, 5.2])
    assert out["La"].tolist() == pytest.approx([15, 20, 30])
    assert out["La_length"].tolist() == pytest.approx([2, 1, 1.2])


def test_short_residual_joins_the_composite_above() -> None:
    # 0-2.5 @10, 2.5-4.6 @20: residual 0.6 m < 1 m joins 2-4 -> 2-4.6 = (0.5x10 + 2.1x20) / 2.6.
    out = composite_intervals(_intervals([("A", 0, 2.5, 10, False), ("A", 2.5, 4.6, 20, False)]), ["La"], 2.0)
    assert out["from"].tolist() == [0, 2] and out["to"].tolist() == pytest.approx([2, 4.6])
    assert out["La"].tolist() == pytest.approx([10, (0.5 * 10 + 2.1 * 20) / 2.6])


def test_gaps_carry_no_weight_and_thin_coverage_gives_nan() -> None:
    # 0-1 @10, 1.5-2 @20: 1.5 m measured of 2 -> (10 + 10) / 1.5.  Then 3.5-4 @5 only: 0.5 m < 1 m -> NaN.
    table = _intervals([("A", 0, 1, 10, False), ("A", 1.5, 2, 20, False), ("A", 3.5, 4, 5, False)])
    out = composite_intervals(table, ["La"], 2.0)
    assert out["La"].iloc[0] == pytest.approx(20 / 1.5)
    assert np.isnan(out["La"].iloc[1]) and out["La_length"].iloc[1] == pytest.approx(0.5)


def test_holes_never_mix_and_start_at_their_first_sample() -> None:
    table = _intervals([("B", 10, 11, 1, False), ("B", 11, 13, 4, False), ("A", 0, 0.7, 8, False)])
    out = composite_intervals(table, ["La"], 2.0)
    assert out["hole_id"].tolist() == ["A", "B", "B"]
    # A is shorter than one composite: one short composite.  B: 10-12 = (1 + 4) / 2, residual 12-13 (1 m) kept.
    assert out["from"].tolist() == [0, 10, 12] and out["to"].tolist() == pytest.approx([0.7, 12, 13])
    assert out["La"].tolist() == pytest.approx([8, 2.5, 4])


def test_below_detection_flags_are_carried_by_length() -> None:
    # 0-0.5 below DL, 0.5-2 not: 25 % of the measured length below detection -> flag False.
    table = _intervals(
        [
            ("A", 0, 0.5, 0.25, True),
            ("A", 0.5, 2, 10, False),
            ("A", 2, 3.5, 0.25, True),
            ("A", 3.5, 4, 10, False),
        ]
    )
    out = composite_intervals(table, ["La"], 2.0)
    assert out["La_bdl_fraction"].tolist() == pytest.approx([0.25, 0.75])
    assert out["La_bdl"].tolist() == [False, True]


def test_composite_length_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        composite_intervals(_intervals([("A", 0, 1, 1, False)]), ["La"], 0.0)


def test_all_holes_at_once_equals_one_hole_at_a_time() -> None:
    rng = np.random.default_rng(3)
    collars, station_hole, depth, azimuth, dip, point_hole, point_depth, expected = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for hole in range(25):
        collar = rng.uniform(0, 1000, 3)
        n = int(rng.integers(1, 6))
        d = (
            np.sort(rng.choice(np.arange(0, 400, 10.0), n, replace=False)) + (hole % 2) * 5
        )  # some start below 0
        az, dp = rng.uniform(0, 360, n), rng.uniform(-89, -40, n)
        q = rng.uniform(0, 450, 30)
        collars.append(collar)
        station_hole += [hole] * n
        depth += list(d)
        azimuth += list(az)
        dip += list(dp)
        point_hole += [hole] * len(q)
        point_depth += list(q)
        expected.append(desurvey_minimum_curvature(collar, d, az, dp, q))
    # Stations given shuffled: the function sorts them by hole and depth.
    order = rng.permutation(len(station_hole))
    got = desurvey_holes(
        np.array(collars),
        np.array(station_hole)[order],
        np.array(depth)[order],
        np.array(azimuth)[order],
        np.array(dip)[order],
        np.array(point_hole),
        np.array(point_depth),
    )
    np.testing.assert_allclose(got, np.vstack(expected), atol=1e-9)
