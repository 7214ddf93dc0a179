"""Session files: save, reopen (fast, same data, settings and run), and refuse what must never be opened."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from afg_core.errors import InputError
from afg_core.io import load_project
from afg_core.products import open_session, save_session


def test_save_then_open_restores_project_settings_and_run(cli_demo, tmp_path: Path) -> None:
    folder, _ = cli_demo
    run = tmp_path / "run"
    (run / "models" / "boosting").mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"targets": ["La"]}))
    (run / "models" / "boosting" / "card.json").write_text("{}")
    pd.DataFrame({"x": [1.0], "TREO_ppm": [2500.0]}).to_parquet(run / "predicted_blocks.parquet")
    (run / "stale.pkl").write_bytes(b"not packed")
    settings = {"element": "Nd", "nugget": 0.2, "anisotropic": True}
    path = save_session(tmp_path / "meeting.zip", folder, settings, run, project_name="Demo")
    names = zipfile.ZipFile(path).namelist()
    assert "session.json" in names and "project/collar.csv" in names and "run/metrics.json" in names
    assert not any(n.endswith(".pkl") for n in names)

    start = time.perf_counter()
    session = open_session(path, tmp_path / "opened")
    project = load_project(session.project_dir)
    seconds = time.perf_counter() - start
    assert seconds < 10, seconds
    assert session.settings == settings and session.project_name == "Demo"
    original = load_project(folder)
    pd.testing.assert_frame_equal(project.drillholes.samples, original.drillholes.samples)
    assert json.loads((session.run_dir / "metrics.json").read_text()) == {"targets": ["La"]}
    assert pd.read_parquet(session.run_dir / "predicted_blocks.parquet")["TREO_ppm"].tolist() == [2500.0]


@pytest.mark.parametrize("entry", ["run/models/boosting/model.pkl", "project/tools.py", "run/x.joblib"])
def test_a_session_with_code_or_pickles_is_refused_whole(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("session.json", json.dumps({"format": 1, "settings": {}}))
        archive.writestr("project/collar.csv", "HOLEID,X,Y,Z\nA,0,0,0\n")
        archive.writestr(entry, b"\x80\x04payload")
    with pytest.raises(InputError, match="executable or pickled") as error:
        open_session(path, tmp_path / "out")
    assert entry in str(error.value)
    assert not (tmp_path / "out" / "project" / "collar.csv").exists()  # nothing written


def test_a_session_escaping_its_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("session.json", "{}")
        archive.writestr("../outside.csv", "x")
    with pytest.raises(InputError, match="outside"):
        open_session(path, tmp_path / "out")


def test_a_zip_that_is_no_session_says_so(tmp_path: Path) -> None:
    path = tmp_path / "plain.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("collar.csv", "HOLEID,X,Y,Z\n")
    with pytest.raises(InputError, match="session.json"):
        open_session(path, tmp_path / "out")
