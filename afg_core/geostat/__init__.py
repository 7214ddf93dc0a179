"""Geostatistics: block models, variograms, neighbourhood search, kriging and flux gradients.

Data flow: samples -> :func:`experimental_variogram` -> :func:`fit_variogram` (or the one
automatic recipe :func:`auto_variogram`) -> :class:`VariogramModel` ->
:func:`ordinary_kriging` / :func:`krige_block_model` with variance ->
:func:`block_gradient` (dE/dx, dE/dy, dE/dz per metre).
"""

from afg_core.geostat.blockmodel import BlockModel, block_model_from_extent, mask_far_cells
from afg_core.geostat.estimation import (
    BlockKriging,
    CrossValidationResult,
    KrigingResult,
    cross_validate_by_hole,
    krige_block_model,
    ordinary_kriging,
    simple_kriging,
)
from afg_core.geostat.experimental import (
    ExperimentalVariogram,
    VariogramMap,
    downhole_variogram,
    experimental_variogram,
    variogram_map,
)
from afg_core.geostat.fitting import AutoVariogram, auto_variogram, default_max_lag, fit_variogram
from afg_core.geostat.gradients import GradientField, block_gradient, geophysics_gradient, grid_gradient
from afg_core.geostat.search import SearchNeighbourhood, find_neighbours
from afg_core.geostat.variogram import KINDS, Structure, VariogramModel, anisotropy_matrix, axis_directions

__all__ = [
    "KINDS",
    "AutoVariogram",
    "BlockKriging",
    "BlockModel",
    "CrossValidationResult",
    "ExperimentalVariogram",
    "GradientField",
    "KrigingResult",
    "SearchNeighbourhood",
    "Structure",
    "VariogramMap",
    "VariogramModel",
    "anisotropy_matrix",
    "auto_variogram",
    "axis_directions",
    "block_gradient",
    "block_model_from_extent",
    "cross_validate_by_hole",
    "default_max_lag",
    "downhole_variogram",
    "experimental_variogram",
    "find_neighbours",
    "fit_variogram",
    "geophysics_gradient",
    "grid_gradient",
    "krige_block_model",
    "mask_far_cells",
    "ordinary_kriging",
    "simple_kriging",
    "variogram_map",
]
