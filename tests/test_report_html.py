"""The stakeholder HTML report: self-contained (no network), escaped, sections from what is given, true numbers."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from afg_core.geostat import BlockModel
from afg_core.geostat.variogram import VariogramModel
from afg_core.learn.experiment import ExperimentResult, RunConfig
from afg_core.products import BlockEstimate, rank_drill_targets
from afg_core.products.report_html import build_report_html, format_number, read_model_cards


class _Page(HTMLParser):
    """Headings, tables (as lists of rows of cell text), and every external reference of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.scripts = 0
        self.external: list[str] = []
        self.tags: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and re.match(r"\s*(https?:)?//", value):
                self.external.append(f"{tag} {name}={value}")
        if tag == "script":
            self.scripts += 1
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th", "h2", "h3"):
            self._text = []

    def handle_data(self, data) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._text))
            self._text = None
        elif tag in ("h2", "h3"):
            self.headings.append("".join(self._text))
            self._text = None


def parse(document: str) -> _Page:
    page = _Page()
    page.feed(document)
    page.close()
    return page


def frame_of(table: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(table[1:], columns=table[0])


def number(text: str) -> float:
    return {"–": np.nan, "yes": 1.0, "no": 0.0}.get(text, None) or float(text.replace(",", ""))


def assert_shown(shown: pd.DataFrame, frame: pd.DataFrame, columns: list[str]) -> None:
    """Table cells read back equal the frame's numbers to the report's rounding (half a unit in the 3rd figure)."""
    for column in columns:
        values = np.array([number(t) for t in shown[column]])
        np.testing.assert_allclose(
            values, frame[column].to_numpy(float), rtol=5e-3, atol=5e-3, err_msg=column
        )


@pytest.fixture(scope="module")
def estimate() -> BlockEstimate:
    block = BlockModel(origin=(1000.0, 2000.0, 100.0), cell_size=(50.0, 50.0, 10.0), shape=(12, 10, 6))
    x, y, z = block.cell_centres().T
    log_estimate = np.log(300.0 + 2500.0 * np.exp(-(((x - 1300) / 120) ** 2 + ((y - 2200) / 150) ** 2)))
    return BlockEstimate(
        block, log_estimate, np.full(block.n_cells, 0.09), VariogramModel("spherical", 0.1, 0.8, 240.0)
    )


def synthetic_experiment() -> ExperimentResult:
    """A small, made-up experiment result (three models, TREO scored) with every table the report reads."""
    models = ["lstm", "kriging", "boosting"]
    rng = np.random.default_rng(1)
    scores = pd.DataFrame(
        {
            "model": models,
            "grade": "TREO",
            "rmse": [2894.2, 4050.7, 3488.1],
            "rmse_lo": [594.0, 826.3, 700.2],
            "rmse_hi": [4552.9, 6280.1, 5012.4],
            "mae": [1500.5, 2500.25, 2000.0],
            "r2": [0.61, 0.21, 0.42],
            "log_rmse": [0.861, 1.77, 0.93],
            "class_accuracy": [0.79, 0.64, 0.7],
            "unit": "ppm",
            "n": [120, 120, 120],
        }
    )
    paired = pd.DataFrame(
        {
            "pair": ["lstm-kriging", "boosting-kriging"],
            "grade": "TREO",
            "rmse_diff": [-1156.4, -562.6],
            "lo": [-1759.0, -786.2],
            "hi": [-237.5, -278.9],
        }
    )
    observed = rng.lognormal(7, 1, 120)
    predictions = pd.DataFrame({"hole_id": "H1", "TREO": observed})
    for model in models:
        predictions[f"{model}:TREO"] = observed * rng.lognormal(0, 0.3, 120)
    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [1.0, 0.6, 0.5], "val_loss": [1.1, 0.8, 0.75]})
    return ExperimentResult(
        config=RunConfig(models=tuple(models), epochs=3),
        targets=["La", "Ce"],
        sum_name="TREO",
        split={"train_holes": 60, "validation_holes": 15, "test_holes": 15},
        scores=scores,
        paired=paired,
        best_model={"TREO": "lstm"},
        predictions=predictions,
        histories={"lstm": history},
        ablation=pd.DataFrame(),
        importance=pd.DataFrame(),
        self_weighting={},
        features=["x", "y", "Fe"],
        feature_groups={"x": "position", "y": "position", "Fe": "colocated"},
        notes=["no hyperspectral cube <in> the project"],
        fitted={},
    )


@pytest.fixture(scope="module")
def experiment() -> ExperimentResult:
    return synthetic_experiment()


def test_full_report_is_self_contained_with_every_section(estimate, experiment, tmp_path) -> None:
    import json

    cutoff = 1000.0
    targets = rank_drill_targets(estimate, cutoff, np.array([[1000.0, 2000.0, 120.0]]))
    assert len(targets) >= 1
    holes = pd.DataFrame(
        {
            "rank": [1],
            "zone": [targets["zone"].iloc[0]],
            "collar_x": [1290.0],
            "collar_y": [2210.0],
            "collar_z": [160.0],
            "azimuth": [90.0],
            "dip": [60.0],
            "length_m": [123.4],
            "covered": [False],
        }
    )
    card = tmp_path / "models" / "lstm" / "card.json"
    card.parent.mkdir(parents=True)
    card.write_text(
        json.dumps({"class": "LSTMRegressor", "params": {"units": [128, 128]}, "versions": {"keras": "3"}})
    )
    document = build_report_html(
        title="Demo <meeting>",
        experiment=experiment,
        model_cards=read_model_cards(tmp_path / "models"),
        estimate=estimate,
        cutoff_ppm=cutoff,
        targets=targets,
        proposed_holes=holes,
    )
    page = parse(document)

    # Offline: nothing fetched from the network, plotly.js inlined exactly once, one drawing call per figure.
    assert page.external == []
    assert "link" not in page.tags and "iframe" not in page.tags
    assert document.count("* plotly.js v") == 1
    assert page.scripts == 1 + document.count("Plotly.newPlot(")
    assert (
        document.count("Plotly.newPlot(") == 6
    )  # RMSE bars, loss, predicted vs observed, variogram, G-T, plan
    assert 3e6 < len(document.encode()) < 8e6  # plotly.js (~4.7 MB) plus a few figures and tables

    assert [
        h for h in page.headings if h in ("Variogram", "Model comparison", "Model card", "Drill targets")
    ] == [
        "Variogram",
        "Model comparison",
        "Model card",
        "Drill targets",
    ]
    assert "Saved model: lstm" in page.headings and "Block model" in page.headings
    # Escaped text: the title and the note stay text, never markup.
    assert "<title>Demo &lt;meeting&gt;</title>" in document and "&lt;in&gt;" in document
    assert "TREO: lowest RMSE 2,894 ppm (95 % CI 594-4,553) by lstm." in document  # summary_text

    tables = {tuple(t[0]): frame_of(t) for t in page.tables}
    scores = next(t for cols, t in tables.items() if "rmse_lo" in cols)
    assert list(scores["model"]) == list(experiment.scores["model"])
    assert_shown(
        scores, experiment.scores, ["rmse", "rmse_lo", "rmse_hi", "r2", "log_rmse", "class_accuracy", "n"]
    )
    paired = next(t for cols, t in tables.items() if "rmse_diff" in cols)
    assert_shown(paired, experiment.paired, ["rmse_diff", "lo", "hi"])
    ranked = next(t for cols, t in tables.items() if "mean_treo_ppm" in cols)
    assert_shown(
        ranked, targets, ["rank", "tonnes", "mean_treo_ppm", "contained_treo_t", "mean_probability", "score"]
    )
    proposed = next(t for cols, t in tables.items() if "azimuth" in cols)
    assert_shown(proposed, holes, ["collar_x", "collar_y", "azimuth", "dip", "length_m"])
    assert list(proposed["covered"]) == ["no"]
    settings = dict(next(t for cols, t in tables.items() if cols == ("setting", "value")).to_numpy())
    assert settings["epochs"] == "3" and settings["models"] == "lstm, kriging, boosting"
    card_rows = dict(
        next(t for cols, t in tables.items() if cols == ("", "value") and len(t) == 4).to_numpy()
    )
    assert card_rows["class"] == "LSTMRegressor" and card_rows["parameter units"] == "128, 128"
    variogram = dict(next(t for cols, t in tables.items() if cols == ("parameter", "value")).to_numpy())
    assert variogram["kind"] == "spherical" and number(variogram["range"]) == 240.0


def test_sections_appear_only_for_what_is_given(experiment) -> None:
    page = parse(build_report_html(title="Only a run", experiment=experiment))
    assert [h for h in page.headings if h in ("Project", "Variogram", "Drill targets", "Block model")] == []
    assert {"Model comparison", "Model card"} <= set(page.headings)
    empty = parse(build_report_html(title="Nothing"))
    assert empty.headings == [] and empty.external == []


def test_number_format_is_readable() -> None:
    assert format_number(1234567.8) == "1,234,568"
    assert format_number(12.345) == "12.35"
    assert format_number(0.012345) == "0.0123"
    assert format_number(np.int64(42)) == "42"
    assert format_number(np.nan) == "–" and format_number(True) == "yes"


def test_report_command_writes_targets_from_kriging(cli_demo, tmp_path, afg_cli) -> None:
    folder, _ = cli_demo
    out = tmp_path / "report.html"
    done = afg_cli("report", str(folder), "--out", str(out), "--top", "3")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "opens offline" in done.stdout
    document = out.read_text(encoding="utf-8")
    page = parse(document)
    assert page.external == []
    assert ["Project", "Variogram", "Drill targets", "Proposed holes", "Block model"] == page.headings
    project = dict(frame_of(page.tables[0]).to_numpy())
    assert project["Drill holes"] == "8" and project["Coordinate system"].startswith("EPSG:")
    targets = frame_of(page.tables[2])
    holes = frame_of(page.tables[3])
    assert len(targets) > 0 and len(holes) == min(3, len(targets))
    assert [number(r) for r in targets["rank"]] == list(range(1, len(targets) + 1))
