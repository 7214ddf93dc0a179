"""AFG core: REE (and any element) grade prediction from drill holes, geophysics and spectra.

All computation of the AFG dashboard lives here, in layers that import only downwards::

    products/   drill targets, grade-tonnage, 3D scenes
    learn/      features, hole splits, LSTM / FNN / kriging baseline, scores
    geostat/    block models, variograms, search, kriging, flux gradients   spectral/  PCA of cubes
    io/         projects, drill holes, columns, validation, grids, cubes
    errors, geochem, transforms, metrics, runtime   (shared leaves)

Nothing here imports Streamlit: every function is usable from plain Python and from the
command line (``python -m afg_core --help``). Importing the package changes no
environment variable; programs call :func:`configure_backends` first.

Examples
--------
>>> import afg_core
>>> sorted(afg_core.__all__)[:3]
['BlockModel', 'DrillholeDatabase', 'InputError']
"""

from afg_core.errors import InputError
from afg_core.geostat import (
    BlockModel,
    SearchNeighbourhood,
    VariogramModel,
    auto_variogram,
    block_gradient,
    cross_validate_by_hole,
    experimental_variogram,
    fit_variogram,
    krige_block_model,
    ordinary_kriging,
    simple_kriging,
)
from afg_core.io import DrillholeDatabase, Project, ProjectSettings, ValidationReport, load_project
from afg_core.runtime import configure_backends
from afg_core.spectral import SpectralPCA, spectral_pca

__version__ = "0.2.0"

__all__ = [
    "BlockModel",
    "DrillholeDatabase",
    "InputError",
    "Project",
    "ProjectSettings",
    "SearchNeighbourhood",
    "SpectralPCA",
    "ValidationReport",
    "VariogramModel",
    "__version__",
    "auto_variogram",
    "block_gradient",
    "configure_backends",
    "cross_validate_by_hole",
    "experimental_variogram",
    "fit_variogram",
    "krige_block_model",
    "load_project",
    "ordinary_kriging",
    "simple_kriging",
    "spectral_pca",
]
