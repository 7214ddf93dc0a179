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


def _grade_and_cutoff(project, grade: str | None, cutoff: float | None) -> tuple[str, float]:
    """The grade of ``--grade`` (default: the project's headline grade) and its cut-off (ppm).

    ``--cutoff`` wins; else project.toml's ``[cutoffs]`` (the one cut-off lookup).
    """
    from afg_core.products.targets import default_grade

    grade = grade or default_grade(project)
    if cutoff is None:
        try:
            cutoff = project.settings.cutoff(grade)
        except InputError as missing:
            raise InputError(
                missing.message,
                file="project.toml",
                column=grade,
                fix=f"pass --cutoff <ppm>, or add {grade} = <ppm> under [cutoffs] in project.toml",
            ) from None
    if not cutoff > 0:
        raise InputError(
            f"the cut-off must be above 0 ppm, not {cutoff:g}", column=grade, fix="pass --cutoff <ppm>"
        )
    return grade, float(cutoff)


def _targets(args: argparse.Namespace) -> int:
    from afg_core.geostat.cluster import dask_client
    from afg_core.io.project import load_project
    from afg_core.products.targets import estimate_grade_blocks, rank_drill_targets

    project = load_project(args.project_dir)
    samples = project.drillholes.samples
    grade, cutoff = _grade_and_cutoff(project, args.grade, args.cutoff)
    client = dask_client(args.scheduler)
    try:
        estimate = estimate_grade_blocks(
            samples, grade, cell_size=(args.cell, args.cell, args.cell / 5), client=client
        )
    finally:
        if client is not None:
            client.close()
    table = rank_drill_targets(estimate, cutoff, samples[["x", "y", "z"]].to_numpy())
    print(f"{estimate.samples_note} {len(table)} zones likely above {cutoff:g} ppm {grade}:")
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
                estimate.block,
                estimate.grade_ppm,
                out / f"{grade.lower()}_max_plan.tif",
                project.settings.crs,
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


def _krige(args: argparse.Namespace) -> int:
    from afg_core.geostat.blockstore import VARIANCE_SUFFIX
    from afg_core.geostat.cluster import dask_client
    from afg_core.io.project import load_project
    from afg_core.products.exports import write_store_csv, write_store_parquet
    from afg_core.products.targets import (
        estimate_from_store,
        grade_samples,
        krige_grade_to_store,
        log_field,
        rank_drill_targets,
    )

    project = load_project(args.project_dir)
    samples = project.drillholes.samples
    grade, cutoff = _grade_and_cutoff(project, args.grade, args.cutoff)
    kept = grade_samples(samples, grade)  # a grade that cannot be kriged stops before the store is replaced
    client = dask_client(args.scheduler)
    bar = _ProgressBar()
    try:
        store = krige_grade_to_store(
            samples,
            args.store,
            grade,
            cell_size=(args.cell, args.cell, args.cell / 2),
            client=client,
            progress=lambda share: bar.update(share, f"kriging log {grade} chunk by chunk"),
        )
    finally:
        bar.close()
        if client is not None:
            client.close()
    nx, ny, nz = store.block.shape
    print(
        f"log {grade} kriged from {kept.used:,} of {kept.total:,} samples onto {store.block.n_cells:,} cells "
        f"({nx} x {ny} x {nz}) in {args.store}"
    )
    fields = [log_field(grade), f"{log_field(grade)}{VARIANCE_SUFFIX}"]
    for path, write in ((args.parquet, write_store_parquet), (args.csv, write_store_csv)):
        if path is not None:
            print(f"written: {write(store, path, fields)} (streamed by chunk)")
    estimate = estimate_from_store(store, grade)
    table = rank_drill_targets(estimate, cutoff, samples[["x", "y", "z"]].to_numpy())
    print(
        f"{grade} targets above {cutoff:g} ppm on {estimate.block.n_cells:,} averaged cells of "
        f"{estimate.block.cell_size} m:"
    )
    print(table.head(args.top).to_string(index=False))
    return 0


def _run(args: argparse.Namespace) -> int:
    import tomllib

    from afg_core.geostat.cluster import dask_client
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
    client = dask_client(args.scheduler)
    try:
        result = run_experiment(project, config, pca, progress=bar.update, on_epoch=bar.epoch, client=client)
    finally:
        bar.close()
        if client is not None:
            client.close()
    written = write_run_outputs(result, args.out_dir, project_name=project.settings.name)
    written.append(_run_report(project, result, args.out_dir))
    print((args.out_dir / "summary.txt").read_text(encoding="utf-8"))
    print("written:", ", ".join(sorted(p.name for p in written)))
    return 0


def _run_report(project, result, out_dir: Path) -> Path:
    """``report.html`` of a run: its comparison and model cards, and targets from its predicted volume.

    The targets are of the volume's first grade with a cut-off (TREO for rare earths, else the
    first target with one in project.toml); none without such a grade.
    """
    from afg_core.products.report_html import read_model_cards, write_report_html
    from afg_core.products.targets import estimate_from_volume

    content = {}
    volume = result.volume
    grade = next((g for g in volume.cutoffs if g in volume.log_mean), None) if volume is not None else None
    if grade is not None:
        estimate = estimate_from_volume(volume, grade)
        content = _ranked_targets(project, estimate, volume.cutoffs[grade], top=15)
    return write_report_html(
        out_dir / "report.html",
        title=f"AFG run: {project.settings.name or project.folder.name}",
        project=project,
        experiment=result,
        model_cards=read_model_cards(out_dir / "models"),
        **content,
    )


def _ranked_targets(project, estimate, cutoff: float, top: int) -> dict:
    """Ranked target zones of a block estimate and proposed holes for the ``top`` of them."""
    from afg_core.products.targets import propose_holes_for_project, rank_drill_targets

    samples = project.drillholes.samples
    table = rank_drill_targets(estimate, cutoff, samples[["x", "y", "z"]].to_numpy())
    holes = propose_holes_for_project(project, estimate, table.head(top), cutoff)
    return {"estimate": estimate, "cutoff_ppm": cutoff, "targets": table, "proposed_holes": holes}


def _report(args: argparse.Namespace) -> int:
    from afg_core.io.project import load_project
    from afg_core.products.report_html import write_report_html
    from afg_core.products.targets import estimate_grade_blocks, target_grades

    project = load_project(args.project_dir)
    samples = project.drillholes.samples
    content = {}
    if args.grade is not None or target_grades(project):
        grade, cutoff = _grade_and_cutoff(project, args.grade, args.cutoff)
        estimate = estimate_grade_blocks(samples, grade, cell_size=(args.cell, args.cell, args.cell / 5))
        print(estimate.samples_note)
        content = _ranked_targets(project, estimate, cutoff, args.top)
    else:
        targets = ", ".join(project.settings.target_elements) or "none"
        print(
            f"note: none of the project's target elements ({targets}) is assayed: no targets in the report "
            "(name one with --grade)",
            file=sys.stderr,
        )
    path = write_report_html(
        args.out,
        title=f"AFG report: {project.settings.name or project.folder.name}",
        project=project,
        **content,
    )
    print(f"written: {path} ({path.stat().st_size / 1e6:.1f} MB, opens offline)")
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

    grade_help = (
        "grade to target: an assayed element (e.g. Ni) or TREO (default: TREO for rare-earth targets, "
        "else the first assayed target element of project.toml)"
    )
    cutoff_help = "cut-off of the grade, ppm (default: [cutoffs] of project.toml)"
    targets = commands.add_parser(
        "targets", help="krige a grade (TREO, Ni...) to blocks and rank drill targets"
    )
    targets.add_argument("project_dir", type=Path)
    targets.add_argument("--grade", default=None, help=grade_help)
    targets.add_argument("--cutoff", type=float, default=None, help=cutoff_help)
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
        help="folder for targets.csv, blocks.csv/.parquet/.vti, a GeoTIFF plan of the highest grade per column "
        "and targets.omf (holes, blocks, targets and proposed holes of the --top zones, for Leapfrog and others)",
    )
    targets.set_defaults(run=_targets)

    run = commands.add_parser(
        "run",
        help="ingest -> krige -> features -> train four models -> evaluate -> ablation -> predict the block model "
        "-> report.html",
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
    run.add_argument(
        "--scheduler",
        default="threads",
        help="where to fit the volume's ensemble and predict the block model: threads (this process), "
        "local (a LocalCluster) or tcp://host:8786 (a Dask scheduler)",
    )
    run.set_defaults(run=_run)

    krige = commands.add_parser(
        "krige",
        help="krige a log grade (TREO, Ni...) onto a block model of any size, written chunk by chunk to a zarr store "
        "(out of core), then rank targets on an averaged copy",
    )
    krige.add_argument("project_dir", type=Path)
    krige.add_argument("--grade", default=None, help=grade_help)
    krige.add_argument("--store", type=Path, required=True, help="folder of the zarr block store (replaced)")
    krige.add_argument("--cell", type=float, default=10.0, help="block size in x and y, m (z is half)")
    krige.add_argument(
        "--scheduler",
        default="threads",
        help="where to krige: threads (this process), local (a LocalCluster) or tcp://host:8786",
    )
    krige.add_argument("--parquet", type=Path, default=None, help="stream the estimated cells to Parquet")
    krige.add_argument("--csv", type=Path, default=None, help="stream the estimated cells to CSV")
    krige.add_argument("--cutoff", type=float, default=None, help=cutoff_help)
    krige.add_argument("--top", type=int, default=10)
    krige.set_defaults(run=_krige)

    report = commands.add_parser(
        "report",
        help="self-contained HTML report (opens offline): project, variogram of the grade, ranked targets with "
        "proposed holes, grade-tonnage and plan; `run` writes one with the model comparison too",
    )
    report.add_argument("project_dir", type=Path)
    report.add_argument("--out", type=Path, required=True, help="the .html file to write")
    report.add_argument("--grade", default=None, help=grade_help)
    report.add_argument("--cutoff", type=float, default=None, help=cutoff_help)
    report.add_argument("--cell", type=float, default=50.0, help="block size in x and y, m (z is a fifth)")
    report.add_argument("--top", type=int, default=15, help="zones that get a proposed hole")
    report.set_defaults(run=_report)

    args = parser.parse_args(argv)
    configure_backends()
    try:
        return args.run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
