"""Benchmark: demo generation time and LSTM epoch time on this machine.

Run: .venv/bin/python benchmarks/demo_and_training.py
Prints the seconds to write the demo project (target: under 30 s) and the seconds per
training epoch of the seed LSTM (2 x LSTM 128, Dense 64, Dense 32, 15 outputs) on
4,000 sequences x 16 steps x 11 features, batch 64, with the configured Keras backend.
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import afg_core  # noqa: F401
from afg_core.demo.generator import generate_demo_project
from afg_core.learn.training import TrainingConfig, build_lstm


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        generate_demo_project(folder, seed=42)
        print(f"demo project (90 holes): {time.perf_counter() - start:.1f} s (target < 30 s)")

    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 16, 11)).astype("float32")
    y = rng.normal(size=(4000, 16, 15)).astype("float32")
    model = build_lstm(11, 15, TrainingConfig())
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)  # compile
    start = time.perf_counter()
    epochs = 3
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    per_epoch = (time.perf_counter() - start) / epochs
    print(f"LSTM epoch, backend {keras.backend.backend()}: {per_epoch:.2f} s")


if __name__ == "__main__":
    main()
