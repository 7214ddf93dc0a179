"""3D Viewer: the layers of the drill-target meeting (PyVista, vtk.js), chosen in the sidebar's layers panel."""

from dataclasses import replace

import numpy as np
import streamlit as st

from afg_core.errors import InputError
from afg_core.geochem import REE_TARGETS, total_rare_earth_oxides
from afg_core.learn.fusion import Surface
from afg_core.products import (
    SceneExportError,
    default_exaggeration,
    estimate_from_volume,
    export_scene_html,
    scene_offset,
    starting_cutoff,
)
from afg_core.products.viewer import ViewerSettings, build_viewer_scene, grade_unit
from ui.state import current_project, grade_blocks, model_volume, project_grades, project_key, store_estimate
from ui.view3d import show_scene_html

st.title("3D Viewer")
project = current_project()
samples = project.drillholes.samples.copy()
ree = [e for e in REE_TARGETS if e in samples]
if ree:
    samples["TREO"] = total_rare_earth_oxides(samples[ree])
trace_options = (["TREO"] if ree else []) + project.drillholes.elements
predicted = model_volume()
krigeable = project_grades()  # TREO or the target elements, kriged on demand
modelled = list(predicted.log_mean) if predicted is not None else []
grade_options = krigeable + [g for g in modelled if g not in krigeable]
has_volume = bool(grade_options)

with st.sidebar:
    st.markdown("#### Layers")
    grade, source, stored = "TREO", "kriging", None
    if has_volume:
        grade = st.selectbox(
            "Grade",
            grade_options,
            help="TREO for rare earths and each assayed target element (kriged), plus the grades of the latest "
            "Train run's predicted volume",
        )
        stored = store_estimate(grade)
        sources = (["kriging"] if grade in krigeable else []) + (["model"] if grade in modelled else [])
        sources += ["store"] if stored is not None else []
        source = sources[0]
        if len(sources) > 1:
            labels = {"kriging": f"kriging ({grade})", "store": f"block store ({grade})"}
            if predicted is not None:
                labels["model"] = f"model ({predicted.model} ensemble)"
            source = st.radio(
                "Volume from",
                sources,
                format_func=labels.get,
                horizontal=True,
                help="The model's predicted volume comes from the latest run of the Train page; the block store "
                "is the one named under Compute engine",
            )
        unit = grade_unit(grade)
        start, start_note = starting_cutoff(project, grade)
        cutoff = st.number_input(
            f"{grade} cut-off ({unit})", 0.01, 1_000_000.0, start, format="%g", key=f"viewer_cutoff_{grade}"
        )
        if start_note:
            st.caption(start_note)
        colour_by = st.radio(
            "Colour blocks and slices by",
            ["grade", "probability", "uncertainty"],
            format_func={
                "grade": f"{grade} ({unit})",
                "probability": f"P({grade} > cut-off)",
                "uncertainty": f"uncertainty (sd of ln {grade})",
            }.get,
        )
    with st.expander("Blocks above cut-off", expanded=True):
        blocks = st.checkbox("Show blocks", value=has_volume, disabled=not has_volume)
        opacity = st.slider("Opacity", 0.05, 1.0, 0.35, 0.05, key="blocks_opacity")
        compare = st.checkbox(
            "Kriged volume for comparison",
            value=False,
            disabled=source == "kriging" or grade not in krigeable,
            help="The kriged grade above the cut-off as a blue shell, beside the model's (or the store's) blocks",
        )
    with st.expander("Slices"):
        slices = tuple(a for a in "xyz" if st.checkbox(f"{a.upper()} slice", value=False, key=f"slice_{a}"))
    with st.expander("Iso-surface and gradients"):
        iso = st.checkbox("Iso-surface at the cut-off", value=False)
        gradient = st.checkbox("Steepest gradients (volume)", value=False)
        percentile = st.slider("Show cells above percentile", 50, 99, 90, key="gradient_percentile")
        arrows = st.checkbox("Gradient arrows", value=False)
    with st.expander("Drill holes and targets", expanded=True):
        traces = st.checkbox("Drill holes", value=True)
        trace_grade = st.selectbox(
            "Colour holes by",
            trace_options,
            index=trace_options.index(grade) if grade in trace_options else 0,
        )
        zones = st.checkbox("Target zones and proposed holes", value=False, disabled=not has_volume)
        min_probability = st.slider("Minimum P(> cut-off) of a zone", 0.1, 0.95, 0.5, 0.05)
    exaggeration = st.slider(
        "Vertical exaggeration",
        1.0,
        10.0,
        default_exaggeration(samples[["x", "y", "z"]].dropna().to_numpy()),
        0.5,
        help="Stretches elevations so a wide, thin deposit reads; the z axis still shows true elevations",
    )

estimate = None
if has_volume:
    try:
        estimate = {"kriging": lambda: grade_blocks(grade), "store": lambda: stored}.get(
            source, lambda: estimate_from_volume(predicted, grade)
        )()
    except InputError as error:
        st.error(f"{grade} cannot be kriged: {error}")
        st.stop()
    if slices:
        block = estimate.block
        low = np.asarray(block.origin) - 0.5 * np.asarray(block.cell_size)
        high = low + np.asarray(block.shape) * np.asarray(block.cell_size)
        columns = st.columns(len(slices))
        positions = [None, None, None]
        for column, axis in zip(columns, slices):
            i = "xyz".index(axis)
            name = {"x": "East", "y": "North", "z": "Elevation"}[axis]
            positions[i] = column.slider(
                f"{axis.upper()} slice: {name} (m)",
                float(low[i]),
                float(high[i]),
                float((low[i] + high[i]) / 2),
                float(block.cell_size[i]),
                key=f"slice_position_{axis}",
            )
settings = ViewerSettings(
    grade=grade,
    cutoff=float(cutoff) if has_volume else 1.0,
    colour_by=colour_by if has_volume else "grade",
    blocks=blocks,
    blocks_opacity=float(opacity),
    compare=compare,
    slices=slices if has_volume else (),
    iso=iso and has_volume,
    gradient=gradient and has_volume,
    gradient_percentile=float(percentile),
    arrows=arrows and has_volume,
    traces=traces,
    trace_grade=trace_grade,
    zones=zones and has_volume,
    min_probability=float(min_probability),
    exaggeration=float(exaggeration),
)
if slices and has_volume:
    settings = replace(settings, slice_position=tuple(positions))


@st.cache_data(show_spinner="Building the 3D scene...", max_entries=16)
def _scene(key: str, settings: ViewerSettings) -> tuple[str, tuple[str, ...], float]:
    """The exported page, the decimation notes and the page size (MB), cached by data and settings."""
    offset = scene_offset(samples[["x", "y", "z"]].dropna().to_numpy())
    comparison = grade_blocks(settings.grade) if settings.compare else None
    built = build_viewer_scene(
        settings,
        estimate,
        samples,
        offset,
        comparison=comparison,
        surface=Surface.from_collars(project.drillholes.collar),
        existing_traces=project.drillholes.traces(),
    )
    html = export_scene_html(built.scene)
    return html, built.notes, len(html.encode()) / 1e6


try:
    volume_key = {
        "model": f"{project_key()}|{id(predicted)}",
        "store": f"{project_key()}|{st.session_state.get('block_store')}|{id(stored)}",
    }.get(source, f"{project_key()}|kriging")
    html, notes, size_mb = _scene(volume_key, settings)
except SceneExportError as exc:
    st.error(f"The 3D view could not be drawn: {exc}")
else:
    show_scene_html(html, height=720, key="scene3d")
    what = {
        "kriging": f"ordinary kriging of log {grade}",
        "store": f"the block store's log {grade}, averaged to {stored.block.cell_size[0]:g} m cells"
        if stored is not None
        else "",
    }.get(source, f"the model ensemble's ({predicted.model}) expected {grade}" if predicted else "")
    st.caption(
        "Drag to rotate, scroll to zoom. Axes in project coordinates (m); the z axis shows true elevations "
        f"(vertical exaggeration x{exaggeration:g}). "
        + (f"Blocks and slices: {what}" if has_volume else "")
        + (
            ", cells within 150 m of an assay. "
            if has_volume and source == "kriging"
            else ". "
            if has_volume
            else ""
        )
        + f"Scene page {size_mb:.1f} MB."
    )
    for note in notes:
        st.caption(f"Thinned to keep the page small: {note}.")
