"""Before and after a server starts: its port must be free, then it must answer its readiness endpoint (through
the SSH connection), and the server answering must be the one gpubench started."""

from __future__ import annotations

import threading
import time
from types import ModuleType

import docker
from fabric import Connection

from collector.data.errors import GpubenchError
from collector.fleet.containers import container_state, logs_tail
from collector.fleet.inventory import Host
from collector.fleet.server_log import failure_reason, log_message
from collector.fleet.ssh import http_get, http_json

READY_POLL_S = (0.25, 2.0)  # first and longest wait between polls: quick for fast starts, calm for a 70B


class Cancelled(Exception):
    """The user pressed Ctrl-C (or the collector got SIGTERM/SIGHUP): stop this host and clean up."""


def check_port_free(conn: Connection, port: int) -> None:
    """Refuse to start when something already answers on the port: it would be taken for the new server (its
    /info recorded, the benchmark run against it)."""
    try:
        status, body = http_get(conn, port, "/", timeout=5)
    except (ConnectionRefusedError, OSError, TimeoutError):
        return
    raise GpubenchError(f"port {port} on the host is already in use (a server answered HTTP {status}): stop it, "
                        "or give this host another port in the inventory")


def wait_until_ready(conn: Connection, client: docker.DockerClient, host: Host, engine: ModuleType, name: str, *,
                     on_status, cancel: threading.Event) -> dict:
    """Poll the engine's readiness endpoint until it answers 200; report what the server logs meanwhile. Returns
    what its info endpoint says. Fails when the container exits (with the reason from its log) or when the
    start-up limit passes."""
    assert host.port
    started = time.monotonic()
    deadline = started + host.startup_timeout_s
    pause = READY_POLL_S[0]
    while True:
        if cancel.is_set():
            raise Cancelled()
        try:  # the cheapest check first: a channel through SSH, no process started on the host
            status, _ = http_get(conn, host.port, engine.READY_PATH, timeout=5)
            if status == 200:
                return _server_info(conn, client, host, engine, name)
        except (ConnectionRefusedError, OSError, TimeoutError):
            pass  # not listening yet
        state = container_state(client, name)
        if state is None or not state.get("Running", False):
            code = state.get("ExitCode") if state else "?"
            raise GpubenchError(f"server exited at start-up (exit {code}): "
                                f"{failure_reason(logs_tail(client, name))}")
        last_line = logs_tail(client, name, 1).strip()
        if last_line:
            on_status(log_message(last_line.splitlines()[-1])[-160:])
        if time.monotonic() > deadline:
            raise GpubenchError(f"server not ready after {host.startup_timeout_s:.0f} s (start-up limit): "
                                f"last log line: {failure_reason(logs_tail(client, name))}")
        cancel.wait(pause)
        if time.monotonic() - started > 5:  # small models are up within seconds; a 70B takes minutes
            pause = min(pause * 1.3, READY_POLL_S[1])


def _server_info(conn: Connection, client: docker.DockerClient, host: Host, engine: ModuleType,
                 name: str) -> dict:
    """What the server says about itself, once it is certain that the server answering is ours: the container
    still runs, and it serves the model it was started with."""
    assert host.port
    state = container_state(client, name)
    if state is None or not state.get("Running", False):
        raise GpubenchError(f"a server answers on port {host.port} but container {name} is not running: another "
                            "server holds the port")
    info = http_json(conn, host.port, engine.INFO_PATH) or {}
    served = engine.served_model(info) or _openai_model(conn, host.port)
    if served and served != host.model:
        raise GpubenchError(f"the server on port {host.port} serves {served!r}, not {host.model!r}: another "
                            "server holds the port")
    return info


def _openai_model(conn: Connection, port: int) -> str | None:
    models = http_json(conn, port, "/v1/models") or {}
    data = models.get("data") or []
    return data[0].get("id") if data and isinstance(data[0], dict) else None
