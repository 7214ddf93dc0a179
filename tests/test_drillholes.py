"""Tests of afg_core.drillholes (desurvey, table loaders) and project.toml handling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from afg_core.errors import InputError
from afg_core.io.columns import recognise_columns
from afg_core.io.desurvey import desurvey_minimum_curvature, direction_vectors
from afg_core.io.drillholes import FEET_TO_METRES, load_drillholes
from afg_core.io.project import load_project, read_settings

COLLAR_XYZ = np.array([600_100.0, 7_480_200.0, 480.0])


def _desurvey(stations: list[tuple[float, float, float]], depths, collar=COLLAR_XYZ) -> np.ndarray:
    d, az, dip = (np.array(v, dtype=float) for v in zip(*stations))
    return desurvey_minimum_curvature(np.asarray(collar, float), d, az, dip, np.asarray(depths, float))


# --------------------------------------------------------------------------- hand-worked desurvey


def test_vertical_hole_keeps_collar_xy_and_drops_by_depth() -> None:
    depths = np.array([0.0, 0.5, 10.0, 123.4, 300.0])
    xyz = _desurvey([(0.0, 0.0, -90.0), (150.0, 0.0, -90.0)], depths)
    np.testing.assert_allclose(xyz[:, :2], np.tile(COLLAR_XYZ[:2], (len(depths), 1)), rtol=0, atol=1e-9)
    np.testing.assert_allclose(xyz[:, 2], COLLAR_XYZ[2] - depths, rtol=0, atol=1e-9)


def test_straight_inclined_hole_dip_60_towards_east() -> None:
    depths = np.array([0.0, 10.0, 50.0, 200.0])
    xyz = _desurvey([(0.0, 90.0, -60.0), (100.0, 90.0, -60.0)], depths, collar=np.zeros(3))
    expected = np.column_stack(
        [depths * np.cos(np.radians(60)), np.zeros_like(depths), -depths * np.sin(np.radians(60))]
    )
    np.testing.assert_allclose(xyz, expected, rtol=0, atol=1e-9)


def test_single_station_gives_a_straight_hole_and_stations_may_start_below_the_collar() -> None:
    xyz = _desurvey([(30.0, 45.0, -45.0)], [0.0, 30.0, 100.0], collar=np.zeros(3))
    direction = direction_vectors(np.array([45.0]), np.array([-45.0]))[0]
    np.testing.assert_allclose(xyz, np.outer([0.0, 30.0, 100.0], direction), atol=1e-9)
    np.testing.assert_allclose(direction, [0.5, 0.5, -np.sqrt(0.5)], atol=1e-12)


class TestVerticalToDip45Over100m:
    """Stations at 0 m (vertical) and 100 m (dip -45, azimuth 90): a 45 degree build."""

    L = 100.0
    beta = np.radians(45.0)

    def positions(self, depths) -> np.ndarray:
        return _desurvey([(0.0, 90.0, -90.0), (self.L, 90.0, -45.0)], depths, collar=np.zeros(3))

    def test_end_of_segment_matches_the_textbook_formula(self) -> None:
        # Minimum curvature: dP = L/2 * RF * (t1 + t2), RF = tan(beta/2) / (beta/2).
        rf = np.tan(self.beta / 2) / (self.beta / 2)
        t1 = np.array([0.0, 0.0, -1.0])
        t2 = np.array([np.cos(np.radians(45)), 0.0, -np.sin(np.radians(45))])
        expected = self.L / 2 * rf * (t1 + t2)
        np.testing.assert_allclose(self.positions([self.L])[0], expected, rtol=0, atol=1e-9)
        # By hand: east 50 * 1.05505 * 0.70711 = 37.292, down 50 * 1.05505 * 1.70711 = 90.032.
        np.testing.assert_allclose(expected, [37.2923, 0.0, -90.0316], atol=1e-4)

    def test_points_inside_the_segment_lie_on_the_circular_arc(self) -> None:
        radius = self.L / self.beta  # 127.32 m
        centre = np.array([radius, 0.0, 0.0])  # level with the collar, on the inside of the bend
        depths = np.array([0.0, 25.0, 50.0, 75.0, 100.0])
        xyz = self.positions(depths)
        np.testing.assert_allclose(np.linalg.norm(xyz - centre, axis=1), radius, rtol=1e-12)
        # Halfway along, the hole has turned by beta / 2.
        half = xyz[2]
        theta = self.beta / 2
        np.testing.assert_allclose(
            half, [radius * (1 - np.cos(theta)), 0.0, -radius * np.sin(theta)], atol=1e-9
        )

    def test_below_the_last_station_the_hole_continues_straight(self) -> None:
        end, below = self.positions([self.L, self.L + 50.0])
        np.testing.assert_allclose(
            below - end, 50.0 * np.array([np.sqrt(0.5), 0.0, -np.sqrt(0.5)]), atol=1e-9
        )


# --------------------------------------------------------------------------- desurvey properties

azimuths = st.floats(0.0, 359.9)
dips = st.floats(-90.0, 89.0)


@settings(max_examples=60, deadline=None)
@given(
    azimuth=azimuths,
    dip=dips,
    depth=st.floats(1.0, 800.0),
    station_depths=st.lists(st.floats(0.0, 500.0), min_size=1, max_size=5, unique=True),
)
def test_straight_hole_path_length_equals_depth(azimuth, dip, depth, station_depths) -> None:
    stations = [(d, azimuth, dip) for d in sorted(station_depths)]
    depths = np.linspace(0.0, depth, 1001)
    xyz = _desurvey(stations, depths)
    steps = np.linalg.norm(np.diff(xyz, axis=0), axis=1)
    assert steps.sum() == pytest.approx(depth, rel=1e-9)
    assert np.linalg.norm(xyz[-1] - xyz[0]) == pytest.approx(depth, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    azimuth_list=st.lists(azimuths, min_size=1, max_size=6),
    spacing=st.floats(5.0, 60.0),
    depth=st.floats(1.0, 600.0),
)
def test_vertical_hole_keeps_x_and_y_whatever_the_azimuth(azimuth_list, spacing, depth) -> None:
    stations = [(i * spacing, az, -90.0) for i, az in enumerate(azimuth_list)]
    depths = np.linspace(0.0, depth, 50)
    xyz = _desurvey(stations, depths)
    np.testing.assert_allclose(xyz[:, :2], np.tile(COLLAR_XYZ[:2], (len(depths), 1)), rtol=0, atol=1e-7)
    np.testing.assert_allclose(xyz[:, 2], COLLAR_XYZ[2] - depths, rtol=0, atol=1e-7)


@st.composite
def smooth_surveys(draw):
    """Surveys with stations 10-50 m apart and gentle turns (dogleg well under 30 degrees)."""
    n = draw(st.integers(2, 8))
    spacings = draw(st.lists(st.floats(10.0, 50.0), min_size=n - 1, max_size=n - 1))
    depths = np.concatenate([[0.0], np.cumsum(spacings)])
    azimuth = [draw(st.floats(0.0, 360.0))]
    dip = [draw(st.floats(-85.0, -30.0))]
    for _ in range(n - 1):
        azimuth.append(azimuth[-1] + draw(st.floats(-15.0, 15.0)))
        dip.append(float(np.clip(dip[-1] + draw(st.floats(-10.0, 10.0)), -89.0, -5.0)))
    return depths, np.mod(azimuth, 360.0), np.array(dip)


@settings(max_examples=60, deadline=None)
@given(survey=smooth_surveys())
def test_smooth_survey_preserves_arc_length(survey) -> None:
    station_depths, azimuth, dip = survey
    tangents = direction_vectors(azimuth, dip)
    doglegs = np.arccos(np.clip(np.einsum("ij,ij->i", tangents[:-1], tangents[1:]), -1, 1))
    assume(np.all(doglegs < np.radians(30.0)))
    total = station_depths[-1] + 10.0
    collar = COLLAR_XYZ

    # Points 1 m apart along the hole are ~1 m apart: exactly the chord 2 R sin(1 / 2R) of
    # the arc a pair lies on (R = L / dogleg), which is 1 m to within 1 / (24 R^2).
    depths = np.arange(0.0, total, 1.0)
    xyz = desurvey_minimum_curvature(collar, station_depths, azimuth, dip, depths)
    chords = np.linalg.norm(np.diff(xyz, axis=0), axis=1)
    lengths = np.diff(station_depths)
    radius = np.where(doglegs > 1e-9, lengths / np.where(doglegs > 1e-9, doglegs, 1.0), np.inf)
    min_radius = radius.min()
    assert np.all(chords <= 1.0 + 1e-9)
    assert np.all(chords >= 1.0 - 1.0 / (24 * min_radius**2) - 1e-9)
    segment = np.searchsorted(station_depths, depths, side="right") - 1
    same = (segment[:-1] == segment[1:]) & (segment[:-1] < len(lengths))
    r = radius[segment[:-1][same]]
    exact = np.where(np.isfinite(r), 2 * r * np.sin(1.0 / (2 * np.where(np.isfinite(r), r, 1.0))), 1.0)
    np.testing.assert_allclose(chords[same], exact, rtol=1e-6)

    # At fine spacing the summed path length is the along-hole length.
    fine = np.linspace(0.0, total, int(total / 0.05) + 1)
    path = np.linalg.norm(
        np.diff(desurvey_minimum_curvature(collar, station_depths, azimuth, dip, fine), axis=0), axis=1
    ).sum()
    assert path == pytest.approx(total, rel=1e-6)

    # The path is continuous at each station and leaves it in the surveyed direction.
    eps = 1e-3
    for k, d in enumerate(station_depths[1:-1], start=1):
        before, at, after = desurvey_minimum_curvature(
            collar, station_depths, azimuth, dip, [d - eps, d, d + eps]
        )
        np.testing.assert_allclose(at - before, eps * tangents[k], atol=1e-6)
        np.testing.assert_allclose((after - before) / (2 * eps), tangents[k], atol=1e-4)


# --------------------------------------------------------------------------- loaders


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text.strip() + "\n")
    return path


COLLAR_TEXT = """
HOLEID,EAST,NORTH,RL,DEPTH
A,1000,2000,300,100
B,1100,2100,310,50
"""
SURVEY_TEXT = """
HOLEID,DEPTH,AZIMUTH,DIP
A,0,90,-60
A,50,90,-60
B,0,0,-90
"""
ASSAY_TEXT = """
HOLEID,FROM,TO,La_ppm,Fe_pct
A,0,2,10,30
A,2,4,12,31
B,0,1,5,20
"""


def _project(folder: Path, collar=COLLAR_TEXT, survey=SURVEY_TEXT, assay=ASSAY_TEXT, lithology=None) -> dict:
    paths = {
        "collar_path": _write(folder, "collar.csv", collar),
        "assay_path": _write(folder, "assay.csv", assay),
    }
    paths["survey_path"] = _write(folder, "survey.csv", survey) if survey is not None else None
    paths["lithology_path"] = _write(folder, "lithology.csv", lithology) if lithology is not None else None
    return paths


def _load(folder: Path, **kwargs):
    files = {k: kwargs.pop(k) for k in ("collar", "survey", "assay", "lithology") if k in kwargs}
    return load_drillholes(**_project(folder, **files), **kwargs)


def _assert_accounting(report) -> None:
    assert report.rows_read
    for file, read in report.rows_read.items():
        assert read == report.rows_kept[file] + report.rows_dropped[file], file


@pytest.mark.parametrize(
    "collar_header, survey_header, assay_header",
    [
        ("HOLEID,EAST,NORTH,RL,DEPTH", "HOLEID,DEPTH,AZIMUTH,DIP", "HOLEID,FROM,TO"),
        ("BHID,X,Y,Z,DEPTH", "BHID,AT,AZ,DIP", "BHID,depth_from,depth_to"),
        ("hole_id,XCOLLAR,YCOLLAR,ZCOLLAR,DEPTH", "hole_id,AT,AZ,DIP", "hole_id,FROM,TO"),
        ("Hole ID,Easting,Northing,Elevation,Max Depth", "hole_id,depth,azimuth,dip", "Hole-ID,From,To"),
    ],
)
def test_common_headers_are_recognised(
    tmp_path: Path, collar_header: str, survey_header: str, assay_header: str
) -> None:
    collar = collar_header + "\n" + COLLAR_TEXT.strip().split("\n", 1)[1]
    survey = survey_header + "\n" + SURVEY_TEXT.strip().split("\n", 1)[1]
    assay = assay_header + ",La_ppm,Fe_pct\n" + ASSAY_TEXT.strip().split("\n", 1)[1]
    db, report = _load(tmp_path, collar=collar, survey=survey, assay=assay)
    assert report.usable
    assert list(db.collar[["hole_id", "x", "y", "z", "depth"]].iloc[0]) == ["A", 1000.0, 2000.0, 300.0, 100.0]
    assert db.survey["depth"].tolist() == [0.0, 50.0, 0.0]
    assert db.survey["azimuth"].tolist() == [90.0, 90.0, 0.0]
    assert db.survey["dip"].tolist() == [-60.0, -60.0, -90.0]
    assert db.assay["from"].tolist() == [0.0, 2.0, 0.0] and db.assay["to"].tolist() == [2.0, 4.0, 1.0]
    assert db.elements == ["La", "Fe"]
    _assert_accounting(report)


def test_recognise_columns_prefers_overrides_and_skips_optional_roles() -> None:
    roles = {"hole_id": True, "x": True, "y": True, "z": False}
    found = recognise_columns(["DDH", "X", "Y"], roles, "collar.csv", overrides={"hole_id": "DDH"})
    assert found == {"hole_id": "DDH", "x": "X", "y": "Y"}


def test_sample_positions_of_an_inclined_hole(tmp_path: Path) -> None:
    db, _ = _load(tmp_path)
    samples = db.samples.set_index(["hole_id", "from"])
    a = samples.loc[("A", 2.0)]  # midpoint 3 m down a straight -60 hole towards east
    assert a["length"] == 2.0
    np.testing.assert_allclose(
        [a["x"], a["y"], a["z"]],
        [1000 + 3 * np.cos(np.radians(60)), 2000, 300 - 3 * np.sin(np.radians(60))],
        atol=1e-9,
    )


def test_feet_are_converted_to_metres(tmp_path: Path) -> None:
    db, report = _load(tmp_path, length_unit="ft")
    assert db.collar["depth"].tolist() == pytest.approx([100 * FEET_TO_METRES, 50 * FEET_TO_METRES])
    assert db.survey["depth"].tolist() == pytest.approx([0.0, 50 * FEET_TO_METRES, 0.0])
    assert db.assay["from"].tolist() == pytest.approx([0.0, 2 * FEET_TO_METRES, 0.0])
    assert db.assay["to"].tolist() == pytest.approx(
        [2 * FEET_TO_METRES, 4 * FEET_TO_METRES, 1 * FEET_TO_METRES]
    )
    # Coordinates stay in the CRS unit; the vertical hole B drops by the converted depth.
    b = db.samples.loc[db.samples["hole_id"] == "B"].iloc[0]
    assert b["x"] == pytest.approx(1100.0) and b["z"] == pytest.approx(310 - 0.5 * FEET_TO_METRES)
    _assert_accounting(report)


def test_unknown_length_unit_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="length unit"):
        _load(tmp_path, length_unit="furlong")


def test_positive_down_dips_become_negative_down(tmp_path: Path) -> None:
    survey = "HOLEID,DEPTH,AZIMUTH,DIP\nA,0,90,60\nA,50,90,60\nB,0,0,90\n"
    db, _ = _load(tmp_path, survey=survey, dip_convention="positive_down")
    assert db.survey["dip"].tolist() == [-60.0, -60.0, -90.0]
    end = db.positions_along("A", np.array([100.0]))[0]
    np.testing.assert_allclose(end, [1000 + 50.0, 2000.0, 300 - 100 * np.sin(np.radians(60))], atol=1e-9)


def test_below_detection_and_missing_codes(tmp_path: Path) -> None:
    assay = """
HOLEID,FROM,TO,La_ppm,Fe_pct
A,0,2,<0.05,30
A,2,4,NA,-9999
A,4,6,< 0.2,N/A
A,6,8,abc,
"""
    db, report = _load(tmp_path, assay=assay)
    la, fe = db.assay["La"].to_numpy(), db.assay["Fe"].to_numpy()
    assert la[0] == pytest.approx(0.025) and la[2] == pytest.approx(0.1)
    assert db.assay["La_bdl"].tolist() == [True, False, True, False]
    assert not db.assay["Fe_bdl"].any()
    assert np.isnan(la[1]) and np.isnan(la[3])
    assert fe[0] == 30.0 and np.isnan(fe[1:]).all()
    findings = report.to_frame()
    # Only the text that is no number nor a missing code is flagged as unparseable, with its row.
    bad = findings[findings["message"].str.contains("not a number")]
    assert bad[["row", "column", "value"]].values.tolist() == [[4, "La_ppm", "abc"]]
    assert findings["message"].str.contains("below-detection").any()
    assert report.rows_dropped["assay.csv"] == 0


def test_a_zero_assay_is_below_detection_at_half_the_lowest_positive_value(tmp_path: Path) -> None:
    # No assay measures zero; as a grade its log would sink every log-grade variogram and model.
    assay = "HOLEID,FROM,TO,Ni_ppm,La_ppm\nA,0,2,0,<2\nA,2,4,8,0\nA,4,6,120,5\nA,6,8,0,\n"
    db, report = _load(tmp_path, assay=assay)
    assert db.assay["Ni"].tolist() == [4.0, 8.0, 120.0, 4.0]
    assert db.assay["Ni_bdl"].tolist() == [True, False, False, True]
    assert db.assay["La"].tolist()[:3] == [1.0, 2.5, 5.0]  # <2 is DL/2; 0 is half the lowest positive
    findings = report.to_frame()
    zeros = findings[findings["message"].str.contains("exactly 0")]
    assert zeros[["column", "count"]].values.tolist() == [["Ni_ppm", 2], ["La_ppm", 1]]
    assert "4 ppm" in zeros["message"].iloc[0] and "<DL" in zeros["fix"].iloc[0]
    assert report.rows_dropped["assay.csv"] == 0


def test_below_detection_fraction_is_configurable(tmp_path: Path) -> None:
    assay = "HOLEID,FROM,TO,La_ppm\nA,0,2,<0.4\n"
    db, _ = _load(tmp_path, assay=assay, below_detection_fraction=0.25)
    assert db.assay["La"].iloc[0] == pytest.approx(0.1)


def test_inverted_interval_is_dropped_and_reported(tmp_path: Path) -> None:
    assay = """
HOLEID,FROM,TO,La_ppm
A,0,2,10
A,4,4,12
A,8,6,13
A,8,10,14
"""
    db, report = _load(tmp_path, assay=assay)
    assert db.assay["from"].tolist() == [0.0, 8.0]
    assert report.rows_read["assay.csv"] == 4
    assert report.rows_kept["assay.csv"] == 2
    assert report.rows_dropped["assay.csv"] == 2
    rows = [f.row for f in report.findings if "not less than" in f.message]
    assert rows == [2, 3]
    _assert_accounting(report)


def test_intervals_of_holes_without_collar_are_dropped_and_counted(tmp_path: Path) -> None:
    assay = ASSAY_TEXT.strip() + "\nC,0,1,7,20\nC,1,2,8,21\n"
    lithology = "HOLEID,FROM,TO,LITH\nA,0,10,BIF\nZ,0,10,SHALE\n"
    db, report = _load(tmp_path, assay=assay, lithology=lithology)
    assert set(db.assay["hole_id"]) == {"A", "B"}
    assert report.rows_read["assay.csv"] == 5
    assert report.rows_dropped["assay.csv"] == 2
    assert report.rows_dropped["lithology.csv"] == 1
    orphan = [f for f in report.findings if f.file == "assay.csv" and "no collar" in f.message]
    summary = [f for f in orphan if f.row is None]
    assert len(summary) == 1 and summary[0].count == 1 and "C" in summary[0].message
    assert [(f.row, f.column, f.value) for f in orphan if f.row] == [(4, "HOLEID", "C"), (5, "HOLEID", "C")]
    assert db.samples.loc[db.samples["hole_id"] == "A", "lith"].tolist() == ["BIF", "BIF"]
    _assert_accounting(report)


def test_duplicate_collar_ids_are_reported_and_the_first_kept(tmp_path: Path) -> None:
    collar = COLLAR_TEXT.strip() + "\nA,5000,6000,200,80\n"
    db, report = _load(tmp_path, collar=collar)
    assert db.collar["hole_id"].tolist() == ["A", "B"]
    assert db.collar.loc[0, "x"] == 1000.0
    duplicate = [f for f in report.findings if "duplicate" in f.message]
    assert len(duplicate) == 1
    assert (duplicate[0].file, duplicate[0].row, duplicate[0].value) == ("collar.csv", 3, "A")
    assert report.rows_dropped["collar.csv"] == 1
    _assert_accounting(report)


def test_collar_with_bad_coordinate_is_dropped_with_a_warning(tmp_path: Path) -> None:
    # One bad row is dropped and reported; the project stays usable (see the severity policy).
    collar = COLLAR_TEXT.strip() + "\nC,abc,2200,300,40\n"
    db, report = _load(tmp_path, collar=collar)
    assert db.collar["hole_id"].tolist() == ["A", "B"]
    dropped = [f for f in report.findings if "row dropped" in f.message]
    assert [(f.file, f.row, f.column, f.value, f.severity) for f in dropped] == [
        ("collar.csv", 3, "EAST", "abc", "warning")
    ]
    assert report.usable
    _assert_accounting(report)


def test_losing_most_rows_of_a_file_is_an_error(tmp_path: Path) -> None:
    assay = "HOLEID,FROM,TO,La_ppm\nA,0,2,10\nA,4,3,12\nA,8,6,13\n"
    _, report = _load(tmp_path, assay=assay)
    errors = [f for f in report.findings if f.severity == "error"]
    assert len(errors) == 1 and errors[0].file == "assay.csv" and "2 of 3 rows dropped" in errors[0].message
    assert not report.usable


@pytest.mark.parametrize(
    "table, text, file, role",
    [
        ("collar", "HOLEID,EAST,RL,DEPTH\nA,1,2,3\n", "collar.csv", "y"),
        ("assay", "HOLEID,FROM,La_ppm\nA,0,1\n", "assay.csv", "to"),
        ("survey", "HOLEID,DEPTH,DIP\nA,0,-90\n", "survey.csv", "azimuth"),
    ],
)
def test_missing_required_column_names_file_and_column(
    tmp_path: Path, table: str, text: str, file: str, role: str
) -> None:
    with pytest.raises(InputError) as caught:
        _load(tmp_path, **{table: text})
    error = caught.value
    assert (error.file, error.column) == (file, role)
    message = str(error)
    assert file in message and f"'{role}'" in message
    assert "project.toml" in message  # says how to fix it


def test_ambiguous_columns_are_an_input_error(tmp_path: Path) -> None:
    collar = "HOLEID,X,EAST,NORTH,RL,DEPTH\nA,1,1,2,3,100\n"
    with pytest.raises(InputError) as caught:
        _load(tmp_path, collar=collar)
    message = str(caught.value)
    assert "collar.csv" in message and "'X'" in message and "'EAST'" in message
    with pytest.raises(InputError, match="assay.csv"):
        _load(tmp_path, assay="HOLEID,FROM,depth_from,TO\nA,0,0,1\n")


def test_hole_without_survey_is_treated_as_vertical(tmp_path: Path) -> None:
    survey = "HOLEID,DEPTH,AZIMUTH,DIP\nA,0,90,-60\n"
    db, report = _load(tmp_path, survey=survey)
    finding = [f for f in report.findings if "no survey" in f.message]
    assert len(finding) == 1 and "vertical" in finding[0].message and finding[0].count == 1
    b = db.positions_along("B", np.array([0.0, 20.0, 50.0]))
    np.testing.assert_allclose(b, [[1100, 2100, 310], [1100, 2100, 290], [1100, 2100, 260]], atol=1e-9)


def test_hole_without_survey_follows_collar_orientation(tmp_path: Path) -> None:
    collar = "HOLEID,EAST,NORTH,RL,DEPTH,AZ,DIP\nA,1000,2000,300,100,90,-60\nB,1100,2100,310,50,0,-45\n"
    db, report = _load(tmp_path, collar=collar, survey=None)
    assert any("collar azimuth/dip used" in f.message for f in report.findings)
    end = db.positions_along("B", np.array([10.0]))[0]
    np.testing.assert_allclose(end, [1100, 2100 + 10 * np.sqrt(0.5), 310 - 10 * np.sqrt(0.5)], atol=1e-9)


# --------------------------------------------------------------------------- project.toml


def test_project_toml_column_overrides_and_feet(tmp_path: Path) -> None:
    _write(tmp_path, "collar.csv", "DDH_NO,GDA_E,GDA_N,AHD,EOH_FT\nA,1000,2000,300,100\n")
    _write(tmp_path, "survey.csv", "DDH_NO,DEPTH,AZIMUTH,DIP\nA,0,0,-90\n")
    _write(tmp_path, "assay.csv", "DDH_NO,FROM,TO,La_ppm\nA,0,10,5\nA,10,20,6\n")
    _write(
        tmp_path,
        "project.toml",
        """
name = "Feet project"
length_unit = "ft"

[columns]
hole_id = "DDH_NO"
x = "GDA_E"
y = "GDA_N"
z = "AHD"
depth = "EOH_FT"
""",
    )
    project = load_project(tmp_path)
    db = project.drillholes
    assert project.settings.name == "Feet project" and project.settings.length_unit == "ft"
    assert db.collar[["hole_id", "x", "y", "z"]].iloc[0].tolist() == ["A", 1000.0, 2000.0, 300.0]
    assert db.collar["depth"].iloc[0] == pytest.approx(30.48)
    assert db.assay["to"].tolist() == pytest.approx([3.048, 6.096])
    assert db.samples["z"].tolist() == pytest.approx([300 - 1.524, 300 - 4.572])
    assert project.report.usable
    assert not any(f.file == "project.toml" for f in project.report.findings)
    _assert_accounting(project.report)


def test_without_project_toml_defaults_are_used_and_reported(tmp_path: Path) -> None:
    _project(tmp_path, survey=None)
    settings, findings = read_settings(tmp_path)
    assert settings.length_unit == "m" and settings.dip_convention == "auto"
    assert settings.name == tmp_path.name
    assert len(settings.target_elements) == 15
    project = load_project(tmp_path)
    info = [f for f in project.report.findings if f.file == "project.toml"]
    assert len(info) == 1 and info[0].severity == "info" and "defaults" in info[0].message
    assert any(f.file == "survey.csv" and "no survey table" in f.message for f in project.report.findings)
    assert project.geophysics == {} and project.hyperspectral is None


def test_project_toml_unknown_key_and_missing_table(tmp_path: Path) -> None:
    _project(tmp_path)
    _write(tmp_path, "project.toml", 'colour = "red"\n[files]\nassay = "lab.csv"\n')
    with pytest.raises(InputError) as caught:
        load_project(tmp_path)
    assert caught.value.file == "lab.csv" and "lab.csv" in str(caught.value)
    (tmp_path / "assay.csv").rename(tmp_path / "lab.csv")
    project = load_project(tmp_path)
    assert any(
        "unknown key 'colour'" in f.message and f.severity == "warning" for f in project.report.findings
    )
    assert project.report.rows_read["lab.csv"] == 3
