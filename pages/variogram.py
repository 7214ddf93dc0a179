"""Variogram: experimental variograms and map, a model to tune live, its CV score, a kriged slice."""

import numpy as np
import streamlit as st

from afg_core.geostat import (
    SearchNeighbourhood,
    VariogramModel,
    auto_variogram,
    cross_validate_by_hole,
    default_max_lag,
    downhole_variogram,
    fit_variogram,
    ordinary_kriging,
    variogram_map,
)
from afg_core.transforms import transform_values
from ui.plots import heatmap, variogram_figure, variogram_map_figure
from ui.state import current_project, project_key

st.title("Variogram")
project = current_project()
samples = project.drillholes.samples
elements = [e for e in project.drillholes.elements if samples[e].notna().sum() > 30]
if not elements:
    st.warning("No element has more than 30 assays: nothing to model.")
    st.stop()
# Every cached function below takes the project folder plus plain settings, so a rerun that
# changes nothing is served from the cache; the samples themselves come from the cached project.
FOLDER = project_key()


def _data(element: str, transform: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates (m), transformed values, hole ids and mid-depths (m) of the assayed samples."""
    use = samples[element].notna()
    raw = samples.loc[use, element].to_numpy(dtype=float)
    values = transform_values(raw, transform)
    depth = 0.5 * (samples.loc[use, "from"] + samples.loc[use, "to"]).to_numpy(dtype=float)
    return (
        samples.loc[use, ["x", "y", "z"]].to_numpy(dtype=float),
        values,
        samples.loc[use, "hole_id"].to_numpy(),
        depth,
    )


left, right = st.columns([1, 2])
with left:
    default = elements.index("La") if "La" in elements else 0
    element = st.selectbox("Element", elements, index=default)
    transform = st.radio(
        "Values",
        ["log", "raw", "normal-score"],
        horizontal=True,
        help="Grades are log-normal: model log values or normal scores.",
    )
    estimator = st.radio(
        "Estimator",
        ["matheron", "cressie"],
        horizontal=True,
        help="Cressie-Hawkins is robust to outlying pairs.",
    )
    mode = st.radio(
        "Direction",
        ["omni", "directional", "down-hole"],
        horizontal=True,
        help="Down-hole pairs samples of one hole by depth difference: it shows the nugget.",
    )
    direction = None
    if mode == "directional":
        d1, d2 = st.columns(2)
        direction = (
            d1.slider("Azimuth (°)", 0.0, 180.0, 0.0, step=5.0),
            d2.slider("Dip (°)", -90.0, 90.0, 0.0, step=5.0),
            d1.slider("Tolerance (°)", 5.0, 90.0, 22.5, step=2.5),
            d2.slider("Bandwidth (m)", 10.0, 2000.0, 200.0),
        )
    n_lags = st.slider("Lags", 5, 40, 15)
    xyz = samples[["x", "y", "z"]].to_numpy()
    extent = float(np.ptp(xyz, axis=0).max())
    max_lag = st.slider(
        "Maximum lag (m)",
        10.0,
        extent,
        float(round(default_max_lag(xyz), -1)) if mode != "down-hole" else min(extent / 4, 100.0),
        step=5.0,
    )


@st.cache_data(show_spinner="Computing the experimental variogram...", max_entries=32)
def _experimental(
    folder: str,
    element: str,
    transform: str,
    estimator: str,
    n_lags: int,
    max_lag: float,
    mode: str,
    direction: tuple | None,
):
    coords, values, holes, depth = _data(element, transform)
    if mode == "down-hole":
        experimental = downhole_variogram(
            depth, values, holes, n_lags=n_lags, max_lag=max_lag, estimator=estimator
        )
        return experimental, fit_variogram(experimental, kind="spherical")
    auto = auto_variogram(
        coords,
        values,
        n_lags=n_lags,
        max_lag=max_lag,
        estimator=estimator,
        direction=direction,
        max_pairs=500_000,
    )
    return auto.experimental, auto.model


@st.cache_data(show_spinner="Computing the variogram map...", max_entries=16)
def _map(folder: str, element: str, transform: str, max_lag: float):
    coords, values, _, _ = _data(element, transform)
    return variogram_map(coords, values, max_lag=max_lag, n_cells=21, max_pairs=500_000)


try:
    experimental, auto = _experimental(
        FOLDER, element, transform, estimator, n_lags, max_lag, mode, direction
    )
except ValueError as error:  # e.g. no pair in a narrow direction
    st.warning(f"No experimental variogram for these settings: {error}")
    st.stop()

with left:
    kind = st.selectbox("Model", ["spherical", "exponential", "gaussian", "hole-effect"])
    top = float(max(experimental.semivariance.max(), auto.total_sill) * 1.5)
    key = f"{element}-{transform}-{estimator}-{n_lags}-{max_lag}-{mode}-{direction}"
    if st.button(
        "Auto-fit", help="Weighted least squares fit of the chosen model (ranges along the major axis)"
    ):
        fitted = fit_variogram(experimental, kind=kind)
        st.session_state[f"nugget-{key}"] = float(min(fitted.nugget, top))
        st.session_state[f"sill-{key}"] = float(min(fitted.sill, top))
        st.session_state[f"range-{key}"] = float(np.clip(fitted.range, 10.0, extent))
    nugget = st.slider("Nugget", 0.0, top, float(min(auto.nugget, top)), key=f"nugget-{key}")
    sill = st.slider("Partial sill", 0.0, top, float(min(auto.sill, top)), key=f"sill-{key}")
    range_m = st.slider(
        "Range (m)", 10.0, extent, float(np.clip(auto.range, 10.0, extent)), key=f"range-{key}"
    )
    with st.expander("Anisotropy (ranges and angles)"):
        anisotropic = st.toggle("Anisotropic", help="Off: one range in every direction")
        minor = st.slider(
            "Minor range (m)", 10.0, extent, range_m, key=f"minor-{key}", disabled=not anisotropic
        )
        vertical = st.slider(
            "Vertical range (m)", 1.0, extent, range_m, key=f"vertical-{key}", disabled=not anisotropic
        )
        a1, a2, a3 = st.columns(3)
        azimuth = a1.number_input(
            "Azimuth (°)", 0.0, 360.0, 0.0, step=5.0, help="Major axis, clockwise from north"
        )
        dip = a2.number_input("Dip (°)", -90.0, 90.0, 0.0, step=5.0, help="Major axis below horizontal")
        plunge = a3.number_input(
            "Plunge (°)", -90.0, 90.0, 0.0, step=5.0, help="Minor axis turned up about the major"
        )
    if not anisotropic:
        minor, vertical, azimuth, dip, plunge = range_m, range_m, 0.0, 0.0, 0.0
settings = (kind, nugget, sill, range_m, minor, vertical, azimuth, dip, plunge)
model = VariogramModel(
    kind=kind,
    nugget=nugget,
    sill=sill,
    range=range_m,
    range_minor=minor,
    range_vertical=vertical,
    azimuth=azimuth,
    dip=dip,
    plunge=plunge,
)

with right:
    what = {
        "omni": "omnidirectional",
        "down-hole": "down-hole",
        "directional": f"azimuth {direction[0]:.0f}°, dip {direction[1]:.0f}°" if direction else "",
    }[mode]
    st.plotly_chart(variogram_figure(experimental, model, f"{transform}({element}), {what}"), width="stretch")
    st.caption(
        f"Auto-fit spherical: nugget {auto.nugget:.3f}, partial sill {auto.sill:.3f}, range {auto.range:.0f} m. "
        "Marker size: pair count (pairs subsampled for large data). The curve is the model along its major "
        "axis."
    )
    st.plotly_chart(
        variogram_map_figure(
            _map(FOLDER, element, transform, max_lag),
            f"Variogram map of {transform}({element}): low values run along the direction of continuity",
        ),
        width="stretch",
    )


@st.cache_data(show_spinner="Leave-one-hole-out cross-validation...", max_entries=32)
def _cross_validation(folder: str, element: str, transform: str, settings: tuple):
    coords, values, holes, _ = _data(element, transform)
    kind, nugget, sill, rng, minor, vertical, azimuth, dip, plunge = settings
    model = VariogramModel(
        kind=kind,
        nugget=nugget,
        sill=sill,
        range=rng,
        range_minor=minor,
        range_vertical=vertical,
        azimuth=azimuth,
        dip=dip,
        plunge=plunge,
    )
    result = cross_validate_by_hole(
        coords, values, holes, model, search=SearchNeighbourhood(max_samples=24), max_targets=2000
    )
    return result.rmse, result.mae, result.r2


@st.cache_data(show_spinner="Kriging a plan slice...", max_entries=32)
def _slice(folder: str, element: str, transform: str, settings: tuple, level: float):
    coords, values, holes, _ = _data(element, transform)
    kind, nugget, sill, rng, minor, vertical, azimuth, dip, plunge = settings
    model = VariogramModel(
        kind=kind,
        nugget=nugget,
        sill=sill,
        range=rng,
        range_minor=minor,
        range_vertical=vertical,
        azimuth=azimuth,
        dip=dip,
        plunge=plunge,
    )
    xs = np.linspace(coords[:, 0].min(), coords[:, 0].max(), 70)
    ys = np.linspace(coords[:, 1].min(), coords[:, 1].max(), 70)
    gx, gy = np.meshgrid(xs, ys)
    targets = np.column_stack([gx.ravel(), gy.ravel(), np.full(gx.size, level)])
    result = ordinary_kriging(
        coords,
        values,
        targets,
        model,
        hole_ids=holes,
        search=SearchNeighbourhood(max_samples=24, radius=2 * rng),
    )
    return xs, ys, result.estimate.reshape(gx.shape), np.sqrt(result.variance).reshape(gx.shape)


rmse, mae, r2 = _cross_validation(FOLDER, element, transform, settings)
cols = st.columns(3)
cols[0].metric(
    "CV RMSE",
    f"{rmse:.3f}",
    help="Leave-one-hole-out: samples (2,000 at most, drawn at random) predicted from the other holes only",
)
cols[1].metric("CV MAE", f"{mae:.3f}")
cols[2].metric("CV R²", f"{r2:.3f}")

st.subheader("Kriged slice preview")
z = samples["z"]
if z.max() - z.min() >= 10.0:
    level = st.slider("Elevation (m)", float(z.min()), float(z.max()), float(z.median()), step=10.0)
else:  # surface samples (one elevation): the slice is the map
    level = float(z.median())
xs, ys, estimate, sd = _slice(FOLDER, element, transform, settings, level)
a, b = st.columns(2)
label = f"{transform} {element}"
a.plotly_chart(
    heatmap(xs, ys, estimate, f"Ordinary kriging of {label} at {level:.0f} m", label), width="stretch"
)
b.plotly_chart(heatmap(xs, ys, sd, "Kriging standard deviation", "sd", "Plasma"), width="stretch")
st.caption("24 samples, at most 6 per hole, within twice the major range; cells beyond it are left blank.")
