"""The learning core: no leakage across holes, leave-own-hole-out features, self-weighting, any targets.

A small demo (16 holes) keeps each experiment to seconds: boosting and kriging only, no
networks (their contract is tested in tests/test_models.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from afg_core import configure_backends

configure_backends()

from afg_core.demo import generate_demo_project  # noqa: E402
from afg_core.geostat import ordinary_kriging  # noqa: E402
from afg_core.io import load_project  # noqa: E402
from afg_core.learn.experiment import (  # noqa: E402
    RunConfig,
    field_sources,
    hole_folds,
    resolve_targets,
    run_experiment,
)
from afg_core.learn.fusion import FeatureSpec, kriged_field_source, sample_feature_table  # noqa: E402
from afg_core.learn.models import BoostingRegressor, FNNRegressor  # noqa: E402
from afg_core.learn.selfweight import self_weighting  # noqa: E402
from afg_core.transforms import log_grade  # noqa: E402

FAST = RunConfig(models=("kriging", "boosting"), ablation=False, importance=False, volume=False, n_boot=100)


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_demo_project(tmp_path_factory.mktemp("learn") / "demo", seed=5, n_holes=16)


def _test_holes(folder: Path, config: RunConfig) -> np.ndarray:
    project = load_project(folder)
    targets = resolve_targets(project, config)
    samples = project.drillholes.samples
    holes = samples.loc[samples[targets].notna().any(axis=1), "hole_id"].to_numpy()
    return hole_folds(holes, config)[0][2]


def test_split_is_by_hole_70_15_15_and_seeded(small_demo: Path) -> None:
    holes = load_project(small_demo).drillholes.samples["hole_id"].to_numpy()
    ((train, val, test),) = hole_folds(holes, RunConfig())
    assert not (set(train) & set(val) or set(train) & set(test) or set(val) & set(test))
    assert len(train) + len(val) + len(test) == len(np.unique(holes))
    assert len(train) > len(val) and len(train) > len(test)
    (again,) = hole_folds(holes, RunConfig())
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again))
    folds = hole_folds(holes, RunConfig(folds=4))
    tested = np.concatenate([f[2] for f in folds])
    assert sorted(tested) == sorted(np.unique(holes))  # every hole tested exactly once


def test_a_held_out_holes_assays_cannot_reach_the_model(small_demo: Path, tmp_path: Path) -> None:
    """Scrambling the target assays of the test holes changes what is observed there, not one prediction."""
    config = FAST
    test_holes = _test_holes(small_demo, config)
    before = run_experiment(load_project(small_demo), config)

    altered = tmp_path / "altered"
    shutil.copytree(small_demo, altered)
    assay = pd.read_csv(altered / "assay.csv", dtype=str)
    hole_column = assay.columns[0]
    rng = np.random.default_rng(0)
    for column in [c for c in assay.columns if c.split("_")[0] in before.targets]:
        values = pd.to_numeric(assay[column], errors="coerce")
        rows = assay[hole_column].isin(test_holes) & values.notna()
        assay.loc[rows, column] = (values[rows] * rng.uniform(5, 50, rows.sum())).round(3).astype(str)
    assay.to_csv(altered / "assay.csv", index=False)
    after = run_experiment(load_project(altered), config)

    assert set(before.predictions["hole_id"]) == set(test_holes)
    target = before.targets[0]
    assert not np.allclose(before.predictions[target], after.predictions[target])  # observed changed
    for model in config.models:
        columns = [f"{model}:{t}" for t in before.targets]
        np.testing.assert_allclose(after.predictions[columns], before.predictions[columns], rtol=1e-9)


def test_training_rows_kriged_features_exclude_their_own_hole(small_demo: Path) -> None:
    project = load_project(small_demo)
    targets = resolve_targets(project, RunConfig())
    samples = project.drillholes.samples.sort_values(["hole_id", "from"]).reset_index(drop=True)
    samples = samples.loc[samples[targets].notna().any(axis=1)].reset_index(drop=True)
    sources = field_sources(project, 10.0)
    spec = FeatureSpec(groups=("kriged",))
    source = kriged_field_source(sources, spec.kriged_elements, targets, spec)
    own = np.ones(len(samples), dtype=bool)
    table = sample_feature_table(project, samples, source, spec, targets, None, leave_own_hole_out=own)
    rows = np.random.default_rng(1).choice(len(samples), 20, replace=False)
    j = source.names.index("Fe")
    model, use = source.models[j], np.isfinite(source.values[:, j])
    points = samples[["x", "y", "z"]].to_numpy()[rows]
    holes = samples["hole_id"].to_numpy()[rows]
    args = (source.coords[use], source.values[use, j], points, model)
    kw = {"neighbours": spec.neighbours, "max_per_hole": spec.max_per_hole, "hole_ids": source.holes[use]}
    without_own = ordinary_kriging(*args, **kw, exclude_holes=holes).estimate
    with_own = ordinary_kriging(*args, **kw).estimate
    np.testing.assert_allclose(table.frame["krig_Fe"].to_numpy()[rows], without_own, rtol=1e-12)
    assert np.abs(with_own - without_own).max() > 1e-3  # the exclusion matters
    # No neighbour of any training row's kriged field comes from its own hole: moving that hole's
    # Fe assays leaves its rows' features unchanged.
    hole = holes[0]
    moved = sources.assign(Fe=np.where(sources["hole_id"] == hole, sources["Fe"] * 3, sources["Fe"]))
    source2 = kriged_field_source(moved, spec.kriged_elements, targets, spec)
    source2 = type(source2)(**{**source2.__dict__, "models": source.models})
    table2 = sample_feature_table(project, samples, source2, spec, targets, None, leave_own_hole_out=own)
    in_hole = samples["hole_id"].to_numpy() == hole
    np.testing.assert_allclose(table2.frame["krig_Fe"][in_hole], table.frame["krig_Fe"][in_hole], rtol=1e-12)


def _synthetic(n: int, first_hole: int, rng: np.random.Generator):
    x = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n), "weak": rng.normal(size=n)})
    y = (np.sin(2 * x["signal"]) + 0.3 * x["weak"] + 0.3 * rng.normal(size=n)).to_numpy()[:, None]
    return x, y, np.repeat(np.arange(first_hole, first_hole + n // 20), 20)


@pytest.mark.parametrize(
    "estimator",
    [BoostingRegressor(random_state=0), FNNRegressor(dense_units=(16, 16), epochs=40, random_state=0)],
    ids=["boosting", "fnn"],
)
def test_self_weighting_drops_noise_and_keeps_signal(estimator) -> None:
    rng = np.random.default_rng(1)
    train, validation = _synthetic(600, 0, rng), _synthetic(300, 100, rng)
    result = self_weighting(estimator, train, validation, periods=6)
    weights = dict(zip(result.features, result.weights))
    assert weights["noise"] < 0.1 and weights["signal"] > 0.5 and weights["weak"] > 0.5
    assert list(result.weight_history["period"]) == list(range(7))
    assert result.weight_history.iloc[0][["signal", "noise", "weak"]].tolist() == [1.0, 1.0, 1.0]
    assert len(result.rmse_history) == 7 and result.estimator.get_params()["feature_weights"] == tuple(
        result.weights
    )


def test_self_weighting_in_a_run_never_sees_test_holes(small_demo: Path, monkeypatch) -> None:
    import afg_core.learn.experiment as experiment

    seen: list[np.ndarray] = []
    original = experiment.self_weighting

    def spy(estimator, train, validation, **kwargs):
        seen.extend([train[2], validation[2]])
        return original(estimator, train, validation, **kwargs)

    monkeypatch.setattr(experiment, "self_weighting", spy)
    config = RunConfig(
        models=("boosting",),
        self_weighting=True,
        self_weighting_periods=2,
        ablation=False,
        importance=False,
        volume=False,
        n_boot=50,
    )
    result = run_experiment(load_project(small_demo), config)
    test_holes = set(_test_holes(small_demo, config))
    assert seen and not (set(np.concatenate(seen)) & test_holes)
    assert set(result.self_weighting) == {"boosting"}
    assert result.fitted["boosting"].get_params()["feature_weights"] == tuple(
        result.self_weighting["boosting"].weights
    )


def test_any_targets_with_their_own_cutoffs(small_demo: Path, tmp_path: Path) -> None:
    """Non-REE targets: no TREO, per-target cut-offs from project.toml, nothing REE-specific breaks."""
    folder = tmp_path / "base_metals"
    shutil.copytree(small_demo, folder)
    toml = (folder / "project.toml").read_text()
    (folder / "project.toml").write_text(toml.replace("[cutoffs]", "[cutoffs]\nTi = 0.5"))
    result = run_experiment(load_project(folder), RunConfig(targets=("Ti", "Al"), **_fast_fields()))
    assert result.sum_name is None and set(result.scores["grade"]) == {"Ti", "Al"}
    ti = result.scores[(result.scores["grade"] == "Ti")].iloc[0]
    assert (
        ti["unit"] == "wt%" and np.isfinite(ti["class_accuracy"]) and np.isfinite(ti["productive_accuracy"])
    )
    assert np.isnan(result.scores[(result.scores["grade"] == "Al")].iloc[0]["class_accuracy"])
    document = result.metrics_json()
    json.dumps(document)  # plain JSON, no NaN
    assert document["targets"] == ["Ti", "Al"] and set(document["models"]) == {"kriging", "boosting"}


def _fast_fields() -> dict:
    return {
        "models": ("kriging", "boosting"),
        "ablation": False,
        "importance": False,
        "volume": False,
        "n_boot": 50,
    }


def test_features_of_log_targets_use_the_one_log_rule(small_demo: Path) -> None:
    project = load_project(small_demo)
    samples = project.drillholes.samples
    spec = FeatureSpec(task="along-holes", groups=("colocated",))
    table = sample_feature_table(project, samples, None, spec, ["La"], None)
    assert "log_La" not in table.columns  # a target is never an input
    np.testing.assert_allclose(table.frame["log_Fe"], log_grade(samples["Fe"].to_numpy()))


def test_cell_fields_by_tiled_search_equal_the_point_kriging(small_demo: Path) -> None:
    from afg_core.geostat import block_model_from_extent, mask_far_cells

    project = load_project(small_demo)
    targets = resolve_targets(project, RunConfig())
    spec = FeatureSpec()
    source = kriged_field_source(field_sources(project, 10.0), spec.kriged_elements, targets, spec)
    coords = project.drillholes.samples[["x", "y", "z"]].dropna().to_numpy()
    block = mask_far_cells(block_model_from_extent(coords, (50.0, 50.0, 20.0)), coords, 150.0)
    active = block.flat_mask()
    np.testing.assert_allclose(
        source.krige_block(block)[active], source.krige(block.cell_centres()[active]), rtol=1e-10, atol=1e-12
    )


def test_volume_members_are_held_within_the_assays_range(small_demo: Path, monkeypatch) -> None:
    """A member that extrapolates (a network far from its training inputs) never makes a grade no assay showed."""
    from afg_core.learn import experiment

    fitted_member = experiment._ensemble_member

    def extrapolating_member(*args) -> np.ndarray:
        logs = fitted_member(*args)
        return logs + np.where(np.arange(len(logs)) % 2 == 0, 20.0, 0.0)[:, None]  # every other cell

    monkeypatch.setattr(experiment, "_ensemble_member", extrapolating_member)
    config = RunConfig(
        task="volume",
        models=("boosting",),
        ablation=False,
        importance=False,
        groups=("position", "kriged"),
        n_boot=10,
        ensemble=2,
        n_jobs=1,
        cell_size=(200.0, 200.0, 40.0),
    )
    project = load_project(small_demo)
    result = run_experiment(project, config)
    assays = log_grade(project.drillholes.samples[list(result.targets)].to_numpy(dtype=float))
    for j, target in enumerate(result.targets):
        predicted = result.volume.log_mean[target]
        assert np.nanmax(predicted) <= np.nanmax(assays[:, j]) + 1e-9, target
        assert np.nanmin(predicted) >= np.nanmin(assays[:, j]) - 1e-9, target
    assert any("outside the assays' range and were held at its edge" in note for note in result.notes)
    for name, grade in result.volume.grade_ppm.items():  # the lognormal mean is top-cut at the richest assay
        assert np.nanmax(grade) <= result.volume.top_cut[name], name
