"""Showing an afg_core 3D scene in the page through stpyvista's component.

stpyvista 0.2.1's public ``stpyvista(plotter)`` exports the scene in a child process
with no timeout (a hung export leaves the page waiting forever) and its panel mode
fetches scripts from CDNs (blank offline). So the scene is exported by
``afg_core.products.export_scene_html`` (own process, timeout, self-contained vtk.js page),
cached by the caller, and handed to stpyvista's component (through ``ui._compat``), which
shows it in an iframe.
"""

from __future__ import annotations

from ui._compat import show_exported_scene


def show_scene_html(html: str, height: int = 650, key: str | None = None) -> None:
    """Display an exported scene page (from ``export_scene_html``) full width."""
    show_exported_scene(html, height, key)
