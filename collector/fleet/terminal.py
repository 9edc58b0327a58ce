"""A full-screen benchmark (TGI's text-generation-benchmark) in the server's container, under a terminal that
docker exec provides: follow its screen, press q when done, keep everything it wrote."""

from __future__ import annotations

import select
import threading
import time
from dataclasses import dataclass

import docker

from collector.data.errors import GpubenchError
from collector.fleet.inventory import Host
from collector.fleet.readiness import Cancelled
from collector.fleet.screen import BenchmarkScreen


@dataclass
class BenchmarkCapture:
    raw: bytes
    timed_out: bool
    failed_batch: bool
    exit_status: int | None
    last_progress: str | None = None  # what the screen showed last (the batch it hung in, after a time limit)


def run_benchmark(client: docker.DockerClient, host: Host, name: str, argv: list[str], *, on_status,
                  cancel: threading.Event, quit_grace_s: float = 30.0) -> BenchmarkCapture:
    """Run the benchmark in the container under a terminal, follow its screen, press q when every batch is done
    (or one failed, or the time limit passed), and capture everything it wrote, the final tables included."""
    screen = BenchmarkScreen()
    try:
        exec_id = client.api.exec_create(name, argv, tty=True, stdin=True,
                                         environment={"TERM": "xterm-256color"})["Id"]
        stream = client.api.exec_start(exec_id, tty=True, socket=True)
        client.api.exec_resize(exec_id, height=screen.screen.lines, width=screen.screen.columns)
    except docker.errors.APIError as e:
        raise GpubenchError(f"cannot start {argv[0]} in {name}: {e.explanation or e}") from None
    sock = getattr(stream, "_sock", stream)  # docker-py hands a SocketIO over the hijacked connection
    follower = _Follower(screen, host, on_status)
    try:
        follower.follow(sock, cancel, quit_grace_s)
    finally:
        sock.close()
    if cancel.is_set():
        raise Cancelled()
    try:
        status = client.api.exec_inspect(exec_id).get("ExitCode")
    except docker.errors.APIError:
        status = None
    return BenchmarkCapture(b"".join(follower.chunks), follower.timed_out, follower.failed, status,
                            follower.last_shown)


class _Follower:
    """Reads the terminal, feeds the screen emulator, and decides when to press q."""

    def __init__(self, screen: BenchmarkScreen, host: Host, on_status):
        self.screen, self.host, self.on_status = screen, host, on_status
        self.chunks: list[bytes] = []
        self.timed_out = self.failed = False
        self.last_shown: str | None = None
        self.quit_sent_at: float | None = None

    def follow(self, sock, cancel: threading.Event, quit_grace_s: float) -> None:
        deadline = time.monotonic() + self.host.benchmark_timeout_s
        while True:
            readable, _, _ = select.select([sock], [], [], 0.2)
            fresh = False
            if readable:
                data = sock.recv(65536)
                if not data:
                    return  # the benchmark ended
                self.chunks.append(data)
                if self.quit_sent_at is None:
                    self.screen.feed(data)
                    fresh = True
            if self.quit_sent_at is None:
                self._watch(sock, fresh, cancel, deadline)
            elif time.monotonic() - self.quit_sent_at > quit_grace_s:
                return  # it did not print its tables after q: give up on it (the container is removed anyway)

    def _watch(self, sock, fresh: bool, cancel: threading.Event, deadline: float) -> None:
        progress = self.screen.progress() if fresh else None
        if progress is not None:
            shown = progress.describe()
            if shown != self.last_shown:
                self.on_status(shown)
                self.last_shown = shown
            if progress.finished:
                self.failed = progress.failed
                self._quit(sock)
                self.on_status("a batch failed: quitting" if self.failed else "all batches done: quitting")
        if cancel.is_set():
            self._quit(sock)
        elif time.monotonic() > deadline and self.quit_sent_at is None:
            self.timed_out = True
            self._quit(sock)
            self.on_status(f"time limit of {self.host.benchmark_timeout_s:.0f} s reached: quitting")

    def _quit(self, sock) -> None:
        try:
            sock.sendall(b"q")
        except OSError:
            pass
        self.quit_sent_at = time.monotonic()
