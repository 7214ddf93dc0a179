"""Cached access to the current project and the expensive afg_core results.

Every expensive call goes through ``st.cache_resource`` / ``st.cache_data`` keyed by
plain values (folder path, file stamp, settings), so a rerun that changes nothing
recomputes nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import weakref
from pathlib import Path

import streamlit as st

import afg_core.demo
from afg_core.demo import generate_demo_project
from afg_core.errors import InputError
from afg_core.geostat.blockstore import BlockStore
from afg_core.geostat.cluster import dask_client
from afg_core.io import Project, load_project
from afg_core.products import BlockEstimate, estimate_grade_blocks
from afg_core.products.targets import TREO, estimate_from_store, log_field, target_grades
from afg_core.spectral import SpectralPCA, spectral_pca
from ui._compat import leave_legacy_pages_mode
from ui.training import adopt_finished_run

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


#: Choices of the compute engine field (any ``tcp://host:port`` scheduler address works too).
ENGINES = ("threads", "local")


@st.cache_resource(show_spinner="Connecting to the Dask cluster...", max_entries=4)
def _client(engine: str) -> tuple:
    # One client per address for the whole server: sessions share the cluster, as they share the CPU.
    # Wrapped in a tuple: a Client is awaitable, which st.cache_resource refuses to cache.
    return (dask_client(engine),)


def compute_client():
    """The Dask client of the engine chosen in the sidebar (None: this process), or None with an error shown."""
    engine = st.session_state.get("engine", "threads")
    try:
        return _client(engine)[0]
    except InputError as error:
        st.sidebar.error(f"{error} Working in this process instead.")
        return None


@st.cache_resource(show_spinner="Kriging the grade onto the block model...", max_entries=8)
def _blocks(
    folder: str, stamp: float, grade: str, cell_size: tuple[float, float, float], engine: str
) -> BlockEstimate:
    client = compute_client() if engine != "threads" else None
    samples = _load(folder, stamp).drillholes.samples
    return estimate_grade_blocks(samples, grade, cell_size=cell_size, client=client)


@st.cache_resource(show_spinner="Reading an averaged copy of the block store...", max_entries=4)
def _store_estimate(path: str, stamp: float, grade: str) -> BlockEstimate:
    return estimate_from_store(BlockStore.open(path), grade)


def store_estimate(grade: str = TREO) -> BlockEstimate | None:
    """Log ``grade`` of the block store named in the sidebar (averaged to fit), or None.

    None with the reason shown in the sidebar when the store cannot be read; None quietly
    when it holds other grades only (the pages offer the store for the grades it has).
    """
    path = st.session_state.get("block_store", "").strip()
    if not path:
        return None
    try:
        store = BlockStore.open(path)
    except ValueError as error:
        st.sidebar.error(str(error))
        return None
    if log_field(grade) not in store.names:
        return None
    return _store_estimate(path, Path(path, "zarr.json").stat().st_mtime, grade)


def project_grades() -> list[str]:
    """Grades the current project can be targeted for, headline first (TREO, or its target elements)."""
    return target_grades(current_project())


def grade_blocks(
    grade: str = TREO, cell_size: tuple[float, float, float] = (50.0, 50.0, 10.0)
) -> BlockEstimate:
    """Kriged log ``grade`` on a block model of the current project (on the chosen compute engine)."""
    folder = current_project_dir()
    return _blocks(folder, _stamp(folder), grade, cell_size, st.session_state.get("engine", "threads"))


def model_volume():
    """The predicted volume of this session's latest Train run on the current project, or None."""
    adopt_finished_run()  # a run that finished while the session was on another page
    latest = st.session_state.get("latest_experiment")
    if not latest or latest.get("project") != project_key():
        return None
    return latest["result"].volume


# ------------------------------------------------------------------------- per-session folders

#: Prefix of a server process's folder of session folders (in the system temp folder, + its pid).
SESSIONS_PREFIX = "afg_sessions_"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


@st.cache_resource
def _sessions_root() -> str:
    """This server process's folder of session folders; those of processes that are gone are removed.

    Session folders go when their session does (:class:`SessionFolder`) or at exit; a process
    killed before that leaves its folder behind, and the next server start removes it.
    """
    temp = Path(tempfile.gettempdir())
    for folder in temp.glob(f"{SESSIONS_PREFIX}*"):
        pid = folder.name.removeprefix(SESSIONS_PREFIX)
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    root = temp / f"{SESSIONS_PREFIX}{os.getpid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    return str(root)


class SessionFolder:
    """One browser session's working folder (uploads, opened session files).

    Kept in the session's state: when Streamlit drops a session, its state is garbage
    collected and the folder removed with it (``weakref.finalize``, which also runs at exit).
    """

    def __init__(self, root: str | Path) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="session_", dir=root))
        self._remove = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)


def session_folder() -> Path:
    """This session's own working folder (created on first use); no other session sees it."""
    if "session_folder" not in st.session_state:
        st.session_state["session_folder"] = SessionFolder(_sessions_root())
    return st.session_state["session_folder"].path


def upload_folder(kind: str) -> Path:
    """A fresh folder for one upload, in this session's folder; earlier uploads not in use are removed.

    ``kind`` names it (``upload``, ``session``). The folder holding the open project is kept,
    so a failed upload never takes away the data the session is working on.
    """
    workdir = session_folder()
    open_project = Path(st.session_state.get("project_dir", workdir)).resolve()
    for old in workdir.iterdir():
        if not open_project.is_relative_to(old.resolve()):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{kind}_", dir=workdir))
