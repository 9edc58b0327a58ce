"""One CSV cell <-> one Python value, by the column's type. Unknown is the empty cell, never zero."""

from __future__ import annotations

import datetime as dt
import math
import re

from collector.data.errors import GpubenchError
from collector.data.schema import PERCENTILE_STAT, Column


class _Bad(ValueError):
    """A cell that is not what its column holds; the text says what it should be."""


def _number(text: str, col: Column) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Bad("a number, or inf for no limit" if col.type == "rate" else
                   "a number (units belong in the column name, not the cell)") from None
    if col.type == "rate" and (math.isnan(value) or value < 0):
        raise _Bad("a number >= 0, or inf for no limit")
    if col.type == "float" and not math.isfinite(value):
        raise _Bad("a finite number (leave the cell empty when unknown)")
    return value


def _whole(text: str, col: Column) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Bad("a whole number") from None


def _whole_list(text: str, col: Column) -> list[int]:
    try:
        return [int(x) for x in text.split()]
    except ValueError:
        raise _Bad("whole numbers separated by spaces") from None


def _flags(text: str, col: Column) -> list[str]:
    if any(f not in col.choices for f in text.split()):
        raise _Bad("made of " + ", ".join(col.choices))
    return text.split()


def _bool(text: str, col: Column) -> bool:
    if text not in ("true", "false"):
        raise _Bad("true or false")
    return text == "true"


def _date(text: str, col: Column) -> str:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise _Bad("a date (YYYY-MM-DD)") from None
    return text


def _datetime(text: str, col: Column) -> str:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad("an ISO 8601 date or time") from None
    return text


def _choice(text: str, col: Column) -> str:
    if text in col.choices or (col.type == "stat" and re.fullmatch(PERCENTILE_STAT, text)):
        return text
    raise _Bad("one of " + ", ".join(col.choices))


READERS = {"int": _whole, "float": _number, "rate": _number, "intlist": _whole_list, "flaglist": _flags,
           "bool": _bool, "date": _date, "datetime": _datetime, "enum": _choice, "stat": _choice}


def parse_value(text: str, col: Column, *, path: str, line: int | None) -> object:
    """Turn one CSV cell into a Python value, or raise an error naming the file, line and column."""
    text = text.strip()
    if text == "":
        if col.type in ("intlist", "flaglist"):
            return []
        if col.required:
            raise GpubenchError(f"column {col.name}: a value is required", path=path, line=line)
        return None
    reader = READERS.get(col.type)
    if reader is None:
        return text
    try:
        return reader(text, col)
    except _Bad as e:
        raise GpubenchError(f"column {col.name}: {text!r} is not {e}", path=path, line=line) from None


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
