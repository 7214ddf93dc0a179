"""Benchmark: demo generation time and LSTM epoch time on this machine.

Run: .venv/bin/python benchmarks/demo_and_training.py
Prints the seconds to write the demo project (target: under 30 s) and the seconds per
training epoch of the paper's LSTM (2 x LSTM 128, Dense 64, Dense 32, 15 outputs) on
4,000 windows x 16 steps x 11 features (64,000 rows), batch 64, with the configured Keras backend.
"""

import tempfile
import time

import numpy as np
import pandas as pd

from afg_core import configure_backends

configure_backends()

from afg_core.demo import generate_demo_project  # noqa: E402
from afg_core.learn import LSTMRegressor  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        generate_demo_project(folder, seed=42)
        print(f"demo project (90 holes): {time.perf_counter() - start:.1f} s (target < 30 s)")

    import keras

    rng = np.random.default_rng(0)
    rows = 4000 * 16
    x = pd.DataFrame(rng.normal(size=(rows, 11)), columns=[f"f{i}" for i in range(11)])
    y = rng.normal(size=(rows, 15))
    holes = np.repeat(np.arange(4000), 16)
    times = []
    model = LSTMRegressor(
        window=16, stride=16, epochs=4, on_epoch=lambda *_: times.append(time.perf_counter())
    )
    start = time.perf_counter()
    model.fit(x, y, groups=holes)
    per_epoch = np.diff([start, *times])[1:].mean()  # the first epoch includes compilation
    print(
        f"LSTM epoch, backend {keras.backend.backend()}: {per_epoch:.2f} s (first epoch with compile: "
        f"{times[0] - start:.1f} s)"
    )


if __name__ == "__main__":
    main()
