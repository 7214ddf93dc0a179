"""Tests of the command line, ``python -m afg_core`` (run as a subprocess from the repository root)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from afg_core.cli import main


def test_demo_command_writes_a_project(cli_demo) -> None:
    folder, result = cli_demo
    assert result.returncode == 0, result.stderr
    assert "demo project written to" in result.stdout
    for name in (
        "project.toml",
        "collar.csv",
        "survey.csv",
        "assay.csv",
        "lithology.csv",
        "geophysics/magnetic_susceptibility.npz",
        "hyperspectral/uav_cube.npz",
        "truth/fields.npz",
    ):
        assert (folder / name).is_file(), name
    assert len((folder / "collar.csv").read_text().strip().splitlines()) == 1 + 8
    assert "seed 3" in (folder / "project.toml").read_text()


def test_validate_reports_the_demo_usable(cli_demo, afg_cli) -> None:
    folder, _ = cli_demo
    result = afg_cli("validate", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "usable"
    assert lines[0].split() == ["file", "read", "kept", "dropped", "altered"]
    assert any(line.startswith("assay.csv") for line in lines)


def test_validate_json_gives_the_accounting(cli_demo, afg_cli) -> None:
    folder, _ = cli_demo
    result = afg_cli("validate", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["usable"] is True
    accounting = {row["file"]: row for row in report["accounting"]}
    assert set(accounting) == {"collar.csv", "survey.csv", "assay.csv", "lithology.csv"}
    assert accounting["collar.csv"]["rows read"] == 8
    for row in accounting.values():
        assert row["rows read"] == row["rows kept"] + row["rows dropped"]
        assert row["rows read"] > 0
    assay_rows = len((folder / "assay.csv").read_text().strip().splitlines()) - 1
    assert accounting["assay.csv"]["rows read"] == assay_rows
    assert isinstance(report["findings"], list)
    assert all({"severity", "file", "message"} <= set(f) for f in report["findings"])
    assert not any(f["severity"] == "error" for f in report["findings"])


def test_validate_broken_collar_fails_naming_the_file(cli_demo, afg_cli, tmp_path: Path) -> None:
    folder, _ = cli_demo
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("project.toml", "survey.csv", "assay.csv"):
        shutil.copy(folder / name, broken / name)
    # A collar table without its NORTH column.
    rows = [line.split(",") for line in (folder / "collar.csv").read_text().strip().splitlines()]
    assert rows[0] == ["HOLEID", "EAST", "NORTH", "RL", "DEPTH"]
    (broken / "collar.csv").write_text("\n".join(",".join(r[:2] + r[3:]) for r in rows) + "\n")
    result = afg_cli("validate", str(broken))
    assert result.returncode != 0
    assert "collar.csv" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")


def test_validate_missing_folder_fails_cleanly(tmp_path: Path, capsys) -> None:
    # In-process (same entry point as ``python -m afg_core``), to spare an interpreter start.
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error:") and "nowhere" in error and "project folder not found" in error
