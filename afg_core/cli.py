"""Command line: ``python -m afg_core <command> ...`` (``--help`` for the list)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from afg_core.errors import InputError
from afg_core.runtime import configure_backends


def _demo(args: argparse.Namespace) -> int:
    from afg_core.demo.generator import generate_demo_project

    start = time.perf_counter()
    folder = generate_demo_project(args.out_dir, seed=args.seed, n_holes=args.holes)
    print(f"demo project written to {folder} in {time.perf_counter() - start:.1f} s")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from afg_core.io.project import load_project

    project = load_project(args.project_dir)
    report = project.report
    if args.json:
        print(
            json.dumps(
                {
                    "usable": report.usable,
                    "accounting": report.accounting_frame().to_dict(orient="records"),
                    "findings": json.loads(report.to_frame().to_json(orient="records")),
                },
                indent=2,
            )
        )
    else:
        print(report.summary())
    return 0 if report.usable else 1


def _variogram(args: argparse.Namespace) -> int:
    from afg_core.geostat.fitting import auto_variogram
    from afg_core.io.project import load_project
    from afg_core.transforms import log_grade

    samples = load_project(args.project_dir).drillholes.samples
    if args.element not in samples:
        raise InputError(
            f"no element '{args.element}' in the assays",
            column=args.element,
            fix="use an element column of assay.csv, e.g. La",
        )
    use = samples[args.element].notna()
    coords = samples.loc[use, ["x", "y", "z"]].to_numpy()
    values = log_grade(samples.loc[use, args.element].to_numpy())
    model = auto_variogram(coords, values, kind=args.model, n_lags=args.lags, max_lag=args.max_lag).model
    print(f"log({args.element}) {model}")
    return 0


def _targets(args: argparse.Namespace) -> int:
    from afg_core.io.project import load_project
    from afg_core.products.targets import estimate_treo_blocks, rank_drill_targets

    project = load_project(args.project_dir)
    samples = project.drillholes.samples
    estimate = estimate_treo_blocks(samples, cell_size=(args.cell, args.cell, args.cell / 5))
    cutoff = args.cutoff or project.settings.cutoff("TREO")
    table = rank_drill_targets(estimate, cutoff, samples[["x", "y", "z"]].to_numpy())
    print(table.head(args.top).to_string(index=False))
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


def _train(args: argparse.Namespace) -> int:
    from afg_core.io.project import load_project
    from afg_core.learn.pipeline import prepare_training, train_and_score
    from afg_core.learn.training import TrainingConfig
    from afg_core.spectral.pca import spectral_pca

    project = load_project(args.project_dir)
    pca = spectral_pca(project.hyperspectral, n_components=3) if project.hyperspectral is not None else None
    config = TrainingConfig(epochs=args.epochs, seed=args.seed)
    experiment = prepare_training(project, config, pca)

    def report(name: str, epoch: int, logs: dict) -> None:
        print(
            f"{name} epoch {epoch + 1}: loss {logs['loss']:.4f} val_loss {logs['val_loss']:.4f}", flush=True
        )

    run = train_and_score(experiment, config, project.settings.cutoff("TREO"), report, args.models_dir)
    print(run.scores.round(3).to_string(index=False))
    if run.saved is not None:
        print("saved", run.saved)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m afg_core", description="AFG: REE grade prediction for BIF deposits"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="write the synthetic BIF demo project")
    demo.add_argument("out_dir", type=Path)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--holes", type=int, default=90)
    demo.set_defaults(run=_demo)

    validate = commands.add_parser("validate", help="load a project and print its validation report")
    validate.add_argument("project_dir", type=Path)
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(run=_validate)

    variogram = commands.add_parser("variogram", help="fit a variogram to log grades of one element")
    variogram.add_argument("project_dir", type=Path)
    variogram.add_argument("--element", default="La")
    variogram.add_argument("--model", default="spherical")
    variogram.add_argument("--lags", type=int, default=15)
    variogram.add_argument("--max-lag", type=float, default=None)
    variogram.set_defaults(run=_variogram)

    targets = commands.add_parser("targets", help="krige TREO to blocks and rank drill targets")
    targets.add_argument("project_dir", type=Path)
    targets.add_argument(
        "--cutoff", type=float, default=None, help="TREO cut-off, ppm (default: project.toml)"
    )
    targets.add_argument("--cell", type=float, default=50.0, help="block size in x and y, m (z is a fifth)")
    targets.add_argument("--top", type=int, default=10)
    targets.add_argument("--csv", type=Path, default=None)
    targets.set_defaults(run=_targets)

    train = commands.add_parser(
        "train", help="train the LSTM and baselines on held-out holes and print scores"
    )
    train.add_argument("project_dir", type=Path)
    train.add_argument("--epochs", type=int, default=60)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--models-dir", type=Path, default=None)
    train.set_defaults(run=_train)

    args = parser.parse_args(argv)
    configure_backends()
    try:
        return args.run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
