"""Catalogue of malformed inputs: each gives its specific finding or error, and every row is accounted for.

Two kinds. A *recoverable* problem loads: the finding names file, row (1-based, header
excluded), column and severity, and per file ``rows_read == rows_kept + rows_dropped``
with the dropped rows exactly those reported. A *fatal* problem raises one
``InputError`` naming the file (and row and column where there is one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from afg_core.errors import InputError
from afg_core.io.project import load_project

COLLAR = "HOLEID,EAST,NORTH,RL,DEPTH\nA,1000,2000,300,100\nB,1100,2100,310,50\n"
SURVEY = "HOLEID,DEPTH,AZIMUTH,DIP\nA,0,90,-60\nA,50,90,-60\nB,0,0,-90\n"
ASSAY = "HOLEID,FROM,TO,La_ppm,Fe_pct\nA,0,2,10,30\nA,2,4,12,31\nB,0,1,5,20\n"
BASE = {"collar.csv": COLLAR, "survey.csv": SURVEY, "assay.csv": ASSAY}


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, text in files.items():
        if isinstance(text, bytes):
            (folder / name).write_bytes(text)
        else:
            (folder / name).write_text(text)
    return folder


# (case, file, extra row appended to the base table, expected (row, column, message part, severity), rows dropped)
RECOVERABLE = [
    (
        "collar x not a number",
        "collar.csv",
        "C,abc,2200,300,40",
        (3, "EAST", "x coordinate missing or not a number", "warning"),
        1,
    ),
    (
        "collar y empty",
        "collar.csv",
        "C,1200,,300,40",
        (3, "NORTH", "y coordinate missing or not a number", "warning"),
        1,
    ),
    (
        "collar z not a number",
        "collar.csv",
        "C,1200,2200,n/a,40",
        (3, "RL", "collar z coordinate is not a number", "warning"),
        1,
    ),
    (
        "collar z empty",
        "collar.csv",
        "C,1200,2200,,40",
        (3, "RL", "collar z coordinate is empty", "warning"),
        1,
    ),
    ("collar without hole id", "collar.csv", ",1200,2200,300,40", (3, "HOLEID", "no hole id", "warning"), 1),
    (
        "duplicate hole id",
        "collar.csv",
        "A,5000,6000,200,80",
        (3, "HOLEID", "duplicate hole id", "warning"),
        1,
    ),
    (
        "negative hole depth",
        "collar.csv",
        "C,1200,2200,300,-5",
        (3, "DEPTH", "hole depth missing or not positive", "warning"),
        0,
    ),
    (
        "collar without assays",
        "collar.csv",
        "C,1200,2200,300,40",
        (3, "HOLEID", "collar without assays", "info"),
        0,
    ),
    ("survey dip below -90", "survey.csv", "B,20,0,-95", (4, "DIP", "dip outside -90..90", "warning"), 1),
    (
        "survey azimuth negative",
        "survey.csv",
        "B,20,-10,-89",
        (4, "AZIMUTH", "azimuth outside 0-360", "warning"),
        0,
    ),
    (
        "survey azimuth above 360",
        "survey.csv",
        "B,20,365,-89",
        (4, "AZIMUTH", "azimuth outside 0-360", "warning"),
        0,
    ),
    (
        "survey depth not a number",
        "survey.csv",
        "B,twenty,0,-89",
        (4, "DEPTH", "survey depth is not a number", "warning"),
        1,
    ),
    ("survey dip empty", "survey.csv", "B,20,0,", (4, "DIP", "dip is empty", "warning"), 1),
    (
        "survey negative depth",
        "survey.csv",
        "B,-3,0,-89",
        (4, "DEPTH", "negative survey depth", "warning"),
        1,
    ),
    ("survey station repeated", "survey.csv", "A,50,91,-61", (4, "DEPTH", "same depth", "warning"), 1),
    (
        "survey of a hole without collar",
        "survey.csv",
        "Z,0,0,-90",
        (4, "HOLEID", "hole has no collar", "warning"),
        1,
    ),
    (
        "survey beyond hole depth",
        "survey.csv",
        "B,80,0,-89",
        (4, "DEPTH", "survey station beyond the collar depth", "warning"),
        0,
    ),
    ("survey pointing upwards", "survey.csv", "B,30,0,10", (4, "DIP", "points upwards", "warning"), 0),
    (
        "from greater than to",
        "assay.csv",
        "B,5,3,6,21",
        (4, "FROM", "'from' is not less than 'to'", "warning"),
        1,
    ),
    (
        "zero-length interval",
        "assay.csv",
        "B,4,4,6,21",
        (4, "FROM", "'from' is not less than 'to'", "warning"),
        1,
    ),
    (
        "from not a number",
        "assay.csv",
        "B,x,3,6,21",
        (4, "FROM", "'from' depth is not a number", "warning"),
        1,
    ),
    ("to empty", "assay.csv", "B,3,,6,21", (4, "TO", "'to' depth is empty", "warning"), 1),
    ("negative from", "assay.csv", "B,-1,0.5,6,21", (4, "FROM", "negative 'from' depth", "warning"), 1),
    (
        "overlapping interval",
        "assay.csv",
        "A,1,3,11,30",
        (4, "FROM", "overlaps an earlier interval", "warning"),
        1,
    ),
    (
        "gap between intervals",
        "assay.csv",
        "A,10,12,11,30",
        (4, "FROM", "gap above this interval", "info"),
        0,
    ),
    (
        "assay of a hole without collar",
        "assay.csv",
        "Q,0,1,5,20",
        (4, "HOLEID", "hole has no collar", "warning"),
        1,
    ),
    ("assay without hole id", "assay.csv", ",0,1,5,20", (4, "HOLEID", "no hole id", "warning"), 1),
    (
        "interval beyond hole depth",
        "assay.csv",
        "B,49,52,5,20",
        (4, "TO", "interval beyond the collar depth", "warning"),
        0,
    ),
    ("grade not a number", "assay.csv", "B,1,2,abc,20", (4, "La_ppm", "value is not a number", "warning"), 0),
    ("more than 100 %", "assay.csv", "B,1,2,5,150", (4, "Fe_pct", "more than 100 % Fe", "warning"), 0),
]


@pytest.mark.parametrize("case, file, extra, expected, dropped", RECOVERABLE, ids=[c[0] for c in RECOVERABLE])
def test_recoverable_problem_is_reported_where_it_is(
    tmp_path: Path, case: str, file: str, extra: str, expected: tuple, dropped: int
) -> None:
    project = load_project(_write(tmp_path, {**BASE, file: BASE[file] + extra + "\n"}))
    report = project.report
    row, column, message, severity = expected
    hits = [f for f in report.findings if f.file == file and message in f.message]
    assert [(f.row, f.column, f.severity) for f in hits] == [(row, column, severity)], (
        report.to_frame().to_string()
    )
    assert hits[0].value is not None and (hits[0].fix is not None or severity == "info")
    for name, text in BASE.items():
        read = len(text.strip().splitlines()) - 1 + (name == file)
        assert report.rows_read[name] == read == report.rows_kept[name] + report.rows_dropped[name], name
    assert report.rows_dropped[file] == dropped
    assert report.usable  # one bad row never makes the project unusable


@pytest.mark.parametrize(
    "case, extra_row, substituted, flagged",
    [
        ("'<DL' string", "B,1,2,<0.5,20", 0.25, True),
        ("negative number means below DL", "B,1,2,-0.5,20", 0.25, True),
        ("over-range value", "B,1,2,>1000,20", 1000.0, False),
        ("missing code -9999", "B,1,2,-9999,20", None, False),
        ("missing code IS", "B,1,2,IS,20", None, False),
    ],
)
def test_lab_conventions_are_substituted_and_flagged(
    tmp_path: Path, case: str, extra_row: str, substituted: float | None, flagged: bool
) -> None:
    project = load_project(_write(tmp_path, {**BASE, "assay.csv": ASSAY + extra_row + "\n"}))
    assay = project.drillholes.assay
    value = assay.loc[(assay["hole_id"] == "B") & (assay["from"] == 1), "La"].iloc[0]
    if substituted is None:
        assert value != value  # NaN: missing, not a value
    else:
        assert value == pytest.approx(substituted)
    assert assay["La_bdl"].tolist() == [False, False, False, flagged]
    assert project.report.values_altered["assay.csv"] == int(substituted is not None)
    assert project.report.rows_dropped["assay.csv"] == 0


FATAL = [
    (
        "collar without y column",
        {"collar.csv": "HOLEID,EAST,RL,DEPTH\nA,1,2,3\n"},
        "collar.csv",
        None,
        "y",
        "no column recognised as 'y'",
    ),
    (
        "two easting columns",
        {"collar.csv": "HOLEID,X,EAST,NORTH,RL\nA,1,1,2,3\n"},
        "collar.csv",
        None,
        "X",
        "could all be the 'x' column",
    ),
    (
        "assay without to column",
        {"assay.csv": "HOLEID,FROM,La_ppm\nA,0,1\n"},
        "assay.csv",
        None,
        "to",
        "no column recognised as 'to'",
    ),
    (
        "survey without azimuth column",
        {"survey.csv": "HOLEID,DEPTH,DIP\nA,0,-90\n"},
        "survey.csv",
        None,
        "azimuth",
        "no column recognised as 'azimuth'",
    ),
    ("empty collar file", {"collar.csv": ""}, "collar.csv", None, None, "the file is empty"),
    ("header only", {"assay.csv": "HOLEID,FROM,TO,La_ppm\n"}, "assay.csv", None, None, "no data rows"),
    ("ragged rows", {"assay.csv": ASSAY + "B,1,2,3,4,5,6\n"}, "assay.csv", None, None, "not a readable CSV"),
    (
        "not UTF-8",
        {"collar.csv": "HOLEID,EAST,NORTH,RL\nA\xe9,1,2,3\n".encode("latin-1")},
        "collar.csv",
        None,
        None,
        "not UTF-8",
    ),
    (
        "repeated header",
        {"assay.csv": "HOLEID,FROM,TO,La_ppm,La_ppm\nA,0,1,2,3\n"},
        "assay.csv",
        None,
        "La_ppm",
        "repeats this column name",
    ),
    (
        "no usable collar row",
        {"collar.csv": "HOLEID,EAST,NORTH,RL\nA,abc,2,3\n"},
        "collar.csv",
        1,
        "EAST",
        "no usable rows",
    ),
    (
        "every assay of unknown holes",
        {"assay.csv": "HOLEID,FROM,TO,La_ppm\nQ,0,1,2\n"},
        "assay.csv",
        1,
        "HOLEID",
        "no usable rows",
    ),
    ("bad TOML", {"project.toml": "name = 'unclosed\n"}, "project.toml", None, None, "not valid TOML"),
    (
        "unknown length unit",
        {"project.toml": 'length_unit = "furlong"\n'},
        "project.toml",
        None,
        "length_unit",
        "unknown length unit",
    ),
    (
        "unknown dip convention",
        {"project.toml": 'dip_convention = "sideways"\n'},
        "project.toml",
        None,
        "dip_convention",
        "unknown dip convention",
    ),
    (
        "columns not a table",
        {"project.toml": 'columns = "x"\n'},
        "project.toml",
        None,
        "columns",
        "must be a table",
    ),
    (
        "substitute fraction above 1",
        {"project.toml": "[below_detection]\nsubstitute_fraction = 2\n"},
        "project.toml",
        None,
        "substitute_fraction",
        "outside 0-1",
    ),
    (
        "unknown CRS",
        {"project.toml": 'crs = "EPSG:999999"\n', "collar.csv": "HOLEID,LON,LAT\nA,119,-32\n"},
        "project.toml",
        None,
        "crs",
        "unknown coordinate reference system",
    ),
    ("missing assay table", {"assay.csv": None}, "assay.csv", None, None, "the assay table is missing"),
    (
        "sample table without coordinates",
        {"collar.csv": None, "survey.csv": None, "assay.csv": None, "samples.csv": "SITE,La_ppm\nS1,3\n"},
        "samples.csv",
        None,
        "x",
        "no coordinate columns",
    ),
]


@pytest.mark.parametrize("case, files, file, row, column, message", FATAL, ids=[c[0] for c in FATAL])
def test_fatal_problem_raises_one_input_error(
    tmp_path: Path, case: str, files: dict, file: str, row: int | None, column: str | None, message: str
) -> None:
    merged = {**BASE, **files}
    _write(tmp_path, {name: text for name, text in merged.items() if text is not None})
    with pytest.raises(InputError) as caught:
        load_project(tmp_path)
    error = caught.value
    assert (error.file, error.row, error.column) == (file, row, column)
    assert message in error.message
    text = str(error)
    assert text.startswith(f"file '{file}'") and (row is None or f"row {row}" in text)
