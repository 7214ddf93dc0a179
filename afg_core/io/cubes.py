"""Hyperspectral reflectance: cube I/O, band cleaning, continuum removal and PCA.

A UAV hyperspectral survey gives a reflectance cube over the pit or outcrop surface.
This module turns it into a few principal-component (PC) score maps that can be
sampled at drill-collar or surface-sample locations and used as predictors of REE
grade. Point spectra (field or library spectra, one per table row) go through the
same PCA code via :func:`pca_of_spectra`.

Conventions
-----------
* Reflectance is unitless, 0-1 (not percent, not scaled integers).
* Wavelengths are in nanometres (nm), strictly increasing.
* Map coordinates are metres in the project CRS. Cube rows increase **northward**:
  pixel ``(row, col)`` has its centre at
  ``x = origin_x + col * pixel_size``, ``y = origin_y + row * pixel_size``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.errors import InputError

_CUBE_KEYS = ("reflectance", "wavelengths_nm", "origin", "pixel_size")
_CUBE_FIX = (
    "save the cube with afg_core.spectral.write_cube_npz, or with "
    "numpy.savez(path, reflectance=<rows x cols x bands>, wavelengths_nm=<bands>, "
    "origin=<[x, y] of pixel (0, 0) centre, m>, pixel_size=<m>)"
)

PathLike = str | os.PathLike[str]


# eq=False: field-wise == on arrays is ambiguous; compare arrays explicitly.
@dataclass(frozen=True, eq=False)
class HyperspectralCube:
    """A georeferenced reflectance cube on a regular square pixel grid.

    Parameters
    ----------
    reflectance : numpy.ndarray
        Reflectance (0-1, unitless), shape ``(rows, cols, bands)``; stored as float32.
        Non-finite values mark missing data (no-data pixels or bad bands).
    wavelengths_nm : numpy.ndarray
        Band centre wavelengths in nm, shape ``(bands,)``, strictly increasing.
    origin : tuple of float
        ``(x, y)`` in metres (project CRS) of the **centre** of pixel (row 0, col 0).
    pixel_size : float
        Pixel edge length in metres.

    Notes
    -----
    Rows increase northward: ``y = origin[1] + row * pixel_size`` and
    ``x = origin[0] + col * pixel_size``. Images read from a north-up raster (row 0 at
    the top) must be flipped with ``reflectance[::-1]`` and given the origin of the
    bottom-left pixel centre.

    Raises
    ------
    afg_core.errors.InputError
        If an array has the wrong shape, wavelengths are not strictly increasing, or
        the pixel size is not a positive finite number.
    """

    reflectance: np.ndarray
    wavelengths_nm: np.ndarray
    origin: tuple[float, float]
    pixel_size: float

    def __post_init__(self) -> None:
        reflectance = np.asarray(self.reflectance, dtype=np.float32)
        wavelengths = np.asarray(self.wavelengths_nm, dtype=np.float64)
        origin = np.asarray(self.origin, dtype=np.float64)
        _check_cube_arrays(reflectance, wavelengths, origin, self.pixel_size)
        # Frozen dataclass: normalised values must be written through object.__setattr__.
        object.__setattr__(self, "reflectance", reflectance)
        object.__setattr__(self, "wavelengths_nm", wavelengths)
        object.__setattr__(self, "origin", (float(origin[0]), float(origin[1])))
        object.__setattr__(self, "pixel_size", float(self.pixel_size))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(rows, cols, bands)`` of the cube."""
        rows, cols, bands = self.reflectance.shape
        return rows, cols, bands

    def pixel_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates along each axis.

        Returns
        -------
        xs : numpy.ndarray
            Easting (m) of each column's centre, shape ``(cols,)``, increasing.
        ys : numpy.ndarray
            Northing (m) of each row's centre, shape ``(rows,)``, increasing.
        """
        rows, cols, _ = self.shape
        xs = self.origin[0] + np.arange(cols) * self.pixel_size
        ys = self.origin[1] + np.arange(rows) * self.pixel_size
        return xs, ys

    def spectra(self) -> np.ndarray:
        """All pixel spectra as a 2-D array.

        Returns
        -------
        numpy.ndarray
            Reflectance (0-1), shape ``(rows * cols, bands)`` in row-major pixel order
            (pixel ``(r, c)`` is row ``r * cols + c``). A view of the cube, not a copy.
        """
        return self.reflectance.reshape(-1, self.shape[2])


def _check_cube_arrays(
    reflectance: np.ndarray, wavelengths: np.ndarray, origin: np.ndarray, pixel_size: object
) -> None:
    """Raise :class:`InputError` (without a file name) if the cube fields are inconsistent."""
    if reflectance.ndim != 3:
        raise InputError(
            f"'reflectance' must have shape (rows, cols, bands), got shape {reflectance.shape}",
            fix="store the cube as a 3-D array with bands last",
        )
    if wavelengths.shape != (reflectance.shape[2],):
        raise InputError(
            f"'wavelengths_nm' must have one value per band ({reflectance.shape[2]}), "
            f"got shape {wavelengths.shape}",
            fix="store one centre wavelength (nm) per band, in band order",
        )
    if wavelengths.size > 1 and not np.all(np.diff(wavelengths) > 0):
        raise InputError(
            "'wavelengths_nm' must be strictly increasing",
            fix="sort the bands by wavelength and remove duplicate bands",
        )
    if origin.shape != (2,):
        raise InputError(
            f"'origin' must be [x, y] (2 values), got shape {origin.shape}",
            fix="store the (x, y) in metres of the centre of pixel (row 0, col 0)",
        )
    size = np.asarray(pixel_size, dtype=np.float64)
    if size.shape != () or not np.isfinite(size) or size <= 0:
        raise InputError(
            f"'pixel_size' must be one positive number (m), got {pixel_size!r}",
            fix="store the pixel edge length in metres as a scalar",
        )


def read_cube_npz(path: PathLike) -> HyperspectralCube:
    """Read a reflectance cube from an ``.npz`` file.

    Parameters
    ----------
    path : str or path-like
        File with arrays ``reflectance`` (rows, cols, bands; 0-1), ``wavelengths_nm``
        (bands; nm), ``origin`` (2; m, centre of pixel (0, 0)) and ``pixel_size``
        (scalar; m), e.g. written by :func:`write_cube_npz`.

    Returns
    -------
    HyperspectralCube

    Raises
    ------
    afg_core.errors.InputError
        If the file cannot be read as ``.npz``, a key is missing, an array has the
        wrong shape, or the reflectance looks scaled (percent or integer counts).
        The message names the file and the offending key.
    """
    name = Path(path).name
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not named arrays")
        with loaded:
            arrays = {key: loaded[key] for key in loaded.files if key in _CUBE_KEYS}
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read as .npz ({err})", file=name, fix=_CUBE_FIX) from None
    for key in _CUBE_KEYS:
        if key not in arrays:
            raise InputError(f"missing key '{key}'", file=name, fix=_CUBE_FIX)
    _check_reflectance_scale(arrays["reflectance"], name)
    try:
        return HyperspectralCube(
            reflectance=arrays["reflectance"],
            wavelengths_nm=arrays["wavelengths_nm"],
            origin=arrays["origin"],
            pixel_size=arrays["pixel_size"],
        )
    except InputError as err:
        raise InputError(err.message, file=name, fix=err.fix) from None


def _check_reflectance_scale(reflectance: np.ndarray, file: str) -> None:
    """Reject reflectance stored as percent or integer counts, a common export mistake."""
    finite_max = np.nanmax(reflectance, initial=0.0, where=np.isfinite(reflectance))
    # Bright targets and specular glints can exceed 1 slightly, never 2.
    if finite_max > 2.0:
        raise InputError(
            f"'reflectance' reaches {finite_max:g}; expected reflectance 0-1",
            file=file,
            fix="divide by the scale factor (100 for percent, often 10000 for integers)",
        )


def write_cube_npz(cube: HyperspectralCube, path: PathLike) -> None:
    """Write a cube to a compressed ``.npz`` file readable by :func:`read_cube_npz`.

    Parameters
    ----------
    cube : HyperspectralCube
    path : str or path-like
        Output file. ``numpy.savez_compressed`` appends ``.npz`` if missing.
    """
    np.savez_compressed(
        path,
        reflectance=cube.reflectance,
        wavelengths_nm=cube.wavelengths_nm,
        origin=np.asarray(cube.origin, dtype=np.float64),
        pixel_size=np.float64(cube.pixel_size),
    )


def read_point_spectra_csv(path: PathLike) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Read a table with one reflectance spectrum per row.

    Parameters
    ----------
    path : str or path-like
        CSV file. Columns whose names are numbers are wavelengths, in nm, or in um if
        every such number is below 100 (converted to nm). All other columns are kept
        as identifiers (sample id, coordinates, ...). Empty cells become NaN.

    Returns
    -------
    ids : pandas.DataFrame
        The non-wavelength columns, one row per spectrum.
    spectra : numpy.ndarray
        Reflectance, shape ``(n_spectra, bands)``, bands sorted by wavelength.
    wavelengths_nm : numpy.ndarray
        Band wavelengths (nm), shape ``(bands,)``, increasing.

    Raises
    ------
    afg_core.errors.InputError
        If the file cannot be read, has no wavelength columns, repeats a wavelength,
        or holds a non-numeric reflectance (the row and column are named).
    """
    name = Path(path).name
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read as CSV ({err})", file=name) from None
    wavelengths = {column: _as_number(column) for column in table.columns}
    spectral = [column for column, value in wavelengths.items() if value is not None]
    if not spectral:
        raise InputError(
            "no wavelength columns found",
            file=name,
            fix="name each reflectance column by its wavelength, e.g. 450 (nm) or 0.45 (um)",
        )
    values = np.array([wavelengths[column] for column in spectral])
    if values.max() < 100:
        values = values * 1000.0
    order = np.argsort(values, kind="stable")
    spectral = [spectral[i] for i in order]
    values = values[order]
    repeated = np.nonzero(np.diff(values) == 0)[0]
    if repeated.size:
        second = int(repeated[0]) + 1
        raise InputError(
            f"wavelength {values[second]:g} nm appears twice",
            file=name,
            column=str(spectral[second]),
            fix="keep one column per wavelength",
        )
    spectra = _numeric_block(table[spectral], name)
    ids = table.drop(columns=spectral)
    return ids, spectra, values


def _as_number(column: object) -> float | None:
    """The column name as a positive finite number, or None if it is not one."""
    try:
        value = float(str(column).strip())
    except ValueError:
        return None
    return value if np.isfinite(value) and value > 0 else None


def _numeric_block(block: pd.DataFrame, file: str) -> np.ndarray:
    """Reflectance columns as float, naming the first cell that is not a number."""
    converted = block.apply(pd.to_numeric, errors="coerce")
    bad = converted.isna().to_numpy() & block.notna().to_numpy()
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise InputError(
            f"reflectance {block.iat[row, col]!r} is not a number",
            file=file,
            row=row + 1,
            column=str(block.columns[col]),
            fix="use a decimal number (0-1) or leave the cell empty",
        )
    return converted.to_numpy(dtype=np.float64)
