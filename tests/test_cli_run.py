"""``python -m afg_core run``: the whole learning pipeline from the command line, and what it writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

METRIC_KEYS = {
    "rmse",
    "rmse_lo",
    "rmse_hi",
    "mae",
    "mae_lo",
    "mae_hi",
    "r2",
    "r2_lo",
    "r2_hi",
    "log_rmse",
    "unit",
}
FAST = "n_boot = 100\nensemble = 5\ncell_size = [50.0, 50.0, 10.0]\n"


@pytest.fixture(scope="module")
def demo_run(cli_demo, tmp_path_factory: pytest.TempPathFactory, afg_cli):
    folder, _ = cli_demo
    out = tmp_path_factory.mktemp("run") / "out"
    config = out.parent / "run.toml"
    config.write_text(FAST)
    done = afg_cli(
        "run", str(folder), "--out", str(out), "--epochs", "2", "--config", str(config), timeout=900
    )
    return out, done


def test_run_writes_the_documented_metrics_json(demo_run) -> None:
    out, done = demo_run
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "along-holes"
    assert len(metrics["targets"]) == 15 and metrics["targets"][0] == "La"
    assert set(metrics["split"]) == {"train_holes", "validation_holes", "test_holes"}
    assert all(v > 0 for v in metrics["split"].values())
    assert set(metrics["models"]) == {"lstm", "fnn", "kriging", "boosting"}
    for model, grades in metrics["models"].items():
        assert set(grades) == {*metrics["targets"], "TREO"}, model
        for grade, entry in grades.items():
            assert METRIC_KEYS <= set(entry), (model, grade)
            assert entry["unit"] == "ppm"
            assert entry["rmse_lo"] <= entry["rmse"] <= entry["rmse_hi"], (model, grade)
    assert "class_accuracy" in metrics["models"]["lstm"]["TREO"]
    assert {"lstm-kriging", "fnn-kriging", "boosting-kriging", "lstm-boosting"} <= set(metrics["paired"])
    pair = metrics["paired"]["lstm-kriging"]["TREO"]
    assert set(pair) == {"rmse_diff", "lo", "hi"} and pair["lo"] <= pair["rmse_diff"] <= pair["hi"]
    assert set(metrics["best_model"]) == {*metrics["targets"], "TREO"}
    assert set(metrics["best_model"].values()) <= set(metrics["models"])


def test_run_writes_tables_volume_models_and_summary(demo_run) -> None:
    import pyvista as pv

    from afg_core.learn import load_model

    out, _ = demo_run
    ablation = pd.read_csv(out / "ablation.csv")
    assert ablation["removed"].iloc[0] == "none" and {"gradients", "kriged", "geophysics"} <= set(
        ablation["removed"]
    )
    blocks = pd.read_parquet(out / "predicted_blocks.parquet")
    assert {"x", "y", "z", "TREO_ppm", "TREO_log_sd", "TREO_p_above", "La_ppm"} <= set(blocks.columns)
    assert blocks["TREO_p_above"].between(0, 1).all() and (blocks["TREO_log_sd"] > 0).all()
    image = pv.read(out / "predicted_blocks.vti")
    values = image.cell_data["TREO_ppm"]
    assert np.isfinite(values).sum() == len(blocks)
    summary = (out / "summary.txt").read_text()
    assert "TREO: lowest RMSE" in summary and "Flux gradients" in summary
    predictions = pd.read_csv(out / "predictions.csv")
    for name in ("lstm", "fnn", "kriging", "boosting"):
        card = json.loads((out / "models" / name / "card.json").read_text())
        assert card["card"]["targets"][0] == "La"
    model = load_model(out / "models" / "boosting")
    assert model.n_targets_ == 15 and len(predictions) > 0


def test_run_writes_a_self_contained_report(demo_run) -> None:
    from test_report_html import parse

    out, _ = demo_run
    page = parse((out / "report.html").read_text(encoding="utf-8"))
    assert page.external == []
    assert {"Project", "Model comparison", "Model card", "Saved model: lstm", "Block model"} <= set(
        page.headings
    )
    scores = pd.read_csv(out / "scores.csv")
    shown = [t for t in page.tables if "rmse_lo" in t[0]]  # TREO first, then every grade
    assert [len(t) - 1 for t in shown] == [(scores["grade"] == "TREO").sum(), len(scores)]


def test_run_without_geophysics_or_spectra_goes_on_and_says_so(cli_demo, tmp_path: Path, afg_cli) -> None:
    folder, _ = cli_demo
    bare = tmp_path / "bare"
    shutil.copytree(folder, bare, ignore=shutil.ignore_patterns("geophysics", "hyperspectral"))
    config = tmp_path / "run.toml"
    config.write_text('models = ["kriging", "boosting"]\nvolume = false\nablation = false\nn_boot = 50\n')
    done = afg_cli("run", str(bare), "--out", str(tmp_path / "out"), "--config", str(config), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    summary = (tmp_path / "out" / "summary.txt").read_text()
    assert "no geophysics grids in the project" in summary
    assert "no hyperspectral cube" in summary + done.stderr


def test_run_with_too_few_holes_is_a_clear_error(cli_demo, tmp_path: Path, afg_cli) -> None:
    folder, _ = cli_demo
    one = tmp_path / "one"
    shutil.copytree(folder, one)
    for name in ("collar.csv", "survey.csv", "assay.csv"):
        table = pd.read_csv(one / name, dtype=str)
        first = table.iloc[0, 0]
        table[table.iloc[:, 0] == first].to_csv(one / name, index=False)
    done = afg_cli("run", str(one), "--out", str(tmp_path / "out"), timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "at least 3" in done.stderr


@pytest.mark.shared_data
def test_run_on_a_real_base_metal_set(tmp_path: Path, afg_cli) -> None:
    """Forrestania (WA): Cu and Ni predicted from the other measured elements, no REE assumption anywhere."""
    source = SHARED_DATA / "forrestania-wa-drillholes"
    project = tmp_path / "forrestania"
    project.mkdir()
    (project / "project.toml").write_text(
        'crs = "EPSG:28350"\ntarget_elements = ["Cu", "Ni"]\n[files]\n'
        f'collar = "{(source / "forrestania_collar.csv").as_posix()}"\n'
        f'survey = "{(source / "forrestania_survey.csv").as_posix()}"\n'
        f'assay = "{(source / "forrestania_assay.csv").as_posix()}"\n[cutoffs]\nNi = 3000.0\n'
    )
    config = tmp_path / "run.toml"
    config.write_text("n_boot = 100\nensemble = 5\n")
    out = tmp_path / "out"
    done = afg_cli(
        "run", str(project), "--out", str(out), "--epochs", "3", "--config", str(config), timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["targets"] == ["Cu", "Ni"] and metrics["sum"] is None
    assert set(metrics["models"]) == {"lstm", "fnn", "kriging", "boosting"}
    assert set(metrics["models"]["boosting"]) == {"Cu", "Ni"}
    assert "class_accuracy" in metrics["models"]["boosting"]["Ni"]
    assert (
        "colocated"
        in json.loads((out / "models" / "boosting" / "card.json").read_text())["card"][
            "feature_groups"
        ].values()
    )
