"""Real Docker engines, one per simulated host, each with its own containerd.

We start containerd ourselves (dockerd would use a system containerd if one were
running, and then every engine's containers would share it and its network).
No bridge and no iptables: containers use `--network host`, which here is the
host's own network namespace (see netns.py).
"""
from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .netns import HostNamespace
from .proc import spawn, stop, unmount_all

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"


CONTAINERD = "/usr/bin/containerd"
CONTAINERD_CONFIG = """\
version = 2
root = "{dir}/root"
state = "{dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{dir}/containerd.sock"

[debug]
  level = "warn"
"""


@dataclass
class DockerEngine:
    directory: Path
    namespace: HostNamespace | None = None
    proc: subprocess.Popen | None = field(default=None, repr=False)
    containerd: subprocess.Popen | None = field(default=None, repr=False)
    started_at: float = 0.0
    _enter: list = field(default_factory=list, repr=False)

    @property
    def socket(self) -> Path:
        return self.directory / "docker.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log(self) -> Path:
        return self.directory / "dockerd.log"

    def start(self) -> None:
        """Start containerd; `ready()` starts dockerd once containerd listens (dockerd
        would otherwise back off for a second). Neither waits, so engines start in
        parallel: call `ready()` until it returns True."""
        for sub in ("data", "exec", "ctd"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        ctd = self.directory / "ctd"
        (ctd / "config.toml").write_text(CONTAINERD_CONFIG.format(dir=ctd))
        enter = self.namespace.enter() if self.namespace else []
        self.started_at = time.monotonic()
        self.containerd = spawn(enter + [CONTAINERD, "--config", str(ctd / "config.toml")],
                                log=self.directory / "containerd.log")
        self._enter = enter

    def _start_dockerd(self) -> None:
        ctd = self.directory / "ctd"
        args = [
            DOCKERD,
            "--data-root", str(self.directory / "data"),
            "--exec-root", str(self.directory / "exec"),
            "--pidfile", str(self.directory / "dockerd.pid"),
            "-H", self.docker_host,
            "--bridge=none", "--iptables=false", "--ip6tables=false",
            "--ip-forward=false", "--ip-masq=false",
            "--userland-proxy=false",
            "--storage-driver=overlay2",
            "--containerd", str(ctd / "containerd.sock"),
        ]
        self.proc = spawn(self._enter + args, log=self.log)

    def ready(self) -> bool:
        if self.proc is None and self.containerd is not None and self.containerd.poll() is None:
            if not (self.directory / "ctd" / "containerd.sock").exists():
                return False
            self._start_dockerd()
        for name, proc in (("containerd", self.containerd), ("dockerd", self.proc)):
            if proc is None or proc.poll() is not None:
                log = self.directory / f"{name}.log"
                raise RuntimeError(f"{name} exited; {log}:\n{log.read_text()[-3000:]}")
        return self.docker("info", "--format", "{{.ID}}", check=False).returncode == 0

    def docker(
        self,
        *args: str,
        check: bool = True,
        input: bytes | str | None = None,
        timeout: float = 120,
        text: bool = True,
    ) -> subprocess.CompletedProcess:
        """Run the docker CLI against this engine (output as text unless text=False)."""
        if isinstance(input, bytes):
            text = False
        return subprocess.run(
            [DOCKER, "-H", self.docker_host, *args],
            input=input,
            capture_output=True,
            check=check,
            timeout=timeout,
            text=text,
        )

    def containers(self, *filters: str) -> list[str]:
        """Ids of all containers (running or not) matching `docker ps` filters."""
        args = ["ps", "-aq", "--no-trunc"]
        for f in filters:
            args += ["--filter", f]
        return self.docker(*args).stdout.split()

    def remove_all_containers(self) -> None:
        ids = self.containers()
        if ids:
            self.docker("rm", "-f", "-v", *ids, check=False)

    def close(self) -> None:
        """Remove containers, stop dockerd (and its containerd), unmount, delete."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.remove_all_containers()
            except Exception:
                pass
            stop(self.proc, timeout=20)
        stop(self.containerd, timeout=10)
        self.proc = self.containerd = None
        unmount_all(self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)
