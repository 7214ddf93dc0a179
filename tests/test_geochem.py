"""Tests of afg_core.geochem: column names, units, lab values, REE normalisation and ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from afg_core.geochem import (
    LANTHANIDES,
    OXIDES,
    REE_TARGETS,
    europium_anomaly,
    internal_unit,
    normalise,
    parse_element_column,
    parse_lab_values,
    to_internal_unit,
    total_rare_earth_oxides,
    yttrium_holmium_ratio,
)

#: IUPAC standard atomic weights (abridged), for checking the oxide factors independently.
ATOMIC_WEIGHT = {
    "O": 15.999,
    "Fe": 55.845,
    "Si": 28.085,
    "Al": 26.982,
    "Ti": 47.867,
    "La": 138.905,
    "Ce": 140.116,
    "Pr": 140.908,
    "Nd": 144.242,
    "Sm": 150.36,
    "Eu": 151.964,
    "Gd": 157.25,
    "Tb": 158.925,
    "Dy": 162.500,
    "Ho": 164.930,
    "Er": 167.259,
    "Tm": 168.934,
    "Yb": 173.045,
    "Lu": 174.967,
    "Y": 88.906,
}
#: (metal atoms, oxygen atoms) per oxide formula.
FORMULA = {
    "Fe2O3": (2, 3),
    "SiO2": (1, 2),
    "Al2O3": (2, 3),
    "TiO2": (1, 2),
    "CeO2": (1, 2),
    "Pr6O11": (6, 11),
    "Tb4O7": (4, 7),
}

#: McDonough & Sun (1995) CI chondrite, ppm, as printed in their Table 1.
MCDONOUGH_SUN = {
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


@pytest.mark.parametrize(
    "header, expected",
    [
        ("Fe_pct", ("Fe", "pct", 1.0)),
        ("La_ppm", ("La", "ppm", 1.0)),
        ("Ce ppb", ("Ce", "ppb", 1.0)),
        ("Y", ("Y", None, 1.0)),
        ("AU_G/T", ("Au", "ppm", 1.0)),
        ("Si-wt%", ("Si", "pct", 1.0)),
        ("Nd (ppm)", ("Nd", "ppm", 1.0)),
    ],
)
def test_parse_element_column(header: str, expected: tuple) -> None:
    assert parse_element_column(header) == expected


@pytest.mark.parametrize(
    "header, element, unit, oxide",
    [
        ("Fe2O3 (%)", "Fe", "pct", 1.4297),
        ("SiO2_pct", "Si", "pct", 2.1393),
        ("La2O3_ppm", "La", "ppm", 1.1728),
        ("Y2O3 ppm", "Y", "ppm", 1.2699),
        ("CeO2", "Ce", None, 1.2284),
    ],
)
def test_oxide_columns_convert_to_the_element(
    header: str, element: str, unit: str | None, oxide: float
) -> None:
    parsed_element, parsed_unit, factor = parse_element_column(header)
    assert (parsed_element, parsed_unit) == (element, unit)
    assert factor == pytest.approx(1.0 / oxide)


@pytest.mark.parametrize("header", ["HOLEID", "SAMPLE_ID", "Depth", "TREO_ppm", "comments", "Xx_ppm", ""])
def test_non_element_headers_are_not_elements(header: str) -> None:
    assert parse_element_column(header) is None


@pytest.mark.parametrize("element, oxide, factor", [(e, o, f) for e, (o, f) in OXIDES.items()])
def test_oxide_factors_agree_with_atomic_weights(element: str, oxide: str, factor: float) -> None:
    metal, oxygen = FORMULA.get(oxide, (2, 3))
    expected = (metal * ATOMIC_WEIGHT[element] + oxygen * ATOMIC_WEIGHT["O"]) / (
        metal * ATOMIC_WEIGHT[element]
    )
    assert factor == pytest.approx(expected, rel=1e-4)


def test_to_internal_unit() -> None:
    assert internal_unit("Fe") == "pct" and internal_unit("La") == "ppm"
    np.testing.assert_allclose(to_internal_unit(np.array([1500.0, 20.0]), "La", "ppb"), [1.5, 0.02])
    np.testing.assert_allclose(to_internal_unit(np.array([31.5]), "Fe", "pct"), [31.5])
    np.testing.assert_allclose(to_internal_unit(np.array([1.2, 0.05]), "La", "pct"), [12_000.0, 500.0])
    np.testing.assert_allclose(to_internal_unit(np.array([5000.0]), "Al", "ppm"), [0.5])
    np.testing.assert_allclose(to_internal_unit(np.array([7.0]), "Y", "ppm"), [7.0])


def test_parse_lab_values() -> None:
    raw = pd.Series(["1.5", "<0.05", " < 2 ", "", "NA", "-9999", "n/a", "abc", "<x", "-0.5", ">1000", "IS"])
    values, below, bad, above = parse_lab_values(raw, 0.5)
    np.testing.assert_allclose(values[:3], [1.5, 0.025, 1.0])
    assert np.isnan(values[3:9]).all() and np.isnan(values[11])
    assert values[9] == 0.25  # the negative-number convention: -DL
    assert values[10] == 1000.0
    assert below.tolist() == [False, True, True] + [False] * 6 + [True, False, False]
    assert bad.tolist() == [False] * 7 + [True, True, False, False, False]
    assert above.tolist() == [False] * 10 + [True, False]


def test_negative_numbers_can_be_real_values() -> None:
    parsed = parse_lab_values(pd.Series(["-0.5", "-999"]), 0.5, negative_is_below_detection=False)
    assert parsed.values[0] == -0.5 and np.isnan(parsed.values[1])
    assert not parsed.below.any() and not parsed.unparseable.any()


def test_normalise_against_mcdonough_and_sun() -> None:
    chondritic = pd.DataFrame([MCDONOUGH_SUN, {e: 10 * v for e, v in MCDONOUGH_SUN.items()}])
    normalised = normalise(chondritic, "chondrite")
    assert list(normalised.columns) == list(MCDONOUGH_SUN)
    np.testing.assert_allclose(normalised.iloc[0], 1.0)
    np.testing.assert_allclose(normalised.iloc[1], 10.0)
    one = normalise(pd.DataFrame({"La": [23.7], "Yb": [1.61], "Fe": [30.0]}))
    assert list(one.columns) == ["La", "Yb"]  # non-REE columns are left out
    np.testing.assert_allclose(one.iloc[0], [100.0, 10.0])
    paas = normalise(pd.DataFrame({"La": [38.2], "Eu": [1.08 * 2]}), "PAAS")
    np.testing.assert_allclose(paas.iloc[0], [1.0, 2.0])


def test_flat_pattern_has_no_europium_anomaly() -> None:
    flat = pd.DataFrame([{e: k * MCDONOUGH_SUN[e] for e in REE_TARGETS} for k in (0.5, 3.0, 200.0)])
    np.testing.assert_allclose(europium_anomaly(flat), 1.0)


def test_europium_anomaly_of_a_doubled_eu() -> None:
    sample = pd.DataFrame({"Sm": [0.148 * 4], "Eu": [0.0563 * 2], "Gd": [0.199 * 1]})
    # Eu_N / sqrt(Sm_N * Gd_N) = 2 / sqrt(4 * 1) = 1
    np.testing.assert_allclose(europium_anomaly(sample), 1.0)
    sample["Eu"] *= 3
    np.testing.assert_allclose(europium_anomaly(sample), 3.0)


def test_yttrium_holmium_ratio() -> None:
    np.testing.assert_allclose(
        yttrium_holmium_ratio(pd.DataFrame({"Y": [40.0, 28.0], "Ho": [1.0, 1.0]})), [40.0, 28.0]
    )


def test_total_rare_earth_oxides_of_known_inputs() -> None:
    table = pd.DataFrame(
        {
            "La": [100.0, np.nan, np.nan],
            "Ce": [200.0, 10.0, np.nan],
            "Y": [50.0, np.nan, np.nan],
            "Fe": [30.0, 30.0, 30.0],
        }
    )
    treo = total_rare_earth_oxides(table)
    assert treo.iloc[0] == pytest.approx(100 * 1.1728 + 200 * 1.2284 + 50 * 1.2699)
    assert treo.iloc[1] == pytest.approx(10 * 1.2284)  # missing elements count as zero
    assert np.isnan(treo.iloc[2])  # but a row without any REE is missing
    without_y = total_rare_earth_oxides(table, include_yttrium=False)
    assert without_y.iloc[0] == pytest.approx(100 * 1.1728 + 200 * 1.2284)


def test_treo_of_one_ppm_of_each_ree() -> None:
    ones = pd.DataFrame([{e: 1.0 for e in REE_TARGETS}])
    assert total_rare_earth_oxides(ones).iloc[0] == pytest.approx(sum(OXIDES[e][1] for e in REE_TARGETS))
    assert total_rare_earth_oxides(ones, include_yttrium=False).iloc[0] == pytest.approx(
        sum(OXIDES[e][1] for e in LANTHANIDES)
    )
