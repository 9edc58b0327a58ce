"""Preflight of one host in a single SSH command: Docker, GPUs, disk, leftover containers and the image.

Every check is a section of one shell script, so a host across an ocean costs one round trip, not six. The
inventory's values are the script's positional arguments: data, never shell syntax.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from collector.data.errors import GpubenchError
from collector.fleet.gpu_info import QUERY, GpuInventory, parse_gpu_query
from collector.fleet.inventory import Host
from collector.fleet.ssh import run

SCRIPT = r"""
cache=$1 host=$2 image=$3 mode=$4
shift 4  # what remains is the nvidia-smi query
section() { printf '\n@@gpubench-section %s\n' "$1"; }
done_() { printf '\n@@gpubench-exit %s\n' "$1"; }
section docker; docker version --format '{{.Server.Version}}' 2>&1; done_ $?
if [ "$mode" = query-gpus ]; then
  section gpus; "$@" 2>&1; done_ $?
fi
section banner; nvidia-smi 2>&1; done_ $?
section disk; mkdir -p -- "$cache" 2>&1 && df -Pk -- "$cache" 2>&1; done_ $?
section containers; docker ps --all --filter "label=gpubench.host=$host" --format '{{json .}}' 2>&1; done_ $?
section image; docker image inspect --format '{{json .}}' -- "$image" 2>/dev/null; done_ $?
"""
SECTION = re.compile(r"\n@@gpubench-section (\w+)\n(.*?)\n@@gpubench-exit (\d+)\n", re.S)


@dataclass
class HostFacts:
    docker_version: str
    gpus: GpuInventory
    smi_text: str
    free_gb: float | None
    containers: list[dict]
    image: dict | None  # `docker image inspect` of the inventory's image, None when absent


def gather(conn, host: Host) -> HostFacts:
    """Run every preflight check on the host and refuse it when one fails, saying which and why."""
    query = host.gpu_access != "rocm"
    args = [host.weights_cache, host.name, host.image, "query-gpus" if query else "no-gpus"]
    out = run(conn, "sh", "-c", SCRIPT, "gpubench-preflight", *args, *(QUERY if query else []), check=False,
              timeout=120)
    sections = {name: (body, int(code)) for name, body, code in SECTION.findall("\n" + out + "\n")}
    if "docker" not in sections:
        raise GpubenchError(f"preflight script gave no answer: {out.strip()[-200:] or 'no output'}")

    body, code = sections["docker"]
    if code != 0:
        raise GpubenchError(f"Docker is not reachable: {_last_line(body)}")

    if query:
        gpu_text, code = sections.get("gpus", ("", 1))
        if code != 0:
            raise GpubenchError(f"nvidia-smi failed (exit {code}): {_last_line(gpu_text)}")
        banner = sections.get("banner", ("", 1))[0]
        gpus = parse_gpu_query(gpu_text, banner, host.name)
        if gpus.count < host.gpus:
            raise GpubenchError(f"nvidia-smi shows {gpus.count} GPU(s), the inventory expects {host.gpus}")
        smi_text = gpu_text + "\n" + banner
    else:
        # rocm-smi's output is not parsed yet: the inventory's count stands, the rest stays unknown (empty).
        gpus = GpuInventory(("",) * host.gpus, (None,) * host.gpus, None, None)
        smi_text = "rocm: not queried"

    disk, code = sections.get("disk", ("", 1))
    if code != 0:
        raise GpubenchError(f"weights_cache {host.weights_cache}: {_last_line(disk)}")
    rows = disk.strip().splitlines()
    free_gb = int(rows[-1].split()[3]) / 1e6 if len(rows) > 1 and len(rows[-1].split()) > 3 else None
    if host.min_free_gb > 0 and free_gb is not None and free_gb < host.min_free_gb:
        raise GpubenchError(f"only {free_gb:.1f} GB free in {host.weights_cache}, need {host.min_free_gb:g} GB "
                            "(min_free_gb)")

    listing, code = sections.get("containers", ("", 1))
    containers = [json.loads(l) for l in listing.splitlines() if l.startswith("{")] if code == 0 else []

    image_text, code = sections.get("image", ("", 1))
    image = None
    if code == 0:
        try:
            doc = json.loads(image_text)
            image = doc if isinstance(doc, dict) else None
        except json.JSONDecodeError:
            image = None
    return HostFacts(_last_line(sections["docker"][0]), gpus, smi_text, free_gb, containers, image)


def _last_line(text: str) -> str:
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return lines[-1][-200:] if lines else "no output"
