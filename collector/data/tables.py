"""CSV files of the schema: read and validate one, serialize rows, and write any file atomically."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from collector.data.errors import GpubenchError
from collector.data.schema import TABLES, column_names
from collector.data.values import format_value, parse_value

Record = dict[str, object]


def read_table(path: Path, table: str, *, display: str | None = None,
               upgrade: Callable[[str], str] | None = None) -> list[Record]:
    """Read and validate one CSV file of the schema (after `upgrade`, for an older schema version). Columns may come
    in any order; all must be there."""
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GpubenchError("file is missing; restore it from git (git checkout -- data/)", path=display) from None
    except UnicodeDecodeError:
        raise GpubenchError("not UTF-8 text", path=display) from None
    return read_table_text(upgrade(text) if upgrade else text, table, display=display)


def read_table_text(text: str, table: str, *, display: str, missing_marks: tuple[str, ...] = ()) -> list[Record]:
    """Validate CSV text against a table of the schema; cells equal to one of `missing_marks` count as empty."""
    columns = {c.name: c for c in TABLES[table]}
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise GpubenchError("empty file: expected a header line", path=display, line=1)
    header = [h.strip() for h in header]
    missing = [c for c in columns if c not in header]
    unknown = [h for h in header if h not in columns]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing column(s) " + ", ".join(missing))
        if unknown:
            parts.append("unknown column(s) " + ", ".join(unknown))
        raise GpubenchError("; ".join(parts), path=display, line=1)
    rows: list[Record] = []
    for cells in reader:
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise GpubenchError(f"{len(cells)} cells where the header has {len(header)}", path=display, line=line)
        row: Record = {name: parse_value("" if cell.strip() in missing_marks else cell, columns[name],
                                         path=display, line=line)
                       for name, cell in zip(header, cells)}
        row["_line"] = line
        rows.append(row)
    return rows


def check_rows(rows: Iterable[Record], table: str, *, display: str) -> None:
    """Refuse rows that would not read back: every value must be what its column admits (what the loader checks,
    applied before writing, so that a bad row never reaches data/)."""
    columns = TABLES[table]
    for i, row in enumerate(rows, 1):
        for col in columns:
            parse_value(format_value(row.get(col.name)), col, path=f"{display} (new row {i})", line=None)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old or the new content, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def table_bytes(rows: Iterable[Record], table: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = column_names(table)
    writer.writerow(names)
    for row in rows:
        writer.writerow([format_value(row.get(name)) for name in names])
    return out.getvalue().encode("utf-8")
