"""One host's run: preflight, image, server, readiness, benchmark, raw files, data/ — and always the cleanup."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from collector import preflight, store, tgi
from collector.errors import GpubenchError
from collector.importing import content_id, tgi_run
from collector.inventory import Host
from collector.parsers.tgi_benchmark import parse_tgi_benchmark
from collector.remote import SshOptions, connect

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


def plan_key(host: Host) -> tuple:
    """What makes two runs of a host the same piece of work, for --resume."""
    b = host.benchmark
    return (host.name, host.model, host.image, host.num_shard, tuple(b.batch_sizes), b.sequence_length,
            b.decode_length, b.runs, b.warmups)


def run_key(run: store.Record) -> tuple:
    return (run["host"], run["model_id"], run["image"], run["num_shard"], tuple(run["batch_sizes"] or ()),
            run["sequence_length"], run["decode_length"], run["n_runs"], run["warmups"])


def run_host(host: Host, ctx: CollectContext, status: HostStatus) -> None:
    """Benchmark one host and add its run to data/. Never raises: the outcome is in `status`."""

    def phase(name: str, message: str = "") -> None:
        if name != status.phase:
            status.timeline.append((name, round(status.elapsed, 2)))
        status.phase, status.message = name, ctx.secrets.mask(message)

    conn = None
    try:
        phase("connecting", host.ssh)
        conn = connect(host, ctx.ssh)
        phase("preflight", "docker, GPUs, disk")
        facts = preflight.gather(conn, host)
        gpus, smi_text = facts.gpus, facts.smi_text
        removed = remove_stale_containers(conn, facts.containers, ctx.session)
        if removed:
            status.notes.append(f"removed {removed} container(s) left by an earlier run")
        phase("image", host.image)
        image = tgi.ensure_image(conn, host, facts.image)
        name = f"gpubench-{host.name}-{ctx.session[:8]}"
        measured_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        log_text = ""
        try:
            phase("starting", name)
            tgi.start_server(conn, host, name, ctx.session, ctx.token)
            phase("loading", "waiting for /health")
            info = tgi.wait_until_ready(conn, host, name, on_status=lambda m: phase("loading", m), cancel=ctx.cancel)
            phase("benchmark", "starting text-generation-benchmark")
            capture = tgi.run_benchmark(conn, host, name, on_status=lambda m: phase("benchmark", m),
                                        cancel=ctx.cancel)
            log_text = tgi.logs_tail(conn, name)
        finally:
            if not log_text:
                try:
                    log_text = tgi.logs_tail(conn, name)
                except Exception:  # the connection may be gone; the cleanup below says so
                    log_text = ""
            phase("cleanup", f"removing {name}")
            remove_with_retry(conn, host, name, ctx, status)
        raw = ctx.secrets.mask_bytes(capture.raw)
        artifacts = {
            "benchmark.txt": raw,
            "info.json": ctx.secrets.mask(json.dumps(info, indent=2, sort_keys=True)).encode(),
            "nvidia-smi.txt": smi_text.encode(),
            "server.log": ctx.secrets.mask(log_text).encode(),
        }
        if capture.timed_out:
            save_failure(ctx, host, artifacts)
            raise GpubenchError(f"benchmark time limit of {host.benchmark_timeout_s:.0f} s reached "
                                f"(raw capture kept in {ctx.logs_dir})")
        phase("saving", "parsing the tables")
        engine_version = info.get("version") or image.version_label
        try:
            parsed = parse_tgi_benchmark(raw, path=f"{host.name}:benchmark.txt", engine_version=engine_version)
        except GpubenchError as e:
            save_failure(ctx, host, artifacts)
            raise GpubenchError(f"benchmark output unreadable: {e} (raw capture kept in {ctx.logs_dir})") from None
        identity = (host.name, measured_at)
        run_id = content_id(raw, *identity)
        base = f"raw/{run_id}"
        run_record, results = tgi_run(
            parsed, raw, source="collected", raw_path=f"{base}/benchmark.txt", identity=identity,
            measured_at=measured_at, host=host.name, gpu=host.gpu, gpu_count=gpus.count,
            gpu_name_reported=gpus.model or None, gpu_memory_mib=gpus.memory_mib[0], num_shard=host.num_shard,
            engine="tgi", engine_version=engine_version, image=host.image, image_digest=image.digest or image.image_id,
            driver_version=gpus.driver_version, cuda_version=gpus.cuda_version, model_id=info.get("model_id")
            or host.model, model_revision=info.get("model_sha") or host.revision,
            dtype=info.get("model_dtype") or host.dtype, quantize=host.quantize,
            launcher_args=shlex.join(tgi.extra_launcher_args(host)) or None,
            price_usd_per_hr=host.price.usd_per_hr, price_date=host.price.date,
            price_source=host.price.source,
            notes="a batch failed (see failed_batch_sizes)" if capture.failed_batch else None,
        )
        prices = []
        if host.price.usd_per_hr is not None:
            prices.append({"gpu": host.gpu, "gpu_count": gpus.count, "price_usd_per_hr": host.price.usd_per_hr,
                           "price_date": host.price.date, "provider": None, "source_url": host.price.source})
        store.add(ctx.data_dir, [run_record], results, prices=prices,
                  raw_files={f"{base}/{k}": v for k, v in artifacts.items()})
        status.run_id = run_id
        failed_note = f", failed batch sizes {parsed.failed_batch_sizes}" if parsed.failed_batch_sizes else ""
        phase("done", f"run {run_id}: {len(parsed.batch_sizes)} batch sizes{failed_note}")
    except tgi.Cancelled:
        status.error = "cancelled (Ctrl-C)"
        phase("cancelled", status.leftover or "container removed")
    except GpubenchError as e:
        status.error = ctx.secrets.mask(str(e))
        phase("failed", status.error)
    except Exception as e:  # a host's unexpected failure must not stop the others
        status.error = ctx.secrets.mask(f"{type(e).__name__}: {e}")
        phase("failed", status.error)
    finally:
        status.finished = time.monotonic()
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass


def remove_stale_containers(conn, containers: list[dict], session: str) -> int:
    """Containers of this host left by a collector that died: they bill GPU hours for nothing."""
    stale = [c for c in containers if f"gpubench.session={session}" not in c.get("Labels", "")]
    for c in stale:
        tgi.remove_container(conn, c["Names"])
    return len(stale)


RECONNECT_DELAYS_S = (0, 2, 4, 8, 16)  # a dropped connection often comes back within seconds


def remove_with_retry(conn, host: Host, name: str, ctx: CollectContext, status: HostStatus) -> None:
    """Remove the container. If the connection broke, reconnect (several times, waiting longer each time) and try
    again; if that fails too, say which container still runs where, and how to remove it."""
    try:
        tgi.remove_container(conn, name)
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
                tgi.remove_container(fresh, name)
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
        store.write_atomic(folder / name, data)
