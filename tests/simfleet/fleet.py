"""A fleet of simulated GPU hosts on this machine: per host an OpenSSH server on
127.0.0.(i+2), a Docker engine with the stand-in TGI, vLLM and SGLang images, a
stand-in nvidia-smi, a weights cache folder, its own network namespace and hostname."""
from __future__ import annotations

import os
import shutil
import signal
import string
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import standin
from .dockerd import DockerEngine
from .netns import HostNamespace
from .proc import children_of, kill_pids, unmount_all, wait_for
from .sshd import SYSTEM_PATH, SshServer, free_port, generate_key, port_is_free, write_client_files

ROOT_PREFIX = "gb-"   # /tmp/gb-XXXXXXXX: unix socket paths must stay under 108 bytes
GPUBENCH_LABEL = "gpubench"
DOWN_ADDRESS = "127.0.0.254"


@dataclass
class Host:
    """One simulated GPU host. `alias` is its name in `ssh_config`."""

    index: int
    alias: str
    address: str
    port: int
    directory: Path
    fleet: "Fleet" = field(repr=False)
    namespace: HostNamespace | None = field(default=None, repr=False)
    engine: DockerEngine | None = field(default=None, repr=False)
    sshd: SshServer | None = field(default=None, repr=False)
    host_public_key: str | None = field(default=None, repr=False)

    # ---- what a collector is configured with
    @property
    def ssh_config(self) -> Path:
        return self.fleet.ssh_config

    @property
    def known_hosts(self) -> Path:
        return self.fleet.known_hosts

    @property
    def client_key(self) -> Path:
        return self.fleet.client_key

    @property
    def docker_socket(self) -> Path:
        return self.directory / "docker.sock"

    @property
    def docker_host(self) -> str:
        """The DOCKER_HOST that SSH sessions on this host see."""
        return f"unix://{self.docker_socket}"

    @property
    def cache_dir(self) -> Path:
        """This host's weights folder (mount it on /data); standin.conf goes here."""
        return self.directory / "cache"

    @property
    def bin_dir(self) -> Path:
        """First on the PATH of SSH sessions; holds the stand-in nvidia-smi."""
        return self.directory / "bin"

    @property
    def hostname(self) -> str:
        return self.alias

    @property
    def up(self) -> bool:
        return self.sshd is not None and self.sshd.running

    # ---- Docker
    def docker(self, *args: str, **kwargs):
        """Run the docker CLI against this host's engine (see DockerEngine.docker)."""
        if self.engine is None:
            raise RuntimeError(f"{self.alias} has no Docker engine")
        return self.engine.docker(*args, **kwargs)

    def gpubench_containers(self) -> list[str]:
        """Names of the containers (any state) labelled `gpubench` on this host."""
        if self.engine is None:
            return []
        out = self.docker("ps", "-a", "--filter", f"label={GPUBENCH_LABEL}", "--format", "{{.Names}}")
        return out.stdout.split()

    # ---- SSH
    def stop_sshd(self, kill_sessions: bool = True) -> None:
        """Close the SSH port; with kill_sessions also cut the open connections."""
        if self.sshd:
            self.sshd.stop(kill_sessions=kill_sessions)

    def start_sshd(self) -> None:
        if self.sshd:
            self.sshd.start()

    def connect(self, **kwargs):
        """A Fabric Connection to this host that enforces known_hosts (RejectPolicy)."""
        return self.fleet.connect(self.alias, **kwargs)

    # ---- GPUs and the stand-in image
    def set_gpus(self, **gpus) -> None:
        """Configure the stand-in nvidia-smi: name, count, memory_mib, driver, cuda."""
        standin.install_nvidia_smi(self.bin_dir, self.directory / "gpus.conf")
        standin.write_gpus(self.directory / "gpus.conf", seed=self.alias, **gpus)

    def remove_nvidia_smi(self) -> None:
        """A host without an NVIDIA driver: `nvidia-smi` is not found."""
        (self.bin_dir / "nvidia-smi").unlink(missing_ok=True)

    def set_standin(self, **knobs) -> Path:
        """Write <cache_dir>/standin.conf (knobs: standin/README.md, standin_serving/README.md)."""
        return standin.write_knobs(self.cache_dir, **knobs)

    def reset(self) -> None:
        """Back to a fresh host: sshd up, no containers, default GPUs, empty cache."""
        if self.sshd and not self.sshd.running:
            self.sshd.start()
        if self.engine:
            self.engine.remove_all_containers()
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.set_gpus()


class Fleet:
    """Hosts are created on demand (`hosts(n)`) and live until `close()`."""

    def __init__(self, root: Path | None = None, port: int = 2222):
        reap_stale_roots()
        self.root = root or Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir="/tmp"))
        (self.root / "owner.pid").write_text(str(os.getpid()))
        self.preferred_port = port
        self.client_dir = self.root / "client"
        self.client_dir.mkdir(parents=True, exist_ok=True)
        self.client_key = self.client_dir / "id_ed25519"
        self.client_public = generate_key(self.client_key, "gpubench-tests")
        self.authorized_keys = self.root / "authorized_keys"
        self.authorized_keys.write_text(self.client_public + "\n")
        self.ssh_config = self.client_dir / "ssh_config"
        self.known_hosts = self.client_dir / "known_hosts"
        self.all: list[Host] = []
        self._down: Host | None = None
        self._lock = threading.Lock()
        self.timings: dict[str, float] = {}
        self.log: list[str] = []   # start/stop summaries, shown at the end of a pytest run
        self._images: dict[str, bytes] | None = None   # the stand-in root filesystems, built once
        self._created: list[Host] = []   # including hosts whose start failed

    # ---- creating hosts
    def hosts(self, n: int) -> list[Host]:
        """The first n hosts (gpu-a, gpu-b, ...), started if needed."""
        with self._lock:
            if n > len(self.all):
                self._start(range(len(self.all), n))
            return self.all[:n]

    def _start(self, indexes: range) -> None:
        t0 = time.monotonic()
        new = []
        for i in indexes:
            alias = "gpu-" + string.ascii_lowercase[i] if i < 26 else f"gpu-{i}"
            address = f"127.0.0.{i + 2}"
            port = self.preferred_port if port_is_free(address, self.preferred_port) else free_port(address, self.preferred_port + 1)
            directory = self.root / f"host-{i}"
            directory.mkdir(parents=True, exist_ok=True)
            host = Host(i, alias, address, port, directory, self)
            host.namespace = HostNamespace(alias, directory / "netns.log")
            host.engine = DockerEngine(directory, host.namespace)
            new.append(host)
            self._created.append(host)
            host.engine.start()   # in parallel: each dockerd starts on its own
        for host in new:
            host.sshd = SshServer(
                alias=host.alias,
                address=host.address,
                port=host.port,
                directory=host.directory / "ssh",
                authorized_keys=self.authorized_keys,
                environment={
                    "DOCKER_HOST": host.docker_host,
                    "PATH": f"{host.bin_dir}:{SYSTEM_PATH}",
                },
                namespace=host.namespace,
            )
            host.host_public_key = host.sshd.prepare()
            host.cache_dir.mkdir(parents=True, exist_ok=True)
            host.set_gpus()
        pending = list(new)

        def engines_ready() -> bool:   # polls all engines in turn: they start in parallel
            pending[:] = [h for h in pending if not h.engine.ready()]
            return not pending

        wait_for(engines_ready, 60, "the Docker engines")
        t_engines = time.monotonic()
        if self._images is None:
            self._images = standin.tarballs()
        with ThreadPoolExecutor(max_workers=len(new)) as pool:
            list(pool.map(lambda h: standin.load_images(h.engine, self._images), new))
        t_images = time.monotonic()
        for host in new:
            self._start_sshd(host)
        self.all.extend(new)
        self._write_client_files()
        t_end = time.monotonic()
        self.timings = {
            "engines": t_engines - t0,
            "images": t_images - t_engines,
            "sshd": t_end - t_images,
            "total": t_end - t0,
        }
        summary = (
            f"{len(new)} host(s) up in {t_end - t0:.2f}s (dockerd {t_engines - t0:.2f}s in parallel, "
            f"image import {t_images - t_engines:.2f}s, sshd {t_end - t_images:.2f}s) under {self.root}"
        )
        self.log.append(summary)
        print(f"\n[gpubench infra] {summary}")

    def _start_sshd(self, host: Host) -> None:
        # Another test session on this machine may take a port between our check
        # and the bind: move to the next free one.
        for attempt in range(5):
            try:
                host.sshd.start()
                return
            except RuntimeError:
                if attempt == 4 or port_is_free(host.address, host.port):
                    raise
                host.port = host.sshd.port = free_port(host.address, host.port + 1)

    def down_host(self) -> Host:
        """A host in ssh_config and known_hosts whose address has nothing listening."""
        with self._lock:
            if self._down is None:
                directory = self.root / "host-down"
                directory.mkdir(exist_ok=True)
                host = Host(-1, "gpu-down", DOWN_ADDRESS, self.preferred_port, directory, self)
                host.host_public_key = generate_key(directory / "ssh_host_ed25519_key", "root@gpu-down")
                host.cache_dir.mkdir(exist_ok=True)
                self._down = host
                self._write_client_files()
            return self._down

    def _write_client_files(self) -> None:
        entries = [(h.alias, h.address, h.port, h.host_public_key) for h in self.all]
        if self._down:
            d = self._down
            entries.append((d.alias, d.address, d.port, d.host_public_key))
        write_client_files(self.client_dir, entries, self.client_key)

    # ---- using them
    def fabric_config(self):
        """A Fabric Config that reads this fleet's ssh_config. Local stdin is not
        forwarded (in_stream=False): under pytest reading it raises."""
        from fabric import Config

        return Config(runtime_ssh_path=str(self.ssh_config), overrides={"run": {"in_stream": False}})

    def connect(self, alias: str, **kwargs):
        """Fabric Connection with this fleet's known_hosts enforced (unknown or
        changed host keys are refused: Fabric itself would auto-add them)."""
        from fabric import Connection
        from paramiko import RejectPolicy

        conn = Connection(alias, config=self.fabric_config(), **kwargs)
        conn.client.load_host_keys(str(self.known_hosts))
        conn.client.set_missing_host_key_policy(RejectPolicy())
        return conn

    def gpubench_containers(self) -> dict[str, list[str]]:
        """Containers labelled `gpubench` on every engine, by host alias (empty ones left out)."""
        found = {h.alias: h.gpubench_containers() for h in self.all}
        return {alias: names for alias, names in found.items() if names}

    def close(self) -> None:
        t0 = time.monotonic()
        for host in self._created:
            if host.sshd:
                host.sshd.stop()
        with ThreadPoolExecutor(max_workers=max(1, len(self._created))) as pool:
            list(pool.map(lambda h: h.engine.close(), [h for h in self._created if h.engine]))
        for host in self._created:
            if host.namespace:
                host.namespace.close()
        unmount_all(self.root)
        shutil.rmtree(self.root, ignore_errors=True)
        summary = f"fleet stopped in {time.monotonic() - t0:.2f}s"
        self.log.append(summary)
        print(f"\n[gpubench infra] {summary}")


class FleetFactory:
    """`fleet(n)` -> the first n hosts; plus the fleet-wide files and helpers."""

    def __init__(self, pool: Fleet):
        self.pool = pool
        self.used: list[Host] = []

    def __call__(self, n: int = 1) -> list[Host]:
        hosts = self.pool.hosts(n)
        for host in hosts:
            if host not in self.used:
                host.reset()
                self.used.append(host)
        return hosts

    def down_host(self) -> Host:
        return self.pool.down_host()

    @property
    def ssh_config(self):
        return self.pool.ssh_config

    @property
    def known_hosts(self):
        return self.pool.known_hosts

    @property
    def client_key(self):
        return self.pool.client_key

    def fabric_config(self):
        return self.pool.fabric_config()

    def connect(self, alias: str, **kwargs):
        return self.pool.connect(alias, **kwargs)

    def gpubench_containers(self) -> dict[str, list[str]]:
        return self.pool.gpubench_containers()

    def cleanup(self) -> None:
        for host in self.used:
            host.start_sshd()
            if host.engine:
                host.engine.remove_all_containers()


def reap_stale_roots() -> None:
    """Remove what a crashed earlier session left in /tmp/gb-*: its processes
    (found by the root path in their command line, with their descendants),
    mounts and files. Roots whose owner process is alive are left alone."""
    for root in Path("/tmp").glob(ROOT_PREFIX + "*"):
        owner = root / "owner.pid"
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        if Path(f"/proc/{pid}").exists():
            continue
        marker = str(root) + "/"
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                pids.append(int(entry))
        victims = []
        for pid in pids:
            victims += children_of(pid) + [pid]
        kill_pids(victims, signal.SIGKILL)
        unmount_all(root)
        shutil.rmtree(root, ignore_errors=True)
