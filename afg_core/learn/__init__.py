"""Learning: fused features, four models behind one contract, self-weighting, scores, predicted volumes.

Data flow: :func:`run_experiment` splits the holes, builds :mod:`fusion` features per fold
(kriged fields and flux gradients from training holes only), fits the :data:`MODELS`,
scores them on held-out holes with paired bootstrap intervals, ablates feature groups and
predicts the block model (:class:`PredictedVolume`). :class:`TrainingJob` runs it in a
low-priority child process with progress, live loss history and a cooperative Stop.
"""

from afg_core.learn.background import JobSnapshot, TrainingJob
from afg_core.learn.experiment import ExperimentResult, PredictedVolume, RunConfig, RunStopped, run_experiment
from afg_core.learn.fusion import FEATURE_GROUPS, PRESETS, FeatureSpec, FeatureTable
from afg_core.learn.models import MODELS, BoostingRegressor, FNNRegressor, KrigingRegressor, LSTMRegressor
from afg_core.learn.persistence import load_model, save_model
from afg_core.learn.selfweight import SelfWeighting, self_weighting

__all__ = [
    "FEATURE_GROUPS",
    "MODELS",
    "PRESETS",
    "BoostingRegressor",
    "ExperimentResult",
    "FNNRegressor",
    "FeatureSpec",
    "FeatureTable",
    "JobSnapshot",
    "KrigingRegressor",
    "LSTMRegressor",
    "PredictedVolume",
    "RunConfig",
    "RunStopped",
    "SelfWeighting",
    "TrainingJob",
    "load_model",
    "run_experiment",
    "save_model",
    "self_weighting",
]
