"""Sessions under AppTest: training in the background (page switches, Stop, other sessions) and own upload folders.

A small project (the 8-hole ``cli_demo``) and an FNN that runs until stopped keep the run short.
The full Start -> results path on the demo is tests/test_pages.py::test_train_page.
"""

from __future__ import annotations

import gc
import io
import os
import signal
import threading
import time
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from afg_core.learn import TrainingJob

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
MODELS = REPO / "models"
TIMEOUT = 300  # s per script run (the first loads the project)

pytestmark = [
    pytest.mark.usefixtures("navigation_mode"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*"),
]


def session_on(project: Path, page: str) -> AppTest:
    """A fresh session of the app working on ``project``, run on ``page``."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["project_dir"] = str(project)
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def poll(at: AppTest, condition, timeout: float = 180):
    """Rerun the page (as the fragment's timer does in a browser) until ``condition(at)`` holds."""
    deadline = time.monotonic() + timeout
    while not condition(at):
        assert time.monotonic() < deadline, "condition not met while polling the page"
        time.sleep(0.5)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
    return at


def running(at: AppTest):
    """The session's run, which must still be going (a failure shows its error)."""
    snapshot = at.session_state["training_run"].snapshot()
    assert not snapshot.finished, snapshot.message
    return snapshot


def test_training_runs_in_the_background_across_pages_and_stops(cli_demo, monkeypatch) -> None:
    project, _ = cli_demo
    before = set(MODELS.glob("*")) if MODELS.exists() else set()
    # The run holds after its second epoch until released, so it surely outlasts the page visits below:
    # the training process is suspended (SIGSTOP) and the job's watcher waits with it.
    release = threading.Event()
    record_epoch = TrainingJob._epoch

    def held_epoch(job: TrainingJob, *args) -> None:
        record_epoch(job, *args)
        if job.snapshot().epochs == 2:
            os.kill(job.pid, signal.SIGSTOP)
            try:
                release.wait(timeout=120)
            finally:
                os.kill(job.pid, signal.SIGCONT)

    monkeypatch.setattr(TrainingJob, "_epoch", held_epoch)
    at = session_on(project, "pages/train.py")
    next(m for m in at.sidebar.multiselect if m.label == "Models").set_value(["fnn"])
    next(n for n in at.sidebar.number_input if n.label == "Maximum epochs").set_value(500)
    next(t for t in at.sidebar.toggle if t.label == "Ablation by feature group").set_value(False)
    next(t for t in at.sidebar.toggle if t.label == "Predict the block model").set_value(False)
    started = time.monotonic()
    button(at, "Start training").click().run()
    assert time.monotonic() - started < 30, "Start waited for the run instead of returning"

    # Running: a progress bar, Stop, Start disabled, the settings locked; live loss curves once epochs come.
    assert at.get("progress") and button(at, "Start training").disabled
    assert at.session_state["training_run"].job.config.epochs == 500
    # Every script run of any session used to clear Keras' state under the training thread (ui/_compat.py).
    from keras.src.backend.common import global_state

    keras_state = global_state.GLOBAL_STATE_TRACKER
    poll(at, lambda at: running(at).epochs >= 2)
    assert global_state.GLOBAL_STATE_TRACKER is keras_state
    assert at.get("plotly_chart"), "no live loss curves"
    assert all(n.disabled for n in at.sidebar.number_input)  # the form is locked while training

    # Another session is not blocked and sees nothing of this one's run.
    other = session_on(project, "pages/train.py")
    assert not button(other, "Start training").disabled and not other.get("progress")

    # Leave the page and come back: the same run, still going, with the settings it was started with.
    job = at.session_state["training_run"].job
    at.switch_page("pages/variogram.py").run()
    assert not at.exception and at.title[0].value == "Variogram"
    at.switch_page("pages/train.py").run()
    assert at.session_state["training_run"].job is job and running(at).epochs == 2
    assert at.get("progress")
    assert next(n for n in at.sidebar.number_input if n.label == "Maximum epochs").value == 500

    button(at, "Stop").click().run()
    assert job.snapshot().stop_requested and any("Stopping" in c.value for c in at.caption)
    release.set()
    poll(at, lambda at: at.warning)
    snapshot = job.snapshot()
    # Stop ends the run at the end of the epoch under way when the process resumed.
    assert snapshot.state == "stopped" and 2 <= snapshot.epochs <= 4
    assert f"stopped by user after {snapshot.epochs} epochs" in at.warning[0].value
    assert not button(at, "Start training").disabled
    assert (set(MODELS.glob("*")) if MODELS.exists() else set()) == before  # nothing written


def _project_zip(project: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("collar.csv", "survey.csv", "assay.csv", "project.toml"):
            archive.write(project / name, f"upload/{name}")
    return buffer.getvalue()


def _open_zip(at: AppTest, data: bytes) -> AppTest:
    next(r for r in at.radio if r.label == "Source").set_value("Project folder as a zip").run()
    next(u for u in at.file_uploader if "Zip of the project" in u.label).set_value(
        ("project.zip", data, "application/zip")
    ).run()
    button(at, "Open the zip").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def test_sessions_upload_into_their_own_folders_removed_with_the_session(cli_demo) -> None:
    project, _ = cli_demo
    data = _project_zip(project)
    first, second = (_open_zip(session_on(project, "pages/data.py"), data) for _ in range(2))
    folders = [Path(at.session_state["session_folder"].path) for at in (first, second)]
    opened = [Path(at.session_state["project_dir"]) for at in (first, second)]
    assert folders[0] != folders[1] and folders[0].parent == folders[1].parent
    for folder, project_dir in zip(folders, opened):
        assert project_dir.is_relative_to(folder) and (project_dir / "collar.csv").exists()
    assert not opened[0].is_relative_to(folders[1]) and not opened[1].is_relative_to(folders[0])
    assert first.metric[0].label == "Drill holes" and first.metric[0].value == second.metric[0].value

    # A new upload replaces the earlier one (the open project's folder stays until it is replaced).
    earlier = opened[0]
    _open_zip(first, data)
    assert Path(first.session_state["project_dir"]) != earlier
    _open_zip(first, data)
    assert not earlier.exists() and len(list(folders[0].iterdir())) == 2

    # A session that goes away takes its folder with it; the other session's stays.
    del first
    gc.collect()
    assert not folders[0].exists() and folders[1].exists()
