"""TGI on one host, through its Docker engine over SSH: image, container, readiness, and the benchmark's screen.

The Docker CLI on the host is driven with `--format '{{json .}}'`, so answers are structured (state, digest, labels)
and a single SSH connection per host carries everything, the benchmark's pseudo-terminal included.
"""

from __future__ import annotations

import json
import re
import select
import threading
import time
from dataclasses import dataclass

from fabric import Connection

from collector.settings import TOKEN_ENVS

from collector.data.errors import GpubenchError
from collector.parsers.tgi_benchmark import BATCH_SIZE_FLAG, REVISION_FLAG, parameter_flags
from collector.fleet.inventory import Host
from collector.fleet.ssh import command, http_get, http_json, run
from collector.fleet.screen import BenchmarkScreen

LABEL = "gpubench"
READY_POLL_S = (0.25, 2.0)  # first and longest wait between /health polls: quick for fast starts, calm for 70B
LOG_TAIL_LINES = 200


class Cancelled(Exception):
    """The user pressed Ctrl-C: stop what this host is doing and clean up."""


@dataclass
class ImageInfo:
    reference: str
    digest: str | None
    image_id: str | None
    version_label: str | None


def ensure_image(conn: Connection, host: Host, present: dict | None) -> ImageInfo:
    """Make sure the image is on the host per the pull policy and return its digest. `present` is what
    `docker image inspect` said in the preflight (None: not on the host)."""
    if host.pull == "always" or (present is None and host.pull == "missing"):
        run(conn, "docker", "pull", "--quiet", host.image, timeout=3600)
        present = _image_inspect(conn, host.image)
    if present is None:
        raise GpubenchError(f"image {host.image} is not on the host and pull policy is {host.pull!r}")
    digests = present.get("RepoDigests") or []
    labels = (present.get("Config") or {}).get("Labels") or {}
    return ImageInfo(host.image, digests[0].split("@", 1)[-1] if digests else None, present.get("Id"),
                     labels.get("org.opencontainers.image.version"))


def _image_inspect(conn: Connection, image: str) -> dict | None:
    out = run(conn, "docker", "image", "inspect", "--format", "{{json .}}", image, check=False)
    try:
        doc = json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def extra_launcher_args(host: Host) -> list[str]:
    """The launcher flags a reader needs besides model, revision, precision and shards (which have columns)."""
    return (["--sharded", "true"] if host.num_shard > 1 else []) + list(host.launcher_args)


def launcher_args(host: Host) -> list[str]:
    args = ["--model-id", host.model, "--num-shard", str(host.num_shard)]
    if host.num_shard > 1:
        args += ["--sharded", "true"]
    if host.revision:
        args += ["--revision", host.revision]
    if host.dtype:
        args += ["--dtype", host.dtype]
    if host.quantize:
        args += ["--quantize", host.quantize]
    if host.network == "host":
        args += ["--hostname", "127.0.0.1", "--port", str(host.port)]
    return args + list(host.launcher_args)


def docker_run_args(host: Host, name: str, session: str) -> list[str]:
    """`docker run` for the server. The token is passed by name only (`-e HF_TOKEN`): its value comes from the
    environment of the docker process, filled from stdin, so it is on no command line of either machine."""
    args = ["docker", "run", "--detach", "--name", name, "--label", f"{LABEL}=1", "--label", f"{LABEL}.host={host.name}",
            "--label", f"{LABEL}.session={session}", "--shm-size", host.shm_size,
            "--volume", f"{host.weights_cache}:/data"]
    if host.gpu_access == "nvidia":
        args += ["--gpus", "all"]
    elif host.gpu_access == "rocm":
        args += ["--device", "/dev/kfd", "--device", "/dev/dri", "--group-add", "video",
                 "--security-opt", "seccomp=unconfined"]
    if host.network == "host":
        args += ["--network", "host"]
    else:
        args += ["--publish", f"127.0.0.1:{host.port}:80"]
    for var in TOKEN_ENVS:
        args += ["--env", var]
    return args + [host.image] + launcher_args(host)


def start_server(conn: Connection, host: Host, name: str, session: str, token: str | None) -> str:
    """Start the container; returns its id. The token travels on stdin into the environment of `docker run`."""
    script = 'IFS= read -r HF_TOKEN; export HF_TOKEN HUGGING_FACE_HUB_TOKEN="$HF_TOKEN"; exec "$@"'
    if not token:
        script = 'unset HF_TOKEN HUGGING_FACE_HUB_TOKEN; exec "$@"'
    out = run(conn, "sh", "-c", script, "gpubench-start", *docker_run_args(host, name, session),
              stdin=(token or "") + "\n", timeout=300)
    return out.strip().splitlines()[-1] if out.strip() else name


def logs_tail(conn: Connection, name: str, lines: int = LOG_TAIL_LINES) -> str:
    return run(conn, "sh", "-c", 'docker logs --tail "$1" "$2" 2>&1', "gpubench-logs", lines, name,
               check=False, timeout=60)


# Most telling first: a CUDA OOM explains the "Shard failed" lines after it.
ROOT_CAUSES = ("OutOfMemory", "out of memory", "GatedRepo", "401 Client Error", "403 Client Error",
               "No space left", "RepositoryNotFound")
# tracing's prefix on TGI log lines: "<time>  INFO <target>: " (shown without it, the message is readable)
LOG_PREFIX = re.compile(r"^\S+Z\s+(?:TRACE|DEBUG|INFO|WARN|ERROR)\s+[\w:.-]+:\s*(?:text_generation_launcher:\s*)?")


def log_message(line: str) -> str:
    return LOG_PREFIX.sub("", line.strip())
ERROR_WORDS = ("ERROR", "Error", "error", "failed", "Failed", "panicked")


def failure_reason(log: str) -> str:
    """Why a server died, from its log: a known root cause (CUDA OOM, gated model, ...) if one is there, else the
    first error line (later ones tend to be generic, like `Error: ShardCannotStart`), else the last line."""
    raw = [l for l in log.splitlines() if l.strip()]
    lines = [log_message(l) for l in raw]
    for cause in ROOT_CAUSES:
        for line in lines:
            if cause in line:
                return line[-300:]
    for i, line in enumerate(raw):  # a Python traceback: the exception is the first unindented line after it
        if line.startswith("Traceback (most recent call last)"):
            for after in raw[i + 1:]:
                if not after[:1].isspace():
                    return after.strip()[-300:]
    for line, message in zip(raw, lines):
        if any(w in line for w in ERROR_WORDS):  # the raw line: its level says ERROR
            return message[-300:]
    return lines[-1][-300:] if lines else "no log output"


def wait_until_ready(conn: Connection, host: Host, name: str, *, on_status, cancel: threading.Event) -> dict:
    """Poll /health through SSH until it answers 200; report what the server logs meanwhile.

    Fails when the container exits (with the reason from its log) or when the start-up limit passes."""
    started = time.monotonic()
    deadline = started + host.startup_timeout_s
    pause = READY_POLL_S[0]
    while True:
        if cancel.is_set():
            raise Cancelled()
        try:  # first, as it is the cheapest check: a channel through SSH, no process started on the host
            status, _ = http_get(conn, host.port, "/health", timeout=5)
            if status == 200:
                return http_json(conn, host.port, "/info") or {}
        except (ConnectionRefusedError, OSError, TimeoutError):
            pass  # not listening yet: TGI opens its port only when ready
        state, last_line = state_and_last_log_line(conn, name)
        if state is None or not state.get("Running", False):
            code = state.get("ExitCode") if state else "?"
            raise GpubenchError(f"server exited at start-up (exit {code}): {failure_reason(logs_tail(conn, name))}")
        if last_line:
            on_status(log_message(last_line)[-160:])
        if time.monotonic() > deadline:
            raise GpubenchError(f"server not ready after {host.startup_timeout_s:.0f} s (start-up limit): "
                                f"last log line: {failure_reason(logs_tail(conn, name))}")
        cancel.wait(pause)
        if time.monotonic() - started > 5:  # small models are up within seconds; a 70B takes minutes
            pause = min(pause * 1.3, READY_POLL_S[1])


def state_and_last_log_line(conn: Connection, name: str) -> tuple[dict | None, str]:
    """The container's state and its newest log line, in one command on the host."""
    script = ('docker container inspect --format "{{json .State}}" "$1" 2>/dev/null || echo null; '
              'docker logs --tail 1 "$1" 2>&1 | tail -n 1')
    out = run(conn, "sh", "-c", script, "gpubench-state", name, check=False).splitlines()
    try:
        state = json.loads(out[0]) if out else None
    except json.JSONDecodeError:
        state = None
    return (state if isinstance(state, dict) else None), (out[1].strip() if len(out) > 1 else "")


def benchmark_args(host: Host) -> list[str]:
    b = host.benchmark
    args = ["text-generation-benchmark"]
    if host.revision:
        args += [REVISION_FLAG, host.revision]
    for size in b.batch_sizes:
        args += [BATCH_SIZE_FLAG, str(size)]
    values = {"tokenizer": host.model, "sequence_length": b.sequence_length, "decode_length": b.decode_length,
              "n_runs": b.runs, "warmups": b.warmups}
    return args + [part for flag in parameter_flags(values) for part in flag]


@dataclass
class BenchmarkCapture:
    raw: bytes
    timed_out: bool
    failed_batch: bool
    exit_status: int | None


def run_benchmark(conn: Connection, host: Host, name: str, *, on_status, cancel: threading.Event,
                  quit_grace_s: float = 30.0) -> BenchmarkCapture:
    """Run the benchmark in the container under a pseudo-terminal, follow its screen, press q when every batch is
    done (or one failed, or the time limit passed), and capture everything it wrote, the final tables included."""
    transport = conn.client.get_transport()
    if transport is None or not transport.is_active():
        raise GpubenchError("SSH connection lost before the benchmark")
    channel = transport.open_session()
    screen = BenchmarkScreen()
    channel.get_pty(term="xterm-256color", width=screen.screen.columns, height=screen.screen.lines)
    channel.exec_command(command("docker", "exec", "-it", name, *benchmark_args(host)))
    chunks: list[bytes] = []
    deadline = time.monotonic() + host.benchmark_timeout_s
    quit_sent_at: float | None = None
    timed_out = failed = False
    last_shown = None
    try:
        while True:
            if channel.exit_status_ready() and not channel.recv_ready():
                break
            readable, _, _ = select.select([channel], [], [], 0.2)
            fresh = False
            if readable:
                data = channel.recv(65536)
                if not data:
                    break
                chunks.append(data)
                if quit_sent_at is None:
                    screen.feed(data)
                    fresh = True
            if quit_sent_at is None:
                progress = screen.progress() if fresh else None
                if progress is not None:
                    shown = progress.describe()
                    if shown != last_shown:
                        on_status(shown)
                        last_shown = shown
                    if progress.finished:
                        failed = progress.failed
                        quit_sent_at = _press_quit(channel)
                        on_status("a batch failed: quitting" if failed else "all batches done: quitting")
                if cancel.is_set():
                    quit_sent_at = _press_quit(channel)
                elif time.monotonic() > deadline:
                    timed_out = True
                    quit_sent_at = _press_quit(channel)
                    on_status(f"time limit of {host.benchmark_timeout_s:.0f} s reached: quitting")
            elif time.monotonic() - quit_sent_at > quit_grace_s:
                break  # it did not print its tables after q: give up on it (the container is removed anyway)
        status = channel.recv_exit_status() if channel.exit_status_ready() else None
    finally:
        channel.close()
    if cancel.is_set():
        raise Cancelled()
    if not transport.is_active():
        raise GpubenchError(f"SSH connection to {conn.host} lost during the benchmark")
    return BenchmarkCapture(b"".join(chunks), timed_out, failed, status)


def _press_quit(channel) -> float:
    try:
        channel.sendall(b"q")
    except OSError:
        pass
    return time.monotonic()


def remove_container(conn: Connection, name: str) -> None:
    """Remove a container, running or not; one that is already gone counts as removed."""
    result = conn.run(command("docker", "rm", "--force", "--volumes", name), hide=True, warn=True, timeout=120)
    if result.exited != 0 and "No such container" not in result.stderr:
        raise GpubenchError(f"docker rm {name} failed: {result.stderr.strip()[-200:]}")


def list_gpubench_containers(conn: Connection, host_name: str | None = None) -> list[dict]:
    label = f"{LABEL}.host={host_name}" if host_name else f"{LABEL}=1"
    out = run(conn, "docker", "ps", "--all", "--filter", f"label={label}", "--format", "{{json .}}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]
