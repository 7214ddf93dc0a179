"""Grade-tonnage curves: the expected curve and the band over a predicted volume's ensemble members."""

from __future__ import annotations

import numpy as np
import pytest

from afg_core.geostat import BlockModel
from afg_core.learn.experiment import PredictedVolume
from afg_core.products.targets import BlockEstimate, grade_tonnage, grade_tonnage_band


def _volume(members: np.ndarray) -> PredictedVolume:
    block = BlockModel((5.0, 5.0, 5.0), (10.0, 10.0, 10.0), (4, 5, 6))
    mean = members.mean(axis=0).astype(float)
    sd = np.full(block.n_cells, 0.3)
    grade = {"TREO": np.exp(mean)}
    return PredictedVolume(
        block, {"TREO": mean}, grade, {"TREO": sd}, {}, {"TREO": 1000.0}, "boosting", 3, {"TREO": members}
    )


def test_band_spans_the_members_curves() -> None:
    rng = np.random.default_rng(0)
    members = (np.log(1000) + rng.normal(0, 0.5, (3, 120))).astype(np.float32)
    members[:, :5] = np.nan  # masked cells
    volume = _volume(members)
    cutoffs = np.array([0.0, 500.0, 1000.0, 2000.0, 1e9])
    band = grade_tonnage_band(volume, cutoffs, density_t_m3=3.0)
    cell_t = 1000.0 * 3.0
    tonnes = np.array(
        [[np.sum(np.exp(m[np.isfinite(m)].astype(float)) >= c) * cell_t for c in cutoffs] for m in members]
    )
    np.testing.assert_allclose(band["tonnes_low"], tonnes.min(axis=0))
    np.testing.assert_allclose(band["tonnes_high"], tonnes.max(axis=0))
    assert band["tonnes_low"].iloc[0] == band["tonnes_high"].iloc[0] == 115 * cell_t  # every estimated cell
    assert (band["tonnes_low"] <= band["tonnes_high"]).all() and band["tonnes_high"].iloc[-1] == 0
    assert np.isnan(band["mean_low"].iloc[-1])
    assert (band["mean_low"].iloc[:-1] <= band["mean_high"].iloc[:-1]).all()
    # The expected curve of the same volume lies inside the band where members agree closely (cut-off 0).
    estimate = BlockEstimate(volume.block, volume.log_mean["TREO"], volume.log_sd["TREO"] ** 2)
    curve = grade_tonnage(estimate, cutoffs, 3.0)
    assert curve["tonnes"].iloc[0] == band["tonnes_low"].iloc[0]


def test_band_needs_member_grades() -> None:
    volume = _volume(np.zeros((3, 120), dtype=np.float32))
    with pytest.raises(KeyError, match="member grades"):
        grade_tonnage_band(volume, np.array([100.0]), grade="La")
