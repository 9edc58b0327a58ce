"""Running `gpubench collect` against the simulated fleet: an inventory of its hosts, the command, the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "hf_gpubenchTESTtoken_7Qz9XkP2"  # recognizable, so a leak is easy to find


def inventory(tmp_path: Path, hosts, *, model="meta-llama/Meta-Llama-3.1-70B-Instruct", batch_sizes=(1, 2, 4),
              runs=3, startup_timeout_s=60, benchmark_timeout_s=60, **overrides) -> Path:
    entries = []
    for h in hosts:
        entry = {"name": h.alias, "ssh": h.alias, "gpu": "H100 SXM", "gpus": 8,
                 "weights_cache": str(h.cache_dir), "price": {"usd_per_hr": 23.92, "date": "2025-01-15",
                                                               "source": "https://example.com/pricing"}}
        entry.update(overrides.get(h.alias, {}))
        entries.append(entry)
    doc = {"defaults": {"model": model, "gpu_access": "none", "min_free_gb": 0, "port": 8080,
                        "startup_timeout_s": startup_timeout_s, "benchmark_timeout_s": benchmark_timeout_s,
                        "benchmark": {"batch_sizes": list(batch_sizes), "runs": runs, "warmups": 1}},
           "hosts": entries}
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def collect_command(fleet, inventory_path: Path, data: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "collector.cli", "collect", str(inventory_path), "--data", str(data),
            "--ssh-config", str(fleet.ssh_config), "--known-hosts", str(fleet.known_hosts),
            "--logs", str(data.parent / "logs"), *extra]


def collect(fleet, inventory_path: Path, data: Path, *extra: str, token: str | None = TOKEN, timeout=300,
            env: dict | None = None):
    env = {**os.environ, "COLUMNS": "200", **(env or {})}
    env.pop("HF_TOKEN", None)
    if token:
        env["HF_TOKEN"] = token
    return subprocess.run(collect_command(fleet, inventory_path, data, *extra), capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout)


def files_containing(folder: Path, needle: str) -> list[Path]:
    hits = []
    for p in folder.rglob("*"):
        if p.is_file() and needle.encode() in p.read_bytes():
            hits.append(p)
    return hits


def benchmark_running(host) -> bool:
    """Whether text-generation-benchmark runs in a gpubench container of the host."""
    names = host.docker("ps", "--filter", "label=gpubench", "--format", "{{.Names}}").stdout.split()
    return any("text-generation-benchmark" in host.docker("exec", n, "ps", check=False).stdout for n in names)
