"""The running app in a real browser: every page draws, the 3D view renders with WebGL, nothing leaves localhost.

Starts ``streamlit run app.py`` on a free port and drives Debian's chromium through Playwright
(never ``playwright install``). A missing chromium is a failure, not a skip: CI must run this.

Full-page screenshots go to tests/artifacts/ (git-ignored). With AFG_UPDATE_SCREENSHOTS=1 the Data
and 3D Viewer screenshots are also written to docs/ for the README.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
DOCS = REPO / "docs"
UPDATE_SCREENSHOTS = os.environ.get("AFG_UPDATE_SCREENSHOTS") == "1"
START_TIMEOUT = 180  # s: the first start on a machine generates the demo project
RUN_TIMEOUT_MS = 240_000  # a page's script (block kriging, 3D export) on a busy 2-core runner
VIEWPORT = {"width": 1400, "height": 1000}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    # WebGL in software: vtk.js needs a WebGL2 context and the runners have no GPU.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
]
NAVIGATION = ["Data", "Variogram", "Spectral PCA", "Train", "3D Viewer", "Drill Targets"]
# Link texts of the sidebar navigation (each link's last line: the icon's ligature name comes first).
NAV_TEXTS_JS = (
    "[...document.querySelectorAll('[data-testid=\"stSidebarNav\"] a')]"
    ".map(a => a.innerText.trim().split('\\n').pop().trim())"
)
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome-error"}


def demo_hole_count() -> int:
    """Collars in the demo project the app opens on (ui.state generates it once per machine)."""
    from ui.state import _demo_folder

    with open(_demo_folder() / "collar.csv") as collar:
        return sum(1 for line in collar if line.strip()) - 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Terminate the server and everything it started (its own process group), then kill what is left."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stragglers, e.g. a 3D export child
    except ProcessLookupError:
        pass
    process.wait(timeout=15)


@pytest.fixture(scope="module")
def server_url():
    """``streamlit run app.py`` on a free port, healthy; stopped (with its children) afterwards."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log_path = ARTIFACTS / "streamlit_server.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "localhost",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://localhost:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {START_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(process)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable is not None, (
        "chromium is not on PATH: install Debian's chromium package (apt-get install chromium). "
        "The browser tests must run in CI; they are never skipped."
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A fresh page (own Streamlit session) that records every request leaving localhost."""
    page = new_session_page(browser)
    try:
        yield page
    finally:
        page.context.close()


def new_session_page(browser):
    """A page in a new browser context (its own Streamlit session) recording requests leaving localhost
    (``page.external_requests``) and script errors (``page.page_errors``); close its ``context`` after."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, accept_downloads=True)
    page = context.new_page()
    page.external_requests = []
    page.page_errors = []

    def on_request(request) -> None:
        parsed = urlparse(request.url)
        if parsed.scheme not in LOCAL_SCHEMES and parsed.hostname not in LOCAL_HOSTS:
            page.external_requests.append(request.url)

    page.on("request", on_request)
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    return page


def open_page(page, server_url: str, path: str, title: str) -> None:
    """Go to a page and wait until its script has finished and nothing is running or loading."""
    page.goto(f"{server_url}/{path}", wait_until="domcontentloaded")
    exception = page.locator('[data-testid="stException"]')
    # The title, or an exception raised before it (e.g. in app.py), whichever comes first.
    page.locator("h1", has_text=title).or_(exception).first.wait_for(timeout=RUN_TIMEOUT_MS)
    _fail_on_exception(page, path, title)
    # The app's own navigation (st.navigation in app.py), not Streamlit's legacy pages/ listing. On a
    # fresh server the first deep link runs once in legacy mode, then ui.state reruns it through app.py.
    try:
        page.wait_for_function(
            f"(expected) => JSON.stringify({NAV_TEXTS_JS}) === JSON.stringify(expected)",
            arg=NAVIGATION,
            timeout=60_000,
        )
    except PlaywrightTimeoutError:
        nav = page.evaluate(NAV_TEXTS_JS)
        pytest.fail(f"sidebar navigation is {nav}, not {NAVIGATION}: the page did not run through app.py")
    # The first deep link is stopped and rerun, which can look idle for a moment in between.
    wait_until_idle(page)
    page.wait_for_load_state("load")
    _fail_on_exception(page, path, title)
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0, page.locator(
        '[data-testid="stAlertContentError"]'
    ).first.inner_text()


def wait_until_idle(page, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
    """Wait until the script is not running, with no running icon and no spinner, for 1.5 s in a row."""
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            const idle = app && app.getAttribute('data-test-script-state') === 'notRunning'
                && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
                && !document.querySelector('[data-testid="stSpinner"]');
            if (!idle) { window.__afgIdleSince = null; return false; }
            window.__afgIdleSince = window.__afgIdleSince || performance.now();
            return performance.now() - window.__afgIdleSince > 1500;
        }""",
        timeout=timeout_ms,
    )


def _fail_on_exception(page, path: str, title: str) -> None:
    exception = page.locator('[data-testid="stException"]')
    if exception.count():
        save_screenshot(page, f"failed_{path or 'data'}")
        pytest.fail(f"the {title} page raised:\n{exception.first.inner_text()}")


def wait_for_plotly(page, minimum: int) -> int:
    """Wait until ``minimum`` plotly charts have drawn traces; return how many charts there are."""
    page.wait_for_function(
        """(minimum) => {
            const plots = [...document.querySelectorAll('.js-plotly-plot')];
            const drawn = plots.filter(p => p.querySelector('g.trace, g.hm, .heatmaplayer image'));
            return drawn.length >= minimum;
        }""",
        arg=minimum,
        timeout=60_000,
    )
    return page.locator(".js-plotly-plot").count()


def save_screenshot(page, name: str, docs_name: str | None = None) -> Path:
    """Full-page screenshot: Streamlit scrolls inside its main container, so grow the viewport to fit it."""
    height = page.evaluate(
        """() => Math.max(...['[data-testid="stMain"]', '[data-testid="stAppViewContainer"]', 'body']
                            .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))"""
    )
    page.set_viewport_size(
        {"width": VIEWPORT["width"], "height": int(min(max(height, VIEWPORT["height"]), 8000))}
    )
    page.wait_for_timeout(1000)  # charts re-layout after the resize
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if UPDATE_SCREENSHOTS and docs_name:
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS / docs_name)
    page.set_viewport_size(VIEWPORT)
    return path


def assert_offline(page) -> None:
    assert not page.external_requests, (
        f"requests left localhost (the app must work offline): {page.external_requests}"
    )
    assert not page.page_errors, page.page_errors


def test_deep_link_first(page, server_url: str) -> None:
    """Keep first in this file: the server's first session opens a deep link (not /).

    Streamlit treats the app as a legacy pages/ app until a session calls st.navigation, so a fresh
    server's first request for /train must still be routed through app.py (ui.state does it).
    The sidebar lists the six pages under the URL paths Streamlit derives from the file names."""
    open_page(page, server_url, "train", "Train")
    page.locator('[data-testid="stMetricLabel"]', has_text="Held-out test holes").wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    links = page.locator('[data-testid="stSidebarNav"] a').evaluate_all("links => links.map(a => a.href)")
    assert [urlparse(link).path for link in links] == [
        "/",
        "/variogram",
        "/spectral_pca",
        "/train",
        "/viewer_3d",
        "/drill_targets",
    ]
    metrics = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert {"Training holes", "Validation holes", "Held-out test holes"} <= {m.strip() for m in metrics}
    assert page.get_by_role("button", name="Start training").is_visible()
    save_screenshot(page, "train")
    assert_offline(page)


PLOTLY_PAGES = [
    # path, h1 title, screenshot name, plotly charts that must draw
    ("", "Data", "data", 3),
    ("variogram", "Variogram", "variogram", 3),
    ("spectral_pca", "Spectral PCA", "spectral_pca", 5),
    ("drill_targets", "Drill Targets", "drill_targets", 2),
]


@pytest.mark.parametrize("path,title,name,charts", PLOTLY_PAGES, ids=[p[2] for p in PLOTLY_PAGES])
def test_page_draws_charts(page, server_url: str, path: str, title: str, name: str, charts: int) -> None:
    open_page(page, server_url, path, title)
    assert wait_for_plotly(page, charts) >= charts
    if name == "data":
        holes = page.locator('[data-testid="stMetric"]', has_text="Drill holes")
        holes.wait_for(timeout=RUN_TIMEOUT_MS)
        assert holes.locator('[data-testid="stMetricValue"]').inner_text().strip() == str(demo_hole_count())
    if name == "drill_targets":
        assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    save_screenshot(page, name, "screenshot_data.png" if name == "data" else None)
    assert_offline(page)


def _non_blank(png: bytes) -> tuple[float, int]:
    """Fraction of pixels that are not (near) white or transparent, and the number of distinct colours."""
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    coloured = (image < 235).any(axis=1)
    return float(coloured.mean()), len(np.unique(image, axis=0))


def test_viewer_3d_draws(page, server_url: str) -> None:
    open_page(page, server_url, "viewer_3d", "3D Viewer")
    assert page.get_by_text("Drag to rotate").is_visible()
    # stpyvista puts the exported vtk.js page into an iframe's srcdoc (inside the component's shadow root).
    frame_element = page.locator("iframe#stpyvistaframe")
    frame_element.wait_for(timeout=RUN_TIMEOUT_MS)
    assert (frame_element.get_attribute("srcdoc") or "").lstrip().lower().startswith(("<!doctype", "<html"))
    frame = page.frame_locator("iframe#stpyvistaframe")
    canvas = frame.locator("canvas").first
    canvas.wait_for(timeout=120_000)
    assert canvas.evaluate("c => !!(c.getContext('webgl2') || c.getContext('webgl'))"), "no WebGL context"
    box = canvas.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300, box

    # vtk.js draws asynchronously after the page loads: poll the canvas until it shows the scene.
    deadline = time.monotonic() + 60
    while True:
        shot = canvas.screenshot()
        coloured, colours = _non_blank(shot)
        if (coloured > 0.01 and colours > 50) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(1000)
    (ARTIFACTS / "viewer_3d_canvas.png").write_bytes(shot)
    assert coloured > 0.01, f"3D view looks blank: only {100 * coloured:.2f} % non-white pixels"
    assert colours > 50, f"3D view has only {colours} distinct colours"
    page.wait_for_timeout(500)
    save_screenshot(page, "viewer_3d", "screenshot_3d.png")
    assert_offline(page)
