"""Every dashboard page under Streamlit's AppTest: it runs without exceptions or errors and draws its content.

AppTest runs the scripts in this process, so Streamlit's caches (the demo project, the block
model, the PCA) are shared across the tests: the first page pays for loading, later ones reuse it.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
MODELS = REPO / "models"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*")

TIMEOUT = 300  # s per script run: the first run generates/loads the demo, the 3D page exports a scene


pytestmark = pytest.mark.usefixtures("navigation_mode")


def open_page(page: str | None = None) -> AppTest:
    """A fresh session of the app, run on ``page`` (``pages/xxx.py``) or on the default page."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if page is not None:
        at.switch_page(page)
    at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    """No uncaught exception and no ``st.error`` anywhere on the page (main area or sidebar)."""
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    # The page ran inside app.py's frame (st.navigation), not on its own as a legacy pages/ script.
    assert "### AFG" in [m.value for m in at.sidebar.markdown], "app.py's sidebar frame is missing"


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def plotly_charts(at: AppTest) -> list:
    return at.get("plotly_chart")


@pytest.fixture(scope="module")
def demo_collars() -> pd.DataFrame:
    """The collar table of the demo project the app opens on (generated once per machine by ui.state)."""
    at = open_page()  # makes sure the app's demo folder exists
    from ui.state import _demo_folder

    folder = _demo_folder()
    assert (folder / "collar.csv").exists(), f"the app did not generate its demo in {folder}"
    assert metrics(at)  # the data page drew
    return pd.read_csv(folder / "collar.csv")


def test_data_page(demo_collars: pd.DataFrame) -> None:
    at = open_page("pages/data.py")
    assert at.title[0].value == "Data"
    shown = metrics(at)
    assert shown["Drill holes"] == str(len(demo_collars))
    assert int(shown["Assay intervals"].replace(",", "")) > 1000
    assert len(plotly_charts(at)) >= 3  # plan map, strip log, spider plot
    collar_table = next(
        d.value for d in at.dataframe if "hole_id" in d.value and "survey" not in str(d.value.columns)
    )
    assert len(collar_table) == len(demo_collars)

    hole = next(s for s in at.selectbox if s.label == "Hole")
    assert hole.value == demo_collars.iloc[0, 0]
    other = hole.options[5]
    hole.select(other).run()
    assert_clean(at)
    assert next(s for s in at.selectbox if s.label == "Hole").value == other
    assert len(plotly_charts(at)) >= 3
    assert any(other in c.value for c in at.caption)  # spider plot caption names the selected hole


def _finite_cv_metrics(at: AppTest) -> dict[str, float]:
    shown = metrics(at)
    values = {name: float(shown[name]) for name in ("CV RMSE", "CV MAE", "CV R²")}
    assert all(math.isfinite(v) for v in values.values()), values
    assert values["CV RMSE"] > 0 and values["CV MAE"] > 0
    return values


def test_variogram_page() -> None:
    at = open_page("pages/variogram.py")
    assert at.title[0].value == "Variogram"
    assert len(plotly_charts(at)) >= 3  # variogram, kriged slice, kriging sd
    _finite_cv_metrics(at)

    element = next(s for s in at.selectbox if s.label == "Element")
    assert element.value == "La"
    new = next(e for e in element.options if e not in ("La",) and e in ("Ce", "Nd", "Y"))
    element.select(new).run()
    assert_clean(at)
    _finite_cv_metrics(at)

    before = {s.label: s.value for s in at.slider}
    model = next(s for s in at.selectbox if s.label == "Model")
    model.select("exponential")
    next(b for b in at.button if b.label == "Auto-fit").click().run()  # one rerun: new model, then fit it
    assert_clean(at)
    assert next(s for s in at.selectbox if s.label == "Model").value == "exponential"
    sliders = {s.label: s.value for s in at.slider}
    assert sliders["Range (m)"] >= 10.0 and sliders["Partial sill"] > 0
    fitted = ("Nugget", "Partial sill", "Range (m)")
    assert [sliders[k] for k in fitted] != [before[k] for k in fitted], "Auto-fit did not move the sliders"
    _finite_cv_metrics(at)
    assert len(plotly_charts(at)) >= 3


def test_spectral_pca_page() -> None:
    at = open_page("pages/spectral_pca.py")
    assert at.title[0].value == "Spectral PCA"
    assert metrics(at)["Components kept"] == "3"
    assert len(plotly_charts(at)) >= 5  # scree, loadings, three score maps

    next(r for r in at.radio if r.label == "Components").set_value("choose by cross-validation").run()
    assert_clean(at)
    kept = int(metrics(at)["Components kept"])
    assert 1 <= kept <= 10
    assert float(metrics(at)["Variance explained"].rstrip(" %")) > 50
    assert len(plotly_charts(at)) >= 2 + min(kept, 3)


@pytest.fixture
def new_model_files():
    """Files that appear in models/ during the test; removed afterwards (others' files are left alone)."""
    before = set(MODELS.glob("*")) if MODELS.exists() else set()
    created: list[Path] = []
    yield created
    created.extend(set(MODELS.glob("*")) - before)
    for path in created:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def test_train_page(new_model_files: list[Path], demo_collars: pd.DataFrame) -> None:
    at = open_page("pages/train.py")
    assert at.title[0].value == "Train"
    shown = metrics(at)
    n_train, n_val, n_test = (
        int(shown[k]) for k in ("Training holes", "Validation holes", "Held-out test holes")
    )
    assert n_train > 0 and n_val > 0 and n_test > 0
    assert n_train + n_val + n_test == len(demo_collars)
    assert not at.dataframe  # nothing trained yet

    before = set(MODELS.glob("*")) if MODELS.exists() else set()
    next(n for n in at.sidebar.number_input if n.label == "Maximum epochs").set_value(2)
    next(t for t in at.sidebar.toggle if t.label == "Ablation by feature group").set_value(False)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert_clean(at)
    # Training runs in the background: the page shows progress until a rerun finds the results.
    assert at.get("progress") and next(b for b in at.button if b.label == "Start training").disabled
    deadline = time.monotonic() + TIMEOUT
    while "training_run" in at.session_state:
        snapshot = at.session_state["training_run"].snapshot()
        assert snapshot.state != "failed", snapshot.error
        assert time.monotonic() < deadline, snapshot.message
        time.sleep(1)
        at.run()
        assert_clean(at)

    assert (
        len(plotly_charts(at)) >= 4
    )  # loss curves, error bars, predicted vs observed, residuals down a hole
    scores = at.dataframe[0].value
    assert {"model", "grade", "rmse", "rmse_lo", "rmse_hi", "log_rmse"} <= set(scores.columns)
    assert set(scores["model"]) == {"lstm", "fnn", "kriging", "boosting"}
    treo = scores.loc[scores["grade"] == "TREO"]
    assert len(treo) == 4 and treo["class_accuracy"].between(0, 1).all()
    paired = at.dataframe[1].value
    assert {"lstm-kriging", "lstm-boosting"} <= set(paired["pair"])
    assert any("TREO: lowest RMSE" in t.value for t in at.text)
    assert any(m.value.startswith("**") and "won on TREO" in m.value for m in at.markdown)

    new = set(MODELS.glob("*")) - before
    assert len(new) == 1, sorted(p.name for p in new)
    run = new.pop()
    new_model_files.append(run)
    assert (run / "models" / "lstm" / "model.keras").exists() and (run / "metrics.json").exists()
    saved = next(c.value for c in at.caption if c.value.startswith("Saved"))
    assert run.name in saved

    # The 3D Viewer and Drill Targets of the same session can now show the model's predicted volume.
    at.switch_page("pages/drill_targets.py").run()
    assert_clean(at)
    volume = next(r for r in at.radio if r.label == "Volume")
    volume.set_value("model").run()
    assert_clean(at)
    assert any("ensemble" in c.value for c in at.caption)
    at.switch_page("pages/viewer_3d.py").run()
    assert_clean(at)
    next(r for r in at.radio if r.label == "Volume from").set_value("model").run()
    assert_clean(at)
    assert any("model ensemble" in c.value for c in at.caption)


def test_viewer_3d_page() -> None:
    at = open_page("pages/viewer_3d.py")
    assert at.title[0].value == "3D Viewer"
    # stpyvista's components.v2 element: AppTest has no class for it (UnknownElement, type bidi_component).
    components = [e for e in at.get("bidi_component") if "stpyvista" in e.proto.component_name]
    assert len(components) == 1, [type(e).__name__ for e in at.main]
    assert "scene3d" in components[0].proto.id
    assert any("Drag to rotate" in c.value for c in at.caption)

    next(c for c in at.checkbox if c.label == "Show blocks").uncheck().run()
    assert_clean(at)
    assert len([e for e in at.get("bidi_component") if "stpyvista" in e.proto.component_name]) == 1


def test_drill_targets_page() -> None:
    at = open_page("pages/drill_targets.py")
    assert at.title[0].value == "Drill Targets"
    ranking = at.dataframe[0].value
    assert len(ranking) > 0
    assert {"rank", "score"} <= set(ranking.columns)
    assert list(ranking["rank"]) == sorted(ranking["rank"])
    assert ranking["score"].is_monotonic_decreasing
    assert len(plotly_charts(at)) >= 2  # plan of best blocks, grade-tonnage
    assert any(s.value.endswith("target zones") for s in at.subheader)
    holes = at.dataframe[1].value
    assert {"collar_x", "collar_y", "collar_z", "azimuth", "dip", "length_m", "covered"} <= set(holes.columns)
    assert len(holes) == min(15, len(ranking)) and (holes["length_m"] > 0).all()


def test_data_page_prepares_a_session_file() -> None:
    import io
    import json
    import zipfile

    at = open_page("pages/data.py")
    next(b for b in at.button if b.label == "Prepare a session file").click().run()
    assert_clean(at)
    archive = zipfile.ZipFile(io.BytesIO(at.session_state["session_bytes"]))
    names = archive.namelist()
    assert "project/collar.csv" in names and "project/project.toml" in names
    header = json.loads(archive.read("session.json"))
    assert header["format"] == 1 and header["project_name"].startswith("Demo")
