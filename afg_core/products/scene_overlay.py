"""Axes and legends of an exported 3D scene, drawn by AFG instead of vtk.js.

vtk.js's cube axes label every silhouette edge (each axis title twice, tick labels
colliding at the corners) and its export draws one scalar bar at a fixed place, so two
coloured layers would overlap. So the axes are geometry (box, ticks and flat 3D text,
one title per axis, tick steps wide enough that labels never touch), and the legends are
an HTML column beside the canvas: one colour bar per coloured layer and a swatch per
single-colour layer, all inline (no network).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ColourBar:
    """A colour bar: ``clim`` in the drawn values; ``log10_values`` labels ticks as ``10**value``."""

    title: str
    cmap: str
    clim: tuple[float, float]
    log10_values: bool = False


@dataclass(frozen=True)
class Swatch:
    """A single-colour layer's legend entry."""

    label: str
    color: str


def nice_step(span: float, max_ticks: int) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k step giving at most ``max_ticks`` intervals over ``span``."""
    if span <= 0 or max_ticks < 1:
        return 1.0
    raw = span / max_ticks
    power = 10.0 ** math.floor(math.log10(raw))
    for mantissa in (1.0, 2.0, 2.5, 5.0, 10.0):
        if mantissa * power >= raw:
            return mantissa * power
    return 10.0 * power


def ticks(low: float, high: float, step: float) -> np.ndarray:
    """Multiples of ``step`` within [low, high]."""
    first = math.ceil(low / step - 1e-9) * step
    return np.arange(first, high + 1e-9 * step, step)


def _label(value: float) -> str:
    return f"{value:,.0f}"


def _text(string: str, height: float):
    """Flat text (xy-plane, reading along +x), centred on the origin, ``height`` m tall."""
    import pyvista as pv

    mesh = pv.Text3D(string, depth=0.0, height=height)
    return mesh.translate(-np.asarray(mesh.center), inplace=False)


#: Degrees west of south of the default camera (scene3d): labels stand facing it.
CAMERA_AZIMUTH = 25.0


def _standing(string: str, height: float, upright: bool = False):
    """Text standing up, facing the default camera's horizontal direction; ``upright`` reads bottom to top."""
    mesh = _text(string, height)
    if upright:
        mesh = mesh.rotate_z(90, inplace=False)
    return mesh.rotate_x(90, inplace=False).rotate_z(-CAMERA_AZIMUTH, inplace=False)


def _text_width(string: str, height: float) -> float:
    bounds = _text(string, height).bounds
    return bounds[1] - bounds[0]


def axes_meshes(
    bounds: tuple[float, float, float, float, float, float],
    offset: tuple[float, float, float],
    exaggeration: float = 1.0,
):
    """Box, ticks and labelled axes around ``bounds`` (local, stretched coordinates).

    Tick labels show project coordinates (m): easting and northing, and true elevation
    (the stretch taken out). Labels stand facing the default camera: x labels under the
    south edge, y labels along the west edge, z labels up the south-east edge (the sides
    facing that camera, so the data do not hide them); each axis has one title.

    Returns
    -------
    lines, text : pyvista.PolyData
        Box edges and tick marks; text polygons. Both are in display coordinates: draw
        them without stretching.
    """
    import pyvista as pv

    x0, x1, y0, y1, z0, z1 = bounds
    size = max(x1 - x0, y1 - y0, 1.0)
    h = 0.028 * size  # tick label height (m on screen)
    tick = 0.6 * h
    segments: list[tuple[np.ndarray, np.ndarray]] = []
    texts = []

    def along(low: float, high: float, origin: float, scale: float, min_gap):
        """Tick values (project units) whose labels are at least ``min_gap(step)`` apart on screen."""
        span = (high - low) / scale
        for count in range(7, 0, -1):
            step = nice_step(span, count)
            values = ticks(origin + low / scale, origin + high / scale, step)
            if len(values) < 2 or step * scale >= min_gap(values):
                return values
        return values

    # x: labels read along x, so neighbours need their width plus a gap.
    xs = along(x0, x1, offset[0], 1.0, lambda v: 1.4 * max(_text_width(_label(t), h) for t in v))
    for value in xs:
        x = value - offset[0]
        segments.append((np.array([x, y0, z0]), np.array([x, y0 - tick, z0])))
        texts.append(_standing(_label(value), h).translate([x, y0 - tick, z0 - 0.9 * h], inplace=False))
    title = _standing("East (m)", 1.25 * h)
    texts.append(title.translate([(x0 + x1) / 2, y0 - tick, z0 - 2.5 * h], inplace=False))

    # y: along the west edge (the near side), labels stacked along y need two label heights;
    # none next to the south-west corner, where the x labels are.
    ys = along(y0, y1, offset[1], 1.0, lambda v: 2.0 * h)
    ys = ys[ys - offset[1] > y0 + 2.0 * h]
    widest = max((_text_width(_label(v), h) for v in ys), default=0.0)
    for value in ys:
        y = value - offset[1]
        segments.append((np.array([x0, y, z0]), np.array([x0 - tick, y, z0])))
        width = _text_width(_label(value), h)
        texts.append(
            _standing(_label(value), h).translate([x0 - tick - 0.3 * h - width / 2, y, z0], inplace=False)
        )
    title_width = _text_width("North (m)", 1.25 * h)
    title = _standing("North (m)", 1.25 * h)
    x_title = x0 - tick - 1.5 * h - widest - title_width / 2
    texts.append(title.translate([x_title, (y0 + y1) / 2, z0], inplace=False))

    # z: up the south-east edge, labels to its right; none next to the bottom, where the x labels are.
    zs = along(z0, z1, offset[2], exaggeration, lambda v: 2.0 * h)
    zs = zs[(zs - offset[2]) * exaggeration > z0 + 1.5 * h]
    widest = 0.0
    for value in zs:
        z = (value - offset[2]) * exaggeration
        segments.append((np.array([x1, y0, z]), np.array([x1 + tick, y0, z])))
        width = _text_width(_label(value), h)
        widest = max(widest, width)
        texts.append(
            _standing(_label(value), h).translate([x1 + tick + 0.4 * h + width / 2, y0, z], inplace=False)
        )
    ztitle = "Elevation (m)" if exaggeration == 1 else f"Elevation (m), vertical x{exaggeration:g}"
    title = _standing(ztitle, 1.25 * h, upright=True)
    texts.append(title.translate([x1 + tick + 2.0 * h + widest, y0, (z0 + z1) / 2], inplace=False))

    corners = np.array([[x, y, z] for z in (z0, z1) for y in (y0, y1) for x in (x0, x1)])
    for a, b in [
        (0, 1),
        (2, 3),
        (0, 2),
        (1, 3),
        (4, 5),
        (6, 7),
        (4, 6),
        (5, 7),
        (0, 4),
        (1, 5),
        (2, 6),
        (3, 7),
    ]:
        segments.append((corners[a], corners[b]))
    points = np.array([p for pair in segments for p in pair], dtype=np.float32)
    lines = pv.PolyData(points)
    n = len(segments)
    lines.lines = np.column_stack([np.full(n, 2), np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2)]).ravel()
    text = pv.merge(texts)
    text.points = np.asarray(text.points, dtype=np.float32)
    return lines, text


def _css_gradient(cmap: str, stops: int = 16) -> str:
    from matplotlib import colormaps

    colours = colormaps[cmap](np.linspace(0.0, 1.0, stops))
    parts = [
        f"rgb({int(255 * r)},{int(255 * g)},{int(255 * b)}) {100 * i / (stops - 1):.1f}%"
        for i, (r, g, b, _) in enumerate(colours)
    ]
    return "linear-gradient(to top, " + ", ".join(parts) + ")"


def colour_bar_ticks(bar: ColourBar, max_ticks: int = 5) -> list[tuple[float, str]]:
    """(fraction up the bar, label) for the bar's ticks; grades on a log scale at 1-2-5 values."""
    low, high = bar.clim
    if high <= low:
        return [(0.5, f"{low:.3g}")]
    if bar.log10_values:
        values = [
            m * 10.0**k for k in range(math.floor(low) - 1, math.ceil(high) + 1) for m in (1.0, 2.0, 5.0)
        ]
        values = [v for v in values if low - 1e-9 <= math.log10(v) <= high + 1e-9]
        while len(values) > max_ticks:
            values = values[::2]
        return [((math.log10(v) - low) / (high - low), f"{v:,.4g}") for v in values]
    step = nice_step(high - low, max_ticks - 1)
    return [
        ((v - low) / (high - low), f"{v:.{max(0, -math.floor(math.log10(step)))}f}")
        for v in ticks(low, high, step)
    ]


def legend_html(entries: list[ColourBar | Swatch], width_px: int = 190) -> str:
    """The legend column: one block per entry, stacked top down."""
    blocks = []
    for entry in entries:
        if isinstance(entry, Swatch):
            blocks.append(
                f'<div class="afg-swatch"><span style="background:{html.escape(entry.color)}"></span>'
                f"{html.escape(entry.label)}</div>"
            )
            continue
        labels = "".join(
            f'<div class="afg-tick" style="bottom:{100 * f:.1f}%">{html.escape(text)}</div>'
            for f, text in colour_bar_ticks(entry)
        )
        blocks.append(
            f'<div class="afg-bar"><div class="afg-title">{html.escape(entry.title)}</div>'
            f'<div class="afg-scale"><div class="afg-ramp" style="background:{_css_gradient(entry.cmap)}"></div>'
            f'<div class="afg-ticks">{labels}</div></div></div>'
        )
    style = (
        "<style>"
        f".content{{position:absolute;left:0;top:0;bottom:0;right:{width_px}px}}"
        f"#afg-legend{{position:absolute;top:0;right:0;bottom:0;width:{width_px - 10}px;padding:8px 6px 0 4px;"
        "overflow-y:auto;font:12px sans-serif;color:#222;background:#fff}"
        ".afg-bar{margin-bottom:14px}.afg-title{font-weight:600;margin-bottom:6px}"
        ".afg-scale{position:relative;height:90px;margin-top:6px}"
        ".afg-ramp{position:absolute;left:0;top:0;bottom:0;width:16px;border:1px solid #999}"
        ".afg-ticks{position:absolute;left:22px;top:0;bottom:0;right:0}"
        ".afg-tick{position:absolute;transform:translateY(50%);white-space:nowrap}"
        ".afg-tick:before{content:'';display:inline-block;width:5px;border-top:1px solid #444;"
        "vertical-align:middle;margin:0 3px 0 -7px}"
        ".afg-swatch{margin-bottom:10px}.afg-swatch span{display:inline-block;width:14px;height:14px;"
        "border:1px solid #999;vertical-align:middle;margin-right:6px}"
        "</style>"
    )
    return style + '<div class="content"></div><div id="afg-legend">' + "".join(blocks) + "</div>"


def add_legend(page: str, entries: list[ColourBar | Swatch]) -> str:
    """The exported vtk.js page with the legend column on the right and the canvas beside it."""
    marker = "<body>"
    if marker not in page:
        raise ValueError("not an exported vtk.js page: no <body>")
    return page.replace(marker, marker + legend_html(entries), 1)
