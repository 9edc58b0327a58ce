"""What a server start brought back, turned into runs of data/ with their provenance and raw files: one run for
TGI's static-batch benchmark, one run per point of a serving sweep (a failed point is kept as a failed run)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
from dataclasses import dataclass, field
from types import ModuleType

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.records import Run, content_id
from collector.data.tables import Record, write_atomic
from collector.fleet.containers import ImageInfo
from collector.fleet.inventory import Host, LoadPoint
from collector.fleet.preflight import HostFacts
from collector.fleet.serving_client import PointOutput
from collector.fleet.terminal import BenchmarkCapture
from collector.importers.runs import price_snapshot, tgi_run
from collector.importers.serving import complete_from, failed_run, serving_run
from collector.parsers.secrets import redact_text
from collector.parsers.serving import parse_serving_output
from collector.parsers.tgi_benchmark import parse_tgi_benchmark


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class ServerOutcome:
    """One server start: what it said about itself, its log, and what each benchmark gave."""

    host: Host  # this engine's view of the inventory host
    engine: ModuleType
    image: ImageInfo
    measured_at: str
    info: dict = field(default_factory=dict)
    log_text: str = ""
    capture: BenchmarkCapture | None = None  # TGI's static batches
    points: list[tuple[LoadPoint, PointOutput]] = field(default_factory=list)  # serving sweep

    @property
    def engine_version(self) -> str | None:
        return self.engine.server_version(self.info) or self.image.version_label

    @property
    def sweep_id(self) -> str:
        return content_id(self.host.name, self.engine.NAME, self.measured_at)


def provenance(outcome: ServerOutcome, facts: HostFacts) -> dict[str, object]:
    """Where, on what and how the runs of a server start were measured: the host itself first, the inventory
    second."""
    host, gpus, info = outcome.host, facts.gpus, outcome.info
    return dict(
        source="collected", measured_at=outcome.measured_at, host=host.name, gpu=host.gpu, gpu_count=gpus.count,
        gpu_name_reported=gpus.model or None, gpu_memory_mib=gpus.memory_mib[0], num_shard=host.num_shard,
        engine=outcome.engine.NAME, engine_version=outcome.engine_version, image=host.image,
        image_digest=outcome.image.digest or outcome.image.image_id, driver_version=gpus.driver_version,
        cuda_version=gpus.cuda_version, model_id=outcome.engine.served_model(info) or host.model,
        model_revision=info.get("model_sha") or host.revision, dtype=info.get("model_dtype") or host.dtype,
        quantize=host.quantize, launcher_args=shlex.join(outcome.engine.extra_args(host)) or None,
        provider=host.provider, price_usd_per_hr=host.price.usd_per_hr, price_date=host.price.date,
        price_source=host.price.source,
    )


def server_files(outcome: ServerOutcome, facts: HostFacts, mask) -> dict[str, bytes]:
    """The files every server start keeps: what it said about itself, its log, and the GPUs it ran on."""
    return {"info.json": mask(json.dumps(outcome.info, indent=2, sort_keys=True)).encode(),
            "nvidia-smi.txt": facts.smi_text.encode(), "server.log": mask(outcome.log_text).encode()}


def save_static_batch(data_dir, outcome: ServerOutcome, facts: HostFacts, mask) -> tuple[list[str], str]:
    """TGI's benchmark capture as a run (the batches before a hang are kept, and the hang said). Returns the run
    ids and a one-line summary."""
    capture, host = outcome.capture, outcome.host
    assert capture is not None
    raw = mask(capture.raw.decode("utf-8", "replace")).encode()
    parsed = parse_tgi_benchmark(raw, path=f"{host.name}:benchmark.txt", engine_version=outcome.engine_version)
    identity = (host.name, outcome.measured_at)
    base = f"raw/{content_id(raw, *identity)}"
    values = provenance(outcome, facts)
    if capture.timed_out:
        values["failure_reason"] = hang_reason(capture, host)
    elif capture.failed_batch:
        values["notes"] = "a batch failed (see failed_batch_sizes)"
    run, results = tgi_run(parsed, raw, raw_path=f"{base}/benchmark.txt", identity=identity, **values)
    files = {"benchmark.txt": raw, **server_files(outcome, facts, mask)}
    _add(data_dir, [run], results, {f"{base}/{k}": v for k, v in files.items()})
    failed = f", failed batch sizes {parsed.failed_batch_sizes}" if parsed.failed_batch_sizes else ""
    return [run.run_id], f"{len(parsed.batch_sizes)} batch sizes{failed}"


def hang_reason(capture: BenchmarkCapture, host: Host) -> str:
    """Which batch size a benchmark hung in (the screen's last "batches k/n done": the (k+1)-th), for the record:
    the tables printed on q hold that batch's runs done so far, and NaN for the batches after it."""
    match = re.search(r"batches (\d+)/", capture.last_progress or "")
    sizes = host.benchmark.batch_sizes
    where = f"in batch size {sizes[int(match.group(1))]}" if match and int(match.group(1)) < len(sizes) else ""
    return (f"benchmark hung {where} ({capture.last_progress or 'no progress shown'}): stopped at the "
            f"{host.benchmark_timeout_s:.0f} s limit; that batch's numbers cover only the runs done")


def save_serving_sweep(data_dir, outcome: ServerOutcome, facts: HostFacts, mask) -> tuple[list[str], str]:
    """Every point of a serving sweep as a run of one sweep; a point without results is a failed run."""
    values = provenance(outcome, facts)
    base = f"raw/{outcome.sweep_id}"
    raw_files = {f"{base}/{k}": v for k, v in server_files(outcome, facts, mask).items()}
    runs: list[Run] = []
    results: list[Record] = []
    for point, output in outcome.points:
        name = f"{outcome.engine.NAME}-{point.label()}"
        capture = mask(output.capture.decode("utf-8", "replace"))
        result = redact_text(mask(output.result.decode("utf-8", "replace")))[0] if output.result else None
        paths = {"txt": f"{base}/{name}.txt", **({"json": f"{base}/{name}.json"} if result else {})}
        raw_files[paths["txt"]] = capture.encode()
        if result:
            raw_files[paths["json"]] = result.encode()
        run_id = content_id(result or capture, outcome.host.name, outcome.measured_at, name)
        raw_path = " ".join(paths[k] for k in ("json", "txt") if k in paths)
        run, rows = _point_run(point, output, capture, result, run_id, raw_path, outcome, values)
        runs.append(run)
        results += rows
    _add(data_dir, runs, results, raw_files)
    failed = [r for r in runs if r.status == "failed"]
    return [r.run_id for r in runs], (f"{len(runs)} load points" + (f", {len(failed)} failed" if failed else ""))


def _point_run(point: LoadPoint, output: PointOutput, capture: str, result: str | None, run_id: str, raw_path: str,
               outcome: ServerOutcome, values: dict) -> tuple[Run, list[Record]]:
    values = {**values, "sweep_id": outcome.sweep_id}
    try:
        context = parse_serving_output(capture, raw_path.split()[-1])
    except GpubenchError:
        context = []
    if result is None:
        reason = point_failure(output, capture)
        run = failed_run(capture, reason, run_id=run_id, raw_path=raw_path, engine=outcome.engine.NAME,
                         max_concurrency=point.max_concurrency, num_prompts=point.num_prompts,
                         **{k: v for k, v in values.items() if k not in ("engine",)})
        return run.replace(benchmark_tool=outcome.host.tool), []
    parsed = parse_serving_output(result, raw_path.split()[0])[-1]  # an appended file: the newest line
    complete_from(parsed, context)
    _fill_from_command(parsed, outcome.host, point)
    return serving_run(parsed, run_id=run_id, raw_path=raw_path, **values)


def _fill_from_command(result, host: Host, point: LoadPoint) -> None:
    """What gpubench asked for, where the result file does not say (SGLang's JSON has no num_prompts, no
    ignore-EOS): gpubench wrote the command line, so these are facts, not guesses."""
    w, asked = result.workload, host.workload
    for name, value in (("num_prompts", point.num_prompts), ("max_concurrency", point.max_concurrency),
                        ("input_len", asked.input_len), ("output_len", asked.output_len),
                        ("ignore_eos", asked.ignore_eos), ("seed", asked.seed), ("dataset_name", asked.dataset)):
        if getattr(w, name) is None:
            setattr(w, name, value)
    if result.requested_output_tokens is None and asked.ignore_eos and asked.range_ratio is None and w.num_prompts:
        result.requested_output_tokens = w.num_prompts * w.output_len


def point_failure(output: PointOutput, capture: str) -> str:
    """Why a point has no result, in one line: the time limit, or the client's last error line."""
    if output.timed_out:
        return "the benchmark client did not finish within the time limit"
    lines = [line.strip() for line in capture.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    last = (errors or lines or ["no output"])[-1][-300:]
    return f"the benchmark client exited {output.exit_code} without a result: {last}"


def _add(data_dir, runs: list[Run], results: list[Record], raw_files: dict[str, bytes]) -> None:
    prices = [price_snapshot(run) for run in runs[:1] if run.price_usd_per_hr is not None]
    store.add(data_dir, runs, results, prices=prices, raw_files=raw_files)


def save_failure(logs_dir, host_name: str, artifacts: dict[str, bytes]) -> str:
    """Keep what a failed server start left (its log above all) under logs/, and say where."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = logs_dir / f"{host_name}-{stamp}"
    for name, data in artifacts.items():
        write_atomic(folder / name, data)
    return str(folder)
