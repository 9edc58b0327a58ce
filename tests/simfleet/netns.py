"""A host's own network and UTS namespaces, so that each simulated host has its
own loopback (two hosts can both run TGI on port 80 with `--network host`) and
its own hostname."""
from __future__ import annotations

import subprocess
from pathlib import Path

from .proc import spawn, stop

BUSYBOX = "/bin/busybox"


class HostNamespace:
    """Held open by a sleeping process; others join it with `nsenter`."""

    def __init__(self, hostname: str, log: Path):
        self.hostname = hostname
        self.proc = spawn(
            ["unshare", "--net", "--uts", "--", BUSYBOX, "sh", "-c",
             f"{BUSYBOX} hostname {hostname} && {BUSYBOX} ip link set lo up && echo ready"
             f" && exec {BUSYBOX} sleep 2147483647"],
            log=log,
            stdout=subprocess.PIPE,
        )
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            stop(self.proc)
            raise RuntimeError(f"could not create namespaces for {hostname}: see {log}")
        self.proc.stdout.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def enter(self) -> list[str]:
        """Command prefix that runs a program inside this host's namespaces."""
        return ["nsenter", f"--net=/proc/{self.pid}/ns/net", f"--uts=/proc/{self.pid}/ns/uts", "--"]

    def close(self) -> None:
        stop(self.proc)
