"""Grade models: the down-hole LSTM, a feed-forward baseline and a kriging baseline.

All three predict log grades (ppm) of the target elements on held-out drill holes and
are scored by one path (:func:`score_models`). The held-out holes' assays never reach
training: normalisation statistics come from training holes, early stopping watches
a validation set of other training holes, and the kriging baseline krige from training
holes only.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.geochem import total_rare_earth_oxides
from afg_core.geostat.estimation import ordinary_kriging
from afg_core.geostat.fitting import auto_variogram
from afg_core.learn.features import Sequences, Standardiser, build_sequences, split_holes, unwindow
from afg_core.metrics import grade_class_accuracy, regression_scores
from afg_core.transforms import grade_from_log


@dataclass(frozen=True)
class TrainingConfig:
    """Settings of one training run.

    ``sequence_length`` is in samples (1-2 m each); ``patience`` in epochs.
    """

    epochs: int = 60
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 8
    sequence_length: int = 16
    stride: int = 8
    test_fraction: float = 0.2
    validation_fraction: float = 0.15
    lstm_units: tuple[int, ...] = (128, 128)
    dense_units: tuple[int, ...] = (64, 32)
    seed: int = 0


@dataclass
class Experiment:
    """A hole-grouped split of a feature table, standardised on training holes only."""

    table: pd.DataFrame
    features: list[str]
    targets: list[str]
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    input_scaler: Standardiser
    target_scaler: Standardiser

    def inputs(self) -> np.ndarray:
        return self.input_scaler.transform(self.table[self.features].to_numpy(dtype=float))

    def scaled_targets(self) -> np.ndarray:
        return (
            self.table[self.targets].to_numpy(dtype=float) - self.target_scaler.mean
        ) / self.target_scaler.scale

    def sequences(self, rows: np.ndarray, config: TrainingConfig) -> Sequences:
        subset = self.table.loc[rows]
        return build_sequences(
            subset, self.inputs()[rows], self.scaled_targets()[rows], config.sequence_length, config.stride
        )


def prepare_experiment(
    table: pd.DataFrame, features: list[str], targets: list[str], config: TrainingConfig
) -> Experiment:
    """Split by hole into train / validation / test and fit the scalers on train only."""
    train_all, test = split_holes(table["hole_id"], config.test_fraction, config.seed)
    inner_train, validation = split_holes(
        table.loc[train_all, "hole_id"], config.validation_fraction, config.seed + 1
    )
    train = np.zeros(len(table), dtype=bool)
    val = np.zeros(len(table), dtype=bool)
    train[np.flatnonzero(train_all)[inner_train]] = True
    val[np.flatnonzero(train_all)[validation]] = True
    input_scaler = Standardiser.fit(table.loc[train, features].to_numpy(dtype=float))
    target_scaler = Standardiser.fit(table.loc[train, targets].to_numpy(dtype=float))
    return Experiment(
        table.reset_index(drop=True), features, targets, train, val, test, input_scaler, target_scaler
    )


def build_lstm(n_features: int, n_targets: int, config: TrainingConfig):
    """Stacked LSTM over down-hole sequences, one grade vector per step."""
    import keras

    layers = [keras.Input(shape=(None, n_features))]
    layers += [keras.layers.LSTM(units, return_sequences=True) for units in config.lstm_units]
    layers += [keras.layers.Dense(units, activation="relu") for units in config.dense_units]
    layers.append(keras.layers.Dense(n_targets))
    model = keras.Sequential(layers, name="afg_lstm")
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
    return model


def build_fnn(n_features: int, n_targets: int, config: TrainingConfig):
    """Feed-forward baseline on single samples (no down-hole context)."""
    import keras

    layers = [keras.Input(shape=(n_features,))]
    layers += [keras.layers.Dense(units, activation="relu") for units in config.dense_units]
    layers.append(keras.layers.Dense(n_targets))
    model = keras.Sequential(layers, name="afg_fnn")
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
    return model


EpochCallback = Callable[[str, int, dict], None]


def _callbacks(name: str, config: TrainingConfig, on_epoch: EpochCallback | None) -> list:
    import keras

    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True)
    ]
    if on_epoch is not None:
        callbacks.append(
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: on_epoch(name, epoch, dict(logs or {}))
            )
        )
    return callbacks


@dataclass
class TrainedModel:
    """A fitted Keras model with its loss history (per epoch, standardised log units)."""

    name: str
    model: object
    history: pd.DataFrame


def train_lstm(
    experiment: Experiment, config: TrainingConfig, on_epoch: EpochCallback | None = None
) -> TrainedModel:
    """Train the LSTM with early stopping on validation holes."""
    import keras

    keras.utils.set_random_seed(config.seed)
    train = experiment.sequences(experiment.train, config)
    val = experiment.sequences(experiment.validation, config)
    model = build_lstm(len(experiment.features), len(experiment.targets), config)
    history = model.fit(
        train.inputs,
        train.targets,
        sample_weight=train.weights,
        validation_data=(val.inputs, val.targets, val.weights),
        epochs=config.epochs,
        batch_size=config.batch_size,
        verbose=0,
        callbacks=_callbacks("LSTM", config, on_epoch),
    )
    return TrainedModel("LSTM", model, pd.DataFrame(history.history))


def train_fnn(
    experiment: Experiment, config: TrainingConfig, on_epoch: EpochCallback | None = None
) -> TrainedModel:
    """Train the feed-forward baseline with early stopping on validation holes."""
    import keras

    keras.utils.set_random_seed(config.seed)
    x, y = experiment.inputs(), experiment.scaled_targets()
    weight = np.isfinite(y).all(axis=1).astype(np.float32)
    y = np.nan_to_num(y)
    t, v = experiment.train, experiment.validation
    model = build_fnn(len(experiment.features), len(experiment.targets), config)
    history = model.fit(
        x[t],
        y[t],
        sample_weight=weight[t],
        validation_data=(x[v], y[v], weight[v]),
        epochs=config.epochs,
        batch_size=config.batch_size,
        verbose=0,
        callbacks=_callbacks("FNN", config, on_epoch),
    )
    return TrainedModel("FNN", model, pd.DataFrame(history.history))


def predict_lstm(
    trained: TrainedModel, experiment: Experiment, rows: np.ndarray, config: TrainingConfig
) -> pd.DataFrame:
    """Predicted log grades for the given rows (overlapping windows averaged)."""
    sequences = experiment.sequences(rows, config)
    scaled = trained.model.predict(sequences.inputs, verbose=0, batch_size=256)
    per_row = unwindow(sequences, scaled, int(rows.sum()))
    return pd.DataFrame(
        experiment.target_scaler.inverse(per_row), columns=experiment.targets, index=np.flatnonzero(rows)
    )


def predict_fnn(trained: TrainedModel, experiment: Experiment, rows: np.ndarray) -> pd.DataFrame:
    """Predicted log grades for the given rows."""
    scaled = trained.model.predict(experiment.inputs()[rows], verbose=0, batch_size=1024)
    return pd.DataFrame(
        experiment.target_scaler.inverse(scaled), columns=experiment.targets, index=np.flatnonzero(rows)
    )


def predict_kriging(experiment: Experiment, rows: np.ndarray, neighbours: int = 32) -> pd.DataFrame:
    """Baseline: ordinary kriging of each log grade from training + validation holes.

    A variogram is fitted per element on those holes only (:func:`auto_variogram`).
    """
    known = experiment.train | experiment.validation
    coords = experiment.table[["x", "y", "z"]].to_numpy(dtype=float)
    holes = experiment.table["hole_id"].to_numpy()
    out = {}
    for target in experiment.targets:
        values = experiment.table[target].to_numpy(dtype=float)
        use = known & np.isfinite(values)
        model = auto_variogram(coords[use], values[use]).model
        # The per-hole cap keeps the neighbourhood from collapsing onto one or two holes.
        out[target] = ordinary_kriging(
            coords[use], values[use], coords[rows], model, neighbours=neighbours, hole_ids=holes[use]
        ).estimate
    return pd.DataFrame(out, index=np.flatnonzero(rows))


def score_models(
    experiment: Experiment, predictions: dict[str, pd.DataFrame], cutoff_treo: float, n_boot: int = 500
) -> pd.DataFrame:
    """Scores of each model on the test holes: log space and ppm, with 95 % intervals.

    Returns
    -------
    DataFrame
        Rows (model, element) for every target plus ``TREO``; columns RMSE/MAE/R2 with
        ``_lo``/``_hi`` bounds, in log units for elements, ppm for TREO, and the grade-class
        accuracy (with interval) on the TREO row.
    """
    test = experiment.test
    holes = experiment.table.loc[test, "hole_id"]
    observed = experiment.table.loc[test, experiment.targets]
    elements = [t.removeprefix("log_") for t in experiment.targets]
    observed_treo = total_rare_earth_oxides(
        pd.DataFrame(grade_from_log(observed.to_numpy()), columns=elements)
    )
    complete = observed.notna().all(axis=1).to_numpy()
    observed_treo[~complete] = np.nan
    parts = []
    for name, predicted in predictions.items():
        scores = regression_scores(observed, predicted.loc[observed.index], holes, n_boot)
        predicted_treo = total_rare_earth_oxides(
            pd.DataFrame(grade_from_log(predicted.loc[observed.index].to_numpy()), columns=elements)
        )
        treo_scores = regression_scores(
            pd.DataFrame({"TREO": observed_treo.to_numpy()}),
            pd.DataFrame({"TREO": predicted_treo.to_numpy()}),
            holes.reset_index(drop=True),
            n_boot,
        )
        accuracy = grade_class_accuracy(
            observed_treo.to_numpy(), predicted_treo.to_numpy(), holes.to_numpy(), cutoff_treo
        )
        treo_scores[["class_accuracy", "class_accuracy_lo", "class_accuracy_hi"]] = accuracy
        table = pd.concat([scores, treo_scores])
        table.insert(0, "model", name)
        parts.append(table)
    result = pd.concat(parts)
    result.index.name = "target"
    return result.reset_index()


@dataclass
class ModelCard:
    """What a saved model needs to be used again and judged (written as JSON)."""

    name: str
    created: str
    keras_backend: str
    features: list[str]
    targets: list[str]
    input_mean: list[float]
    input_scale: list[float]
    target_mean: list[float]
    target_scale: list[float]
    config: dict
    test_holes: list[str]
    scores: list[dict] = field(default_factory=list)


def save_model(
    trained: TrainedModel,
    experiment: Experiment,
    config: TrainingConfig,
    folder: str | Path,
    scores: pd.DataFrame | None = None,
) -> Path:
    """Save ``<name>.keras`` and its JSON model card in ``folder``; returns the .keras path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{trained.name.lower()}_{stamp}.keras"
    trained.model.save(path)
    card = ModelCard(
        name=trained.name,
        created=stamp,
        keras_backend=os.environ.get("KERAS_BACKEND", ""),
        features=experiment.features,
        targets=experiment.targets,
        input_mean=experiment.input_scaler.mean.tolist(),
        input_scale=experiment.input_scaler.scale.tolist(),
        target_mean=experiment.target_scaler.mean.tolist(),
        target_scale=experiment.target_scaler.scale.tolist(),
        config=asdict(config),
        test_holes=sorted(experiment.table.loc[experiment.test, "hole_id"].unique().tolist()),
        scores=[] if scores is None else json.loads(scores.to_json(orient="records")),
    )
    path.with_suffix(".json").write_text(json.dumps(asdict(card), indent=2))
    return path
