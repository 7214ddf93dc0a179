"""3D Viewer: drill holes coloured by grade and the kriged or model-predicted TREO volume (PyVista, vtk.js)."""

import numpy as np
import streamlit as st

from afg_core.geochem import REE_TARGETS, total_rare_earth_oxides
from afg_core.products import (
    LayerStyle,
    Scene,
    SceneExportError,
    block_volume,
    default_exaggeration,
    drillhole_traces,
    estimate_from_volume,
    export_scene_html,
    scene_offset,
)
from ui.state import current_project, model_volume, project_key, treo_blocks
from ui.view3d import show_scene_html

st.title("3D Viewer")
project = current_project()
samples = project.drillholes.samples
ree = [e for e in REE_TARGETS if e in samples]
options = (["TREO"] if ree else []) + project.drillholes.elements

left, right = st.columns([1, 3])
with left:
    colour_by = st.selectbox("Colour holes by", options)
    exaggeration = st.slider(
        "Vertical exaggeration",
        1.0,
        5.0,
        default_exaggeration(samples[["x", "y", "z"]].dropna().to_numpy()),
        0.5,
        help="Stretches elevations so a wide, thin deposit reads (z ticks then in stretched metres)",
    )
    log_colour = st.checkbox("Log colour scale", value=True, help="Grades are log-normal")
    show_blocks = st.checkbox("TREO blocks above cut-off", value=bool(ree))
    cutoff = float(project.settings.cutoff("TREO"))
    predicted = model_volume()
    source, block_colour = "kriging", "grade"
    if show_blocks:
        cutoff = st.number_input("TREO cut-off (ppm)", 100.0, 50_000.0, cutoff, step=100.0)
        if predicted is not None and "TREO" in predicted.log_mean:
            source = st.radio(
                "Blocks from",
                ["kriging", "model"],
                format_func={"kriging": "kriging", "model": f"model ({predicted.model} ensemble)"}.get,
                horizontal=True,
                help="The model's predicted volume comes from the latest run of the Train page",
            )
        block_colour = st.radio(
            "Colour blocks by",
            ["grade", "probability", "uncertainty"],
            format_func={
                "grade": "TREO (ppm)",
                "probability": "P(TREO > cut-off)",
                "uncertainty": "uncertainty (sd of log TREO)",
            }.get,
        )


@st.cache_data(show_spinner="Exporting the 3D scene...", max_entries=16)
def _scene_html(
    key: str,
    colour_by: str,
    log_colour: bool,
    show_blocks: bool,
    cutoff: float,
    source: str,
    block_colour: str,
    exaggeration: float,
) -> str:
    table = samples.copy()
    if colour_by == "TREO":
        table["TREO"] = total_rare_earth_oxides(table[ree])
    table = table.dropna(subset=[colour_by, "x", "y", "z"])
    offset = scene_offset(table[["x", "y", "z"]].to_numpy())
    unit = "wt%" if colour_by in ("Fe", "Si", "Al", "Ti") else "ppm"
    title = f"log10 {colour_by} ({unit})" if log_colour else f"{colour_by} ({unit})"
    scene = Scene(offset, vertical_exaggeration=exaggeration)
    scene.layers.append(
        (
            drillhole_traces(table, colour_by, offset, log10=log_colour),
            LayerStyle(scalars=colour_by, cmap="plasma", line_width=5, scalar_bar_title=title),
        )
    )
    if show_blocks:
        estimate = treo_blocks() if source == "kriging" else estimate_from_volume(model_volume(), "TREO")
        above = estimate.treo_ppm >= cutoff
        name, values, cmap = {
            "grade": ("log10 TREO", np.log10(estimate.treo_ppm), "YlOrRd"),
            "probability": ("P(TREO > cut-off)", estimate.probability_above(cutoff), "viridis"),
            "uncertainty": ("sd of log TREO", np.sqrt(np.clip(estimate.log_variance, 0, None)), "magma"),
        }[block_colour]
        volume = block_volume(estimate.block, np.where(above, values, np.nan), name, offset)
        if volume.n_cells:
            # vtk.js draws a single scalar bar, so the blocks' colour scale is explained in the caption.
            scene.layers.append(
                (volume, LayerStyle(scalars=name, cmap=cmap, opacity=0.35, show_scalar_bar=False))
            )
    return export_scene_html(scene)


with right:
    try:
        volume_key = f"{project_key()}|{id(predicted)}" if source == "model" else project_key()
        html = _scene_html(
            volume_key, colour_by, log_colour, show_blocks, cutoff, source, block_colour, exaggeration
        )
    except SceneExportError as exc:
        st.error(f"The 3D view could not be drawn: {exc}")
    else:
        show_scene_html(html, height=650, key="scene3d")
        st.caption(
            "Drag to rotate, scroll to zoom. Coordinates are metres from a local origin near the data's "
            "south-west corner; blocks: "
            + (
                "ordinary kriging of log TREO"
                if source == "kriging"
                else "the model ensemble's expected TREO"
            )
            + " above the cut-off, cells within 150 m of an assay, coloured by "
            + {
                "grade": "TREO, pale yellow (at cut-off) to dark red (highest).",
                "probability": "P(TREO > cut-off), dark blue (low) to yellow (certain).",
                "uncertainty": "the sd of log TREO, black (sure) to pale yellow (unsure).",
            }[block_colour]
            + (
                f" Vertical exaggeration x{exaggeration:g}: z tick values are stretched metres (divide by "
                f"{exaggeration:g})."
                if exaggeration != 1
                else ""
            )
        )
