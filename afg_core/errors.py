"""Exception types for problems a user can cause (bad files, bad settings)."""

from __future__ import annotations


class InputError(ValueError):
    """A problem with user input, carrying where it is and how to fix it.

    Parameters
    ----------
    message : str
        What is wrong.
    file, row, column : optional
        Where it is. ``row`` is the 1-based data row in the file (header excluded).
    fix : str, optional
        How the user can fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.fix = fix

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file '{self.file}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.fix:
            text += f". Fix: {self.fix}"
        return text
