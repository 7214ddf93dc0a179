"""Drill Targets downloads under AppTest: the OMF file and the HTML report are built on click and hold the view."""

from __future__ import annotations

from pathlib import Path

import omf
import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from test_report_html import parse, synthetic_experiment

APP = Path(__file__).resolve().parents[1] / "app.py"

pytestmark = pytest.mark.usefixtures("navigation_mode")


class _RecordingManager(MediaFileManager):
    """AppTest's media file manager, kept after the run so a test can press a deferred download."""

    latest: _RecordingManager | None = None

    def __init__(self, storage) -> None:
        super().__init__(storage)
        self.storage = storage
        _RecordingManager.latest = self

    def download(self, button) -> bytes:
        url = self.execute_deferred(button.proto.deferred_file_id)
        return self.storage.get_file(url.rsplit("/", 1)[-1]).content


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> type[_RecordingManager]:
    monkeypatch.setattr(app_test_module, "MediaFileManager", _RecordingManager)
    return _RecordingManager


def _button(at: AppTest, start: str):
    return next(b for b in at.get("download_button") if b.label.startswith(start))


def test_omf_and_report_downloads(media, tmp_path: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.switch_page("pages/drill_targets.py").run()
    assert not at.exception and not at.error
    ranking = at.dataframe[0].value
    holes = at.dataframe[1].value

    path = tmp_path / "t.omf"
    path.write_bytes(media.latest.download(_button(at, "Holes, blocks, targets and proposed holes (OMF")))
    elements = {e.name: e for e in omf.OMFReader(str(path)).get_project().elements}
    assert set(elements) == {"drill holes", "kriged TREO blocks", "drill targets", "proposed holes"}
    assert len(elements["drill targets"].geometry.vertices.array) == len(ranking)
    assert len(elements["proposed holes"].geometry.segments.array) == len(holes)

    report = media.latest.download(_button(at, "Report (HTML)")).decode("utf-8")
    page = parse(report)
    assert page.external == []
    assert {"Project", "Variogram", "Drill targets", "Proposed holes", "Block model"} <= set(page.headings)
    assert "Model comparison" not in page.headings  # no training run in this session

    # With a training run of this project in the session, the report carries its comparison and card.
    from ui.state import _stamp

    folder = at.session_state["project_dir"]
    at.session_state["latest_experiment"] = {
        "result": synthetic_experiment(),
        "folder": tmp_path / "run",
        "project": f"{folder}@{_stamp(folder)}",  # ui.state.project_key() of this session
    }
    at.run()
    assert not at.exception and not at.error
    page = parse(media.latest.download(_button(at, "Report (HTML)")).decode("utf-8"))
    assert {"Model comparison", "Model card", "Drill targets"} <= set(page.headings)
