"""Shared fixtures: the demo project is generated once per test session (it takes ~10 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The real public data sets (read-only), beside the checkout as ../shared/data.
SHARED_DATA = REPO.parent / "shared" / "data"
#: CI sets this, so that missing real data fail the run instead of skipping tests.
REQUIRE_SHARED_DATA = os.environ.get("AFG_REQUIRE_SHARED_DATA") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``shared_data`` skip, with the reason, on a clone without ../shared/data.

    With ``AFG_REQUIRE_SHARED_DATA=1`` (CI) a missing folder stops the run as a failure instead.
    """
    if SHARED_DATA.is_dir():
        return
    if REQUIRE_SHARED_DATA:
        pytest.exit(
            f"AFG_REQUIRE_SHARED_DATA=1 but the real data sets are missing: {SHARED_DATA}", returncode=1
        )
    skip = pytest.mark.skip(
        reason=f"needs the real data sets in {SHARED_DATA} (../shared/data beside the checkout); "
        "AFG_REQUIRE_SHARED_DATA=1 makes their absence a failure"
    )
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo project (seed 42, 90 holes), written once per session."""
    from afg_core.demo.generator import generate_demo_project

    return generate_demo_project(tmp_path_factory.mktemp("demo") / "project", seed=42)


@pytest.fixture(scope="session")
def demo_project(demo_dir: Path):
    """The default demo project, loaded and validated."""
    from afg_core.io.project import load_project

    return load_project(demo_dir)


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m afg_core ARGS`` with the interpreter running the tests, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "afg_core", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def afg_cli():
    """The :func:`run_cli` helper, for tests that drive the command line."""
    return run_cli


@pytest.fixture(scope="session")
def cli_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """A small demo project (8 holes, seed 3) written once per session by the command line."""
    out = tmp_path_factory.mktemp("cli_demo") / "small"
    result = run_cli("demo", str(out), "--holes", "8", "--seed", "3")
    return out, result


@pytest.fixture
def navigation_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run pages through app.py's ``st.navigation``, as the server does once any session has called it.

    AppTest resets Streamlit's class-wide "uses the pages/ directory" flag before every run, and a
    ``pages/`` folder sits next to app.py, so without this every run would execute the page script on
    its own (legacy multipage mode). ui.state switches such a run to st.navigation with a rerun, but the
    rerun drops button clicks; a running server switches once for good, which this reproduces.
    """
    import streamlit.testing.v1.app_test as app_test_module

    from ui._compat import NavigationPagesManager

    monkeypatch.setattr(app_test_module, "PagesManager", NavigationPagesManager)
