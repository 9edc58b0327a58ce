"""Import text-generation-benchmark output files, with what the user tells about them (GPU, model, price...)."""

from __future__ import annotations

from pathlib import Path

from collector.data import store
from collector.importers.runs import price_snapshot, safe_name, tgi_run
from collector.parsers.text_input import read_output
from collector.parsers.tgi_benchmark import parse_tgi_benchmark


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
        run, rows = tgi_run(parsed, raw, source="imported", raw_path="", identity=identity, **provenance)
        run = run.replace(raw_path=f"raw/{run.run_id}/{safe_name(path.name)}")
        runs.append(run)
        results.extend(rows)
        raw_files[run.raw_path] = raw
    prices = [price_snapshot(run) for run in runs if run.price_usd_per_hr is not None]
    return store.add(data_dir, runs, results, raw_files=raw_files, prices=prices)
