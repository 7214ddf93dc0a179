"""Train: the down-hole LSTM against feed-forward and kriging baselines, on held-out holes."""

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from afg_core.errors import InputError
from afg_core.learn import TrainingConfig, prepare_training, train_and_score
from afg_core.transforms import grade_from_log
from ui.plots import loss_curves
from ui.state import current_project, project_key, project_pca

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"

st.title("Train")
project = current_project()
pca = project_pca(3)


with st.sidebar:
    st.markdown("#### Training settings")
    epochs = st.number_input("Maximum epochs", 1, 500, 40)
    patience = st.number_input("Early-stopping patience (epochs)", 1, 50, 6)
    batch_size = st.select_slider("Batch size", [16, 32, 64, 128, 256], 64)
    length = st.select_slider("Sequence length (samples)", [8, 16, 32], 16)
    test_fraction = st.slider("Held-out holes", 0.1, 0.4, 0.2, step=0.05)
    seed = st.number_input("Seed", 0, 10_000, 0)
config = TrainingConfig(
    epochs=int(epochs),
    patience=int(patience),
    batch_size=int(batch_size),
    sequence_length=int(length),
    stride=max(int(length) // 2, 1),
    test_fraction=test_fraction,
    seed=int(seed),
)


@st.cache_resource(show_spinner="Building the feature table...", max_entries=4)
def _experiment(key: str, has_pca: bool, config: TrainingConfig):
    return prepare_training(project, config, pca if has_pca else None)


try:
    experiment = _experiment(project_key(), pca is not None, config)
except InputError as error:
    st.warning(str(error))
    st.stop()
features, targets = experiment.features, experiment.targets

holes = experiment.table["hole_id"]
cols = st.columns(4)
cols[0].metric("Training holes", holes[experiment.train].nunique())
cols[1].metric(
    "Validation holes", holes[experiment.validation].nunique(), help="Early stopping watches these"
)
cols[2].metric("Held-out test holes", holes[experiment.test].nunique(), help="Never seen in training")
cols[3].metric("Features", len(features))
with st.expander("Features and targets"):
    st.write("**Inputs:** " + ", ".join(features))
    st.write("**Targets (log ppm):** " + ", ".join(t.removeprefix("log_") for t in targets))
    st.caption(
        "Split by drill hole. Normalisation statistics come from training holes only; the kriging "
        "baseline krige from training and validation holes only."
    )

key = (project_key(), repr(config))
results = st.session_state.setdefault("training_results", {})

train_clicked = st.button("Train LSTM and baselines", type="primary")
chart = st.empty()
if train_clicked:
    progress = st.progress(0.0, text="Training the LSTM...")
    history: list[dict] = []

    def on_epoch(name: str, epoch: int, logs: dict) -> None:
        history.append(
            {"model": name, "epoch": epoch + 1, "loss": logs["loss"], "val_loss": logs["val_loss"]}
        )
        chart.plotly_chart(
            loss_curves(pd.DataFrame(history)), width="stretch", key=f"live-loss-{len(history)}"
        )
        share = (epoch + 1) / config.epochs
        progress.progress(
            min(share, 1.0), text=f"{name}: epoch {epoch + 1}, validation loss {logs['val_loss']:.4f}"
        )

    run = train_and_score(experiment, config, project.settings.cutoff("TREO"), on_epoch, MODELS_DIR)
    progress.empty()
    results[key] = {
        "history": run.history,
        "scores": run.scores,
        "predictions": run.predictions,
        "saved": run.saved,
    }

if key not in results:
    st.info(
        "Press the button to train. The LSTM (2 x LSTM 128, Dense 64, Dense 32) reads sequences of samples down "
        "each hole; training stops early when the validation loss stops improving."
    )
    st.stop()

result = results[key]
chart.plotly_chart(loss_curves(result["history"]), width="stretch", key="loss-curves")
st.caption(f"Saved LSTM: {result['saved'].name} with its model card (JSON) in models/.")

scores = result["scores"]
st.subheader("Scores on held-out holes (95 % intervals: bootstrap over holes)")
treo = scores.loc[scores["target"] == "TREO"]
cols = st.columns(len(treo))
for column, row in zip(cols, treo.itertuples()):
    column.metric(
        f"{row.model}: TREO class accuracy",
        f"{100 * row.class_accuracy:.0f} %",
        help=f"95 % CI {100 * row.class_accuracy_lo:.0f}-{100 * row.class_accuracy_hi:.0f} %",
    )
per_element = scores.loc[scores["target"] != "TREO"].copy()
per_element["element"] = per_element["target"].str.removeprefix("log_")
bars = go.Figure()
for name, part in per_element.groupby("model", sort=False):
    bars.add_trace(
        go.Bar(
            x=part["element"],
            y=part["R2"],
            name=name,
            error_y=dict(
                type="data",
                symmetric=False,
                array=part["R2_hi"] - part["R2"],
                arrayminus=part["R2"] - part["R2_lo"],
            ),
        )
    )
bars.update_layout(
    template="plotly_white",
    barmode="group",
    height=380,
    yaxis_title="R² (log ppm)",
    title="R² per element on held-out holes",
    margin=dict(l=10, r=10, t=40, b=10),
)
st.plotly_chart(bars, width="stretch")
st.dataframe(scores.round(3), hide_index=True, width="stretch")

st.subheader("Predicted vs observed")
element = st.selectbox("Element", [t.removeprefix("log_") for t in targets])
observed = grade_from_log(experiment.table.loc[experiment.test, f"log_{element}"])
scatter = go.Figure()
for name, predicted in result["predictions"].items():
    scatter.add_trace(
        go.Scattergl(
            x=observed,
            y=grade_from_log(predicted[f"log_{element}"]),
            mode="markers",
            name=name,
            marker=dict(size=4, opacity=0.5),
        )
    )
low, high = float(np.nanmin(observed)), float(np.nanmax(observed))
scatter.add_trace(
    go.Scatter(x=[low, high], y=[low, high], mode="lines", name="1:1", line=dict(color="black"))
)
scatter.update_layout(
    template="plotly_white",
    height=480,
    xaxis_type="log",
    yaxis_type="log",
    xaxis_title=f"observed {element} (ppm)",
    yaxis_title=f"predicted {element} (ppm)",
    margin=dict(l=10, r=10, t=20, b=10),
)
st.plotly_chart(scatter, width="stretch")
