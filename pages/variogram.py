"""Variogram: experimental variogram of log grades, a model to tune, its CV score, a kriged slice."""

import numpy as np
import streamlit as st

from afg_core.estimation import cross_validate_by_hole, ordinary_kriging
from afg_core.features import log_grade
from afg_core.variography import VariogramModel, experimental_variogram, fit_variogram
from ui.plots import heatmap, variogram_figure
from ui.state import current_project, current_project_dir

st.title("Variogram")
project = current_project()
samples = project.drillholes.samples
elements = [e for e in project.drillholes.elements if samples[e].notna().sum() > 30]
if not elements:
    st.warning("No element has more than 30 assays: nothing to model.")
    st.stop()

left, right = st.columns([1, 2])
with left:
    default = elements.index("La") if "La" in elements else 0
    element = st.selectbox("Element", elements, index=default)
    transform = st.radio("Values", ["log", "raw"], horizontal=True, help="Grades are log-normal: model log values.")
    estimator = st.radio("Estimator", ["matheron", "cressie"], horizontal=True,
                         help="Cressie-Hawkins is robust to outlying pairs.")
    n_lags = st.slider("Lags", 5, 40, 15)
    extent = float(np.ptp(samples[["x", "y", "z"]].to_numpy(), axis=0).max())
    max_lag = st.slider("Maximum lag (m)", 50.0, extent, min(extent / 2, 1000.0), step=10.0)


@st.cache_data(show_spinner="Computing the experimental variogram...", max_entries=32)
def _experimental(folder: str, element: str, transform: str, estimator: str, n_lags: int, max_lag: float):
    use = samples[element].notna()
    values = samples.loc[use, element].to_numpy()
    values = log_grade(values) if transform == "log" else values
    experimental = experimental_variogram(samples.loc[use, ["x", "y", "z"]].to_numpy(), values, n_lags=n_lags,
                                          max_lag=max_lag, estimator=estimator)
    return experimental, fit_variogram(experimental, kind="spherical")


experimental, auto = _experimental(current_project_dir(), element, transform, estimator, n_lags, max_lag)

with left:
    kind = st.selectbox("Model", ["spherical", "exponential", "gaussian"])
    top = float(max(experimental.semivariance.max(), auto.total_sill) * 1.5)
    key = f"{element}-{transform}-{estimator}-{n_lags}-{max_lag}"
    if st.button("Auto-fit", help="Weighted least squares fit of the chosen model"):
        fitted = fit_variogram(experimental, kind=kind)
        st.session_state[f"nugget-{key}"] = float(min(fitted.nugget, top))
        st.session_state[f"sill-{key}"] = float(min(fitted.sill, top))
        st.session_state[f"range-{key}"] = float(min(fitted.range, extent))
    nugget = st.slider("Nugget", 0.0, top, float(min(auto.nugget, top)), key=f"nugget-{key}")
    sill = st.slider("Partial sill", 0.0, top, float(min(auto.sill, top)), key=f"sill-{key}")
    range_m = st.slider("Range (m)", 10.0, extent, float(np.clip(auto.range, 10.0, extent)), key=f"range-{key}")
model = VariogramModel(kind=kind, nugget=nugget, sill=sill, range=range_m)

with right:
    st.plotly_chart(variogram_figure(experimental, model, f"{transform}({element}), omnidirectional"), width="stretch")
    st.caption(f"Auto-fit spherical: nugget {auto.nugget:.3f}, partial sill {auto.sill:.3f}, range {auto.range:.0f} m. "
               "Marker size: pair count (pairs subsampled for large data).")


@st.cache_data(show_spinner="Leave-one-hole-out cross-validation...", max_entries=32)
def _cross_validation(folder: str, element: str, transform: str, kind: str, nugget: float, sill: float, rng: float):
    use = samples[element].notna()
    values = samples.loc[use, element].to_numpy()
    values = log_grade(values) if transform == "log" else values
    result = cross_validate_by_hole(samples.loc[use, ["x", "y", "z"]].to_numpy(), values,
                                    samples.loc[use, "hole_id"].to_numpy(),
                                    VariogramModel(kind=kind, nugget=nugget, sill=sill, range=rng), neighbours=24)
    return result.rmse, result.mae, result.r2


@st.cache_data(show_spinner="Kriging a plan slice...", max_entries=32)
def _slice(folder: str, element: str, transform: str, kind: str, nugget: float, sill: float, rng: float, level: float):
    use = samples[element].notna()
    coords = samples.loc[use, ["x", "y", "z"]].to_numpy()
    values = samples.loc[use, element].to_numpy()
    values = log_grade(values) if transform == "log" else values
    xs = np.linspace(coords[:, 0].min(), coords[:, 0].max(), 70)
    ys = np.linspace(coords[:, 1].min(), coords[:, 1].max(), 70)
    gx, gy = np.meshgrid(xs, ys)
    targets = np.column_stack([gx.ravel(), gy.ravel(), np.full(gx.size, level)])
    result = ordinary_kriging(coords, values, targets, VariogramModel(kind=kind, nugget=nugget, sill=sill, range=rng),
                              neighbours=24, max_per_hole=6, hole_ids=samples.loc[use, "hole_id"].to_numpy())
    return xs, ys, result.estimate.reshape(gx.shape), np.sqrt(result.variance).reshape(gx.shape)


rmse, mae, r2 = _cross_validation(current_project_dir(), element, transform, kind, nugget, sill, range_m)
cols = st.columns(3)
cols[0].metric("CV RMSE", f"{rmse:.3f}", help="Leave-one-hole-out: each hole predicted from the others")
cols[1].metric("CV MAE", f"{mae:.3f}")
cols[2].metric("CV R²", f"{r2:.3f}")

st.subheader("Kriged slice preview")
z = samples["z"]
level = st.slider("Elevation (m)", float(z.min()), float(z.max()), float(z.median()), step=10.0)
xs, ys, estimate, sd = _slice(current_project_dir(), element, transform, kind, nugget, sill, range_m, level)
a, b = st.columns(2)
label = f"{transform} {element}"
a.plotly_chart(heatmap(xs, ys, estimate, f"Ordinary kriging of {label} at {level:.0f} m", label), width="stretch")
b.plotly_chart(heatmap(xs, ys, sd, "Kriging standard deviation", "sd", "Magma"), width="stretch")
