"""Drill targets of any grade: an element (Ni, Cu) or TREO, from the library, the CLI and the pages.

Synthetic samples for the rules (which grades, which samples, zero assays, column names);
the real Forrestania (WA) nickel holes of ../shared/data for the whole chain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA
from streamlit.testing.v1 import AppTest

from afg_core.cli import main
from afg_core.errors import InputError
from afg_core.geostat.blockstore import BlockStore
from afg_core.io.project import load_project
from afg_core.products.targets import (
    default_grade,
    estimate_from_store,
    estimate_grade_blocks,
    grade_samples,
    grade_tonnage,
    rank_drill_targets,
    sample_grade,
    starting_cutoff,
    target_grades,
)

APP = Path(__file__).resolve().parents[1] / "app.py"
FORRESTANIA = SHARED_DATA / "forrestania-wa-drillholes"


def _samples(n_holes: int = 6, per_hole: int = 12, seed: int = 0) -> pd.DataFrame:
    """Vertical holes on a 100 m grid with a log-normal Ni grade richer towards the east (ppm)."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.arange(n_holes) % 3 * 100.0, per_hole)
    y = np.repeat(np.arange(n_holes) // 3 * 100.0, per_hole)
    z = np.tile(-np.arange(per_hole) * 5.0, n_holes)
    return pd.DataFrame(
        {
            "hole_id": np.repeat([f"H{i}" for i in range(n_holes)], per_hole),
            "x": x,
            "y": y,
            "z": z,
            "Ni": rng.lognormal(6.0 + x / 100, 0.3),
            "Fe": rng.uniform(20, 40, len(x)),
            "La": rng.lognormal(3.0, 0.5, len(x)),
        }
    )


def test_sample_grade_reads_an_element_or_treo_and_refuses_what_is_not_a_ppm_grade() -> None:
    samples = _samples()
    assert np.array_equal(sample_grade(samples, "Ni"), samples["Ni"])
    assert (sample_grade(samples, "TREO") > samples["La"]).all()  # La2O3 is heavier than La
    for grade, words in [("Zn", "no element 'Zn'"), ("Fe", "major held in wt%"), ("x", "no element 'x'")]:
        with pytest.raises(InputError, match=words):
            sample_grade(samples, grade)
    with pytest.raises(InputError, match="no rare-earth assays"):
        sample_grade(samples.drop(columns="La"), "TREO")


def test_grade_samples_leave_out_unassayed_samples_and_need_enough_to_krige() -> None:
    samples = _samples()
    samples.loc[[0, 1, 2], "Ni"] = np.nan
    kept = grade_samples(samples, "Ni")
    assert (kept.used, kept.total) == (len(samples) - 3, len(samples))
    np.testing.assert_allclose(kept.log_values, np.log(samples["Ni"].dropna() + 1e-3))
    with pytest.raises(InputError, match="too few to krige"):
        grade_samples(samples.iloc[:8], "Ni")


def test_targets_of_an_element_are_named_after_it_and_rank_the_rich_east() -> None:
    samples = _samples()
    samples.loc[:4, "Ni"] = np.nan
    estimate = estimate_grade_blocks(samples, "Ni", cell_size=(50.0, 50.0, 10.0))
    assert (estimate.grade, estimate.samples_used, estimate.samples_total) == (
        "Ni",
        len(samples) - 5,
        len(samples),
    )
    assert "Ni kriged from 67 of 72 samples" in estimate.samples_note
    cutoff = float(np.exp(7.5))
    table = rank_drill_targets(estimate, cutoff, samples[["x", "y", "z"]].to_numpy())
    assert {"mean_ni_ppm", "contained_ni_t"} <= set(table.columns) and len(table) >= 1
    assert table["target_x"].iloc[0] >= 150  # the east holes are the rich ones
    assert (table["mean_ni_ppm"] > 0).all()
    assert estimate.top_cut_ppm == pytest.approx(samples["Ni"].max(), rel=1e-9)
    assert np.nanmax(estimate.grade_ppm) <= estimate.top_cut_ppm
    curve = grade_tonnage(estimate, np.array([0.0, cutoff]))
    assert list(curve.columns) == ["cutoff_ppm", "tonnes", "mean_ni_ppm"]
    assert curve["tonnes"].iloc[0] > curve["tonnes"].iloc[1] > 0


def test_a_grade_kriged_into_a_store_reads_back_top_cut_at_the_richest_sample(tmp_path: Path) -> None:
    from afg_core.products.targets import krige_grade_to_store

    samples = _samples()
    store = krige_grade_to_store(samples, tmp_path / "ni.zarr", "Ni", cell_size=(50.0, 50.0, 10.0))
    estimate = estimate_from_store(BlockStore.open(store.path), "Ni")
    assert estimate.grade == "Ni" and estimate.top_cut_ppm == pytest.approx(samples["Ni"].max(), rel=1e-9)
    assert np.nanmax(estimate.grade_ppm) <= estimate.top_cut_ppm


def test_a_store_without_the_grade_says_which_grades_it_holds(tmp_path: Path) -> None:
    from afg_core.geostat.blockmodel import BlockModel

    block = BlockModel((0.0, 0.0, 0.0), (10.0, 10.0, 10.0), (2, 2, 2))
    store = BlockStore.create(tmp_path / "s.zarr", block, ["log_Ni", "log_Ni_variance"])
    with pytest.raises(ValueError, match=r"not log_Cu .*--grade Cu"):
        estimate_from_store(store, "Cu")


@pytest.fixture(scope="module")
def forrestania(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Forrestania holes as a Cu-Ni project: a Ni cut-off in project.toml, none for Cu."""
    folder = tmp_path_factory.mktemp("forrestania")
    (folder / "project.toml").write_text(
        'name = "Forrestania Ni"\ncrs = "EPSG:28350"\ntarget_elements = ["Cu", "Ni"]\n[files]\n'
        f'collar = "{(FORRESTANIA / "forrestania_collar.csv").as_posix()}"\n'
        f'survey = "{(FORRESTANIA / "forrestania_survey.csv").as_posix()}"\n'
        f'assay = "{(FORRESTANIA / "forrestania_assay.csv").as_posix()}"\n[cutoffs]\nNi = 1500.0\n'
    )
    return folder


@pytest.mark.shared_data
def test_a_base_metal_project_targets_its_elements_with_cutoffs_from_project_toml_or_the_assays(
    forrestania: Path,
) -> None:
    project = load_project(forrestania)
    assert target_grades(project) == ["Cu", "Ni"] and default_grade(project) == "Cu"
    assert starting_cutoff(project, "Ni") == (1500.0, "")
    cutoff, note = starting_cutoff(project, "Cu")
    copper = project.drillholes.samples["Cu"].dropna()
    assert 0.85 <= (copper < cutoff).mean() <= 0.95 and "90th percentile" in note
    assert starting_cutoff(project, "Fe")[1].endswith(" wt%.")  # a major of a model's volume (3D Viewer)


@pytest.mark.shared_data
def test_cli_targets_a_real_nickel_project_and_exports_it(
    forrestania: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import omf

    out = tmp_path / "export"
    args = ["targets", str(forrestania), "--grade", "Ni", "--cell", "200", "--top", "5", "--export", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Ni kriged from 3,949 of 4,072 samples" in printed
    assert "likely above 1500 ppm Ni" in printed
    targets = pd.read_csv(out / "targets.csv")
    assert len(targets) >= 1 and {"mean_ni_ppm", "contained_ni_t", "score"} <= set(targets.columns)
    # Expected grades stay within the assays (its 73 zero assays, read as the log floor, once sank the
    # log variogram to a pure nugget and the back-transform inflated every block past the richest assay).
    assert targets["mean_ni_ppm"].max() <= project_assay_max(forrestania)
    blocks = pd.read_parquet(out / "blocks.parquet")
    assert {"ni_ppm", "p_above", "log_sd"} <= set(blocks.columns)
    assert (out / "ni_max_plan.tif").exists()
    elements = {e.name for e in omf.OMFReader(str(out / "targets.omf")).get_project().elements}
    assert "kriged Ni blocks" in elements

    # Copper has no cut-off in project.toml: the CLI asks for one rather than guessing.
    assert main(["report", str(forrestania), "--out", str(tmp_path / "r.html"), "--grade", "Cu"]) == 2
    assert "pass --cutoff <ppm>, or add Cu = <ppm> under [cutoffs]" in capsys.readouterr().err


def project_assay_max(folder: Path) -> float:
    return float(load_project(folder).drillholes.samples["Ni"].max())


@pytest.mark.shared_data
@pytest.mark.usefixtures("navigation_mode")
def test_drill_targets_and_viewer_pages_work_on_a_real_nickel_project(forrestania: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=600)
    at.session_state["project_dir"] = str(forrestania)
    at.switch_page("pages/drill_targets.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    grade = next(s for s in at.selectbox if s.label == "Grade")
    assert grade.options == ["Cu", "Ni"]
    assert any("90th percentile" in c.value for c in at.caption)  # Cu: no cut-off in project.toml
    grade.set_value("Ni").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.number_input(key="cutoff_Ni").value == 1500.0
    assert any("Ni kriged from 3,949 of 4,072 samples" in c.value for c in at.caption)
    ranking = at.dataframe[0].value
    assert len(ranking) >= 1 and "mean_ni_ppm" in ranking.columns
    assert any(s.value.endswith("Ni target zones") for s in at.subheader)
    labels = [b.label for b in at.get("download_button")]
    assert "Plan of the highest Ni per column (GeoTIFF)" in labels

    at.switch_page("pages/viewer_3d.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    next(s for s in at.selectbox if s.label == "Grade").set_value("Ni").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("ordinary kriging of log Ni" in c.value for c in at.caption)


def test_cli_grade_help_names_any_grade(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["targets", "--help"])
    assert "--grade" in capsys.readouterr().out
