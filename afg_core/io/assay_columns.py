"""Element columns of an assay or sample table: recognition, units, lab-value parsing.

Shared by the interval reader (:mod:`afg_core.drillholes`) and the flat sample-table
reader (:mod:`afg_core.sample_tables`), so both follow one set of rules:

* A header names an element or oxide and optionally a unit and a short tag
  (``Fe_pct``, ``La_ppm``, ``Fe2O3 (%)``, ``SiO2_T``). Oxides become elements by
  stoichiometry; values go to the internal unit (majors wt%, others ppm).
* Without a unit in the header or project.toml ``[units]``, oxides are read as wt%,
  trace elements as ppm, and a major element (Fe, Si, Al, Ti) as wt% unless a value
  exceeds 100, which only ppm allows. Each assumption is a warning finding.
* Below-detection cells (``<DL``, negative numbers) become a fraction of the limit and
  are flagged per value in ``<element>_bdl``; over-range cells (``>UL``) become the limit.
* A value of exactly 0 is a below-detection result written without its limit (no assay
  measures zero, and the log of a zero sinks every log-grade model): it becomes the same
  fraction of the column's lowest measured positive value, flagged and reported like the others.
* A concentration above 100 wt% (1e6 ppm) is impossible: set missing, reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from afg_core.geochem import internal_unit, parse_element_column, parse_lab_values, to_internal_unit
from afg_core.io.csvtable import report_rows
from afg_core.io.validation import Finding, ValidationReport

_MAJORS_WT_PCT = ("Fe", "Si", "Al", "Ti")


@dataclass
class LabSettings:
    """How lab values are read (project.toml ``[units]`` and ``[below_detection]``).

    Attributes
    ----------
    units : dict
        Column header or element -> unit (``pct``, ``ppm``, ``ppb``) for headers without one.
    substitute_fraction : float
        Fraction of the detection limit substituted for below-detection values (0.5 = DL/2).
    negative_is_below_detection : bool
        Read negative numbers as ``-DL``.
    """

    units: dict[str, str] = field(default_factory=dict)
    substitute_fraction: float = 0.5
    negative_is_below_detection: bool = True


@dataclass
class ElementColumns:
    """Parsed element columns of one table.

    Attributes
    ----------
    values : DataFrame
        One column per element in its internal unit plus ``<element>_bdl`` booleans,
        indexed like the raw table.
    elements : list of str
    units_in_file : dict
        Element -> unit the file used.
    altered : int
        Values substituted or set missing (below/above detection, unparseable, impossible).
    """

    values: pd.DataFrame
    elements: list[str]
    units_in_file: dict[str, str]
    altered: int


def _assumed_unit(element: str, is_oxide: bool, values: np.ndarray) -> str:
    """Unit for a header without one: oxides wt%, majors wt% unless > 100, traces ppm."""
    if is_oxide:
        return "pct"
    if element in _MAJORS_WT_PCT:
        return "ppm" if np.nanmax(values, initial=0.0) > 100.0 else "pct"
    return internal_unit(element)


def read_element_columns(
    raw: pd.DataFrame, skip: set[str], file: str, report: ValidationReport, lab: LabSettings
) -> ElementColumns:
    """Parse every element column of ``raw`` (all text), reporting what was assumed or altered.

    Parameters
    ----------
    raw : DataFrame
        The table as text, indexed by 0-based file row.
    skip : set of str
        Headers already used for another role (hole id, coordinates ...).
    file : str
        File name for findings.
    report : ValidationReport
    lab : LabSettings
    """
    parsed_columns: dict[str, np.ndarray] = {}
    elements: list[str] = []
    units_in_file: dict[str, str] = {}
    altered = 0
    rows = raw.index.to_numpy()
    for column in raw.columns:
        if column in skip:
            continue
        parsed = parse_element_column(str(column))
        if parsed is None:
            report.add(
                Finding(
                    file,
                    "column not recognised as an element: ignored",
                    "info",
                    column=column,
                    fix="name it like Fe_pct or La_ppm, or declare it in project.toml [units]",
                )
            )
            continue
        element, unit, oxide_factor = parsed
        if element in elements:
            report.add(
                Finding(
                    file,
                    f"a second column for {element}: ignored",
                    "warning",
                    column=column,
                    fix="keep one column per element",
                )
            )
            continue
        lab_values = parse_lab_values(raw[column], lab.substitute_fraction, lab.negative_is_below_detection)
        unit = lab.units.get(column) or lab.units.get(element) or unit
        if unit is None:
            unit = _assumed_unit(element, oxide_factor != 1.0, lab_values.values)
            report.add(
                Finding(
                    file,
                    f"no unit in the header: {unit} assumed",
                    "warning",
                    column=column,
                    fix=f"add a suffix (_{unit}) or declare it in project.toml [units]",
                )
            )
        values = to_internal_unit(lab_values.values * oxide_factor, element, unit)
        bad = np.flatnonzero(lab_values.unparseable)
        report_rows(
            report,
            file,
            rows[bad],
            "value is not a number: set missing",
            "warning",
            column,
            raw[column].to_numpy()[bad],
            "correct the value or leave the cell empty",
        )
        impossible = values * (1e4 if internal_unit(element) == "pct" else 1.0) > 1e6
        report_rows(
            report,
            file,
            rows[impossible],
            f"more than 100 % {element} after unit conversion: set missing",
            "warning",
            column,
            raw[column].to_numpy()[impossible],
            "check the unit of this column (project.toml [units]) or the value",
        )
        values[impossible] = np.nan
        below = lab_values.below & ~impossible
        zeros = (values == 0) & ~below
        positive = values[np.isfinite(values) & (values > 0) & ~below]  # measured, not substituted
        if zeros.any() and len(positive):
            stand_in = lab.substitute_fraction * positive.min()
            values[zeros] = stand_in
            below |= zeros
            report.add(
                Finding(
                    file,
                    f"values of exactly 0 read as below detection: substituted by {lab.substitute_fraction:g} x the "
                    f"lowest measured value ({stand_in:g} {internal_unit(element)}, flagged per value)",
                    "warning",
                    column=column,
                    count=int(zeros.sum()),
                    fix="write below-detection results as <DL (e.g. <2) so the limit is known",
                )
            )
        if below.any():
            report.add(
                Finding(
                    file,
                    f"below-detection values substituted by {lab.substitute_fraction:g} x "
                    "detection limit (flagged per value)",
                    "info",
                    column=column,
                    count=int(below.sum()),
                )
            )
        if lab_values.above.any():
            report.add(
                Finding(
                    file,
                    "over-range values (>limit) set to the limit",
                    "warning",
                    column=column,
                    count=int(lab_values.above.sum()),
                    fix="ask the lab for the over-range assay",
                )
            )
        altered += int(below.sum() + lab_values.above.sum() + lab_values.unparseable.sum() + impossible.sum())
        parsed_columns[element] = values
        parsed_columns[f"{element}_bdl"] = below
        elements.append(element)
        units_in_file[element] = unit
    frame = pd.DataFrame(parsed_columns, index=raw.index)
    return ElementColumns(frame, elements, units_in_file, altered)
