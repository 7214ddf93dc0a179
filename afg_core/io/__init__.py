"""Ingestion: project folders, drill holes, column recognition, validation, grids and cubes.

Everything that reads user files lives here and converts at the door: coordinates to
metres in the project CRS, depths to metres, majors to wt% and traces to ppm, with every
dropped or altered row counted in a :class:`ValidationReport`.
"""

from afg_core.io.archives import extract_project_zip
from afg_core.io.columns import ColumnMappingError, recognise_columns
from afg_core.io.compositing import composite_intervals
from afg_core.io.cube_readers import read_cube, read_sed
from afg_core.io.cubes import HyperspectralCube, read_cube_npz, read_point_spectra_csv, write_cube_npz
from afg_core.io.desurvey import desurvey_holes, desurvey_minimum_curvature
from afg_core.io.drillholes import DrillholeDatabase, load_drillholes
from afg_core.io.grid_readers import read_geotiff_grid, read_grid, read_xyz_grid, regular_grid_from_points
from afg_core.io.grids import Grid, read_grid_npz, sample_at_cells, write_grid_npz
from afg_core.io.project import (
    DEFAULT_CUTOFFS_PPM,
    Project,
    ProjectSettings,
    add_column_mapping,
    load_project,
    read_settings,
)
from afg_core.io.sample_tables import load_sample_table
from afg_core.io.validation import Finding, ValidationReport

__all__ = [
    "DEFAULT_CUTOFFS_PPM",
    "ColumnMappingError",
    "DrillholeDatabase",
    "Finding",
    "Grid",
    "HyperspectralCube",
    "Project",
    "ProjectSettings",
    "ValidationReport",
    "add_column_mapping",
    "composite_intervals",
    "desurvey_holes",
    "desurvey_minimum_curvature",
    "extract_project_zip",
    "load_drillholes",
    "load_project",
    "load_sample_table",
    "read_cube",
    "read_cube_npz",
    "read_geotiff_grid",
    "read_grid",
    "read_grid_npz",
    "read_point_spectra_csv",
    "read_sed",
    "read_settings",
    "read_xyz_grid",
    "recognise_columns",
    "regular_grid_from_points",
    "sample_at_cells",
    "write_cube_npz",
    "write_grid_npz",
]
