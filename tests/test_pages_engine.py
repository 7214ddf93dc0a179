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
