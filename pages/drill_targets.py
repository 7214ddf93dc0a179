"""Drill Targets: zones likely above a grade's cut-off (TREO, Ni...), ranked, with proposed holes."""

import tempfile
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from afg_core.errors import InputError
from afg_core.learn.fusion import Surface
from afg_core.products import (
    estimate_from_volume,
    estimate_table,
    grade_columns,
    grade_tonnage,
    grade_tonnage_band,
    propose_holes,
    rank_drill_targets,
    starting_cutoff,
    write_estimate_vti,
    write_omf,
    write_plan_geotiff,
)
from afg_core.products.report_html import build_report_html, read_model_cards
from ui.plots import heatmap
from ui.state import current_project, grade_blocks, model_volume, project_grades, project_key, store_estimate

st.title("Drill Targets")
project = current_project()
samples = project.drillholes.samples
grades = project_grades()
if not grades:
    st.info(
        f"None of the project's target elements ({', '.join(project.settings.target_elements) or 'none'}) is "
        "assayed: no drill targets. Name assayed elements in target_elements of project.toml (e.g. Cu, Ni)."
    )
    st.stop()


def _parquet_bytes(table) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "blocks.parquet"
        table.to_parquet(path, index=False)
        return path.read_bytes()


@st.cache_data(show_spinner=False, max_entries=4)
def _omf_bytes(key: tuple, _project, _estimate, cutoff: float, _ranking, _holes) -> bytes:
    """The OMF file of this view; ``key`` (project, volume source, run, settings) stands for the unhashed inputs."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_omf(
            Path(folder) / "targets.omf",
            drillholes=_project.drillholes,
            estimate=_estimate,
            cutoff_ppm=cutoff,
            targets=_ranking,
            proposed_holes=_holes,
            name=_project.settings.name or _project.folder.name,
            crs=_project.settings.crs,
        )
        return path.read_bytes()


@st.cache_data(show_spinner=False, max_entries=4)
def _report_bytes(
    key: tuple, _project, _estimate, cutoff: float, density: float, _ranking, _holes, _latest
) -> bytes:
    """The stakeholder report of this view (with the session's latest run, if on this project)."""
    experiment, cards = None, None
    if _latest:
        experiment = _latest["result"]
        folder = _latest.get("folder")
        cards = read_model_cards(Path(folder) / "models") if folder else None
    document = build_report_html(
        title=f"AFG drill targets: {_project.settings.name or _project.folder.name}",
        project=_project,
        experiment=experiment,
        model_cards=cards,
        estimate=_estimate,
        cutoff_ppm=cutoff,
        targets=_ranking,
        proposed_holes=_holes,
        density_t_m3=density,
    )
    return document.encode("utf-8")


left, right = st.columns([1, 3])
with left:
    grade = grades[0]
    if len(grades) > 1:
        grade = st.selectbox(
            "Grade", grades, help="TREO for rare earths, then each assayed target element of project.toml"
        )
    start, start_note = starting_cutoff(project, grade)
    cutoff = st.number_input(
        f"{grade} cut-off (ppm)",
        0.01,
        1_000_000.0,
        start,
        step=float(10 ** np.floor(np.log10(start))),
        format="%g",
        key=f"cutoff_{grade}",  # each grade keeps its own cut-off
    )
    if start_note:
        st.caption(start_note)
    min_probability = st.slider(f"Minimum P({grade} > cut-off)", 0.1, 0.95, 0.5, step=0.05)
    cell = st.select_slider("Block size in x and y (m)", [25.0, 50.0, 100.0], 50.0)
    density = st.number_input("Dry bulk density (t/m³)", 2.0, 5.0, 3.3, step=0.1)
    predicted = model_volume()
    stored = store_estimate(grade)
    sources = ["kriging"] + (["model"] if predicted is not None and grade in predicted.log_mean else [])
    sources += ["store"] if stored is not None else []
    source = "kriging"
    if len(sources) > 1:
        labels = {"kriging": "kriging", "store": "block store"}
        if predicted is not None:
            labels["model"] = f"model ({predicted.model} ensemble)"
        source = st.radio(
            "Volume",
            sources,
            format_func=labels.get,
            help="The model's predicted volume comes from the latest run of the Train page (its own block size); "
            "the block store is the one named under Compute engine (an averaged copy)",
        )

if source == "store":
    estimate = stored
elif source == "model":
    estimate = estimate_from_volume(predicted, grade)
else:
    try:
        estimate = grade_blocks(grade, (cell, cell, 10.0))
    except InputError as error:
        st.error(f"{grade} cannot be kriged: {error}")
        st.stop()
    st.caption(estimate.samples_note)
if estimate.block.cell_size[0] > cell:
    st.info(
        f"The data cover a large area: blocks widened to {estimate.block.cell_size[0]:,.0f} m in x and y to keep "
        "the model under a million cells."
    )
ranking = rank_drill_targets(estimate, cutoff, samples[["x", "y", "z"]].to_numpy(), min_probability, density)

with right:
    st.subheader(f"{len(ranking)} {grade} target zones")
    if ranking.empty:
        best = float(np.nanmax(estimate.probability_above(cutoff), initial=0.0))
        st.info(
            f"No cell has P({grade} > {cutoff:,g} ppm) of {min_probability:.2f} or more (the highest is "
            f"{best:.2f}): lower the cut-off or the minimum probability"
            + (
                ", or take the kriged volume (a weak model's wide spread keeps probabilities low)."
                if source == "model"
                else "."
            )
        )
    names = grade_columns(grade)
    whole = st.column_config.NumberColumn(format="localized", step=1)
    st.dataframe(
        ranking,
        hide_index=True,
        width="stretch",
        column_config={  # grade columns are named after the grade (grade_columns)
            "rank": st.column_config.NumberColumn("rank", width="small"),
            "cells": st.column_config.NumberColumn("cells", width="small"),
            "tonnes": st.column_config.NumberColumn("tonnes", format="localized", step=1),
            names.mean: st.column_config.NumberColumn(f"mean {grade} (ppm)", format="localized", step=1),
            names.contained: st.column_config.NumberColumn(
                f"contained {grade} (t)", format="localized", step=1
            ),
            "mean_probability": st.column_config.NumberColumn("P(> cut-off)", format="%.2f"),
            "mean_log_sd": st.column_config.NumberColumn(
                "kriging sd (log)" if source == "kriging" else f"sd of log {grade}", format="%.2f"
            ),
            "distance_to_data_m": st.column_config.NumberColumn("to data (m)", format="%.0f"),
            "target_x": st.column_config.NumberColumn("target E (m)", format="%.0f"),
            "target_y": st.column_config.NumberColumn("target N (m)", format="%.0f"),
            "target_z": st.column_config.NumberColumn("target RL (m)", format="%.0f"),
            "score": whole,
        },
    )
    holes = propose_holes(
        estimate,
        ranking.head(15),
        cutoff,
        Surface.from_collars(project.drillholes.collar),
        project.drillholes.traces(),
        min_probability,
    )
    targets_with_holes = ranking.merge(holes.drop(columns=["rank"]), on="zone", how="left")
    st.markdown("**Proposed holes** (top 15 zones): collar on the surface, straight through the zone's core")
    st.dataframe(
        holes.drop(columns=["zone", "core_x", "core_y", "core_z"]).round(1),
        hide_index=True,
        width="stretch",
    )
    with st.expander("Block model for other software"):
        blocks = estimate_table(estimate, cutoff)
        st.download_button("Blocks (CSV)", blocks.to_csv(index=False), "blocks.csv", "text/csv")
        st.download_button("Blocks (Parquet)", _parquet_bytes(blocks), "blocks.parquet")
        with tempfile.TemporaryDirectory() as folder:
            vti = write_estimate_vti(estimate, cutoff, Path(folder) / "blocks.vti").read_bytes()
            tif = write_plan_geotiff(
                estimate.block, estimate.grade_ppm, Path(folder) / "plan.tif", project.settings.crs
            ).read_bytes()
        st.download_button("Blocks (VTK image, .vti)", vti, "blocks.vti")
        st.download_button(
            f"Plan of the highest {grade} per column (GeoTIFF)", tif, f"{grade.lower()}_max_plan.tif"
        )
    latest = st.session_state.get("latest_experiment")
    if not latest or latest.get("project") != project_key():
        latest = None
    run = str(latest.get("folder", id(latest["result"]))) if latest else ""
    view = (project_key(), grade, source, run, cell, cutoff, min_probability, density)
    # Built when clicked (deferred), then cached for this view.
    st.download_button(
        "Holes, blocks, targets and proposed holes (OMF, for Leapfrog and other mining software)",
        lambda: _omf_bytes(view, project, estimate, cutoff, ranking, holes),
        "afg_targets.omf",
        "application/octet-stream",
    )
    st.download_button(
        "Download targets and proposed holes (CSV)",
        targets_with_holes.to_csv(index=False),
        "drill_targets.csv",
        "text/csv",
    )
    st.download_button(
        "Report (HTML)",
        lambda: _report_bytes(view, project, estimate, cutoff, density, ranking, holes, latest),
        "afg_report.html",
        "text/html",
        help="One self-contained page for stakeholders (opens offline): project, targets, proposed holes, "
        "grade-tonnage and plan, plus the latest training run's comparison and model card",
    )
if source == "kriging":
    how = (
        f"{grade} kriged in log space (automatic variogram of the samples), back-transformed with exp(m + s²/2); "
        f"P({grade} > cut-off) treats log {grade} as Gaussian with the kriging variance."
    )
elif source == "store":
    how = (
        f"{grade} kriged out of core into the block store, read as {stored.block.cell_size[0]:g} m averages of "
        f"log {grade} and of the kriging variance (the point-support spread: probabilities stay on the cautious side)."
    )
else:
    how = (
        f"{grade} from the {predicted.model} ensemble ({predicted.members} members, hole bootstrap): mean log "
        f"{grade}, spread = ensemble variance + the model's held-out residual variance; P({grade} > cut-off) "
        "lognormal."
    )
st.caption(
    f"Score = contained {grade} x mean probability. {how} distance_to_data_m: from the zone's best cell to "
    "the nearest assay."
)

block = estimate.block
xs, ys, _ = block.axes()
grid = block.reshape(estimate.grade_ppm)
with np.errstate(all="ignore"):
    best = np.nanmax(np.where(np.isfinite(grid), grid, -np.inf), axis=2)
best[~np.isfinite(best)] = np.nan
a, b = st.columns(2)
plan = heatmap(xs, ys, np.log10(best).T, f"Highest block {grade} in each column", "log10 ppm", "YlOrRd")
plan.add_trace(
    go.Scatter(
        x=samples.groupby("hole_id")["x"].first(),
        y=samples.groupby("hole_id")["y"].first(),
        mode="markers",
        marker=dict(color="black", size=4),
        name="collars",
    )
)
top = ranking.head(10)
plan.add_trace(
    go.Scatter(
        x=top["target_x"],
        y=top["target_y"],
        mode="markers+text",
        text=top["rank"].astype(str),
        textposition="top center",
        textfont=dict(size=15, color="#08306b"),
        marker=dict(symbol="x", size=13, color="#08519c"),
        name="targets",
    )
)
for hole in holes.itertuples(index=False):
    plan.add_trace(
        go.Scatter(
            x=[hole.collar_x, hole.core_x],
            y=[hole.collar_y, hole.core_y],
            mode="lines+markers",
            line=dict(color="#08519c", width=2, dash="dot" if hole.covered else "solid"),
            marker=dict(size=[7, 0], color="#08519c"),
            name="proposed holes",
            legendgroup="proposed",
            showlegend=bool(hole.rank == holes["rank"].min()),
        )
    )
# Below the map: above it, the legend ran into the title.
plan.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.12, x=0), margin=dict(b=80))
a.plotly_chart(plan, width="stretch")

cutoffs = np.linspace(0, 5 * cutoff, 26)
curve = grade_tonnage(estimate, cutoffs, density)
gt = go.Figure()
if source == "model" and grade in predicted.member_log:
    band = grade_tonnage_band(predicted, cutoffs, grade, density)
    gt.add_trace(
        go.Scatter(
            x=np.concatenate([band["cutoff_ppm"], band["cutoff_ppm"][::-1]]),
            y=np.concatenate([band["tonnes_high"], band["tonnes_low"][::-1]]) / 1e6,
            fill="toself",
            fillcolor="rgba(31, 119, 180, 0.18)",
            line=dict(width=0),
            hoverinfo="skip",
            name=f"tonnes, range of the {predicted.members} members",
        )
    )
gt.add_trace(
    go.Scatter(x=curve["cutoff_ppm"], y=curve["tonnes"] / 1e6, name="tonnes (Mt)", line=dict(color="#1f77b4"))
)
gt.add_trace(go.Scatter(x=curve["cutoff_ppm"], y=curve[names.mean], name=f"mean {grade} (ppm)", yaxis="y2"))
gt.update_layout(
    template="plotly_white",
    height=420,
    title=f"Grade-tonnage of {grade} (estimated blocks)",
    xaxis_title=f"{grade} cut-off (ppm)",
    yaxis_title="Mt above cut-off",
    yaxis2=dict(title=f"mean {grade} (ppm)", overlaying="y", side="right", showgrid=False),
    margin=dict(l=10, r=10, t=40, b=10),
)
b.plotly_chart(gt, width="stretch")
