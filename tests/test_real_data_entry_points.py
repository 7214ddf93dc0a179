"""Every real drill-hole and sample set in ../shared/data through the CLI and the Data page.

The same project folders as tests/test_real_data.py (a project.toml naming the shared
files, with a column mapping only where the file's headers have no standard name): the
CLI's JSON report must account for every row of every file, and the Data page must open
the project without an error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED_DATA
from streamlit.testing.v1 import AppTest

from afg_core.cli import main

APP = Path(__file__).resolve().parents[1] / "app.py"
DATA = SHARED_DATA
pytestmark = pytest.mark.shared_data
FORRESTANIA = DATA / "forrestania-wa-drillholes"

SETS = {
    "forrestania": (
        '[files]\ncollar = "{d}/forrestania-wa-drillholes/forrestania_collar.csv"\n'
        'survey = "{d}/forrestania-wa-drillholes/forrestania_survey.csv"\n'
        'assay = "{d}/forrestania-wa-drillholes/forrestania_assay.csv"\n'
    ),
    "baltic-top": '[files]\nsamples = "{d}/baltic-soil-survey/bsstop.csv"\n',
    "baltic-bottom": '[files]\nsamples = "{d}/baltic-soil-survey/bssbot.csv"\n',
    "gemas": '[files]\nsamples = "{d}/gemas-trondelag-soils/gemas.csv"\n',
    "trondelag-o": '[files]\nsamples = "{d}/gemas-trondelag-soils/trondelagO.csv"\n',
    "trondelag-c": (
        'crs = "EPSG:32632"\n[files]\nsamples = "{d}/gemas-trondelag-soils/trondelagC.csv"\n'
        '[columns]\nx = "E32wgs"\ny = "N32wgs"\n'
    ),
    "yilgarn": (
        'crs = "EPSG:28350"\n[files]\n'
        'samples = "{d}/yilgarn-laterite-csiro-age/laterites_csiro_age_yilgarn.csv"\n'
    ),
}


def _project(tmp_path: Path, name: str) -> Path:
    (tmp_path / "project.toml").write_text(SETS[name].format(d=DATA.as_posix()))
    return tmp_path


@pytest.mark.parametrize("name", sorted(SETS))
def test_cli_report_accounts_for_every_row(tmp_path: Path, name: str, capsys: pytest.CaptureFixture) -> None:
    folder = _project(tmp_path, name)
    assert main(["validate", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["usable"]
    for row in report["accounting"]:
        source = next(DATA.rglob(row["file"]))
        assert row["rows read"] == len(pd.read_csv(source, dtype=str)), row["file"]
        assert row["rows read"] == row["rows kept"] + row["rows dropped"], row["file"]


@pytest.mark.usefixtures("navigation_mode")
@pytest.mark.parametrize("name", sorted(SETS))
def test_data_page_opens_the_set(tmp_path: Path, name: str) -> None:
    folder = _project(tmp_path, name)
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state["project_dir"] = str(folder)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Drill holes"].replace(",", "")) > 0
    assert len(at.get("plotly_chart")) >= 1


@pytest.mark.usefixtures("navigation_mode")
@pytest.mark.parametrize("name", ["forrestania", "baltic-top"])
def test_variogram_page_tunes_a_real_set(tmp_path: Path, name: str) -> None:
    folder = _project(tmp_path, name)
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state["project_dir"] = str(folder)
    at.switch_page("pages/variogram.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["CV RMSE"]) > 0
    assert len(at.get("plotly_chart")) >= 3


@pytest.mark.usefixtures("navigation_mode")
@pytest.mark.parametrize(
    "page", ["pages/viewer_3d.py", "pages/drill_targets.py", "pages/train.py", "pages/spectral_pca.py"]
)
@pytest.mark.parametrize("name", ["forrestania", "yilgarn"])
def test_other_pages_open_a_real_set(tmp_path: Path, name: str, page: str) -> None:
    # Drill holes (Forrestania) and a regional surface survey of 7,742 sites (Yilgarn), whose extent
    # once asked the targeting block model for billions of cells.
    folder = _project(tmp_path, name)
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state["project_dir"] = str(folder)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
