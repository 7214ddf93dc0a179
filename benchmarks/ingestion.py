"""Ingestion speed: load + validate + desurvey + composite a 400-hole database; PCA of a large cube.

Run from the repository root:

    .venv/bin/python benchmarks/ingestion.py

Targets (issue 3): database under 5 s (400 holes, 40,000 intervals, 15 elements with
lab strings), PCA of a 500 x 500 x 200 cube under 10 s. Prints figures; asserts nothing.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.io.cubes import HyperspectralCube
from afg_core.io.project import load_project
from afg_core.spectral.pca import spectral_pca

ELEMENTS = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Yb", "Y"]


def write_database(folder: Path, holes: int = 400, intervals_per_hole: int = 100, seed: int = 0) -> None:
    """A synthetic collar/survey/assay set: inclined curving holes, 2 m samples, some ``<DL`` cells."""
    rng = np.random.default_rng(seed)
    ids = [f"H{i:04d}" for i in range(holes)]
    depth = intervals_per_hole * 2.0
    pd.DataFrame(
        {
            "HOLEID": ids,
            "EAST": rng.uniform(0, 2000, holes),
            "NORTH": rng.uniform(0, 2000, holes),
            "RL": rng.uniform(400, 450, holes),
            "DEPTH": depth,
        }
    ).to_csv(folder / "collar.csv", index=False)
    stations = np.arange(0, depth + 1, 30.0)
    survey = pd.DataFrame(
        {
            "HOLEID": np.repeat(ids, len(stations)),
            "DEPTH": np.tile(stations, holes),
            "AZIMUTH": (np.repeat(rng.uniform(0, 360, holes), len(stations)) + np.tile(stations, holes) / 20)
            % 360,
            "DIP": np.repeat(rng.uniform(-85, -55, holes), len(stations)) + np.tile(stations, holes) / 40,
        }
    )
    survey.to_csv(folder / "survey.csv", index=False)
    n = holes * intervals_per_hole
    tops = np.tile(np.arange(intervals_per_hole) * 2.0, holes)
    assay = pd.DataFrame({"HOLEID": np.repeat(ids, intervals_per_hole), "FROM": tops, "TO": tops + 2.0})
    for element in ELEMENTS:
        values = np.exp(rng.normal(3, 1, n)).round(2).astype(str)
        values[rng.random(n) < 0.03] = "<0.5"
        assay[f"{element}_ppm"] = values
    assay["Fe2O3_pct"] = rng.uniform(20, 60, n).round(2)
    assay.to_csv(folder / "assay.csv", index=False)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_database(folder)
        start = time.perf_counter()
        project = load_project(folder)
        loaded = time.perf_counter()
        samples = project.drillholes.samples
        desurveyed = time.perf_counter()
        composites = project.drillholes.composites(4.0)
        composited = time.perf_counter()
    report = project.report
    print(
        f"database: {len(project.drillholes.collar)} holes, {report.rows_read['assay.csv']:,} intervals, "
        f"{len(project.drillholes.elements)} elements; {len(composites):,} 4 m composites; "
        f"usable={report.usable}, {len(report.findings)} findings"
    )
    print(f"  load + validate   {loaded - start:6.2f} s")
    print(f"  desurvey samples  {desurveyed - loaded:6.2f} s  ({len(samples):,} midpoints)")
    print(f"  composite         {composited - desurveyed:6.2f} s")
    print(f"  total             {composited - start:6.2f} s  (target < 5 s)")

    rng = np.random.default_rng(1)
    rows = cols = 500
    bands = 200
    wavelengths = np.linspace(400, 2500, bands)
    abundance = rng.random((rows, cols, 1), dtype=np.float32)
    iron = np.exp(-(((wavelengths - 900) / 80) ** 2)).astype(np.float32)
    reflectance = 0.4 - 0.2 * abundance * iron + rng.normal(0, 0.01, (rows, cols, bands)).astype(np.float32)
    cube = HyperspectralCube(reflectance, wavelengths, (0.0, 0.0), 1.0)
    start = time.perf_counter()
    pca = spectral_pca(cube, n_components=3)
    print(
        f"PCA of a {rows} x {cols} x {bands} cube: {time.perf_counter() - start:.2f} s (target < 10 s), "
        f"{pca.n_components} components, {pca.cumulative_variance[2]:.1%} variance"
    )


if __name__ == "__main__":
    main()
