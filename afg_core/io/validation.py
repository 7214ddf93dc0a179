"""Validation findings: what was wrong with the input, where, and what was done about it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One problem (or assumption) found while reading input.

    ``row`` is the 1-based data row in the file (header excluded) or None for a
    finding about a whole file or column. ``count`` is how many values or rows the
    finding covers when it summarises several (e.g. 312 below-detection values).
    """

    file: str
    message: str
    severity: str = "warning"
    row: int | None = None
    column: str | None = None
    value: str | None = None
    fix: str | None = None
    count: int = 1


@dataclass
class ValidationReport:
    """Every finding made while loading a project, and the row accounting.

    ``rows_read`` / ``rows_kept`` / ``rows_dropped`` / ``values_altered`` are keyed by file
    name, so that for each file ``rows_read == rows_kept + rows_dropped``. Severities:
    ``error`` (the project loads but must not be trusted: :attr:`usable` is False),
    ``warning`` (a row dropped or a value altered; fix the input) and ``info`` (an
    assumption, nothing lost).
    """

    findings: list[Finding] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_kept: dict[str, int] = field(default_factory=dict)
    rows_dropped: dict[str, int] = field(default_factory=dict)
    values_altered: dict[str, int] = field(default_factory=dict)
    #: File -> role -> header: which column was read as what (recognised or mapped).
    column_roles: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, finding: Finding) -> None:
        """Record a finding."""
        self.findings.append(finding)

    def account(self, file: str, read: int, kept: int, altered: int = 0) -> None:
        """Record the row accounting of one file."""
        self.rows_read[file] = read
        self.rows_kept[file] = kept
        self.rows_dropped[file] = read - kept
        self.values_altered[file] = self.values_altered.get(file, 0) + altered

    @property
    def usable(self) -> bool:
        """True when no finding is an error."""
        return not any(f.severity == "error" for f in self.findings)

    def to_frame(self) -> pd.DataFrame:
        """Findings as a table (one row per finding)."""
        columns = ["severity", "file", "row", "column", "value", "count", "message", "fix"]
        return pd.DataFrame([{c: getattr(f, c) for c in columns} for f in self.findings], columns=columns)

    def accounting_frame(self) -> pd.DataFrame:
        """Rows read, kept, dropped and values altered per file."""
        files = list(self.rows_read)
        return pd.DataFrame(
            {
                "file": files,
                "rows read": [self.rows_read[f] for f in files],
                "rows kept": [self.rows_kept[f] for f in files],
                "rows dropped": [self.rows_dropped[f] for f in files],
                "values altered": [self.values_altered.get(f, 0) for f in files],
            }
        )

    def summary(self) -> str:
        """Plain-text report for the command line."""
        lines = [f"{'file':<28}{'read':>9}{'kept':>9}{'dropped':>9}{'altered':>9}"]
        for _, r in self.accounting_frame().iterrows():
            lines.append(
                f"{r['file']:<28}{r['rows read']:>9}{r['rows kept']:>9}{r['rows dropped']:>9}{r['values altered']:>9}"
            )
        for f in self.findings:
            where = ", ".join(
                p
                for p in (f.file, f"row {f.row}" if f.row else "", f"column {f.column}" if f.column else "")
                if p
            )
            text = f"[{f.severity}] {where}: {f.message}"
            if f.count > 1:
                text += f" ({f.count} values)"
            if f.fix:
                text += f" Fix: {f.fix}"
            lines.append(text)
        lines.append("usable" if self.usable else "NOT usable: fix the errors above")
        return "\n".join(lines)
