"""Import benchmark output files (text-generation-benchmark, vllm bench serve, sglang.bench_serving) with what the
user tells about them (GPU, model, price, ...), and results trees, whose folders tell it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.records import Run, content_id
from collector.importers.results_tree import read_results_tree
from collector.importers.runs import price_snapshot, safe_name, tgi_run
from collector.importers.serving import serving_run
from collector.parsers import parse_output
from collector.parsers.secrets import redact_text
from collector.parsers.text_input import read_output
from collector.parsers.tgi_benchmark import ParsedBenchmark


def import_paths(data_dir: Path, paths: list[Path], *, on_warning=print, source_url: str | None = None,
                 provider: str | None = None, **provenance: object) -> store.AddReport:
    """Parse everything first (so a bad file leaves data/ untouched), then add it all in one write. A folder is a
    results tree (`<model>/<sku>/<timestamp>/`); a file needs at least `gpu` and `gpu_count`. `provider` (who ran
    the hosts) goes to every run, of files and trees, and to the price snapshots made from them."""
    provider = (provider or "").strip() or None
    provenance = {**provenance, "provider": provider}
    runs, results, raw_files, prices, redactions = [], [], {}, [], []
    files = [p for p in paths if not p.is_dir()]
    if files and not (provenance.get("gpu") and provenance.get("gpu_count")):
        raise GpubenchError("importing a file needs --gpu and --gpu-count (a results tree says them in its folder "
                            "names)", path=str(files[0]))
    shards, count = provenance.get("num_shard"), provenance.get("gpu_count")
    if shards and count and int(str(shards)) > int(str(count)):
        raise GpubenchError(f"--num-shard {shards} is more than the {count} GPU(s) of the instance")
    known = known_outputs(data_dir)
    for folder in (p for p in paths if p.is_dir()):
        tree = read_results_tree(folder, source_url=source_url, provider=provider)
        runs, results, prices, redactions = runs + tree.runs, results + tree.results, prices + tree.prices, \
            redactions + tree.redactions
        raw_files.update(tree.raw_files)
    sweep = content_id(*(str(provenance.get(k) or "") for k in ("gpu", "gpu_count", "model_id", "measured_at")))
    for path in files:
        raw = read_output(path)
        _refuse_second_setup(raw, path, known, provenance)
        kept, redacted = redact_text(raw, path=str(path))
        redactions += [f"{path}: {r}" for r in redacted]
        # The id covers what was measured and on what, so the same output imported twice is one run.
        identity = tuple(str(provenance.get(k) or "") for k in ("gpu", "gpu_count", "model_id"))
        outputs = parse_output(raw, str(path), sequence_length=provenance.get("sequence_length"),
                               engine_version=provenance.get("engine_version"))
        for i, parsed in enumerate(outputs):
            for warning in parsed.warnings:
                on_warning(f"warning: {warning}")
            run_id = content_id(raw, *identity, *([str(i)] if i else []))
            raw_path = f"raw/{content_id(raw, *identity)}/{safe_name(path.name)}"
            if isinstance(parsed, ParsedBenchmark):
                model = _model_of(parsed, path, provenance)
                run, rows = tgi_run(parsed, raw, source="imported", raw_path=raw_path, identity=identity,
                                    source_url=source_url, **{**provenance, "model_id": model})
            else:
                run, rows = serving_run(parsed, run_id=run_id, raw_path=raw_path, source="imported",
                                        source_url=source_url, sweep_id=sweep, **_serving_fields(provenance))
            runs.append(run)
            results.extend(rows)
            raw_files[raw_path] = kept.encode("utf-8") if redacted else raw
    prices += [p for p in (price_snapshot(r) for r in runs if r.price_usd_per_hr is not None) if p not in prices]
    report = store.add(data_dir, runs, results, raw_files=raw_files, prices=prices)
    report.redactions = redactions
    return report


def known_outputs(data_dir: Path) -> dict[str, Run]:
    """The runs of data/ by the content hash of their raw files (to recognize an output imported before)."""
    try:
        ds = store.load(data_dir)
    except GpubenchError:
        return {}  # a new data folder (or one the import will refuse anyway)
    found: dict[str, Run] = {}
    for run in ds.runs:
        for rel in (run.raw_path or "").split():
            path = Path(data_dir) / rel
            if path.is_file():
                found.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), run)
    return found


def _refuse_second_setup(raw: bytes, path: Path, known: dict[str, Run], provenance: dict) -> None:
    """The same output cannot have run on two setups: refuse it under another GPU label, naming the run."""
    run = known.get(hashlib.sha256(raw).hexdigest())
    if run is None:
        return
    setup = (provenance.get("gpu"), int(str(provenance.get("gpu_count") or 0)))
    if setup != (run.gpu, run.gpu_count):
        raise GpubenchError(f"this output is already in data/ as run {run.run_id} on {run.gpu_count}x {run.gpu}: the "
                            f"same output cannot come from {setup[1]}x {setup[0]} too ('gpubench runs remove "
                            f"{run.run_id}' first if that label was wrong)", path=str(path))


def _model_of(parsed: ParsedBenchmark, path: Path, provenance: dict) -> object:
    """The model a run served: --model, else the output's own Model row. A run without one would mislead every page
    it lands on: refused."""
    model = provenance.get("model_id") or parsed.parameters.get("tokenizer")
    if not model:
        raise GpubenchError("no model: the output has no parameter table naming it; pass --model", path=str(path))
    return model


def _serving_fields(provenance: dict[str, object]) -> dict[str, object]:
    """The user's facts that apply to a serving run (the TGI benchmark's parameters do not)."""
    return {k: v for k, v in provenance.items() if k not in ("sequence_length",)}
