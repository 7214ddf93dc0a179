"""The four grade models (afg_core.learn.models) under one contract, and their persistence.

Tiny networks and a few hundred rows keep the file fast; each model is fitted once per
module (fixtures) and the checks share those fits.
"""

from __future__ import annotations

import afg_core

afg_core.configure_backends()

import json  # noqa: E402

import keras  # noqa: E402, F401  (after configure_backends: Keras on JAX)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import clone  # noqa: E402

from afg_core.errors import InputError  # noqa: E402
from afg_core.geostat import auto_variogram, ordinary_kriging  # noqa: E402
from afg_core.learn.models import (  # noqa: E402
    MODELS,
    BoostingRegressor,
    FNNRegressor,
    KrigingRegressor,
    LSTMRegressor,
)
from afg_core.learn.persistence import load_model, save_model  # noqa: E402

# Keras copies weights through np.array(variable) (numpy 2 deprecation noise, not ours).
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"
)

N_HOLES, LENGTH = 24, 20
TRAIN_HOLES, VALIDATION_HOLES = 16, 4  # the last 4 holes are the test holes

LSTM_PARAMS = dict(
    lstm_units=(8,), dense_units=(8,), window=8, stride=4, learning_rate=0.02, epochs=40, batch_size=32
)
FNN_PARAMS = dict(dense_units=(8,), learning_rate=0.02, epochs=15, batch_size=32)
BOOSTING_PARAMS = dict(max_iter=30, learning_rate=0.2, min_samples_leaf=5, early_stopping_rounds=5)


def _dataset(seed: int = 0):
    """Holes down a grid; target 0 is the previous row's input ``a`` (a sequence task),
    target 1 mostly ``b`` plus a smooth field of the coordinates; ``c`` is noise. Some inputs
    and targets are missing, one row has no target at all."""
    rng = np.random.default_rng(seed)
    hole = np.repeat(np.arange(N_HOLES), LENGTH)
    step = np.tile(np.arange(LENGTH), N_HOLES)
    x = 100.0 * (hole % 6) + rng.uniform(0, 20, N_HOLES)[hole]
    y = 100.0 * (hole // 6) + rng.uniform(0, 20, N_HOLES)[hole]
    z = 300.0 - 2.0 * step
    a = rng.normal(size=len(hole))
    b = rng.normal(size=len(hole))
    c = rng.normal(size=len(hole))
    previous = np.where(step > 0, np.roll(a, 1), np.nan)
    smooth = 0.8 * b + 0.5 * np.sin(x / 150.0) + 0.3 * np.cos(y / 200.0) + 0.002 * z
    targets = np.column_stack([previous, smooth])
    b[rng.choice(len(b), 15, replace=False)] = np.nan
    targets[rng.choice(len(b), 20, replace=False), 1] = np.nan
    targets[5, :] = np.nan
    X = pd.DataFrame({"x": x, "y": y, "z": z, "a": a, "b": b, "c": c})
    groups = np.array([f"DH{h:02d}" for h in hole], dtype=object)
    train = hole < TRAIN_HOLES
    validation = (hole >= TRAIN_HOLES) & (hole < TRAIN_HOLES + VALIDATION_HOLES)
    test = hole >= TRAIN_HOLES + VALIDATION_HOLES
    return X, targets, groups, train, validation, test


@pytest.fixture(scope="module")
def data():
    return _dataset()


def _fit(model, data, validation=True):
    X, Y, groups, train, val, _ = data
    given = (X[val], Y[val], groups[val]) if validation else None
    return model.fit(X[train], Y[train], groups[train], validation=given)


def _test_rows(data):
    X, Y, groups, _, _, test = data
    return X[test], Y[test], groups[test]


class EpochRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, dict]] = []

    def __call__(self, name: str, epoch: int, logs: dict) -> None:
        self.calls.append((name, epoch, logs))


WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.0)  # "c" removed


@pytest.fixture(scope="module")
def lstm(data):
    recorder = EpochRecorder()
    model = LSTMRegressor(**LSTM_PARAMS, feature_weights=WEIGHTS, on_epoch=recorder)
    fitted = _fit(model, data)
    assert fitted is model
    return model, recorder


@pytest.fixture(scope="module")
def fnn(data):
    recorder = EpochRecorder()
    model = FNNRegressor(**FNN_PARAMS, feature_weights=WEIGHTS, on_epoch=recorder)
    fitted = _fit(model, data)
    assert fitted is model
    return model, recorder


@pytest.fixture(scope="module")
def boosting(data):
    model = BoostingRegressor(**BOOSTING_PARAMS, feature_weights=WEIGHTS)
    assert _fit(model, data) is model
    return model


@pytest.fixture(scope="module")
def kriging(data):
    model = KrigingRegressor(neighbours=16, max_per_hole=4)
    assert _fit(model, data) is model
    return model


@pytest.fixture(scope="module")
def fitted(lstm, fnn, boosting, kriging):
    return {"lstm": lstm[0], "fnn": fnn[0], "boosting": boosting, "kriging": kriging}


def _r2(observed: np.ndarray, predicted: np.ndarray) -> float:
    ok = np.isfinite(observed)
    return 1.0 - np.mean((observed[ok] - predicted[ok]) ** 2) / np.var(observed[ok])


# ----------------------------------------------------------------------------- contract


@pytest.mark.parametrize("name", sorted(MODELS))
def test_clone_keeps_parameters(name):
    cls = MODELS[name]
    params = {"clip_margin": 0.5, "random_state": 7, "feature_weights": (1.0, 0.0)}
    if name in {"lstm", "fnn"}:
        params |= {"dense_units": (4,), "on_epoch": print}
    model = cls(**params)
    copy = clone(model)
    assert type(copy) is cls and copy is not model
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "n_targets_")


def test_all_models_fit_predict_shape_and_tolerate_nan_targets(fitted, data):
    X, Y, groups, train, _, test = data
    assert np.isnan(Y[train]).any() and np.isnan(Y[train]).all(axis=1).any()  # NaN targets were given
    for name, model in fitted.items():
        predicted = model.predict(X[test], groups[test])
        assert predicted.shape == (test.sum(), 2), name
        assert np.isfinite(predicted).all(), name
        assert model.n_targets_ == 2
        assert list(model.feature_names_in_) == list(X.columns)
        assert model.input_mean_.shape == model.input_scale_.shape == (X.shape[1],)
        np.testing.assert_allclose(model.input_mean_[4], np.nanmean(X.loc[train, "b"]))
        assert (model.target_min_ < model.target_max_).all()
    # The networks and the trees learn target 1 (mostly input b) on held-out holes.
    for name in ("lstm", "fnn", "boosting"):
        assert _r2(Y[test, 1], fitted[name].predict(X[test], groups[test])[:, 1]) > 0.3, name


def test_predictions_are_clipped_far_outside_training(fitted, data):
    X, Y, groups, _, _, test = data
    far = X[test].copy()
    far[["a", "b", "c"]] *= 1e3
    far[["x", "y"]] += 1e4
    for name, model in fitted.items():
        predicted = model.predict(far, groups[test])
        assert np.isfinite(predicted).all(), name
        assert (predicted >= model.target_min_).all() and (predicted <= model.target_max_).all(), name
        np.testing.assert_allclose(model.target_max_, np.nanmax(Y[data[3]], axis=0) + 1.0)


@pytest.mark.parametrize("name", ["lstm", "fnn", "boosting"])
def test_zero_feature_weight_removes_the_feature(fitted, data, name):
    X, _, groups, _, _, test = data
    model = fitted[name]
    changed = X[test].copy()
    changed["c"] = np.where(np.arange(len(changed)) % 3 == 0, np.nan, 1e6 * changed["c"])
    np.testing.assert_array_equal(model.predict(X[test], groups[test]), model.predict(changed, groups[test]))
    other = X[test].copy()
    other["b"] += 3.0  # a weighted feature still matters
    assert not np.array_equal(model.predict(X[test], groups[test]), model.predict(other, groups[test]))


@pytest.mark.parametrize("name", ["lstm", "fnn", "boosting"])
def test_same_seed_gives_identical_predictions(fitted, data, name):
    """Reproducible on Keras' JAX CPU backend too (refit without the epoch listener)."""
    model = fitted[name]
    again = _fit(clone(model).set_params(**({"on_epoch": None} if name != "boosting" else {})), data)
    X, _, groups = _test_rows(data)
    np.testing.assert_array_equal(again.predict(X, groups), model.predict(X, groups))


def test_lstm_reads_down_the_hole_where_fnn_cannot(fitted, data):
    """Target 0 is the previous row's input: only a model with down-hole memory predicts it."""
    X, Y, groups = _test_rows(data)
    assert _r2(Y[:, 0], fitted["lstm"].predict(X, groups)[:, 0]) > 0.6
    assert _r2(Y[:, 0], fitted["fnn"].predict(X, groups)[:, 0]) < 0.2


def test_lstm_rows_come_back_in_the_order_of_x(fitted, data):
    """Without groups X is one sequence; with groups, the order of the holes does not matter."""
    X, _, groups = _test_rows(data)
    model = fitted["lstm"]
    one_hole = X[groups == groups[0]]
    np.testing.assert_allclose(model.predict(one_hole), model.predict(one_hole, groups[groups == groups[0]]))
    holes = pd.unique(groups)[::-1]
    order = np.concatenate([np.flatnonzero(groups == h) for h in holes])
    np.testing.assert_allclose(
        model.predict(X.iloc[order], groups[order]), model.predict(X, groups)[order], rtol=1e-6
    )


def test_bidirectional_sgd_lstm_fits(data):
    X, Y, groups, train, _, test = data
    model = LSTMRegressor(
        lstm_units=(4,), dense_units=(), window=8, stride=8, bidirectional=True, optimizer="sgd", epochs=2
    ).fit(X[train], Y[train], groups[train])
    assert len(model.history_) == 2 and model.history_["val_loss"].isna().all()
    assert model.model_.layers[1].__class__.__name__ == "Bidirectional"
    assert model.predict(X[test], groups[test]).shape == (test.sum(), 2)
    # Padding is masked in both directions: a 5-row hole padded to a window of 8 predicts as
    # the same hole cut into one window of exactly 5 rows.
    short = X[test].iloc[:5]
    padded = model.predict(short)
    np.testing.assert_allclose(model.set_params(window=5, stride=5).predict(short), padded, rtol=1e-6)


# ----------------------------------------------------------------------------- training loop


@pytest.mark.parametrize("name", ["lstm", "fnn"])
def test_on_epoch_called_once_per_epoch_with_losses(lstm, fnn, name):
    model, recorder = {"lstm": lstm, "fnn": fnn}[name]
    assert len(recorder.calls) == len(model.history_) > 0
    assert [c[1] for c in recorder.calls] == list(range(len(model.history_)))
    assert {c[0] for c in recorder.calls} == {name.upper()}
    for (_, _, logs), row in zip(recorder.calls, model.history_.itertuples()):
        assert logs["loss"] == pytest.approx(row.loss) and logs["val_loss"] == pytest.approx(row.val_loss)
    assert list(model.history_.columns) == ["epoch", "loss", "val_loss"]


def test_early_stopping_restores_best_weights(data):
    """Patience 1 on a task that overfits stops early; the kept weights are the best epoch's."""
    X, Y, groups, train, val, _ = data
    rows = np.flatnonzero(train)[:60]  # few rows, big network, fast learning rate: overfits
    noisy = Y.copy()
    noisy[rows] += np.random.default_rng(1).normal(0, 1.0, (len(rows), 2))
    # clip_margin huge: clipping would otherwise hide the wild predictions of the overfitted net.
    model = FNNRegressor(
        dense_units=(32,), learning_rate=0.02, epochs=40, batch_size=8, patience=1, clip_margin=1e6
    )
    model.fit(X.iloc[rows], noisy[rows], validation=(X[val], Y[val], groups[val]))
    assert len(model.history_) < 40
    # The final model's validation loss (masked MSE of standardised targets) is the best logged one.
    observed = (Y[val] - model.target_mean_) / model.target_scale_
    predicted = (model.predict(X[val]) - model.target_mean_) / model.target_scale_
    keep = np.isfinite(observed).any(axis=1)
    squared = np.where(np.isfinite(observed), (observed - predicted) ** 2, 0.0)[keep]
    assert squared.mean() == pytest.approx(model.history_["val_loss"].min(), rel=1e-4)
    assert model.history_["val_loss"].iloc[-1] > model.history_["val_loss"].min()


def test_boosting_stops_on_validation_holes(boosting):
    assert all(1 <= n <= BOOSTING_PARAMS["max_iter"] for n in boosting.n_iter_)
    assert [e.n_iter_ for e in boosting.estimators_] == boosting.n_iter_
    assert boosting.n_iter_[0] < BOOSTING_PARAMS["max_iter"]  # target 0 is noise to the trees


# ----------------------------------------------------------------------------- kriging


def test_kriging_reproduces_ordinary_kriging(kriging, data):
    X, Y, groups, train, _, test = data
    coords = X[["x", "y", "z"]].to_numpy()
    for k in range(2):
        use = train & np.isfinite(Y[:, k])
        model = auto_variogram(coords[use], Y[use, k], kind="spherical").model
        assert model == kriging.variograms_[k]
        expected = ordinary_kriging(
            coords[use], Y[use, k], coords[test], model, neighbours=16, max_per_hole=4, hole_ids=groups[use]
        ).estimate
        np.testing.assert_allclose(kriging.predict(X[test])[:, k], expected, rtol=1e-12)


# ----------------------------------------------------------------------------- persistence


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_round_trip(fitted, data, tmp_path, name):
    model = fitted[name]
    folder = save_model(model, tmp_path / name, card={"scores": {"rmse": 0.5}, "holes": ["DH20"]})
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["card.json", "model.keras" if name in {"lstm", "fnn"} else "training.parquet"]
    card = json.loads((folder / "card.json").read_text())
    assert card["class"] == type(model).__name__
    assert card["card"] == {"scores": {"rmse": 0.5}, "holes": ["DH20"]}
    assert "on_epoch" not in card["params"]
    assert card["fitted"]["feature_names_in_"] == list(data[0].columns)

    loaded = load_model(folder)
    assert type(loaded) is type(model)
    params = model.get_params()
    params.pop("on_epoch", None)
    assert {k: v for k, v in loaded.get_params().items() if k != "on_epoch"} == params
    X, _, groups = _test_rows(data)
    np.testing.assert_allclose(loaded.predict(X, groups), model.predict(X, groups), rtol=1e-5, atol=0)
    np.testing.assert_array_equal(loaded.target_min_, model.target_min_)


def test_load_refuses_unknown_class(tmp_path):
    (tmp_path / "card.json").write_text(json.dumps({"class": "os.system", "params": {}, "fitted": {}}))
    with pytest.raises(InputError) as caught:
        load_model(tmp_path)
    assert caught.value.file.endswith("card.json") and caught.value.fix
    with pytest.raises(InputError):
        load_model(tmp_path / "missing")
