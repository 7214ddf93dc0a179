"""The 3D Viewer's layers panel under AppTest: layers and slice sliders rerun cleanly and change the scene."""

from __future__ import annotations

import pytest

from tests.test_pages import assert_clean, open_page

pytestmark = pytest.mark.usefixtures("navigation_mode")


def _scene_html(at) -> str:
    components = [e for e in at.get("bidi_component") if "stpyvista" in e.proto.component_name]
    assert len(components) == 1, [type(e).__name__ for e in at.main]
    return (
        components[0].proto.json_args
        if hasattr(components[0].proto, "json_args")
        else str(components[0].proto)
    )


def _checkbox(at, label: str):
    return next(c for c in at.checkbox if c.label == label)


def test_layers_and_slices_change_the_scene() -> None:
    at = open_page("pages/viewer_3d.py")
    assert at.title[0].value == "3D Viewer"
    first = _scene_html(at)
    labels = {c.label for c in at.checkbox}
    assert {
        "Show blocks",
        "X slice",
        "Iso-surface at the cut-off",
        "Gradient arrows",
        "Drill holes",
    } <= labels
    assert any("Scene page" in c.value and "MB" in c.value for c in at.caption)

    _checkbox(at, "Iso-surface at the cut-off").check().run()
    assert_clean(at)
    with_iso = _scene_html(at)
    assert with_iso != first
    assert "surface" in with_iso  # the iso-surface's legend swatch

    _checkbox(at, "Z slice").check().run()
    assert_clean(at)
    slider = next(s for s in at.slider if s.label.startswith("Z slice"))
    with_slice = _scene_html(at)
    slider.set_value(slider.min + 2 * slider.step).run()
    assert_clean(at)
    assert _scene_html(at) != with_slice

    _checkbox(at, "Gradient arrows").check().run()
    assert_clean(at)
    assert any("Gradient arrows: one per" in c.value for c in at.caption)
