"""Benchmark: four browser sessions on one server, one of them training; how fast do the others' reruns answer?

Run: .venv/bin/python benchmarks/sessions.py [--epochs 30] [--max-samples 60]

Starts ``streamlit run app.py`` on a free port and opens four Playwright contexts (four Streamlit
sessions) in Debian's chromium (never ``playwright install``). Three sessions change a widget in
turn (Data: the hole of the down-hole logs; Data: chondrite/PAAS normalisation; Variogram: the
model kind) and time each rerun, from just before the click until the page's script state is back
at ``notRunning``. Each change is made once first, so the timings are reruns on warm caches. They
are timed with nobody training, then while the fourth session trains the demo with the Train page's
default settings (four models, ablation, predicted volume; ``--epochs`` caps the networks' epochs)
in the background. Prints median and maximum per situation (target: every rerun under 2 s while
another session trains) and the training's own wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # ui/ is not installed with afg_core

from afg_core.io import load_project  # noqa: E402
from ui.state import _demo_folder  # noqa: E402  (the demo the app opens on, generated once per machine)

START_TIMEOUT_S = 300  # the first start on a machine generates the demo project
RUN_TIMEOUT_MS = 300_000
TARGET_S = 2.0
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-dev-shm-usage"]

# Records the end of the next script run: the stApp script-state attribute going to running, then back.
OBSERVE = """() => {
    window.__run = {start: performance.now(), ran: false, end: null};
    if (window.__observer) return;
    const app = document.querySelector('[data-testid="stApp"]');
    window.__observer = new MutationObserver(() => {
        const state = app.getAttribute('data-test-script-state');
        if (state === 'running') window.__run.ran = true;
        else if (state === 'notRunning' && window.__run.ran && window.__run.end === null)
            window.__run.end = performance.now();
    });
    window.__observer.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
        && !document.querySelector('[data-testid="stSpinner"]');
    if (!idle) { window.__idleSince = null; return false; }
    window.__idleSince = window.__idleSince || performance.now();
    return performance.now() - window.__idleSince > 1500;
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += [
        "--server.port",
        str(port),
        "--server.address",
        "localhost",
        "--browser.gatherUsageStats",
        "false",
    ]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return process
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"streamlit not healthy after {START_TIMEOUT_S} s")
        time.sleep(0.5)


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (it was started in a new session), then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=15)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def open_page(page, url: str, title: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.locator("h1", has_text=title).wait_for(timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(IDLE, timeout=RUN_TIMEOUT_MS)


def timed(page, action) -> float:
    """Seconds from just before ``action`` to the end of the script run it caused."""
    page.evaluate(OBSERVE)
    action()
    page.wait_for_function("() => window.__run.end !== null", timeout=RUN_TIMEOUT_MS)
    return page.evaluate("() => (window.__run.end - window.__run.start) / 1000")


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in a selectbox: open it, type to filter the list, click the option."""
    box = page.get_by_role("combobox", name=label)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()


def radio(page, label: str, option: str) -> None:
    page.get_by_role("radiogroup", name=label).get_by_text(option, exact=True).click()


class Toggler:
    """A widget change that alternates between two values, so every click is a change."""

    def __init__(self, name: str, page, change, values: tuple[str, str]) -> None:
        self.name, self.page, self.change, self.values, self.turn = name, page, change, values, 0

    def __call__(self) -> float:
        self.turn += 1
        value = self.values[self.turn % 2]
        seconds = timed(self.page, lambda: self.change(self.page, value))
        self.page.wait_for_function(IDLE, timeout=RUN_TIMEOUT_MS)
        return seconds


def summary(label: str, times: list[float]) -> str:
    if not times:
        return f"{label}: no rerun timed"
    within = sum(t < TARGET_S for t in times)
    return (
        f"{label}: {len(times)} reruns, median {statistics.median(times):.2f} s, max {max(times):.2f} s, "
        f"{within}/{len(times)} under {TARGET_S:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, default=30, help="maximum epochs of the networks (page default 30)"
    )
    parser.add_argument("--max-samples", type=int, default=60, help="stop timing after this many reruns")
    args = parser.parse_args()

    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit(
            "chromium is not on PATH (apt-get install chromium); this benchmark never downloads a browser"
        )
    port = free_port()
    url = f"http://localhost:{port}"
    log = Path(tempfile.gettempdir()) / f"afg_benchmark_sessions_{port}.log"
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; server log {log}")
    server = start_server(port, log)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            pages = [
                browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(4)
            ]
            trainer, data_a, data_b, variogram = pages
            open_page(trainer, f"{url}/train", "Train")
            open_page(data_a, url, "Data")
            open_page(data_b, url, "Data")
            open_page(variogram, f"{url}/variogram", "Variogram")
            holes = load_project(_demo_folder()).drillholes.collar["hole_id"].astype(str).tolist()[:2]
            changes = [
                Toggler("Data: hole", data_a, lambda p, v: choose(p, "Hole", v), tuple(holes)),
                Toggler(
                    "Data: normalisation",
                    data_b,
                    lambda p, v: radio(p, "Normalise to", v),
                    ("chondrite", "PAAS"),
                ),
                Toggler(
                    "Variogram: model",
                    variogram,
                    lambda p, v: choose(p, "Model", v),
                    ("spherical", "exponential"),
                ),
            ]
            for change in changes:  # warm the caches: each value once
                change()
                change()

            idle: list[float] = []
            for _ in range(2):
                idle.extend(change() for change in changes)

            sidebar = trainer.locator('[data-testid="stSidebar"]')
            epochs = sidebar.get_by_label("Maximum epochs", exact=True)
            epochs.fill(str(args.epochs))
            epochs.press("Enter")
            trainer.wait_for_function(IDLE, timeout=RUN_TIMEOUT_MS)
            started = time.monotonic()
            trainer.get_by_role("button", name="Start training").click()
            trainer.locator('[data-testid="stProgress"]').wait_for(timeout=RUN_TIMEOUT_MS)
            start_button = trainer.get_by_role("button", name="Start training")

            during: list[float] = []
            by_change: dict[str, list[float]] = {c.name: [] for c in changes}
            phases: list[str] = []
            while len(during) < args.max_samples:
                progress = trainer.locator('[data-testid="stProgress"]')
                phase = progress.first.inner_text().split("·")[0].strip() if progress.count() else ""
                if not phase and start_button.is_enabled():
                    break  # the run ended
                for change in changes:
                    seconds = change()
                    during.append(seconds)
                    by_change[change.name].append(seconds)
                    if seconds >= TARGET_S:
                        phases.append(f"{seconds:.2f} s ({change.name}) during '{phase}'")
            trainer.get_by_role("heading", name="What won").wait_for(timeout=1_800_000)
            trained = time.monotonic() - started
            browser.close()
    finally:
        stop_server(server)

    print(summary("No one training", idle))
    print(summary("One session training", during))
    for name, times in by_change.items():
        print("  " + summary(name, times))
    for line in phases:
        print("  slow:", line)
    print(f"Training run (Train page defaults, {args.epochs} epochs, in the background): {trained:.0f} s")


if __name__ == "__main__":
    main()
