"""Hyperspectral analysis: bad bands, continuum removal, PCA and scores at locations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy.interpolate import RegularGridInterpolator
from sklearn.decomposition import PCA
from sklearn.model_selection import cross_val_score

from afg_core.io.cubes import HyperspectralCube

#: Atmospheric water-vapour absorption windows (nm) around 1.4 and 1.9 um, and the
#: noisy detector tail beyond 2.45 um, where airborne reflectance is unreliable.
WATER_VAPOUR_WINDOWS_NM: tuple[tuple[float, float], ...] = (
    (1340.0, 1460.0),
    (1790.0, 1960.0),
    (2450.0, 2600.0),
)

# Spectra processed per block in the per-pixel steps, to bound temporary memory.
_CHUNK = 32_768


def bad_band_mask(
    wavelengths_nm: np.ndarray,
    windows: tuple[tuple[float, float], ...] = WATER_VAPOUR_WINDOWS_NM,
    spectra: np.ndarray | None = None,
) -> np.ndarray:
    """Which bands to keep.

    Parameters
    ----------
    wavelengths_nm : numpy.ndarray
        Band wavelengths (nm), shape ``(bands,)``.
    windows : tuple of (float, float)
        Closed wavelength intervals (nm) to drop; the default covers the water-vapour
        absorptions near 1.4 and 1.9 um and the noisy tail beyond 2.45 um.
    spectra : numpy.ndarray, optional
        Reflectance, shape ``(..., bands)`` (a cube or a 2-D spectra array). If given,
        bands that are non-finite in any spectrum with at least one finite value are
        also dropped. Entirely non-finite spectra (no-data pixels) are ignored, so a
        no-data border does not condemn every band.

    Returns
    -------
    numpy.ndarray
        Boolean, shape ``(bands,)``; True = keep.
    """
    wavelengths = np.asarray(wavelengths_nm, dtype=np.float64)
    keep = np.ones(wavelengths.shape, dtype=bool)
    for low, high in windows:
        keep &= ~((wavelengths >= low) & (wavelengths <= high))
    if spectra is not None:
        finite = np.isfinite(np.asarray(spectra)).reshape(-1, wavelengths.size)
        has_data = finite.any(axis=1)
        keep &= finite[has_data].all(axis=0)
    return keep


def continuum_removed(spectra: np.ndarray, wavelengths_nm: np.ndarray) -> np.ndarray:
    """Divide each spectrum by its upper convex hull (continuum removal).

    Parameters
    ----------
    spectra : numpy.ndarray
        Reflectance, shape ``(n, bands)`` or ``(bands,)``; must be finite (drop bad
        bands first with :func:`bad_band_mask`).
    wavelengths_nm : numpy.ndarray
        Band wavelengths (nm), shape ``(bands,)``, strictly increasing.

    Returns
    -------
    numpy.ndarray
        Continuum-removed reflectance (unitless), same shape as ``spectra``, float32
        for float32 input and float64 otherwise: 1 on the hull, below 1 inside
        absorption features. NaN where the continuum is 0 (an all-zero stretch).

    Notes
    -----
    The hull is found with Andrew's monotone chain, vectorised across spectra: one
    pass over the bands, popping hull vertices for all spectra at once, so the cost
    is ``O(bands * n)`` array work plus a few extra pops, fast enough for full cubes.
    """
    y = np.asarray(spectra)
    one_spectrum = y.ndim == 1
    y = np.atleast_2d(y)
    x = np.asarray(wavelengths_nm, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError("continuum_removed needs finite spectra; drop bad bands first")
    out_dtype = np.float32 if y.dtype == np.float32 else np.float64
    result = np.empty(y.shape, dtype=out_dtype)
    # Chunks bound the float64 temporaries (about ten per spectrum) for large cubes.
    for start in range(0, y.shape[0], _CHUNK):
        block = y[start : start + _CHUNK].astype(np.float64)
        result[start : start + _CHUNK] = _continuum_removed_block(block, x)
    return result[0] if one_spectrum else result


def _continuum_removed_block(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Continuum removal of finite float64 spectra ``(n, bands)``."""
    on_hull = _upper_hull_mask(y, x)
    continuum = _interpolate_between_hull_points(y, x, on_hull)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(continuum > 0, y / continuum, np.nan)
    # Exactly 1 on the hull and never above it: rounding in the interpolation must
    # not create spurious features just above the continuum.
    return np.where(on_hull, 1.0, np.minimum(result, 1.0))


def _upper_hull_mask(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Boolean ``(n, bands)``: True where band is a vertex of spectrum's upper hull."""
    n, bands = y.shape
    stack = np.zeros((n, bands), dtype=np.intp)
    top = np.zeros(n, dtype=np.intp)
    rows = np.arange(n)
    for i in range(bands):
        # Only spectra with >= 2 hull points can pop; shrink that set as pops stop.
        active = rows[top >= 2]
        while active.size:
            a = stack[active, top[active] - 2]
            b = stack[active, top[active] - 1]
            ya, yb, yi = y[active, a], y[active, b], y[active, i]
            # b lies on or below the chord a->i: not an upper-hull vertex.
            cross = (x[b] - x[a]) * (yi - ya) - (yb - ya) * (x[i] - x[a])
            active = active[cross >= 0]
            top[active] -= 1
            active = active[top[active] >= 2]
        stack[rows, top] = i
        top += 1
    on_hull = np.zeros((n, bands), dtype=bool)
    depth = np.arange(bands)
    filled = depth[None, :] < top[:, None]
    on_hull[np.nonzero(filled)[0], stack[filled]] = True
    return on_hull


def _interpolate_between_hull_points(y: np.ndarray, x: np.ndarray, on_hull: np.ndarray) -> np.ndarray:
    """Linear continuum between neighbouring hull vertices of each spectrum."""
    n, bands = y.shape
    band = np.arange(bands)
    left = np.maximum.accumulate(np.where(on_hull, band, 0), axis=1)
    right = np.minimum.accumulate(np.where(on_hull, band, bands - 1)[:, ::-1], axis=1)[:, ::-1]
    rows = np.arange(n)[:, None]
    y_left, y_right = y[rows, left], y[rows, right]
    span = x[right] - x[left]
    # On hull vertices left == right; the fraction is irrelevant there, avoid 0/0.
    fraction = np.divide(x[None, :] - x[left], span, out=np.zeros_like(y), where=span > 0)
    return y_left + fraction * (y_right - y_left)


@dataclass(frozen=True, eq=False)
class SpectralPCA:
    """Result of a principal-component analysis of reflectance spectra.

    Attributes
    ----------
    n_components : int
        Number of retained components.
    explained_variance_ratio : numpy.ndarray
        Fraction of total variance per component, for **all** computed components
        (``min(n_fit_spectra, kept_bands)``), for a scree plot.
    cumulative_variance : numpy.ndarray
        Running sum of ``explained_variance_ratio``; ends at ~1.
    loadings : numpy.ndarray
        Component vectors, shape ``(n_components, kept_bands)``, in the (optionally
        continuum-removed and standardised) feature space.
    wavelengths_nm : numpy.ndarray
        Wavelengths (nm) of the kept bands, shape ``(kept_bands,)``.
    scores : numpy.ndarray
        Float32 PC scores (unitless). Shape ``(rows, cols, n_components)`` from
        :func:`spectral_pca`, ``(n_spectra, n_components)`` from
        :func:`pca_of_spectra`. NaN for spectra with no data on the kept bands.
    cv_log_likelihood : numpy.ndarray or None
        Mean cross-validated probabilistic-PCA log-likelihood per spectrum; element
        ``k - 1`` is for ``k`` components. None unless the count was chosen by "cv".
    mean : numpy.ndarray
        Per-band mean subtracted before projection, shape ``(kept_bands,)``.
    scale : numpy.ndarray
        Per-band divisor applied after centring (band standard deviation, or 1 when
        not standardised), shape ``(kept_bands,)``.
    continuum_removal : bool
        Whether spectra were continuum-removed before centring.
    """

    n_components: int
    explained_variance_ratio: np.ndarray
    cumulative_variance: np.ndarray
    loadings: np.ndarray
    wavelengths_nm: np.ndarray
    scores: np.ndarray
    cv_log_likelihood: np.ndarray | None
    mean: np.ndarray
    scale: np.ndarray
    continuum_removal: bool


ComponentChoice = int | Literal["cv"]


def pca_of_spectra(
    spectra: np.ndarray,
    wavelengths_nm: np.ndarray,
    n_components: ComponentChoice = 3,
    *,
    max_components: int = 10,
    continuum_removal: bool = False,
    standardise: bool = True,
    bad_band_windows: tuple[tuple[float, float], ...] = WATER_VAPOUR_WINDOWS_NM,
    max_fit_spectra: int = 50_000,
    seed: int = 0,
) -> SpectralPCA:
    """PCA of a set of reflectance spectra.

    Parameters
    ----------
    spectra : numpy.ndarray
        Reflectance (0-1), shape ``(n_spectra, bands)``. Entirely non-finite rows are
        treated as no data and get NaN scores.
    wavelengths_nm : numpy.ndarray
        Band wavelengths (nm), shape ``(bands,)``, strictly increasing.
    n_components : int or "cv"
        Components to keep (capped at the numbers of kept bands and fitted
        spectra), or "cv" to choose the count in ``1..max_components`` with
        the highest cross-validated probabilistic-PCA log-likelihood (5-fold, on the
        fit subsample; Tipping-Bishop model as in scikit-learn's ``PCA.score``). The
        count is chosen on centred, unstandardised (optionally continuum-removed)
        spectra, where sensor noise is closest to PPCA's equal-noise-per-band
        assumption; the chosen count is then used for the PCA as configured.
    max_components : int
        Largest count tried by "cv" (capped so the noise variance stays estimable).
    continuum_removal : bool
        Continuum-remove (:func:`continuum_removed`) the kept bands first, so PCs
        describe absorption-feature shape rather than overall brightness.
    standardise : bool
        Scale each band to unit variance, so bright and dark bands weigh equally.
    bad_band_windows : tuple of (float, float)
        Wavelength intervals (nm) dropped before the analysis; see :func:`bad_band_mask`.
    max_fit_spectra : int
        The PCA is fitted on a random subsample of at most this many spectra (speed);
        every spectrum is then projected.
    seed : int
        Seed for that subsample.

    Returns
    -------
    SpectralPCA
        With ``scores`` of shape ``(n_spectra, n_components)``.

    Raises
    ------
    ValueError
        If fewer than 2 bands survive band removal, fewer than 2 spectra have data,
        or ``n_components`` is not a positive int or "cv".
    """
    spectra = np.asarray(spectra)
    wavelengths = np.asarray(wavelengths_nm, dtype=np.float64)
    keep = bad_band_mask(wavelengths, bad_band_windows, spectra)
    # float32 halves the memory of full-cube copies; the fit itself runs in float64.
    features = spectra[:, keep].astype(np.float32)
    has_data = np.isfinite(features).all(axis=1)
    if keep.sum() < 2 or has_data.sum() < 2:
        raise ValueError(
            f"PCA needs >= 2 usable bands and spectra; got {keep.sum()} bands "
            f"and {has_data.sum()} spectra after removing bad bands and no-data"
        )
    features = features[has_data]
    if continuum_removal:
        features = continuum_removed(features, wavelengths[keep])

    fit_data = features[_subsample(features.shape[0], max_fit_spectra, seed)].astype(np.float64)
    mean = fit_data.mean(axis=0)
    scale = _band_scale(fit_data, standardise)
    fit_z = (fit_data - mean) / scale
    n_keep, cv_log_likelihood = _choose_count(n_components, fit_data - mean, max_components)
    n_keep = min(n_keep, *fit_z.shape)

    model = PCA(random_state=seed).fit(fit_z)
    loadings = model.components_[:n_keep]
    # The model re-centres fit_z by its own (floating-point ~0) mean; fold it in so
    # that scores == model.transform exactly.
    centre = mean + scale * model.mean_
    scores = np.full((spectra.shape[0], n_keep), np.nan, dtype=np.float32)
    scores[has_data] = _project(features, centre, scale, loadings)
    ratio = model.explained_variance_ratio_
    return SpectralPCA(
        n_components=n_keep,
        explained_variance_ratio=ratio,
        cumulative_variance=np.cumsum(ratio),
        loadings=loadings,
        wavelengths_nm=wavelengths[keep],
        scores=scores,
        cv_log_likelihood=cv_log_likelihood,
        mean=centre,
        scale=scale,
        continuum_removal=continuum_removal,
    )


def _band_scale(fit_data: np.ndarray, standardise: bool) -> np.ndarray:
    """Per-band divisor: the standard deviation, or 1 when not standardising."""
    std = fit_data.std(axis=0)
    # Constant bands (e.g. hull end points after continuum removal) carry no
    # information; dividing by 1 keeps them at 0 instead of producing NaN.
    return np.where(standardise & (std > 0), std, 1.0)


def _choose_count(
    n_components: ComponentChoice, centred: np.ndarray, max_components: int
) -> tuple[int, np.ndarray | None]:
    """Number of components to keep and, for "cv", the CV log-likelihood curve."""
    if isinstance(n_components, str) and n_components == "cv":
        # Counted on unscaled features: standardising blows pure-noise bands up to
        # unit variance, breaking PPCA's isotropic-noise model (the count then grows
        # with max_components), while the signal rank is unchanged by band scaling.
        curve = _cv_log_likelihood(centred, max_components)
        return int(np.argmax(curve)) + 1, curve
    is_count = isinstance(n_components, (int, np.integer)) and not isinstance(n_components, bool)
    if is_count and n_components >= 1:
        return int(n_components), None
    raise ValueError(f"n_components must be a positive int or 'cv', got {n_components!r}")


def _project(features: np.ndarray, mean: np.ndarray, scale: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    """Scores ``((features - mean) / scale) @ loadings.T`` in chunks, as float32."""
    scores = np.empty((features.shape[0], loadings.shape[0]), dtype=np.float32)
    for start in range(0, features.shape[0], _CHUNK):
        block = (features[start : start + _CHUNK] - mean) / scale
        scores[start : start + _CHUNK] = block @ loadings.T
    return scores


def _subsample(n: int, max_n: int, seed: int) -> np.ndarray:
    """Sorted indices of a random subsample of at most ``max_n`` of ``n`` items."""
    if n <= max_n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_n, replace=False))


def _cv_log_likelihood(data: np.ndarray, max_components: int, folds: int = 5) -> np.ndarray:
    """Mean 5-fold CV log-likelihood of probabilistic PCA for 1..max_components."""
    n_train = data.shape[0] - int(np.ceil(data.shape[0] / folds))
    # The PPCA noise variance is the mean of the discarded eigenvalues, so at least
    # one must remain in every training fold.
    largest = min(max_components, data.shape[1] - 1, n_train - 1)
    if largest < 1:
        raise ValueError(f"too few spectra ({data.shape[0]}) or bands for 'cv' selection")
    # Exact, deterministic solvers: "auto" would pick the randomised one here. The
    # covariance route is much faster when spectra outnumber bands, as in cubes.
    solver = "covariance_eigh" if data.shape[0] > data.shape[1] else "full"
    return np.array(
        [
            cross_val_score(PCA(n_components=k, svd_solver=solver), data, cv=folds).mean()
            for k in range(1, largest + 1)
        ]
    )


def spectral_pca(
    cube: HyperspectralCube,
    n_components: ComponentChoice = 3,
    max_components: int = 10,
    continuum_removal: bool = False,
    standardise: bool = True,
    max_fit_pixels: int = 50_000,
    seed: int = 0,
) -> SpectralPCA:
    """PCA of every pixel spectrum of a cube, giving PC score maps.

    Bad bands (water vapour, non-finite) are dropped first; see :func:`pca_of_spectra`
    for the meaning of each parameter (``max_fit_pixels`` is its ``max_fit_spectra``).

    Returns
    -------
    SpectralPCA
        With ``scores`` of shape ``(rows, cols, n_components)``; NaN at no-data pixels.
    """
    rows, cols, _ = cube.shape
    result = pca_of_spectra(
        cube.spectra(),
        cube.wavelengths_nm,
        n_components,
        max_components=max_components,
        continuum_removal=continuum_removal,
        standardise=standardise,
        max_fit_spectra=max_fit_pixels,
        seed=seed,
    )
    return replace(result, scores=result.scores.reshape(rows, cols, result.n_components))


def sample_scores_at(pca: SpectralPCA, cube: HyperspectralCube, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinearly interpolate PC score maps at surface points.

    Parameters
    ----------
    pca : SpectralPCA
        Result of :func:`spectral_pca` on ``cube``.
    cube : HyperspectralCube
        Supplies the pixel grid.
    x, y : numpy.ndarray
        Point coordinates in metres (project CRS), shape ``(n,)``.

    Returns
    -------
    numpy.ndarray
        Scores, shape ``(n, n_components)``. Between the outermost pixel centres and
        the cube edge (half a pixel) the edge pixel's value is used; points outside
        the cube footprint, or next to no-data pixels, get NaN.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    xs, ys = cube.pixel_centres()
    half = cube.pixel_size / 2
    inside = (x >= xs[0] - half) & (x <= xs[-1] + half) & (y >= ys[0] - half) & (y <= ys[-1] + half)
    interpolator = RegularGridInterpolator((ys, xs), pca.scores, method="linear")
    # Clamping inside-footprint points onto the centre grid extends edge pixels to
    # the cube edge instead of returning NaN for the outer half pixel.
    points = np.column_stack([np.clip(y, ys[0], ys[-1]), np.clip(x, xs[0], xs[-1])])
    result = interpolator(points).astype(np.float64)
    result[~inside] = np.nan
    return result


def scores_at_columns(
    pca: SpectralPCA, cube: HyperspectralCube, x_axis: np.ndarray, y_axis: np.ndarray
) -> np.ndarray:
    """PC scores at the columns of a block model (surface data attached to every cell below).

    A reflectance cube sees only the surface, so each vertical column of cells gets
    the score at its (x, y), the way :func:`sample_scores_at` attaches scores to a
    drill hole through its collar.

    Parameters
    ----------
    pca : SpectralPCA
        Result of :func:`spectral_pca` on ``cube``.
    cube : HyperspectralCube
    x_axis, y_axis : numpy.ndarray
        Cell-centre coordinates (m) along x (nx,) and y (ny,), e.g. ``BlockModel.axes()[:2]``.

    Returns
    -------
    numpy.ndarray, shape (nx, ny, n_components)
        NaN for columns outside the cube footprint.
    """
    xs, ys = np.meshgrid(np.asarray(x_axis, float), np.asarray(y_axis, float), indexing="ij")
    scores = sample_scores_at(pca, cube, xs.ravel(), ys.ravel())
    return scores.reshape(xs.shape + (pca.n_components,))
