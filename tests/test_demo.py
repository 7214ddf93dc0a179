"""Tests of afg_core.demo: the synthetic BIF-hosted REE demo project.

The default project (seed 42, 90 holes) is generated once per session (``demo_dir``
fixture in conftest.py); the determinism checks compare against the small project
that the command-line test writes (``cli_demo``: 8 holes, seed 3).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from afg_core.demo import generator as demo
from afg_core.demo.generator import generate_demo_project
from afg_core.geochem import (
    MAJORS,
    REE_TARGETS,
    europium_anomaly,
    normalise,
    total_rare_earth_oxides,
    yttrium_holmium_ratio,
)
from afg_core.io.cubes import read_cube_npz
from afg_core.io.grids import read_grid_npz

CSV_TABLES = ("collar", "survey", "assay", "lithology")


def _raw(demo_dir: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(demo_dir / f"{table}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def samples(demo_project) -> pd.DataFrame:
    return demo_project.drillholes.samples


@pytest.fixture(scope="module")
def treo(samples: pd.DataFrame) -> pd.Series:
    return total_rare_earth_oxides(samples[list(REE_TARGETS)])


@pytest.fixture(scope="module")
def is_bif(samples: pd.DataFrame) -> np.ndarray:
    return samples["lith"].fillna("").astype(str).str.startswith("BIF").to_numpy(dtype=bool)


@pytest.fixture(scope="module")
def background_bif(samples: pd.DataFrame, treo: pd.Series, is_bif: np.ndarray) -> pd.DataFrame:
    """BIF samples with TREO below the median TREO of BIF samples."""
    low = (treo < treo[is_bif].median()).to_numpy()
    return samples.loc[is_bif & low]


# --------------------------------------------------------------------------- files


def test_all_project_files_are_written(demo_dir: Path) -> None:
    expected = [
        "project.toml",
        *(f"{t}.csv" for t in CSV_TABLES),
        "geophysics/magnetic_susceptibility.npz",
        "geophysics/ip_chargeability.npz",
        "hyperspectral/uav_cube.npz",
        "truth/fields.npz",
    ]
    for name in expected:
        assert (demo_dir / name).is_file(), name
        assert (demo_dir / name).stat().st_size > 0, name
    toml = (demo_dir / "project.toml").read_text()
    assert 'length_unit = "m"' in toml and 'dip_convention = "negative_down"' in toml


def test_magnetic_susceptibility_is_a_3d_10m_grid_in_si(demo_dir: Path) -> None:
    grid = read_grid_npz(demo_dir / "geophysics" / "magnetic_susceptibility.npz")
    assert grid.is_3d
    assert grid.spacing == (10.0, 10.0, 10.0)
    assert grid.unit == "SI"
    finite = grid.values[np.isfinite(grid.values)]
    assert finite.size > 0.5 * grid.values.size
    # Susceptibility in SI: non-negative, at most strongly magnetic BIF (~0.5 SI).
    assert finite.min() >= 0 and finite.max() < 1.0
    # Cells above topography hold no data.
    assert np.isnan(grid.values[-1]).all()


def test_ip_chargeability_is_a_25m_grid(demo_dir: Path) -> None:
    grid = read_grid_npz(demo_dir / "geophysics" / "ip_chargeability.npz")
    assert grid.is_3d
    assert grid.spacing == (25.0, 25.0, 25.0)
    assert grid.unit == "mV/V"
    assert np.nanmin(grid.values) > 0


def test_hyperspectral_cube_spans_vnir_to_swir(demo_dir: Path) -> None:
    cube = read_cube_npz(demo_dir / "hyperspectral" / "uav_cube.npz")
    wavelengths = np.asarray(cube.wavelengths_nm)
    assert len(wavelengths) >= 100
    assert wavelengths.min() <= 410 and wavelengths.max() >= 2490
    assert np.all(np.diff(wavelengths) > 0)
    assert cube.reflectance.shape[-1] == len(wavelengths)
    assert np.nanmin(cube.reflectance) >= 0 and np.nanmax(cube.reflectance) <= 1


def test_truth_holds_every_target_and_major(demo_dir: Path) -> None:
    with np.load(demo_dir / "truth" / "fields.npz") as truth:
        keys = set(truth.files)
        assert set(REE_TARGETS) | set(MAJORS) | {"enrichment", "origin", "spacing"} <= keys
        assert len(REE_TARGETS) == 15
        assert np.allclose(truth["spacing"], [25.0, 25.0, 10.0])
        shape = truth["La"].shape
        assert len(shape) == 3
        for element in (*REE_TARGETS, *MAJORS):
            assert truth[element].shape == shape
            assert np.nanmin(truth[element]) > 0


# --------------------------------------------------------------------------- drill holes


def test_default_hole_count_and_geometry(demo_dir: Path) -> None:
    collar = _raw(demo_dir, "collar")
    assert 60 <= len(collar) <= 120
    assert collar["HOLEID"].is_unique
    survey = _raw(demo_dir, "survey")
    first_dip = survey.groupby("HOLEID")["DIP"].first().astype(float)
    assert set(first_dip.index) == set(collar["HOLEID"])
    vertical = first_dip < -85
    inclined = (first_dip > -70) & (first_dip < -50)
    assert vertical.sum() >= 5 and inclined.sum() >= 5
    assert (vertical | inclined).all()


def test_assay_intervals_are_1_or_2_m_except_at_end_of_hole(demo_dir: Path) -> None:
    assay = _raw(demo_dir, "assay")
    depth = assay["HOLEID"].map(_raw(demo_dir, "collar").set_index("HOLEID")["DEPTH"].astype(float))
    start, end = assay["FROM"].astype(float), assay["TO"].astype(float)
    length = end - start
    at_end = np.isclose(end, depth)
    inner = length[~at_end]
    assert np.all(np.isclose(inner, 1.0) | np.isclose(inner, 2.0))
    assert np.isclose(inner, 1.0).sum() > 100 and np.isclose(inner, 2.0).sum() > 100
    assert (length[at_end] > 0).all() and (length[at_end] <= 2.0 + 1e-9).all()
    assert (end <= depth + 1e-9).all()


def test_lab_mess_below_detection_strings_gaps_and_failed_runs(demo_dir: Path) -> None:
    assay = _raw(demo_dir, "assay")
    values = assay.drop(columns=["HOLEID", "FROM", "TO"])
    assert values.apply(lambda c: c.str.startswith("<")).to_numpy().sum() > 0
    # Failed REE runs leave empty cells.
    assert (values["La_ppm"] == "").sum() > 0
    # Lost core: a hole's next interval starts below the previous one's end.
    gaps = 0
    for _, hole in assay.groupby("HOLEID"):
        start, end = hole["FROM"].astype(float).to_numpy(), hole["TO"].astype(float).to_numpy()
        assert np.all(start[1:] >= end[:-1] - 1e-9)  # never overlapping
        gaps += int((start[1:] > end[:-1] + 1e-9).sum())
    assert gaps > 0


def test_demo_project_loads_without_errors(demo_project) -> None:
    report = demo_project.report
    assert report.usable
    for file, read in report.rows_read.items():
        assert read == report.rows_kept[file] + report.rows_dropped[file]
    assert report.rows_read["assay.csv"] > 5000
    assert set(demo_project.geophysics) == {"magnetic_susceptibility", "ip_chargeability"}
    assert demo_project.hyperspectral is not None


def test_n_holes_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_holes"):
        generate_demo_project(tmp_path, n_holes=0)


# --------------------------------------------------------------------------- determinism


@pytest.fixture
def tables_only(monkeypatch: pytest.MonkeyPatch):
    """``generate_demo_project`` without the 3D grids and the hyperspectral cube (~10 s of its run time).

    Each part of the project draws from its own child generator of the seed, so leaving
    the grids out does not change the drill-hole tables: the same-seed test checks this
    against a full command-line run.
    """

    def no_voxels(geology, spacing):
        return defaultdict(lambda: np.zeros((1, 1, 1))), np.zeros((1, 1, 1), dtype=bool), (0.0, 0.0, 0.0)

    monkeypatch.setattr(demo, "_geophysics", lambda rng, geology: {})
    monkeypatch.setattr(demo, "_hyperspectral", lambda rng, geology: None)
    monkeypatch.setattr(demo, "write_cube_npz", lambda cube, path: None)
    monkeypatch.setattr(demo, "_evaluate_voxels", no_voxels)
    return demo.generate_demo_project


def test_same_seed_gives_identical_tables(cli_demo, tables_only, tmp_path: Path) -> None:
    cli_dir, result = cli_demo
    assert result.returncode == 0, result.stderr
    again = tables_only(tmp_path / "again", seed=3, n_holes=8)
    for table in CSV_TABLES:
        assert (again / f"{table}.csv").read_bytes() == (cli_dir / f"{table}.csv").read_bytes(), table


def test_different_seed_gives_different_assays(cli_demo, tables_only, tmp_path: Path) -> None:
    cli_dir, _ = cli_demo
    other = tables_only(tmp_path / "other", seed=4, n_holes=8)
    assert (other / "assay.csv").read_bytes() != (cli_dir / "assay.csv").read_bytes()
    assert (other / "collar.csv").read_bytes() != (cli_dir / "collar.csv").read_bytes()
    assert len(_raw(other, "collar")) == len(_raw(cli_dir, "collar")) == 8


# --------------------------------------------------------------------------- geochemistry


def test_background_bif_has_seawater_like_y_ho_and_positive_eu_anomaly(background_bif: pd.DataFrame) -> None:
    assert len(background_bif) > 500
    assert 30 < yttrium_holmium_ratio(background_bif).median() < 50
    assert europium_anomaly(background_bif, "chondrite").median() > 1


def test_background_bif_carries_tens_of_ppm_ree(background_bif: pd.DataFrame) -> None:
    total = background_bif[list(REE_TARGETS)].sum(axis=1, min_count=1)
    assert 10 < total.median() < 100


def test_enriched_zones_reach_one_to_two_percent_treo(treo: pd.Series) -> None:
    assert 5_000 < treo.max() < 30_000
    # Enriched samples are a minority, not the bulk of the deposit.
    assert 0.02 < (treo > 1000).mean() < 0.5


def test_enriched_samples_have_an_lree_rich_pattern(
    samples: pd.DataFrame, treo: pd.Series, background_bif: pd.DataFrame
) -> None:
    def la_yb(table: pd.DataFrame) -> float:
        n = normalise(table[["La", "Yb"]], "chondrite")
        return float((n["La"] / n["Yb"]).median())

    assert la_yb(samples.loc[(treo > 3000).to_numpy()]) > 3 * la_yb(background_bif)


def _nearest_cell(truth: np.lib.npyio.NpzFile, field: str, xyz: np.ndarray) -> np.ndarray:
    """Value of a truth field in the grid cell nearest each point (NaN outside)."""
    values = truth[field]
    index = np.rint((xyz - truth["origin"]) / truth["spacing"]).astype(int)  # (x, y, z) -> (i, j, k)
    nz, ny, nx = values.shape
    inside = (index >= 0).all(axis=1) & (index[:, 0] < nx) & (index[:, 1] < ny) & (index[:, 2] < nz)
    out = np.full(len(xyz), np.nan)
    out[inside] = values[index[inside, 2], index[inside, 1], index[inside, 0]]
    return out


def test_grades_follow_the_true_enrichment_field(
    demo_dir: Path, samples: pd.DataFrame, treo: pd.Series
) -> None:
    with np.load(demo_dir / "truth" / "fields.npz") as truth:
        enrichment = _nearest_cell(truth, "enrichment", samples[["x", "y", "z"]].to_numpy())
    use = np.isfinite(enrichment) & treo.notna().to_numpy()
    assert use.mean() > 0.95
    rho = spearmanr(enrichment[use], treo.to_numpy()[use]).statistic
    assert rho > 0.5
    strong, weak = use & (enrichment > 0.1), use & (enrichment < 0.01)
    assert np.median(treo.to_numpy()[strong]) > 10 * np.median(treo.to_numpy()[weak])


def test_enrichment_goes_with_desilicification_and_alumina_gain(
    samples: pd.DataFrame, treo: pd.Series, is_bif: np.ndarray
) -> None:
    """The alteration that brings the REEs strips silica and adds clay (Al) to BIF."""
    enriched = (treo > 1000).to_numpy()
    assert (
        samples.loc[is_bif & enriched, "Si"].median() < 0.85 * samples.loc[is_bif & ~enriched, "Si"].median()
    )
    assert samples.loc[is_bif & enriched, "Al"].median() > samples.loc[is_bif & ~enriched, "Al"].median()


def test_magnetic_susceptibility_is_higher_in_bif_than_in_shale(
    demo_project, samples: pd.DataFrame, is_bif: np.ndarray
) -> None:
    """The model reads magnetite, at the resolution of an inversion.

    BIF and shale layers (12-70 m thick) are barely resolved by a >= 20 m smoothing, so along
    the holes BIF reads only slightly higher than shale; the thick oxidised blanket, where
    magnetite is destroyed, stands out clearly.
    """
    grid = demo_project.geophysics["magnetic_susceptibility"]
    kappa = grid.sample(samples["x"].to_numpy(), samples["y"].to_numpy(), samples["z"].to_numpy())
    lith = samples["lith"].fillna("").astype(str)
    is_shale = lith.str.startswith("SHALE").to_numpy(dtype=bool)
    oxidised = lith.str.endswith("-OX").to_numpy(dtype=bool)
    assert np.isfinite(kappa[is_bif]).sum() > 1000 and np.isfinite(kappa[is_shale]).sum() > 500
    assert np.nanmedian(kappa[is_bif]) > np.nanmedian(kappa[is_shale])
    assert np.nanmedian(kappa[is_bif & ~oxidised]) > 2 * np.nanmedian(kappa[is_bif & oxidised])


# --------------------------------------------------------------------------- geophysics as inverted


@pytest.fixture(scope="module")
def inversions() -> dict:
    """The demo's geophysical models for one geology (seed 3), with and without noise, and the truth.

    ``_evaluate_voxels`` is cached for the fixture, so the geology is evaluated once per grid.
    """
    geology = demo._Geology(np.random.default_rng(3))
    evaluate, cache = demo._evaluate_voxels, {}

    def cached(geology, spacing):
        if spacing not in cache:
            cache[spacing] = evaluate(geology, spacing)
        return cache[spacing]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "_evaluate_voxels", cached)
        noisy = demo._geophysics(np.random.default_rng(5), geology)
        clean = demo._geophysics(np.random.default_rng(5), geology, noise=False)
    fields, above, _ = cache[(10.0, 10.0, 10.0)]
    kappa = np.where(above, np.nan, demo._susceptibility(fields))
    return {"noisy": noisy, "clean": clean, "depth": fields["depth"], "kappa": kappa}


def test_smoothing_law_goes_from_tens_to_about_a_hundred_metres() -> None:
    np.testing.assert_allclose(demo._smoothing_sigma(np.array([0.0, 400.0]), demo._MAG_SIGMA_M), [20, 100])
    np.testing.assert_allclose(demo._smoothing_sigma(np.array([0.0, 400.0]), demo._IP_SIGMA_M), [25, 150])
    assert demo._VERTICAL_SMEAR >= 1  # inversions smear vertically at least as much as laterally


def test_depth_smoothing_blurs_each_cell_with_its_own_sigma() -> None:
    """Impulses at two depths spread laterally with the sigma the law gives at their depth."""
    shape, spacing = (42, 81, 81), 10.0
    depth = (shape[0] - 0.5 - np.arange(shape[0]))[:, None, None] * spacing * np.ones(shape)
    sigma = demo._smoothing_sigma(depth, demo._MAG_SIGMA_M)
    x = spacing * (np.arange(shape[2]) - 40)
    for level in (38, 8):  # 35 m and 335 m deep
        impulse = np.zeros(shape)
        impulse[level, 40, 40] = 1.0
        profile = demo._depth_smoothed(impulse, np.ones(shape, dtype=bool), sigma, spacing)[level, 40]
        measured = np.sqrt((profile * x**2).sum() / profile.sum())
        assert measured == pytest.approx(sigma[level, 0, 0], rel=0.05)


def _roughness(values: np.ndarray, select: np.ndarray) -> float:
    """Mean absolute lateral difference between neighbouring cells over their mean, in ``select``."""
    v = np.where(select, values, np.nan)
    steps = np.concatenate([np.abs(np.diff(v, axis=2)).ravel(), np.abs(np.diff(v, axis=1)).ravel()])
    return float(np.nanmean(steps) / np.nanmean(v))


def test_magnetic_model_is_smoother_at_depth(inversions: dict) -> None:
    depth, kappa = inversions["depth"], inversions["kappa"]
    noisy = inversions["noisy"]["magnetic_susceptibility"].values.astype(float)
    clean = inversions["clean"]["magnetic_susceptibility"].values.astype(float)
    shallow, deep = (depth > 20) & (depth < 60), (depth > 250) & (depth < 350)
    assert shallow.sum() > 10_000 and deep.sum() > 10_000
    # The truth is as rough at depth as near the surface; the noise-free model is not.
    assert _roughness(kappa, deep) > 0.5 * _roughness(kappa, shallow)
    assert _roughness(clean, deep) < 0.5 * _roughness(clean, shallow)
    # The model (noise included) resembles the true susceptibility less at depth.
    r_shallow = np.corrcoef(noisy[shallow], kappa[shallow])[0, 1]
    r_deep = np.corrcoef(noisy[deep], kappa[deep])[0, 1]
    assert r_shallow > 0.4 and r_deep < r_shallow - 0.15


@pytest.mark.parametrize(("name", "noise"), [("magnetic_susceptibility", 0.15), ("ip_chargeability", 0.12)])
def test_geophysics_noise_is_correlated_and_of_the_stated_size(
    inversions: dict, name: str, noise: float
) -> None:
    noisy, clean = inversions["noisy"][name], inversions["clean"][name]
    assert (noisy.origin, noisy.spacing, noisy.values.shape) == (
        clean.origin,
        clean.spacing,
        clean.values.shape,
    )
    np.testing.assert_array_equal(np.isnan(noisy.values), np.isnan(clean.values))
    log_ratio = np.log(noisy.values.astype(float) / clean.values)
    finite = np.isfinite(log_ratio)
    assert abs(log_ratio[finite].mean()) < 0.02
    assert 0.10 <= log_ratio[finite].std() <= 0.20
    assert log_ratio[finite].std() == pytest.approx(noise, rel=0.1)
    # Correlated over a few cells, as inversion artefacts are, not white.
    a, b = log_ratio[:, :, 1:], log_ratio[:, :, :-1]
    both = np.isfinite(a) & np.isfinite(b)
    assert np.corrcoef(a[both], b[both])[0, 1] > 0.5
