"""Import a table of averages transcribed from a publication (one row per model, setup and batch size), with a
YAML file stating what the publication says about every row."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import yaml

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.records import content_id, new_run
from collector.data.schema import Column
from collector.data.units import prefill_tok_per_s
from collector.data.values import parse_value
from collector.importers.runs import price_snapshot, safe_name

TABLE_COLUMNS = ("model", "config", "num_shard", "price_usd_per_hr", "batch_size", "prefill_latency_ms_avg",
                 "decode_token_latency_ms_avg", "decode_total_latency_ms_avg", "prefill_throughput_avg_seq_per_s",
                 "decode_throughput_avg_tok_per_s", "source_url")
TABLE_METRICS = {
    "prefill_latency_ms_avg": "prefill_latency_ms",
    "decode_token_latency_ms_avg": "decode_token_latency_ms",
    "decode_total_latency_ms_avg": "decode_total_latency_ms",
    "prefill_throughput_avg_seq_per_s": "prefill_throughput_seq_per_s",
    "decode_throughput_avg_tok_per_s": "decode_throughput_tok_per_s",
}
CONFIG = re.compile(r"^(\d+)\s*x\s*(\S.*)$")
META_KEYS = {"publisher", "provider", "published_at", "reports", "run", "notes"}


def load_table_meta(path: Path) -> dict:
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise GpubenchError(f"invalid YAML: {getattr(e, 'problem', e)}", path=str(path),
                            line=mark.line + 1 if mark else None) from None
    except OSError as e:
        raise GpubenchError(f"cannot read: {e.strerror}", path=str(path)) from None
    if not isinstance(meta, dict):
        raise GpubenchError("expected a mapping with publisher, published_at, reports, run", path=str(path))
    unknown = set(meta) - META_KEYS
    if unknown:
        raise GpubenchError(f"unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(META_KEYS))}",
                            path=str(path))
    for key in ("published_at", "reports", "run"):
        if key not in meta:
            raise GpubenchError(f"missing key {key}", path=str(path))
    if not isinstance(meta.get("provider", ""), (str, type(None))):
        raise GpubenchError(f"provider: {meta['provider']!r} is not a name", path=str(path))
    if isinstance(meta["run"], dict) and "provider" in meta["run"]:  # one place says it, for runs and prices alike
        raise GpubenchError("run.provider: give provider at the top level, beside publisher", path=str(path))
    return meta


def meta_provider(meta: dict) -> str | None:
    """Who ran the GPUs of every row: `provider:`, else the publisher (a cloud benchmarking its own machines, as
    the bundled posts do). An explicit empty `provider:` says unknown, and is not replaced by the publisher."""
    return meta["provider"] if "provider" in meta else meta.get("publisher")


def import_transcribed_table(data_dir: Path, table_path: Path, meta_path: Path) -> store.AddReport:
    """Import a CSV of averages read off a publication (one row per model, setup and batch size).

    The meta file states what the publication says for every row (engine, image, benchmark parameters, date,
    report URL per model); the CSV and the meta file are kept under data/raw/ unchanged."""
    meta = load_table_meta(meta_path)
    raw = table_path.read_bytes()
    display = str(table_path)
    base = Path("raw") / "transcribed" / safe_name(table_path.stem)
    raw_path = str(base / safe_name(table_path.name))
    raw_files = {raw_path: raw, str(base / safe_name(meta_path.name)): meta_path.read_bytes()}
    runs, results, prices = [], [], []
    for (model, config), rows in _setups(raw, display).items():
        where = (display, rows[0][0])
        if model not in meta["reports"]:
            raise GpubenchError(f"model {model!r} has no report URL in {meta_path.name}", path=where[0],
                                line=where[1])
        run_id = content_id(table_path.name, model, config, *(",".join(r.values()) for _, r in rows))
        batches, rows_of_run = _results(run_id, rows, display, meta["run"].get("sequence_length"))
        run = new_run({**_setup_values(model, config, rows, where, meta), "run_id": run_id, "raw_path": raw_path,
                       "batch_sizes": batches}, where=f"{display}:{where[1]}")
        runs.append(run)
        results += rows_of_run
        if run.price_usd_per_hr is not None:
            snapshot = price_snapshot(run)
            if snapshot not in prices:
                prices.append(snapshot)
    return store.add(data_dir, runs, results, raw_files=raw_files, prices=prices)


def _setups(raw: bytes, display: str) -> dict[tuple[str, str], list[tuple[int, dict]]]:
    """The table's rows grouped by (model, config), each with its line number."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise GpubenchError("not UTF-8 text", path=display) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != TABLE_COLUMNS:
        raise GpubenchError("header must be " + ",".join(TABLE_COLUMNS), path=display, line=1)
    groups: dict[tuple[str, str], list[tuple[int, dict]]] = {}
    for row in reader:
        groups.setdefault((row["model"], row["config"]), []).append((reader.line_num, row))
    return groups


def _setup_values(model: str, config: str, rows: list[tuple[int, dict]], where: tuple[str, int],
                  meta: dict) -> dict[str, object]:
    """The run fields of one setup: the meta file's, the setup's, and the cells every row of it must share."""
    match = CONFIG.match(config)
    if not match:
        raise GpubenchError(f"column config: {config!r} is not '<count>x<GPU>'", path=where[0], line=where[1])
    shared = {k: rows[0][1][k] for k in ("num_shard", "price_usd_per_hr", "source_url")}
    for line, row in rows:
        for key, value in shared.items():
            if row[key] != value:
                raise GpubenchError(f"column {key}: {row[key]!r} differs from {value!r} on line {where[1]} "
                                    f"for the same setup", path=where[0], line=line)
    values = {**meta["run"], "source": "transcribed", "source_url": shared["source_url"],
              "published_at": meta.get("published_at"), "provider": meta_provider(meta),
              "gpu": match.group(2).strip(), "gpu_count": int(match.group(1)), "num_shard": shared["num_shard"] or None,
              "model_id": model, "price_usd_per_hr": shared["price_usd_per_hr"] or None, "notes": meta.get("notes"),
              "failed_batch_sizes": [], "benchmark_kind": "static_batch",
              "benchmark_tool": "text-generation-benchmark"}
    if values["price_usd_per_hr"] is not None:
        values["price_date"] = meta.get("published_at")
        values["price_source"] = meta["reports"][model]
    return values


def _results(run_id: str, rows: list[tuple[int, dict]], display: str, seq_len: int | None):
    """The batch sizes and result rows of one setup (averages only: that is what was transcribed)."""
    batches, results = [], []
    for line, row in rows:
        batch = parse_value(row["batch_size"], Column("batch_size", "int", "", True), path=display, line=line)
        batches.append(batch)
        for column, metric in TABLE_METRICS.items():
            value = parse_value(row[column], Column(column, "float", ""), path=display, line=line)
            results.append({"run_id": run_id, "batch_size": batch, "metric": metric, "stat": "avg", "value": value})
            if metric == "prefill_throughput_seq_per_s" and seq_len:
                results.append({"run_id": run_id, "batch_size": batch, "metric": "prefill_throughput_tok_per_s",
                                "stat": "avg", "value": prefill_tok_per_s(value, seq_len)})
    return batches, results
