"""One host's run: preflight, image, server, readiness, benchmark, raw files, data/ — and always the cleanup."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from collector.data.errors import GpubenchError
from collector.data.records import Run
from collector.engines import ENGINES
from collector.fleet import collected, containers, preflight, terminal
from collector.fleet.collected import ServerOutcome
from collector.fleet.docker_api import DockerOverSsh
from collector.fleet.inventory import Host
from collector.fleet.readiness import Cancelled, check_port_free, wait_until_ready
from collector.fleet.serving_client import run_point, run_point_in_client
from collector.fleet.ssh import SshOptions, connect
from collector.parsers import sglang_bench_serving, vllm_bench_serve
from collector.settings import TOKEN_ENVS

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
    run_ids: list[str] = field(default_factory=list)
    error: str | None = None
    leftover: str | None = None  # a container that could not be removed
    notes: list[str] = field(default_factory=list)  # things worth telling at the end (e.g. stale containers)
    timeline: list[tuple[str, float]] = field(default_factory=list)  # (phase, seconds since start)

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def reset_clock(self) -> None:
        """Start counting now: a host that waited for another entry on its machine did not run meanwhile."""
        self.started = time.monotonic()


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
    """The run a (single-engine) host is about to make, as far as the inventory says: what `--resume` compares
    with data/."""
    common = dict(run_id="", source="collected", gpu=host.gpu, gpu_count=host.gpus, engine=host.engine,
                  host=host.name, model_id=host.model, image=host.image, num_shard=host.num_shard)
    if host.engine == "tgi":
        b = host.benchmark
        return Run(**common, benchmark_kind="static_batch", batch_sizes=tuple(b.batch_sizes),
                   sequence_length=b.sequence_length, decode_length=b.decode_length, n_runs=b.runs,
                   warmups=b.warmups)
    w = host.workload
    return Run(**common, benchmark_kind="serving", input_len=w.input_len, output_len=w.output_len)


class HostRun:
    """One host's run as named phases; `run_host` calls them in order and turns any failure into the status."""

    def __init__(self, host: Host, ctx: CollectContext, status: HostStatus):
        self.host, self.ctx, self.status = host, ctx, status
        self.conn = None
        self.docker: DockerOverSsh | None = None

    @property
    def last_work(self) -> str:
        """The phase that was under way (cleanup comes after every failure)."""
        phases = [name for name, _ in self.status.timeline if name not in ("cleanup", "failed")]
        return {"benchmark": "the benchmark"}.get(phases[-1], phases[-1]) if phases else "connecting"

    def connection_lost(self) -> bool:
        if self.conn is None or self.conn.client is None:
            return False
        transport = self.conn.client.get_transport()
        return transport is None or not transport.is_active()

    def phase(self, name: str, message: str = "") -> None:
        if name != self.status.phase:
            self.status.timeline.append((name, round(self.status.elapsed, 2)))
        self.status.phase, self.status.message = name, self.ctx.secrets.mask(message)

    def preflight(self) -> preflight.HostFacts:
        self.phase("connecting", self.host.ssh)
        self.conn = connect(self.host, self.ctx.ssh)
        self.docker = DockerOverSsh(self.conn)
        self.phase("preflight", "docker, GPUs, disk")
        facts = preflight.gather(self.conn, self.docker.client, self.host)
        removed = remove_stale_containers(self.docker.client, facts.containers, self.ctx.session)
        if removed:
            self.status.notes.append(f"removed {removed} container(s) left by an earlier run")
        if not self.ctx.token and not preflight.model_cached(facts, self.host.model):
            self.status.notes.append(f"HF_TOKEN is not set and {self.host.model} is not in the host's cache: a "
                                     "gated model will fail to download (set HF_TOKEN)")
        return facts

    def serve(self, host: Host, facts: preflight.HostFacts) -> ServerOutcome:
        """One engine: its image, a free port, the server started and ready, its benchmark (TGI's, or the whole
        serving sweep on this one start), the log; the container is removed whatever happens."""
        assert self.docker and self.conn
        engine = ENGINES[host.engine]
        client = self.docker.client
        self.phase("image", host.image or "")
        outcome = ServerOutcome(host, engine, containers.ensure_image(client, host), collected.utc_now())
        check_port_free(self.conn, host.port or engine.DEFAULT_PORT)
        name = f"gpubench-{host.name}-{engine.NAME}-{self.ctx.session[:8]}"
        try:
            self.phase("starting", name)
            containers.start_server(client, host, engine, containers.server_container(host, engine, name,
                                                                                      self.ctx.session),
                                    self.ctx.token)
            self.phase("loading", f"waiting for {engine.READY_PATH}")
            outcome.info = wait_until_ready(self.conn, client, host, engine, name, cancel=self.ctx.cancel,
                                            on_status=lambda m: self.phase("loading", m))
            self.benchmark(host, engine, name, outcome)
            outcome.log_text = containers.logs_tail(client, name)
        except Exception as e:
            if not isinstance(e, Cancelled):  # keep the server's log of every failure
                self._keep_log(name, e)
            raise
        finally:
            self.phase("cleanup", f"removing {name}")
            remove_with_retry(self, name)
        return outcome

    def benchmark(self, host: Host, engine, name: str, outcome: ServerOutcome) -> None:
        assert self.docker
        client = self.docker.client
        if host.engine == "tgi":
            self.phase("benchmark", "starting text-generation-benchmark")
            outcome.capture = terminal.run_benchmark(client, host, name, engine.benchmark_command(host),
                                                     on_status=lambda m: self.phase("benchmark", m),
                                                     cancel=self.ctx.cancel)
            return
        points = host.workload.points()
        client_spec = self._client_container(host, name)
        for i, point in enumerate(points, 1):
            where = f"{point.label()} ({i}/{len(points)})"
            self.phase("benchmark", where)
            result_path = f"/tmp/gpubench-{point.label()}.json"
            argv = CLIENT_COMMANDS[host.tool](base_url=f"http://127.0.0.1:{host.port}", model=host.model,
                                             workload=host.workload, point=point, result_path=result_path,
                                             server=host.engine)
            shown = lambda m: self.phase("benchmark", f"{where}: {m}")  # noqa: E731
            if client_spec is None:
                output = run_point(client, name, argv, result_path, timeout_s=host.benchmark_timeout_s,
                                   cancel=self.ctx.cancel, on_line=shown)
            else:
                spec = {**client_spec, "name": f"{name}-client-{point.label()}"}
                output = run_point_in_client(client, spec, argv, result_path, timeout_s=host.benchmark_timeout_s,
                                             cancel=self.ctx.cancel, on_line=shown)
            outcome.points.append((point, output))

    def _client_container(self, host: Host, server: str) -> dict | None:
        """The benchmark client's own container, when the server's image does not ship the tool (sglang.bench_serving
        against vLLM, vllm bench serve against SGLang or TGI): its image pinned like the server's."""
        assert self.docker
        if host.tool == ENGINES[host.engine].CLIENTS[0]:
            return None
        image = host.workload.client_image or CLIENT_IMAGES[host.tool]
        self.phase("image", f"benchmark client {image}")
        containers.ensure_image(self.docker.client, replace(host, image=image))
        engine = ENGINES[host.engine]
        return {"image": image, "labels": containers.server_container(host, engine, server, self.ctx.session).labels,
                "environment": {var: self.ctx.token for var in TOKEN_ENVS} if self.ctx.token else {},
                "volumes": {host.weights_cache: {"bind": "/root/.cache/huggingface", "mode": "rw"}}}

    def save(self, outcome: ServerOutcome, facts: preflight.HostFacts) -> None:
        self.phase("saving", "parsing the results")
        save = collected.save_static_batch if outcome.capture is not None else collected.save_serving_sweep
        mask = self.ctx.secrets.mask
        try:
            run_ids, summary = save(self.ctx.data_dir, outcome, facts, mask)
        except GpubenchError as e:
            files = {"benchmark.txt": outcome.capture.raw} if outcome.capture else {}
            folder = collected.save_failure(self.ctx.logs_dir, outcome.host.name, {
                **{k: self.ctx.secrets.mask_bytes(v) for k, v in files.items()},
                **collected.server_files(outcome, facts, mask)})
            raise GpubenchError(f"benchmark output unreadable: {e} (raw files kept in {folder})") from None
        self.status.run_ids += run_ids
        self.status.notes.append(f"{outcome.engine.NAME}: runs {', '.join(run_ids)}: {summary}")
        if outcome.capture is not None and outcome.capture.timed_out:
            raise GpubenchError(f"benchmark hung ({outcome.capture.last_progress or 'no progress shown'}): stopped "
                                f"at the time limit of {outcome.host.benchmark_timeout_s:.0f} s; the batches done "
                                f"before were kept (run {run_ids[0]})")

    def _keep_log(self, name: str, error: Exception) -> None:
        assert self.docker
        try:
            log = containers.logs_tail(self.docker.client, name)
        except Exception:  # the connection may be gone; the cleanup says so
            return
        if log:
            folder = collected.save_failure(self.ctx.logs_dir, self.host.name, {
                "server.log": self.ctx.secrets.mask(log).encode(),
                "error.txt": self.ctx.secrets.mask(str(error)).encode()})
            self.status.notes.append(f"server log kept in {folder}")

    def close(self) -> None:
        for thing in (self.docker, self.conn):
            if thing is not None:
                try:
                    thing.close()
                except Exception:
                    pass


CLIENT_IMAGES = {e.CLIENTS[0]: e.DEFAULT_IMAGE for e in ENGINES.values()}  # where each tool ships
CLIENT_COMMANDS = {vllm_bench_serve.TOOL: vllm_bench_serve.command,
                   sglang_bench_serving.TOOL: sglang_bench_serving.command}


def run_host(host: Host, ctx: CollectContext, status: HostStatus) -> None:
    """Benchmark one host (each of its engines, one server start each) and add its runs to data/. Never raises:
    the outcome is in `status`."""
    run = HostRun(host, ctx, status)
    try:
        facts = run.preflight()
        for variant in host.per_engine():
            outcome = run.serve(variant, facts)
            run.save(outcome, facts)
        run.phase("done", "; ".join(n for n in status.notes if ": runs " in n)[-300:])
    except Cancelled:
        status.error = "cancelled (Ctrl-C or a termination signal)"
        run.phase("cancelled", status.leftover or "container removed")
    except Exception as e:  # a host's failure must not stop the others
        lost = run.connection_lost()
        text = str(e) if isinstance(e, GpubenchError) and not lost else f"{type(e).__name__}: {e}"
        status.error = ctx.secrets.mask(f"SSH connection to {host.ssh} lost during {run.last_work} ({text})"
                                        if lost else text)
        run.phase("failed", status.error)
    finally:
        status.finished = time.monotonic()
        run.close()


def remove_stale_containers(client, found: list[dict], session: str) -> int:
    """Containers of this host left by a collector that died: they bill GPU hours for nothing."""
    stale = [c for c in found if c["labels"].get("gpubench.session") != session]
    for c in stale:
        containers.remove_container(client, c["name"])
    return len(stale)


RECONNECT_DELAYS_S = (0, 2, 4, 8, 16)  # a dropped connection often comes back within seconds


def remove_with_retry(run: HostRun, name: str) -> None:
    """Remove the container. If the connection broke, reconnect (several times, waiting longer each time) and try
    again; if that fails too, say which container still runs where, and how to remove it."""
    host, status = run.host, run.status
    try:
        assert run.docker
        containers.remove_container(run.docker.client, name)
        return
    except Exception:
        pass
    last_error: Exception | None = None
    for delay in RECONNECT_DELAYS_S:
        time.sleep(delay)
        status.message = f"connection lost: reconnecting to remove {name}"
        try:
            fresh = connect(host, run.ctx.ssh)
            try:
                remote = DockerOverSsh(fresh)
                try:
                    containers.remove_container(remote.client, name)
                    return
                finally:
                    remote.close()
            finally:
                fresh.close()
        except Exception as e:
            last_error = e
    status.leftover = (f"container {name} may still be running on host {host.name} ({host.ssh}): "
                       f"'gpubench cleanup' removes it ({last_error})")
