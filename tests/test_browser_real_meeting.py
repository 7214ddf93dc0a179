"""The drill-target meeting in a real browser on real drill holes: Forrestania (WA) nickel.

The same walk as tests/test_browser_meeting.py's demo meeting, on a project nobody here wrote:
the 100 Forrestania holes of ../shared/data uploaded as a project zip (a Cu-Ni project, the Ni
cut-off in project.toml), a variogram of Ni refitted, a small background training run in the
volume, the model's Ni volume in 3D, Ni targets (from the kriged volume: on these holes kriging
wins and the network's volume has no likely zone, which the page explains) and proposed holes
with their CSV and OMF read back, and the session saved and opened again. Screenshots go to tests/artifacts/real_*.png.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED_DATA
from test_browser import (  # noqa: F401  (browser, server_url: fixtures)
    RUN_TIMEOUT_MS,
    assert_offline,
    browser,
    new_session_page,
    open_page,
    save_screenshot,
    server_url,
    wait_for_plotly,
)
from test_browser_meeting import (  # noqa: F401  (_remove_new_runs: fixture)
    SESSION_OPEN_LIMIT_S,
    TRAIN_TIMEOUT_MS,
    _remove_new_runs,
    canvas_shot,
    choose,
    go_to,
    metric,
    open_project_zip,
    radio,
    read_back_targets,
    rerun,
    rerun_done,
    save_and_reopen_session,
    set_number,
    set_switch,
    settle,
    unselect,
    watch_rerun,
)

pytestmark = [pytest.mark.browser, pytest.mark.shared_data]

FORRESTANIA = SHARED_DATA / "forrestania-wa-drillholes"
NAME = "Forrestania nickel (real WA holes)"
NI_CUTOFF = 1500.0
FILES = {
    "collar": "forrestania_collar.csv",
    "survey": "forrestania_survey.csv",
    "assay": "forrestania_assay.csv",
}
TARGET_COLUMNS = {
    "rank",
    "zone",
    "cells",
    "tonnes",
    "mean_ni_ppm",
    "contained_ni_t",
    "mean_probability",
    "mean_log_sd",
    "distance_to_data_m",
    "target_x",
    "target_y",
    "target_z",
    "score",
}


def _project_zip(folder: Path) -> Path:
    """The Forrestania files and a project.toml naming them, zipped as a user would upload them."""
    toml = (
        f'name = "{NAME}"\ncrs = "EPSG:28350"\ntarget_elements = ["Cu", "Ni"]\n[files]\n'
        + "".join(f'{kind} = "{name}"\n' for kind, name in FILES.items())
        + f"[cutoffs]\nNi = {NI_CUTOFF}\n"
    )
    path = folder / "forrestania.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("forrestania/project.toml", toml)
        for name in FILES.values():
            archive.write(FORRESTANIA / name, f"forrestania/{name}")
    return path


def test_the_meeting_on_real_nickel_holes(browser, server_url: str, tmp_path: Path) -> None:  # noqa: F811
    page = new_session_page(browser)
    try:
        _walk(page, server_url, _project_zip(tmp_path))
        assert_offline(page)
    except Exception:
        save_screenshot(page, "real_failed")
        raise
    finally:
        page.context.close()


def _walk(page, url: str, upload: Path) -> None:
    # Data: the project zip opens; every hole of the collar file is there.
    open_page(page, url, "", "Data")
    open_project_zip(page, upload, NAME)
    assert metric(page, "Drill holes") == str(len(pd.read_csv(FORRESTANIA / FILES["collar"])))
    save_screenshot(page, "real_1_data")

    # Variogram of Ni: another model kind, refitted; the hole cross-validation follows.
    go_to(page, "Variogram")
    rerun(page, lambda: choose(page, "Element", "Ni"), "Variogram")
    wait_for_plotly(page, 3)
    rmse_before = metric(page, "CV RMSE")
    rerun(page, lambda: choose(page, "Model", "exponential"), "Variogram")
    rerun(page, page.get_by_role("button", name="Auto-fit").click, "Variogram")
    assert metric(page, "CV RMSE") != rmse_before, "the CV score did not follow the refit"
    save_screenshot(page, "real_2_variogram")

    # Train: Cu and Ni in the volume, a network and the kriging baseline, a few epochs, in the background.
    go_to(page, "Train")
    sidebar = page.locator('[data-testid="stSidebar"]')
    rerun(page, lambda: radio(sidebar, "Task", "volume"), "Train")
    for label in ("LSTM", "Boosting"):
        unselect(page, sidebar, "Models", label)
    for label, value in (("Maximum epochs", 3), ("Early-stopping patience (epochs)", 1)):
        rerun(page, lambda: set_number(sidebar, label, value), "Train")  # noqa: B023 (called at once)
    set_switch(page, sidebar, "Ablation by feature group", False)
    set_switch(page, sidebar, "Predict the block model", True)
    started = time.monotonic()
    page.get_by_role("button", name="Start training").click()
    page.locator('[data-testid="stProgress"]').wait_for(timeout=60_000)
    page.get_by_role("heading", name="What won").wait_for(timeout=TRAIN_TIMEOUT_MS)
    print(
        f"\nreal meeting: training run (FNN + kriging, 3 epochs, volume) {time.monotonic() - started:.0f} s"
    )
    settle(page, "Train")
    assert (
        page.locator('[data-testid="stMetric"]', has_text="FNN: Cu RMSE").count() == 1
    )  # Cu: the first target
    save_screenshot(page, "real_3_trained")

    # 3D Viewer: the model's Ni volume, drawn.
    go_to(page, "3D Viewer")
    canvas_shot(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    rerun(page, lambda: choose(page, "Grade", "Ni"), "3D Viewer")
    kriged_page = page.locator("iframe#stpyvistaframe").get_attribute("srcdoc")
    watch_rerun(page)
    radio(sidebar, "Volume from", "model (fnn ensemble)")
    rerun_done(page)
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while page.locator("iframe#stpyvistaframe").get_attribute("srcdoc") == kriged_page:
        assert time.monotonic() < deadline, "the 3D view did not change to the model's volume"
        page.wait_for_timeout(250)
    shot, coloured, colours = canvas_shot(page)
    assert coloured > 0.01 and colours > 50, f"the Ni volume looks blank: {100 * coloured:.2f} %, {colours}"
    settle(page, "3D Viewer")
    assert page.get_by_text("the model ensemble's (fnn) expected Ni").is_visible()
    save_screenshot(page, "real_4_3d_model")

    # Drill Targets: the model's Ni volume first. On these holes the kriging baseline won and the network's
    # spread is wide, so no zone reaches P >= 0.5 and the page says why; the meeting takes the kriged volume.
    go_to(page, "Drill Targets")
    main = page.locator('[data-testid="stMain"]')
    rerun(page, lambda: choose(page, "Grade", "Ni"), "Drill Targets")
    assert page.get_by_label("Ni cut-off (ppm)").input_value() == f"{NI_CUTOFF:g}"
    rerun(page, lambda: radio(main, "Volume", "model (fnn ensemble)"), "Drill Targets")
    assert main.get_by_text("Ni from the fnn ensemble").is_visible()
    if page.get_by_role("heading", name="0 Ni target zones").count():
        assert main.get_by_text(f"No cell has P(Ni > {NI_CUTOFF:,g} ppm)").is_visible()
    rerun(page, lambda: radio(main, "Volume", "kriging"), "Drill Targets")
    assert main.get_by_text("Ni kriged from 3,949 of 4,072 samples").is_visible()
    wait_for_plotly(page, 2)
    heading = page.get_by_role("heading", name="Ni target zones").inner_text()
    zones = int(heading.split()[0])
    assert zones > 0, heading
    save_screenshot(page, "real_5_targets")

    read_back_targets(page, zones, TARGET_COLUMNS, "kriged Ni blocks", "real")

    # Data: save the session (the project's files and the run) and open it again.
    open_s, names, _ = save_and_reopen_session(page, NAME, "real")
    assert {f"project/{name}" for name in FILES.values()} <= names
    print(f"real meeting: session open {open_s:.1f} s")
    save_screenshot(page, "real_6_session_opened")
    assert open_s < SESSION_OPEN_LIMIT_S, f"opening the session took {open_s:.1f} s"
