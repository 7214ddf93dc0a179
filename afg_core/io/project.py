"""Project folders: ``project.toml`` settings and loading everything a project holds.

A project folder holds either a drill-hole database (``collar.csv``, ``assay.csv``,
optional ``survey.csv`` and ``lithology.csv``) or a flat ``samples.csv`` of located
samples, optional geophysics grids (``geophysics/``: ``.npz``, GeoTIFF ``.tif``, XYZ
``.csv``), an optional hyperspectral cube (``hyperspectral/``: ``.npz``, ENVI ``.hdr``,
GeoTIFF ``.tif``), and an optional ``project.toml``. See README, "Data format".
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from afg_core.errors import InputError
from afg_core.geochem import REE_TARGETS
from afg_core.io.archives import extract_project_zip as extract_project_zip  # re-exported: its old home
from afg_core.io.assay_columns import LabSettings
from afg_core.io.columns import header_length_unit
from afg_core.io.cube_readers import read_cube
from afg_core.io.cubes import HyperspectralCube
from afg_core.io.drillholes import DrillholeDatabase, load_drillholes
from afg_core.io.grid_readers import read_grid
from afg_core.io.grids import Grid
from afg_core.io.sample_tables import load_sample_table
from afg_core.io.validation import Finding, ValidationReport

_DEFAULT_FILES = {
    "collar": "collar.csv",
    "survey": "survey.csv",
    "assay": "assay.csv",
    "lithology": "lithology.csv",
    "samples": "samples.csv",
}
#: Extensions of grid and cube files read from ``geophysics/`` and ``hyperspectral/``.
GRID_SUFFIXES = (".npz", ".tif", ".tiff", ".csv")
CUBE_SUFFIXES = (".npz", ".hdr", ".tif", ".tiff")
#: Cut-off grades (ppm) used when project.toml's ``[cutoffs]`` does not name the grade.
DEFAULT_CUTOFFS_PPM = {"TREO": 1000.0}


@dataclass
class ProjectSettings:
    """Settings from ``project.toml`` (every key optional).

    Attributes
    ----------
    name, description, crs : str
    length_unit : {"m", "ft"}
        Unit of depths in the drill-hole files.
    dip_convention : {"auto", "negative_down", "positive_down"}
        ``auto`` (default): positive down only when every dip in the files is >= 0.
    target_elements : list of str
        Grades to model (default: La..Lu without Pm, plus Y).
    cutoffs : dict
        Cut-off grades, e.g. ``{"TREO": 1000.0}`` (ppm).
    columns : dict
        Role -> header overrides (``hole_id = "DDH"``).
    units : dict
        Column or element -> unit overrides (``La = "ppb"``).
    files : dict
        Table -> file name overrides.
    below_detection_fraction : float
        Fraction of the detection limit substituted for ``<DL`` values.
    negative_is_below_detection : bool
        Read negative assay values as ``-DL`` (``[below_detection] negative_values``).
    unsurveyed_azimuth, unsurveyed_dip : float or None
        ``[desurvey]`` direction of holes without survey or collar orientation
        (degrees); None: vertical.
    composite_length : float
        ``[desurvey] composite_length``: composite length (m) for compositing.
    """

    name: str = "Unnamed project"
    description: str = ""
    crs: str = ""
    length_unit: str = "m"
    dip_convention: str = "auto"
    target_elements: list[str] = field(default_factory=lambda: list(REE_TARGETS))
    cutoffs: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CUTOFFS_PPM))
    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=lambda: dict(_DEFAULT_FILES))
    below_detection_fraction: float = 0.5
    negative_is_below_detection: bool = True
    unsurveyed_azimuth: float | None = None
    unsurveyed_dip: float | None = None
    composite_length: float = 2.0

    def cutoff(self, grade: str = "TREO") -> float:
        """Cut-off grade (ppm) of ``grade`` (``TREO`` or an element): ``[cutoffs]``, else the default.

        Raises
        ------
        InputError
            When neither project.toml nor :data:`DEFAULT_CUTOFFS_PPM` gives one.
        """
        value = self.cutoffs.get(grade, DEFAULT_CUTOFFS_PPM.get(grade))
        if value is None:
            raise InputError(
                f"no cut-off grade for {grade}",
                file="project.toml",
                column=grade,
                fix=f"add {grade} = <ppm> under [cutoffs] in project.toml",
            )
        return float(value)

    @property
    def lab(self) -> LabSettings:
        """Units and below-detection rules for the assay readers."""
        return LabSettings(self.units, self.below_detection_fraction, self.negative_is_below_detection)


def read_settings(folder: Path) -> tuple[ProjectSettings, list[Finding]]:
    """Read ``project.toml`` from a folder; defaults (reported) when there is none."""
    path = folder / "project.toml"
    if not path.exists():
        return ProjectSettings(name=folder.name), [
            Finding(
                "project.toml",
                "no project.toml: defaults assumed (depths in metres, dip sign from the data, "
                "unsurveyed holes vertical, below detection = DL/2 with negative numbers as -DL, "
                "La..Lu + Y targets, units from column headers)",
                "info",
            )
        ]
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"not valid TOML ({exc})", file="project.toml", fix="check quotes and brackets"
        ) from exc
    settings = ProjectSettings(name=folder.name)
    known = {
        "name",
        "description",
        "crs",
        "length_unit",
        "dip_convention",
        "target_elements",
        "cutoffs",
        "columns",
        "units",
        "files",
        "below_detection",
        "desurvey",
    }
    findings = [
        Finding("project.toml", f"unknown key '{k}' ignored", "warning", column=k)
        for k in raw
        if k not in known
    ]
    for key in ("name", "description", "crs", "length_unit", "dip_convention"):
        if key in raw:
            setattr(settings, key, str(raw[key]))
    if "target_elements" in raw:
        settings.target_elements = [str(e) for e in raw["target_elements"]]
    for key in ("cutoffs", "columns", "units"):
        if key in raw:
            setattr(settings, key, dict(_table(raw, key)))
    settings.files = {**_DEFAULT_FILES, **_table(raw, "files")}
    below = _table(raw, "below_detection")
    desurvey = _table(raw, "desurvey")
    try:
        settings.below_detection_fraction = float(below.get("substitute_fraction", 0.5))
        settings.negative_is_below_detection = bool(below.get("negative_values", True))
        for key in ("unsurveyed_azimuth", "unsurveyed_dip"):
            if key in desurvey:
                setattr(settings, key, float(desurvey[key]))
        settings.composite_length = float(desurvey.get("composite_length", 2.0))
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"a setting is not a number ({exc})",
            file="project.toml",
            fix="write numbers without quotes, e.g. substitute_fraction = 0.5",
        ) from exc
    if not 0 <= settings.below_detection_fraction <= 1:
        raise InputError(
            f"substitute_fraction {settings.below_detection_fraction} outside 0-1",
            file="project.toml",
            column="substitute_fraction",
            fix="use a fraction of the detection limit, e.g. 0.5",
        )
    if not settings.composite_length > 0:
        raise InputError(
            "composite_length must be positive",
            file="project.toml",
            column="composite_length",
            fix="give the composite length in metres, e.g. 2.0",
        )
    return settings, findings


def _table(raw: dict, key: str) -> dict:
    """A project.toml table (``[key]``), empty when absent."""
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise InputError(
            f"'{key}' must be a table", file="project.toml", column=key, fix=f"write it as [{key}]"
        )
    return value


@dataclass
class Project:
    """Everything loaded from a project folder.

    Attributes
    ----------
    folder : Path
    settings : ProjectSettings
    drillholes : DrillholeDatabase
    geophysics : dict of str -> Grid
        Grids by file stem, e.g. ``magnetic_susceptibility``.
    hyperspectral : HyperspectralCube or None
    report : ValidationReport
    """

    folder: Path
    settings: ProjectSettings
    drillholes: DrillholeDatabase
    geophysics: dict[str, Grid]
    hyperspectral: HyperspectralCube | None
    report: ValidationReport


def load_project(folder: str | Path) -> Project:
    r"""Load and validate a project folder.

    A folder with a collar table is a drill-hole project; one with only a sample
    table (``samples.csv``) is a flat-sample project. Grids and cubes are read from
    ``geophysics/`` and ``hyperspectral/`` (every supported file; the first cube).

    Raises
    ------
    InputError
        When a required table is missing or unreadable (the message names the file).

    Examples
    --------
    Two vertical holes (no survey table) with three La assays:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from afg_core.io import load_project
    >>> collar = "hole_id,x,y,z,depth\nDH1,500,1000,300,10\nDH2,550,1000,300,10\n"
    >>> assay = "hole_id,from,to,La_ppm\nDH1,0,5,120\nDH1,5,10,80\nDH2,0,5,95\n"
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "collar.csv").write_text(collar)
    ...     _ = (Path(tmp) / "assay.csv").write_text(assay)
    ...     project = load_project(tmp)
    >>> project.drillholes.elements
    ['La']
    >>> project.drillholes.samples[["hole_id", "La", "z"]].to_numpy().tolist()  # z: interval midpoints (m)
    [['DH1', 120.0, 297.5], ['DH1', 80.0, 292.5], ['DH2', 95.0, 297.5]]
    >>> project.report.usable, project.report.rows_kept["assay.csv"]
    (True, 3)
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            "project folder not found", file=str(folder), fix="give the folder holding collar.csv"
        )
    settings, findings = read_settings(folder)
    paths = {table: folder / name for table, name in settings.files.items()}
    if not paths["collar"].exists() and paths["samples"].exists():
        database, report, crs = load_sample_table(
            paths["samples"],
            column_map=settings.columns,
            lab=settings.lab,
            crs=settings.crs,
            length_factor=0.3048 if settings.length_unit == "ft" else 1.0,
        )
        settings.crs = crs
    else:
        database, report = _load_drillholes(paths, settings)
        if paths["samples"].exists():
            report.add(
                Finding(
                    settings.files["samples"],
                    "sample table not loaded: the project has drill holes",
                    "warning",
                    fix="keep the sample table in a project of its own",
                )
            )
    report.findings[:0] = findings
    report.findings.extend(_header_length_unit_findings(report.column_roles, settings.length_unit))
    geophysics = {}
    for path in _data_files(folder / "geophysics", GRID_SUFFIXES):
        grid, grid_findings = read_grid(path, settings.crs)
        geophysics[path.stem] = grid
        report.findings.extend(grid_findings)
    cubes = _data_files(folder / "hyperspectral", CUBE_SUFFIXES)
    hyperspectral = read_cube(cubes[0]) if cubes else None
    return Project(folder, settings, database, geophysics, hyperspectral, report)


def _load_drillholes(
    paths: dict[str, Path], settings: ProjectSettings
) -> tuple[DrillholeDatabase, ValidationReport]:
    for table in ("collar", "assay"):
        if not paths[table].exists():
            raise InputError(
                f"the {table} table is missing",
                file=settings.files[table],
                fix=f"add {settings.files[table]} (or a flat {settings.files['samples']}), or name the "
                "file in project.toml [files]",
            )
    database, report = load_drillholes(
        paths["collar"],
        paths["assay"],
        paths["survey"] if paths["survey"].exists() else None,
        paths["lithology"] if paths["lithology"].exists() else None,
        column_map=settings.columns,
        length_unit=settings.length_unit,
        dip_convention=settings.dip_convention,
        units=settings.units,
        below_detection_fraction=settings.below_detection_fraction,
        negative_is_below_detection=settings.negative_is_below_detection,
        unsurveyed_azimuth=settings.unsurveyed_azimuth,
        unsurveyed_dip=settings.unsurveyed_dip,
        crs=settings.crs,
    )
    if not paths["survey"].exists():
        report.add(
            Finding(
                settings.files["survey"],
                "no survey table",
                "warning",
                fix="add survey.csv; holes follow collar azimuth/dip or are vertical",
            )
        )
    return database, report


def _header_length_unit_findings(column_roles: dict[str, dict[str, str]], length_unit: str) -> list[Finding]:
    """Warn where a depth header names a length unit other than the project's ``length_unit``.

    Depths, survey depths and from/to are read in ``length_unit`` whatever their header
    says; a ``Depth (ft)`` read as metres is 3.3 times too deep, so the user must hear of it.
    Coordinates (x, y, z) are in the CRS unit and not checked here.
    """
    findings = []
    for file, roles in column_roles.items():
        for role in ("depth", "survey_depth", "from", "to"):
            header = roles.get(role)
            unit = header_length_unit(header) if header else None
            if unit is not None and unit != length_unit:
                findings.append(
                    Finding(
                        file,
                        f"the header says {unit} but depths are read as {length_unit} "
                        f"(project.toml length_unit)",
                        "warning",
                        column=header,
                        fix=f'if the depths are in {unit}, set length_unit = "{unit}" in project.toml; '
                        "otherwise correct the header",
                    )
                )
    return findings


def _data_files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Readable grid or cube files of a folder, sorted (ENVI ``.img`` go with their ``.hdr``)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def add_column_mapping(folder: str | Path, role: str, header: str) -> None:
    """Write ``role = "header"`` into the ``[columns]`` table of the folder's project.toml.

    Creates the file or the table when missing and replaces an earlier mapping of the
    role, so the Data page's mapping form can resolve an ambiguous or unrecognised column.
    """
    path = Path(folder) / "project.toml"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entry = f"{role} = {json.dumps(header)}"
    start = next((i for i, line in enumerate(lines) if line.strip() == "[columns]"), None)
    if start is None:
        lines += ["", "[columns]", entry]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("[")), len(lines))
        kept = [line for line in lines[start + 1 : end] if line.split("=")[0].strip() != role]
        lines = lines[: start + 1] + [entry] + kept + lines[end:]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
