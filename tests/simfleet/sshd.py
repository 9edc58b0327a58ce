"""Real OpenSSH servers for simulated hosts, and the client files to reach them.

Each host's sshd is socket-activated (see sshgate.py): a listener on
127.0.0.x:port hands each connection to `sshd -i -f <host's sshd_config>` run in
the host's namespaces. Root logs in by key only; the session environment
(DOCKER_HOST, PATH with the host's bin/ first) comes from `SetEnv`.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .netns import HostNamespace
from .proc import spawn, stop, wait_for

SSHD = "/usr/sbin/sshd"
SSHGATE = Path(__file__).with_name("sshgate.py")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def generate_key(path: Path, comment: str) -> str:
    """Write an ed25519 key pair at `path` (+ .pub); return the public key line."""
    if not path.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
            check=True,
        )
    return path.with_suffix(".pub").read_text().strip()


def port_is_free(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def free_port(address: str, preferred: int = 2222) -> int:
    for port in range(preferred, preferred + 200):
        if port_is_free(address, port):
            return port
    raise RuntimeError(f"no free port near {preferred} on {address}")


def is_listening(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class SshServer:
    """One host's sshd: `start()` opens the port, `stop()` closes it."""

    alias: str
    address: str
    port: int
    directory: Path
    authorized_keys: Path
    environment: dict[str, str]
    namespace: HostNamespace | None = None
    gate: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def host_key(self) -> Path:
        return self.directory / "ssh_host_ed25519_key"

    @property
    def config(self) -> Path:
        return self.directory / "sshd_config"

    @property
    def log(self) -> Path:
        return self.directory / "sshd.log"

    def prepare(self) -> str:
        """Generate the host key and sshd_config; return the host's public key."""
        self.directory.mkdir(parents=True, exist_ok=True)
        public = generate_key(self.host_key, f"root@{self.alias}")
        setenv = " ".join(f"{k}={v}" for k, v in self.environment.items())
        self.config.write_text(
            f"""\
HostKey {self.host_key}
PidFile none
AuthorizedKeysFile {self.authorized_keys}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
UseDNS no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
X11Forwarding no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
Subsystem sftp internal-sftp
# SHLVL=1 makes bash treat the session's shell as nested, so it does not source
# root's ~/.bashrc (which may rewrite PATH): the command sees exactly this env.
SetEnv {setenv} SHLVL=1
"""
        )
        # sshd checks its config at start; fail here rather than on each connection.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir
        subprocess.run([SSHD, "-t", "-f", str(self.config)], check=True)
        return public

    def start(self) -> None:
        if self.running:
            return
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        sshd = [SSHD, "-i", "-f", str(self.config), "-E", str(self.log)]
        if self.namespace:
            sshd = self.namespace.enter() + sshd
        self.gate = spawn(
            [sys.executable, str(SSHGATE), self.address, str(self.port), "--", *sshd],
            log=self.directory / "sshgate.log",
            stdout=subprocess.PIPE,
        )
        line = self.gate.stdout.readline()
        self.gate.stdout.close()
        if line.strip() != b"listening":
            stop(self.gate)
            raise RuntimeError(
                f"sshd of {self.alias} did not start: {(self.directory / 'sshgate.log').read_text()}"
            )

    def stop(self, kill_sessions: bool = True) -> None:
        """Close the port. With kill_sessions, also cut every open connection."""
        if self.gate is None:
            return
        if kill_sessions:
            stop(self.gate)
        else:
            self.gate.kill()
            self.gate.wait()
        self.gate = None
        wait_for(lambda: not is_listening(self.address, self.port), 5, f"{self.alias} to close")

    @property
    def running(self) -> bool:
        return self.gate is not None and self.gate.poll() is None


def write_client_files(
    directory: Path,
    hosts: list[tuple[str, str, int, str | None]],
    identity: Path,
) -> tuple[Path, Path]:
    """ssh_config and known_hosts for (alias, address, port, host public key) entries."""
    ssh_config = directory / "ssh_config"
    known_hosts = directory / "known_hosts"
    config_lines, known_lines = [], []
    for alias, address, port, public in hosts:
        config_lines += [
            f"Host {alias}",
            f"    HostName {address}",
            f"    Port {port}",
            "    User root",
            f"    IdentityFile {identity}",
            "    IdentitiesOnly yes",
            f"    UserKnownHostsFile {known_hosts}",
            "    GlobalKnownHostsFile /dev/null",
            "    StrictHostKeyChecking yes",
            "    ConnectTimeout 5",
            "",
        ]
        if public:
            kind, key = public.split()[:2]
            known_lines.append(f"[{address}]:{port} {kind} {key}")
    ssh_config.write_text("\n".join(config_lines))
    known_hosts.write_text("\n".join(known_lines) + "\n")
    return ssh_config, known_hosts
