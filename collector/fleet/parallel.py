"""The whole fleet: every host of the inventory at once (bounded; entries on one machine one after the other), a
live line per host, and a summary."""

from __future__ import annotations

import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console

from collector import settings
from collector.data import store
from collector.data.records import Run, resume_key
from collector.data.schema import RUNS_CSV
from collector.fleet import containers
from collector.fleet.display import Progress
from collector.fleet.docker_api import DockerOverSsh
from collector.fleet.hostrun import CollectContext, HostStatus, Secrets, planned_run, run_host
from collector.fleet.inventory import Host
from collector.fleet.ssh import SshOptions, connect, machine_of

# Signals that end a collect like Ctrl-C: every host stops and removes its container (a CI cancel sends SIGTERM,
# a closed terminal SIGHUP).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class FleetResult:
    statuses: list[HostStatus]

    @property
    def ok(self) -> bool:
        return all(s.phase in ("done", "skipped") for s in self.statuses)


def run_all(hosts: list[Host], *, data_dir: Path, logs_dir: Path, ssh: SshOptions, resume: bool = False,
            concurrency: int = 16, console: Console | None = None, token: str | None = None) -> FleetResult:
    """Benchmark every host in parallel. One host's failure never stops the others; Ctrl-C (or SIGTERM, SIGHUP)
    stops all of them, and each removes its container before the command returns."""
    console = console or Console()
    token = token if token is not None else settings.hf_token()
    ctx = CollectContext(data_dir=data_dir, logs_dir=logs_dir, ssh=ssh, session=uuid.uuid4().hex, token=token,
                         secrets=Secrets(token), cancel=threading.Event())
    if resume:
        hosts = _not_yet_done(hosts, data_dir)
    statuses = {h.name: HostStatus(h.name) for h in hosts}
    for host in hosts:
        if not host.engines:  # every engine already in data/
            statuses[host.name].phase, statuses[host.name].message = "skipped", "already in data/ (--resume)"
            statuses[host.name].finished = statuses[host.name].started
    groups = same_machine_groups([h for h in hosts if h.engines], ssh, statuses)
    progress = Progress(list(statuses.values()), console)
    restore = _on_stop_signals(ctx, console)
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(groups) or 1)), thread_name_prefix="host")
    futures = [pool.submit(_run_group, group, ctx, statuses) for group in groups]
    try:
        with progress:
            while True:
                _, pending = wait(futures, timeout=0.25)
                progress.update()
                if not pending:
                    break
    finally:
        restore()
    pool.shutdown(wait=True)
    return FleetResult(list(statuses.values()))


def _run_group(group: list[Host], ctx: CollectContext, statuses: dict[str, HostStatus]) -> None:
    for host in group:
        if ctx.cancel.is_set():
            statuses[host.name].phase, statuses[host.name].error = "cancelled", "cancelled before it started"
            continue
        statuses[host.name].reset_clock()
        run_host(host, ctx, statuses[host.name])


def same_machine_groups(hosts: list[Host], ssh: SshOptions, statuses: dict[str, HostStatus]) -> list[list[Host]]:
    """Hosts grouped by the machine they reach (after ssh_config): a group runs one entry after the other, as two
    servers on one machine would fight over its GPUs (and the torch distributed port)."""
    groups: dict[tuple, list[Host]] = {}
    for host in hosts:
        try:
            machine = machine_of(host, ssh)
        except Exception:  # unresolvable: the host's own connect will say why
            machine = (host.name, 0)
        groups.setdefault(machine, []).append(host)
    for (address, port), members in groups.items():
        for later in members[1:]:
            statuses[later.name].message = (f"waiting: same machine as {members[0].name} ({address}:{port}), run "
                                            "after it")
    return list(groups.values())


def _not_yet_done(hosts: list[Host], data_dir: Path) -> list[Host]:
    """Each host with only the engines whose runs are not in data/ yet (`--resume`)."""
    done = {resume_key(r) for r in _existing_runs(data_dir)}
    out = []
    for host in hosts:
        left = tuple(v.engine for v in host.per_engine() if resume_key(planned_run(v)) not in done)
        out.append(replace(host, engines=left, engine=left[0] if left else host.engine))
    return out


def _on_stop_signals(ctx: CollectContext, console: Console):
    """Turn Ctrl-C, SIGTERM and SIGHUP into the fleet's cancel flag (not an exception: every worker stops and cleans
    up in its own time). Returns what restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_signal(signum, frame):
        if not ctx.cancel.is_set():
            ctx.cancel.set()
            console.print(f"[yellow]{signal.Signals(signum).name}: stopping every host and removing their "
                          "containers...[/]")
        else:
            console.print("[yellow]still removing containers; please wait[/]")

    previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
    return lambda: [signal.signal(s, h) for s, h in previous.items()]


def _existing_runs(data_dir: Path) -> list[Run]:
    if not (data_dir / RUNS_CSV).exists():
        return []
    return store.load(data_dir).runs


def cleanup_all(hosts: list[Host], ssh: SshOptions) -> list[tuple[str, str]]:
    """Remove every container carrying the gpubench label on each host. Returns (host, outcome) lines."""
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def clean(host: Host) -> None:
        try:
            conn = connect(host, ssh)
            try:
                remote = DockerOverSsh(conn)
                try:
                    found = containers.gpubench_containers(remote.client)
                    for c in found:
                        containers.remove_container(remote.client, c["name"])
                finally:
                    remote.close()
                outcome = f"removed {len(found)} container(s)" + (
                    ": " + ", ".join(c["name"] for c in found) if found else "")
            finally:
                conn.close()
        except Exception as e:
            outcome = f"failed: {e}"
        with lock:
            outcomes.append((host.name, outcome))

    with ThreadPoolExecutor(max_workers=max(1, min(16, len(hosts)))) as pool:
        list(pool.map(clean, hosts))
    order = {h.name: i for i, h in enumerate(hosts)}
    return sorted(outcomes, key=lambda o: order[o[0]])
