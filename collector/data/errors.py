"""The one error type users see: a message that names the file, the line and what is wrong."""

from __future__ import annotations


class GpubenchError(Exception):
    """Bad input or a failed operation, reported as one readable line (never a traceback)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return where + self.message
