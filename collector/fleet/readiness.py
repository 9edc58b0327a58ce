"""Waiting until a server answers: its health endpoint through the SSH connection, its container's state and log."""

from __future__ import annotations

import threading
import time

from fabric import Connection

from collector.data.errors import GpubenchError
from collector.engines import tgi
from collector.fleet.containers import logs_tail, state_and_last_log_line
from collector.fleet.inventory import Host
from collector.fleet.server_log import failure_reason, log_message
from collector.fleet.ssh import http_get, http_json

READY_POLL_S = (0.25, 2.0)  # first and longest wait between polls: quick for fast starts, calm for a 70B


class Cancelled(Exception):
    """The user pressed Ctrl-C: stop what this host is doing and clean up."""


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
            status, _ = http_get(conn, host.port, tgi.HEALTH_PATH, timeout=5)
            if status == 200:
                return http_json(conn, host.port, tgi.INFO_PATH) or {}
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
