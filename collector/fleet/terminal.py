"""A full-screen benchmark under a pseudo-terminal over SSH: follow its screen, press q when done, keep the capture."""

from __future__ import annotations

import select
import threading
import time
from dataclasses import dataclass

from fabric import Connection

from collector.data.errors import GpubenchError
from collector.engines import tgi
from collector.fleet.inventory import Host
from collector.fleet.readiness import Cancelled
from collector.fleet.screen import BenchmarkScreen
from collector.fleet.ssh import command


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
    channel.exec_command(command("docker", "exec", "-it", name, *tgi.benchmark_args(host)))
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
