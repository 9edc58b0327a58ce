"""From a parsed benchmark output to a run of data/: the one place a run is assembled, for imports and collects."""

from __future__ import annotations

import re
from pathlib import Path

from collector.data.errors import GpubenchError
from collector.data.records import Run, content_id, new_run
from collector.data.store import result_rows
from collector.data.tables import Record
from collector.parsers.tgi_benchmark import PARAMETERS, TOOL, ParsedBenchmark


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder or surprise a shell."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._")
    return cleaned or "output.txt"


def tgi_run(parsed: ParsedBenchmark, raw: bytes, *, source: str, raw_path: str, identity: tuple[str, ...] = (),
            **provenance: object) -> tuple[Run, list[Record]]:
    """The run and result rows of one parsed text-generation-benchmark output.

    Parameters printed by the tool win over the ones given, since they are what really ran; a conflict is an error.
    The run id covers the raw output and `identity` (what it was measured on), so importing it again adds nothing.
    """
    values: dict[str, object] = {k: v for k, v in provenance.items() if v is not None}
    for p in PARAMETERS:
        printed = parsed.parameters.get(p.name)
        given = values.get(p.name)
        if printed is not None and given is not None and str(given) != str(printed):
            raise GpubenchError(f"{p.name} given as {given} but the output says {printed}", path=parsed.path)
        if printed is not None:
            values[p.name] = printed
    values.setdefault("engine", "tgi")
    values.update(benchmark_kind="static_batch", benchmark_tool=TOOL)
    if parsed.failed_batch_sizes:
        values["validity_flags"] = ["failed_batches"]
        values["validity_notes"] = "failed batch sizes: " + " ".join(map(str, parsed.failed_batch_sizes))
    run_id = content_id(raw, *identity)
    values.update(run_id=run_id, source=source, raw_path=raw_path, batch_sizes=parsed.batch_sizes,
                  failed_batch_sizes=parsed.failed_batch_sizes,
                  prefill_throughput_formula=parsed.prefill_throughput_formula)
    run = new_run(values, where=parsed.path)
    return run, result_rows(run_id, parsed.rows)


def price_snapshot(run: Run) -> Record:
    """The dated price a run was measured at, as a row of prices.csv. Its provider is the run's own, so that the
    snapshot prices the run (and no other provider's runs)."""
    if run.price_date is None:
        raise GpubenchError("a price needs its date (--price-date YYYY-MM-DD)", path="price")
    return {"gpu": run.gpu, "gpu_count": run.gpu_count, "price_usd_per_hr": run.price_usd_per_hr,
            "price_date": run.price_date, "provider": run.provider, "source_url": run.price_source}
