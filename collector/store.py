"""The data store: data/ as versioned CSV files plus the raw outputs they came from.

Layout (schema version in ``data/SCHEMA_VERSION``; columns in ``collector.schema``)::

    data/SCHEMA_VERSION   the schema version, one integer
    data/runs.csv         one row per benchmark run, with its provenance
    data/results.csv      tidy: run_id, batch_size, metric, stat, value
    data/prices.csv       dated price snapshots per GPU setup
    data/gpu_specs.csv    reference datasheet figures per GPU model
    data/raw/...          every raw output, unchanged

Rules: unknown is empty (never zero); the loader validates columns, types and units and refuses a schema version it
does not know; every write goes to a temporary file renamed over the old one; adding runs is keyed by ``run_id`` so
that it never loses or duplicates rows. ``runs.csv`` is written last: a run exists once it is listed there, and
results left by an interrupted write for a run that is not listed are ignored on load and dropped on the next write.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import fcntl
import io
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from collector.errors import GpubenchError
from collector.schema import (
    RESULT_COLUMNS,
    SCHEMA_VERSION,
    TABLES,
    VERSION_FILE,
    Column,
    column_names,
)

DEFAULT_DATA_DIR = Path("data")
LOCK_FILE = ".lock"

Record = dict[str, object]


@dataclass
class Dataset:
    """Everything in data/, validated. Values are Python objects; unknown values are None."""

    root: Path
    runs: list[Record] = field(default_factory=list)
    results: list[Record] = field(default_factory=list)
    prices: list[Record] = field(default_factory=list)
    gpu_specs: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def frames(self):
        """The four tables as pandas DataFrames (unknown values as NaN / <NA>)."""
        import pandas as pd

        def frame(rows: list[Record], table: str) -> "pd.DataFrame":
            df = pd.DataFrame(rows, columns=column_names(table))
            for col in TABLES[table]:
                if col.type == "int":
                    df[col.name] = df[col.name].astype("Int64")
                elif col.type == "float":
                    df[col.name] = df[col.name].astype("float64")
            return df

        return (
            frame(self.runs, "runs.csv"),
            frame(self.results, "results.csv"),
            frame(self.prices, "prices.csv"),
            frame(self.gpu_specs, "gpu_specs.csv"),
        )


@dataclass
class AddReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    prices_added: int = 0


# ---------------------------------------------------------------- values


def parse_value(text: str, col: Column, *, path: str, line: int) -> object:
    """Turn one CSV cell into a Python value, or raise an error naming the file, line and column."""
    text = text.strip()
    if text == "":
        if col.type == "intlist":
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
    if col.type == "enum":
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
        return format(value, ".10g")
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


# ---------------------------------------------------------------- reading


def read_table(path: Path, table: str, *, display: str | None = None) -> list[Record]:
    """Read and validate one CSV file of the schema. Columns may come in any order; all must be there."""
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GpubenchError("file is missing; restore it from git (git checkout -- data/)", path=display) from None
    except UnicodeDecodeError:
        raise GpubenchError("not UTF-8 text", path=display) from None
    return read_table_text(text, table, display=display)


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


def read_schema_version(root: Path) -> int | None:
    path = root / VERSION_FILE
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    try:
        return int(text)
    except ValueError:
        raise GpubenchError(f"{text[:40]!r} is not a schema version number", path=str(path), line=1) from None


def load(root: Path = DEFAULT_DATA_DIR) -> Dataset:
    """Load and validate data/. Raises GpubenchError naming the file and line of the first problem."""
    root = Path(root)
    version = read_schema_version(root)
    if version is None:
        raise GpubenchError(
            f"no {VERSION_FILE} file: this is not a gpubench data directory "
            "(restore it from git, or import data into an empty folder to start one)", path=str(root))
    if version != SCHEMA_VERSION:
        advice = ("upgrade gpubench (pip install -U gpubench) to read it" if version > SCHEMA_VERSION
                  else "re-import the raw outputs under data/raw with this version")
        raise GpubenchError(
            f"data schema version {version} is not the one this gpubench knows ({SCHEMA_VERSION}): {advice}",
            path=str(root / VERSION_FILE), line=1)
    ds = Dataset(root=root)
    ds.runs = read_table(root / "runs.csv", "runs.csv")
    ds.results = read_table(root / "results.csv", "results.csv")
    ds.prices = read_table(root / "prices.csv", "prices.csv")
    ds.gpu_specs = read_table(root / "gpu_specs.csv", "gpu_specs.csv")
    _check_consistency(ds)
    for table in (ds.runs, ds.results, ds.prices, ds.gpu_specs):
        for row in table:
            row.pop("_line", None)
    return ds


def _check_consistency(ds: Dataset) -> None:
    runs_path = str(ds.root / "runs.csv")
    results_path = str(ds.root / "results.csv")
    run_ids: set[str] = set()
    for row in ds.runs:
        if row["run_id"] in run_ids:
            raise GpubenchError(f"run_id {row['run_id']} appears twice", path=runs_path, line=row["_line"])
        run_ids.add(row["run_id"])  # type: ignore[arg-type]
        if row["gpu_count"] is not None and row["gpu_count"] < 1:  # type: ignore[operator]
            raise GpubenchError("column gpu_count: must be at least 1", path=runs_path, line=row["_line"])
    seen: set[tuple] = set()
    kept = []
    orphans = 0
    for row in ds.results:
        if row["run_id"] not in run_ids:
            orphans += 1  # left by an interrupted write; runs.csv is the commit point
            continue
        key = (row["run_id"], row["batch_size"], row["metric"], row["stat"])
        if key in seen:
            raise GpubenchError("the same run, batch size, metric and stat appear twice",
                                path=results_path, line=row["_line"])
        if row["batch_size"] < 1:  # type: ignore[operator]
            raise GpubenchError("column batch_size: must be at least 1", path=results_path, line=row["_line"])
        seen.add(key)
        kept.append(row)
    ds.results = kept
    if orphans:
        ds.warnings.append(f"{results_path}: ignored {orphans} row(s) of runs not in runs.csv "
                           "(left by an interrupted write; the next import removes them)")


# ---------------------------------------------------------------- writing


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


@contextlib.contextmanager
def locked(root: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold data/'s write lock so that two writers never interleave their read-merge-write."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a") as f:
        flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(f, flags)
        except BlockingIOError:
            raise GpubenchError("another gpubench process is writing to this data directory; "
                                "wait for it to finish", path=str(root)) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def collect_lock(root: Path) -> Iterator[None]:
    """One collector per data directory: a second one would run the same hosts again. Refuses at once, naming the
    process that holds it; the kernel releases the lock when that process dies, even by SIGKILL."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / ".collect.lock"
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            raise GpubenchError(f"another 'gpubench collect' (pid {holder}) is running on this data directory; "
                                "wait for it to finish", path=str(root)) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


def _empty_dataset(root: Path) -> Dataset:
    """A new store may start in a folder that does not exist yet or holds nothing of ours."""
    names = [VERSION_FILE, *TABLES]
    if any((root / n).exists() for n in names):
        return load(root)
    return Dataset(root=root)


def add(
    root: Path,
    runs: list[Record],
    results: list[Record],
    *,
    raw_files: dict[str, bytes] | None = None,
    prices: list[Record] | None = None,
    gpu_specs: list[Record] | None = None,
) -> AddReport:
    """Merge runs (with their results and raw files) into data/, keyed by run_id: existing runs are kept as they
    are and never duplicated. Price snapshots are keyed by (gpu, gpu_count, price_date, source_url)."""
    root = Path(root)
    report = AddReport()
    with locked(root):
        ds = _empty_dataset(root)
        known = {r["run_id"] for r in ds.runs}
        new_runs = []
        for run in runs:
            if run["run_id"] in known:
                report.skipped.append(str(run["run_id"]))
            else:
                known.add(run["run_id"])
                new_runs.append(run)
                report.added.append(str(run["run_id"]))
        new_ids = set(report.added)
        merged_results = ds.results + [r for r in results if r["run_id"] in new_ids]

        price_key = lambda p: (p["gpu"], p["gpu_count"], p["price_date"], p.get("source_url"))  # noqa: E731
        merged_prices = list(ds.prices)
        seen_prices = {price_key(p) for p in merged_prices}
        for p in prices or []:
            if price_key(p) not in seen_prices:
                seen_prices.add(price_key(p))
                merged_prices.append(p)
                report.prices_added += 1
        specs = ds.gpu_specs if gpu_specs is None else gpu_specs

        for rel, data in (raw_files or {}).items():
            target = root / rel
            if not target.exists():
                write_atomic(target, data)
        write_atomic(root / VERSION_FILE, f"{SCHEMA_VERSION}\n".encode())
        write_atomic(root / "gpu_specs.csv", table_bytes(specs, "gpu_specs.csv"))
        write_atomic(root / "prices.csv", table_bytes(merged_prices, "prices.csv"))
        write_atomic(root / "results.csv", table_bytes(merged_results, "results.csv"))
        write_atomic(root / "runs.csv", table_bytes(ds.runs + new_runs, "runs.csv"))
    return report


def result_rows(run_id: str, rows: Iterable[Record]) -> list[Record]:
    """Attach a run id to parsed (batch_size, metric, stat, value) rows."""
    return [{"run_id": run_id, **{k: r[k] for k in ("batch_size", "metric", "stat", "value")}} for r in rows]


__all__ = [
    "AddReport", "Dataset", "GpubenchError", "RESULT_COLUMNS", "add", "load", "locked", "read_table",
    "result_rows", "table_bytes", "write_atomic",
]
