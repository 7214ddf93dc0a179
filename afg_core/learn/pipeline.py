"""The one training pipeline: project -> features -> hole split -> LSTM, FNN, kriging -> scores.

The Train page and ``python -m afg_core train`` both call :func:`prepare_training` and
:func:`train_and_score`, so a result on screen and one from the command line come from
the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from afg_core.errors import InputError
from afg_core.io.project import Project
from afg_core.learn.features import sample_features
from afg_core.learn.training import (
    EpochCallback,
    Experiment,
    TrainedModel,
    TrainingConfig,
    predict_fnn,
    predict_kriging,
    predict_lstm,
    prepare_experiment,
    save_model,
    score_models,
    train_fnn,
    train_lstm,
)
from afg_core.spectral.pca import SpectralPCA


@dataclass(frozen=True, eq=False)
class TrainingRun:
    """Everything one training run produced.

    Attributes
    ----------
    experiment : Experiment
        The feature table and its hole split.
    models : dict
        ``{"LSTM": TrainedModel, "FNN": TrainedModel}``.
    predictions : dict
        Model name -> predicted log grades on the test holes (the kriging baseline included).
    scores : DataFrame
        :func:`score_models` on the test holes.
    history : DataFrame
        ``model, epoch, loss, val_loss`` per epoch (standardised log units).
    saved : Path or None
        The saved LSTM (``.keras``, with its JSON card), when a folder was given.
    """

    experiment: Experiment
    models: dict[str, TrainedModel]
    predictions: dict[str, pd.DataFrame]
    scores: pd.DataFrame
    history: pd.DataFrame
    saved: Path | None


def prepare_training(project: Project, config: TrainingConfig, pca: SpectralPCA | None = None) -> Experiment:
    """Feature table of the project's samples, split by hole, scalers fitted on training holes.

    Raises
    ------
    InputError
        When none of the project's ``target_elements`` is in the assays.
    """
    table, features = sample_features(project, pca)
    targets = [f"log_{e}" for e in project.settings.target_elements if f"log_{e}" in table]
    if not targets:
        raise InputError(
            "none of the target elements is in the assays",
            file="project.toml",
            column="target_elements",
            fix="list elements that assay.csv holds in target_elements",
        )
    return prepare_experiment(table, features, targets, config)


def train_and_score(
    experiment: Experiment,
    config: TrainingConfig,
    cutoff_ppm: float,
    on_epoch: EpochCallback | None = None,
    models_dir: str | Path | None = None,
) -> TrainingRun:
    """Train the LSTM and FNN with early stopping, krige the baseline, score all on the test holes.

    Parameters
    ----------
    experiment : Experiment
        From :func:`prepare_training`.
    config : TrainingConfig
    cutoff_ppm : float
        TREO cut-off (ppm) of the grade classes.
    on_epoch : callable, optional
        ``on_epoch(model_name, epoch, logs)`` after every epoch (live curves, progress).
    models_dir : path, optional
        Save the LSTM and its model card there.
    """
    history: list[dict] = []

    def record(name: str, epoch: int, logs: dict) -> None:
        history.append(
            {"model": name, "epoch": epoch + 1, "loss": logs["loss"], "val_loss": logs["val_loss"]}
        )
        if on_epoch is not None:
            on_epoch(name, epoch, logs)

    lstm = train_lstm(experiment, config, record)
    fnn = train_fnn(experiment, config, record)
    test = experiment.test
    predictions = {
        "LSTM": predict_lstm(lstm, experiment, test, config),
        "FNN": predict_fnn(fnn, experiment, test),
        "Kriging": predict_kriging(experiment, test),
    }
    scores = score_models(experiment, predictions, cutoff_ppm)
    saved = save_model(lstm, experiment, config, models_dir, scores) if models_dir is not None else None
    return TrainingRun(
        experiment,
        {"LSTM": lstm, "FNN": fnn},
        predictions,
        scores,
        pd.DataFrame(history, columns=["model", "epoch", "loss", "val_loss"]),
        saved,
    )
