"""One host's run: preflight, image, server, readiness, benchmark, raw files, data/ — and always the cleanup."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.records import Run, content_id
from collector.data.tables import write_atomic
from collector.engines import tgi
from collector.fleet import containers, preflight, terminal
from collector.fleet.inventory import Host
from collector.fleet.readiness import Cancelled, wait_until_ready
from collector.fleet.ssh import SshOptions, connect
from collector.importers.runs import price_snapshot, tgi_run
from collector.parsers.tgi_benchmark import parse_tgi_benchmark

PHASES = ("queued", "connecting", "preflight", "image", "starting", "loading", "benchmark", "saving", "cleanup",
          "done", "failed", "skipped", "cancelled")


@dataclass
class HostStatus:
    """What the live display shows for one host; written by its worker thread, read by the display."""

    name: str
    phase: str = "queued"
    message: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    run_id: str | None = None
    error: str | None = None
    leftover: str | None = None  # a container that could not be removed
    notes: list[str] = field(default_factory=list)  # things worth telling at the end (e.g. stale containers)
    timeline: list[tuple[str, float]] = field(default_factory=list)  # (phase, seconds since start)

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started


class Secrets:
    """Masks secret values in anything gpubench writes or shows."""

    def __init__(self, *values: str | None):
        self.values = [v for v in values if v and len(v) >= 4]

    def mask(self, text: str) -> str:
        for v in self.values:
            text = text.replace(v, "****")
        return text

    def mask_bytes(self, data: bytes) -> bytes:
        for v in self.values:
            data = data.replace(v.encode(), b"****")
        return data


@dataclass(frozen=True)
class CollectContext:
    data_dir: Path
    logs_dir: Path
    ssh: SshOptions
    session: str
    token: str | None
    secrets: Secrets
    cancel: threading.Event


def planned_run(host: Host) -> Run:
    """The run a host is about to make, as far as the inventory says: what `--resume` compares with data/."""
    b = host.benchmark
    return Run(run_id="", source="collected", gpu=host.gpu, gpu_count=host.gpus, engine="tgi", host=host.name,
               model_id=host.model, image=host.image, num_shard=host.num_shard, batch_sizes=tuple(b.batch_sizes),
               sequence_length=b.sequence_length, decode_length=b.decode_length, n_runs=b.runs, warmups=b.warmups)


@dataclass
class ServerOutcome:
    """What one server start gave back: the benchmark's capture and what the server told about itself."""

    capture: terminal.BenchmarkCapture
    info: dict
    log_text: str
    measured_at: str


class HostRun:
    """One host's run as named phases; `run_host` calls them in order and turns any failure into the status."""

    def __init__(self, host: Host, ctx: CollectContext, status: HostStatus):
        self.host, self.ctx, self.status = host, ctx, status
        self.conn = None

    def phase(self, name: str, message: str = "") -> None:
        if name != self.status.phase:
            self.status.timeline.append((name, round(self.status.elapsed, 2)))
        self.status.phase, self.status.message = name, self.ctx.secrets.mask(message)

    def preflight(self) -> preflight.HostFacts:
        self.phase("connecting", self.host.ssh)
        self.conn = connect(self.host, self.ctx.ssh)
        self.phase("preflight", "docker, GPUs, disk")
        facts = preflight.gather(self.conn, self.host)
        removed = remove_stale_containers(self.conn, facts.containers, self.ctx.session)
        if removed:
            self.status.notes.append(f"removed {removed} container(s) left by an earlier run")
        return facts

    def image(self, facts: preflight.HostFacts) -> containers.ImageInfo:
        self.phase("image", self.host.image)
        return containers.ensure_image(self.conn, self.host, facts.image)

    def serve_and_benchmark(self) -> ServerOutcome:
        """Start the server, wait until it is ready, run the benchmark; the container is removed whatever happens."""
        host, ctx, conn = self.host, self.ctx, self.conn
        name = f"gpubench-{host.name}-{ctx.session[:8]}"
        measured_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        log_text = ""
        try:
            self.phase("starting", name)
            containers.start_server(conn, host, name, ctx.session, ctx.token)
            self.phase("loading", "waiting for /health")
            info = wait_until_ready(conn, host, name, on_status=lambda m: self.phase("loading", m),
                                        cancel=ctx.cancel)
            self.phase("benchmark", "starting text-generation-benchmark")
            capture = terminal.run_benchmark(conn, host, name, on_status=lambda m: self.phase("benchmark", m),
                                        cancel=ctx.cancel)
            log_text = containers.logs_tail(conn, name)
        finally:
            if not log_text:
                try:
                    log_text = containers.logs_tail(conn, name)
                except Exception:  # the connection may be gone; the cleanup below says so
                    log_text = ""
            self.phase("cleanup", f"removing {name}")
            remove_with_retry(conn, host, name, ctx, self.status)
        return ServerOutcome(capture, info, log_text, measured_at)

    def save(self, facts: preflight.HostFacts, image: containers.ImageInfo, outcome: ServerOutcome) -> None:
        """Parse the capture and add the run, with every raw file, to data/ (or keep the raw files in logs/)."""
        host, ctx = self.host, self.ctx
        raw = ctx.secrets.mask_bytes(outcome.capture.raw)
        artifacts = {
            "benchmark.txt": raw,
            "info.json": ctx.secrets.mask(json.dumps(outcome.info, indent=2, sort_keys=True)).encode(),
            "nvidia-smi.txt": facts.smi_text.encode(),
            "server.log": ctx.secrets.mask(outcome.log_text).encode(),
        }
        if outcome.capture.timed_out:
            save_failure(ctx, host, artifacts)
            raise GpubenchError(f"benchmark time limit of {host.benchmark_timeout_s:.0f} s reached "
                                f"(raw capture kept in {ctx.logs_dir})")
        self.phase("saving", "parsing the tables")
        engine_version = outcome.info.get("version") or image.version_label
        try:
            parsed = parse_tgi_benchmark(raw, path=f"{host.name}:benchmark.txt", engine_version=engine_version)
        except GpubenchError as e:
            save_failure(ctx, host, artifacts)
            raise GpubenchError(f"benchmark output unreadable: {e} (raw capture kept in {ctx.logs_dir})") from None
        identity = (host.name, outcome.measured_at)
        run_id = content_id(raw, *identity)
        base = f"raw/{run_id}"
        run, results = tgi_run(parsed, raw, source="collected", raw_path=f"{base}/benchmark.txt", identity=identity,
                               **collected_provenance(host, facts, image, outcome, engine_version))
        prices = [price_snapshot(run)] if run.price_usd_per_hr is not None else []
        store.add(ctx.data_dir, [run], results, prices=prices,
                  raw_files={f"{base}/{k}": v for k, v in artifacts.items()})
        self.status.run_id = run_id
        failed_note = f", failed batch sizes {parsed.failed_batch_sizes}" if parsed.failed_batch_sizes else ""
        self.phase("done", f"run {run_id}: {len(parsed.batch_sizes)} batch sizes{failed_note}")


def collected_provenance(host: Host, facts: preflight.HostFacts, image: containers.ImageInfo, outcome: ServerOutcome,
                         engine_version: str | None) -> dict[str, object]:
    """Where, on what and how a collected run was measured: from the host itself first, the inventory second."""
    gpus, info = facts.gpus, outcome.info
    return dict(
        measured_at=outcome.measured_at, host=host.name, gpu=host.gpu, gpu_count=gpus.count,
        gpu_name_reported=gpus.model or None, gpu_memory_mib=gpus.memory_mib[0], num_shard=host.num_shard,
        engine="tgi", engine_version=engine_version, image=host.image, image_digest=image.digest or image.image_id,
        driver_version=gpus.driver_version, cuda_version=gpus.cuda_version,
        model_id=info.get("model_id") or host.model, model_revision=info.get("model_sha") or host.revision,
        dtype=info.get("model_dtype") or host.dtype, quantize=host.quantize,
        launcher_args=shlex.join(tgi.extra_launcher_args(host)) or None,
        price_usd_per_hr=host.price.usd_per_hr, price_date=host.price.date, price_source=host.price.source,
        notes="a batch failed (see failed_batch_sizes)" if outcome.capture.failed_batch else None,
    )


def run_host(host: Host, ctx: CollectContext, status: HostStatus) -> None:
    """Benchmark one host and add its run to data/. Never raises: the outcome is in `status`."""
    run = HostRun(host, ctx, status)
    try:
        facts = run.preflight()
        image = run.image(facts)
        outcome = run.serve_and_benchmark()
        run.save(facts, image, outcome)
    except Cancelled:
        status.error = "cancelled (Ctrl-C)"
        run.phase("cancelled", status.leftover or "container removed")
    except GpubenchError as e:
        status.error = ctx.secrets.mask(str(e))
        run.phase("failed", status.error)
    except Exception as e:  # a host's unexpected failure must not stop the others
        status.error = ctx.secrets.mask(f"{type(e).__name__}: {e}")
        run.phase("failed", status.error)
    finally:
        status.finished = time.monotonic()
        if run.conn is not None:
            try:
                run.conn.close()
            except Exception:
                pass


def remove_stale_containers(conn, found: list[dict], session: str) -> int:
    """Containers of this host left by a collector that died: they bill GPU hours for nothing."""
    stale = [c for c in found if f"gpubench.session={session}" not in c.get("Labels", "")]
    for c in stale:
        containers.remove_container(conn, c["Names"])
    return len(stale)


RECONNECT_DELAYS_S = (0, 2, 4, 8, 16)  # a dropped connection often comes back within seconds


def remove_with_retry(conn, host: Host, name: str, ctx: CollectContext, status: HostStatus) -> None:
    """Remove the container. If the connection broke, reconnect (several times, waiting longer each time) and try
    again; if that fails too, say which container still runs where, and how to remove it."""
    try:
        containers.remove_container(conn, name)
        return
    except Exception:
        pass
    last_error: Exception | None = None
    for delay in RECONNECT_DELAYS_S:
        time.sleep(delay)
        status.message = f"connection lost: reconnecting to remove {name}"
        try:
            fresh = connect(host, ctx.ssh)
            try:
                containers.remove_container(fresh, name)
                return
            finally:
                fresh.close()
        except Exception as e:
            last_error = e
    status.leftover = (f"container {name} may still be running on host {host.name} ({host.ssh}): "
                       f"'gpubench cleanup' removes it ({last_error})")


def save_failure(ctx: CollectContext, host: Host, artifacts: dict[str, bytes]) -> None:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = ctx.logs_dir / f"{host.name}-{stamp}"
    for name, data in artifacts.items():
        write_atomic(folder / name, data)
