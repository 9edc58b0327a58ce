"""docker-py for a host's Docker engine, carried by the host's own SSH connection.

docker-py speaks HTTP to a local Unix socket; every connection made to that socket opens a channel on the existing
SSH connection running `docker system dial-stdio` on the host (what the docker CLI does for ssh:// hosts), and
bytes are pumped both ways. So jump hosts, host-key checks and ssh_config apply to Docker exactly as to everything
else, no Docker port is exposed, and values (the token in a container's environment) travel inside API requests,
on no command line.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import socket
import tempfile
import threading

import docker
from fabric import Connection

from collector.data.errors import GpubenchError

DIAL_STDIO = "docker system dial-stdio"
CHUNK = 65536
# sshd allows 10 sessions per connection by default (MaxSessions); keep some for gpubench's own commands.
MAX_SESSIONS = 6
OPEN_RETRIES_S = (0.1, 0.3, 1.0, 2.0)  # a session just closed may not be released yet


class DockerOverSsh:
    """A docker.DockerClient for one host (`.client`, `.api`); close() ends the local socket and its channels."""

    def __init__(self, conn: Connection, *, timeout: float = 120.0):
        transport = conn.client.get_transport() if conn.client else None
        if transport is None or not transport.is_active():
            raise GpubenchError("SSH connection is not open", path=str(conn.host))
        self._transport = transport
        self._dir = tempfile.mkdtemp(prefix="gpubench-docker-")
        self.path = os.path.join(self._dir, "docker.sock")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        self._closed = threading.Event()
        self._sessions = threading.BoundedSemaphore(MAX_SESSIONS)
        threading.Thread(target=self._accept, name=f"docker-ssh-{conn.host}", daemon=True).start()
        try:
            self.client = docker.DockerClient(base_url=f"unix://{self.path}", version="auto", timeout=timeout)
        except docker.errors.DockerException as e:
            self.close()
            raise GpubenchError(f"cannot reach the Docker engine through SSH ({DIAL_STDIO}): "
                                f"{explain(e)}", path=str(conn.host)) from None
        self.api = self.client.api
        # One request per connection: each connection is an SSH session, and sshd allows only a few at once
        # (MaxSessions, 10 by default); kept-alive connections would hold them until the limit refuses the next.
        self.api.headers["Connection"] = "close"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                local, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pump, args=(local,), daemon=True).start()

    def _pump(self, local: socket.socket) -> None:
        """Bytes between one local connection and one `docker system dial-stdio` on the host, until both ends
        are done (an exec's stream stays open for as long as the exec runs)."""
        with self._sessions:
            channel = self._open_channel()
            if channel is None:
                local.close()
                return
            self._relay(local, channel)

    def _open_channel(self):
        for pause in (*OPEN_RETRIES_S, None):
            try:
                channel = self._transport.open_session()
                channel.exec_command(DIAL_STDIO)
                return channel
            except Exception:  # noqa: BLE001 - refused (too many sessions) or the connection is gone
                if pause is None or not self._transport.is_active() or self._closed.is_set():
                    return None
                self._closed.wait(pause)
        return None

    def _relay(self, local: socket.socket, channel) -> None:
        # What a login shell prints before `docker system dial-stdio` starts (a banner, a motd) is not the
        # engine's: the engine's first bytes on a connection are always its HTTP answer, so drop what precedes.
        preamble: bytes | None = b""
        try:
            while True:  # until either end is done
                readable, _, _ = select.select([local, channel], [], [], 1.0)
                if self._closed.is_set():
                    break
                if local in readable:
                    data = local.recv(CHUNK)
                    if data:
                        channel.sendall(data)
                    else:
                        # docker-py closed its end: done with this channel. Never send EOF on it (shutdown_write):
                        # when the daemon has just closed its side, sshd has freed the channel, and an EOF for a
                        # freed channel makes sshd drop the whole connection ("packet referred to nonexistent
                        # channel"). close() is guarded by paramiko against that race.
                        break
                if channel in readable:
                    data = channel.recv(CHUNK)
                    if data and preamble is not None:
                        preamble += data
                        start = preamble.find(b"HTTP/")
                        if start < 0 and len(preamble) < CHUNK:
                            continue
                        data, preamble = preamble[max(start, 0):], None
                    if not data:
                        break  # the daemon (or dial-stdio) is done: closing the local end tells docker-py
                    local.sendall(data)
        except Exception:  # noqa: BLE001 - the SSH connection went away (socket, EOF or paramiko error): the
            pass  # local end closes, and docker-py reports the request as failed
        finally:
            channel.close()
            local.close()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(Exception):
            if hasattr(self, "client"):
                self.client.close()
        self._listener.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def explain(error: Exception) -> str:
    """The cause of a Docker error in one line: the engine's own explanation (e.g. `could not select device driver
    "" with capabilities: [[gpu]]`), not docker-py's wrapping or the CLI's help hint."""
    text = getattr(error, "explanation", None) or str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())[-400:]
