"""Geochemistry: element lists, units, below-detection values, REE normalisation.

Inside afg_core every element column holds one declared unit: major elements
(Fe, Si, Al, Ti) in wt% of the element, trace elements (REEs, Y) in ppm.
Conversions happen at the door, in :func:`to_internal_unit`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd

#: The 14 measurable lanthanides (Pm has no stable isotope) in atomic-number order.
LANTHANIDES: tuple[str, ...] = (
    "La",
    "Ce",
    "Pr",
    "Nd",
    "Sm",
    "Eu",
    "Gd",
    "Tb",
    "Dy",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
)
#: The 15 grades the models predict: the lanthanides plus Y (plotted between Dy and Ho).
REE_TARGETS: tuple[str, ...] = LANTHANIDES + ("Y",)
#: Order used on spider diagrams: Y sits beside Ho, its ionic-radius twin.
SPIDER_ORDER: tuple[str, ...] = (
    "La",
    "Ce",
    "Pr",
    "Nd",
    "Sm",
    "Eu",
    "Gd",
    "Tb",
    "Dy",
    "Y",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
)
#: XRF major elements carried through the workflow, in wt%.
MAJORS: tuple[str, ...] = ("Fe", "Si", "Al", "Ti")

#: CI chondrite, ppm. McDonough, W.F. & Sun, S.-s. (1995) The composition of the
#: Earth. Chemical Geology 120, 223-253, Table 1.
CHONDRITE_MCDONOUGH_SUN_1995: dict[str, float] = {
    "La": 0.237,
    "Ce": 0.613,
    "Pr": 0.0928,
    "Nd": 0.457,
    "Sm": 0.148,
    "Eu": 0.0563,
    "Gd": 0.199,
    "Tb": 0.0361,
    "Dy": 0.246,
    "Ho": 0.0546,
    "Er": 0.160,
    "Tm": 0.0247,
    "Yb": 0.161,
    "Lu": 0.0246,
    "Y": 1.57,
}
#: Post-Archean Australian Shale, ppm. Taylor, S.R. & McLennan, S.M. (1985) The
#: Continental Crust: its Composition and Evolution. Blackwell, Table 2.9.
PAAS_TAYLOR_MCLENNAN_1985: dict[str, float] = {
    "La": 38.2,
    "Ce": 79.6,
    "Pr": 8.83,
    "Nd": 33.9,
    "Sm": 5.55,
    "Eu": 1.08,
    "Gd": 4.66,
    "Tb": 0.774,
    "Dy": 4.68,
    "Ho": 0.991,
    "Er": 2.85,
    "Tm": 0.405,
    "Yb": 2.82,
    "Lu": 0.433,
    "Y": 27.0,
}
REFERENCES: dict[str, dict[str, float]] = {
    "chondrite": CHONDRITE_MCDONOUGH_SUN_1995,
    "PAAS": PAAS_TAYLOR_MCLENNAN_1985,
}

#: Element -> (oxide formula, mass factor oxide/element) from IUPAC atomic weights.
OXIDES: dict[str, tuple[str, float]] = {
    "Fe": ("Fe2O3", 1.4297),
    "Si": ("SiO2", 2.1393),
    "Al": ("Al2O3", 1.8895),
    "Ti": ("TiO2", 1.6685),
    "La": ("La2O3", 1.1728),
    "Ce": ("CeO2", 1.2284),
    "Pr": ("Pr6O11", 1.2082),
    "Nd": ("Nd2O3", 1.1664),
    "Sm": ("Sm2O3", 1.1596),
    "Eu": ("Eu2O3", 1.1579),
    "Gd": ("Gd2O3", 1.1526),
    "Tb": ("Tb4O7", 1.1762),
    "Dy": ("Dy2O3", 1.1477),
    "Ho": ("Ho2O3", 1.1455),
    "Er": ("Er2O3", 1.1435),
    "Tm": ("Tm2O3", 1.1421),
    "Yb": ("Yb2O3", 1.1387),
    "Lu": ("Lu2O3", 1.1371),
    "Y": ("Y2O3", 1.2699),
}
_OXIDE_TO_ELEMENT = {oxide.lower(): (element, factor) for element, (oxide, factor) in OXIDES.items()}

#: Internal unit per element: majors in wt%, everything else in ppm.
INTERNAL_UNIT: dict[str, str] = {element: "pct" for element in MAJORS}

_UNIT_ALIASES = {
    "pct": "pct",
    "%": "pct",
    "percent": "pct",
    "wt%": "pct",
    "wtpct": "pct",
    "wt": "pct",
    "ppm": "ppm",
    "gt": "ppm",
    "g/t": "ppm",
    "mg/kg": "ppm",
    "ppb": "ppb",
}
_TO_PPM = {"pct": 1e4, "ppm": 1.0, "ppb": 1e-3}
_ELEMENT_COLUMN = re.compile(
    r"^(?P<species>[A-Z][a-z]?(?:\d*[A-Z][a-z]?\d*)*)"
    r"(?:[ _\-.]*\(?(?P<unit>pct|%|percent|wt%|wtpct|ppm|ppb|g/t|gt|mg/kg)\)?)?"
    # A short trailing tag such as a layer or horizon code (``SiO2_T``, ``La_ppm_B``).
    r"(?:[ _\-.](?P<tag>[A-Za-z0-9]{1,3}))?$",
    re.IGNORECASE,
)
_KNOWN_ELEMENTS = set(OXIDES) | {
    "Ag",
    "As",
    "Au",
    "Ba",
    "Be",
    "Bi",
    "Ca",
    "Cd",
    "Co",
    "Cr",
    "Cs",
    "Cu",
    "Ga",
    "Ge",
    "Hf",
    "Hg",
    "In",
    "K",
    "Li",
    "Mg",
    "Mn",
    "Mo",
    "Na",
    "Nb",
    "Ni",
    "P",
    "Pb",
    "Pd",
    "Pt",
    "Rb",
    "Re",
    "S",
    "Sb",
    "Sc",
    "Se",
    "Sn",
    "Sr",
    "Ta",
    "Te",
    "Th",
    "Tl",
    "U",
    "V",
    "W",
    "Zn",
    "Zr",
}


def internal_unit(element: str) -> str:
    """Unit an element is held in inside afg_core: ``"pct"`` (wt%) or ``"ppm"``."""
    return INTERNAL_UNIT.get(element, "ppm")


def parse_element_column(name: str) -> tuple[str, str | None, float] | None:
    """Recognise an assay column name such as ``Fe_pct``, ``La_ppm`` or ``Fe2O3 (%)``.

    Parameters
    ----------
    name : str
        Column header.

    Returns
    -------
    (element, unit, oxide_factor) or None
        Element symbol (``"Fe"``), unit (``"pct"``, ``"ppm"``, ``"ppb"`` or None when the
        header carries none) and the factor that turns the column's oxide values into
        element values (1.0 for element columns). None when the header is no element.
    """
    match = _ELEMENT_COLUMN.match(name.strip())
    if not match:
        return None
    species, unit = match.group("species"), match.group("unit")
    unit = _UNIT_ALIASES[unit.lower()] if unit else None
    if species.lower() in _OXIDE_TO_ELEMENT:
        element, factor = _OXIDE_TO_ELEMENT[species.lower()]
        return element, unit, 1.0 / factor
    canonical = species[0].upper() + species[1:].lower()
    if canonical in _KNOWN_ELEMENTS:
        return canonical, unit, 1.0
    return None


def to_internal_unit(values: np.ndarray, element: str, unit: str) -> np.ndarray:
    """Convert element values from ``unit`` to the element's internal unit."""
    factor = _TO_PPM[unit] / _TO_PPM[internal_unit(element)]
    return np.asarray(values, dtype=float) * factor


class LabValues(NamedTuple):
    """A parsed laboratory result column; every array has one entry per cell."""

    #: Values in the column's unit; NaN where missing or unparseable.
    values: np.ndarray
    #: Below detection (``<DL`` or, when enabled, a negative number), substituted.
    below: np.ndarray
    #: Text that is neither a number, a ``<DL``/``>UL`` string nor a missing code.
    unparseable: np.ndarray
    #: Above the upper detection limit (``>UL``): set to the limit.
    above: np.ndarray


def parse_lab_values(
    raw: pd.Series, substitute_fraction: float = 0.5, negative_is_below_detection: bool = True
) -> LabValues:
    """Parse a laboratory result column with below-detection strings.

    Values such as ``<0.05`` become ``substitute_fraction * 0.05`` (half the detection
    limit by default) and are flagged. Many labs write a below-detection result as
    the negative detection limit (``-0.05``); with ``negative_is_below_detection``
    these are read the same way. Empty cells and the usual missing codes (``NA``,
    ``-``, ``IS``, ``NS``, ``-99``, ``-999``, ``-9999`` ...) become NaN; missing codes
    are checked before the negative-number rule, so ``-9999`` is missing, not a
    detection limit. ``>10000`` (over range) becomes the limit and is flagged.

    Parameters
    ----------
    raw : pandas.Series
        Column as read (strings or numbers).
    substitute_fraction : float
        Fraction of the detection limit substituted for below-detection values.
    negative_is_below_detection : bool
        Read negative numbers as ``-DL`` (below detection).

    Returns
    -------
    LabValues
    """
    text = raw.astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    missing_code = text.str.upper().isin(MISSING_CODES).fillna(True).to_numpy(dtype=bool)
    numeric_missing = np.isin(values, MISSING_NUMBERS)
    values[numeric_missing] = np.nan
    below = text.str.startswith("<").fillna(False).to_numpy(dtype=bool)
    above = text.str.startswith(">").fillna(False).to_numpy(dtype=bool)
    limits = pd.to_numeric(text.str[1:].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad_limit = (below | above) & ~(np.isfinite(limits) & (limits >= 0))
    below &= ~bad_limit
    above &= ~bad_limit
    values[below] = substitute_fraction * limits[below]
    values[above] = limits[above]
    if negative_is_below_detection:
        negative = np.isfinite(values) & (values < 0) & ~below
        values[negative] = substitute_fraction * -values[negative]
        below |= negative
    unparseable = (np.isnan(values) & ~missing_code & ~numeric_missing) | bad_limit
    values[bad_limit] = np.nan
    return LabValues(values, below, unparseable, above)


MISSING_CODES = frozenset({"", "NA", "N/A", "NAN", "NULL", "NONE", "-", "IS", "NS", "NR", "LNR", "X"})
MISSING_NUMBERS = (-99.0, -999.0, -9999.0, -99999.0)


def normalise(ree_ppm: pd.DataFrame, reference: str = "chondrite") -> pd.DataFrame:
    """Normalise REE concentrations (ppm) to a reference reservoir.

    Parameters
    ----------
    ree_ppm : pandas.DataFrame
        Columns named by element symbol, values in ppm.
    reference : {"chondrite", "PAAS"}
        CI chondrite (McDonough & Sun 1995) or PAAS (Taylor & McLennan 1985).

    Returns
    -------
    pandas.DataFrame
        Dimensionless normalised values for the columns the reference knows.
    """
    table = REFERENCES[reference]
    columns = [c for c in ree_ppm.columns if c in table]
    return ree_ppm[columns] / pd.Series({c: table[c] for c in columns})


def europium_anomaly(ree_ppm: pd.DataFrame, reference: str = "chondrite") -> pd.Series:
    """Eu/Eu* = Eu_N / sqrt(Sm_N * Gd_N) (geometric interpolation), dimensionless."""
    norm = normalise(ree_ppm[["Sm", "Eu", "Gd"]], reference)
    return norm["Eu"] / np.sqrt(norm["Sm"] * norm["Gd"])


def yttrium_holmium_ratio(ree_ppm: pd.DataFrame) -> pd.Series:
    """Y/Ho mass ratio (chondrite about 28; seawater and BIF about 40 or more)."""
    return ree_ppm["Y"] / ree_ppm["Ho"]


def total_rare_earth_oxides(ree_ppm: pd.DataFrame, include_yttrium: bool = True) -> pd.Series:
    """TREO in ppm: the sum of the REE oxides (Y2O3 included by default, as is usual).

    Missing elements count as zero; a row with no REE at all gives NaN.
    """
    elements = [e for e in (REE_TARGETS if include_yttrium else LANTHANIDES) if e in ree_ppm]
    oxides = ree_ppm[elements] * pd.Series({e: OXIDES[e][1] for e in elements})
    return oxides.sum(axis=1, min_count=1)
