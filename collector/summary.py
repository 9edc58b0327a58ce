"""A terminal summary of data/: what was measured, per model and setup, for static batches and serving runs."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from collector.data import store
from collector.data.records import Run
from collector.data.tables import Record

NO_MODEL = "(model not recorded)"


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
    values: dict[str, dict[tuple, float | None]] = {}
    for r in ds.results:
        values.setdefault(r["run_id"], {})[(r["metric"], r["stat"])] = r["value"]
    for model in sorted({r.model_id or NO_MODEL for r in ds.runs}):
        runs = [r for r in ds.runs if (r.model_id or NO_MODEL) == model]
        static = [r for r in runs if r.benchmark_kind == "static_batch"]
        serving = [r for r in runs if r.benchmark_kind == "serving"]
        if static:
            console.print(_static_table(f"{model}: static batches{_at(static)}", static, ds.results), markup=False,
                          highlight=False)
        if serving:
            console.print(_serving_table(f"{model}: serving{_at(serving)}", serving, values), markup=False,
                          highlight=False)
    console.print(f"{len(ds.runs)} runs, {len(ds.results)} results in {data_dir}")


def _static_table(title: str, runs: list[Run], results: list[Record]) -> Table:
    table = _table(title, ("Setup", "Source", "Batch sizes", "Decode tok/s @1", "Decode tok/s @max", "$/hour"))
    for run in sorted(runs, key=lambda r: (r.gpu, r.gpu_count)):
        speeds = decode_throughput(results, run.run_id)
        largest = max(speeds) if speeds else None
        table.add_row(_setup(run, runs), str(run.source), " ".join(str(b) for b in run.batch_sizes),
                      _number(speeds.get(1)), f"{_number(speeds.get(largest))} (b={largest})" if largest else "n/a",
                      _price(run))
    return table


def _serving_table(title: str, runs: list[Run], values: dict) -> Table:
    table = _table(title, ("Setup", "Engine", "Concurrency", "Output tok/s", "TTFT p50 ms", "TPOT p50 ms",
                           "$/hour", "$/M output tokens", "Flags"))
    for run in sorted(runs, key=lambda r: (r.gpu, r.gpu_count, r.engine, r.max_concurrency or 0)):
        v = values.get(run.run_id, {})
        tok_s = v.get(("output_throughput_tok_per_s", "value"))
        cost = (run.price_usd_per_hr / (tok_s * 3600 / 1e6)) if run.price_usd_per_hr is not None and tok_s else None
        flags = "failed: " + (run.failure_reason or "")[:40] if run.status == "failed" else " ".join(run.validity_flags)
        table.add_row(_setup(run, runs), f"{run.engine} {run.engine_version or ''}".strip(),
                      str(run.max_concurrency or "n/a"), _number(tok_s), _number(v.get(("ttft_ms", "median"))),
                      _number(v.get(("tpot_ms", "median"))), _price(run), "n/a" if cost is None else f"{cost:.2f}",
                      flags)
    return table


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, justify="left" if name in ("Setup", "Source", "Batch sizes", "Engine", "Flags")
                         else "right")
    return table


def _at(runs: list[Run]) -> str:
    """Whose GPUs a table's runs ran on, in its title, when they all name the same provider."""
    providers = {r.provider for r in runs}
    return f" (at {providers.pop()})" if len(providers) == 1 and None not in providers else ""


def _setup(run: Run, runs: list[Run]) -> str:
    """The GPUs, and whose they were when the table mixes providers (the same GPUs cost differently elsewhere)."""
    mixed = len({r.provider for r in runs}) > 1
    return f"{run.gpu_count}x {run.gpu}" + (f" at {run.provider or 'unknown provider'}" if mixed else "")


def _price(run: Run) -> str:
    return "n/a" if run.price_usd_per_hr is None else f"{run.price_usd_per_hr:.2f}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"
