"""Save and load the grade models of :mod:`afg_core.learn.models` as plain folders.

A saved model is a folder:

``card.json``
    The model card: class name, the JSON-serialisable ``get_params()`` (``on_epoch``,
    a live listener, is dropped), the fitted scalers, clip bounds and feature names, the
    Keras backend and library versions, and the caller's own ``card`` dict (scores,
    data set, author...) under ``"card"``.
``model.keras``
    The networks (:class:`~afg_core.learn.models.LSTMRegressor`,
    :class:`~afg_core.learn.models.FNNRegressor`), in Keras' native format, loaded back
    with ``keras.saving.load_model(path, safe_mode=True, compile=False)`` (no code is
    deserialised; the model is loaded for prediction only).
``training.parquet``
    Boosting and kriging: the training rows (features, ``__target_<k>`` columns and,
    when given, ``__group``). No pickle or joblib file is ever written or read: these
    models are **re-fitted from the card** on load, deterministically (the trees with the
    card's iteration counts ``n_iter_`` and ``random_state``; kriging with the card's
    variograms), so the loaded model predicts exactly what the saved one did.

Examples
--------
>>> import tempfile
>>> import numpy as np, pandas as pd
>>> from afg_core.learn.models import BoostingRegressor
>>> from afg_core.learn.persistence import load_model, save_model
>>> X = pd.DataFrame({"a": np.arange(60.0), "b": np.sin(np.arange(60.0))})
>>> y = np.log1p(X[["a"]].to_numpy())
>>> model = BoostingRegressor(max_iter=20, min_samples_leaf=5).fit(X, y)
>>> with tempfile.TemporaryDirectory() as folder:
...     _ = save_model(model, folder, card={"note": "example"})
...     again = load_model(folder)
>>> bool(np.array_equal(again.predict(X), model.predict(X)))
True
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.utils.validation import check_is_fitted

from afg_core.errors import InputError
from afg_core.learn.models import MODELS, BoostingRegressor, KrigingRegressor, _KerasRegressor

CARD = "card.json"
KERAS_FILE = "model.keras"
TRAINING_FILE = "training.parquet"
FORMAT = "afg-grade-model"
FORMAT_VERSION = 1
_GROUP = "__group"
_CLASSES = {cls.__name__: cls for cls in MODELS.values()}
#: Parameters that are live Python objects, never written to the card.
_DROPPED = {"on_epoch"}


def _jsonable(value):
    """``value`` as plain JSON types; raises TypeError when it has none."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, tuple | list | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _params_for_card(estimator) -> tuple[dict, list[str]]:
    params, dropped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        if name in _DROPPED:
            continue
        try:
            params[name] = _jsonable(value)
        except TypeError:
            dropped.append(name)
    return params, dropped


def _params_from_card(params: dict) -> dict:
    """JSON lists back to the tuples the estimators take."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def save_model(estimator, folder: str | Path, card: dict | None = None) -> Path:
    """Write a fitted model of :data:`afg_core.learn.models.MODELS` to ``folder``.

    Parameters
    ----------
    estimator : LSTMRegressor, FNNRegressor, BoostingRegressor or KrigingRegressor
        A fitted model.
    folder : str or Path
        Created if needed; files of an earlier save there are overwritten.
    card : dict, optional
        The caller's JSON-serialisable notes (scores, data, hole split...), stored under
        ``"card"`` in ``card.json``.

    Returns
    -------
    Path
        The folder.
    """
    name = type(estimator).__name__
    if _CLASSES.get(name) is not type(estimator):
        raise TypeError(f"save_model saves the models of afg_core.learn.models, not {name}")
    check_is_fitted(estimator, "n_targets_")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    params, dropped = _params_for_card(estimator)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": name,
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "params": params,
        "params_not_saved": sorted(dropped + [p for p in _DROPPED if p in estimator.get_params(deep=False)]),
        "fitted": _jsonable(estimator._card_state()),
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "pandas": pd.__version__},
        "card": _jsonable(card or {}),
    }
    if isinstance(estimator, _KerasRegressor):
        import keras

        document["keras_backend"] = keras.backend.backend()
        document["versions"]["keras"] = keras.__version__
        document["files"] = [KERAS_FILE]
        estimator.model_.save(folder / KERAS_FILE)
    else:
        frame, Y, groups = estimator._training_rows
        table = frame.reset_index(drop=True).copy()
        for k in range(Y.shape[1]):
            table[f"__target_{k}"] = Y[:, k]
        if groups is not None:
            table[_GROUP] = groups
        document["has_groups"] = groups is not None
        document["files"] = [TRAINING_FILE]
        table.to_parquet(folder / TRAINING_FILE, index=False)
    (folder / CARD).write_text(json.dumps(document, indent=2, allow_nan=False))
    return folder


def read_card(folder: str | Path) -> dict:
    """The ``card.json`` of a saved model folder, checked to name a known model class."""
    path = Path(folder) / CARD
    if not path.is_file():
        raise InputError(
            "no model card in this folder",
            file=str(path),
            fix="pick a folder written by afg_core.learn.persistence.save_model",
        )
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            f"the model card is not readable JSON ({error})", file=str(path), fix="save the model again"
        ) from error
    name = document.get("class") if isinstance(document, dict) else None
    if name not in _CLASSES:
        raise InputError(
            f"the model card names an unknown model class {name!r}",
            file=str(path),
            fix=f"a card's 'class' must be one of {sorted(_CLASSES)}; save the model again with save_model",
        )
    return document


def load_model(folder: str | Path):
    """A fitted model read from a folder written by :func:`save_model`.

    Networks are read from ``model.keras`` with ``safe_mode=True``; boosting and kriging
    are re-fitted from ``training.parquet`` and the card. Predictions equal the saved
    model's (to float32 round-off for the networks; in practice exactly).

    Raises
    ------
    InputError
        When the folder has no readable ``card.json``, the card names an unknown class or
        parameters, or a model file is missing.
    """
    folder = Path(folder)
    document = read_card(folder)
    cls = _CLASSES[document["class"]]
    try:
        estimator = cls(**_params_from_card(document.get("params", {})))
    except TypeError as error:
        raise InputError(
            f"the card's parameters do not fit {cls.__name__} ({error})",
            file=str(folder / CARD),
            fix="save the model again with this version of afg_core",
        ) from error
    state = document["fitted"]
    if issubclass(cls, _KerasRegressor):
        import keras

        path = folder / KERAS_FILE
        _require(path)
        estimator._set_card_state(state)
        estimator.model_ = keras.saving.load_model(path, compile=False, safe_mode=True)
        return estimator
    if issubclass(cls, BoostingRegressor | KrigingRegressor):
        path = folder / TRAINING_FILE
        _require(path)
        table = pd.read_parquet(path)
        names = list(state["feature_names_in_"])
        targets = [f"__target_{k}" for k in range(int(state["n_targets_"]))]
        missing = [c for c in names + targets if c not in table.columns]
        if missing:
            raise InputError(
                f"the saved training rows lack the column(s) {missing}",
                file=str(path),
                fix="save the model again",
            )
        groups = table[_GROUP].to_numpy() if document.get("has_groups") and _GROUP in table else None
        estimator._refit_from_card(state, table[names], table[targets].to_numpy(dtype=float), groups)
        return estimator
    raise InputError(f"cannot load {cls.__name__}", file=str(folder / CARD))  # pragma: no cover


def _require(path: Path) -> None:
    if not path.is_file():
        raise InputError(
            "a file of the saved model is missing", file=str(path), fix="copy the whole model folder"
        )


__all__ = ["load_model", "read_card", "save_model"]
