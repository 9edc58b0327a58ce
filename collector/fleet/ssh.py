"""SSH to one host with Fabric: a connection whose host key is checked, commands built from argument lists
(every value quoted, so inventory strings reach the host as data), and HTTP through the SSH connection itself."""

from __future__ import annotations

import json
import logging
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path

import paramiko
from fabric import Config, Connection

from collector.data.errors import GpubenchError
from collector.fleet.inventory import SSH_TARGET, Host

# paramiko logs every refused port-forward while the server starts ("Secsh channel open FAILED"): expected, noise.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class SshOptions:
    ssh_config: Path | None = None  # default: ~/.ssh/config
    known_hosts: Path | None = None  # default: UserKnownHostsFile of the ssh config, else ~/.ssh/known_hosts
    accept_new_host_keys: bool = False  # like StrictHostKeyChecking=accept-new
    connect_timeout_s: float = 15.0


class AcceptNewHostKey(paramiko.MissingHostKeyPolicy):
    """Trust a host seen for the first time and remember it; a changed key is still refused by paramiko."""

    def __init__(self, known_hosts: Path):
        self.known_hosts = known_hosts

    def missing_host_key(self, client, hostname, key):
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
        with open(self.known_hosts, "a") as f:
            f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")


def fingerprint(key: paramiko.PKey) -> str:
    return f"{key.get_name()} SHA256:{key.fingerprint.split(':', 1)[-1]}" if hasattr(key, "fingerprint") \
        else key.get_name()


SYSTEM_KNOWN_HOSTS = Path("/etc/ssh/ssh_known_hosts")


def connection(host: Host, options: SshOptions) -> Connection:
    """The (not yet open) connection to a host: ssh_config applied, the inventory's jump host as gateway, and every
    hop's host key checked the same way (Fabric would otherwise add unknown jump-host keys without a word)."""
    overrides: dict = {"load_ssh_configs": True, "timeouts": {"connect": options.connect_timeout_s}}
    if options.ssh_config:
        overrides["ssh_config_path"] = str(options.ssh_config)
    match = SSH_TARGET.match(host.ssh)
    assert match  # validated by the inventory
    connect_kwargs: dict = {"banner_timeout": options.connect_timeout_s, "auth_timeout": options.connect_timeout_s}
    if host.identity_file:
        connect_kwargs["key_filename"] = str(Path(host.identity_file).expanduser())
    gateway = None
    if host.jump:  # the same key file for the jump host, as `ssh -J` with -i does
        gateway = connection(Host(name=f"{host.name}-jump", ssh=host.jump, gpu=host.gpu, gpus=host.gpus,
                                  model=host.model, identity_file=host.identity_file), options)
    conn = Connection(match.group("host").strip("[]"), user=match.group("user"),
                      port=int(match.group("port")) if match.group("port") else None,
                      config=Config(overrides=overrides), connect_kwargs=connect_kwargs, gateway=gateway)
    hop: object = conn
    while isinstance(hop, Connection):  # this host, then each jump host (inventory `jump:` or ProxyJump)
        _check_host_keys(hop, options)
        hop = hop.gateway
    return conn


def _check_host_keys(conn: Connection, options: SshOptions) -> None:
    files = known_hosts_files(conn, options)
    client = conn.client
    client._host_keys = paramiko.HostKeys()  # only the files named, not whatever paramiko found by default
    for path in files:
        if path.exists():
            client._host_keys.load(str(path))
    client.set_missing_host_key_policy(
        AcceptNewHostKey(files[0]) if options.accept_new_host_keys else paramiko.RejectPolicy())


def known_hosts_files(conn: Connection, options: SshOptions) -> list[Path]:
    """Where host keys are known, as ssh reads them: --known-hosts, else every UserKnownHostsFile of the ssh config
    (default ~/.ssh/known_hosts), then the system-wide file. New keys go to the first."""
    if options.known_hosts:
        return [options.known_hosts]
    value = conn.ssh_config.get("userknownhostsfile")
    user = [Path(v).expanduser() for v in value.split()] if value else [Path("~/.ssh/known_hosts").expanduser()]
    system = conn.ssh_config.get("globalknownhostsfile")
    return user + ([Path(v) for v in system.split()] if system else [SYSTEM_KNOWN_HOSTS])


def machine_of(host: Host, options: SshOptions) -> tuple[str, int]:
    """The machine an inventory entry reaches, after ssh_config (HostName, Port): entries that share one must not
    run at the same time (they would share its GPUs)."""
    conn = connection(host, options)
    return conn.host, conn.port


def connect(host: Host, options: SshOptions) -> Connection:
    """Open an SSH connection to the host, refusing unknown host keys unless told to accept new ones."""
    conn = connection(host, options)
    known_hosts = known_hosts_files(conn, options)[0]
    target = f"{conn.user}@{conn.host}:{conn.port}"
    try:
        conn.open()
    except paramiko.BadHostKeyException as e:
        raise GpubenchError(
            f"host key of {target} has CHANGED (now {fingerprint(e.key)}, known as {fingerprint(e.expected_key)}): "
            f"refusing to connect. If the host was rebuilt, remove its line from {known_hosts}") from None
    except paramiko.SSHException as e:
        if "not found in known_hosts" in str(e):
            transport = conn.client.get_transport()
            key = transport.get_remote_server_key() if transport else None
            shown = f" (key {fingerprint(key)})" if key else ""
            raise GpubenchError(
                f"host key of {target} (or of its jump host) is unknown{shown}: refusing to connect. Check it, then "
                f"add it to {known_hosts} (ssh-keyscan) or pass --accept-new-host-keys") from None
        raise GpubenchError(f"SSH to {target} failed: {e}") from None
    except (socket.timeout, TimeoutError):
        raise GpubenchError(f"SSH to {target} timed out after {options.connect_timeout_s:.0f} s: host down?") from None
    except OSError as e:
        raise GpubenchError(f"cannot reach {target}: {e.strerror or e}") from None
    return conn


def command(*argv: str | int) -> str:
    """A shell command line from arguments, each quoted: values are data, never shell syntax."""
    return " ".join(shlex.quote(str(a)) for a in argv)


def run(conn: Connection, *argv: str | int, stdin: str | None = None, timeout: float | None = 120,
        check: bool = True) -> str:
    """Run a command on the host and return its stdout; a failure raises with the command's stderr."""
    line = command(*argv)
    try:
        result = conn.run(line, hide=True, warn=True, in_stream=_stdin(stdin), timeout=timeout)
    except Exception as e:  # invoke's CommandTimedOut, paramiko/socket errors
        raise GpubenchError(f"{argv[0]} on {conn.host}: {type(e).__name__}: {e}".strip()) from None
    if check and result.exited != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise GpubenchError(f"{' '.join(map(str, argv[:3]))} on {conn.host} failed (exit {result.exited}): "
                            + (detail[-1] if detail else "no output"))
    return result.stdout


def _stdin(text: str | None):
    import io

    return io.StringIO(text) if text is not None else False


def http_get(conn: Connection, port: int, path: str, timeout: float = 10.0) -> tuple[int, str]:
    """GET http://127.0.0.1:<port><path> on the host, through the SSH connection (no public port needed).

    Returns (status, body); raises ConnectionRefusedError while nothing listens on the port."""
    transport = conn.client.get_transport()
    if transport is None or not transport.is_active():
        raise GpubenchError(f"SSH connection to {conn.host} was lost")
    try:
        channel = transport.open_channel("direct-tcpip", ("127.0.0.1", port), ("127.0.0.1", 0), timeout=timeout)
    except paramiko.ChannelException as e:
        raise ConnectionRefusedError(e.text if hasattr(e, "text") else str(e)) from None
    try:
        channel.settimeout(timeout)
        channel.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while True:
            chunk = channel.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        channel.close()
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise ConnectionRefusedError("no HTTP answer yet")
    return int(status_line[1]), body.decode("utf-8", errors="replace")


def http_json(conn: Connection, port: int, path: str) -> dict | None:
    status, body = http_get(conn, port, path)
    if status != 200:
        return None
    try:
        doc = json.loads(body)
    except json.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None
