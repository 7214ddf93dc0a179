"""The Data page turns an ambiguous column into a mapping form that writes project.toml."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from afg_core.io.project import add_column_mapping, load_project


def _ambiguous_project(folder: Path) -> Path:
    (folder / "collar.csv").write_text("HOLEID,X,EAST,NORTH,RL\nA,1,1,2,3\n")
    (folder / "assay.csv").write_text("HOLEID,FROM,TO,La_ppm\nA,0,1,2\n")
    return folder


def test_add_column_mapping_creates_and_replaces_entries(tmp_path: Path) -> None:
    (tmp_path / "project.toml").write_text(
        'name = "P"\n\n[columns]\nx = "X"\nhole_id = "HOLEID"\n\n[units]\nLa = "ppm"\n'
    )
    add_column_mapping(tmp_path, "x", "EAST")
    text = (tmp_path / "project.toml").read_text()
    assert (
        'x = "EAST"' in text and 'x = "X"' not in text and 'hole_id = "HOLEID"' in text and "[units]" in text
    )


def test_mapping_form_resolves_an_ambiguous_column(tmp_path: Path) -> None:
    folder = _ambiguous_project(tmp_path)
    at = AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "pages" / "data.py"), default_timeout=120
    )
    at.session_state["project_dir"] = str(folder)  # the page needs some project; the form opens the new one
    at.session_state["pending_mapping"] = {
        "folder": str(folder),
        "file": "collar.csv",
        "role": "x",
        "candidates": ["X", "EAST"],
        "headers": ["HOLEID", "X", "EAST", "NORTH", "RL"],
        "message": "columns ['X', 'EAST'] could all be the 'x' column",
    }
    (folder / "project.toml").write_text('[columns]\nx = "X"\n')  # lets the page draw before the choice
    at.run()
    assert at.selectbox[0].options[:2] == ["X", "EAST"]
    at.selectbox[0].select("EAST")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert load_project(folder).drillholes.collar["x"].tolist() == [1.0]
    assert 'x = "EAST"' in (folder / "project.toml").read_text()
