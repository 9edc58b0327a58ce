"""Preflight of one host: the machine's facts in a single SSH command (GPUs, driver, free disk), Docker's through
docker-py (engine version, leftover gpubench containers).

The shell checks are sections of one script, so a host across an ocean costs one round trip, not four. The
inventory's values are the script's positional arguments: data, never shell syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import docker

from collector.data.errors import GpubenchError
from collector.fleet.containers import gpubench_containers
from collector.fleet.docker_api import explain
from collector.fleet.gpu_info import QUERY, GpuInventory, parse_gpu_query
from collector.fleet.inventory import Host
from collector.fleet.ssh import run

SCRIPT = r"""
cache=$1 mode=$2
shift 2  # what remains is the nvidia-smi query
section() { printf '\n@@gpubench-section %s\n' "$1"; }
done_() { printf '\n@@gpubench-exit %s\n' "$1"; }
if [ "$mode" = query-gpus ]; then
  section gpus; "$@" 2>&1; done_ $?
fi
section banner; nvidia-smi 2>&1; done_ $?
section disk; mkdir -p -- "$cache" 2>&1 && df -Pk -- "$cache" 2>&1; done_ $?
section cached; ls -1 -- "$cache/hub" 2>/dev/null; done_ 0
"""
SECTION = re.compile(r"\n@@gpubench-section (\w+)\n(.*?)\n@@gpubench-exit (\d+)\n", re.S)


@dataclass
class HostFacts:
    docker_version: str
    gpus: GpuInventory
    smi_text: str
    free_gb: float | None
    containers: list[dict]  # gpubench containers of this inventory host already there (name, labels, state)
    cached_models: list[str]  # model folders in the weights cache (hub/models--org--name)


def gather(conn, client: docker.DockerClient, host: Host) -> HostFacts:
    """Run every preflight check on the host and refuse it when one fails, saying which and why."""
    query = host.gpu_access != "rocm"
    args = [host.weights_cache, "query-gpus" if query else "no-gpus"]
    out = run(conn, "sh", "-c", SCRIPT, "gpubench-preflight", *args, *(QUERY if query else []), check=False,
              timeout=120)
    sections = {name: (body, int(code)) for name, body, code in SECTION.findall("\n" + out + "\n")}
    if "disk" not in sections:
        raise GpubenchError(f"preflight script gave no answer: {out.strip()[-200:] or 'no output'}")
    gpus, smi_text = _gpus(sections, host) if query else _unqueried_gpus(host)
    free_gb = _free_gb(sections, host)
    try:
        version = client.version().get("Version", "?")
        containers = gpubench_containers(client, host.name)
    except docker.errors.APIError as e:
        raise GpubenchError(f"Docker is not usable: {explain(e)}") from None
    cached = [line.strip() for line in sections.get("cached", ("", 0))[0].splitlines() if line.strip()]
    return HostFacts(version, gpus, smi_text, free_gb, containers, cached)


def _gpus(sections: dict, host: Host) -> tuple[GpuInventory, str]:
    gpu_text, code = sections.get("gpus", ("", 1))
    if code != 0:
        raise GpubenchError(f"nvidia-smi failed (exit {code}): {_last_line(gpu_text)}")
    banner = sections.get("banner", ("", 1))[0]
    gpus = parse_gpu_query(gpu_text, banner, host.name)
    if gpus.count < host.gpus:
        raise GpubenchError(f"nvidia-smi shows {gpus.count} GPU(s), the inventory expects {host.gpus}")
    return gpus, gpu_text + "\n" + banner


def _unqueried_gpus(host: Host) -> tuple[GpuInventory, str]:
    # rocm-smi's output is not parsed yet: the inventory's count stands, the rest stays unknown (empty).
    return GpuInventory(("",) * host.gpus, (None,) * host.gpus, None, None), "rocm: not queried"


def _free_gb(sections: dict, host: Host) -> float | None:
    disk, code = sections.get("disk", ("", 1))
    if code != 0:
        raise GpubenchError(f"weights_cache {host.weights_cache}: {_last_line(disk)}")
    rows = disk.strip().splitlines()
    free_gb = int(rows[-1].split()[3]) / 1e6 if len(rows) > 1 and len(rows[-1].split()) > 3 else None
    if host.min_free_gb > 0 and free_gb is not None and free_gb < host.min_free_gb:
        raise GpubenchError(f"only {free_gb:.1f} GB free in {host.weights_cache}, need {host.min_free_gb:g} GB "
                            "(min_free_gb)")
    return free_gb


def model_cached(facts: HostFacts, model: str) -> bool:
    """Whether the host's weights cache already holds the model (as the Hugging Face hub lays it out)."""
    return "models--" + model.replace("/", "--") in facts.cached_models


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][-200:] if lines else "no output"
