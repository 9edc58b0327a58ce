"""The data store: data/ as versioned CSV files plus the raw outputs they came from.

Layout (schema version in ``data/SCHEMA_VERSION``; columns in ``collector.data.schema``)::

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
import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from collector.data.errors import GpubenchError
from collector.data.migrate import migrate, upgrade_text
from collector.data.records import Run
from collector.data.schema import (
    GPU_SPECS_CSV,
    PRICES_CSV,
    RESULTS_CSV,
    RUNS_CSV,
    SCHEMA_VERSION,
    TABLES,
    VERSION_FILE,
    column_names,
)
from collector.data.tables import Record, check_rows, read_table, table_bytes, write_atomic

LOCK_FILE = ".lock"
T = TypeVar("T")


@dataclass
class Dataset:
    """Everything in data/, validated. Values are Python objects; unknown values are None."""

    root: Path
    runs: list[Run] = field(default_factory=list)
    results: list[Record] = field(default_factory=list)
    prices: list[Record] = field(default_factory=list)
    gpu_specs: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    version: int = SCHEMA_VERSION  # the version on disk (older ones are upgraded when read)

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

        return (frame([r.to_row() for r in self.runs], RUNS_CSV), frame(self.results, RESULTS_CSV),
                frame(self.prices, PRICES_CSV), frame(self.gpu_specs, GPU_SPECS_CSV))


@dataclass
class AddReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    prices_added: int = 0
    redactions: list[str] = field(default_factory=list)  # secrets removed from raw copies: "file: field"


# ---------------------------------------------------------------- values


# ---------------------------------------------------------------- reading


def read_schema_version(root: Path) -> int | None:
    path = root / VERSION_FILE
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    try:
        return int(text)
    except ValueError:
        raise GpubenchError(f"{text[:40]!r} is not a schema version number", path=str(path), line=1) from None


def load(root: Path) -> Dataset:
    """Load and validate data/. Raises GpubenchError naming the file and line of the first problem."""
    root = Path(root)
    version = read_schema_version(root)
    if version is None:
        raise GpubenchError(
            f"no {VERSION_FILE} file: this is not a gpubench data directory "
            "(restore it from git, or import data into an empty folder to start one)", path=str(root))
    if version > SCHEMA_VERSION or version < 1:
        raise GpubenchError(
            f"data schema version {version} is not one this gpubench knows (1 to {SCHEMA_VERSION}): upgrade "
            "gpubench (pip install -U gpubench) to read it", path=str(root / VERSION_FILE), line=1)
    ds = Dataset(root=root, version=version)
    if version < SCHEMA_VERSION:
        ds.warnings.append(f"{root}: schema version {version} read as version {SCHEMA_VERSION} (columns added, "
                           "nothing lost); 'gpubench migrate' writes it so, keeping a backup")

    def table(name: str) -> list[Record]:
        if version == SCHEMA_VERSION:
            return read_table(root / name, name)
        return read_table(root / name, name, upgrade=lambda text: upgrade_text(text, name, version))

    run_rows = table(RUNS_CSV)
    ds.results, ds.prices, ds.gpu_specs = table(RESULTS_CSV), table(PRICES_CSV), table(GPU_SPECS_CSV)
    _check_consistency(ds, run_rows)
    for table in (run_rows, ds.results, ds.prices, ds.gpu_specs):
        for row in table:
            row.pop("_line", None)
    ds.runs = [Run.from_row(row) for row in run_rows]
    return ds


def _check_consistency(ds: Dataset, run_rows: list[Record]) -> None:
    runs_path = str(ds.root / RUNS_CSV)
    results_path = str(ds.root / RESULTS_CSV)
    kinds: dict[object, object] = {}
    for row in run_rows:
        if row["run_id"] in kinds:
            raise GpubenchError(f"run_id {row['run_id']} appears twice", path=runs_path, line=row["_line"])
        kinds[row["run_id"]] = row["benchmark_kind"]
        if isinstance(row["gpu_count"], int) and row["gpu_count"] < 1:
            raise GpubenchError("column gpu_count: must be at least 1", path=runs_path, line=row["_line"])
    seen: set[tuple] = set()
    kept = []
    orphans = 0
    for row in ds.results:
        if row["run_id"] not in kinds:
            orphans += 1  # left by an interrupted write; runs.csv is the commit point
            continue
        key = (row["run_id"], row["batch_size"], row["metric"], row["stat"])
        if key in seen:
            raise GpubenchError("the same run, batch size, metric and stat appear twice",
                                path=results_path, line=row["_line"])
        if isinstance(row["batch_size"], int) and row["batch_size"] < 1:
            raise GpubenchError("column batch_size: must be at least 1", path=results_path, line=row["_line"])
        if (row["batch_size"] is None) != (kinds[row["run_id"]] == "serving"):
            raise GpubenchError("column batch_size: needed for a static-batch run, empty for a serving run (its "
                                "load is in runs.csv)", path=results_path, line=row["_line"])
        seen.add(key)
        kept.append(row)
    ds.results = kept
    if orphans:
        ds.warnings.append(f"{results_path}: ignored {orphans} row(s) of runs not in runs.csv "
                           "(left by an interrupted write; the next import removes them)")


# ---------------------------------------------------------------- writing


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
    if not any((root / n).exists() for n in names):
        return Dataset(root=root)
    ds = load(root)
    if ds.version < SCHEMA_VERSION:  # writing it whole at the current version: keep the old files first
        migrate(root, ds.version)
    return ds


def add(
    root: Path,
    runs: list[Run],
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
    check_rows(results, RESULTS_CSV, display=RESULTS_CSV)
    check_rows(prices or [], PRICES_CSV, display=PRICES_CSV)
    check_rows(gpu_specs or [], GPU_SPECS_CSV, display=GPU_SPECS_CSV)
    with locked(root):
        ds = _empty_dataset(root)
        known = {r.run_id for r in ds.runs}
        new_runs = []
        for run in runs:
            if run.run_id in known:
                report.skipped.append(run.run_id)
            else:
                known.add(run.run_id)
                new_runs.append(run)
                report.added.append(run.run_id)
        new_ids = set(report.added)
        merged_results = ds.results + [r for r in results if r["run_id"] in new_ids]

        merged_prices, report.prices_added = merge_prices(ds.prices, prices or [])
        specs = ds.gpu_specs if gpu_specs is None else gpu_specs

        for rel, data in (raw_files or {}).items():
            target = root / rel
            if not target.exists():
                write_atomic(target, data)
        write_atomic(root / VERSION_FILE, f"{SCHEMA_VERSION}\n".encode())
        rows = {GPU_SPECS_CSV: specs, PRICES_CSV: merged_prices, RESULTS_CSV: merged_results,
                RUNS_CSV: [r.to_row() for r in ds.runs + new_runs]}
        for table in TABLES:  # runs.csv last: the commit point
            write_atomic(root / table, table_bytes(rows[table], table))
    return report


def price_key(p: Record) -> tuple:
    """What identifies a price snapshot: the setup, the day, and who sells it."""
    return (p["gpu"], p["gpu_count"], p["price_date"], p.get("provider") or None)


def merge_prices(known: list[Record], new: list[Record]) -> tuple[list[Record], int]:
    """Snapshots added to the known ones. The same snapshot again changes nothing; another price for the same
    setup, day and provider is refused, naming both (it is never silently dropped)."""
    merged = list(known)
    by_key = {price_key(p): p for p in merged}
    added = 0
    for p in new:
        old = by_key.get(price_key(p))
        if old is None:
            by_key[price_key(p)] = p
            merged.append(p)
            added += 1
        elif old["price_usd_per_hr"] != p["price_usd_per_hr"]:
            gpu, count, day, provider = price_key(p)
            raise GpubenchError(f"conflicting price for {count}x {gpu} on {day}" + (f" from {provider}" if provider
                                else "") + f": {p['price_usd_per_hr']:g} $/h, but prices.csv already has "
                                f"{old['price_usd_per_hr']:g} $/h (source {old.get('source_url') or 'not given'}); "
                                "remove that snapshot first ('gpubench price remove') if it is wrong",
                                path=PRICES_CSV)
    return merged, added


def rewrite(root: Path, change: Callable[[Dataset], T]) -> T:
    """Change data/ as a whole under the write lock: `change(dataset)` edits it in place (and returns what the
    caller wants back); every table is then written atomically, runs.csv last; raw files no run refers to any
    more are deleted after that."""
    root = Path(root)
    with locked(root):
        ds = load(root)
        before = referenced_raw(ds.runs)
        outcome = change(ds)
        rows = {GPU_SPECS_CSV: ds.gpu_specs, PRICES_CSV: ds.prices, RESULTS_CSV: ds.results,
                RUNS_CSV: [r.to_row() for r in ds.runs]}
        write_atomic(root / VERSION_FILE, f"{SCHEMA_VERSION}\n".encode())
        for table in TABLES:
            write_atomic(root / table, table_bytes(rows[table], table))
        _delete_unreferenced(root, before, referenced_raw(ds.runs))
    return outcome


def referenced_raw(runs: list[Run]) -> set[str]:
    """The raw files (paths under data/) runs refer to."""
    return {p for r in runs for p in (r.raw_path or "").split()}


def _delete_unreferenced(root: Path, before: set[str], after: set[str]) -> None:
    """Delete the raw files no run refers to any more, and the files kept beside them (a server's log, info,
    nvidia-smi) once no run refers to anything in their folder."""
    gone = before - after
    for rel in gone:
        (root / rel).unlink(missing_ok=True)
    for folder in {str(Path(rel).parent) for rel in gone}:
        if folder in (".", "raw") or any(ref.startswith(folder + "/") for ref in after):
            continue
        for path in (root / folder).glob("*"):
            if path.is_file():
                path.unlink()
        with contextlib.suppress(OSError):
            (root / folder).rmdir()


def result_rows(run_id: str, rows: Iterable[Record]) -> list[Record]:
    """Attach a run id to parsed (batch_size, metric, stat, value) rows."""
    return [{"run_id": run_id, **{k: r[k] for k in ("batch_size", "metric", "stat", "value")}} for r in rows]


__all__ = ["AddReport", "Dataset", "add", "collect_lock", "load", "locked", "result_rows"]
