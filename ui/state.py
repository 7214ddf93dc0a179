"""Cached access to the current project and the expensive afg_core results.

Every expensive call goes through ``st.cache_resource`` / ``st.cache_data`` keyed by
plain values (folder path, file stamp, settings), so a rerun that changes nothing
recomputes nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import streamlit as st

import afg_core.demo
from afg_core.demo import generate_demo_project
from afg_core.errors import InputError
from afg_core.io import Project, load_project
from afg_core.products import BlockEstimate, estimate_treo_blocks
from afg_core.spectral import SpectralPCA, spectral_pca
from ui._compat import leave_legacy_pages_mode

DEMO_SEED = 42


def _demo_folder() -> Path:
    # A new generator version gets a new folder, so a stale demo is never reused.
    digest = hashlib.sha1()
    for source in sorted(Path(afg_core.demo.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    tag = digest.hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"afg_demo_seed{DEMO_SEED}_{tag}"


@st.cache_resource(show_spinner="Generating the demo project (first start only)...")
def demo_project_dir() -> str:
    """Folder of the built-in demo project, generated once per machine."""
    folder = _demo_folder()
    if not (folder / "project.toml").exists():
        # Written aside and renamed, so another process never sees a half-written demo.
        partial = Path(tempfile.mkdtemp(prefix=folder.name + ".partial-", dir=folder.parent))
        generate_demo_project(partial, seed=DEMO_SEED)
        try:
            partial.rename(folder)
        except OSError:  # another process finished first: use its copy
            shutil.rmtree(partial, ignore_errors=True)
    return str(folder)


def _stamp(folder: str) -> float:
    """Latest modification time of the project's files (invalidates caches on change)."""
    return max((p.stat().st_mtime for p in Path(folder).rglob("*") if p.is_file()), default=0.0)


@st.cache_resource(show_spinner="Loading and validating the project...", max_entries=4)
def _load(folder: str, stamp: float) -> Project:
    return load_project(folder)


def _leave_legacy_pages_mode() -> None:
    """Route every run through app.py's ``st.navigation``, also for a deep link on a fresh server.

    Streamlit treats a ``pages/`` folder next to the entrypoint as a legacy multipage app until some
    session calls ``st.navigation``: until then a first request for e.g. /train runs pages/train.py on
    its own (no page config, no sidebar frame, automatic page list). Switch modes and rerun through app.py.
    """
    if leave_legacy_pages_mode():
        st.rerun()


def current_project_dir() -> str:
    """The project the session works on (the demo unless the user opened another)."""
    _leave_legacy_pages_mode()
    if "project_dir" not in st.session_state:
        st.session_state["project_dir"] = demo_project_dir()
    return st.session_state["project_dir"]


def project_key() -> str:
    """Cache key of the current project's content: folder and latest file time.

    Pages key their cached computations by this, so editing a file of the project (e.g.
    the column mapping written to project.toml) invalidates them.
    """
    folder = current_project_dir()
    return f"{folder}@{_stamp(folder)}"


def current_project() -> Project:
    """The loaded project; on bad input shows the error and falls back to the demo."""
    folder = current_project_dir()
    try:
        return _load(folder, _stamp(folder))
    except InputError as exc:
        st.error(f"Could not open the project: {exc}")
        st.session_state["project_dir"] = demo_project_dir()
        st.stop()


@st.cache_resource(show_spinner="Computing the spectral PCA...", max_entries=8)
def _pca(folder: str, stamp: float, n_components: int | str, continuum_removal: bool) -> SpectralPCA:
    project = _load(folder, stamp)
    return spectral_pca(project.hyperspectral, n_components=n_components, continuum_removal=continuum_removal)


def project_pca(n_components: int | str = 3, continuum_removal: bool = False) -> SpectralPCA | None:
    """PCA of the project's hyperspectral cube (None when it has none)."""
    folder = current_project_dir()
    if current_project().hyperspectral is None:
        return None
    return _pca(folder, _stamp(folder), n_components, continuum_removal)


@st.cache_resource(show_spinner="Kriging TREO onto the block model...", max_entries=8)
def _blocks(folder: str, stamp: float, cell_size: tuple[float, float, float]) -> BlockEstimate:
    return estimate_treo_blocks(_load(folder, stamp).drillholes.samples, cell_size=cell_size)


def treo_blocks(cell_size: tuple[float, float, float] = (50.0, 50.0, 10.0)) -> BlockEstimate:
    """Kriged log TREO on a block model of the current project."""
    folder = current_project_dir()
    return _blocks(folder, _stamp(folder), cell_size)


def model_volume():
    """The predicted volume of this session's latest Train run on the current project, or None."""
    latest = st.session_state.get("latest_experiment")
    if not latest or latest.get("project") != project_key():
        return None
    return latest["result"].volume
