"""pytest fixtures for tests that need real SSH hosts with Docker and the stand-in TGI.

    def test_something(fleet):
        a, b = fleet(2)                 # Host objects (gpu-a, gpu-b), reset for this test
        a.set_standin(STARTUP_SECONDS=3, FAIL_BATCH=16)   # knobs: standin/README.md
        b.set_gpus(name="NVIDIA A100-SXM4-80GB", count=4)
        with a.connect() as conn:       # Fabric, known_hosts enforced
            conn.run("docker ps")       # DOCKER_HOST and PATH are a's
        a.docker("ps", "-a")            # the docker CLI against a's engine, from the test
        a.stop_sshd(); a.start_sshd()   # cut / restore SSH (the engine keeps running)
        assert fleet.gpubench_containers() == {}

Host: alias, address (127.0.0.<i+2>), port (2222 unless taken), ssh_config,
known_hosts, client_key, docker_host (unix://...), docker_socket, cache_dir (mount
it on /data), bin_dir, hostname, up; docker(*args, check=True, input=None,
timeout=120, text=True), gpubench_containers(), connect(), stop_sshd(kill_sessions=True),
start_sshd(), set_gpus(name=, count=, memory_mib=, driver=, cuda=),
remove_nvidia_smi(), set_standin(**knobs), reset().

`fleet`: fleet(n), down_host() (in ssh_config and known_hosts, nothing listens),
ssh_config, known_hosts, client_key, fabric_config(), connect(alias),
gpubench_containers() -> {alias: [names]} for containers labelled `gpubench`.

Engines start once per session, on first use, and are shared; each test gets its
hosts reset (sshd up, no containers, empty cache, default GPUs) and its containers
are removed after it.
"""
from __future__ import annotations

import pytest

from .fleet import Fleet, Host


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


_summaries: list[str] = []


@pytest.fixture(scope="session")
def fleet_pool():
    """The session's Fleet (hosts start on first use, stop at session end)."""
    pool = Fleet()
    try:
        yield pool
    finally:
        pool.close()
        _summaries.extend(pool.log)


def pytest_terminal_summary(terminalreporter):
    if _summaries:
        terminalreporter.write_sep("-", "gpubench test infrastructure")
        for line in _summaries:
            terminalreporter.write_line(line)


@pytest.fixture
def fleet(fleet_pool):
    """Factory: fleet(n) returns n reset hosts (see module docstring)."""
    factory = FleetFactory(fleet_pool)
    yield factory
    factory.cleanup()
