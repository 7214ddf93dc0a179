"""Hyperspectral cubes from files: ``.npz``, ENVI (``.hdr`` + binary, via ``spectral``), multi-band GeoTIFF.

Every reader returns a :class:`afg_core.spectral.HyperspectralCube`: reflectance
0-1, wavelengths in nm increasing, rows running northwards, origin the centre of the
south-west pixel in metres. North-up images (row 0 at the top, as ENVI and GeoTIFF
store them) are flipped on reading. The ENVI ``reflectance scale factor`` is applied
by ``spectral`` on loading; reflectance still scaled (percent, or integers such as
0-10000) is divided by 100 or 10000 judged from the maximum. Bands are sorted by
wavelength.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from afg_core.errors import InputError
from afg_core.io.cubes import HyperspectralCube, read_cube_npz


def read_cube(path: Path) -> HyperspectralCube:
    """Read a cube by its extension: ``.npz``, ``.hdr`` (ENVI) or ``.tif``/``.tiff``."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npz":
        return read_cube_npz(path)
    if suffix == ".hdr":
        return read_cube_envi(path)
    if suffix in (".tif", ".tiff"):
        return read_cube_geotiff(path)
    raise InputError(
        f"unknown cube format '{suffix}'",
        file=Path(path).name,
        fix="use .npz, an ENVI .hdr with its image, or a multi-band GeoTIFF",
    )


def _to_nm(wavelengths: np.ndarray, units: str, file: str) -> np.ndarray:
    """Wavelengths in nm from the file's unit (nm, micrometres; guessed from the values when unstated)."""
    units = units.strip().lower()
    if units in ("micrometers", "micrometres", "um", "microns", "µm") or (
        not units and wavelengths.max() < 100
    ):
        return wavelengths * 1000.0
    if units in ("nanometers", "nanometres", "nm", ""):
        return wavelengths
    raise InputError(
        f"unknown wavelength unit '{units}'",
        file=file,
        column="wavelength units",
        fix="give wavelengths in nanometers or micrometers",
    )


def _unscale(reflectance: np.ndarray) -> np.ndarray:
    """Reflectance 0-1 from percent or 0-10000 integers, judged by the maximum."""
    peak = np.nanmax(reflectance, initial=0.0)
    if peak > 100:
        return reflectance / 10000.0
    if peak > 2:
        return reflectance / 100.0
    return reflectance


def _cube(
    reflectance: np.ndarray, wavelengths_nm: np.ndarray, x_left: float, y_top: float, pixel: float, file: str
) -> HyperspectralCube:
    """A cube from a north-up (rows, cols, bands) image and the corner of its top-left pixel."""
    order = np.argsort(wavelengths_nm)
    rows = reflectance.shape[0]
    try:
        return HyperspectralCube(
            reflectance[::-1][:, :, order],
            wavelengths_nm[order],
            (x_left + pixel / 2, y_top - pixel * (rows - 0.5)),
            pixel,
        )
    except InputError as err:
        raise InputError(err.message, file=file, fix=err.fix) from None


def read_cube_envi(path: Path) -> HyperspectralCube:
    """Read an ENVI cube (header ``.hdr`` beside its ``.img``/``.dat``/extension-less binary).

    Uses ``wavelength`` and ``wavelength units``, ``map info`` (upper-left corner and
    square pixel size, metres), ``data ignore value`` (-> NaN) and (through
    ``spectral``) ``reflectance scale factor`` of the header.

    Raises
    ------
    InputError
        When the header or image cannot be read, or wavelengths or map info are missing.
    """
    import spectral.io.envi as envi

    path = Path(path)
    file = path.name
    try:
        image = envi.open(str(path))
        data = np.asarray(image.load(), dtype=np.float32)
    except (envi.EnviException, OSError, ValueError) as exc:
        raise InputError(
            f"not a readable ENVI image ({exc})",
            file=file,
            fix="give the .hdr with its image file (same name, .img, .dat or no extension) beside it",
        ) from exc
    meta = image.metadata
    if "wavelength" not in meta:
        raise InputError(
            "the header has no 'wavelength' list",
            file=file,
            column="wavelength",
            fix="add wavelength = { ... } (one per band) to the header",
        )
    wavelengths = _to_nm(np.asarray(meta["wavelength"], float), str(meta.get("wavelength units", "")), file)
    ignore = meta.get("data ignore value")
    if ignore is not None:
        # spectral has already divided the stored values, the ignore value among them, by the scale factor.
        data[np.isclose(data, float(ignore) / float(meta.get("reflectance scale factor", 1.0)))] = np.nan
    data = _unscale(data)
    map_info = meta.get("map info")
    if not map_info or len(map_info) < 7:
        raise InputError(
            "the header has no 'map info'",
            file=file,
            column="map info",
            fix="georeference the cube (map info = {UTM, 1, 1, x, y, dx, dy, ...})",
        )
    ref_col, ref_row, x_ref, y_ref, dx, dy = (float(v) for v in map_info[1:7])
    if abs(dx - dy) > 1e-6 * dx:
        raise InputError(
            f"pixels are not square ({dx} x {dy})",
            file=file,
            column="map info",
            fix="resample the cube to square pixels",
        )
    # ENVI reference pixel is 1-based and refers to the pixel's upper-left corner.
    x_left = x_ref - (ref_col - 1) * dx
    y_top = y_ref + (ref_row - 1) * dy
    return _cube(data, wavelengths, x_left, y_top, dx, file)


def _band_wavelength(description: str | None) -> float | None:
    """A number (nm or um) from a band description such as ``"450.5 nm"`` or ``"Band 3 (0.55 um)"``."""
    if not description:
        return None
    numbers = re.findall(r"\d+(?:\.\d+)?", description)
    return float(numbers[-1]) if numbers else None


def read_cube_geotiff(path: Path) -> HyperspectralCube:
    """Read a multi-band GeoTIFF cube; wavelengths from band descriptions or a ``wavelength`` tag.

    Raises
    ------
    InputError
        When the raster is unreadable, rotated, has non-square pixels or no wavelengths.
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    file = path.name
    try:
        with rasterio.open(path) as source:
            data = source.read(masked=True).astype(np.float32).filled(np.nan)
            transform = source.transform
            descriptions = list(source.descriptions)
            tags = source.tags()
    except RasterioIOError as exc:
        raise InputError(
            f"not a readable GeoTIFF ({exc})", file=file, fix="export the cube as GeoTIFF"
        ) from exc
    if "wavelength" in tags:
        wavelengths = np.array([float(v) for v in re.split(r"[,\s]+", tags["wavelength"].strip("{} ")) if v])
    else:
        parsed = [_band_wavelength(d) for d in descriptions]
        if any(v is None for v in parsed):
            raise InputError(
                "no wavelength for every band",
                file=file,
                column="band descriptions",
                fix="name each band by its wavelength (e.g. '450.5 nm') or add a 'wavelength' tag",
            )
        wavelengths = np.array(parsed, dtype=float)
    if len(wavelengths) != data.shape[0]:
        raise InputError(
            f"{len(wavelengths)} wavelengths for {data.shape[0]} bands",
            file=file,
            column="wavelength",
            fix="give one wavelength per band",
        )
    if transform.b != 0 or transform.d != 0 or abs(transform.a + transform.e) > 1e-6 * transform.a:
        raise InputError(
            "the raster is rotated or its pixels are not square",
            file=file,
            fix="export a north-up cube with square pixels",
        )
    wavelengths = _to_nm(wavelengths, tags.get("wavelength_units", ""), file)
    reflectance = _unscale(np.moveaxis(data, 0, -1))
    return _cube(reflectance, wavelengths, transform.c, transform.f, transform.a, file)


def read_sed(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """Read a Spectral Evolution field spectrum (``.sed``, e.g. PSR-3500).

    The header (``Key: value`` lines) ends at ``Data:``; a tab-separated table follows
    with a wavelength column and a reflectance column in percent.

    Returns
    -------
    wavelengths_nm : (n,) float
        Strictly increasing; readings at a wavelength repeated at a detector join are averaged.
    reflectance : (n,) float, 0-1
    header : dict
        Header fields as text (e.g. ``Latitude``, ``Longitude``, ``Instrument``).

    Raises
    ------
    InputError
        When the ``Data:`` marker or a reflectance column is missing.
    """
    path = Path(path)
    lines = path.read_text(encoding="latin-1").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Data:")
    except StopIteration:
        raise InputError(
            "no 'Data:' line: not a Spectral Evolution .sed file",
            file=path.name,
            fix="export the spectrum as .sed from the instrument software",
        ) from None
    header = dict(line.split(":", 1) for line in lines[:start] if ":" in line)
    header = {key.strip(): value.strip() for key, value in header.items()}
    columns = [c.strip() for c in lines[start + 1].split("\t")]
    reflect = [i for i, c in enumerate(columns) if c.lower().startswith("reflect")]
    if not reflect:
        raise InputError(
            f"no reflectance column among {columns}",
            file=path.name,
            row=start + 2,
            fix="export reflectance (Measurement: REFLECTANCE)",
        )
    table = np.loadtxt(lines[start + 2 :], delimiter="\t", usecols=(0, reflect[0]), ndmin=2)
    scale = 100.0 if "%" in columns[reflect[0]] else 1.0
    # Detector joins can repeat a wavelength: the readings there are averaged, so wavelengths increase.
    wavelengths, index = np.unique(table[:, 0], return_inverse=True)
    reflectance = np.bincount(index, weights=table[:, 1]) / np.bincount(index) / scale
    return wavelengths, reflectance, header
