"""Benchmark: the 3D viewer on a 1,000,000-cell block model, every layer on.

Run: .venv/bin/python benchmarks/viewer_payload.py [--keep scene.html]

Prints, in one run:

(a) the server side: building the scene (threshold, slices, iso-surface, gradients and
    arrows, zones and proposed holes, drill traces, all coarsened to the payload budget)
    and exporting it to the self-contained vtk.js page, in seconds;
(b) the payload: size of that page, the bytes the browser receives (target < 5 MB);
(c) the first render in headless Chromium (Debian's ``chromium``, WebGL in SwiftShader):
    seconds from opening the page (file://) until the vtk.js canvas shows the scene
    (target < 5 s), polled as the browser test does (non-white pixels and colours).

The model is a smooth synthetic log-normal TREO field (100 x 100 x 100 cells of
10 x 10 x 5 m, median 800 ppm, cut-off 1,000 ppm) with a kriging-like variance, and 200
vertical holes sampling it every 5 m.
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from afg_core.geostat.blockmodel import BlockModel
from afg_core.learn.fusion import Surface
from afg_core.products import BlockEstimate, default_exaggeration, export_scene_html, scene_offset
from afg_core.products.viewer import ViewerSettings, build_viewer_scene

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-dev-shm-usage",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
]


def synthetic_model(seed: int = 0) -> tuple[BlockEstimate, pd.DataFrame, pd.DataFrame]:
    """A 1M-cell log-normal TREO estimate, the holes' samples and their collars."""
    rng = np.random.default_rng(seed)
    block = BlockModel((400_005.0, 7_000_005.0, 2.5), (10.0, 10.0, 5.0), (100, 100, 100))
    smooth = gaussian_filter(rng.standard_normal(block.shape), sigma=(8, 8, 4))
    log_treo = np.log(800.0) + 0.9 * smooth / smooth.std()
    spread = gaussian_filter(rng.standard_normal(block.shape), sigma=6)
    log_variance = 0.05 + 0.2 * (spread - spread.min()) / np.ptp(spread)
    estimate = BlockEstimate(block, log_treo.ravel(), log_variance.ravel(), None, "synthetic")

    nx, ny, nz = block.shape
    ix, iy = rng.integers(0, nx, 200), rng.integers(0, ny, 200)
    xs, ys, zs = block.axes()
    rows = [
        pd.DataFrame(
            {
                "hole_id": f"H{h:03d}",
                "from": zs[-1] - zs[::-1],
                "x": xs[i],
                "y": ys[j],
                "z": zs[::-1],
                "TREO": np.exp(log_treo[i, j, ::-1]),
            }
        )
        for h, (i, j) in enumerate(zip(ix, iy))
    ]
    samples = pd.concat(rows, ignore_index=True)
    collars = samples.groupby("hole_id").first().reset_index()[["hole_id", "x", "y", "z"]]
    return estimate, samples, collars


def first_render_seconds(page_file: Path, timeout_s: float = 60.0) -> tuple[float, float]:
    """Seconds from opening the page until its load event (vtk.js parsed), and until its canvas
    shows >1 % non-white pixels in >50 colours (the first render)."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not on PATH: install Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        start = time.perf_counter()
        page.goto(page_file.as_uri(), wait_until="load")
        loaded = time.perf_counter() - start
        canvas = page.locator("canvas").first
        canvas.wait_for(timeout=timeout_s * 1000)
        while True:
            pixels = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")).reshape(-1, 3)
            coloured = (pixels < 235).any(axis=1).mean()
            if coloured > 0.01 and len(np.unique(pixels, axis=0)) > 50:
                elapsed = time.perf_counter() - start
                break
            if time.perf_counter() - start > timeout_s:
                raise SystemExit(f"the canvas stayed blank for {timeout_s:.0f} s")
            page.wait_for_timeout(50)
        browser.close()
    return loaded, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="also write the exported page here")
    args = parser.parse_args()

    estimate, samples, collars = synthetic_model()
    print(f"block model: {estimate.block.n_cells:,} cells, {len(samples):,} samples in {len(collars)} holes")
    offset = scene_offset(samples[["x", "y", "z"]].to_numpy())
    settings = ViewerSettings(
        cutoff=1000.0,
        slices=("x", "y", "z"),
        iso=True,
        gradient=True,
        arrows=True,
        zones=True,
        compare=True,
        exaggeration=default_exaggeration(samples[["x", "y", "z"]].to_numpy()),
    )
    start = time.perf_counter()
    built = build_viewer_scene(
        settings,
        estimate,
        samples,
        offset,
        comparison=estimate,
        surface=Surface.from_collars(collars),
        existing_traces=samples[["hole_id", "x", "y", "z"]],
    )
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    page = export_scene_html(built.scene, timeout_s=300)
    export_s = time.perf_counter() - start
    size_mb = len(page.encode()) / 1e6
    for key, size in built.layer_bytes.items():
        print(f"  {key:9s} {size / 1e6:6.2f} MB before compression")
    for note in built.notes:
        print(f"  thinned: {note}")
    print(
        f"(a) server: scene built in {build_s:.1f} s, exported in {export_s:.1f} s (total {build_s + export_s:.1f} s)"
    )
    print(f"(b) payload: {size_mb:.2f} MB of HTML sent to the browser (target < 5 MB)")
    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "scene.html"
        page_file.write_text(page, encoding="utf-8")
        if args.keep:
            shutil.copyfile(page_file, args.keep)
        load_s, render_s = first_render_seconds(page_file)
    print(
        f"(c) browser: first render in {render_s:.1f} s, of which {load_s:.1f} s to load the page "
        "(headless Chromium, SwiftShader WebGL; target < 5 s)"
    )


if __name__ == "__main__":
    main()
