"""Train: four models (LSTM, FNN, kriging, boosting) on fused features, scored on held-out holes."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from afg_core.errors import InputError
from afg_core.learn import FEATURE_GROUPS, PRESETS, RunConfig, run_experiment
from afg_core.learn.experiment import hole_folds, resolve_targets
from afg_core.products.reports import summary_text, write_run_outputs
from ui.plots import (
    ablation_chart,
    importance_chart,
    loss_curves,
    predicted_vs_observed,
    residuals_down_hole,
    score_bars,
    weight_trajectories,
)
from ui.state import current_project, project_key, project_pca

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
MODEL_LABELS = {"lstm": "LSTM", "fnn": "FNN", "kriging": "Kriging", "boosting": "Boosting"}

st.title("Train")
project = current_project()
pca = project_pca(3)

with st.sidebar:
    st.markdown("#### Experiment")
    task = st.radio(
        "Task",
        ["along-holes", "volume"],
        horizontal=True,
        help="Along holes: predict assays from co-located measurements (XRF majors, logs). "
        "In the volume: predict unsampled cells from what is known everywhere.",
    )
    models = st.multiselect(
        "Models", list(MODEL_LABELS), default=list(MODEL_LABELS), format_func=MODEL_LABELS.get
    )
    preset = st.selectbox("Feature set", list(PRESETS), help="paper: the method paper's 11 inputs")
    groups = st.multiselect("Feature groups", list(FEATURE_GROUPS), default=list(PRESETS[preset].groups))
    epochs = st.number_input("Maximum epochs", 1, 500, 30)
    patience = st.number_input("Early-stopping patience (epochs)", 1, 50, 6)
    window = st.select_slider("Window down the hole (samples)", [8, 16, 32], 16)
    optimizer = st.radio(
        "Optimiser", ["adam", "sgd"], horizontal=True, help="sgd: momentum 0.9, as the paper"
    )
    self_weighting = st.toggle("Self-weighting loop", help="Feature weights updated on validation holes")
    folds = st.number_input("Folds (1 = one 70/15/15 split)", 1, 10, 1)
    ablation = st.toggle("Ablation by feature group", value=True)
    volume = st.toggle("Predict the block model", value=True)
    seed = st.number_input("Seed", 0, 10_000, 0)

if not models:
    st.warning("Choose at least one model.")
    st.stop()
config = RunConfig(
    task=task,
    models=tuple(models),
    features=preset,
    groups=tuple(groups),
    epochs=int(epochs),
    patience=int(patience),
    window=int(window),
    optimizer=optimizer,
    self_weighting=self_weighting,
    folds=int(folds),
    ablation=ablation,
    volume=volume,
    seed=int(seed),
)
try:
    targets = resolve_targets(project, config)
    samples = project.drillholes.samples
    holes = samples.loc[samples[targets].notna().any(axis=1), "hole_id"].to_numpy()
    train_holes, val_holes, test_holes = hole_folds(holes, config)[0]
except InputError as error:
    st.warning(str(error))
    st.stop()

cols = st.columns(4)
cols[0].metric("Training holes", len(train_holes))
cols[1].metric("Validation holes", len(val_holes), help="Early stopping and self-weighting watch these")
cols[2].metric("Held-out test holes", len(test_holes), help="Never seen in training")
cols[3].metric("Targets", len(targets))
st.caption(
    "Split by drill hole. Kriged fields and gradients for held-out holes come from training holes only; "
    "a training row's come from the other training holes (its own hole left out)."
)

key = (project_key(), repr(config))
results = st.session_state.setdefault("experiments", {})

clicked = st.button("Train and compare", type="primary")
chart = st.empty()
if clicked:
    progress = st.progress(0.0, text="Starting...")
    history: list[dict] = []

    def on_epoch(name: str, epoch: int, logs: dict) -> None:
        history.append(
            {
                "model": MODEL_LABELS[name.lower()] if name.lower() in MODEL_LABELS else name,
                "epoch": epoch + 1,
                "loss": logs.get("loss"),
                "val_loss": logs.get("val_loss"),
            }
        )
        chart.plotly_chart(
            loss_curves(pd.DataFrame(history)), width="stretch", key=f"live-loss-{len(history)}"
        )

    def on_progress(share: float, message: str) -> None:
        progress.progress(min(share, 1.0), text=message)

    result = run_experiment(project, config, pca, progress=on_progress, on_epoch=on_epoch)
    folder = MODELS_DIR / dt.datetime.now(dt.UTC).strftime("run_%Y%m%dT%H%M%SZ")
    write_run_outputs(result, folder, project_name=project.settings.name)
    progress.empty()
    results[key] = {"result": result, "folder": folder, "project": project_key()}
    st.session_state["latest_experiment"] = results[key]

if key not in results:
    st.info(
        "Press the button to train. The LSTM (2 x LSTM 128, Dense 64, Dense 32) reads windows of samples down "
        "each hole; the FNN reads single samples; boosting is what a data scientist tries first; kriging is "
        "the geostatistician's baseline. Training stops early when the validation loss stops improving."
    )
    st.stop()

result = results[key]["result"]
histories = [h.assign(model=MODEL_LABELS[m]) for m, h in result.histories.items()]
if histories:
    chart.plotly_chart(loss_curves(pd.concat(histories)), width="stretch", key="loss-curves")
st.caption(f"Saved: {results[key]['folder'].name} in models/ (model folders with card.json, metrics.json).")

st.subheader("What won")
st.text(summary_text(result))
scores = result.scores
headline = result.sum_name or targets[0]
row = scores[scores["grade"] == headline].set_index("model")
cols = st.columns(len(row))
for column, (model, values) in zip(cols, row.iterrows()):
    label = f"{MODEL_LABELS[model]}: {headline} RMSE"
    column.metric(
        label,
        f"{values['rmse']:,.0f} {values['unit']}",
        help=f"95 % CI {values['rmse_lo']:,.0f}-{values['rmse_hi']:,.0f}",
    )
    if np.isfinite(values.get("class_accuracy", np.nan)):
        column.metric(
            f"{MODEL_LABELS[model]}: {headline} class accuracy",
            f"{100 * values['class_accuracy']:.0f} %",
            help=f"95 % CI {100 * values['class_accuracy_lo']:.0f}-{100 * values['class_accuracy_hi']:.0f} %",
        )
st.plotly_chart(score_bars(scores, MODEL_LABELS), width="stretch")
st.dataframe(scores.round(3), hide_index=True, width="stretch")
st.markdown("**Paired differences** (RMSE of the first model minus the second, same resampled holes)")
st.dataframe(result.paired.round(3), hide_index=True, width="stretch")

st.subheader("Predicted vs observed")
grade = st.selectbox(
    "Grade",
    [c for c in result.predictions.columns if f"{config.models[0]}:{c}" in result.predictions.columns],
)
st.plotly_chart(
    predicted_vs_observed(result.predictions, grade, config.models, MODEL_LABELS), width="stretch"
)
hole = st.selectbox("Residuals down hole", sorted(result.predictions["hole_id"].unique()))
st.plotly_chart(
    residuals_down_hole(result.predictions, hole, grade, config.models, MODEL_LABELS), width="stretch"
)

if result.self_weighting:
    st.subheader("Self-weighting")
    for model, weighting in result.self_weighting.items():
        st.plotly_chart(weight_trajectories(weighting.weight_history, MODEL_LABELS[model]), width="stretch")
if len(result.ablation):
    st.subheader("Ablation and permutation importance")
    left, right = st.columns(2)
    left.plotly_chart(ablation_chart(result.ablation), width="stretch")
    right.plotly_chart(importance_chart(result.importance, MODEL_LABELS), width="stretch")
for note in result.notes:
    st.caption(f"Note: {note}")
