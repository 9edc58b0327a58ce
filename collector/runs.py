"""`gpubench runs list|show|remove`: the runs of data/, each with its provenance, numbers and raw files."""

from __future__ import annotations

from pathlib import Path

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.pricing import price_at_run
from collector.data.records import Run
from collector.data.tables import Record


def find_runs(runs: list[Run], ids: list[str]) -> list[Run]:
    """The runs named by id (or an unambiguous prefix of one); an unknown id is an error naming it."""
    found = []
    for wanted in ids:
        hits = [r for r in runs if r.run_id.startswith(wanted)]
        if len(hits) != 1:
            what = "no run" if not hits else f"{len(hits)} runs"
            raise GpubenchError(f"{what} with id {wanted!r} in data/ ('gpubench runs list' shows them)")
        found.append(hits[0])
    return found


def list_runs(data_dir: Path, *, model: str | None = None, gpu: str | None = None,
              engine: str | None = None) -> list[Run]:
    runs = store.load(data_dir).runs
    for value, field in ((model, "model_id"), (gpu, "gpu"), (engine, "engine")):
        if value:
            runs = [r for r in runs if value.lower() in str(getattr(r, field) or "").lower()]
    return runs


def show_run(data_dir: Path, run_id: str) -> tuple[Run, list[Record], str]:
    """A run, its results, and the price it is costed at (described)."""
    ds = store.load(data_dir)
    (run,) = find_runs(ds.runs, [run_id])
    quote = price_at_run(run, ds.prices)
    return run, [r for r in ds.results if r["run_id"] == run.run_id], quote.describe() if quote else "n/a"


def remove_runs(data_dir: Path, run_ids: list[str]) -> list[Run]:
    """Remove runs with their results and the raw files no other run refers to, atomically under the lock."""
    def change(ds: store.Dataset) -> list[Run]:
        gone = find_runs(ds.runs, run_ids)
        ids = {r.run_id for r in gone}
        ds.runs = [r for r in ds.runs if r.run_id not in ids]
        ds.results = [r for r in ds.results if r["run_id"] not in ids]
        return gone

    return store.rewrite(data_dir, change)
