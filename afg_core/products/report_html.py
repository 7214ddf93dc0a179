"""A self-contained HTML report for stakeholders: project, variogram, model comparison, model card, targets.

One file that opens offline: plotly.js is inlined once in the page head and every figure is a
``<div>`` drawn by it; no script, style sheet or font comes from the network. Each section is
present only when its input is given. All text from data (names, notes, table cells) is HTML
escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.geostat.variogram import VariogramModel
from afg_core.io.project import Project
from afg_core.learn.experiment import ExperimentResult
from afg_core.products.omf_export import proposed_hole_ends
from afg_core.products.reports import summary_text
from afg_core.products.targets import BIF_DENSITY, BlockEstimate, grade_columns, grade_tonnage

#: One colour per model, the same in every figure.
_MODEL_COLOURS = {"lstm": "#1f77b4", "fnn": "#ff7f0e", "kriging": "#2ca02c", "boosting": "#d62728"}
_LAYOUT = dict(template="plotly_white", height=420, margin=dict(l=60, r=20, t=50, b=50))

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
.meta { color: #666; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.88rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
pre { background: #f7f7f7; padding: 0.8rem; white-space: pre-wrap; }
.note { color: #555; font-size: 0.9rem; }
"""


def read_model_cards(models_dir: str | Path) -> dict[str, dict]:
    """The ``card.json`` documents of saved models (``models_dir/<model>/card.json``), by model folder name.

    Only JSON is read (never a pickle); a folder without a card is skipped.
    """
    cards = {}
    for card in sorted(Path(models_dir).glob("*/card.json")):
        cards[card.parent.name] = json.loads(card.read_text(encoding="utf-8"))
    return cards


def build_report_html(
    *,
    title: str = "AFG report",
    project: Project | None = None,
    experiment: ExperimentResult | None = None,
    model_cards: dict[str, dict] | None = None,
    estimate: BlockEstimate | None = None,
    cutoff_ppm: float | None = None,
    targets: pd.DataFrame | None = None,
    proposed_holes: pd.DataFrame | None = None,
    density_t_m3: float = BIF_DENSITY,
    generated: str | None = None,
) -> str:
    """The report as one HTML document (str), plotly.js inlined once, no network access needed.

    Parameters
    ----------
    title : str
    project : Project, optional
        Project summary: holes, samples, elements, cut-offs, CRS.
    experiment : ExperimentResult, optional
        Model comparison (scores with 95 % intervals, paired differences, the plain summary),
        loss curves, predicted vs observed, and the run settings of the model card.
    model_cards : dict, optional
        Model name -> ``card.json`` document (:func:`read_model_cards`).
    estimate : BlockEstimate, optional
        Block model of the targets: variogram (when kriged), grade-tonnage curve and plan map,
        all labelled with its grade (``estimate.grade``: TREO, Ni...).
    cutoff_ppm : float, optional
        Cut-off (ppm) of the estimate's grade for the targets.
    targets, proposed_holes : DataFrame, optional
        :func:`afg_core.products.targets.rank_drill_targets` and ``propose_holes`` outputs.
    density_t_m3 : float
        Dry bulk density (t/m³) of the grade-tonnage curve.
    generated : str, optional
        Time stamp shown under the title; default now (UTC).
    """
    from plotly.offline import get_plotlyjs

    generated = generated or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<h1>{_e(title)}</h1>", f'<p class="meta">Generated {_e(generated)} by AFG.</p>']
    if project is not None:
        parts.append(_project_section(project))
    if estimate is not None and estimate.variogram is not None:
        parts.append(_variogram_section(estimate.variogram, estimate))
    if experiment is not None:
        parts.append(_experiment_section(experiment))
        parts.append(_model_card_section(experiment, model_cards or {}))
    if targets is not None:
        parts.append(_targets_section(targets, proposed_holes, cutoff_ppm, density_t_m3, estimate))
    if estimate is not None:
        parts.append(_block_figures(estimate, cutoff_ppm, density_t_m3, targets, proposed_holes, project))
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def write_report_html(path: str | Path, **content) -> Path:
    """:func:`build_report_html` written to ``path`` (UTF-8)."""
    path = Path(path)
    path.write_text(build_report_html(**content), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ sections


def _project_section(project: Project) -> str:
    holes = project.drillholes
    samples = holes.samples
    settings = project.settings
    facts = pd.DataFrame(
        [
            ("Project", settings.name or project.folder.name),
            ("Coordinate system", settings.crs or "not stated"),
            ("Drill holes", f"{holes.collar['hole_id'].nunique():,d}"),
            ("Assay samples", f"{len(samples):,d}"),
            ("Elements", ", ".join(holes.elements)),
            ("Target elements", ", ".join(settings.target_elements)),
            ("Cut-offs (ppm)", ", ".join(f"{k} {v:,g}" for k, v in settings.cutoffs.items()) or "none"),
            ("Geophysics grids", ", ".join(project.geophysics) or "none"),
            ("Hyperspectral cube", "yes" if project.hyperspectral is not None else "no"),
        ],
        columns=["", "value"],
    )
    description = f'<p class="note">{_e(settings.description)}</p>' if settings.description else ""
    return f"<h2>Project</h2>{description}{_table(facts, text_columns=['', 'value'])}"


def _variogram_section(model: VariogramModel, estimate: BlockEstimate) -> str:
    rows = [(name, getattr(model, name)) for name in ("kind", "nugget", "sill", "range")]
    rows += [
        (name, getattr(model, name)) for name in ("range_minor", "range_vertical") if getattr(model, name)
    ]
    rows += [(f"nested {i + 1}", str(s)) for i, s in enumerate(model.nested)]
    table = pd.DataFrame(rows, columns=["parameter", "value"])
    h = np.linspace(0.0, 1.5 * model.range, 200)
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=h, y=model(h), mode="lines", name=f"{model.kind} model"))
    fig.update_layout(
        **_LAYOUT,
        title=f"Variogram model of log {estimate.grade}",
        xaxis_title="lag (m)",
        yaxis_title="semivariance",
    )
    fitted = f"Fitted automatically to log {estimate.grade} of the samples (the kriging of the block model)."
    if estimate.samples_note:
        fitted += f" {estimate.samples_note}"
    return (
        f'<h2>Variogram</h2><p class="note">{_e(fitted)}</p>'
        f"{_table(table, text_columns=['parameter'])}{_figure(fig)}"
    )


def _experiment_section(result: ExperimentResult) -> str:
    import plotly.graph_objects as go

    parts = ["<h2>Model comparison</h2>", f"<pre>{_e(summary_text(result))}</pre>"]
    scores = result.scores
    columns = [
        c
        for c in (
            "model",
            "grade",
            "rmse",
            "rmse_lo",
            "rmse_hi",
            "mae",
            "r2",
            "log_rmse",
            "class_accuracy",
            "unit",
            "n",
        )
        if c in scores
    ]
    headline = result.sum_name or (result.targets[0] if result.targets else None)
    if headline is not None:
        row = scores[scores["grade"] == headline]
        fig = go.Figure(
            go.Bar(
                x=row["model"],
                y=row["rmse"],
                marker_color=[_MODEL_COLOURS.get(m, "#777") for m in row["model"]],
                error_y=dict(
                    type="data",
                    array=(row["rmse_hi"] - row["rmse"]).to_numpy(),
                    arrayminus=(row["rmse"] - row["rmse_lo"]).to_numpy(),
                ),
            )
        )
        unit = row["unit"].iloc[0] if len(row) else ""
        fig.update_layout(
            **_LAYOUT, title=f"{headline} RMSE on held-out holes (95 % CI)", yaxis_title=f"RMSE ({unit})"
        )
        parts.append(_figure(fig))
    parts.append("<h3>Scores on held-out holes (95 % bootstrap intervals by hole)</h3>")
    parts.append(_headline_first(scores[columns], headline, ["model", "grade", "unit"]))
    if len(result.paired):
        parts.append(
            "<h3>Paired differences (RMSE of the first model minus the second, same resampled holes)</h3>"
        )
        parts.append(_headline_first(result.paired, headline, ["pair", "grade"]))
    if result.histories:
        fig = go.Figure()
        for model, history in result.histories.items():
            colour = _MODEL_COLOURS.get(model, "#777")
            fig.add_trace(
                go.Scatter(x=history["epoch"], y=history["loss"], name=f"{model} training", line_color=colour)
            )
            fig.add_trace(
                go.Scatter(
                    x=history["epoch"],
                    y=history["val_loss"],
                    name=f"{model} validation",
                    line=dict(color=colour, dash="dot"),
                )
            )
        fig.update_layout(
            **_LAYOUT, title="Loss curves (first fold)", xaxis_title="epoch", yaxis_title="loss (log grades)"
        )
        parts.append(_figure(fig))
    if headline is not None and headline in result.predictions:
        fig = go.Figure()
        observed = result.predictions[headline]
        for model in result.config.models:
            column = f"{model}:{headline}"
            if column in result.predictions:
                fig.add_trace(
                    go.Scattergl(
                        x=observed,
                        y=result.predictions[column],
                        mode="markers",
                        name=model,
                        marker=dict(size=4, color=_MODEL_COLOURS.get(model, "#777"), opacity=0.6),
                    )
                )
        finite = observed[np.isfinite(observed) & (observed > 0)]
        if len(finite):
            line = [float(finite.min()), float(finite.max())]
            fig.add_trace(
                go.Scatter(x=line, y=line, mode="lines", name="1:1", line=dict(color="black", dash="dash"))
            )
        fig.update_layout(
            **_LAYOUT,
            title=f"Predicted vs observed {headline}, test holes",
            xaxis=dict(title="observed", type="log"),
            yaxis=dict(title="predicted", type="log"),
        )
        parts.append(_figure(fig))
    return "\n".join(parts)


def _model_card_section(result: ExperimentResult, cards: dict[str, dict]) -> str:
    config = pd.DataFrame(
        [(name, _plain(value)) for name, value in vars(result.config).items()], columns=["setting", "value"]
    )
    parts = [
        "<h2>Model card</h2>",
        f'<p class="note">Task: {_e(result.config.task)}. Targets: {_e(", ".join(result.targets))}, '
        "modelled as natural log of (ppm + 0.001). Split by drill hole: "
        f"{result.split.get('train_holes', 0)} training, {result.split.get('validation_holes', 0)} validation, "
        f"{result.split.get('test_holes', 0)} test holes; test holes never seen in training.</p>",
        "<h3>Run settings</h3>",
        _table(config, text_columns=["setting", "value"]),
    ]
    groups = pd.DataFrame(
        {"feature": list(result.feature_groups), "group": list(result.feature_groups.values())}
    )
    if len(groups):
        parts += ["<h3>Features</h3>", _table(groups, text_columns=["feature", "group"])]
    for name, card in cards.items():
        rows = [
            ("class", card.get("class", "")),
            ("created", card.get("created", "")),
            ("versions", ", ".join(f"{k} {v}" for k, v in card.get("versions", {}).items())),
        ]
        rows += [(f"parameter {k}", _plain(v)) for k, v in card.get("params", {}).items()]
        weights = card.get("card", {}).get("self_weighting")
        if weights:
            rows += [(f"self-weight {k}", f"{v:.3f}") for k, v in weights.items()]
        parts += [
            f"<h3>Saved model: {_e(name)}</h3>",
            _table(pd.DataFrame(rows, columns=["", "value"]), text_columns=["", "value"]),
        ]
    for note in result.notes:
        parts.append(f'<p class="note">Note: {_e(note)}.</p>')
    return "\n".join(parts)


def _targets_section(
    targets: pd.DataFrame,
    holes: pd.DataFrame | None,
    cutoff_ppm: float | None,
    density_t_m3: float,
    estimate: BlockEstimate | None,
) -> str:
    grade = estimate.grade if estimate is not None else "grade"
    where = f" above {cutoff_ppm:,g} ppm {grade}" if cutoff_ppm is not None else ""
    source = f" from {estimate.source}" if estimate is not None else ""
    parts = [
        "<h2>Drill targets</h2>",
        f'<p class="note">{len(targets)} zones of connected blocks likely{_e(where)}{_e(source)}, ranked by contained '
        f"{_e(grade)} x mean probability (density {density_t_m3:g} t/m³). Target = the zone's highest-grade "
        "block.</p>",
        _table(targets, text_columns=[]),
    ]
    if holes is not None and len(holes):
        parts.append(
            "<h3>Proposed holes</h3>"
            '<p class="note">Collar on the surface, straight through the zone\'s core; azimuth clockwise from '
            "north, dip below horizontal (degrees); covered: an existing hole already passes near the core.</p>"
        )
        parts.append(_table(holes, text_columns=[]))
    return "\n".join(parts)


def _block_figures(
    estimate: BlockEstimate,
    cutoff_ppm: float | None,
    density_t_m3: float,
    targets: pd.DataFrame | None,
    holes: pd.DataFrame | None,
    project: Project | None,
) -> str:
    import plotly.graph_objects as go

    name = estimate.grade
    top = 5 * cutoff_ppm if cutoff_ppm else float(np.nanpercentile(estimate.grade_ppm, 99))
    curve = grade_tonnage(estimate, np.linspace(0.0, top, 26), density_t_m3)
    gt = go.Figure()
    gt.add_trace(go.Scatter(x=curve["cutoff_ppm"], y=curve["tonnes"] / 1e6, name="tonnes (Mt)"))
    gt.add_trace(
        go.Scatter(
            x=curve["cutoff_ppm"], y=curve[grade_columns(name).mean], name=f"mean {name} (ppm)", yaxis="y2"
        )
    )
    gt.update_layout(
        **_LAYOUT,
        title=f"Grade-tonnage of {name} ({estimate.source} blocks)",
        xaxis_title=f"{name} cut-off (ppm)",
        yaxis_title="Mt above cut-off",
        yaxis2=dict(title=f"mean {name} (ppm)", overlaying="y", side="right", showgrid=False),
    )

    block = estimate.block
    xs, ys, _ = block.axes()
    grade = block.reshape(np.where(block.flat_mask(), estimate.grade_ppm, np.nan))
    with np.errstate(all="ignore"):
        best = np.nanmax(np.where(np.isfinite(grade), grade, -np.inf), axis=2)
        best[~np.isfinite(best)] = np.nan
        plan_values = np.log10(best).T
    plan = go.Figure(
        go.Heatmap(
            x=xs, y=ys, z=plan_values, colorscale="YlOrRd", colorbar=dict(title="log10 ppm"), name=name
        )
    )
    if project is not None:
        collar = project.drillholes.collar
        plan.add_trace(
            go.Scatter(
                x=collar["x"],
                y=collar["y"],
                mode="markers",
                marker=dict(color="black", size=4),
                name="collars",
            )
        )
    if targets is not None and len(targets):
        plan.add_trace(
            go.Scatter(
                x=targets["target_x"],
                y=targets["target_y"],
                mode="markers+text",
                text=targets["rank"].astype(str),
                textposition="top center",
                marker=dict(symbol="x", size=11, color="#08519c"),
                name="targets",
            )
        )
    if holes is not None and len(holes):
        ends = proposed_hole_ends(holes)
        x = np.column_stack([holes["collar_x"], ends[:, 0], np.full(len(holes), np.nan)]).ravel()
        y = np.column_stack([holes["collar_y"], ends[:, 1], np.full(len(holes), np.nan)]).ravel()
        # A dot at each collar (a vertical hole is only that dot in plan), a line to the end of hole.
        plan.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines+markers",
                line=dict(color="#08519c", width=2),
                marker=dict(size=np.tile([8, 0, 0], len(holes)), color="#08519c"),
                name="proposed holes",
            )
        )
    plan.update_layout(
        **{**_LAYOUT, "height": 600, "margin": dict(l=60, r=20, t=90, b=50)},
        title=f"Plan: highest block {name} in each column, targets and proposed holes",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        xaxis=dict(title="easting (m)"),
        yaxis=dict(title="northing (m)", scaleanchor="x"),
    )
    return f"<h2>Block model</h2>{_figure(gt)}{_figure(plan)}"


# ------------------------------------------------------------------------------ helpers


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _plain(value) -> str:
    """A setting's value as short text (tuples as comma lists, None as 'default')."""
    if value is None:
        return "default"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def format_number(value) -> str:
    """A table cell's number as shown in the report: thousands separated above 100, three
    significant figures below 1, two decimals between; booleans as yes/no, NaN as an en dash."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,d}"
    value = float(value)
    if not np.isfinite(value):
        return "–" if np.isnan(value) else ("∞" if value > 0 else "-∞")
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _table(frame: pd.DataFrame, text_columns: list[str]) -> str:
    """An escaped HTML table; numbers right-aligned through :func:`format_number`."""
    head = "".join(
        f'<th class="text">{_e(c)}</th>' if c in text_columns else f"<th>{_e(c)}</th>" for c in frame.columns
    )
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, values):
            if column in text_columns or not isinstance(value, int | float | np.number | np.bool_):
                cells.append(f'<td class="text">{_e(value)}</td>')
            else:
                cells.append(f"<td>{_e(format_number(value))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def _headline_first(frame: pd.DataFrame, headline: str | None, text_columns: list[str]) -> str:
    """The headline grade's rows, then every grade folded in a ``<details>`` (no script needed)."""
    rows = frame[frame["grade"] == headline]
    if not len(rows) or len(rows) == len(frame):
        return _table(frame, text_columns)
    return (
        f"{_table(rows, text_columns)}<details><summary>All grades ({len(frame)} rows)</summary>"
        f"{_table(frame, text_columns)}</details>"
    )


def _figure(fig) -> str:
    # plotly.js is in the page head once; each figure is only its div and drawing call.
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
