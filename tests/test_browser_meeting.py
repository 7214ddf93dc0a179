"""The drill-target meeting in a real browser, on the demo, and four browser sessions at once.

One session walks the meeting: the Data page, a variogram refit, a small training run in the
background (Start, progress, results), the model's predicted volume in 3D, the targets and
proposed holes from it with their CSV and OMF downloads read back, then the session saved and
opened again. Then four sessions share the server while one of them trains: the others' reruns
must answer within 2 s, and an upload in one session must stay out of the others.

Reuses tests/test_browser.py's server, browser and page helpers (Debian chromium through
Playwright, never ``playwright install``). Full-page screenshots of every step go to
tests/artifacts/meeting_*.png; with AFG_UPDATE_SCREENSHOTS=1 the targets and the model's 3D view
are also written to docs/ for the README. Figures (session open time, rerun times, first render
of the model volume) are printed: run with ``-s`` to see them.
"""

from __future__ import annotations

import functools
import io
import shutil
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_browser import (  # noqa: F401  (browser, server_url: fixtures)
    ARTIFACTS,
    RUN_TIMEOUT_MS,
    _non_blank,
    assert_offline,
    browser,
    new_session_page,
    open_page,
    save_screenshot,
    server_url,
    wait_for_plotly,
    wait_until_idle,
)

from afg_core.io import load_project
from ui.state import SESSIONS_PREFIX, _demo_folder
from ui.training import MODELS_DIR as MODELS

pytestmark = pytest.mark.browser

TRAIN_TIMEOUT_MS = 420_000  # the meeting's small run: about 1 min alone, several on a loaded 2-core runner
# Reruns of the other sessions must finish while one session trains. How fast (the < 2 s target of
# issue 10) is a speed figure, measured and printed by benchmarks/sessions.py, not asserted here: a timed
# test on a shared 2-core runner only measures the runner. This bound catches a session that is blocked.
RERUN_LIMIT_S = 30.0
SESSION_OPEN_LIMIT_S = 10.0
# The small run of the meeting: a network and the kriging baseline on inputs known everywhere, so the
# volume task gives a predicted volume (its ensemble is of the network) in about a minute.
MEETING_MODELS = ("FNN", "Kriging")
DROPPED_GROUPS = ("kriged", "gradients")
TARGET_COLUMNS = {
    "rank",
    "zone",
    "cells",
    "tonnes",
    "mean_treo_ppm",
    "contained_treo_t",
    "mean_probability",
    "mean_log_sd",
    "distance_to_data_m",
    "target_x",
    "target_y",
    "target_z",
    "score",
}
HOLE_COLUMNS = {
    "core_x",
    "core_y",
    "core_z",
    "collar_x",
    "collar_y",
    "collar_z",
    "azimuth",
    "dip",
    "length_m",
    "zone_cells_crossed",
    "nearest_hole_m",
    "covered",
}


# ----------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module", autouse=True)
def _remove_new_runs():
    """The server files completed runs in models/: remove those of this module's training afterwards."""
    before = set(MODELS.glob("*"))
    yield
    for folder in set(MODELS.glob("*")) - before:
        shutil.rmtree(folder, ignore_errors=True)


@functools.cache
def demo_project():
    """The demo project the app opens on (the same folder, loaded here to know what to expect)."""
    return load_project(_demo_folder())


def go_to(page, title: str) -> None:
    """Switch page through the sidebar (the same Streamlit session, unlike a new URL) and wait for it."""
    rerun(page, page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click)
    page.locator("h1", has_text=title).wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page, title)


def fail_on_error(page, where: str) -> None:
    for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        shown = page.locator(selector)
        if shown.count():
            save_screenshot(page, f"meeting_failed_{where.replace(' ', '_').lower()}")
            pytest.fail(f"{where}: {shown.first.inner_text()}")


def settle(page, where: str) -> None:
    """Wait until nothing runs or loads, then check nothing went wrong."""
    wait_until_idle(page)
    fail_on_error(page, where)


OBSERVE_SCRIPT_STATE = """() => {
    window.__afgRun = {start: performance.now(), ran: false, end: null};
    if (window.__afgObserver) return;
    const app = document.querySelector('[data-testid="stApp"]');
    window.__afgObserver = new MutationObserver(() => {
        const run = window.__afgRun;
        const state = app.getAttribute('data-test-script-state');
        if (state === 'running') run.ran = true;
        else if (state === 'notRunning' && run.ran && run.end === null) run.end = performance.now();
    });
    window.__afgObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


SCRIPT_DONE = """() => document.querySelector('[data-testid="stApp"]')
    .getAttribute('data-test-script-state') === 'notRunning'"""


def watch_rerun(page) -> None:
    """Start watching the script state (a MutationObserver sees every change, however short)."""
    page.evaluate(OBSERVE_SCRIPT_STATE)


def rerun_done(page, where: str | None = None) -> float:
    """Wait for the rerun since :func:`watch_rerun` to start and end; its seconds from the watch's start.

    With ``where``, also wait until the page is idle and check it shows no error. (Waiting for idle
    alone can end before a loaded server has even started the rerun.)"""
    page.wait_for_function("() => window.__afgRun.end !== null", timeout=RUN_TIMEOUT_MS)
    seconds = page.evaluate("() => (window.__afgRun.end - window.__afgRun.start) / 1000")
    if where:
        settle(page, where)
    return seconds


def rerun(page, action, where: str | None = None) -> float:
    """Do ``action`` (one click or key press that changes a widget) and wait for the rerun it causes:
    seconds from just before the action to the end of the rerun."""
    watch_rerun(page)
    action()
    return rerun_done(page, where)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    open_options(page, label, option).click()


def open_options(page, label: str, option: str):
    """Open the selectbox labelled ``label`` at ``option`` (typed: the list draws only some options);
    return that option, to click."""
    field = page.get_by_role("combobox", name=label)
    field.click()
    field.fill(option)
    return page.get_by_role("option", name=option, exact=True)


def radio(scope, label: str, option: str) -> None:
    scope.get_by_role("radiogroup", name=label).get_by_text(option, exact=True).click()


def unselect(page, scope, label: str, option: str) -> None:
    """Remove ``option`` from the multiselect labelled ``label`` and wait for the rerun."""
    remove = scope.locator('[data-testid="stMultiSelect"]', has_text=label).get_by_role(
        "button", name=f"Remove {option}"
    )
    watch_rerun(page)
    # A field without focus can take the first click for focusing itself: click until the tag goes.
    for _ in range(3):
        remove.click()
        page.keyboard.press("Escape")  # a field that lost a tag opens its list over the next widget
        try:
            remove.wait_for(state="detached", timeout=5_000)
            break
        except PlaywrightTimeoutError:
            continue
    assert not remove.count(), f"{option} is still chosen in {label}"
    rerun_done(page, label)


def set_number(scope, label: str, value: int) -> None:
    field = scope.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")


def set_switch(page, scope, label: str, on: bool) -> None:
    switch = scope.get_by_role("switch", name=label)
    if switch.is_checked() != on:
        # The input is visually hidden behind its drawn switch.
        rerun(page, lambda: switch.click(force=True), label)


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def project_in_sidebar(page) -> str:
    text = page.locator('[data-testid="stSidebarUserContent"] p', has_text="Project:").first.inner_text()
    return text.split("Project:", 1)[1].strip()


def canvas_shot(page, timeout_s: float = 120) -> tuple[bytes, float, int]:
    """Poll the 3D view's canvas until vtk.js has drawn the scene; the last shot and how coloured it is."""
    canvas = page.frame_locator("iframe#stpyvistaframe").locator("canvas").first
    canvas.wait_for(timeout=RUN_TIMEOUT_MS)
    deadline = time.monotonic() + timeout_s
    while True:
        shot = canvas.screenshot()
        coloured, colours = _non_blank(shot)
        if (coloured > 0.01 and colours > 50) or time.monotonic() > deadline:
            return shot, coloured, colours
        page.wait_for_timeout(500)


def download(page, button: str, name: str) -> Path:
    """Click a download button and keep what the browser receives in tests/artifacts/."""
    with page.expect_download(timeout=RUN_TIMEOUT_MS) as info:
        page.get_by_role("button", name=button).click()
    path = ARTIFACTS / name
    info.value.save_as(path)
    assert info.value.failure() is None, info.value.failure()
    wait_until_idle(page)  # a download button reruns the script after the click
    return path


def open_project_zip(page, upload: Path, project_name: str) -> None:
    """Open a project zip through the Data page's "Open a project" (the page is on Data) and wait for it."""
    page.get_by_text("Open a project").click()
    rerun(page, lambda: radio(page, "Source", "Project folder as a zip"), "Data")
    uploader = page.locator('[data-testid="stFileUploader"]', has_text="Zip of the project folder")
    rerun(page, lambda: uploader.locator('input[type="file"]').set_input_files(upload), "Data")
    page.get_by_role("button", name="Open the zip").click()
    page.get_by_role("heading", name=project_name).wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page, "Data")
    assert project_in_sidebar(page) == project_name


def read_back_targets(page, zones: int, target_columns: set[str], blocks: str, prefix: str) -> pd.DataFrame:
    """Download the targets CSV and the OMF of the Drill Targets page (to tests/artifacts/<prefix>_targets.*)
    and check them against each other: one row per zone, a proposed hole for each of the top 15, and the
    OMF's holes, ``blocks``, targets and proposed holes where the CSV puts them."""
    import omf

    table = pd.read_csv(download(page, "Download targets and proposed holes (CSV)", f"{prefix}_targets.csv"))
    assert set(table.columns) == target_columns | HOLE_COLUMNS
    assert len(table) == zones and (table["mean_probability"] >= 0.5).all()
    assert table["rank"].tolist() == list(range(1, zones + 1))
    proposed = table.dropna(subset=["collar_x"])
    assert len(proposed) == min(zones, 15)  # a hole for each of the top 15 zones
    assert proposed["dip"].between(0, 90).all() and (proposed["length_m"] > 0).all()

    omf_path = download(page, "Holes, blocks, targets and proposed holes (OMF", f"{prefix}_targets.omf")
    elements = {e.name: e for e in omf.OMFReader(str(omf_path)).get_project().elements}
    assert set(elements) == {"drill holes", blocks, "drill targets", "proposed holes"}
    np.testing.assert_allclose(
        np.asarray(elements["drill targets"].geometry.vertices),
        table[["target_x", "target_y", "target_z"]].to_numpy(),
        atol=1e-6,
    )
    collars = np.asarray(elements["proposed holes"].geometry.vertices)[0::2]
    np.testing.assert_allclose(collars, proposed[["collar_x", "collar_y", "collar_z"]].to_numpy(), atol=1e-6)
    return table


def save_and_reopen_session(page, project_name: str, prefix: str) -> tuple[float, set[str], str]:
    """On the Data page, save the session (tests/artifacts/<prefix>_session.zip) and open it again.

    Returns the seconds from the Open click to the page drawn on the opened project, the names in
    the zip, and the run summary it holds."""
    go_to(page, "Data")
    page.get_by_text("Session: save or open").click()
    rerun(page, page.get_by_role("button", name="Prepare a session file").click, "Data")
    session_path = download(page, "Save session", f"{prefix}_session.zip")
    with zipfile.ZipFile(session_path) as archive:
        names = set(archive.namelist())
        summary = archive.read("run/summary.txt").decode() if "run/summary.txt" in names else ""
    assert {"session.json", "project/project.toml", "run/summary.txt"} <= names, sorted(names)

    uploader = page.locator('[data-testid="stFileUploader"]', has_text="Open a session file")
    rerun(page, lambda: uploader.locator('input[type="file"]').set_input_files(session_path), "Data")
    started = time.monotonic()
    page.get_by_role("button", name="Open the session").click()
    opened = page.get_by_text(f"Session of {project_name} saved")
    opened.or_(page.locator('[data-testid="stException"]')).first.wait_for(timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(SCRIPT_DONE, timeout=RUN_TIMEOUT_MS)
    open_s = time.monotonic() - started
    settle(page, "Data")
    assert project_in_sidebar(page) == project_name
    return open_s, names, summary


# ----------------------------------------------------------------------------------------- the meeting


def test_the_meeting(browser, server_url: str) -> None:  # noqa: F811
    page = new_session_page(browser)
    try:
        _walk_the_meeting(page, server_url)
        assert_offline(page)
    finally:
        page.context.close()


def _walk_the_meeting(page, url: str) -> None:
    demo_name = demo_project().settings.name

    # Data: the demo opens.
    open_page(page, url, "", "Data")
    wait_for_plotly(page, 3)
    assert project_in_sidebar(page) == demo_name
    save_screenshot(page, "meeting_1_data")

    # Variogram: another model kind, fitted by Auto-fit; the hole cross-validation follows the new fit.
    go_to(page, "Variogram")
    wait_for_plotly(page, 3)
    rmse_before = metric(page, "CV RMSE")
    rerun(page, open_options(page, "Model", "exponential").click, "Variogram")
    rerun(page, page.get_by_role("button", name="Auto-fit").click, "Variogram")
    assert page.get_by_role("combobox", name="Model").input_value() == "exponential"
    assert metric(page, "CV RMSE") != rmse_before, "the CV score did not follow the refit"
    save_screenshot(page, "meeting_2_variogram")

    # Train: a small run in the volume, started in the background; progress, then the results.
    go_to(page, "Train")
    sidebar = page.locator('[data-testid="stSidebar"]')
    rerun(page, lambda: radio(sidebar, "Task", "volume"), "Train")
    for label in ("LSTM", "FNN", "Kriging", "Boosting"):
        if label not in MEETING_MODELS:
            unselect(page, sidebar, "Models", label)
    for group in DROPPED_GROUPS:
        unselect(page, sidebar, "Feature groups", group)
    for label, value in (("Maximum epochs", 3), ("Early-stopping patience (epochs)", 1)):
        rerun(page, lambda: set_number(sidebar, label, value), "Train")  # noqa: B023 (called at once)
    set_switch(page, sidebar, "Ablation by feature group", False)
    set_switch(page, sidebar, "Predict the block model", True)
    started = time.monotonic()
    page.get_by_role("button", name="Start training").click()
    page.locator('[data-testid="stProgress"]').wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Stop").is_visible()
    assert page.get_by_role("button", name="Start training").is_disabled()
    save_screenshot(page, "meeting_3_training")
    page.get_by_role("heading", name="What won").wait_for(timeout=TRAIN_TIMEOUT_MS)
    print(f"\nmeeting: training run (FNN + kriging, 3 epochs, volume) {time.monotonic() - started:.0f} s")
    settle(page, "Train")
    assert page.locator('[data-testid="stDataFrame"]').count() >= 2  # comparison, paired differences
    for label in MEETING_MODELS:
        assert page.locator('[data-testid="stMetric"]', has_text=f"{label}: TREO RMSE").count() == 1
    save_screenshot(page, "meeting_4_trained")

    # 3D Viewer: the model's predicted volume, drawn (time from the choice to a drawn canvas).
    go_to(page, "3D Viewer")
    canvas_shot(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    kriged_page = page.locator("iframe#stpyvistaframe").get_attribute("srcdoc")
    started = time.monotonic()
    watch_rerun(page)
    radio(sidebar, "Volume from", "model (fnn ensemble)")
    rerun_done(page)
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    # The frame sits in the component's shadow root: Playwright's locators reach it, document's queries do not.
    while page.locator("iframe#stpyvistaframe").get_attribute("srcdoc") == kriged_page:
        assert time.monotonic() < deadline, "the 3D view did not change to the model's volume"
        page.wait_for_timeout(250)
    shot, coloured, colours = canvas_shot(page)
    first_render = time.monotonic() - started
    print(f"meeting: first render of the model volume {first_render:.1f} s (choice to drawn canvas)")
    (ARTIFACTS / "meeting_3d_model_canvas.png").write_bytes(shot)
    assert coloured > 0.01 and colours > 50, f"model volume looks blank: {100 * coloured:.2f} %, {colours}"
    settle(page, "3D Viewer")
    assert page.get_by_text("the model ensemble's (fnn) expected TREO").is_visible()
    save_screenshot(page, "meeting_5_3d_model", "screenshot_3d_model.png")

    # Drill Targets: zones and proposed holes from the model's volume; CSV and OMF read back.
    go_to(page, "Drill Targets")
    main = page.locator('[data-testid="stMain"]')
    rerun(page, lambda: radio(main, "Volume", "model (fnn ensemble)"), "Drill Targets")
    assert main.get_by_text("TREO from the fnn ensemble").is_visible()
    wait_for_plotly(page, 2)
    heading = page.get_by_role("heading", name="target zones").inner_text()
    zones = int(heading.split()[0])
    assert zones > 0, heading
    assert page.get_by_text("Proposed holes", exact=True).is_visible()
    assert page.locator('[data-testid="stDataFrame"]').count() >= 2  # zones, proposed holes
    save_screenshot(page, "meeting_6_targets", "screenshot_targets.png")

    read_back_targets(page, zones, TARGET_COLUMNS, "fnn TREO blocks", "meeting")

    # Data: save the session, open it again through the upload widget.
    open_s, _, summary = save_and_reopen_session(page, demo_name, "meeting")
    print(f"meeting: session open {open_s:.1f} s (click to the page drawn on the opened project)")
    assert project_in_sidebar(page) == demo_name
    assert page.get_by_role("heading", name=demo_name).is_visible()
    shown = page.locator('[data-testid="stText"]').all_inner_texts()
    assert any(summary.strip().splitlines()[0] in text for text in shown), shown
    assert metric(page, "Drill holes") == str(len(demo_project().drillholes.collar))
    save_screenshot(page, "meeting_7_session_opened")
    assert open_s < SESSION_OPEN_LIMIT_S, f"opening the session took {open_s:.1f} s"


# ----------------------------------------------------------------------------------------- four sessions


def _small_project_zip(folder: Path) -> bytes:
    """A project zip of its own: the 8-hole CLI demo with a unique name (to find it on disk)."""
    name = f"Upload check {uuid.uuid4().hex[:8]}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if not file.is_file():
                continue
            data = file.read_bytes()
            if file.name == "project.toml":
                data = b"\n".join(
                    f'name = "{name}"'.encode() if line.startswith(b"name =") else line
                    for line in data.splitlines()
                )
            archive.writestr(file.relative_to(folder).as_posix(), data)
    return name, buffer.getvalue()


def test_four_sessions_one_training(browser, server_url: str, cli_demo) -> None:  # noqa: F811
    pages = [new_session_page(browser) for _ in range(4)]
    trainer, data, targets, variogram = pages
    try:
        open_page(trainer, server_url, "train", "Train")
        open_page(data, server_url, "", "Data")
        open_page(targets, server_url, "drill_targets", "Drill Targets")
        open_page(variogram, server_url, "variogram", "Variogram")
        demo_name = project_in_sidebar(data)

        baseline = _timed_changes(data, targets, variogram, 0)  # the same changes, nobody training

        # One session trains (a network with no early stop, so it outlasts the measurements).
        sidebar = trainer.locator('[data-testid="stSidebar"]')
        for label in ("LSTM", "Kriging", "Boosting"):
            unselect(trainer, sidebar, "Models", label)
        for label, value in (("Maximum epochs", 500), ("Early-stopping patience (epochs)", 50)):
            rerun(trainer, lambda: set_number(sidebar, label, value), "Train")  # noqa: B023 (called at once)
        set_switch(trainer, sidebar, "Ablation by feature group", False)
        set_switch(trainer, sidebar, "Predict the block model", False)
        trainer.get_by_role("button", name="Start training").click()
        trainer.get_by_text("network epochs").wait_for(timeout=120_000)

        # The other three: a widget change each, timed from the click to the end of its rerun.
        times = _timed_changes(data, targets, variogram, 1)
        print("\nrerun after a widget change (s), nobody training / one session training:")
        for name in times:
            print(f"  {name}: {baseline[name]:.2f} / {times[name]:.2f}")
        for name, page in zip(("Data", "Drill Targets", "Variogram"), (data, targets, variogram)):
            settle(page, name)
        assert trainer.get_by_role("button", name="Start training").is_disabled(), "training ended early"
        save_screenshot(trainer, "meeting_sessions_training")

        # An upload in one session stays in that session's own folder.
        name, payload = _small_project_zip(cli_demo[0])
        upload = ARTIFACTS / "meeting_upload.zip"
        upload.write_bytes(payload)
        open_project_zip(data, upload, name)
        for page in (targets, variogram):  # the other sessions rerun on their own project
            go_to(page, "Data")
            assert project_in_sidebar(page) == demo_name
            assert page.get_by_role("heading", name=demo_name).is_visible()
        holders = [
            path
            for path in Path(tempfile.gettempdir()).glob(f"{SESSIONS_PREFIX}*/session_*/upload_*/upload.zip")
            if path.read_bytes() == payload
        ]
        assert len(holders) == 1, holders  # in one session's folder, nowhere shared
        save_screenshot(data, "meeting_sessions_upload")

        # Stop ends the run; the page says so.
        trainer.get_by_role("button", name="Stop").click()
        trainer.get_by_text("Nothing of that run was saved").wait_for(timeout=120_000)
        for page in pages:
            assert_offline(page)
        blocked = {k: v for k, v in times.items() if v >= RERUN_LIMIT_S}
        assert not blocked, f"sessions blocked (> {RERUN_LIMIT_S} s) while another session trains: {blocked}"
    finally:
        for page in pages:
            page.context.close()


def _timed_changes(data, targets, variogram, round_: int) -> dict[str, float]:
    """Seconds to the end of the rerun after one widget change in each of three sessions (round 0 or 1:
    each round changes every widget to another value)."""
    hole = str(demo_project().drillholes.collar["hole_id"].iloc[1 + round_])  # the page shows the first
    return {
        "Data: hole": rerun(data, open_options(data, "Hole", hole).click),
        "Data: normalise to": rerun(data, lambda: radio(data, "Normalise to", ("PAAS", "chondrite")[round_])),
        "Drill Targets: minimum probability": rerun(
            targets, lambda: _nudge_slider(targets, "Minimum P(TREO > cut-off)")
        ),
        "Variogram: model kind": rerun(
            variogram, open_options(variogram, "Model", ("gaussian", "exponential")[round_]).click
        ),
    }


def _nudge_slider(page, label: str) -> None:
    """One step to the right on a slider (keyboard, as a user without a mouse)."""
    page.get_by_role("slider", name=label).press("ArrowRight")
