"""The app's compute-engine field: Drill Targets krige on a Dask LocalCluster with the same ranking as in process."""

from __future__ import annotations

import pandas as pd
import pytest
from test_pages import assert_clean, open_page

pytestmark = [
    pytest.mark.usefixtures("navigation_mode"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*"),
]


def test_drill_targets_on_a_local_cluster_rank_as_in_process() -> None:
    at = open_page("pages/drill_targets.py")
    in_process = at.dataframe[0].value
    at.sidebar.text_input(key="engine").set_value("local").run()
    assert_clean(at)
    from ui.state import _client

    (client,) = _client("local")
    try:
        assert len(client.scheduler_info()["workers"]) >= 1
        pd.testing.assert_frame_equal(at.dataframe[0].value, in_process, rtol=1e-9)
    finally:
        _client.clear()
        client.close()
        client.cluster.close()


def test_an_unreachable_scheduler_says_so_and_works_in_process() -> None:
    at = open_page("pages/drill_targets.py")
    at.sidebar.text_input(key="engine").set_value("not-an-address").run()
    assert not at.exception
    assert any("cannot reach the Dask scheduler" in e.value for e in at.sidebar.error)
    assert len(at.dataframe[0].value) > 0


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    """The app's demo project kriged out of core into a block store (50 m cells)."""
    open_page()  # makes sure the app's demo project exists
    from afg_core.io import load_project
    from afg_core.products.targets import krige_grade_to_store
    from ui.state import _demo_folder

    samples = load_project(_demo_folder()).drillholes.samples
    path = tmp_path_factory.mktemp("store") / "model.zarr"
    krige_grade_to_store(samples, path, "TREO", cell_size=(50.0, 50.0, 10.0))
    return str(path)


def test_drill_targets_and_viewer_read_a_block_store(demo_store: str) -> None:
    at = open_page("pages/drill_targets.py")
    at.sidebar.text_input(key="block_store").set_value(demo_store).run()
    assert_clean(at)
    volume = next(r for r in at.radio if r.label == "Volume")
    assert "block store" in volume.options
    volume.set_value("store").run()
    assert_clean(at)
    ranking = at.dataframe[0].value
    assert len(ranking) > 0 and ranking["score"].is_monotonic_decreasing
    assert any("block store" in c.value for c in at.caption)

    at.switch_page("pages/viewer_3d.py").run()
    assert_clean(at)
    source = next(r for r in at.radio if r.label == "Volume from")
    source.set_value("store").run()
    assert_clean(at)
    assert any("block store's log TREO" in c.value for c in at.caption)


def test_a_folder_that_is_not_a_block_store_says_so(tmp_path) -> None:
    at = open_page("pages/drill_targets.py")
    at.sidebar.text_input(key="block_store").set_value(str(tmp_path)).run()
    assert not at.exception
    assert any("is not an AFG block store" in e.value for e in at.sidebar.error)
    assert len(at.dataframe[0].value) > 0
