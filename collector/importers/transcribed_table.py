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
META_KEYS = {"publisher", "published_at", "reports", "run", "notes"}


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
    return meta


def import_transcribed_table(data_dir: Path, table_path: Path, meta_path: Path) -> store.AddReport:
    """Import a CSV of averages read off a publication (one row per model, setup and batch size).

    The meta file states what the publication says for every row (engine, image, benchmark parameters, date,
    report URL per model); the CSV and the meta file are kept under data/raw/ unchanged."""
    meta = load_table_meta(meta_path)
    raw = table_path.read_bytes()
    display = str(table_path)
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

    base = Path("raw") / "transcribed" / safe_name(table_path.stem)
    raw_files = {str(base / safe_name(table_path.name)): raw, str(base / safe_name(meta_path.name)): meta_path.read_bytes()}
    run_defaults = dict(meta["run"])
    seq_len = run_defaults.get("sequence_length")
    runs, results, prices = [], [], []
    for (model, config), rows in groups.items():
        first_line = rows[0][0]
        match = CONFIG.match(config)
        if not match:
            raise GpubenchError(f"column config: {config!r} is not '<count>x<GPU>'", path=display, line=first_line)
        gpu_count, gpu = int(match.group(1)), match.group(2).strip()
        if model not in meta["reports"]:
            raise GpubenchError(f"model {model!r} has no report URL in {meta_path.name}", path=display,
                                line=first_line)
        shared = {k: rows[0][1][k] for k in ("num_shard", "price_usd_per_hr", "source_url")}
        for line, row in rows:
            for key, value in shared.items():
                if row[key] != value:
                    raise GpubenchError(f"column {key}: {row[key]!r} differs from {value!r} on line {first_line} "
                                        f"for the same setup", path=display, line=line)
        run_id = content_id(table_path.name, model, config, *(",".join(r.values()) for _, r in rows))
        values = {
            **run_defaults,
            "run_id": run_id,
            "source": "transcribed",
            "source_url": shared["source_url"],
            "raw_path": str(base / safe_name(table_path.name)),
            "published_at": meta.get("published_at"),
            "gpu": gpu,
            "gpu_count": gpu_count,
            "num_shard": shared["num_shard"] or None,
            "model_id": model,
            "price_usd_per_hr": shared["price_usd_per_hr"] or None,
            "notes": meta.get("notes"),
        }
        if values["price_usd_per_hr"] is not None:
            values["price_date"] = meta.get("published_at")
            values["price_source"] = meta["reports"][model]
        batches = []
        for line, row in rows:
            batch = parse_value(row["batch_size"], Column("batch_size", "int", "", True), path=display, line=line)
            batches.append(batch)
            for column, metric in TABLE_METRICS.items():
                value = parse_value(row[column], Column(column, "float", ""), path=display, line=line)
                results.append({"run_id": run_id, "batch_size": batch, "metric": metric, "stat": "avg",
                                "value": value})
                if metric == "prefill_throughput_seq_per_s" and seq_len:
                    results.append({"run_id": run_id, "batch_size": batch, "metric": "prefill_throughput_tok_per_s",
                                    "stat": "avg", "value": prefill_tok_per_s(value, seq_len)})
        values["batch_sizes"] = batches
        values["failed_batch_sizes"] = []
        run = new_run(values, where=f"{display}:{first_line}")
        runs.append(run)
        if run.price_usd_per_hr is not None:
            snapshot = price_snapshot(run, provider=meta.get("publisher"))
            if snapshot not in prices:
                prices.append(snapshot)
    return store.add(data_dir, runs, results, raw_files=raw_files, prices=prices)
