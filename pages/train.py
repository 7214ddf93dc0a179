"""Train: four models (LSTM, FNN, kriging, boosting) on fused features, scored on held-out holes.

Training runs in the background (ui.training): the page shows its progress and live loss curves in
a fragment that refreshes itself, so the rest of the page, other pages and other sessions stay
responsive; leaving the page and coming back finds the run still going.
"""

import numpy as np
import pandas as pd
import streamlit as st

from afg_core.errors import InputError
from afg_core.learn import FEATURE_GROUPS, PRESETS, RunConfig
from afg_core.learn.experiment import hole_folds, resolve_targets
from afg_core.products.reports import summary_text, verdict_sentence
from ui.plots import (
    ablation_chart,
    importance_chart,
    loss_curves,
    predicted_vs_observed,
    residuals_down_hole,
    score_bars,
    weight_trajectories,
)
from ui.state import compute_client, current_project, project_key, project_pca
from ui.training import RUN, current_run, start_run

MODEL_LABELS = {"lstm": "LSTM", "fnn": "FNN", "kriging": "Kriging", "boosting": "Boosting"}
REFRESH_S = 1.0  # s between refreshes of the progress bar and loss curves while training
FORM = {
    "train_task": "along-holes",
    "train_models": list(MODEL_LABELS),
    "train_preset": next(iter(PRESETS)),
    "train_groups": list(PRESETS[next(iter(PRESETS))].groups),
    "train_epochs": 30,
    "train_patience": 6,
    "train_window": 16,
    "train_optimizer": "adam",
    "train_self_weighting": False,
    "train_folds": 1,
    "train_ablation": True,
    "train_volume": True,
    "train_seed": 0,
}
SAVED_FORM = "train_form"  # Streamlit drops a widget's value while its page is not shown; this keeps it

st.title("Train")
project = current_project()
pca = project_pca(3)
run = current_run()
# Start's callback ran before this script. The form is locked from the next full run on: a widget
# drawn disabled drops the value the browser sent with the click, so it must not be locked in this one.
locked = run is not None and not run.snapshot().finished
starting = st.session_state.pop("train_start", False) and not locked
running = starting or locked
st.session_state.pop("train_lock_form", None)  # only a refresh of the live fragment acts on it
saved = st.session_state.get(SAVED_FORM, {})
for name, default in FORM.items():
    if name not in st.session_state:
        st.session_state[name] = saved.get(name, default)


def _preset_groups() -> None:
    st.session_state["train_groups"] = list(PRESETS[st.session_state["train_preset"]].groups)


with st.sidebar:
    st.markdown("#### Experiment")
    if locked:
        st.caption("Locked while this session trains: these are the settings of the running run.")
    task = st.radio(
        "Task",
        ["along-holes", "volume"],
        horizontal=True,
        help="Along holes: predict assays from co-located measurements (XRF majors, logs). "
        "In the volume: predict unsampled cells from what is known everywhere.",
        key="train_task",
        disabled=locked,
    )
    models = st.multiselect(
        "Models", list(MODEL_LABELS), format_func=MODEL_LABELS.get, key="train_models", disabled=locked
    )
    preset = st.selectbox(
        "Feature set",
        list(PRESETS),
        help="paper: the method paper's 11 inputs",
        key="train_preset",
        on_change=_preset_groups,
        disabled=locked,
    )
    groups = st.multiselect("Feature groups", list(FEATURE_GROUPS), key="train_groups", disabled=locked)
    epochs = st.number_input("Maximum epochs", 1, 500, key="train_epochs", disabled=locked)
    patience = st.number_input(
        "Early-stopping patience (epochs)", 1, 50, key="train_patience", disabled=locked
    )
    window = st.select_slider(
        "Window down the hole (samples)", [8, 16, 32], key="train_window", disabled=locked
    )
    optimizer = st.radio(
        "Optimiser",
        ["adam", "sgd"],
        horizontal=True,
        help="sgd: momentum 0.9, as the paper",
        key="train_optimizer",
        disabled=locked,
    )
    self_weighting = st.toggle(
        "Self-weighting loop",
        help="Feature weights updated on validation holes",
        key="train_self_weighting",
        disabled=locked,
    )
    folds = st.number_input("Folds (1 = one 70/15/15 split)", 1, 10, key="train_folds", disabled=locked)
    ablation = st.toggle("Ablation by feature group", key="train_ablation", disabled=locked)
    volume = st.toggle("Predict the block model", key="train_volume", disabled=locked)
    seed = st.number_input("Seed", 0, 10_000, key="train_seed", disabled=locked)
st.session_state[SAVED_FORM] = {name: st.session_state[name] for name in FORM}

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


def _labelled(history: pd.DataFrame) -> pd.DataFrame:
    return history.assign(model=[MODEL_LABELS.get(m.lower(), m) for m in history["model"]])


@st.fragment(run_every=REFRESH_S)
def live_run() -> None:
    """Progress, Stop and live loss curves of the running run; refreshes itself, not the page."""
    run = st.session_state.get(RUN)
    snapshot = run.snapshot() if run is not None else None
    if snapshot is None or snapshot.finished or st.session_state.pop("train_lock_form", False):
        st.rerun()  # the whole page: results, how the run ended, or the form locked after Start
    if snapshot.state == "queued":
        st.info("Waiting for another session's training run to finish (runs take turns on this server).")
    minutes, seconds = divmod(int(snapshot.elapsed_s), 60)
    text = f"{snapshot.message} · {minutes}:{seconds:02d} · {snapshot.epochs} network epochs"
    st.progress(snapshot.share, text=text)
    if snapshot.stop_requested or st.button(
        "Stop", help="Stops at the end of the current epoch; nothing of the run is saved"
    ):
        run.job.stop()
        st.caption("Stopping at the end of the current epoch or step...")
    if len(snapshot.history):
        st.plotly_chart(loss_curves(_labelled(snapshot.history)), width="stretch", key="live-loss")


st.button(
    "Start training",
    type="primary",
    disabled=running,
    help="Trains in the background: you can switch pages and come back; Stop ends it",
    on_click=lambda: st.session_state.update(train_start=True),
)
if starting:
    run = start_run(project, config, pca, key, project_key(), client=compute_client())
if running:
    live_run()
    if starting:
        st.session_state["train_lock_form"] = True
    st.stop()
if run is not None and run.snapshot().state == "stopped":
    st.warning(f"Training {run.snapshot().message}. Nothing of that run was saved.")
elif run is not None and run.snapshot().state == "failed":
    st.error(f"Training failed: {run.snapshot().error}")

if key not in results:
    st.info(
        "Press Start to train. The LSTM (2 x LSTM 128, Dense 64, Dense 32) reads windows of samples down "
        "each hole; the FNN reads single samples; boosting is what a data scientist tries first; kriging is "
        "the geostatistician's baseline. Training stops early when the validation loss stops improving."
    )
    st.stop()

result = results[key]["result"]
histories = [h.assign(model=MODEL_LABELS[m]) for m, h in result.histories.items()]
if histories:
    st.plotly_chart(loss_curves(pd.concat(histories)), width="stretch", key="loss-curves")
st.caption(f"Saved: {results[key]['folder'].name} in models/ (model folders with card.json, metrics.json).")

st.subheader("What won")
st.markdown(f"**{verdict_sentence(result)}**")
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
