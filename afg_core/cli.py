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
    from afg_core.geostat.cluster import dask_client
    from afg_core.io.project import load_project
    from afg_core.products.targets import estimate_treo_blocks, rank_drill_targets

    project = load_project(args.project_dir)
    samples = project.drillholes.samples
    client = dask_client(args.scheduler)
    try:
        estimate = estimate_treo_blocks(
            samples, cell_size=(args.cell, args.cell, args.cell / 5), client=client
        )
    finally:
        if client is not None:
            client.close()
    cutoff = args.cutoff or project.settings.cutoff("TREO")
    table = rank_drill_targets(estimate, cutoff, samples[["x", "y", "z"]].to_numpy())
    print(table.head(args.top).to_string(index=False))
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.export:
        from afg_core.products.exports import (
            estimate_table,
            write_estimate_vti,
            write_plan_geotiff,
            write_table,
        )
        from afg_core.products.omf_export import write_omf
        from afg_core.products.targets import propose_holes_for_project

        out = args.export
        out.mkdir(parents=True, exist_ok=True)
        blocks = estimate_table(estimate, cutoff)
        written = [
            write_table(table, out / "targets.csv"),
            write_table(blocks, out / "blocks.csv"),
            write_table(blocks, out / "blocks.parquet"),
            write_estimate_vti(estimate, cutoff, out / "blocks.vti"),
            write_plan_geotiff(
                estimate.block, estimate.treo_ppm, out / "treo_max_plan.tif", project.settings.crs
            ),
            write_omf(
                out / "targets.omf",
                drillholes=project.drillholes,
                estimate=estimate,
                cutoff_ppm=cutoff,
                targets=table,
                proposed_holes=propose_holes_for_project(project, estimate, table.head(args.top), cutoff),
                name=project.settings.name or project.folder.name,
                crs=project.settings.crs,
            ),
        ]
        print("written:", ", ".join(p.name for p in written))
    return 0


def _run(args: argparse.Namespace) -> int:
    import tomllib

    from afg_core.io.project import load_project
    from afg_core.learn.experiment import RunConfig, run_experiment
    from afg_core.products.reports import write_run_outputs
    from afg_core.spectral.pca import spectral_pca

    settings = {}
    if args.config is not None:
        try:
            settings = tomllib.loads(Path(args.config).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(
                f"cannot read the run settings ({exc})",
                file=str(args.config),
                fix="write TOML with keys of RunConfig, e.g. epochs = 40",
            ) from None
    for key, value in {
        "epochs": args.epochs,
        "task": args.task,
        "folds": args.folds,
        "seed": args.seed,
    }.items():
        if value is not None:
            settings[key] = value
    if args.targets:
        settings["targets"] = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    for key in ("targets", "models", "groups", "split", "cell_size", "self_weighting_models"):
        if key in settings:
            settings[key] = tuple(settings[key])
    try:
        config = RunConfig(**settings)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"bad run settings: {exc}",
            file=str(args.config or "command line"),
            fix="use the fields of afg_core.learn.RunConfig",
        ) from None
    project = load_project(args.project_dir)
    for finding in project.report.findings:
        if finding.severity == "error":
            print(f"note: {finding}", file=sys.stderr)
    pca = None
    if project.hyperspectral is not None:
        pca = spectral_pca(project.hyperspectral, n_components=3)
    else:
        print("note: no hyperspectral cube in the project: spectral features skipped", file=sys.stderr)
    bar = _ProgressBar()
    result = run_experiment(project, config, pca, progress=bar.update, on_epoch=bar.epoch)
    bar.close()
    written = write_run_outputs(result, args.out_dir, project_name=project.settings.name)
    print((args.out_dir / "summary.txt").read_text(encoding="utf-8"))
    print("written:", ", ".join(sorted(p.name for p in written)))
    return 0


class _ProgressBar:
    """One-line progress on stderr: share done, current step and the networks' epochs."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.share, self.message = 0.0, ""

    def _draw(self, detail: str = "") -> None:
        filled = int(30 * self.share)
        elapsed = time.perf_counter() - self.start
        line = f"\r[{'#' * filled}{'.' * (30 - filled)}] {100 * self.share:3.0f}% {elapsed:5.0f} s  {self.message}"
        print(f"{line} {detail}"[:150].ljust(150), end="", file=sys.stderr, flush=True)

    def update(self, share: float, message: str) -> None:
        self.share, self.message = share, message
        self._draw()

    def epoch(self, model: str, epoch: int, logs: dict) -> None:
        self._draw(f"{model} epoch {epoch + 1} val_loss {logs.get('val_loss', float('nan')):.4f}")

    def close(self) -> None:
        print(file=sys.stderr)


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
    targets.add_argument(
        "--scheduler",
        default="threads",
        help="where to krige: threads (this process), local (a LocalCluster), or tcp://host:8786 (a Dask scheduler)",
    )
    targets.add_argument(
        "--export",
        type=Path,
        default=None,
        help="folder for targets.csv, blocks.csv/.parquet/.vti, a GeoTIFF plan of the highest TREO per column "
        "and targets.omf (holes, blocks, targets and proposed holes of the --top zones, for Leapfrog and others)",
    )
    targets.set_defaults(run=_targets)

    run = commands.add_parser(
        "run",
        help="ingest -> krige -> features -> train four models -> evaluate -> ablation -> predict the block model",
    )
    run.add_argument("project_dir", type=Path)
    run.add_argument(
        "--out", dest="out_dir", type=Path, required=True, help="folder for metrics.json and the rest"
    )
    run.add_argument("--config", type=Path, default=None, help="TOML file with RunConfig fields")
    run.add_argument("--epochs", type=int, default=None)
    run.add_argument(
        "--targets", default=None, help="comma-separated elements, e.g. Cu,Ni (default: project.toml)"
    )
    run.add_argument("--task", choices=["along-holes", "volume"], default=None)
    run.add_argument(
        "--folds", type=int, default=None, help="grouped k-fold by hole (default: one 70/15/15 split)"
    )
    run.add_argument("--seed", type=int, default=None)
    run.set_defaults(run=_run)

    args = parser.parse_args(argv)
    configure_backends()
    try:
        return args.run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
