"""Hyperspectral analysis: bad bands, continuum removal, PCA, scores at collars and cell columns."""

from afg_core.spectral.pca import (
    WATER_VAPOUR_WINDOWS_NM,
    SpectralPCA,
    bad_band_mask,
    continuum_removed,
    pca_of_spectra,
    sample_scores_at,
    scores_at_columns,
    spectral_pca,
)

__all__ = [
    "WATER_VAPOUR_WINDOWS_NM",
    "SpectralPCA",
    "bad_band_mask",
    "continuum_removed",
    "pca_of_spectra",
    "sample_scores_at",
    "scores_at_columns",
    "spectral_pca",
]
