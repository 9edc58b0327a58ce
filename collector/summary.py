"""A terminal summary of data/: what was measured, per model and setup."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from collector.data import store
from collector.data.tables import Record


def decode_throughput(results: list[Record], run_id: str) -> dict[int, float | None]:
    """Average decode tokens/s per batch size of one run (None where the batch failed)."""
    return {int(r["batch_size"]): r["value"] for r in results
            if r["run_id"] == run_id and r["metric"] == "decode_throughput_tok_per_s" and r["stat"] == "avg"}


def print_summary(data_dir: Path, console: Console | None = None) -> None:
    console = console or Console()
    ds = store.load(data_dir)
    for warning in ds.warnings:
        console.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)
    if not ds.runs:
        console.print(f"{data_dir}: no runs yet. Import outputs with 'gpubench import' or collect with "
                      "'gpubench collect'.")
        return
    models = sorted({(r.model_id or "(model not recorded)") for r in ds.runs})
    for model in models:
        table = Table(title=model, title_justify="left")
        for name, justify in (("Setup", "left"), ("Source", "left"), ("Batch sizes", "left"),
                              ("Decode tok/s @1", "right"), ("Decode tok/s @max", "right"), ("$/hour", "right")):
            table.add_column(name, justify=justify)
        runs = [r for r in ds.runs if (r.model_id or "(model not recorded)") == model]
        for run in sorted(runs, key=lambda r: (r.gpu, r.gpu_count)):
            speeds = decode_throughput(ds.results, run.run_id)
            largest = max(speeds) if speeds else None
            table.add_row(
                f"{run.gpu_count}x {run.gpu}",
                str(run.source),
                " ".join(str(b) for b in run.batch_sizes or []),
                _number(speeds.get(1)),
                f"{_number(speeds.get(largest))} (b={largest})" if largest else "n/a",
                "n/a" if run.price_usd_per_hr is None else f"{run.price_usd_per_hr:.2f}",
            )
        console.print(table, markup=False, highlight=False)
    console.print(f"{len(ds.runs)} runs, {len(ds.results)} results in {data_dir}")


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"
