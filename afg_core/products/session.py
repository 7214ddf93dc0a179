"""Session files: one zip with the project's data, the page settings and the latest run, to reopen next week.

Layout of the zip::

    session.json      format version, AFG version, creation time, project name, settings
    project/...       the project folder's data files (tables, project.toml, grids, cubes)
    run/...           the latest run's outputs (metrics.json, tables, predicted volume, model folders)

Opening goes through :func:`afg_core.io.archives.extract_archive`: paths that leave the
folder, symbolic links, zip bombs and too many entries are refused, and so is any entry
with the suffix of executable or pickled code (the whole session, with a message naming
the entry). Models come back as ``.keras`` files (loaded with Keras safe mode) and Parquet
tables, never pickles.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from afg_core.errors import InputError
from afg_core.io.archives import ALLOWED_SUFFIXES, extract_archive

SESSION_FORMAT = 1
#: What a session may hold besides project data.
SESSION_SUFFIXES = ALLOWED_SUFFIXES | frozenset({".json", ".keras", ".parquet", ".vti"})
#: Entries that make a session refused outright: code, and pickles that run code when loaded.
REFUSED_SUFFIXES = frozenset(
    {
        ".pkl",
        ".pickle",
        ".joblib",
        ".dill",
        ".py",
        ".pyc",
        ".pyz",
        ".exe",
        ".dll",
        ".so",
        ".dylib",
        ".sh",
        ".bat",
        ".cmd",
        ".ps1",
        ".js",
        ".jar",
    }
)


@dataclass(frozen=True)
class Session:
    """An opened session: where its project and run were unpacked, and its settings."""

    project_dir: Path
    run_dir: Path | None
    settings: dict
    project_name: str
    created: str
    afg_version: str


def save_session(
    path: str | Path,
    project_dir: str | Path,
    settings: dict,
    run_dir: str | Path | None = None,
    project_name: str = "",
) -> Path:
    """Write a session zip: the project's data files, ``settings`` (JSON values) and the run folder.

    Only files with the suffixes a session may hold are packed (no caches, no pickles).
    """
    path, project_dir = Path(path), Path(project_dir)
    header = {
        "format": SESSION_FORMAT,
        "afg_version": version("afg"),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "project_name": project_name,
        "settings": settings,
        "has_run": run_dir is not None,
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("session.json", json.dumps(header, indent=2))
        for prefix, folder in (("project", project_dir), ("run", None if run_dir is None else Path(run_dir))):
            if folder is None:
                continue
            for file in sorted(folder.rglob("*")):
                if file.is_file() and file.suffix.lower() in SESSION_SUFFIXES:
                    archive.write(file, f"{prefix}/{file.relative_to(folder).as_posix()}")
    return path


def open_session(path: str | Path, out_dir: str | Path) -> Session:
    """Unpack a session zip into ``out_dir`` (checked like any upload) and read its header.

    Raises
    ------
    InputError
        For any refusal of :func:`extract_archive` (including executable or pickled
        entries), a missing or unreadable ``session.json``, a newer session format, or a
        session without a project.
    """
    out_dir = Path(out_dir)
    name = Path(path).name
    extract_archive(path, out_dir, allowed_suffixes=SESSION_SUFFIXES, refused_suffixes=REFUSED_SUFFIXES)
    try:
        header = json.loads((out_dir / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"no readable session.json ({exc})",
            file=name,
            fix="open a session saved by AFG (Data page: Save session)",
        ) from None
    if not isinstance(header, dict) or header.get("format", 0) > SESSION_FORMAT:
        raise InputError(
            f"session format {header.get('format') if isinstance(header, dict) else '?'} is newer than this AFG "
            f"({SESSION_FORMAT})",
            file=name,
            fix="update AFG to open it",
        )
    project_dir = out_dir / "project"
    if not project_dir.is_dir():
        raise InputError("the session holds no project folder", file=name, fix="save the session again")
    run_dir = out_dir / "run"
    return Session(
        project_dir=project_dir,
        run_dir=run_dir if run_dir.is_dir() else None,
        settings=dict(header.get("settings", {})),
        project_name=str(header.get("project_name", "")),
        created=str(header.get("created", "")),
        afg_version=str(header.get("afg_version", "")),
    )
