"""Turn outputs into runs of data/: a benchmark output file with what the user tells about it, or a table of
averages transcribed from a publication."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import yaml

from collector import store
from collector.errors import GpubenchError
from collector.parsers.tgi_benchmark import ParsedBenchmark, parse_tgi_benchmark, read_output
from collector.schema import RUN_COLUMNS, Column
from collector.store import Record, parse_value

RUN_FIELDS = {c.name: c for c in RUN_COLUMNS}
# Benchmark parameters the tool prints in its parameter table; the run record takes them from there.
PARAMETER_FIELDS = ("tokenizer", "sequence_length", "decode_length", "n_runs", "warmups", "temperature", "top_k",
                    "top_p", "typical_p", "repetition_penalty", "frequency_penalty", "top_n_tokens", "watermark",
                    "do_sample")


def content_id(*parts: bytes | str) -> str:
    """A stable run id: the same content always gives the same id."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\x00")
    return h.hexdigest()[:16]


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder or surprise a shell."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._")
    return cleaned or "output.txt"


def validated_run(values: dict[str, object], *, where: str) -> Record:
    """A run record with every column present, checked against the schema (unknown -> None)."""
    unknown = sorted(set(values) - set(RUN_FIELDS))
    if unknown:
        raise GpubenchError(f"unknown run field(s): {', '.join(unknown)}", path=where)
    record: Record = {}
    for name, col in RUN_FIELDS.items():
        value = values.get(name)
        if value is not None and not isinstance(value, (list, bool)):
            value = _checked(value, col, where)
        elif value is None and col.required:
            raise GpubenchError(f"{name} is required", path=where)
        record[name] = value
    return record


def _checked(value: object, col: Column, where: str) -> object:
    return parse_value(str(value), col, path=where, line=None)  # type: ignore[arg-type]


def tgi_run(parsed: ParsedBenchmark, raw: bytes, *, source: str, raw_path: str, identity: tuple[str, ...] = (),
            **provenance: object) -> tuple[Record, list[Record]]:
    """The run record and result rows of one parsed text-generation-benchmark output.

    Parameters printed by the tool win over the ones given, since they are what really ran; a conflict is an error.
    """
    values: dict[str, object] = {k: v for k, v in provenance.items() if v is not None}
    for key in PARAMETER_FIELDS:
        printed = parsed.parameters.get(key)
        given = values.get(key)
        if printed is not None and given is not None and str(given) != str(printed):
            raise GpubenchError(f"{key} given as {given} but the output says {printed}", path=parsed.path)
        if printed is not None:
            values[key] = printed
    values.setdefault("engine", "tgi")
    values["source"] = source
    values["raw_path"] = raw_path
    values["batch_sizes"] = parsed.batch_sizes
    values["failed_batch_sizes"] = parsed.failed_batch_sizes
    values["prefill_throughput_formula"] = parsed.prefill_throughput_formula
    run_id = content_id(raw, *identity)
    values["run_id"] = run_id
    run = validated_run(values, where=parsed.path)
    return run, store.result_rows(run_id, parsed.rows)


def import_tgi_outputs(data_dir: Path, files: list[Path], *, on_warning=print, **provenance: object) -> store.AddReport:
    """Parse every file first (so a bad one leaves data/ untouched), then add them all in one write."""
    runs, results, raw_files = [], [], {}
    for path in files:
        raw = read_output(path)
        parsed = parse_tgi_benchmark(raw, path=str(path), sequence_length=provenance.get("sequence_length"),
                                     engine_version=provenance.get("engine_version"))
        for warning in parsed.warnings:
            on_warning(f"warning: {warning}")
        # The id covers what was measured and on what, so the same output imported twice is one run.
        identity = tuple(str(provenance.get(k) or "") for k in ("gpu", "gpu_count", "model_id"))
        run_id = content_id(raw, *identity)
        raw_path = f"raw/{run_id}/{safe_name(path.name)}"
        run, rows = tgi_run(parsed, raw, source="imported", raw_path=raw_path, identity=identity, **provenance)
        runs.append(run)
        results.extend(rows)
        raw_files[raw_path] = raw
    prices = [price_snapshot(run) for run in runs if run.get("price_usd_per_hr") is not None]
    return store.add(data_dir, runs, results, raw_files=raw_files, prices=prices)


def price_snapshot(run: Record) -> Record:
    if run.get("price_date") is None:
        raise GpubenchError("a price needs its date (--price-date YYYY-MM-DD)", path="price")
    return {"gpu": run["gpu"], "gpu_count": run["gpu_count"], "price_usd_per_hr": run["price_usd_per_hr"],
            "price_date": run["price_date"], "provider": None, "source_url": run.get("price_source")}


# ---------------------------------------------------------------- transcribed tables

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
                                    "stat": "avg", "value": None if value is None else round(value * seq_len, 6)})
        values["batch_sizes"] = batches
        values["failed_batch_sizes"] = []
        run = validated_run(values, where=f"{display}:{first_line}")
        runs.append(run)
        if run["price_usd_per_hr"] is not None:
            snapshot = price_snapshot(run)
            snapshot["provider"] = meta.get("publisher")
            if snapshot not in prices:
                prices.append(snapshot)
    return store.add(data_dir, runs, results, raw_files=raw_files, prices=prices)


def import_gpu_specs(data_dir: Path, specs_path: Path) -> int:
    """Replace data/'s reference GPU figures with a datasheet table (`NA` means not supported: kept empty)."""
    raw = specs_path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise GpubenchError("not UTF-8 text", path=str(specs_path)) from None
    rows = store.read_table_text(text, "gpu_specs.csv", display=str(specs_path), missing_marks=("NA",))
    for row in rows:
        row.pop("_line")
    base = Path("raw") / "reference"
    store.add(data_dir, [], [], raw_files={str(base / safe_name(specs_path.name)): raw}, gpu_specs=rows)
    return len(rows)
