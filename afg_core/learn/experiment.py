"""The learning pipeline: split by hole, fuse features per fold, fit four models, score, ablate, predict the volume.

:func:`run_experiment` is what the Train page and ``python -m afg_core run`` both call.
Leakage rules it keeps (and the tests check):

* holes are split, never samples: train / validation / test (70/15/15 by default, seeded),
  or grouped k-fold by hole (each hole tested once) with validation holes carved from the
  training side of each fold;
* per fold, the kriged fields and their gradients come from the training holes only:
  held-out rows are kriged from them, training rows from them *minus their own hole*;
  scalers live inside the models and are fitted on training rows only; early stopping and
  self-weighting see the validation holes, never the test holes;
* the predicted volume is made after scoring, by models refitted on every hole (bootstrap
  members, out-of-bag holes for early stopping), with kriged fields from every hole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.special import ndtr
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from afg_core.errors import InputError
from afg_core.geochem import REE_TARGETS, internal_unit
from afg_core.geostat.blockmodel import (
    MAX_BLOCK_CELLS,
    BlockModel,
    block_model_from_extent,
    cell_size_within,
    mask_far_cells,
)
from afg_core.io.project import Project
from afg_core.learn.cluster import fit_on_cluster, predict_on_cluster
from afg_core.learn.fusion import (
    PRESETS,
    FeatureSpec,
    FeatureTable,
    cell_feature_table,
    kriged_field_source,
    sample_feature_table,
    target_sum,
    target_sum_name,
)
from afg_core.learn.models import MODELS
from afg_core.learn.selfweight import SelfWeighting, self_weighting
from afg_core.metrics import (
    grade_class_accuracy,
    paired_rmse_differences,
    productive_scores,
    regression_scores,
)
from afg_core.spectral.pca import SpectralPCA
from afg_core.transforms import grade_from_log, log_grade, lognormal_mean

#: Progress listener: ``progress(share_done, message)`` with ``share_done`` in [0, 1].
Progress = Callable[[float, str], None]
#: Per-epoch listener of the networks: ``on_epoch(model_name, epoch, logs)``.
EpochListener = Callable[[str, int, dict], None]
#: Stop request: ``should_stop()`` turning true ends the run at the next epoch or step boundary.
StopRequest = Callable[[], bool]


class RunStopped(Exception):
    """Raised by :func:`run_experiment` when its ``should_stop()`` turned true (nothing is returned)."""


LEARNED = ("lstm", "fnn", "boosting")
BASELINES = ("kriging", "boosting")


@dataclass(frozen=True)
class RunConfig:
    """Settings of one experiment (every field has a sensible default).

    Parameters
    ----------
    task : {"along-holes", "volume"}
        Predict assays from co-located measurements down holes, or grades at unsampled
        cells from what is known everywhere.
    targets : tuple of str, optional
        Target elements; default: the project's ``target_elements`` found in the assays.
    models : tuple of str
        Any of ``lstm, fnn, kriging, boosting``.
    features : str
        Feature preset of :data:`afg_core.learn.fusion.PRESETS` (``all`` or ``paper``).
    groups : tuple of str, optional
        Feature groups, overriding the preset's.
    split : tuple of float
        Train / validation / test shares of the holes.
    folds : int
        1: one split; k > 1: grouped k-fold by hole (every hole tested once).
    epochs, patience, window, optimizer, learning_rate, bidirectional
        Network training (``optimizer`` ``adam`` or the paper's ``sgd`` with momentum 0.9).
    self_weighting : bool
        Run the self-evaluation loop (:mod:`afg_core.learn.selfweight`) for the
        ``self_weighting_models`` and keep their final weights.
    ablation : bool
        Refit ``ablation_model`` without each feature group.
    n_boot : int
        Bootstrap resamples of test holes for the intervals.
    volume : bool
        Predict the block model after scoring.
    ensemble : int
        Members of the volume prediction (uncertainty from their spread).
    cell_size : tuple of float
        Block size (m) of the predicted volume; also the gradient step at samples.
    max_distance : float
        Cells farther than this (m) from every sample are not predicted.
    composite_m : float
        Composite length (m) of the samples the kriged fields are estimated from.
    n_jobs : int
        Worker processes for the independent tree fits (ablation, ensemble members).
    seed : int
    """

    task: str = "along-holes"
    targets: tuple[str, ...] | None = None
    models: tuple[str, ...] = ("lstm", "fnn", "kriging", "boosting")
    features: str = "all"
    groups: tuple[str, ...] | None = None
    split: tuple[float, float, float] = (0.70, 0.15, 0.15)
    folds: int = 1
    epochs: int = 60
    patience: int = 8
    window: int = 16
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    bidirectional: bool = False
    self_weighting: bool = False
    self_weighting_models: tuple[str, ...] = ("boosting", "fnn")
    self_weighting_periods: int = 6
    ablation: bool = True
    ablation_model: str = "boosting"
    importance: bool = True
    n_boot: int = 500
    volume: bool = True
    ensemble: int = 5
    cell_size: tuple[float, float, float] = (25.0, 25.0, 10.0)
    max_distance: float = 150.0
    composite_m: float = 10.0
    n_jobs: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.models) - set(MODELS)
        if unknown:
            raise ValueError(f"unknown models {sorted(unknown)}; use {sorted(MODELS)}")
        if self.features not in PRESETS:
            raise ValueError(f"unknown feature preset {self.features!r}; use {sorted(PRESETS)}")
        if abs(sum(self.split) - 1) > 1e-6 or min(self.split) <= 0:
            raise ValueError("split must be three positive shares adding up to 1")

    def feature_spec(self, cell_size: tuple[float, float, float], task: str | None = None) -> FeatureSpec:
        """The feature spec of the run; gradients at samples step by the volume's ``cell_size`` (m)."""
        spec = PRESETS[self.features]
        if self.groups is not None:
            spec = replace(spec, groups=tuple(self.groups))
        return replace(spec, task=task or self.task, gradient_step_m=tuple(cell_size))


@dataclass(frozen=True, eq=False)
class PredictedVolume:
    """Predicted grades on a block model.

    Attributes
    ----------
    block : BlockModel
        Cells predicted (its mask); arrays below are per cell in
        :meth:`BlockModel.cell_centres` order, NaN elsewhere.
    log_mean : dict
        Grade name (each target, and ``TREO`` for REE) -> ensemble mean of the log grade.
    grade_ppm : dict
        Grade name -> expected grade, back-transformed with the lognormal correction of
        ``log_sd`` (ppm, or wt% for majors).
    log_sd : dict
        Grade name -> standard deviation of log grade: ensemble spread and the model's
        out-of-fold residual variance added (the uncertainty volume).
    probability : dict
        Grade name -> P(grade > its cut-off), lognormal with that spread; only for grades
        with a cut-off.
    cutoffs : dict
        Grade name -> cut-off used (ppm).
    model : str
        Model kind of the members.
    members : int
    member_log : dict
        Headline grade (``TREO`` for REE, else each target) -> (members, n_cells) float32 log
        grade of every ensemble member, for uncertainty bands of grade-tonnage curves.
    top_cut : dict
        Grade name -> the richest assay (ppm, or wt% for majors): ``grade_ppm`` is held at or
        below it.
    """

    block: BlockModel
    log_mean: dict[str, np.ndarray]
    grade_ppm: dict[str, np.ndarray]
    log_sd: dict[str, np.ndarray]
    probability: dict[str, np.ndarray]
    cutoffs: dict[str, float]
    model: str
    members: int
    member_log: dict[str, np.ndarray] = field(default_factory=dict)
    top_cut: dict[str, float] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Active cells: ``x, y, z`` (m) and ``<grade>_ppm, <grade>_log_sd, <grade>_p_above``."""
        active = self.block.flat_mask()
        centres = self.block.cell_centres()[active]
        columns = {"cell": np.flatnonzero(active), "x": centres[:, 0], "y": centres[:, 1], "z": centres[:, 2]}
        for name, values in self.grade_ppm.items():
            columns[f"{name}_ppm"] = values[active]
            columns[f"{name}_log_sd"] = self.log_sd[name][active]
            if name in self.probability:
                columns[f"{name}_p_above"] = self.probability[name][active]
        return pd.DataFrame(columns)


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """Everything one experiment produced (all tables are plain DataFrames).

    Attributes
    ----------
    config : RunConfig
    targets : list of str
    sum_name : str or None
        ``TREO`` for REE targets (scored too), else None.
    split : dict
        Numbers of train / validation / test holes (of the first fold).
    scores : DataFrame
        One row per (model, grade): ``rmse, rmse_lo, rmse_hi, mae, ..., r2_hi, log_rmse, unit, n``
        and, where a cut-off exists, class and productive accuracy, precision, recall.
    paired : DataFrame
        ``pair, grade, rmse_diff, lo, hi``: RMSE (natural units) of the first model minus the
        second on the same resampled holes.
    best_model : dict
        Grade -> model with the lowest RMSE.
    predictions : DataFrame
        Test rows: ``hole_id, from, to, x, y, z``, observed ``<target>`` and ``<model>:<target>``
        predicted (natural units).
    histories : dict
        Model -> per-epoch ``epoch, loss, val_loss`` (networks, first fold).
    ablation : DataFrame
        ``removed, model, log_rmse, <sum>_rmse``: the ablation model refitted without each group.
    importance : DataFrame
        ``model, group, log_rmse_increase``: permutation importance per feature group.
    self_weighting : dict
        Model -> :class:`SelfWeighting` (first fold), when enabled.
    features : list of str
    feature_groups : dict
    notes : list of str
        What could not be done and why (the run went on without it).
    fitted : dict
        Model -> fitted estimator of the first fold.
    volume : PredictedVolume or None
    """

    config: RunConfig
    targets: list[str]
    sum_name: str | None
    split: dict[str, int]
    scores: pd.DataFrame
    paired: pd.DataFrame
    best_model: dict[str, str]
    predictions: pd.DataFrame
    histories: dict[str, pd.DataFrame]
    ablation: pd.DataFrame
    importance: pd.DataFrame
    self_weighting: dict[str, SelfWeighting]
    features: list[str]
    feature_groups: dict[str, str]
    notes: list[str]
    fitted: dict[str, object]
    volume: PredictedVolume | None = None
    extra: dict = field(default_factory=dict)

    def metrics_json(self) -> dict:
        """The ``metrics.json`` document of the command line (see the README)."""
        models: dict[str, dict] = {}
        for row in self.scores.itertuples(index=False):
            entry = {
                "rmse": row.rmse,
                "rmse_lo": row.rmse_lo,
                "rmse_hi": row.rmse_hi,
                "mae": row.mae,
                "mae_lo": row.mae_lo,
                "mae_hi": row.mae_hi,
                "r2": row.r2,
                "r2_lo": row.r2_lo,
                "r2_hi": row.r2_hi,
                "log_rmse": row.log_rmse,
                "unit": row.unit,
                "n": int(row.n),
            }
            for name in ("class_accuracy", "productive_accuracy", "precision", "recall"):
                value = getattr(row, name, np.nan)
                if np.isfinite(value):
                    entry[name] = value
                    entry[f"{name}_lo"] = getattr(row, f"{name}_lo")
                    entry[f"{name}_hi"] = getattr(row, f"{name}_hi")
            models.setdefault(row.model, {})[row.grade] = entry
        paired: dict[str, dict] = {}
        for row in self.paired.itertuples(index=False):
            paired.setdefault(row.pair, {})[row.grade] = {
                "rmse_diff": row.rmse_diff,
                "lo": row.lo,
                "hi": row.hi,
            }
        return _finite_json(
            {
                "targets": self.targets,
                "task": self.config.task,
                "split": self.split,
                "models": models,
                "paired": paired,
                "best_model": self.best_model,
                "sum": self.sum_name,
                "features": self.features,
                "notes": self.notes,
            }
        )


def _finite_json(value):
    """NaN and infinities as None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_json(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# ------------------------------------------------------------------------------ data


def resolve_targets(project: Project, config: RunConfig) -> list[str]:
    """Target elements present in the assays (raises with a fix when none is)."""
    wanted = list(config.targets or project.settings.target_elements)
    samples = project.drillholes.samples
    present = [t for t in wanted if t in samples and samples[t].notna().any()]
    if not present:
        raise InputError(
            f"none of the target elements {wanted} is in the assays",
            file="project.toml",
            column="target_elements",
            fix="list elements that the assay file holds in target_elements (or pass --targets Cu,Ni)",
        )
    return present


def _ordered_samples(project: Project, targets: list[str]) -> pd.DataFrame:
    samples = project.drillholes.samples
    has_target = samples[targets].notna().any(axis=1)
    order = ["hole_id", "from"] if "from" in samples else ["hole_id", "z"]
    ascending = [True, True] if "from" in samples else [True, False]
    return (
        samples.loc[has_target].sort_values(order, ascending=ascending, kind="stable").reset_index(drop=True)
    )


def hole_folds(holes: np.ndarray, config: RunConfig) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(train, validation, test) hole-id arrays per fold; holes, never samples, are split."""
    unique = np.unique(holes)
    if len(unique) < 3:
        raise InputError(
            f"only {len(unique)} drill hole(s) with target assays: a hold-out score needs at least 3",
            fix="add holes, or use the kriging cross-validation of the Variogram page",
        )
    _, val_share, test_share = config.split
    folds = []
    if config.folds > 1:
        splits = GroupKFold(n_splits=min(config.folds, len(unique))).split(unique, groups=unique)
        tests = [unique[test] for _, test in splits]
    else:
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_share, random_state=config.seed)
        _, test = next(splitter.split(unique, groups=unique))
        tests = [unique[test]]
    for k, test in enumerate(tests):
        rest = np.setdiff1d(unique, test)
        share = val_share / (1 - test_share) if config.folds <= 1 else val_share
        splitter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=config.seed + 1 + k)
        train, val = next(splitter.split(rest, groups=rest))
        folds.append((rest[train], rest[val], test))
    return folds


def field_sources(project: Project, composite_m: float) -> pd.DataFrame:
    """Samples the kriged fields are estimated from: composites (fewer, evener samples) where possible."""
    db = project.drillholes
    try:
        return db.composites(composite_m)
    except ValueError:  # flat sample tables have no intervals
        return db.samples


# ---------------------------------------------------------------------------- models


def make_model(name: str, config: RunConfig, seed: int, on_epoch: EpochListener | None = None):
    """A fresh estimator of kind ``name`` with the run's settings."""
    cls = MODELS[name]
    network = {
        "epochs": config.epochs,
        "patience": config.patience,
        "optimizer": config.optimizer,
        "learning_rate": config.learning_rate,
        "random_state": seed,
        "on_epoch": on_epoch,
    }
    if name == "lstm":
        return cls(
            window=config.window,
            stride=max(config.window // 2, 1),
            bidirectional=config.bidirectional,
            **network,
        )
    if name == "fnn":
        return cls(**network)
    if name == "boosting":
        return cls(random_state=seed)
    return cls()


def _model_input(name: str, frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Kriging reads coordinates; the learned models read the fused features."""
    return frame[["x", "y", "z"]] if name == "kriging" else frame[features]


# --------------------------------------------------------------------------- scoring


def _grade_frames(
    observed_log: np.ndarray, predicted_log: np.ndarray, targets: list[str], sum_name: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Observed and predicted grades in natural units (targets and their sum)."""
    observed = pd.DataFrame(grade_from_log(observed_log), columns=targets)
    predicted = pd.DataFrame(grade_from_log(predicted_log), columns=targets)
    if sum_name is not None:
        observed[sum_name] = target_sum(observed, targets).to_numpy()
        predicted[sum_name] = target_sum(predicted, targets).to_numpy()
    return observed, predicted


def score_predictions(
    observed_log: np.ndarray,
    predictions_log: dict[str, np.ndarray],
    holes: np.ndarray,
    targets: list[str],
    sum_name: str | None,
    cutoffs: dict[str, float],
    n_boot: int = 500,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores per model and grade with 95 % intervals, and paired differences, on the same resampled holes.

    Returns
    -------
    scores, paired : DataFrame
        See :class:`ExperimentResult`.
    """
    hole_series = pd.Series(holes)
    rows, grades = [], {}
    for name, predicted_log in predictions_log.items():
        observed, predicted = _grade_frames(observed_log, predicted_log, targets, sum_name)
        grades[name] = (observed, predicted)
        natural = regression_scores(observed, predicted, hole_series, n_boot, seed)
        in_log = regression_scores(log_grade(observed), log_grade(predicted), hole_series, n_boot, seed)
        for grade in observed.columns:
            row = {
                "model": name,
                "grade": grade,
                "unit": "ppm" if grade == sum_name else _unit_label(grade),
            }
            row.update({k.lower(): natural.loc[grade, k] for k in natural.columns})
            row["log_rmse"] = in_log.loc[grade, "RMSE"]
            cutoff = cutoffs.get(grade)
            if cutoff is not None:
                o, p = observed[grade].to_numpy(), predicted[grade].to_numpy()
                accuracy = grade_class_accuracy(o, p, holes, cutoff, n_boot, seed)
                row.update(dict(zip(("class_accuracy", "class_accuracy_lo", "class_accuracy_hi"), accuracy)))
                productive = productive_scores(o, p, holes, cutoff, n_boot, seed)
                row["productive_accuracy"] = productive["accuracy"]
                row["productive_accuracy_lo"] = productive["accuracy_lo"]
                row["productive_accuracy_hi"] = productive["accuracy_hi"]
                for name_ in ("precision", "recall"):
                    for suffix in ("", "_lo", "_hi"):
                        row[f"{name_}{suffix}"] = productive[f"{name_}{suffix}"]
            rows.append(row)
    scores = pd.DataFrame(rows)
    paired_rows = []
    for baseline in BASELINES:
        if baseline not in grades:
            continue
        for name in grades:
            if name == baseline or (baseline == "boosting" and name == "kriging"):
                continue
            observed, predicted = grades[name]
            difference = paired_rmse_differences(
                observed, predicted, grades[baseline][1], hole_series, n_boot, seed
            )
            for grade, values in difference.iterrows():
                paired_rows.append({"pair": f"{name}-{baseline}", "grade": grade, **values.to_dict()})
    paired = pd.DataFrame(paired_rows, columns=["pair", "grade", "rmse_diff", "lo", "hi", "n"])
    return scores, paired


def _unit_label(element: str) -> str:
    """``wt%`` for majors, ``ppm`` for traces (internal units)."""
    unit = internal_unit(element)
    return "wt%" if unit == "pct" else unit


def _mean_log_rmse(observed_log: np.ndarray, predicted_log: np.ndarray) -> float:
    errors = predicted_log - observed_log
    return float(np.nanmean(np.sqrt(np.nanmean(errors**2, axis=0))))


# -------------------------------------------------------------------------- pipeline


@dataclass
class _Fold:
    table: FeatureTable
    rows: pd.DataFrame
    y: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def _fold_features(
    project: Project,
    samples: pd.DataFrame,
    sources: pd.DataFrame,
    holes: tuple[np.ndarray, np.ndarray, np.ndarray],
    spec: FeatureSpec,
    targets: list[str],
    pca: SpectralPCA | None,
) -> _Fold:
    train_holes, val_holes, test_holes = holes
    hole_ids = samples["hole_id"].to_numpy()
    train = np.isin(hole_ids, train_holes)
    source = kriged_field_source(
        sources[sources["hole_id"].isin(train_holes)], spec.kriged_elements, targets, spec
    )
    table = sample_feature_table(project, samples, source, spec, targets, pca, leave_own_hole_out=train)
    y = log_grade(samples[targets].to_numpy(dtype=float))
    return _Fold(table, samples, y, train, np.isin(hole_ids, val_holes), np.isin(hole_ids, test_holes))


def _fit(name, config, seed, fold: _Fold, features, on_epoch, weights=None):
    model = make_model(name, config, seed, on_epoch)
    if weights is not None and name != "kriging":
        model.set_params(feature_weights=tuple(weights))
    frame, groups = fold.table.frame, fold.table.frame["row_id"].to_numpy()
    x = _model_input(name, frame, features)
    validation = (x[fold.val], fold.y[fold.val], groups[fold.val])
    return model.fit(x[fold.train], fold.y[fold.train], groups=groups[fold.train], validation=validation)


def _predict(model, name, fold: _Fold, features, rows: np.ndarray) -> np.ndarray:
    frame = fold.table.frame
    return model.predict(_model_input(name, frame, features)[rows], groups=frame["row_id"].to_numpy()[rows])


def run_experiment(
    project: Project,
    config: RunConfig | None = None,
    pca: SpectralPCA | None = None,
    progress: Progress | None = None,
    on_epoch: EpochListener | None = None,
    should_stop: StopRequest | None = None,
    client=None,
) -> ExperimentResult:
    """Train and score the models on held-out holes, ablate, and predict the block model.

    Parameters
    ----------
    project : Project
    config : RunConfig, optional
    pca : SpectralPCA, optional
        PCA of the project's cube (spectral features); None skips them.
    progress : callable, optional
        ``progress(share, message)`` as steps complete.
    on_epoch : callable, optional
        ``on_epoch(model, epoch, logs)`` per network epoch (live loss curves).
    should_stop : callable, optional
        Polled after every network epoch and before every step (fold, model, scoring,
        ablation, volume); when it returns True the run raises :class:`RunStopped`.
    client : distributed.Client, optional
        Fit the volume's ensemble members and predict the block model's tiles on this Dask
        cluster (:func:`afg_core.geostat.cluster.dask_client`); None works in this process.

    Returns
    -------
    ExperimentResult

    Raises
    ------
    RunStopped
        ``should_stop()`` turned true.
    """
    config = config or RunConfig()
    notify = progress or (lambda share, message: None)
    stop_requested = should_stop or (lambda: False)

    def report(share: float, message: str) -> None:
        if stop_requested():
            raise RunStopped(f"before {message}")
        notify(share, message)

    def stop_at_epoch(name: str, epoch: int, logs: dict) -> None:
        # Raised from the Keras epoch callback, so a network stops at this epoch's end.
        if stop_requested():
            raise RunStopped(f"at the end of {name} epoch {epoch + 1}")

    def listen(name: str, epoch: int, logs: dict) -> None:
        on_epoch(name, epoch, logs)
        stop_at_epoch(name, epoch, logs)

    targets = resolve_targets(project, config)
    sum_name = target_sum_name(targets) if set(targets) <= set(REE_TARGETS) and len(targets) > 1 else None
    cutoffs = _cutoffs(project, targets, sum_name)
    samples = _ordered_samples(project, targets)
    block = volume_block(samples, config)
    spec = config.feature_spec(block.cell_size)
    sources = field_sources(project, config.composite_m)
    folds = hole_folds(samples["hole_id"].to_numpy(), config)
    notes: list[str] = []
    oof = {name: np.full((len(samples), len(targets)), np.nan) for name in config.models}
    tested = np.zeros(len(samples), dtype=bool)
    histories: dict[str, pd.DataFrame] = {}
    fitted: dict[str, object] = {}
    weighting: dict[str, SelfWeighting] = {}
    first: _Fold | None = None
    steps = len(folds) * len(config.models) + 3
    done = 0
    for k, holes in enumerate(folds):
        report(done / steps, f"fold {k + 1}/{len(folds)}: kriged fields and gradients from training holes")
        fold = _fold_features(project, samples, sources, holes, spec, targets, pca)
        notes.extend(n for n in fold.table.notes if n not in notes)
        features = fold.table.columns
        if not features:
            raise InputError("no feature could be built from this project", fix="add coordinates or assays")
        tested |= fold.test
        for name in config.models:
            report(done / steps, f"fold {k + 1}/{len(folds)}: fitting {name}")
            weights = None
            if config.self_weighting and name in config.self_weighting_models and k == 0:
                frame, groups = fold.table.frame, fold.table.frame["row_id"].to_numpy()
                x = frame[features]
                result = self_weighting(
                    make_model(name, config, config.seed, stop_at_epoch),
                    (x[fold.train], fold.y[fold.train], groups[fold.train]),
                    (x[fold.val], fold.y[fold.val], groups[fold.val]),
                    periods=config.self_weighting_periods,
                )
                weighting[name] = result
                weights = result.weights
            elif name in weighting:
                weights = weighting[name].weights
            listener = listen if on_epoch is not None and k == 0 else stop_at_epoch
            model = _fit(name, config, config.seed, fold, features, listener, weights)
            oof[name][fold.test] = _predict(model, name, fold, features, fold.test)
            if k == 0:
                fitted[name] = model
                if hasattr(model, "history_"):
                    histories[name] = model.history_
            done += 1
        if k == 0:
            first = fold
    assert first is not None
    report(done / steps, "scoring on held-out holes")
    holes_tested = samples["hole_id"].to_numpy()[tested]
    observed_log = first.y[tested]
    scores, paired = score_predictions(
        observed_log,
        {m: p[tested] for m, p in oof.items()},
        holes_tested,
        targets,
        sum_name,
        cutoffs,
        config.n_boot,
        config.seed,
    )
    best = (
        scores.loc[scores.groupby("grade")["rmse"].idxmin().dropna(), ["grade", "model"]]
        .set_index("grade")["model"]
        .to_dict()
    )
    predictions = samples.loc[tested, [c for c in ("hole_id", "from", "to", "x", "y", "z") if c in samples]]
    predictions = predictions.reset_index(drop=True)
    for j, target in enumerate(targets):
        predictions[target] = grade_from_log(observed_log[:, j])
        for name in config.models:
            predictions[f"{name}:{target}"] = grade_from_log(oof[name][tested][:, j])
    if sum_name is not None:
        predictions[sum_name] = target_sum(predictions, targets).to_numpy()
        for name in config.models:
            columns = {f"{name}:{t}": t for t in targets}
            predictions[f"{name}:{sum_name}"] = target_sum(
                predictions[list(columns)].rename(columns=columns), targets
            ).to_numpy()
    done += 1
    report(done / steps, "ablation and permutation importance")
    ablation = _ablation(config, first, targets, sum_name) if config.ablation else pd.DataFrame()
    importance = _importance(config, first, fitted, targets) if config.importance else pd.DataFrame()
    done += 1
    volume = None
    if config.volume:
        report(done / steps, "predicting the block model")
        volume, volume_notes = predict_volume(
            project,
            config,
            targets,
            sum_name,
            cutoffs,
            pca,
            oof,
            first.y,
            tested,
            report=lambda message: report(done / steps, message),
            client=client,
        )
        notes.extend(n for n in volume_notes if n not in notes)
    report(1.0, "done")
    train_holes, val_holes, test_holes = folds[0]
    return ExperimentResult(
        config=config,
        targets=targets,
        sum_name=sum_name,
        split={
            "train_holes": len(train_holes),
            "validation_holes": len(val_holes),
            "test_holes": len(test_holes),
        },
        scores=scores,
        paired=paired,
        best_model=best,
        predictions=predictions,
        histories=histories,
        ablation=ablation,
        importance=importance,
        self_weighting=weighting,
        features=first.table.columns,
        feature_groups=first.table.groups,
        notes=notes,
        fitted=fitted,
        volume=volume,
    )


def _cutoffs(project: Project, targets: list[str], sum_name: str | None) -> dict[str, float]:
    """Cut-offs by grade: the target sum's (TREO) for REE sets, else each target's from project.toml."""
    configured = project.settings.cutoffs
    if sum_name is not None:
        return {sum_name: project.settings.cutoff(sum_name)}
    return {t: float(configured[t]) for t in targets if t in configured}


def _ablation_row(
    config: RunConfig, fold: _Fold, removed: str, targets: list[str], sum_name: str | None
) -> dict:
    name = config.ablation_model
    features = [c for c, g in fold.table.groups.items() if g != removed]
    model = _fit(name, config, config.seed, fold, features, None)
    predicted = _predict(model, name, fold, features, fold.test)
    observed = fold.y[fold.test]
    row = {"removed": removed, "model": name, "log_rmse": _mean_log_rmse(observed, predicted)}
    if sum_name is not None:
        o, p = _grade_frames(observed, predicted, targets, sum_name)
        row[f"{sum_name}_rmse"] = float(np.sqrt(np.nanmean((o[sum_name] - p[sum_name]) ** 2)))
    return row


def _ablation(config: RunConfig, fold: _Fold, targets: list[str], sum_name: str | None) -> pd.DataFrame:
    """The ablation model refitted without each feature group, scored on the test holes."""
    present = list(dict.fromkeys(fold.table.groups.values()))
    removals = [r for r in ["none", *present] if any(g != r for g in fold.table.groups.values())]
    rows = _parallel(config, config.ablation_model)(
        delayed(_ablation_row)(config, fold, removed, targets, sum_name) for removed in removals
    )
    return pd.DataFrame(rows)


def _parallel(config: RunConfig, kind: str) -> Parallel:
    """Worker processes for independent fits of tree models; networks stay in this process.

    Each boosting fit runs on one thread (see :class:`BoostingRegressor`), so two processes
    use two cores; Keras models are fitted in-process (their state does not travel well).
    """
    jobs = config.n_jobs if kind in ("boosting", "kriging") else 1
    return Parallel(n_jobs=jobs, backend="loky" if jobs != 1 else "sequential")


def _importance(config: RunConfig, fold: _Fold, fitted: dict, targets: list[str]) -> pd.DataFrame:
    """Permutation importance per feature group: rise of the test log RMSE when a group's rows are shuffled."""
    rng = np.random.default_rng(config.seed)
    frame = fold.table.frame
    features = fold.table.columns
    test = np.flatnonzero(fold.test)
    observed = fold.y[fold.test]
    rows = []
    for name, model in fitted.items():
        if name == "kriging":
            continue
        base = _mean_log_rmse(observed, _predict(model, name, fold, features, fold.test))
        for group in dict.fromkeys(fold.table.groups.values()):
            columns = [c for c, g in fold.table.groups.items() if g == group]
            shuffled = frame[features].iloc[test].copy()
            # One permutation of the test rows for all of a group's columns keeps them consistent.
            permutation = rng.permutation(len(test))
            shuffled[columns] = shuffled[columns].to_numpy()[permutation]
            predicted = model.predict(shuffled, groups=frame["row_id"].to_numpy()[test])
            rows.append(
                {
                    "model": name,
                    "group": group,
                    "log_rmse_increase": _mean_log_rmse(observed, predicted) - base,
                }
            )
    return pd.DataFrame(rows, columns=["model", "group", "log_rmse_increase"])


# ---------------------------------------------------------------------------- volume


def volume_block(samples: pd.DataFrame, config: RunConfig) -> BlockModel:
    """Block model over the samples with the run's cell size, cells far from any sample masked.

    Regional data get cells widened in x and y (:func:`cell_size_within`) so the model stays
    under :data:`MAX_BLOCK_CELLS`; cells within 1.5 widened cells of a sample are kept then.
    """
    coords = samples[["x", "y", "z"]].to_numpy(dtype=float)
    coords = coords[np.isfinite(coords).all(axis=1)]
    size = cell_size_within(coords, config.cell_size, MAX_BLOCK_CELLS)
    block = block_model_from_extent(coords, size, padding=(size[0], size[1], 0.0))
    return mask_far_cells(block, coords, max(config.max_distance, 1.5 * max(size[0], size[1])))


def _ensemble_member(
    kind: str,
    config: RunConfig,
    seed: int,
    x: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    drawn: np.ndarray,
    x_cells: pd.DataFrame,
    cell_groups: np.ndarray,
) -> np.ndarray:
    """One ensemble member's log grades at cells (see :func:`_fit_member`)."""
    return _fit_member(kind, config, seed, x, y, groups, drawn).predict(x_cells, groups=cell_groups)


def _fit_member(
    kind: str,
    config: RunConfig,
    seed: int,
    x: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    drawn: np.ndarray,
):
    """One ensemble member fitted on the drawn holes (out-of-bag holes for early stopping)."""
    out_of_bag = np.setdiff1d(np.unique(groups), drawn)
    counts = pd.Series(drawn).value_counts()
    # A hole drawn twice appears twice: rows repeated, keeping down-hole order within each copy.
    index = np.concatenate([np.flatnonzero(groups == h) for h in counts.index for _ in range(counts[h])])
    copy_ids = np.concatenate(
        [np.full((groups == h).sum(), f"{h}#{c}") for h in counts.index for c in range(counts[h])]
    )
    val = np.isin(groups, out_of_bag)
    model = make_model(kind, config, seed)
    model.fit(
        x.iloc[index],
        y[index],
        groups=copy_ids,
        validation=(x[val], y[val], groups[val]) if val.any() else None,
    )
    return model


def _fit_member_from(kind: str, config: RunConfig, seed: int, training: tuple, drawn: np.ndarray):
    """:func:`_fit_member` on the training table ``(x, y, groups)`` scattered to the cluster once."""
    return _fit_member(kind, config, seed, *training, drawn)


def predict_volume(
    project: Project,
    config: RunConfig,
    targets: list[str],
    sum_name: str | None,
    cutoffs: dict[str, float],
    pca: SpectralPCA | None,
    oof: dict[str, np.ndarray],
    observed_log_all: np.ndarray,
    tested: np.ndarray,
    report: Callable[[str], None] | None = None,
    client=None,
) -> tuple[PredictedVolume | None, list[str]]:
    """Predicted grade, uncertainty and P(> cut-off) volumes from an ensemble refitted on every hole.

    The members are of one learned kind: the best of the run's learned models on the test
    holes when the task is the volume, else boosting (along-hole models need co-located
    measurements that unsampled cells lack). Member ``m`` is fitted on a bootstrap resample
    of the holes, with its out-of-bag holes for early stopping; its log predictions are held
    within the range of the assays' log grades (a note says how many were outside). The log
    spread of a cell is the ensemble variance plus the model kind's out-of-fold residual
    variance (per target).
    """
    notes: list[str] = []
    say = report or (lambda message: None)
    learned = [m for m in config.models if m in LEARNED]
    if not learned:
        return None, ["no learned model in the run: no predicted volume"]
    if config.task == "volume":
        kind = min(learned, key=lambda m: _mean_log_rmse(observed_log_all[tested], oof[m][tested]))
    else:
        kind = "boosting"
    say("volume: kriged fields from every hole at samples and cells")
    samples = _ordered_samples(project, targets)
    block = volume_block(samples, config)
    spec = config.feature_spec(block.cell_size, "volume")
    sources = field_sources(project, config.composite_m)
    source = kriged_field_source(sources, spec.kriged_elements, targets, spec)
    everyone = np.ones(len(samples), dtype=bool)
    table = sample_feature_table(project, samples, source, spec, targets, pca, leave_own_hole_out=everyone)
    features = table.columns
    cells = cell_feature_table(project, block, source, spec, pca)
    y = log_grade(samples[targets].to_numpy(dtype=float))
    groups = table.frame["row_id"].to_numpy()
    unique = np.unique(groups)
    rng = np.random.default_rng(config.seed)
    draws = [rng.choice(unique, size=len(unique), replace=True) for _ in range(max(config.ensemble, 1))]
    say(f"volume: {len(draws)} {kind} members (hole bootstrap) on {len(cells.frame):,} cells")
    x, x_cells = table.frame[features], cells.frame[features]
    cell_groups = cells.frame["row_id"].to_numpy()
    if client is None:
        members = _parallel(config, kind)(
            delayed(_ensemble_member)(
                kind, config, config.seed + m, x, y, groups, drawn, x_cells, cell_groups
            )
            for m, drawn in enumerate(draws)
        )
        stack = np.stack(members)  # (members, cells, targets), log
    else:
        # Members are fitted on the workers and stay there; tiles of cell columns go to them.
        training = client.scatter((x, y, groups))
        fitted = [
            fit_on_cluster(client, _fit_member_from, kind, config, config.seed + m, training, drawn)
            for m, drawn in enumerate(draws)
        ]
        stack = predict_on_cluster(client, fitted, x_cells, cell_groups)
    # Far from its training inputs (cells kilometres from any hole) a network can predict any log
    # grade, up to thousands of times the richest assay: members are held within the assays' range.
    low, high = np.nanmin(y, axis=0), np.nanmax(y, axis=0)
    outside = ((stack < low) | (stack > high)).mean(axis=(0, 1))
    notes += [
        f"{t}: {100 * share:.1f} % of the ensemble's cell predictions lay outside the assays' range "
        "and were held at its edge"
        for t, share in zip(targets, outside)
        if share > 0
    ]
    stack = np.clip(stack, low, high)
    residual = (
        np.nanvar(oof[kind][tested] - observed_log_all[tested], axis=0)
        if kind in oof
        else np.zeros(len(targets))
    )
    order = cells.frame["cell"].to_numpy()
    log_mean, grade, log_sd, probability, top_cut = {}, {}, {}, {}, {}

    def place(values: np.ndarray) -> np.ndarray:
        full = np.full(block.n_cells, np.nan)
        full[order] = values
        return full

    member_grades = {t: grade_from_log(stack[:, :, j]) for j, t in enumerate(targets)}
    log_members = {t: stack[:, :, j] for j, t in enumerate(targets)}
    logs_observed = {t: y[:, j] for j, t in enumerate(targets)}
    residuals = dict(zip(targets, residual))
    if sum_name is not None:
        totals = np.stack(
            [
                target_sum(pd.DataFrame({t: member_grades[t][m] for t in targets}), targets).to_numpy()
                for m in range(stack.shape[0])
            ]
        )
        log_members[sum_name] = log_grade(totals)
        logs_observed[sum_name] = log_grade(target_sum(samples[targets], targets).to_numpy())
        residuals[sum_name] = 0.0
        if kind in oof:
            observed, predicted = _grade_frames(
                observed_log_all[tested], oof[kind][tested], targets, sum_name
            )
            residuals[sum_name] = float(
                np.nanvar(log_grade(predicted[sum_name]) - log_grade(observed[sum_name]))
            )
    for name, logs in log_members.items():
        mean, variance = logs.mean(axis=0), logs.var(axis=0) + residuals[name]
        log_mean[name] = place(mean)
        # Top cut at the richest assay (of the grade, or of the sum): with the wide spread of a weak
        # model the lognormal mean runs to impossible grades (over 100 %) while every member stays in range.
        top_cut[name] = richest = float(grade_from_log(np.nanmax(logs_observed[name])))
        expected = lognormal_mean(mean, variance)
        share = float(np.mean(expected > richest))
        if share > 0:
            notes.append(
                f"{name}: expected grade of {100 * share:.1f} % of the cells top-cut at the richest assay "
                f"({richest:,.4g} {'wt%' if internal_unit(name) == 'pct' else 'ppm'})"
            )
        grade[name] = place(np.minimum(expected, richest))
        log_sd[name] = place(np.sqrt(variance))
        if name in cutoffs:
            probability[name] = place(ndtr((mean - log_grade(cutoffs[name])) / np.sqrt(variance)))
    narrowed = BlockModel(
        block.origin, block.cell_size, block.shape, block.reshape(np.isfinite(grade[next(iter(grade))]))
    )
    notes.extend(n for n in cells.notes if n not in notes)
    member_log = {
        name: np.stack([place(member) for member in log_members[name]]).astype(np.float32)
        for name in ([sum_name] if sum_name is not None else targets)
    }
    return PredictedVolume(
        narrowed, log_mean, grade, log_sd, probability, cutoffs, kind, stack.shape[0], member_log, top_cut
    ), notes
