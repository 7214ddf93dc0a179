"""Learning: feature tables, hole-grouped splits, the LSTM and baselines, scores on held-out holes."""

from afg_core.learn.features import (
    Sequences,
    Standardiser,
    build_sequences,
    sample_features,
    split_holes,
    unwindow,
)
from afg_core.learn.pipeline import TrainingRun, prepare_training, train_and_score
from afg_core.learn.training import (
    Experiment,
    ModelCard,
    TrainedModel,
    TrainingConfig,
    build_fnn,
    build_lstm,
    predict_fnn,
    predict_kriging,
    predict_lstm,
    prepare_experiment,
    save_model,
    score_models,
    train_fnn,
    train_lstm,
)

__all__ = [
    "Experiment",
    "ModelCard",
    "Sequences",
    "Standardiser",
    "TrainedModel",
    "TrainingConfig",
    "TrainingRun",
    "build_fnn",
    "build_lstm",
    "build_sequences",
    "predict_fnn",
    "predict_kriging",
    "predict_lstm",
    "prepare_experiment",
    "prepare_training",
    "sample_features",
    "save_model",
    "score_models",
    "split_holes",
    "train_and_score",
    "train_fnn",
    "train_lstm",
    "unwindow",
]
