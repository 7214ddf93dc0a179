"""Plotly figures from afg_core results (no computation beyond reshaping for display)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from afg_core.geochem import SPIDER_ORDER

_LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10))
#: One colour per model on every chart, so a model reads the same in the curves, bars and scatters.
MODEL_COLOURS = {"LSTM": "#d62728", "FNN": "#2ca02c", "Kriging": "#9467bd", "Boosting": "#ff7f0e"}


def plan_map(
    x: np.ndarray,
    y: np.ndarray,
    values: np.ndarray,
    traces: pd.DataFrame,
    collars: pd.DataFrame,
    grid_title: str,
) -> go.Figure:
    """Collars and hole traces over a gridded property (plan view, metres)."""
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=x,
            y=y,
            z=values,
            colorscale="Cividis",
            colorbar=dict(title=grid_title),
            name=grid_title,
            hovertemplate="E %{x:.0f}<br>N %{y:.0f}<br>%{z:.4g}<extra></extra>",
        )
    )
    xs, ys = [], []
    for _, hole in traces.groupby("hole_id", sort=False):
        xs += hole["x"].tolist() + [None]
        ys += hole["y"].tolist() + [None]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line=dict(color="#f0f0f0", width=2),
            name="hole traces",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=collars["x"],
            y=collars["y"],
            mode="markers",
            text=collars["hole_id"],
            marker=dict(color="crimson", size=7, line=dict(color="white", width=1)),
            name="collars",
            hovertemplate="%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        height=600,
        xaxis_title="East (m)",
        yaxis_title="North (m)",
        legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0, bgcolor="rgba(90,90,90,0.35)"),
    )
    fig.update_xaxes(tickformat="d")
    fig.update_yaxes(scaleanchor="x", scaleratio=1, tickformat="d")
    return fig


def strip_logs(
    hole: pd.DataFrame, columns: list[tuple[str, str]], lithology: pd.DataFrame | None
) -> go.Figure:
    """Down-hole logs of one hole: one panel per (column, axis title), depth downwards."""
    n = len(columns) + (lithology is not None)
    fig = make_subplots(rows=1, cols=n, shared_yaxes=True, horizontal_spacing=0.02)
    depth = 0.5 * (hole["from"] + hole["to"])
    for i, (column, title) in enumerate(columns, start=1):
        fig.add_trace(
            go.Scatter(x=hole[column], y=depth, mode="lines", name=title, line=dict(shape="hvh")),
            row=1,
            col=i,
        )
        fig.update_xaxes(
            title_text=title,
            row=1,
            col=i,
            type="log" if "ppm" in title else "linear",
            dtick=1 if "ppm" in title else None,
        )
    if lithology is not None:
        colours = ["#8c564b", "#7f7f7f", "#d62728", "#bcbd22", "#17becf", "#9467bd"]
        palette: dict[str, str] = {}
        for top, bottom, lith in zip(lithology["from"], lithology["to"], lithology["lith"]):
            first = lith not in palette
            colour = palette.setdefault(lith, colours[len(palette) % len(colours)])
            fig.add_trace(
                go.Scatter(
                    x=[0, 1, 1, 0, 0],
                    y=[top, top, bottom, bottom, top],
                    fill="toself",
                    fillcolor=colour,
                    line=dict(width=0),
                    mode="lines",
                    name=lith,
                    legendgroup=lith,
                    showlegend=first,
                    hovertemplate=f"{lith}<extra></extra>",
                ),
                row=1,
                col=n,
            )
        fig.update_xaxes(showticklabels=False, title_text="lithology", row=1, col=n)
    fig.update_yaxes(autorange="reversed", title_text="Depth along hole (m)", row=1, col=1)
    fig.update_layout(**_LAYOUT, height=620)
    return fig


def spider_plot(
    normalised: pd.DataFrame, depths: pd.Series, treo: pd.Series, reference: str, background: pd.Series | None
) -> go.Figure:
    """REE spider diagram: normalised values (log scale) in SPIDER_ORDER, one line per sample coloured by TREO."""
    order = [e for e in SPIDER_ORDER if e in normalised]
    fig = go.Figure()
    log_treo = np.log10(treo.to_numpy(dtype=float))
    span = max(float(np.nanmax(log_treo) - np.nanmin(log_treo)), 1e-9)
    colours = sample_colorscale("Viridis", list(np.nan_to_num((log_treo - np.nanmin(log_treo)) / span)))
    for (_, row), depth, grade, colour in zip(normalised[order].iterrows(), depths, treo, colours):
        fig.add_trace(
            go.Scatter(
                x=order,
                y=row.to_numpy(),
                mode="lines",
                line=dict(width=1, color=colour),
                opacity=0.7,
                showlegend=False,
                hovertemplate=f"from {depth:.1f} m, TREO {grade:,.0f} ppm<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            showlegend=False,
            hoverinfo="skip",
            marker=dict(
                colorscale="Viridis",
                cmin=float(np.nanmin(log_treo)),
                cmax=float(np.nanmax(log_treo)),
                color=[0],
                showscale=True,
                colorbar=dict(title="log10 TREO (ppm)"),
            ),
        )
    )
    if background is not None:
        fig.add_trace(
            go.Scatter(
                x=order,
                y=background[order],
                mode="lines+markers",
                name="median background BIF",
                line=dict(color="black", width=3),
            )
        )
    fig.update_yaxes(dtick=1)
    fig.update_layout(
        **_LAYOUT,
        height=460,
        yaxis_type="log",
        yaxis_title=f"sample / {reference}",
        xaxis_title="element",
        legend=dict(orientation="h", y=1.05),
    )
    return fig


def variogram_figure(experimental, model, title: str) -> go.Figure:
    """Experimental semivariances (sized by pair count) and a model curve."""
    fig = go.Figure()
    sizes = 6 + 14 * np.sqrt(experimental.n_pairs / max(experimental.n_pairs.max(), 1))
    fig.add_trace(
        go.Scatter(
            x=experimental.lags,
            y=experimental.semivariance,
            mode="markers",
            name="experimental",
            marker=dict(size=sizes),
            customdata=experimental.n_pairs,
            hovertemplate="lag %{x:.0f} m<br>gamma %{y:.3f}<br>%{customdata} pairs<extra></extra>",
        )
    )
    h = np.linspace(0, float(experimental.lags.max()) * 1.05, 200)
    fig.add_trace(go.Scatter(x=h, y=model(h), mode="lines", name=f"{model.kind} model"))
    fig.update_layout(**_LAYOUT, height=420, title=title, xaxis_title="lag (m)", yaxis_title="semivariance")
    return fig


def variogram_map_figure(vmap, title: str) -> go.Figure:
    """Variogram map (semivariance over east/north lag vectors), hover shows pair counts."""
    fig = go.Figure(
        go.Heatmap(
            x=vmap.centres,
            y=vmap.centres,
            z=vmap.semivariance,
            customdata=vmap.n_pairs,
            colorscale="Viridis",
            colorbar=dict(title="gamma"),
            hovertemplate="dE %{x:.0f} m<br>dN %{y:.0f} m<br>gamma %{z:.3f}<br>"
            "%{customdata} pairs<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT, height=420, title=title, xaxis_title="lag east (m)", yaxis_title="lag north (m)"
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def loss_curves(history: pd.DataFrame) -> go.Figure:
    """Training and validation loss per epoch, per model (columns model, epoch, loss, val_loss)."""
    fig = go.Figure()
    for name, part in history.groupby("model", sort=False):
        colour = MODEL_COLOURS.get(name)
        fig.add_trace(
            go.Scatter(
                x=part["epoch"],
                y=part["loss"],
                mode="lines+markers",
                name=f"{name} train",
                line=dict(color=colour),
            )
        )
        fig.add_trace(
            go.Scatter(
                x=part["epoch"],
                y=part["val_loss"],
                mode="lines+markers",
                name=f"{name} validation",
                line=dict(dash="dash", color=colour),
            )
        )
    fig.update_layout(
        **_LAYOUT, height=380, xaxis_title="epoch", yaxis_title="loss (MSE, standardised log grade)"
    )
    return fig


def heatmap(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    title: str,
    colorbar: str,
    colorscale: str = "Viridis",
    diverging: bool = False,
) -> go.Figure:
    """A plan-view map of a 2D array (ny, nx); ``diverging`` centres the colours on 0."""
    fig = go.Figure(
        go.Heatmap(
            x=x, y=y, z=z, colorscale=colorscale, colorbar=dict(title=colorbar), zmid=0 if diverging else None
        )
    )
    fig.update_layout(**_LAYOUT, height=440, title=title, xaxis_title="East (m)", yaxis_title="North (m)")
    fig.update_xaxes(tickformat="d", range=[float(np.min(x)), float(np.max(x))])
    fig.update_yaxes(
        scaleanchor="x", scaleratio=1, tickformat="d", range=[float(np.min(y)), float(np.max(y))]
    )
    return fig


def score_bars(scores: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Log RMSE per grade and model (lower is better): the scale-free comparison across elements."""
    fig = go.Figure()
    for model, part in scores.groupby("model", sort=False):
        label = labels.get(model, model)
        fig.add_trace(
            go.Bar(x=part["grade"], y=part["log_rmse"], name=label, marker_color=MODEL_COLOURS.get(label))
        )
    fig.update_layout(
        **_LAYOUT,
        barmode="group",
        height=360,
        yaxis_title="RMSE of log grade",
        title="Error per grade on held-out holes (log units, lower is better)",
    )
    return fig


def predicted_vs_observed(
    predictions: pd.DataFrame, grade: str, models: tuple[str, ...], labels: dict[str, str]
) -> go.Figure:
    """Predicted against observed grade on held-out holes, log axes, with the 1:1 line."""
    observed = predictions[grade]
    fig = go.Figure()
    for model in models:
        fig.add_trace(
            go.Scattergl(
                x=observed,
                y=predictions[f"{model}:{grade}"],
                mode="markers",
                name=labels.get(model, model),
                marker=dict(size=4, opacity=0.5, color=MODEL_COLOURS.get(labels.get(model, model))),
            )
        )
    positive = observed[observed > 0]
    low, high = float(positive.min()), float(positive.max())
    fig.add_trace(
        go.Scatter(x=[low, high], y=[low, high], mode="lines", name="1:1", line=dict(color="black"))
    )
    fig.update_layout(
        **_LAYOUT,
        height=460,
        xaxis=dict(type="log", dtick=1, title=f"observed {grade}"),  # decades only: minor labels crowd
        yaxis=dict(type="log", dtick=1, title=f"predicted {grade}"),
    )
    return fig


def residuals_down_hole(
    predictions: pd.DataFrame, hole: str, grade: str, models: tuple[str, ...], labels: dict[str, str]
) -> go.Figure:
    """Observed and predicted grade down one held-out hole (depth increasing downwards)."""
    rows = predictions[predictions["hole_id"] == hole]
    depth = 0.5 * (rows["from"] + rows["to"]) if "from" in rows else -rows["z"]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=rows[grade], y=depth, mode="lines+markers", name="observed", line=dict(color="black"))
    )
    for model in models:
        label = labels.get(model, model)
        fig.add_trace(
            go.Scatter(
                x=rows[f"{model}:{grade}"],
                y=depth,
                mode="lines",
                name=label,
                line=dict(color=MODEL_COLOURS.get(label)),
            )
        )
    fig.update_layout(
        **_LAYOUT,
        height=460,
        xaxis_type="log",
        xaxis_title=grade,
        yaxis_title="depth (m)",
        yaxis_autorange="reversed",
        title=f"Hole {hole}",
    )
    return fig


def weight_trajectories(history: pd.DataFrame, model: str) -> go.Figure:
    """Input weights per self-weighting period, one line per feature."""
    fig = go.Figure()
    for feature in [c for c in history.columns if c != "period"]:
        fig.add_trace(go.Scatter(x=history["period"], y=history[feature], mode="lines", name=feature))
    fig.update_layout(
        **_LAYOUT, height=380, xaxis_title="period", yaxis_title="weight", title=f"{model}: feature weights"
    )
    return fig


def ablation_chart(ablation: pd.DataFrame) -> go.Figure:
    """Log RMSE of the ablation model without each feature group (the 'none' bar is the full model)."""
    fig = go.Figure(go.Bar(x=ablation["removed"], y=ablation["log_rmse"], marker_color="#4c78a8"))
    full = float(ablation.loc[ablation["removed"] == "none", "log_rmse"].iloc[0])
    fig.add_hline(y=full, line_dash="dash", annotation_text="all features")
    fig.update_layout(
        **_LAYOUT,
        height=360,
        xaxis_title="feature group removed",
        yaxis_title="RMSE of log grade",
        title=f"Ablation ({ablation['model'].iloc[0]})",
    )
    return fig


def importance_chart(importance: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Rise of the test log RMSE when a feature group is shuffled, per model."""
    fig = go.Figure()
    for model, part in importance.groupby("model", sort=False):
        label = labels.get(model, model)
        fig.add_trace(
            go.Bar(
                x=part["group"],
                y=part["log_rmse_increase"],
                name=label,
                marker_color=MODEL_COLOURS.get(label),
            )
        )
    fig.update_layout(
        **_LAYOUT,
        barmode="group",
        height=360,
        xaxis_title="feature group shuffled",
        yaxis_title="log RMSE increase",
        title="Permutation importance",
    )
    return fig
