"""Spectral PCA: reduce the UAV hyperspectral cube to a few principal components."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from afg_core.spectral import WATER_VAPOUR_WINDOWS_NM
from ui.plots import heatmap
from ui.state import current_project, project_pca

st.title("Spectral PCA")
project = current_project()
cube = project.hyperspectral
if cube is None:
    st.info("This project has no hyperspectral cube (hyperspectral/*.npz).")
    st.stop()

rows, cols, bands = cube.shape
st.caption(
    f"Cube: {rows} x {cols} pixels of {cube.pixel_size:g} m, {bands} bands, "
    f"{cube.wavelengths_nm.min():.0f}-{cube.wavelengths_nm.max():.0f} nm. Water-vapour bands are removed."
)

left, right = st.columns([1, 3])
with left:
    choice = st.radio("Components", ["3 (default)", "choose by cross-validation", "set"], index=0)
    if choice == "set":
        n_components = st.slider("Number of components", 1, 10, 3)
    else:
        n_components = 3 if choice.startswith("3") else "cv"
    continuum = st.checkbox(
        "Continuum removal",
        value=False,
        help="Divide each spectrum by its upper convex hull to isolate absorption features.",
    )
pca = project_pca(n_components, continuum)

with left:
    st.metric("Components kept", pca.n_components)
    st.metric("Variance explained", f"{100 * pca.cumulative_variance[pca.n_components - 1]:.1f} %")

with right:
    scree = go.Figure()
    shown = min(len(pca.explained_variance_ratio), 15)
    k = np.arange(1, shown + 1)
    scree.add_trace(go.Bar(x=k, y=pca.explained_variance_ratio[:shown], name="explained variance"))
    scree.add_trace(
        go.Scatter(x=k, y=pca.cumulative_variance[:shown], mode="lines+markers", name="cumulative")
    )
    if pca.cv_log_likelihood is not None:
        ll = np.asarray(pca.cv_log_likelihood)
        scree.add_trace(
            go.Scatter(
                x=np.arange(1, len(ll) + 1),
                y=(ll - ll.min()) / max(np.ptp(ll), 1e-12),
                mode="lines",
                name="CV log-likelihood (scaled)",
                line=dict(dash="dot"),
            )
        )
    scree.update_layout(
        template="plotly_white",
        height=340,
        title="Scree plot (first 15 components)",
        xaxis_title="component",
        yaxis_title="fraction of variance (log)",
        yaxis_type="log",
        margin=dict(l=10, r=10, t=40, b=10),
    )
    st.plotly_chart(scree, width="stretch")

loadings = go.Figure()
for i in range(pca.n_components):
    loadings.add_trace(
        go.Scatter(
            x=pca.wavelengths_nm,
            y=pca.loadings[i],
            mode="markers+lines",
            name=f"PC{i + 1}",
            marker=dict(size=4),
        )
    )
for low, high in WATER_VAPOUR_WINDOWS_NM:
    loadings.add_vrect(x0=low, x1=min(high, 2500), fillcolor="grey", opacity=0.15, line_width=0)
for centre, label in [(580, "Nd"), (740, ""), (800, "Nd"), (900, "Fe3+"), (2205, "Al-OH")]:
    loadings.add_vline(x=centre, line_dash="dot", line_color="grey", annotation_text=label)
loadings.update_layout(
    template="plotly_white",
    height=380,
    title="Loadings per wavelength (grey: removed bands)",
    xaxis_title="wavelength (nm)",
    yaxis_title="loading",
    margin=dict(l=10, r=10, t=40, b=10),
)
st.plotly_chart(loadings, width="stretch")

xs, ys = cube.pixel_centres()
shown = st.columns(min(pca.n_components, 3))
for i, column in enumerate(shown):
    column.plotly_chart(
        heatmap(xs, ys, pca.scores[:, :, i], f"PC{i + 1} scores", f"PC{i + 1}", "RdBu", diverging=True),
        width="stretch",
    )
