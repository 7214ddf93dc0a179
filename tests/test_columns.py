"""Tests of afg_core.io.columns: headers with a bracketed axis letter or unit play their roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from afg_core.geochem import parse_element_column
from afg_core.io import load_project
from afg_core.io.columns import (
    TABLE_ROLES,
    header_axis,
    header_length_unit,
    normalise_header,
    recognise_columns,
)

SAMPLE_HEADERS = ["Hole ID", "East (X)", "North (Y)", "Elevation (Z)", "From (m)", "To (m)", "La (ppm)"]


@pytest.mark.parametrize(
    ("header", "base", "axis", "unit"),
    [
        ("East (X)", "east", "x", None),
        ("North [y]", "north", "y", None),
        ("Depth (m)", "depth", None, "m"),
        ("Depth (ft)", "depth", None, "ft"),
        ("Easting [m]", "easting", None, "m"),
        ("RL (m AHD)", "rl", None, "m"),
        ("Elev (m a.s.l.)", "elev", None, "m"),
        ("Dip (deg)", "dip", None, None),
        ("Hole ID", "hole_id", None, None),
        # Concentration units stay: "Y (ppm)" is yttrium and must never read as "y".
        ("Y (ppm)", "y_(ppm)", None, None),
        ("Y [ppm]", "y_[ppm]", None, None),
        ("SiO2 (%)", "sio2_(%)", None, None),
    ],
)
def test_a_trailing_axis_letter_or_length_unit_is_read_apart(header, base, axis, unit) -> None:
    assert normalise_header(header) == base
    assert header_axis(header) == axis
    assert header_length_unit(header) == unit


def test_samples_headers_with_axis_letters_and_units_are_recognised() -> None:
    found = recognise_columns(SAMPLE_HEADERS, TABLE_ROLES["samples"], "samples.csv")
    assert found == {
        "x": "East (X)",
        "y": "North (Y)",
        "z": "Elevation (Z)",
        "hole_id": "Hole ID",
        "from": "From (m)",
        "to": "To (m)",
    }


def test_collar_survey_and_assay_headers_with_units_are_recognised() -> None:
    collar = recognise_columns(
        ["Hole ID", "Easting [m]", "Northing [m]", "RL (m)", "Depth (m)", "Azimuth (deg)", "Dip (°)"],
        TABLE_ROLES["collar"],
        "collar.csv",
    )
    assert collar == {
        "hole_id": "Hole ID",
        "x": "Easting [m]",
        "y": "Northing [m]",
        "z": "RL (m)",
        "depth": "Depth (m)",
        "azimuth": "Azimuth (deg)",
        "dip": "Dip (°)",
    }
    survey = recognise_columns(
        ["Hole ID", "Depth (m)", "Azimuth", "Dip"], TABLE_ROLES["survey"], "survey.csv"
    )
    assert survey["survey_depth"] == "Depth (m)"
    assay = recognise_columns(
        ["Hole ID", "From (m)", "To (m)", "SiO2 (%)"], TABLE_ROLES["assay"], "assay.csv"
    )
    assert assay == {"hole_id": "Hole ID", "from": "From (m)", "to": "To (m)"}


def test_an_axis_letter_chooses_the_coordinate_role() -> None:
    found = recognise_columns(["MGA (X)", "MGA (Y)", "AHD (Z)"], TABLE_ROLES["samples"], "samples.csv")
    assert found == {"x": "MGA (X)", "y": "MGA (Y)", "z": "AHD (Z)"}


def test_an_axis_letter_does_not_turn_longitude_into_metres() -> None:
    found = recognise_columns(["Longitude (X)", "Latitude (Y)"], TABLE_ROLES["samples"], "samples.csv")
    assert found == {"longitude": "Longitude (X)", "latitude": "Latitude (Y)"}


def test_yttrium_with_a_unit_is_no_y_coordinate() -> None:
    found = recognise_columns(["Lon", "Lat", "Y (ppm)", "Y [ppm]"], TABLE_ROLES["samples"], "samples.csv")
    assert found == {"longitude": "Lon", "latitude": "Lat"}
    assert parse_element_column("Y (ppm)") == ("Y", "ppm", 1.0)


def _samples_project(folder: Path, text: str, toml: str = "") -> Path:
    folder.mkdir()
    (folder / "samples.csv").write_text(text, encoding="utf-8")
    if toml:
        (folder / "project.toml").write_text(toml, encoding="utf-8")
    return folder


def test_a_samples_project_with_bracketed_headers_loads(tmp_path: Path) -> None:
    text = ",".join(SAMPLE_HEADERS) + ",SiO2 (%)\nH1,1000,2000,300,0,2,50,60\nH1,1000,2000,298,2,4,70,55\n"
    project = load_project(_samples_project(tmp_path / "p", text))
    assay = project.drillholes.assay
    assert assay["x"].tolist() == [1000.0, 1000.0] and assay["z"].tolist() == [300.0, 298.0]
    assert assay["from"].tolist() == [0.0, 2.0] and assay["to"].tolist() == [2.0, 4.0]
    assert assay["La"].tolist() == [50.0, 70.0] and assay["Si"].tolist() == pytest.approx(
        [28.05, 25.71], 1e-3
    )
    assert project.report.column_roles["samples.csv"]["x"] == "East (X)"
    assert not [f for f in project.report.findings if "header says" in f.message]


def test_a_feet_depth_header_in_a_metre_project_is_reported(tmp_path: Path) -> None:
    text = "Hole ID,Easting [m],Northing [m],RL (m),From (ft),To (ft),La_ppm\nH1,1000,2000,300,0,10,50\n"
    project = load_project(_samples_project(tmp_path / "p", text))
    warned = [f for f in project.report.findings if "header says ft" in f.message]
    assert [(f.file, f.column, f.severity) for f in warned] == [
        ("samples.csv", "From (ft)", "warning"),
        ("samples.csv", "To (ft)", "warning"),
    ]
    assert 'length_unit = "ft"' in warned[0].fix
    # Said once in project.toml, feet are converted and nothing is reported.
    project = load_project(_samples_project(tmp_path / "q", text, toml='length_unit = "ft"\n'))
    assert project.drillholes.assay["to"].tolist() == pytest.approx([3.048])
    assert not [f for f in project.report.findings if "header says" in f.message]
