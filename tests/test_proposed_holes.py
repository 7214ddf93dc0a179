"""Proposed drill holes: collar on the surface, a straight hole through the zone's core, coverage by old holes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from afg_core.geostat import BlockModel
from afg_core.products import BlockEstimate, propose_holes, rank_drill_targets
from afg_core.products.targets import _unit_direction


class FlatSurface:
    def elevation(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.full(np.shape(x), 100.0)


def _estimate() -> BlockEstimate:
    block = BlockModel(origin=(5.0, 5.0, -95.0), cell_size=(10.0, 10.0, 10.0), shape=(20, 20, 20))
    x, y, z = block.cell_centres().T
    ore = (np.abs(x - 100) < 30) & (np.abs(y - 60) < 20) & (np.abs(z + 20) < 15)  # 60 x 40 x 30 m at -20 m RL
    log_estimate = np.where(ore, np.log(5000.0), np.log(200.0))
    return BlockEstimate(block, log_estimate, np.full(block.n_cells, 0.05))


@pytest.mark.parametrize("traces", ["none", "far", "through"])
def test_each_zone_gets_a_hole_from_the_surface_through_its_core(traces: str) -> None:
    estimate = _estimate()
    old = {
        "none": pd.DataFrame(columns=["x", "y", "z"], dtype=float),
        "far": pd.DataFrame({"x": 180.0, "y": 180.0, "z": np.linspace(100, -100, 41)}),
        "through": pd.DataFrame({"x": 105.0, "y": 55.0, "z": np.linspace(100, -100, 41)}),
    }[traces]
    ranking = rank_drill_targets(estimate, 1000.0, np.array([[0.0, 0.0, 0.0]]))
    assert len(ranking) == 1
    holes = propose_holes(estimate, ranking, 1000.0, FlatSurface(), old)
    hole = holes.iloc[0]
    collar = hole[["collar_x", "collar_y", "collar_z"]].to_numpy(float)
    core = hole[["core_x", "core_y", "core_z"]].to_numpy(float)
    assert collar[2] == pytest.approx(100.0)  # on the surface
    direction = _unit_direction(hole["azimuth"], hole["dip"])
    along = np.dot(core - collar, direction)
    assert (
        along > 0 and np.linalg.norm(core - collar - along * direction) < 1e-6
    )  # a straight line to the core
    assert hole["length_m"] >= along + 20.0 - 1e-9
    assert hole["zone_cells_crossed"] >= 3  # at least the zone's thickness
    assert 60.0 <= hole["dip"] <= 90.0 and 0.0 <= hole["azimuth"] < 360.0
    assert hole["covered"] == (traces == "through")
    if traces == "none":
        assert np.isinf(hole["nearest_hole_m"])


def test_no_zone_gives_an_empty_table_with_the_columns() -> None:
    estimate = _estimate()
    ranking = rank_drill_targets(estimate, 1e6, np.array([[0.0, 0.0, 0.0]]))
    holes = propose_holes(
        estimate, ranking, 1e6, FlatSurface(), pd.DataFrame(columns=["x", "y", "z"], dtype=float)
    )
    assert holes.empty and {"rank", "zone", "collar_x", "length_m", "covered"} <= set(holes.columns)
