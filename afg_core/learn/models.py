"""Four grade models behind one scikit-learn estimator contract.

:class:`LSTMRegressor` (the paper's down-hole network), :class:`FNNRegressor` (its
feed-forward baseline), :class:`BoostingRegressor` (gradient-boosted trees) and
:class:`KrigingRegressor` (the ordinary-kriging baseline) are interchangeable:

* ``__init__`` only stores its parameters (so :func:`sklearn.base.clone`,
  ``get_params`` and ``set_params`` work), ``fit`` returns ``self`` and every fitted
  attribute ends in ``_``.
* ``fit(X, y, groups=None, validation=None)``: ``X`` a DataFrame (n, p) of numeric
  features, NaN meaning missing; ``y`` (n, t) **log** grades, NaN meaning missing (a
  missing target weighs 0 in the loss, a row whose targets are all missing is ignored by
  the loss); ``groups`` (n,) hole (or block-model column) ids, the rows of each group in
  down-hole order (the caller sorts); ``validation`` None or ``(X_val, y_val,
  groups_val)`` of *other* holes, used for early stopping only.
* ``predict(X, groups=None)`` -> (n, t) log grades in the row order of ``X``.

Inputs are standardised inside the model with the training rows' ``nanmean`` /
``nanstd`` (``input_mean_``, ``input_scale_``); a missing (or infinite) input becomes 0,
the training mean, except for the trees, which route NaN natively. The standardised
inputs are then multiplied by ``feature_weights`` (None = all 1; a weight of 0 removes
the feature), the hook of a feature self-weighting loop.

Predictions are clipped per target to the training range in log space widened by
``clip_margin`` log units: ``target_min_ = nanmin(y) - clip_margin`` and
``target_max_ = nanmax(y) + clip_margin`` are those clip bounds, so ``exp`` of a
prediction can never explode however far a test row lies outside the training data.

The networks (Keras, imported lazily: programs call :func:`afg_core.configure_backends`
first) are reproducible: fitting twice with the same ``random_state`` gives identical
predictions on the JAX CPU backend (``keras.utils.set_random_seed`` seeds Python,
NumPy and Keras; note that it sets those *global* seeds).

Save and load fitted models with :mod:`afg_core.learn.persistence`.

Examples
--------
>>> from afg_core.learn.models import MODELS
>>> sorted(MODELS)
['boosting', 'fnn', 'kriging', 'lstm']
>>> from sklearn.base import clone
>>> clone(MODELS["boosting"](max_iter=50)).get_params()["max_iter"]
50
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from afg_core.errors import InputError
from afg_core.geostat.estimation import ordinary_kriging
from afg_core.geostat.fitting import auto_variogram
from afg_core.geostat.variogram import Structure, VariogramModel
from afg_core.learn.windows import build_sequences, unwindow

EpochListener = Callable[[str, int, dict], None]

#: Below this many rows the trees fit and predict on one OpenMP thread (see BoostingRegressor).
SINGLE_THREAD_ROWS = 100_000


# ----------------------------------------------------------------------------- helpers


def _as_frame(X) -> pd.DataFrame:
    """A DataFrame with string column names (an array gets ``x0, x1, ...``)."""
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        values = np.asarray(X, dtype=float)
        if values.ndim != 2:
            raise InputError("X must be a 2-D table (rows x features)", fix="pass a pandas DataFrame")
        frame = pd.DataFrame(values, columns=[f"x{k}" for k in range(values.shape[1])])
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    return frame


def _as_targets(y, n_rows: int) -> np.ndarray:
    """(n, t) float64 log grades; a 1-D y is one target."""
    values = np.asarray(y.to_numpy() if isinstance(y, pd.DataFrame | pd.Series) else y, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or len(values) != n_rows:
        raise InputError(
            f"y must be (n, t) with n = {n_rows} rows like X, got shape {values.shape}",
            fix="pass one row of log grades per row of X",
        )
    return values


def _as_groups(groups, n_rows: int) -> np.ndarray | None:
    if groups is None:
        return None
    values = np.asarray(groups.to_numpy() if isinstance(groups, pd.Series | pd.Index) else groups)
    if values.ndim != 1 or len(values) != n_rows:
        raise InputError(
            f"groups must be 1-D with {n_rows} entries (one hole id per row), got shape {values.shape}",
            fix="pass the hole id of every row",
        )
    return values


def _column_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """nanmean / nanstd per column; an all-missing column gets mean 0, a constant one scale 1."""
    finite = np.where(np.isfinite(values), values, np.nan)
    counts = np.isfinite(finite).sum(axis=0)
    mean = np.zeros(values.shape[1])
    scale = np.ones(values.shape[1])
    some = counts > 0
    if some.any():
        mean[some] = np.nanmean(finite[:, some], axis=0)
        std = np.nanstd(finite[:, some], axis=0)
        scale[some] = np.where(std > 0, std, 1.0)
    return mean, scale


def _unpack_validation(validation) -> tuple:
    if validation is None:
        return None
    if not isinstance(validation, tuple | list) or len(validation) not in (2, 3):
        raise InputError(
            "validation must be a tuple (X_val, y_val, groups_val)",
            fix="pass validation=(X_val, y_val, groups_val) of other holes, or None",
        )
    X_val, y_val = validation[0], validation[1]
    groups_val = validation[2] if len(validation) == 3 else None
    return X_val, y_val, groups_val


# ----------------------------------------------------------------------------- base


class _GradeModel(RegressorMixin, BaseEstimator):
    """Shared input checks, standardisation, feature weights and clipping (not public)."""

    #: False for the trees: NaN inputs are kept (routed natively) instead of set to 0.
    _nan_to_mean = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags

    # --- fit-time checks -------------------------------------------------------------
    def _start_fit(self, X, y, groups) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
        """Check the training rows and store input statistics and clip bounds."""
        frame = _as_frame(X)
        Y = _as_targets(y, len(frame))
        groups = _as_groups(groups, len(frame))
        if len(frame) == 0:
            raise InputError("no training rows", fix="pass at least one row with a target")
        if not float(self.clip_margin) >= 0:
            raise ValueError(f"clip_margin must be >= 0, got {self.clip_margin!r}")
        empty = ~np.isfinite(Y).any(axis=0)
        if empty.any():
            raise InputError(
                f"target column(s) {np.flatnonzero(empty).tolist()} have no value in the training rows",
                fix="drop targets without assays in the training holes",
            )
        values = frame.to_numpy(dtype=float)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.n_targets_ = Y.shape[1]
        self.input_mean_, self.input_scale_ = _column_stats(values)
        margin = float(self.clip_margin)
        self.target_min_ = np.nanmin(np.where(np.isfinite(Y), Y, np.nan), axis=0) - margin
        self.target_max_ = np.nanmax(np.where(np.isfinite(Y), Y, np.nan), axis=0) + margin
        self._weights()  # validate feature_weights now, not at predict time
        return frame, Y, groups

    def _weights(self) -> np.ndarray:
        p = len(self.feature_names_in_)
        if self.feature_weights is None:
            return np.ones(p)
        weights = np.asarray(self.feature_weights, dtype=float)
        if weights.shape != (p,) or not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError(
                f"feature_weights must be {p} finite weights >= 0 (one per column of X), "
                f"got {self.feature_weights!r}"
            )
        return weights

    def _frame_for_predict(self, X) -> pd.DataFrame:
        frame = _as_frame(X)
        names = list(self.feature_names_in_)
        if list(frame.columns) == names:
            return frame
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise InputError(
                f"X lacks the feature(s) the model was fitted on: {missing}",
                column=missing[0],
                fix="pass the same feature columns as in fit",
            )
        return frame[names]

    def _transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Standardised, weighted inputs; missing -> 0 (the training mean) unless kept for trees."""
        z = (frame.to_numpy(dtype=float) - self.input_mean_) / self.input_scale_
        z[np.isinf(z)] = np.nan
        if self._nan_to_mean:
            z = np.nan_to_num(z, nan=0.0)
        weights = self._weights()
        z = z * weights
        z[:, weights == 0] = 0.0  # removes the feature entirely, NaN included
        return z

    def _clip(self, predictions: np.ndarray) -> np.ndarray:
        return np.clip(predictions, self.target_min_, self.target_max_)

    def _validation_rows(self, validation):
        """(frame, Y, groups) of the validation holes, or None."""
        unpacked = _unpack_validation(validation)
        if unpacked is None:
            return None
        X_val, y_val, groups_val = unpacked
        frame = self._frame_for_predict(X_val)
        Y = _as_targets(y_val, len(frame))
        if Y.shape[1] != self.n_targets_:
            raise InputError(
                f"y_val has {Y.shape[1]} targets, the training y {self.n_targets_}",
                fix="pass the same target columns for validation",
            )
        return frame, Y, _as_groups(groups_val, len(frame))

    # --- persistence hooks (used by afg_core.learn.persistence) ----------------------
    def _card_state(self) -> dict:
        """Fitted state as JSON-friendly values."""
        return {
            "feature_names_in_": [str(n) for n in self.feature_names_in_],
            "n_targets_": int(self.n_targets_),
            "input_mean_": self.input_mean_.tolist(),
            "input_scale_": self.input_scale_.tolist(),
            "target_min_": self.target_min_.tolist(),
            "target_max_": self.target_max_.tolist(),
        }

    def _set_card_state(self, state: dict) -> None:
        self.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.n_targets_ = int(state["n_targets_"])
        for name in ("input_mean_", "input_scale_", "target_min_", "target_max_"):
            setattr(self, name, np.asarray(state[name], dtype=float))


# ----------------------------------------------------------------------------- networks


def _masked_mse(y_true, y_pred):
    """Mean squared error over targets in which a NaN target counts 0 (missing assay)."""
    from keras import ops

    present = ops.isfinite(y_true)
    safe = ops.where(present, y_true, ops.zeros_like(y_true))
    squared = ops.where(present, ops.square(safe - y_pred), ops.zeros_like(y_pred))
    return ops.mean(squared, axis=-1)


class _KerasRegressor(_GradeModel):
    """Training loop shared by the LSTM and the FNN (not public)."""

    _name = "network"

    def _arrays(self, z: np.ndarray, scaled: np.ndarray | None, groups: np.ndarray | None):
        raise NotImplementedError

    def _build(self, n_inputs: int, n_targets: int):
        raise NotImplementedError

    def _predict_scaled(self, z: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def __getstate__(self) -> dict:
        # The network travels (to Dask workers) as its .keras file, read back uncompiled in safe
        # mode as load_model does: the custom loss is needed for training only.
        state = self.__dict__.copy()
        # A live epoch listener belongs to the process that fitted (a page's, a job's): not sent.
        state["on_epoch"] = None
        network = state.pop("model_", None)
        if network is not None:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "model.keras"
                network.save(path)
                state["_keras_file"] = path.read_bytes()
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        data = state.pop("_keras_file", None)
        self.__dict__.update(state)
        if data is not None:
            import keras

            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "model.keras"
                path.write_bytes(data)
                self.model_ = keras.saving.load_model(path, compile=False, safe_mode=True)

    def _optimizer(self):
        import keras

        if self.optimizer == "adam":
            return keras.optimizers.Adam(learning_rate=self.learning_rate)
        if self.optimizer == "sgd":
            return keras.optimizers.SGD(learning_rate=self.learning_rate, momentum=0.9)
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")

    def fit(self, X, y, groups=None, validation=None):
        """Fit on training holes, early-stopping on ``validation`` holes when given.

        Parameters
        ----------
        X : DataFrame
            (n, p) numeric features; NaN = missing (becomes the training mean).
        y : array_like
            (n, t) log grades; NaN = missing (weight 0 in the loss).
        groups : array_like, optional
            (n,) hole ids, rows of each hole in down-hole order.
        validation : tuple, optional
            ``(X_val, y_val, groups_val)`` of other holes: early stopping on their loss
            (``patience`` epochs, best weights restored). Without it all ``epochs`` run.

        Returns
        -------
        self
        """
        import keras

        frame, Y, groups = self._start_fit(X, y, groups)
        self.target_mean_, self.target_scale_ = _column_stats(Y)
        train = self._arrays(self._transform(frame), (Y - self.target_mean_) / self.target_scale_, groups)
        val_rows = self._validation_rows(validation)
        val = None
        if val_rows is not None:
            v_frame, v_Y, v_groups = val_rows
            val = self._arrays(
                self._transform(v_frame), (v_Y - self.target_mean_) / self.target_scale_, v_groups
            )
            if not np.isfinite(val[1]).any():
                raise InputError(
                    "the validation rows have no target value", fix="pass validation holes with assays"
                )
        if len(train[0]) == 0:
            raise InputError("no training row has a target value", fix="pass rows with assays")

        keras.utils.set_random_seed(int(self.random_state))
        model = self._build(train[0].shape[-1], self.n_targets_)
        model.compile(optimizer=self._optimizer(), loss=_masked_mse)
        callbacks = []
        if val is not None:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=int(self.patience), restore_best_weights=True
                )
            )
        if self.on_epoch is not None:
            listener, name = self.on_epoch, self._name
            callbacks.append(
                keras.callbacks.LambdaCallback(
                    on_epoch_end=lambda epoch, logs: listener(
                        name, epoch, {k: float(v) for k, v in (logs or {}).items()}
                    )
                )
            )
        history = model.fit(
            train[0],
            train[1],
            sample_weight=train[2],
            validation_data=None if val is None else tuple(a for a in val if a is not None),
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            shuffle=True,
            verbose=0,
            callbacks=callbacks,
        )
        logs = history.history
        n_epochs = len(logs.get("loss", []))
        self.history_ = pd.DataFrame(
            {
                "epoch": np.arange(1, n_epochs + 1),
                "loss": np.asarray(logs.get("loss", []), dtype=float),
                "val_loss": np.asarray(logs.get("val_loss", [np.nan] * n_epochs), dtype=float),
            }
        )
        self.model_ = model
        return self

    def predict(self, X, groups=None):
        """Predicted log grades, (n, t), clipped to ``[target_min_, target_max_]``."""
        check_is_fitted(self, "model_")
        frame = self._frame_for_predict(X)
        groups = _as_groups(groups, len(frame))
        if len(frame) == 0:
            return np.zeros((0, self.n_targets_))
        scaled = self._predict_scaled(self._transform(frame), groups)
        return self._clip(scaled * self.target_scale_ + self.target_mean_)

    def _card_state(self) -> dict:
        state = super()._card_state()
        state["target_mean_"] = self.target_mean_.tolist()
        state["target_scale_"] = self.target_scale_.tolist()
        state["history_"] = {
            column: [None if not np.isfinite(v) else float(v) for v in self.history_[column]]
            for column in ("epoch", "loss", "val_loss")
        }
        return state

    def _set_card_state(self, state: dict) -> None:
        super()._set_card_state(state)
        self.target_mean_ = np.asarray(state["target_mean_"], dtype=float)
        self.target_scale_ = np.asarray(state["target_scale_"], dtype=float)
        history = pd.DataFrame(state.get("history_", {"epoch": [], "loss": [], "val_loss": []}))
        history["epoch"] = history["epoch"].astype(int)
        self.history_ = history.astype({"loss": float, "val_loss": float})


class LSTMRegressor(_KerasRegressor):
    """The paper's down-hole LSTM: many-to-many windows along each hole.

    Network: [``Bidirectional``] ``LSTM(u, return_sequences=True)`` for each ``u`` in
    ``lstm_units``, ``Dense(u, relu)`` for each ``u`` in ``dense_units``, then one linear
    output per target at every step (defaults: 2 x LSTM 128, Dense 64, Dense 32). Each
    group is cut into windows of ``window`` rows every ``stride`` rows (the tail gets one
    more window ending at the last row; short holes are padded). Padding is masked
    (``keras.layers.Masking`` on an extra input channel that is 1 on real rows and 0 on
    padding, so a real row whose inputs are all missing is *not* masked) and weighs 0 in
    the loss, as do missing targets. The loss is the MSE of standardised log targets
    (per row the mean over targets of the squared errors, a missing target contributing 0).
    Predictions of overlapping windows are averaged back onto rows.

    **Without groups, X is treated as one sequence** (one hole) in its row order.

    Parameters
    ----------
    lstm_units, dense_units : tuple of int
        Hidden layer sizes.
    window, stride : int
        Window length and step, in rows (samples) down the hole.
    bidirectional : bool
        Wrap each LSTM in ``keras.layers.Bidirectional`` (reads down and up the hole).
    optimizer : {"adam", "sgd"}
        ``Adam(learning_rate)`` or ``SGD(learning_rate, momentum=0.9)`` (the paper's option).
    learning_rate : float
    epochs, batch_size : int
        Most epochs; windows per batch.
    patience : int
        Early stopping on the validation loss (only when ``fit`` gets ``validation``),
        best weights restored.
    dropout : float
        Dropout rate after each hidden layer (0 = none).
    random_state : int
        Seed of ``keras.utils.set_random_seed`` (a global seed); the same seed gives
        identical predictions.
    feature_weights : tuple of float, optional
        One weight >= 0 per column of X multiplying the standardised input (0 removes it).
    clip_margin : float
        Log units by which the clip bounds widen the training range of each target.
    on_epoch : callable, optional
        ``on_epoch("LSTM", epoch, logs)`` after each epoch; ``epoch`` is Keras' 0-based
        index, ``logs`` has ``"loss"`` and, with validation, ``"val_loss"`` (floats).

    Attributes
    ----------
    model_ : keras.Model
    history_ : DataFrame
        ``epoch`` (1-based), ``loss``, ``val_loss`` (NaN without validation), standardised
        log units; with early stopping the kept weights are those of the lowest ``val_loss``.
    input_mean_, input_scale_ : ndarray (p,)
    target_mean_, target_scale_ : ndarray (t,)
        Standardisation of inputs and (log) targets, from the training rows.
    target_min_, target_max_ : ndarray (t,)
        Clip bounds of the predictions (training range widened by ``clip_margin``).
    feature_names_in_, n_features_in_, n_targets_
    """

    _name = "LSTM"

    def __init__(
        self,
        lstm_units: Sequence[int] = (128, 128),
        dense_units: Sequence[int] = (64, 32),
        window: int = 16,
        stride: int = 8,
        bidirectional: bool = False,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        epochs: int = 60,
        batch_size: int = 64,
        patience: int = 8,
        dropout: float = 0.0,
        random_state: int = 0,
        feature_weights: Sequence[float] | None = None,
        clip_margin: float = 1.0,
        on_epoch: EpochListener | None = None,
    ) -> None:
        self.lstm_units = lstm_units
        self.dense_units = dense_units
        self.window = window
        self.stride = stride
        self.bidirectional = bidirectional
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.dropout = dropout
        self.random_state = random_state
        self.feature_weights = feature_weights
        self.clip_margin = clip_margin
        self.on_epoch = on_epoch

    def _windows(self, z: np.ndarray, groups: np.ndarray | None):
        """Window inputs (with the 'real row' channel) and their row index (-1 = padding)."""
        if int(self.window) < 1 or int(self.stride) < 1:
            raise ValueError("window and stride must be >= 1")
        codes = np.zeros(len(z), dtype=int) if groups is None else pd.factorize(groups)[0]
        order = pd.DataFrame({"hole_id": codes, "from": np.arange(len(z))})
        flagged = np.column_stack([z, np.ones(len(z))])
        empty = np.zeros((len(z), 0))
        return build_sequences(order, flagged, empty, int(self.window), int(self.stride))

    def _arrays(self, z, scaled, groups):
        sequences = self._windows(z, groups)
        valid = sequences.rows >= 0
        safe = np.where(valid, sequences.rows, 0)
        targets = np.where(valid[..., None], scaled[safe], np.nan)
        weights = (valid & np.isfinite(targets).any(axis=-1)).astype(np.float32)
        return sequences.inputs, targets.astype(np.float32), weights

    def _build(self, n_inputs: int, n_targets: int):
        import keras

        layers = [keras.Input(shape=(None, n_inputs)), keras.layers.Masking(mask_value=0.0)]
        for units in self.lstm_units:
            lstm = keras.layers.LSTM(int(units), return_sequences=True)
            layers.append(keras.layers.Bidirectional(lstm) if self.bidirectional else lstm)
            if self.dropout:
                layers.append(keras.layers.Dropout(float(self.dropout)))
        for units in self.dense_units:
            layers.append(keras.layers.Dense(int(units), activation="relu"))
            if self.dropout:
                layers.append(keras.layers.Dropout(float(self.dropout)))
        layers.append(keras.layers.Dense(n_targets))
        return keras.Sequential(layers, name="afg_lstm")

    def _predict_scaled(self, z, groups):
        sequences = self._windows(z, groups)
        scaled = self.model_.predict(sequences.inputs, batch_size=256, verbose=0)
        return unwindow(sequences, np.asarray(scaled, dtype=float), len(z))


class FNNRegressor(_KerasRegressor):
    """The paper's feed-forward baseline: one row at a time, no down-hole context.

    ``Dense(u, relu)`` for each ``u`` in ``dense_units`` (default Dense 64, Dense 32), then
    one linear output per target; loss the MSE of standardised log targets, missing
    targets weighing 0 and rows without any target left out. ``groups`` are accepted
    for the common contract and ignored. Parameters, attributes, early stopping,
    ``on_epoch`` (named ``"FNN"``) and reproducibility as in :class:`LSTMRegressor`,
    ``batch_size`` counting rows.
    """

    _name = "FNN"

    def __init__(
        self,
        dense_units: Sequence[int] = (64, 32),
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        epochs: int = 60,
        batch_size: int = 64,
        patience: int = 8,
        dropout: float = 0.0,
        random_state: int = 0,
        feature_weights: Sequence[float] | None = None,
        clip_margin: float = 1.0,
        on_epoch: EpochListener | None = None,
    ) -> None:
        self.dense_units = dense_units
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.dropout = dropout
        self.random_state = random_state
        self.feature_weights = feature_weights
        self.clip_margin = clip_margin
        self.on_epoch = on_epoch

    def _arrays(self, z, scaled, groups):
        keep = np.isfinite(scaled).any(axis=1)
        return z[keep].astype(np.float32), scaled[keep].astype(np.float32), None

    def _build(self, n_inputs: int, n_targets: int):
        import keras

        layers = [keras.Input(shape=(n_inputs,))]
        for units in self.dense_units:
            layers.append(keras.layers.Dense(int(units), activation="relu"))
            if self.dropout:
                layers.append(keras.layers.Dropout(float(self.dropout)))
        layers.append(keras.layers.Dense(n_targets))
        return keras.Sequential(layers, name="afg_fnn")

    def _predict_scaled(self, z, groups):
        scaled = self.model_.predict(z.astype(np.float32), batch_size=1024, verbose=0)
        return np.asarray(scaled, dtype=float)


# ----------------------------------------------------------------------------- trees


def _threads_for(n_rows: int):
    """One OpenMP thread for small tables, the library default otherwise."""
    return threadpool_limits(limits=1 if n_rows < SINGLE_THREAD_ROWS else None, user_api="openmp")


class BoostingRegressor(_GradeModel):
    """Gradient-boosted trees: one scikit-learn ``HistGradientBoostingRegressor`` per target.

    Rows without a value of a target are left out of that target's trees. Inputs are
    standardised and weighted like the networks' but **NaN is kept** (the trees send
    missing values down their own branch). A ``feature_weights`` entry of exactly 0
    removes the feature (the column becomes a constant 0, NaN included, so no tree can
    split on it); any positive weight changes nothing, because trees are invariant to
    rescaling an input.

    Early stopping: with ``validation`` holes, each target is boosted with scikit-learn's
    explicit validation set (``fit(..., X_val=, y_val=)``, squared-error loss, stopping
    after ``early_stopping_rounds`` rounds without improvement). The stopped model is kept
    as it is (``n_iter_`` iterations, up to ``early_stopping_rounds`` past the best one:
    a refit to exactly the best count would double the cost for a negligible change at
    this learning rate); refitting ``n_iter_`` iterations without early stopping gives the
    same trees, which is how a saved model is rebuilt. No internal random validation split is ever used
    (it would mix samples of one hole across training and validation). Without
    validation (or with ``early_stopping_rounds=None``) all ``max_iter`` iterations run.

    Tables of fewer than :data:`SINGLE_THREAD_ROWS` rows are fitted and predicted on one
    OpenMP thread (``threadpoolctl``, process-wide while it runs): on drill-hole sized
    tables scikit-learn's threaded loops cost far more in start-up and spin-waiting than
    they save. Measured on a busy 2-core machine: 4 fits of 30 iterations on 300 rows took
    0.2 s on one thread and 13 s on two (113 s once JAX was loaded in the process); one fit
    of 100 iterations on 20 000 rows 0.3-0.5 s against 1-34 s. One thread also makes the
    sums, hence the trees, independent of the machine's core count.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        As in :class:`sklearn.ensemble.HistGradientBoostingRegressor`.
    early_stopping_rounds : int or None
        Patience of early stopping on the validation holes, in iterations.
    random_state : int
    feature_weights : tuple of float, optional
    clip_margin : float

    Attributes
    ----------
    estimators_ : list of HistGradientBoostingRegressor
        One per target.
    n_iter_ : list of int
        Boosting iterations kept per target.
    input_mean_, input_scale_, target_min_, target_max_, feature_names_in_, n_features_in_, n_targets_
    """

    _nan_to_mean = False

    def __init__(
        self,
        max_iter: int = 300,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        early_stopping_rounds: int | None = 10,
        random_state: int = 0,
        feature_weights: Sequence[float] | None = None,
        clip_margin: float = 1.0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.feature_weights = feature_weights
        self.clip_margin = clip_margin

    def _trees(self, max_iter: int, **extra) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            max_iter=int(max_iter),
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            random_state=int(self.random_state),
            **extra,
        )

    def _fit_final(self, z: np.ndarray, Y: np.ndarray, n_iter: Sequence[int]) -> None:
        """The kept model: per target, exactly ``n_iter[k]`` iterations on the training rows."""
        self.estimators_ = []
        for k, iterations in enumerate(n_iter):
            use = np.isfinite(Y[:, k])
            trees = self._trees(iterations, early_stopping=False)
            with _threads_for(int(use.sum())):
                self.estimators_.append(trees.fit(z[use], Y[use, k]))
        self.n_iter_ = [int(i) for i in n_iter]

    def fit(self, X, y, groups=None, validation=None):
        """Fit one boosted model per target; ``groups`` are accepted and not used.

        Returns
        -------
        self
        """
        frame, Y, groups = self._start_fit(X, y, groups)
        z = self._transform(frame)
        val_rows = self._validation_rows(validation)
        self.estimators_ = []
        for k in range(self.n_targets_):
            use = np.isfinite(Y[:, k])
            extra: dict = {"early_stopping": False}
            fit_validation: dict = {}
            if val_rows is not None and self.early_stopping_rounds is not None:
                v_frame, v_Y, _ = val_rows
                v_use = np.isfinite(v_Y[:, k])
                if v_use.any():
                    extra = {
                        "early_stopping": True,
                        "scoring": "loss",
                        "n_iter_no_change": int(self.early_stopping_rounds),
                    }
                    fit_validation = {"X_val": self._transform(v_frame)[v_use], "y_val": v_Y[v_use, k]}
            # The stopped model is kept as it is: its last early_stopping_rounds trees past the best
            # one add little at this learning rate, and a second fit would double the cost.
            trees = self._trees(self.max_iter, **extra)
            with _threads_for(int(use.sum())):
                self.estimators_.append(trees.fit(z[use], Y[use, k], **fit_validation))
        self.n_iter_ = [int(trees.n_iter_) for trees in self.estimators_]
        self._training_rows = (frame, Y, groups)
        return self

    def predict(self, X, groups=None):
        """Predicted log grades, (n, t), clipped to ``[target_min_, target_max_]``."""
        check_is_fitted(self, "estimators_")
        frame = self._frame_for_predict(X)
        if len(frame) == 0:
            return np.zeros((0, self.n_targets_))
        z = self._transform(frame)
        with _threads_for(len(z)):
            predicted = np.column_stack([trees.predict(z) for trees in self.estimators_])
        return self._clip(predicted)

    def _card_state(self) -> dict:
        return super()._card_state() | {"n_iter_": list(self.n_iter_)}

    def _refit_from_card(self, state: dict, X: pd.DataFrame, Y: np.ndarray, groups) -> None:
        """Rebuild the trees from the saved training rows and the card's iteration counts."""
        self._set_card_state(state)
        frame = self._frame_for_predict(X)
        self._fit_final(self._transform(frame), Y, state["n_iter_"])
        self._training_rows = (frame, Y, groups)


# ----------------------------------------------------------------------------- kriging


def _variogram_from_dict(values: dict) -> VariogramModel:
    values = dict(values)
    values["nested"] = tuple(Structure(**s) for s in values.get("nested", ()))
    return VariogramModel(**values)


class KrigingRegressor(_GradeModel):
    """The paper's baseline: ordinary kriging of each log target from the training rows.

    ``fit`` keeps the training rows and fits one variogram per target on them
    (``auto_variogram(coords, values, kind=kind).model``, rows with that target present);
    ``predict`` krige each target at the rows' coordinates with
    ``ordinary_kriging(train_coords, train_values, target_coords, model,
    neighbours=neighbours, max_per_hole=max_per_hole, hole_ids=train_groups)``.
    Without training ``groups`` there are no hole ids, so no per-hole cap
    (``max_per_hole=None``). A row with missing coordinates gets NaN.

    ``X`` must hold the ``coords`` columns (metres); other columns are ignored:
    ``feature_weights`` and ``random_state`` are accepted for the common contract but
    **not used** (kriging is deterministic and weights only coordinates). ``validation``
    and predict's ``groups`` are ignored too. Predictions are clipped like the other
    models' (ordinary kriging rarely leaves the training range anyway).

    Parameters
    ----------
    coords : tuple of str
        Coordinate columns of X (metres).
    neighbours : int or None
        Most samples per estimate (None: one global system, at most 6000 samples).
    max_per_hole : int or None
        Most samples from one hole.
    kind : str
        Variogram model kind of :func:`afg_core.geostat.auto_variogram`.
    clip_margin : float
    feature_weights, random_state
        Not used.

    Attributes
    ----------
    variograms_ : list of VariogramModel
        One per target.
    train_coords_ : ndarray (n, d)
    train_values_ : ndarray (n, t)
    train_groups_ : ndarray (n,) or None
    input_mean_, input_scale_, target_min_, target_max_, feature_names_in_, n_features_in_, n_targets_
    """

    def __init__(
        self,
        coords: Sequence[str] = ("x", "y", "z"),
        neighbours: int | None = 32,
        max_per_hole: int | None = 8,
        kind: str = "spherical",
        clip_margin: float = 1.0,
        feature_weights: Sequence[float] | None = None,
        random_state: int = 0,
    ) -> None:
        self.coords = coords
        self.neighbours = neighbours
        self.max_per_hole = max_per_hole
        self.kind = kind
        self.clip_margin = clip_margin
        self.feature_weights = feature_weights
        self.random_state = random_state

    def _coordinates(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.coords if c not in frame.columns]
        if missing:
            raise InputError(
                f"X lacks the coordinate column(s) {missing} the kriging baseline needs",
                column=missing[0],
                fix="include the sample coordinates (m) in X or set coords=",
            )
        return frame[list(self.coords)].to_numpy(dtype=float)

    def _keep(self, frame: pd.DataFrame, Y: np.ndarray, groups) -> None:
        self.train_coords_ = self._coordinates(frame)
        self.train_values_ = Y
        self.train_groups_ = groups
        self._training_rows = (frame, Y, groups)

    def _usable(self, k: int) -> np.ndarray:
        return np.isfinite(self.train_values_[:, k]) & np.isfinite(self.train_coords_).all(axis=1)

    def fit(self, X, y, groups=None, validation=None):
        """Keep the training rows and fit a variogram per target.

        Returns
        -------
        self
        """
        frame, Y, groups = self._start_fit(X, y, groups)
        self._keep(frame, Y, groups)
        self.variograms_ = []
        for k in range(self.n_targets_):
            use = self._usable(k)
            if use.sum() < 2:
                raise InputError(
                    f"target column {k} has fewer than 2 located samples to krige from",
                    fix="give training rows with coordinates and assays",
                )
            model = auto_variogram(self.train_coords_[use], Y[use, k], kind=self.kind).model
            self.variograms_.append(model)
        return self

    def predict(self, X, groups=None):
        """Kriged log grades, (n, t), clipped to ``[target_min_, target_max_]``."""
        check_is_fitted(self, "variograms_")
        frame = _as_frame(X)
        targets = self._coordinates(frame)
        out = np.full((len(frame), self.n_targets_), np.nan)
        if len(frame) == 0:
            return out
        for k, model in enumerate(self.variograms_):
            use = self._usable(k)
            holes = None if self.train_groups_ is None else self.train_groups_[use]
            out[:, k] = ordinary_kriging(
                self.train_coords_[use],
                self.train_values_[use, k],
                targets,
                model,
                neighbours=self.neighbours,
                max_per_hole=self.max_per_hole if holes is not None else None,
                hole_ids=holes,
            ).estimate
        return self._clip(out)

    def _card_state(self) -> dict:
        return super()._card_state() | {"variograms_": [asdict(m) for m in self.variograms_]}

    def _refit_from_card(self, state: dict, X: pd.DataFrame, Y: np.ndarray, groups) -> None:
        """Training rows from the saved table, variograms from the card (no refitting needed)."""
        self._set_card_state(state)
        self._keep(_as_frame(X), Y, groups)
        self.variograms_ = [_variogram_from_dict(v) for v in state["variograms_"]]


#: Short name -> estimator class, for settings files and the command line.
MODELS: dict[str, type[_GradeModel]] = {
    "lstm": LSTMRegressor,
    "fnn": FNNRegressor,
    "kriging": KrigingRegressor,
    "boosting": BoostingRegressor,
}
