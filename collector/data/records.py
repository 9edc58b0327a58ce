"""Typed records of data/: a run is a frozen dataclass whose fields are the schema's run columns, in order.

Everything that makes runs (importers, the collector) builds them with ``new_run``, which checks every value against
its column; the store writes them with ``Run.to_row`` and reads them back with ``Run.from_row``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, cast

from collector.data.errors import GpubenchError
from collector.data.schema import RUN_COLUMNS, Column
from collector.data.values import parse_value

RUN_FIELDS: dict[str, Column] = {c.name: c for c in RUN_COLUMNS}
_PY_TYPES = {"str": str, "int": int, "float": float, "rate": float, "bool": bool, "date": str, "datetime": str,
             "enum": str}
LIST_TYPES = ("intlist", "flaglist")  # tuples in a Run, space-separated in the CSV


def _run_class() -> type:
    fields = []
    for col in RUN_COLUMNS:
        if col.type in LIST_TYPES:
            fields.append((col.name, tuple, dataclasses.field(default=())))
        else:
            fields.append((col.name, _PY_TYPES[col.type] | None, dataclasses.field(default=None)))
    namespace = {
        "__doc__": "One benchmark run with its provenance (columns: collector.data.schema.RUN_COLUMNS).",
        "to_row": lambda self: {f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
        "replace": lambda self, **changes: dataclasses.replace(self, **changes),
        "from_row": classmethod(lambda cls, row: cls(**{
            name: tuple(row[name] or ()) if RUN_FIELDS[name].type in LIST_TYPES else row[name]
            for name in RUN_FIELDS if name in row})),
    }
    return dataclasses.make_dataclass("Run", fields, frozen=True, namespace=namespace)


Run: Any = _run_class()


def new_run(values: dict[str, object], *, where: str) -> "Run":
    """A run from field values, each checked against its column (unknown fields and missing required ones are
    errors naming `where`). Values may be Python objects or their CSV text."""
    unknown = sorted(set(values) - set(RUN_FIELDS))
    if unknown:
        raise GpubenchError(f"unknown run field(s): {', '.join(unknown)}", path=where)
    checked: dict[str, object] = {}
    for name, col in RUN_FIELDS.items():
        value = values.get(name, col.default)
        if value is None:
            if col.required:
                raise GpubenchError(f"{name} is required", path=where)
            if col.type in LIST_TYPES:
                value = ()
        elif col.type in LIST_TYPES:
            items = value if isinstance(value, (list, tuple)) else str(value).split()
            parsed = parse_value(" ".join(str(v) for v in items), col, path=where, line=None)
            value = tuple(cast(list, parsed))
        elif isinstance(value, (bool, float)) and col.type in ("bool", "rate"):
            pass
        else:
            value = parse_value(str(value), col, path=where, line=None)
        checked[name] = value
    return Run(**checked)


def content_id(*parts: bytes | str) -> str:
    """A stable id: the same content always gives the same id."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\x00")
    return h.hexdigest()[:16]


RESUME_FIELDS = ("host", "engine", "model_id", "image", "num_shard", "batch_sizes", "sequence_length",
                 "decode_length", "n_runs", "warmups", "input_len", "output_len")


def resume_key(run: "Run") -> tuple:
    """What makes two runs the same piece of work (for `collect --resume`): a planned run and a stored run with
    equal keys need not run again."""
    return tuple(getattr(run, name) for name in RESUME_FIELDS)
