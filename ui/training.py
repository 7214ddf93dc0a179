"""This browser session's background training run: start it, stop it, and take its result in when done.

The run is an :class:`afg_core.learn.TrainingJob` kept in the session's state, so it survives
page switches and is never seen by another session. A completed run's folder is written by the
job itself (aside, then renamed into ``models/``), so ``models/`` never holds half a run; the
session adopts the result (``experiments``, ``latest_experiment``) on its next rerun of any page
that asks (the Train page, and :func:`ui.state.model_volume` for the 3D Viewer and Drill Targets).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from afg_core.io import Project
from afg_core.learn import ExperimentResult, JobSnapshot, RunConfig, TrainingJob
from afg_core.products.reports import write_run_outputs
from afg_core.spectral import SpectralPCA
from ui._compat import keep_keras_state_between_runs

keep_keras_state_between_runs()  # before any session can train in the background

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
#: Session-state key of the session's run (a :class:`SessionRun`).
RUN = "training_run"


@dataclass(eq=False)
class SessionRun:
    """A session's training run and what its result is filed under."""

    job: TrainingJob
    key: tuple[str, str]
    project: str
    _stop_with_session: weakref.finalize = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # A session that goes away (its state garbage collected) stops its run: nobody will read it.
        self._stop_with_session = weakref.finalize(self, self.job.stop)

    def snapshot(self) -> JobSnapshot:
        return self.job.snapshot()


def save_run(result: ExperimentResult, project_name: str, models_dir: Path = MODELS_DIR) -> Path:
    """Write a completed run's folder under ``models_dir`` aside, then rename it into place."""
    models_dir.mkdir(parents=True, exist_ok=True)
    name = dt.datetime.now(dt.UTC).strftime("run_%Y%m%dT%H%M%SZ")
    partial = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=models_dir))
    try:
        write_run_outputs(result, partial, project_name=project_name)
        folder, n = models_dir / name, 1
        while folder.exists():  # another session's run finished in the same second
            n += 1
            folder = models_dir / f"{name}_{n}"
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return folder


def current_run() -> SessionRun | None:
    """The session's run (running or ended without a result), after adopting a completed one."""
    adopt_finished_run()
    return st.session_state.get(RUN)


def start_run(
    project: Project,
    config: RunConfig,
    pca: SpectralPCA | None,
    key: tuple[str, str],
    project_key: str,
    client=None,
) -> SessionRun:
    """Start training in the background for this session (refused while its previous run goes on).

    ``client``: the Dask client of the sidebar's compute engine, where the predicted volume's
    ensemble is fitted and predicted (None: this process).
    """
    previous = st.session_state.get(RUN)
    if previous is not None and not previous.snapshot().finished:
        raise RuntimeError("this session is already training; stop that run first")
    name = project.settings.name
    job = TrainingJob(project, config, pca, finish=lambda result: save_run(result, name), client=client)
    run = SessionRun(job.start(), key, project_key)
    st.session_state[RUN] = run
    return run


def adopt_finished_run() -> None:
    """File a completed run under its settings and as the session's latest (read by the 3D and target pages)."""
    run = st.session_state.get(RUN)
    if run is None:
        return
    snapshot = run.snapshot()
    if snapshot.state != "done":
        return
    entry = {"result": snapshot.result, "folder": snapshot.output, "project": run.project}
    st.session_state.setdefault("experiments", {})[run.key] = entry
    st.session_state["latest_experiment"] = entry
    del st.session_state[RUN]
