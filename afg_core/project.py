"""Project folders: ``project.toml`` settings and loading everything a project holds.

A project folder holds ``collar.csv``, ``survey.csv``, ``assay.csv`` (and optionally
``lithology.csv``), optional ``geophysics/*.npz`` grids, an optional
``hyperspectral/*.npz`` cube, and an optional ``project.toml``. See README, "Data format".
"""

from __future__ import annotations

import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .drillholes import DrillholeDatabase, load_drillholes
from .errors import InputError
from .geochem import REE_TARGETS
from .geophysics import Grid, read_grid_npz
from .spectral import HyperspectralCube, read_cube_npz
from .validation import Finding, ValidationReport

_DEFAULT_FILES = {"collar": "collar.csv", "survey": "survey.csv", "assay": "assay.csv", "lithology": "lithology.csv"}


@dataclass
class ProjectSettings:
    """Settings from ``project.toml`` (every key optional).

    Attributes
    ----------
    name, description, crs : str
    length_unit : {"m", "ft"}
        Unit of depths in the drill-hole files.
    dip_convention : {"negative_down", "positive_down"}
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
    """

    name: str = "Unnamed project"
    description: str = ""
    crs: str = ""
    length_unit: str = "m"
    dip_convention: str = "negative_down"
    target_elements: list[str] = field(default_factory=lambda: list(REE_TARGETS))
    cutoffs: dict[str, float] = field(default_factory=lambda: {"TREO": 1000.0})
    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=lambda: dict(_DEFAULT_FILES))
    below_detection_fraction: float = 0.5


def read_settings(folder: Path) -> tuple[ProjectSettings, list[Finding]]:
    """Read ``project.toml`` from a folder; defaults (reported) when there is none."""
    path = folder / "project.toml"
    if not path.exists():
        return ProjectSettings(name=folder.name), [
            Finding("project.toml", "no project.toml: defaults assumed (metres, dips negative down, "
                    "La..Lu + Y targets, units from column suffixes)", "info")]
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({exc})", file="project.toml", fix="check quotes and brackets") from exc
    settings = ProjectSettings(name=folder.name)
    known = {"name", "description", "crs", "length_unit", "dip_convention", "target_elements", "cutoffs",
             "columns", "units", "files", "below_detection"}
    findings = [Finding("project.toml", f"unknown key '{k}' ignored", "warning", column=k) for k in raw if k not in known]
    for key in ("name", "description", "crs", "length_unit", "dip_convention"):
        if key in raw:
            setattr(settings, key, str(raw[key]))
    if "target_elements" in raw:
        settings.target_elements = [str(e) for e in raw["target_elements"]]
    for key in ("cutoffs", "columns", "units"):
        if key in raw:
            if not isinstance(raw[key], dict):
                raise InputError(f"'{key}' must be a table", file="project.toml", column=key, fix=f"write it as [{key}]")
            setattr(settings, key, dict(raw[key]))
    settings.files = {**_DEFAULT_FILES, **raw.get("files", {})}
    settings.below_detection_fraction = float(raw.get("below_detection", {}).get("substitute_fraction", 0.5))
    return settings, findings


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
    """Load and validate a project folder.

    Raises
    ------
    InputError
        When a required table is missing or unreadable (the message names the file).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("project folder not found", file=str(folder), fix="give the folder holding collar.csv")
    settings, findings = read_settings(folder)
    paths = {table: folder / name for table, name in settings.files.items()}
    for table in ("collar", "assay"):
        if not paths[table].exists():
            raise InputError(f"the {table} table is missing", file=settings.files[table],
                             fix=f"add {settings.files[table]} or name the file in project.toml [files]")
    database, report = load_drillholes(
        paths["collar"], paths["assay"],
        paths["survey"] if paths["survey"].exists() else None,
        paths["lithology"] if paths["lithology"].exists() else None,
        column_map=settings.columns, length_unit=settings.length_unit, dip_convention=settings.dip_convention,
        units=settings.units, below_detection_fraction=settings.below_detection_fraction,
    )
    report.findings[:0] = findings
    if not paths["survey"].exists():
        report.add(Finding(settings.files["survey"], "no survey table", "warning",
                           fix="add survey.csv; holes follow collar azimuth/dip or are vertical"))
    geophysics = {p.stem: read_grid_npz(p) for p in sorted((folder / "geophysics").glob("*.npz"))}
    cubes = sorted((folder / "hyperspectral").glob("*.npz"))
    hyperspectral = read_cube_npz(cubes[0]) if cubes else None
    return Project(folder, settings, database, geophysics, hyperspectral, report)


def extract_project_zip(zip_path: str | Path, out_dir: str | Path) -> Path:
    """Unpack an uploaded project zip safely and return the folder holding the tables.

    Only data files are extracted (csv, toml, npz, txt, md); paths escaping ``out_dir``
    are refused. The project folder may sit at the zip root or one level down.
    """
    out_dir = Path(out_dir)
    allowed = {".csv", ".toml", ".npz", ".txt", ".md"}
    with zipfile.ZipFile(zip_path) as archive:
        for member in archive.infolist():
            target = (out_dir / member.filename).resolve()
            if not str(target).startswith(str(out_dir.resolve())):
                raise InputError("zip entry points outside the archive", file=member.filename,
                                 fix="zip the project folder itself")
            if member.is_dir() or Path(member.filename).suffix.lower() not in allowed:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
    candidates = sorted(p.parent for p in out_dir.rglob("collar.csv")) or sorted(p.parent for p in out_dir.rglob("project.toml"))
    if not candidates:
        raise InputError("no collar.csv or project.toml in the zip", file=Path(zip_path).name,
                         fix="zip the project folder (collar.csv, survey.csv, assay.csv, ...)")
    return candidates[0]
