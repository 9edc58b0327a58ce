"""One CSV cell <-> one Python value, by the column's type. Unknown is the empty cell, never zero."""

from __future__ import annotations

import datetime as dt
import math
import re

from collector.data.errors import GpubenchError
from collector.data.schema import PERCENTILE_STAT, Column


def parse_value(text: str, col: Column, *, path: str, line: int | None) -> object:
    """Turn one CSV cell into a Python value, or raise an error naming the file, line and column."""
    text = text.strip()
    if text == "":
        if col.type in ("intlist", "flaglist"):
            return []
        if col.required:
            raise GpubenchError(f"column {col.name}: a value is required", path=path, line=line)
        return None

    def bad(what: str) -> GpubenchError:
        return GpubenchError(f"column {col.name}: {text!r} is not {what}", path=path, line=line)

    if col.type == "int":
        try:
            return int(text)
        except ValueError:
            raise bad("a whole number") from None
    if col.type == "float":
        try:
            value = float(text)
        except ValueError:
            raise bad("a number (units belong in the column name, not the cell)") from None
        if not math.isfinite(value):
            raise bad("a finite number (leave the cell empty when unknown)")
        return value
    if col.type == "rate":
        try:
            value = float(text)
        except ValueError:
            raise bad("a number, or inf for no limit") from None
        if math.isnan(value) or value < 0:
            raise bad("a number >= 0, or inf for no limit")
        return value
    if col.type == "flaglist":
        flags = text.split()
        wrong = [f for f in flags if f not in col.choices]
        if wrong:
            raise bad("made of " + ", ".join(col.choices))
        return flags
    if col.type == "bool":
        if text not in ("true", "false"):
            raise bad("true or false")
        return text == "true"
    if col.type == "date":
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise bad("a date (YYYY-MM-DD)") from None
        return text
    if col.type == "datetime":
        try:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise bad("an ISO 8601 date or time") from None
        return text
    if col.type == "intlist":
        try:
            return [int(x) for x in text.split()]
        except ValueError:
            raise bad("whole numbers separated by spaces") from None
    if col.type == "stat" and re.fullmatch(PERCENTILE_STAT, text):
        return text
    if col.type in ("enum", "stat"):
        if text not in col.choices:
            raise bad("one of " + ", ".join(col.choices))
        return text
    return text


def format_value(value: object) -> str:
    """The CSV text of a value: empty for unknown, compact numbers, space-separated lists."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)  # the shortest text that reads back as the same number: never rounded
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)
