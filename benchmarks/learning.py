"""Benchmark: the learning pipeline on the demo (truth known) and on a real drill-hole set.

Run: .venv/bin/python benchmarks/learning.py [--skip-real] [--skip-million]
Prints, for the demo (seed 42, 90 holes) and each task, the wall time of the whole run (target:
under 3 minutes on a 2-core machine), every model's TREO and mean per-element scores with
95 % intervals, the paired differences against kriging and boosting and the ablation table;
the same for Forrestania (Ni and Cu from the other elements) when ../shared/data is present;
and the time to predict a 1,000,000-cell block model (all targets, 5-member ensemble with
uncertainty; target: under 60 s).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from afg_core import configure_backends

configure_backends()

from afg_core.demo import generate_demo_project  # noqa: E402
from afg_core.io import load_project  # noqa: E402
from afg_core.learn import RunConfig, run_experiment  # noqa: E402
from afg_core.learn.experiment import predict_volume, resolve_targets  # noqa: E402
from afg_core.spectral import spectral_pca  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
pd.set_option("display.width", 160)


def show(result, seconds: float, label: str) -> None:
    print(f"\n=== {label}: {seconds:.0f} s end to end (target < 180 s for the demo) ===")
    scores = result.scores
    headline = [result.sum_name] if result.sum_name else result.targets
    columns = ["model", "grade", "rmse", "rmse_lo", "rmse_hi", "r2", "r2_lo", "r2_hi", "log_rmse"]
    extra = [c for c in ("class_accuracy", "productive_accuracy", "precision", "recall") if c in scores]
    print(scores[scores["grade"].isin(headline)][columns + extra].round(3).to_string(index=False))
    elements = scores[~scores["grade"].isin([result.sum_name])]
    print("mean over elements:")
    print(elements.groupby("model", sort=False)[["log_rmse", "r2"]].mean().round(3).to_string())
    paired = result.paired[result.paired["grade"].isin(headline)]
    print("paired RMSE differences (first minus second, 95 % CI):")
    print(paired.round(2).to_string(index=False))
    if len(result.ablation):
        print("ablation (boosting refitted without each group, test holes):")
        print(result.ablation.round(3).to_string(index=False))
    for note in result.notes:
        print("note:", note)


def demo(folder: Path) -> None:
    project = load_project(folder)
    pca = spectral_pca(project.hyperspectral, n_components=3)
    for task in ("along-holes", "volume"):
        start = time.perf_counter()
        result = run_experiment(project, RunConfig(task=task), pca)
        show(result, time.perf_counter() - start, f"demo, task {task}")


def real() -> None:
    source = SHARED / "forrestania-wa-drillholes"
    if not source.is_dir():
        print(f"\n(no {source}: real-data figures skipped)")
        return
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "project.toml").write_text(
            'crs = "EPSG:28350"\ntarget_elements = ["Ni", "Cu"]\n[files]\n'
            f'collar = "{(source / "forrestania_collar.csv").as_posix()}"\n'
            f'survey = "{(source / "forrestania_survey.csv").as_posix()}"\n'
            f'assay = "{(source / "forrestania_assay.csv").as_posix()}"\n[cutoffs]\nNi = 3000.0\nCu = 1000.0\n'
        )
        project = load_project(folder)
        for task in ("along-holes", "volume"):
            start = time.perf_counter()
            result = run_experiment(project, RunConfig(task=task))
            show(result, time.perf_counter() - start, f"Forrestania Ni, Cu, task {task}")


def million(folder: Path) -> None:
    """Predict ~1,000,000 cells: cell size chosen so the demo's active cells number about a million."""
    project = load_project(folder)
    pca = spectral_pca(project.hyperspectral, n_components=3)
    config = RunConfig(
        task="along-holes", models=("boosting",), cell_size=(14.0, 14.0, 5.0), max_distance=400.0
    )
    targets = resolve_targets(project, config)
    samples = project.drillholes.samples
    tested = np.zeros(len(samples[samples[targets].notna().any(axis=1)]), dtype=bool)
    stages: list[tuple[str, float]] = []
    start = time.perf_counter()

    def stage(message: str) -> None:
        stages.append((message, time.perf_counter() - start))

    volume, _ = predict_volume(
        project,
        config,
        targets,
        "TREO",
        {"TREO": 1000.0},
        pca,
        {},
        np.zeros((len(tested), len(targets))),
        tested,
        report=stage,
    )
    total = time.perf_counter() - start
    cells = int(volume.block.flat_mask().sum())
    print(
        f"\n=== {cells:,} cells, {len(targets)} targets + TREO, {volume.members}-member {volume.model} "
        f"ensemble with uncertainty: {total:.0f} s (target < 60 s) ==="
    )
    times = [t for _, t in stages] + [total]
    for (message, at), end in zip(stages, times[1:]):
        print(f"  {end - at:6.1f} s  {message}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-million", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        generate_demo_project(Path(folder) / "demo", seed=42)
        demo(Path(folder) / "demo")
        if not args.skip_real:
            real()
        if not args.skip_million:
            million(Path(folder) / "demo")


if __name__ == "__main__":
    main()
