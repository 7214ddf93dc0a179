"""Synthetic banded-iron-formation REE deposit: the built-in demo project.

The model is a dipping, folded BIF / shale sequence offset by a steep fault, in a
2 km x 2 km x 400 m block. REEs are enriched by two processes, so that structures
and the gradients of the major elements carry real predictive signal:

* a hydrothermal alteration front around the fault (desilicification, clay, magnetite
  destruction), focused on BIF / shale contacts, where Fe, Si and Al change fastest;
* a supergene blanket at the base of oxidation, stronger near contacts.

Background BIF carries tens of ppm total REE with the seawater-like pattern of
Precambrian BIF (positive La, Eu and Y anomalies, Y/Ho about 40, HREE enrichment
against PAAS); enriched zones reach about 1.5-2 % TREO with an LREE-rich pattern.
Drill holes (vertical and inclined, with realistic survey drift) are sampled at 1 m
in visibly mineralised core and 2 m elsewhere; the laboratory mess of real data is
reproduced (``<DL`` strings, missing intervals, failed REE runs). Geophysics and UAV
hyperspectral data are simulated from the same geology. The magnetic susceptibility (10 m
voxels, SI) and IP chargeability (25 m voxels, mV/V) models look like inversions, not like
the geology: their resolution worsens with depth below topography (Gaussian sigma growing
linearly from 20 m at the surface to 100 m at 400 m depth for magnetics, 25 m to 150 m for
IP, 1.5 times longer vertically) and they carry spatially correlated multiplicative
log-normal noise (15 % and 12 %). The noise-free 3D fields are written under ``truth/`` for
honest evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from afg_core.geochem import LANTHANIDES, MAJORS, PAAS_TAYLOR_MCLENNAN_1985, REE_TARGETS
from afg_core.io.cubes import HyperspectralCube, write_cube_npz
from afg_core.io.desurvey import desurvey_minimum_curvature
from afg_core.io.grids import Grid, write_grid_npz

#: South-west corner of the demo block (m, MGA zone 50, EPSG:28350).
ORIGIN_EAST, ORIGIN_NORTH = 600_000.0, 7_480_000.0
BLOCK_SIZE = (2000.0, 2000.0)
BLOCK_BOTTOM, SURFACE_LEVEL = 100.0, 490.0
CRS = "EPSG:28350"

_STRIKE, _DIP = 30.0, 35.0
_FAULT_STRIKE, _FAULT_DIP = 75.0, 80.0
_CENTRE = np.array([1000.0, 1000.0, 300.0])

#: LA-ICP-MS / XRF detection limits (ppm for REE, wt% for majors).
DETECTION_LIMITS = {
    "Fe": 0.01,
    "Si": 0.01,
    "Al": 0.005,
    "Ti": 0.005,
    **{e: 0.05 for e in REE_TARGETS},
    "La": 0.1,
    "Ce": 0.1,
    "Nd": 0.1,
    "Y": 0.1,
}

#: Enriched (hydrothermal / supergene) component at full enrichment, ppm: LREE-rich,
#: slight positive Eu anomaly, Y/Ho = 36.7. About 1.5 % TREO.
_ENRICHED_PPM = {
    "La": 3000,
    "Ce": 5200,
    "Pr": 560,
    "Nd": 1900,
    "Sm": 280,
    "Eu": 95,
    "Gd": 220,
    "Tb": 30,
    "Dy": 160,
    "Ho": 30,
    "Er": 80,
    "Tm": 10,
    "Yb": 60,
    "Lu": 8,
    "Y": 1100,
}


def _bif_pattern_ppm() -> dict[str, float]:
    """Background BIF, ppm: PAAS-normalised HREE-rich slope with La, Eu, Y anomalies."""
    index = np.arange(len(LANTHANIDES))
    normalised = 10 ** np.interp(index, [0, len(LANTHANIDES) - 1], np.log10([0.08, 0.25]))
    anomaly = {"La": 1.6, "Ce": 0.85, "Eu": 2.4, "Gd": 1.1}
    pattern = {
        e: float(normalised[i] * anomaly.get(e, 1.0) * PAAS_TAYLOR_MCLENNAN_1985[e])
        for i, e in enumerate(LANTHANIDES)
    }
    pattern["Y"] = 40.0 * pattern["Ho"]
    return pattern


def _shale_pattern_ppm() -> dict[str, float]:
    """Interbedded shale: PAAS-like, diluted."""
    return {e: 0.6 * v for e, v in PAAS_TAYLOR_MCLENNAN_1985.items()}


def _unit_vector(azimuth: float, plunge_down: float) -> np.ndarray:
    az, pl = np.radians(azimuth), np.radians(plunge_down)
    return np.array([np.sin(az) * np.cos(pl), np.cos(az) * np.cos(pl), -np.sin(pl)])


class _SmoothField:
    """A smooth random field (sum of random plane waves) with unit variance."""

    def __init__(
        self, rng: np.random.Generator, dims: int, wavelengths: tuple[float, float], n_waves: int = 10
    ):
        directions = rng.normal(size=(n_waves, dims))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        wavelength = rng.uniform(*wavelengths, size=n_waves)
        self.k = directions * (2 * np.pi / wavelength)[:, None]
        self.phase = rng.uniform(0, 2 * np.pi, n_waves)
        self.scale = np.sqrt(2.0 / n_waves)

    def __call__(self, *coords: np.ndarray) -> np.ndarray:
        p = np.stack(coords, axis=-1)
        return self.scale * np.cos(p @ self.k.T + self.phase).sum(axis=-1)


@dataclass
class _Geology:
    """The synthetic deposit, evaluated anywhere in local coordinates (m)."""

    rng: np.random.Generator

    def __post_init__(self) -> None:
        rng = self.rng
        thickness = []
        kinds = []
        total = -700.0
        bif = bool(rng.integers(2))
        while total < 700:
            t = rng.uniform(25, 70) if bif else rng.uniform(12, 40)
            thickness.append(t)
            kinds.append(bif)
            total += t
            bif = not bif
        self.boundaries = -700.0 + np.cumsum([0.0] + thickness)
        table_h = np.arange(-700.0, self.boundaries[-1], 0.25)
        unit = np.clip(np.searchsorted(self.boundaries, table_h, side="right") - 1, 0, len(kinds) - 1)
        square = np.asarray(kinds, float)[unit]
        # Contacts are gradational over a few metres (smoothed step), which keeps gradients finite.
        self.table_h = table_h
        self.table_bif = gaussian_filter(square, sigma=6.0)
        self.fold_phase = rng.uniform(0, 2 * np.pi, 2)
        self.surface_field = _SmoothField(rng, 2, (500, 1500), 8)
        self.oxidation_field = _SmoothField(rng, 2, (300, 900), 8)
        self.grade_field = _SmoothField(rng, 3, (150, 500), 12)
        self.alteration_field = _SmoothField(rng, 3, (200, 600), 10)
        self.band_period = rng.uniform(4.5, 7.0)
        dip_direction = _STRIKE + 90.0
        self.dip_dir = _unit_vector(dip_direction, 0.0)
        self.strike_dir = _unit_vector(_STRIKE, 0.0)
        self.layer_normal = np.sin(np.radians(_DIP)) * self.dip_dir + np.array(
            [0, 0, np.cos(np.radians(_DIP))]
        )
        fault_dip_dir = _unit_vector(_FAULT_STRIKE - 90.0, 0.0)
        self.fault_normal = np.sin(np.radians(_FAULT_DIP)) * fault_dip_dir + np.array(
            [0, 0, np.cos(np.radians(_FAULT_DIP))]
        )
        self.fault_point = np.array([1000.0, 1050.0, 300.0])

    def surface(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Topographic elevation (m)."""
        return SURFACE_LEVEL + 8.0 * self.surface_field(u, v) + 0.004 * (u - 1000.0)

    def evaluate(self, u: np.ndarray, v: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
        """Noise-free fields at points: majors (wt%), REEs (ppm), and the controls."""
        p = np.stack([u, v, z], axis=-1) - _CENTRE
        fault_distance = (np.stack([u, v, z], axis=-1) - self.fault_point) @ self.fault_normal
        along_dip, along_strike = p @ self.dip_dir, p @ self.strike_dir
        height = (
            p @ self.layer_normal
            + 45.0 * np.sin(2 * np.pi * along_dip / 650.0 + self.fold_phase[0])
            + 20.0 * np.sin(2 * np.pi * along_strike / 1300.0 + self.fold_phase[1])
            - 35.0 * (fault_distance > 0)
        )
        bif = np.interp(height, self.table_h, self.table_bif)
        k = np.clip(np.searchsorted(self.boundaries, height), 1, len(self.boundaries) - 1)
        contact_distance = np.minimum(
            np.abs(height - self.boundaries[k - 1]), np.abs(height - self.boundaries[k])
        )
        contact = np.exp(-contact_distance / 12.0)

        depth = self.surface(u, v) - z
        alteration = np.exp(-np.abs(fault_distance) / 45.0) * (1.0 + 0.3 * self.alteration_field(u, v, z))
        oxidation_base = (
            55.0 + 12.0 * self.oxidation_field(u, v) + 25.0 * np.exp(-np.abs(fault_distance) / 60.0)
        )
        oxidised = 1.0 / (1.0 + np.exp(-(oxidation_base - depth) / 4.0))
        band = np.sin(2 * np.pi * height / self.band_period)
        variation = 1.0 + 0.08 * self.grade_field(u, v, z)

        fe = (bif * (33.0 + 5.0 * band) + (1 - bif) * 8.0) * variation
        si = (bif * (21.0 - 4.0 * band) + (1 - bif) * 27.0) / variation
        al = bif * 0.5 + (1 - bif) * 8.5
        ti = bif * 0.02 + (1 - bif) * 0.45
        si *= (1 - 0.45 * alteration) * (1 - 0.5 * oxidised)
        al = (al + 2.5 * alteration) * (1 + 0.3 * oxidised)
        fe = np.minimum(fe * (1 + 0.15 * alteration) * (1 + 0.2 * oxidised), 62.0)

        hydrothermal = np.clip(alteration, 0, None) ** 1.5 * (0.2 + 0.8 * contact)
        supergene = (
            np.exp(-(((depth - oxidation_base) / 10.0) ** 2)) * (0.25 + 0.75 * contact) * (0.4 + 0.6 * bif)
        )
        enrichment = np.clip(
            (0.85 * hydrothermal + 0.35 * supergene) * (1 + 0.25 * self.grade_field(v, z, u)), 0, 0.9
        )

        fields = {"Fe": fe, "Si": si, "Al": al, "Ti": ti}
        bif_ppm, shale_ppm = _bif_pattern_ppm(), _shale_pattern_ppm()
        for e in REE_TARGETS:
            fields[e] = (
                bif * bif_ppm[e] + (1 - bif) * shale_ppm[e]
            ) * variation + enrichment * _ENRICHED_PPM[e]
        fields.update(
            bif=bif,
            alteration=alteration,
            oxidised=oxidised,
            enrichment=enrichment,
            contact=contact,
            depth=depth,
        )
        return fields


def _collars(rng: np.random.Generator, n_holes: int) -> pd.DataFrame:
    nx = int(np.ceil(np.sqrt(n_holes)))
    ny = int(np.ceil(n_holes / nx))
    gx, gy = np.meshgrid((np.arange(nx) + 0.5) / nx, (np.arange(ny) + 0.5) / ny)
    u = 100 + 1800 * gx.ravel() + rng.uniform(-45, 45, gx.size)
    v = 100 + 1800 * gy.ravel() + rng.uniform(-45, 45, gy.size)
    pick = np.sort(rng.choice(gx.size, n_holes, replace=False))
    inclined = rng.random(n_holes) < 0.6
    depth = np.where(inclined, rng.uniform(180, 400, n_holes), rng.uniform(150, 360, n_holes)).round(1)
    return pd.DataFrame(
        {
            "hole_id": [f"AFG{i + 1:03d}" for i in range(n_holes)],
            "u": u[pick],
            "v": v[pick],
            "inclined": inclined,
            "depth": depth,
        }
    )


def _survey(rng: np.random.Generator, inclined: bool, depth: float) -> pd.DataFrame:
    """Gyro stations every 30 m with realistic drift (dip flattening, right-hand azimuth drift)."""
    stations = np.append(np.arange(0.0, depth, 30.0), depth)
    steps = len(stations) - 1
    if inclined:
        dip = -60.0 + rng.normal(0, 2) + np.concatenate([[0], np.cumsum(0.4 + rng.normal(0, 0.25, steps))])
        azimuth = 300.0 + rng.normal(0, 6) + np.concatenate([[0], np.cumsum(0.6 + rng.normal(0, 0.4, steps))])
    else:
        dip = np.maximum(-89.9, -89.3 + np.concatenate([[0], np.cumsum(np.abs(rng.normal(0.1, 0.1, steps)))]))
        azimuth = rng.uniform(0, 360) + np.concatenate([[0], np.cumsum(rng.normal(0, 3, steps))])
    return pd.DataFrame({"depth": stations, "azimuth": np.round(azimuth % 360, 1), "dip": np.round(dip, 1)})


def _sample_intervals(enrichment_per_metre: np.ndarray, depth: float) -> np.ndarray:
    """Interval boundaries: 1 m through visibly mineralised core, 2 m elsewhere."""
    edges = [0.0]
    while edges[-1] < depth - 1e-9:
        top = edges[-1]
        mineralised = enrichment_per_metre[min(int(top), len(enrichment_per_metre) - 1)] > 0.04
        edges.append(min(top + (1.0 if mineralised else 2.0), depth))
    return np.asarray(edges)


def _format_lab(values: np.ndarray, limit: float, decimals: int) -> np.ndarray:
    text = np.char.mod(f"%.{decimals}f", np.round(values, decimals))
    text = np.where(values < limit, f"<{limit:g}", text)
    return np.where(np.isnan(values), "", text)


def _log_runs(lith: np.ndarray, step: float) -> list[tuple[float, float, str]]:
    """Merge a per-metre log into runs of equal code."""
    runs, start = [], 0
    for i in range(1, len(lith) + 1):
        if i == len(lith) or lith[i] != lith[start]:
            runs.append((start * step, i * step, lith[start]))
            start = i
    return runs


def _lith_code(bif: np.ndarray, oxidised: np.ndarray) -> np.ndarray:
    code = np.where(bif > 0.5, "BIF", "SHALE")
    return np.where(oxidised > 0.5, np.char.add(code, "-OX"), code)


def _drillholes(rng: np.random.Generator, geology: _Geology, n_holes: int) -> dict[str, pd.DataFrame]:
    collars = _collars(rng, n_holes)
    collars["z"] = geology.surface(collars["u"].to_numpy(), collars["v"].to_numpy()).round(2)
    collar_rows, survey_rows, assay_parts, lith_rows = [], [], [], []
    for hole in collars.itertuples():
        survey = _survey(rng, hole.inclined, hole.depth)
        collar_xyz = np.array([hole.u, hole.v, hole.z])
        stations = (survey["depth"].to_numpy(), survey["azimuth"].to_numpy(), survey["dip"].to_numpy())
        metres = np.arange(0.5, hole.depth, 1.0)
        at_metre = geology.evaluate(*desurvey_minimum_curvature(collar_xyz, *stations, metres).T)
        edges = _sample_intervals(at_metre["enrichment"], hole.depth)
        mid = desurvey_minimum_curvature(collar_xyz, *stations, 0.5 * (edges[1:] + edges[:-1]))
        truth = geology.evaluate(*mid.T)
        intervals = pd.DataFrame({"hole_id": hole.hole_id, "from": edges[:-1], "to": edges[1:]})
        n = len(intervals)
        geological = np.exp(rng.normal(0, 0.18, n))  # sample-scale variability shared by all REEs
        for e in MAJORS:
            intervals[e] = truth[e] * np.exp(rng.normal(0, 0.03, n))
        for e in REE_TARGETS:
            intervals[e] = truth[e] * geological * np.exp(rng.normal(0, 0.05, n))
        assay_parts.append(intervals)
        lith_rows += [
            (hole.hole_id, a, b, c)
            for a, b, c in _log_runs(_lith_code(at_metre["bif"], at_metre["oxidised"]), 1.0)
        ]
        survey_rows.append(survey.assign(hole_id=hole.hole_id))
        collar_rows.append((hole.hole_id, ORIGIN_EAST + hole.u, ORIGIN_NORTH + hole.v, hole.z, hole.depth))
    assay = pd.concat(assay_parts, ignore_index=True)
    # Lab mess: core loss (missing intervals) and failed REE runs (empty cells).
    lost = rng.random(len(assay)) < 0.02
    assay = assay.loc[~lost].reset_index(drop=True)
    failed = rng.random(len(assay)) < 0.005
    assay.loc[failed, list(REE_TARGETS)] = np.nan

    assay_out = pd.DataFrame(
        {"HOLEID": assay["hole_id"], "FROM": assay["from"].round(2), "TO": assay["to"].round(2)}
    )
    for e in MAJORS:
        assay_out[f"{e}_pct"] = _format_lab(assay[e].to_numpy(), DETECTION_LIMITS[e], 3)
    for e in REE_TARGETS:
        assay_out[f"{e}_ppm"] = _format_lab(assay[e].to_numpy(), DETECTION_LIMITS[e], 3)
    collar = pd.DataFrame(collar_rows, columns=["HOLEID", "EAST", "NORTH", "RL", "DEPTH"]).round(2)
    survey = pd.concat(survey_rows, ignore_index=True)
    survey = pd.DataFrame(
        {
            "HOLEID": survey["hole_id"],
            "DEPTH": survey["depth"].round(2),
            "AZIMUTH": survey["azimuth"],
            "DIP": survey["dip"],
        }
    )
    lithology = pd.DataFrame(lith_rows, columns=["HOLEID", "FROM", "TO", "LITH"])
    lithology["TO"] = np.minimum(
        lithology["TO"], lithology["HOLEID"].map(collar.set_index("HOLEID")["DEPTH"])
    )
    return {"collar": collar, "survey": survey, "assay": assay_out, "lithology": lithology}


def _voxel_centres(spacing: tuple[float, float, float]) -> tuple[np.ndarray, ...]:
    xs = np.arange(spacing[0] / 2, BLOCK_SIZE[0], spacing[0])
    ys = np.arange(spacing[1] / 2, BLOCK_SIZE[1], spacing[1])
    zs = np.arange(BLOCK_BOTTOM + spacing[2] / 2, SURFACE_LEVEL + 30.0, spacing[2])
    return xs, ys, zs


def _evaluate_voxels(geology: _Geology, spacing: tuple[float, float, float]):
    xs, ys, zs = _voxel_centres(spacing)
    zz, yy, xx = np.meshgrid(zs, ys, xs, indexing="ij")
    fields = geology.evaluate(xx, yy, zz)
    above = zz > geology.surface(xx, yy)
    origin = (ORIGIN_EAST + xs[0], ORIGIN_NORTH + ys[0], zs[0])
    return fields, above, origin


#: Resolution of the simulated inversions: the Gaussian smoothing sigma (m, horizontal) grows linearly
#: with depth below topography, from the first value at the surface to the second at
#: ``_RESOLUTION_DEPTH`` (and on at the same rate below it). FWHM = 2.355 sigma.
_MAG_SIGMA_M = (20.0, 100.0)
_IP_SIGMA_M = (25.0, 150.0)
_RESOLUTION_DEPTH = 400.0
#: Inversions smear vertically more than laterally: vertical sigma = this x horizontal sigma.
_VERTICAL_SMEAR = 1.5
#: Multiplicative log-normal noise (standard deviation of the log), spatially correlated like
#: inversion artefacts: white noise blurred with a Gaussian of this sigma in cells.
_MAG_NOISE, _IP_NOISE = 0.15, 0.12
_NOISE_CORRELATION_CELLS = 1.5
#: Ratio between consecutive smoothing levels blended per cell in :func:`_depth_smoothed`.
_LEVEL_RATIO = 1.3


def _smoothing_sigma(depth: np.ndarray, law: tuple[float, float]) -> np.ndarray:
    """Horizontal Gaussian sigma (m) of an inversion at depths below topography (m)."""
    shallow, deep = law
    return shallow + (deep - shallow) * np.clip(depth, 0.0, None) / _RESOLUTION_DEPTH


def _depth_smoothed(values: np.ndarray, below: np.ndarray, sigma_m: np.ndarray, spacing: float) -> np.ndarray:
    """``values`` (z, y, x) blurred by a Gaussian whose sigma (m) varies per cell, as ``sigma_m``.

    Cells above topography (``~below``; rock fills each column from the bottom) first take the
    value of the top rock cell of their column, so air never enters the blur. The volume is then
    blurred with a geometric ladder of sigmas spaced by ``_LEVEL_RATIO`` spanning ``sigma_m``
    (vertical sigma ``_VERTICAL_SMEAR`` times the horizontal one; each level is the previous one
    blurred further, which is exact for Gaussians), and each cell takes the blend of the two
    levels bracketing its own sigma, linear in log sigma.
    """
    top = np.maximum(below.sum(axis=0) - 1, 0)[None]
    filled = np.where(below, values, np.take_along_axis(values, top, axis=0)).astype(float)
    lo, hi = float(sigma_m[below].min()), float(sigma_m[below].max())
    n_levels = max(2, int(np.ceil(np.log(hi / lo) / np.log(_LEVEL_RATIO))) + 1)
    levels = np.geomspace(lo, hi, n_levels)
    position = np.interp(np.log(sigma_m), np.log(levels), np.arange(n_levels, dtype=float))
    lower = np.minimum(np.floor(position).astype(int), n_levels - 2)
    frac = position - lower
    out = np.zeros_like(filled)
    blurred, done = filled, 0.0
    for k, sigma in enumerate(levels):
        step = np.sqrt(sigma**2 - done**2) / spacing  # Gaussian blurs add in variance
        blurred = gaussian_filter(blurred, (_VERTICAL_SMEAR * step, step, step), truncate=3.0)
        done = sigma
        out += (np.where(lower == k, 1.0 - frac, 0.0) + np.where(lower == k - 1, frac, 0.0)) * blurred
    return out


def _correlated_lognormal(rng: np.random.Generator, shape: tuple[int, ...], sd: float) -> np.ndarray:
    """Multiplicative noise ``exp(sd * g)``, g a unit-variance Gaussian field correlated over a few cells."""
    g = gaussian_filter(rng.standard_normal(shape), _NOISE_CORRELATION_CELLS)
    return np.exp(sd * (g - g.mean()) / g.std())


def _susceptibility(fields: dict[str, np.ndarray]) -> np.ndarray:
    """True magnetic susceptibility (SI): magnetite in fresh BIF, destroyed by oxidation and alteration."""
    magnetite = fields["bif"] * (1 - fields["oxidised"]) * (1 - 0.8 * np.clip(fields["alteration"], 0, 1))
    return 1e-4 + 0.35 * magnetite


def _chargeability(fields: dict[str, np.ndarray]) -> np.ndarray:
    """True IP chargeability (mV/V): shale, clay alteration and the oxidised zone."""
    return (
        4.0
        + 10.0 * (1 - fields["bif"])
        + 25.0 * np.clip(fields["alteration"], 0, 1.5)
        + 6.0 * fields["oxidised"]
    )


def _geophysics(rng: np.random.Generator, geology: _Geology, noise: bool = True) -> dict[str, Grid]:
    """Magnetic and IP models as inversions would deliver them.

    The true properties are blurred with a resolution that worsens with depth below topography
    (sigma 20 -> 100 m over 400 m for magnetics, 25 -> 150 m for IP) and multiplied by
    correlated log-normal noise (15 % and 12 %); ``noise=False`` gives the noise-free models
    (and draws nothing from ``rng``).
    """
    grids = {}
    for name, unit, spacing, true_property, law, sd in (
        ("magnetic_susceptibility", "SI", 10.0, _susceptibility, _MAG_SIGMA_M, _MAG_NOISE),
        ("ip_chargeability", "mV/V", 25.0, _chargeability, _IP_SIGMA_M, _IP_NOISE),
    ):
        fields, above, origin = _evaluate_voxels(geology, (spacing, spacing, spacing))
        model = _depth_smoothed(
            true_property(fields), ~above, _smoothing_sigma(fields["depth"], law), spacing
        )
        if noise:
            model *= _correlated_lognormal(rng, model.shape, sd)
        model[above] = np.nan
        grids[name] = Grid(model.astype(np.float32), origin, (spacing, spacing, spacing), name, unit)
    return grids


def _gaussian_absorption(wavelengths: np.ndarray, features: list[tuple[float, float, float]]) -> np.ndarray:
    """Multiplicative absorption factor for (centre nm, width nm, depth) features."""
    factor = np.ones_like(wavelengths)
    for centre, width, depth in features:
        factor *= 1 - depth * np.exp(-0.5 * ((wavelengths - centre) / width) ** 2)
    return factor


def endmember_spectra(wavelengths: np.ndarray) -> dict[str, np.ndarray]:
    """Reflectance (0-1) of the demo's surface materials at wavelengths (nm).

    Iron oxide (hematite/goethite, broad ~900 nm crystal-field absorption), kaolinite
    clay (Al-OH doublet near 2165/2205 nm, OH and H2O at 1400/1900 nm), chert, and the
    neodymium absorption pattern (580, 740, 800, 870 nm) of REE-bearing surfaces,
    given as a multiplicative factor at full strength.
    """
    w = wavelengths
    iron = (0.06 + 0.30 / (1 + np.exp(-(w - 640) / 45)) + 0.03 * (w - 400) / 2100) * _gaussian_absorption(
        w, [(900, 85, 0.40), (480, 40, 0.3)]
    )
    clay = (0.52 + 0.16 / (1 + np.exp(-(w - 600) / 120))) * _gaussian_absorption(
        w, [(1400, 15, 0.18), (1910, 22, 0.12), (2165, 12, 0.10), (2208, 14, 0.25)]
    )
    chert = (0.42 + 0.06 * (w - 400) / 2100) * _gaussian_absorption(w, [(1910, 25, 0.04)])
    neodymium = _gaussian_absorption(w, [(580, 9, 0.9), (740, 11, 0.6), (800, 11, 0.75), (870, 12, 0.35)])
    return {"iron_oxide": iron, "clay": clay, "chert": chert, "neodymium": neodymium}


def _hyperspectral(rng: np.random.Generator, geology: _Geology, pixel: float = 10.0) -> HyperspectralCube:
    wavelengths = np.arange(400.0, 2500.1, 15.0)
    xs = np.arange(pixel / 2, BLOCK_SIZE[0], pixel)
    ys = np.arange(pixel / 2, BLOCK_SIZE[1], pixel)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    near_surface = geology.evaluate(xx, yy, geology.surface(xx, yy) - 2.0)
    blanket = geology.evaluate(xx, yy, geology.surface(xx, yy) - 60.0)
    iron = 0.1 + 0.7 * near_surface["bif"]
    clay = 0.7 * (1 - near_surface["bif"]) + 0.3 * np.clip(near_surface["alteration"], 0, 1)
    chert = np.clip(1.0 - iron - clay, 0.05, None)
    total = iron + clay + chert
    members = endmember_spectra(wavelengths)
    mixed = (
        (iron / total)[..., None] * members["iron_oxide"]
        + (clay / total)[..., None] * members["clay"]
        + (chert / total)[..., None] * members["chert"]
    )
    ree_expression = np.clip(0.6 * near_surface["enrichment"] + 0.4 * blanket["enrichment"], 0, 1)
    strength = 0.15 * ree_expression[..., None]
    mixed *= 1 - strength * (1 - members["neodymium"])
    illumination = 1 + 0.05 * geology.surface_field(xx / 3, yy / 3)[..., None]
    water = ((wavelengths > 1340) & (wavelengths < 1460)) | ((wavelengths > 1790) & (wavelengths < 1960))
    noise_sd = np.where(water, 0.04, 0.006)
    cube = mixed * illumination + rng.normal(0, 1, mixed.shape) * noise_sd
    return HyperspectralCube(
        np.clip(cube, 0, 1).astype(np.float32),
        wavelengths,
        (ORIGIN_EAST + xs[0], ORIGIN_NORTH + ys[0]),
        pixel,
    )


def _project_toml(name: str, seed: int, n_holes: int) -> str:
    targets = ", ".join(f'"{e}"' for e in REE_TARGETS)
    return f'''# AFG project settings (see README, "Data format").
name = "{name}"
description = "Synthetic BIF-hosted REE deposit generated by afg_core (seed {seed}, {n_holes} holes)."
crs = "{CRS}"
length_unit = "m"
dip_convention = "negative_down"
target_elements = [{targets}]

[files]
collar = "collar.csv"
survey = "survey.csv"
assay = "assay.csv"
lithology = "lithology.csv"

[below_detection]
substitute_fraction = 0.5

[cutoffs]
# Total rare-earth oxides including Y2O3, ppm.
TREO = 1000.0
'''


def generate_demo_project(out_dir: str | Path, seed: int = 42, n_holes: int = 90) -> Path:
    """Write the synthetic BIF demo project to ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write (created if needed).
    seed : int
        Random seed; the project is deterministic for a seed.
    n_holes : int
        Number of drill holes (60-120 is realistic for the block).

    Returns
    -------
    Path
        The project folder, containing ``project.toml``, ``collar.csv``, ``survey.csv``,
        ``assay.csv``, ``lithology.csv``, ``geophysics/*.npz``, ``hyperspectral/uav_cube.npz``
        and ``truth/fields.npz`` (noise-free grades on a 25 x 25 x 10 m grid).
    """
    if not 1 <= n_holes <= 1000:
        raise ValueError(f"n_holes must be between 1 and 1000, got {n_holes}")
    out = Path(out_dir)
    for sub in ("geophysics", "hyperspectral", "truth"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    geology = _Geology(np.random.default_rng(rng.integers(2**32)))
    tables = _drillholes(np.random.default_rng(rng.integers(2**32)), geology, n_holes)
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
    for name, grid in _geophysics(np.random.default_rng(rng.integers(2**32)), geology).items():
        write_grid_npz(grid, out / "geophysics" / f"{name}.npz")
    write_cube_npz(
        _hyperspectral(np.random.default_rng(rng.integers(2**32)), geology),
        out / "hyperspectral" / "uav_cube.npz",
    )
    fields, above, origin = _evaluate_voxels(geology, (25.0, 25.0, 10.0))
    truth = {
        k: np.where(above, np.nan, fields[k]).astype(np.float32)
        for k in (*MAJORS, *REE_TARGETS, "enrichment")
    }
    np.savez_compressed(
        out / "truth" / "fields.npz", origin=np.asarray(origin), spacing=np.array([25.0, 25.0, 10.0]), **truth
    )
    (out / "project.toml").write_text(_project_toml(f"Demo BIF deposit (seed {seed})", seed, n_holes))
    return out
