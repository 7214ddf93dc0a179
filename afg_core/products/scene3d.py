"""3D scenes (PyVista) built from results, and their export to a self-contained HTML page.

Meshes are built here from drill holes and block models; no Streamlit. The export to
an interactive vtk.js page runs in a child Python process with a timeout: the trame
export can hang (missing packages, event-loop clashes in a server thread), and a
hung export must become a visible error, not a page that waits forever. The page
embeds vtk.js, so it works offline.

Coordinates are shifted to a local origin (``Scene.offset``, metres) because vtk.js
draws in float32, which cannot resolve metres at UTM northings of 7,000,000 m.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.products.scene_overlay import CAMERA_AZIMUTH, ColourBar, Swatch, add_legend, axes_meshes


class SceneExportError(RuntimeError):
    """The 3D scene could not be exported (timeout or failure of the export process)."""


@dataclass
class LayerStyle:
    """How a mesh is drawn (all optional)."""

    scalars: str | None = None
    cmap: str = "viridis"
    clim: tuple[float, float] | None = None
    opacity: float = 1.0
    line_width: float = 4.0
    point_size: float = 6.0
    color: str | None = None
    scalar_bar_title: str | None = None
    show_scalar_bar: bool = True
    show_edges: bool = False
    #: The colour bar labels ticks as 10**value (a grade coloured by its log10).
    log10_values: bool = False
    #: Legend label of a single-colour layer (None: not in the legend).
    legend: str | None = None
    #: False for meshes built already stretched (arrows, whose directions depend on the stretch).
    stretch: bool = True
    lighting: bool = True


@dataclass
class Scene:
    """Meshes (``pyvista.DataSet``) with styles, in local coordinates (m from ``offset``).

    ``vertical_exaggeration`` stretches z when drawn (a 2 km x 2 km x 400 m deposit reads
    flat at 1:1). The axes (:func:`afg_core.products.scene_overlay.axes_meshes`) label true
    elevations and their z title states the factor. Each coloured layer gets a colour bar
    and each layer with a ``legend`` label a swatch, in a column beside the canvas.
    """

    offset: tuple[float, float, float]
    layers: list[tuple[object, LayerStyle]] = field(default_factory=list)
    window_size: tuple[int, int] = (1000, 650)
    background: str = "white"
    vertical_exaggeration: float = 1.0


def default_exaggeration(coords: np.ndarray) -> float:
    """Vertical exaggeration (1-5) that makes the vertical extent about 40 % of the horizontal one."""
    span = np.ptp(np.asarray(coords, dtype=float), axis=0)
    if span[2] <= 0:
        return 1.0
    return float(np.clip(np.round(0.4 * max(span[0], span[1]) / span[2], 1), 1.0, 5.0))


def scene_offset(coords: np.ndarray) -> tuple[float, float, float]:
    """A round local origin (m) near the lower corner of the data."""
    low = np.nanmin(np.asarray(coords, dtype=float), axis=0)
    return tuple(float(v) for v in np.floor(low / 100.0) * 100.0)


def drillhole_traces(
    samples: pd.DataFrame, column: str, offset: tuple[float, float, float], log10: bool = False
):
    """Polylines through sample midpoints, one per hole, coloured by ``column`` (points for one-sample holes).

    Parameters
    ----------
    samples : DataFrame
        ``hole_id, from, x, y, z`` and ``column``.
    column : str
        Value to colour by (e.g. ``La`` in ppm).
    offset : tuple
        Local origin subtracted from coordinates (m).
    log10 : bool
        Colour by log10 of the value (grades are log-normal).
    """
    import pyvista as pv

    ordered = samples.sort_values(["hole_id", "from"])
    points = ordered[["x", "y", "z"]].to_numpy(dtype=float) - np.asarray(offset)
    values = ordered[column].to_numpy(dtype=float)
    if log10:
        values = np.log10(np.clip(values, 1e-6, None))
    counts = ordered.groupby("hole_id", sort=False).size().to_numpy()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # Holes with one sample (e.g. surface samples) are drawn as points, the others as lines.
    lines = [np.concatenate([[n], np.arange(s, s + n)]) for s, n in zip(starts, counts) if n > 1]
    singles = starts[counts == 1]
    mesh = pv.PolyData(points)
    if lines:
        mesh.lines = np.concatenate(lines)
    if len(singles):
        mesh.verts = np.column_stack([np.ones_like(singles), singles]).ravel()
    mesh.point_data[column] = values
    return mesh


def legend_entries(scene: Scene) -> list[ColourBar | Swatch]:
    """One colour bar per coloured layer (layers sharing title, map and range share one) and a swatch per label."""
    entries: list[ColourBar | Swatch] = []
    for mesh, style in scene.layers:
        if style.scalars and style.show_scalar_bar:
            entry = ColourBar(
                style.scalar_bar_title or style.scalars,
                style.cmap,
                tuple(style.clim) if style.clim else _data_range(mesh, style.scalars),
                style.log10_values,
            )
        elif style.legend:
            entry = Swatch(style.legend, style.color or "grey")
        else:
            continue
        if entry not in entries:
            entries.append(entry)
    return entries


def _data_range(mesh, name: str) -> tuple[float, float]:
    values = np.asarray(
        mesh.point_data[name] if name in mesh.point_data else mesh.cell_data[name], dtype=float
    )
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)


def export_scene_html(scene: Scene, timeout_s: float = 120.0) -> str:
    """Interactive, self-contained HTML (vtk.js) of a scene with its legend column, made in a child process.

    Raises
    ------
    SceneExportError
        When the export fails or takes longer than ``timeout_s`` seconds.
    """
    with tempfile.TemporaryDirectory(prefix="afg_scene_") as folder:
        folder = Path(folder)
        spec = {
            "window_size": scene.window_size,
            "background": scene.background,
            "vertical_exaggeration": scene.vertical_exaggeration,
            "offset": scene.offset,
            "layers": [],
        }
        for i, (mesh, style) in enumerate(scene.layers):
            if mesh.n_points == 0:
                continue
            name = f"layer{i}.vtk"
            mesh.save(folder / name)
            layer = asdict(style)
            if style.scalars and style.clim is None:
                layer["clim"] = _data_range(mesh, style.scalars)
            spec["layers"].append({"file": name, **layer})
        (folder / "scene.json").write_text(json.dumps(spec))
        try:
            # The child imports the installed package (pip install -e . or a wheel).
            done = subprocess.run(
                [sys.executable, "-m", "afg_core.products.scene3d", str(folder)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as exc:
            raise SceneExportError(f"3D export took longer than {timeout_s:.0f} s and was stopped") from exc
        if done.returncode != 0 or not (folder / "scene.html").exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise SceneExportError("3D export failed: " + " | ".join(tail))
        return add_legend((folder / "scene.html").read_text(encoding="utf-8"), legend_entries(scene))


def _plotter_from_spec(folder: Path):
    import pyvista as pv

    spec = json.loads((folder / "scene.json").read_text())
    plotter = pv.Plotter(off_screen=True, window_size=spec["window_size"])
    plotter.set_background(spec["background"])
    stretch = float(spec.get("vertical_exaggeration", 1.0))
    bounds = []
    for layer in spec["layers"]:
        mesh = pv.read(folder / layer["file"])
        if layer["stretch"]:
            mesh = _stretched(mesh, stretch)
        bounds.append(mesh.bounds)
        kwargs = {
            "opacity": layer["opacity"],
            "line_width": layer["line_width"],
            "point_size": layer["point_size"],
            "show_edges": layer["show_edges"],
            "lighting": layer["lighting"],
            # Colour bars are drawn beside the canvas (scene_overlay): vtk.js would stack them in one place.
            "show_scalar_bar": False,
        }
        if layer["scalars"]:
            kwargs.update(scalars=layer["scalars"], cmap=layer["cmap"], clim=layer["clim"])
        else:
            kwargs["color"] = layer["color"] or "grey"
        plotter.add_mesh(mesh, **kwargs)
    if bounds:
        box = np.array(bounds, dtype=float)
        extent = (
            box[:, 0].min(),
            box[:, 1].max(),
            box[:, 2].min(),
            box[:, 3].max(),
            box[:, 4].min(),
            box[:, 5].max(),
        )
        lines, text = axes_meshes(extent, tuple(spec["offset"]), stretch)
        plotter.add_mesh(lines, color="#888888", line_width=1)
        plotter.add_mesh(text, color="#222222", lighting=False)
        _view_from_south_west(plotter, extent)
    return plotter


def _view_from_south_west(plotter, extent) -> None:
    """Camera ``CAMERA_AZIMUTH`` degrees west of south, 30 degrees up: the axis labels face it."""
    centre = np.array([(extent[0] + extent[1]) / 2, (extent[2] + extent[3]) / 2, (extent[4] + extent[5]) / 2])
    azimuth, elevation = np.radians(CAMERA_AZIMUTH), np.radians(30.0)
    direction = np.array(
        [-np.sin(azimuth) * np.cos(elevation), -np.cos(azimuth) * np.cos(elevation), np.sin(elevation)]
    )
    size = max(extent[1] - extent[0], extent[3] - extent[2], extent[5] - extent[4])
    plotter.camera_position = [tuple(centre + 2.0 * size * direction), tuple(centre), (0.0, 0.0, 1.0)]
    # Fit everything (labels included) along that direction, with a margin.
    plotter.reset_camera()
    plotter.camera.zoom(1.5)


def _stretched(mesh, factor: float):
    """The mesh with z multiplied by ``factor`` (images through their spacing and origin)."""
    import pyvista as pv

    if factor == 1:
        return mesh
    if isinstance(mesh, pv.ImageData):
        mesh.spacing = (mesh.spacing[0], mesh.spacing[1], mesh.spacing[2] * factor)
        mesh.origin = (mesh.origin[0], mesh.origin[1], mesh.origin[2] * factor)
        return mesh
    mesh.points[:, 2] *= factor
    return mesh


def _export_folder(folder: Path) -> None:
    """Child-process entry: render scene.json in ``folder`` to scene.html."""
    plotter = _plotter_from_spec(folder)
    html = plotter.trame.export_html(None).read()
    (folder / "scene.html").write_text(html, encoding="utf-8")
    plotter.close()


if __name__ == "__main__":
    from afg_core.runtime import configure_backends

    configure_backends()
    _export_folder(Path(sys.argv[1]))
