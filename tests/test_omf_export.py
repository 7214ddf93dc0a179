"""OMF export read back with omf's own reader: holes, block models, targets and proposed holes in place."""

from __future__ import annotations

import numpy as np
import omf
import pandas as pd
import pytest

from afg_core.geostat import BlockModel
from afg_core.io.project import load_project
from afg_core.learn.experiment import PredictedVolume
from afg_core.products import BlockEstimate, rank_drill_targets
from afg_core.products.omf_export import proposed_hole_ends, write_omf
from afg_core.transforms import lognormal_mean


@pytest.fixture
def estimate() -> BlockEstimate:
    mask = np.ones((4, 3, 2), dtype=bool)
    mask[0, 0, :] = False
    block = BlockModel(
        origin=(500_000.0, 7_000_000.0, 100.0), cell_size=(25.0, 50.0, 10.0), shape=(4, 3, 2), mask=mask
    )
    x, y, z = block.cell_centres().T
    log_estimate = np.log(1000.0 + (x - 500_000.0) + 0.1 * (y - 7_000_000.0) + z)
    log_estimate[~block.flat_mask()] = np.nan
    return BlockEstimate(block, log_estimate, np.full(block.n_cells, 0.04))


@pytest.fixture
def holes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1, 2],
            "zone": [3, 1],
            "collar_x": [500_010.0, 500_060.0],
            "collar_y": [7_000_020.0, 7_000_080.0],
            "collar_z": [130.0, 128.0],
            "azimuth": [0.0, 90.0],
            "dip": [90.0, 60.0],
            "length_m": [40.0, 50.0],
            "zone_cells_crossed": [2, 3],
            "nearest_hole_m": [80.0, 12.0],
            "covered": [False, True],
        }
    )


def _elements(path) -> dict:
    return {element.name: element for element in omf.OMFReader(str(path)).get_project().elements}


def _data(element) -> dict:
    return {d.name: d for d in element.data}


def test_block_model_cells_come_back_in_place(estimate: BlockEstimate, tmp_path) -> None:
    path = write_omf(
        tmp_path / "blocks.omf", estimate=estimate, cutoff_ppm=1100.0, name="t", crs="EPSG:28350"
    )
    project = omf.OMFReader(str(path)).get_project()
    assert project.units == "m" and "EPSG:28350" in project.description
    (volume,) = project.elements
    geometry = volume.geometry
    assert list(geometry.tensor_u) == [25.0] * 4
    assert list(geometry.tensor_v) == [50.0] * 3
    assert list(geometry.tensor_w) == [10.0] * 2
    np.testing.assert_allclose(np.asarray(geometry.origin), [500_000.0 - 12.5, 7_000_000.0 - 25.0, 95.0])
    # Cell centres rebuilt from the file's geometry in OMF 1 order (w fastest, u slowest).
    edges = [
        np.asarray(geometry.origin)[i] + np.concatenate([[0.0], np.cumsum(t)])
        for i, t in enumerate((geometry.tensor_u, geometry.tensor_v, geometry.tensor_w))
    ]
    centres = np.stack(np.meshgrid(*[0.5 * (e[1:] + e[:-1]) for e in edges], indexing="ij"), -1).reshape(
        -1, 3
    )
    data = _data(volume)
    assert set(data) == {"treo_ppm", "log_sd", "p_above"}
    grade = np.asarray(data["treo_ppm"].array.array)
    # The written field grows with x, y and z as the fixture defines it; NaN on the masked column.
    log_grade = np.log(
        1000.0 + (centres[:, 0] - 500_000.0) + 0.1 * (centres[:, 1] - 7_000_000.0) + centres[:, 2]
    )
    expected = lognormal_mean(log_grade, 0.04)
    masked = ~estimate.block.flat_mask()
    assert np.isnan(grade[masked]).all() and masked.sum() == 2
    np.testing.assert_allclose(grade[~masked], expected[~masked], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(data["log_sd"].array.array)[~masked], 0.2)
    p_above = np.asarray(data["p_above"].array.array)[~masked]
    np.testing.assert_allclose(p_above, estimate.probability_above(1100.0)[~masked])


def test_predicted_volume_is_written_with_its_grades(estimate: BlockEstimate, tmp_path) -> None:
    block = estimate.block
    rng = np.random.default_rng(0)
    values = {
        g: np.where(block.flat_mask(), rng.uniform(100, 900, block.n_cells), np.nan) for g in ("La", "TREO")
    }
    volume = PredictedVolume(
        block=block,
        log_mean={g: np.log(v) for g, v in values.items()},
        grade_ppm=values,
        log_sd={g: np.full(block.n_cells, 0.3) for g in values},
        probability={"TREO": np.full(block.n_cells, 0.25)},
        cutoffs={"TREO": 500.0},
        model="boosting",
        members=5,
    )
    (element,) = _elements(write_omf(tmp_path / "v.omf", volume=volume)).values()
    data = _data(element)
    assert element.name == "boosting predicted blocks"
    assert set(data) == {"La_ppm", "La_log_sd", "TREO_ppm", "TREO_log_sd", "TREO_p_above"}
    np.testing.assert_array_equal(np.asarray(data["La_ppm"].array.array), values["La"])


def test_targets_and_proposed_holes_come_back(estimate: BlockEstimate, holes: pd.DataFrame, tmp_path) -> None:
    ranking = rank_drill_targets(estimate, 1100.0, np.array([[500_000.0, 7_000_000.0, 100.0]]), 0.5)
    assert len(ranking) >= 1
    elements = _elements(write_omf(tmp_path / "t.omf", targets=ranking, proposed_holes=holes))
    targets = elements["drill targets"]
    np.testing.assert_allclose(
        np.asarray(targets.geometry.vertices.array), ranking[["target_x", "target_y", "target_z"]].to_numpy()
    )
    data = _data(targets)
    for column in ("rank", "tonnes", "mean_treo_ppm", "mean_probability", "score"):
        np.testing.assert_allclose(np.asarray(data[column].array.array), ranking[column].to_numpy())

    lines = elements["proposed holes"]
    vertices = np.asarray(lines.geometry.vertices.array)
    segments = np.asarray(lines.geometry.segments.array)
    top, bottom = vertices[segments[:, 0]], vertices[segments[:, 1]]
    np.testing.assert_allclose(top, holes[["collar_x", "collar_y", "collar_z"]].to_numpy())
    np.testing.assert_allclose(np.linalg.norm(bottom - top, axis=1), holes["length_m"])
    # Hole 1 vertical; hole 2 due east, 60 degrees down: drops length * sin(60), runs east length * cos(60).
    np.testing.assert_allclose(bottom[0], [500_010.0, 7_000_020.0, 90.0], atol=1e-9)
    np.testing.assert_allclose(bottom[1] - top[1], [25.0, 0.0, -50.0 * np.sin(np.radians(60))], atol=1e-9)
    np.testing.assert_allclose(bottom, proposed_hole_ends(holes))
    data = _data(lines)
    np.testing.assert_array_equal(np.asarray(data["covered"].array.array), [0.0, 1.0])
    np.testing.assert_array_equal(np.asarray(data["azimuth"].array.array), [0.0, 90.0])


def test_drill_holes_are_desurveyed_intervals_with_grades(cli_demo, tmp_path) -> None:
    folder, _ = cli_demo
    drillholes = load_project(folder).drillholes
    samples = drillholes.samples
    element = _elements(write_omf(tmp_path / "h.omf", drillholes=drillholes))["drill holes"]
    vertices = np.asarray(element.geometry.vertices.array)
    segments = np.asarray(element.geometry.segments.array)
    assert len(segments) == len(samples)
    data = _data(element)
    assert list(data["hole_id"].array.array) == samples["hole_id"].astype(str).tolist()
    np.testing.assert_allclose(
        vertices[segments[:, 0]], drillholes.positions(samples["hole_id"], samples["from"]), atol=1e-9
    )
    np.testing.assert_allclose(
        vertices[segments[:, 1]], drillholes.positions(samples["hole_id"], samples["to"]), atol=1e-9
    )
    # The sample's own position (its midpoint) lies halfway along its segment on straight runs.
    middle = 0.5 * (vertices[segments[:, 0]] + vertices[segments[:, 1]])
    assert np.median(np.linalg.norm(middle - samples[["x", "y", "z"]].to_numpy(), axis=1)) < 0.01
    np.testing.assert_array_equal(np.asarray(data["La"].array.array), samples["La"].to_numpy(float))
    np.testing.assert_array_equal(np.asarray(data["from"].array.array), samples["from"].to_numpy(float))
    treo = np.asarray(data["TREO"].array.array)
    assert np.all(treo[np.isfinite(treo)] > np.nan_to_num(samples["La"].to_numpy(float)[np.isfinite(treo)]))


def test_bad_calls_say_what_is_missing(estimate: BlockEstimate, holes: pd.DataFrame, tmp_path) -> None:
    with pytest.raises(ValueError, match="cutoff_ppm"):
        write_omf(tmp_path / "x.omf", estimate=estimate)
    with pytest.raises(ValueError, match="nothing to write"):
        write_omf(tmp_path / "x.omf", proposed_holes=holes.iloc[:0])
    assert not (tmp_path / "x.omf").exists()
