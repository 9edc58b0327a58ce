"""The whole fleet: every host of the inventory at once (bounded), a live line per host, and a summary."""

from __future__ import annotations

import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live

from collector import settings
from collector.data import store
from collector.data.records import Run, resume_key
from collector.data.schema import RUNS_CSV
from collector.fleet import containers
from collector.fleet.display import status_table
from collector.fleet.hostrun import (
    CollectContext,
    HostStatus,
    Secrets,
    planned_run,
    run_host,
)
from collector.fleet.inventory import Host
from collector.fleet.ssh import SshOptions, connect


@dataclass
class FleetResult:
    statuses: list[HostStatus]

    @property
    def ok(self) -> bool:
        return all(s.phase in ("done", "skipped") for s in self.statuses)


def run_all(hosts: list[Host], *, data_dir: Path, logs_dir: Path, ssh: SshOptions, resume: bool = False,
            concurrency: int = 16, console: Console | None = None, token: str | None = None) -> FleetResult:
    """Benchmark every host in parallel. One host's failure never stops the others; Ctrl-C stops all of them,
    and each removes its container before the command returns."""
    console = console or Console()
    token = token if token is not None else settings.hf_token()
    secrets = Secrets(token)
    ctx = CollectContext(data_dir=data_dir, logs_dir=logs_dir, ssh=ssh, session=uuid.uuid4().hex, token=token,
                         secrets=secrets, cancel=threading.Event())
    statuses = [HostStatus(h.name) for h in hosts]
    todo = list(zip(hosts, statuses))
    if resume:
        done_keys = {resume_key(r) for r in _existing_runs(data_dir)}
        for host, status in todo:
            if resume_key(planned_run(host)) in done_keys:
                status.phase, status.message, status.finished = "skipped", "already in data/ (--resume)", \
                    status.started
        todo = [(h, s) for h, s in todo if s.phase != "skipped"]

    def on_ctrl_c(signum, frame):  # a flag, not an exception: every worker stops and cleans up in its own time
        if not ctx.cancel.is_set():
            ctx.cancel.set()
            console.print("[yellow]Ctrl-C: stopping every host and removing their containers...[/]")
        else:
            console.print("[yellow]still removing containers; please wait[/]")

    previous = signal.signal(signal.SIGINT, on_ctrl_c) if threading.current_thread() is threading.main_thread() \
        else None
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(todo) or 1)), thread_name_prefix="host")
    futures = [pool.submit(run_host, host, ctx, status) for host, status in todo]
    live = Live(status_table(statuses), console=console, refresh_per_second=4, transient=False,
                auto_refresh=console.is_terminal)

    try:
        with live:
            while True:
                done, pending = wait(futures, timeout=0.25)
                live.update(status_table(statuses))
                if not pending:
                    break
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    pool.shutdown(wait=True)
    return FleetResult(statuses)


def _existing_runs(data_dir: Path) -> list[Run]:
    if not (data_dir / RUNS_CSV).exists():
        return []
    return store.load(data_dir).runs


def cleanup_all(hosts: list[Host], ssh: SshOptions, console: Console | None = None) -> list[tuple[str, str]]:
    """Remove every container carrying the gpubench label on each host. Returns (host, outcome) lines."""
    console = console or Console()
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def clean(host: Host) -> None:
        try:
            conn = connect(host, ssh)
            try:
                found = containers.list_gpubench_containers(conn)
                for c in found:
                    containers.remove_container(conn, c["Names"])
                outcome = f"removed {len(found)} container(s)" + (
                    ": " + ", ".join(c["Names"] for c in found) if found else "")
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
