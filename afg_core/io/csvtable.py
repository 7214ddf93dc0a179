"""Reading input tables as text and recording every row dropped or value altered.

Tables are read with every cell as text, so lab strings such as ``<0.05`` survive
until :mod:`afg_core.assay_columns` parses them. Frames keep the file's 0-based data
row as their index until loading ends, so every finding names the row of the file
(1-based, header excluded) whatever was dropped before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from afg_core.errors import InputError
from afg_core.io.validation import Finding, ValidationReport

#: Findings listed one by one per check and file; the rest are summarised in one finding.
MAX_LISTED = 50


def read_csv_text(path: Path) -> pd.DataFrame:
    """Read a CSV keeping every cell as stripped text (empty cells as ``""``).

    Raises
    ------
    InputError
        When the file is missing, empty, not UTF-8 or not a rectangular CSV table.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise InputError("file not found", file=path.name, fix="check the project folder") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(
            "the file is empty", file=path.name, fix="export the table with its header row"
        ) from exc
    except pd.errors.ParserError as exc:
        raise InputError(
            f"not a readable CSV table ({exc})",
            file=path.name,
            fix="export it as comma-separated text with the same number of cells on every row",
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            file=path.name,
            fix="save the table as UTF-8 CSV",
        ) from exc
    duplicated = [
        c
        for c in frame.columns
        if "." in str(c) and str(c).rsplit(".", 1)[0] in frame.columns and str(c).rsplit(".", 1)[1].isdigit()
    ]
    if duplicated:
        original = str(duplicated[0]).rsplit(".", 1)[0]
        raise InputError(
            "the header repeats this column name",
            file=path.name,
            column=original,
            fix="give every column a unique header",
        )
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    return frame


def report_rows(
    report: ValidationReport,
    file: str,
    rows: np.ndarray,
    message: str,
    severity: str,
    column: str | None,
    values: list[str] | np.ndarray | None,
    fix: str | None,
) -> None:
    """Add one finding per row (``rows`` 0-based), the first :data:`MAX_LISTED`, then a summary.

    The summary finding has no row; its ``value`` lists the further rows (1-based,
    up to 20) and its ``count`` says how many there are.
    """
    rows = np.asarray(rows, dtype=int)
    for k, row in enumerate(rows[:MAX_LISTED]):
        value = None if values is None else str(values[k])
        report.add(Finding(file, message, severity, row=int(row) + 1, column=column, value=value, fix=fix))
    rest = rows[MAX_LISTED:]
    if len(rest):
        listed = ", ".join(str(int(r) + 1) for r in rest[:20]) + (" ..." if len(rest) > 20 else "")
        report.add(
            Finding(
                file,
                f"{message} (further rows)",
                severity,
                column=column,
                value=f"rows {listed}",
                fix=fix,
                count=len(rest),
            )
        )


def drop_rows(
    table: pd.DataFrame,
    mask: np.ndarray,
    report: ValidationReport,
    file: str,
    message: str,
    *,
    column: str | None = None,
    values: pd.Series | np.ndarray | None = None,
    severity: str = "warning",
    fix: str | None = None,
) -> pd.DataFrame:
    """Drop the rows where ``mask`` is True, with a finding per row and the accounting updated.

    Parameters
    ----------
    table : DataFrame
        Indexed by the file's 0-based data row.
    mask : array of bool
        Rows to drop.
    report : ValidationReport
        Receives the findings; ``rows_kept``/``rows_dropped`` of ``file`` change by the count.
    values : Series or array, optional
        The offending cell text per row of ``table`` (the masked ones are reported).
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return table
    shown = None if values is None else np.asarray(values, dtype=object)[mask]
    report_rows(report, file, table.index.to_numpy()[mask], message, severity, column, shown, fix)
    count = int(mask.sum())
    report.rows_kept[file] -= count
    report.rows_dropped[file] += count
    return table.loc[~mask]


def numeric_cells(raw: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as floats: NaN for empty, non-numeric and infinite cells."""
    values = np.array(pd.to_numeric(raw[column], errors="coerce"), dtype=float)
    values[~np.isfinite(values)] = np.nan
    return values
