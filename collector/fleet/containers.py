"""Containers on a host's Docker engine, driven over the host's SSH connection: image, start, state, logs, removal.

The Docker CLI on the host is driven with `--format '{{json .}}'`, so answers are structured (state, digest, labels).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fabric import Connection

from collector.data.errors import GpubenchError
from collector.engines import tgi
from collector.engines.tgi import LABEL
from collector.fleet.inventory import Host
from collector.fleet.ssh import command, run

LOG_TAIL_LINES = 200


@dataclass
class ImageInfo:
    reference: str
    digest: str | None
    image_id: str | None
    version_label: str | None


def ensure_image(conn: Connection, host: Host, present: dict | None) -> ImageInfo:
    """Make sure the image is on the host per the pull policy and return its digest. `present` is what
    `docker image inspect` said in the preflight (None: not on the host)."""
    if host.pull == "always" or (present is None and host.pull == "missing"):
        run(conn, "docker", "pull", "--quiet", host.image, timeout=3600)
        present = _image_inspect(conn, host.image)
    if present is None:
        raise GpubenchError(f"image {host.image} is not on the host and pull policy is {host.pull!r}")
    digests = present.get("RepoDigests") or []
    labels = (present.get("Config") or {}).get("Labels") or {}
    return ImageInfo(host.image, digests[0].split("@", 1)[-1] if digests else None, present.get("Id"),
                     labels.get("org.opencontainers.image.version"))


def _image_inspect(conn: Connection, image: str) -> dict | None:
    out = run(conn, "docker", "image", "inspect", "--format", "{{json .}}", image, check=False)
    try:
        doc = json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def start_server(conn: Connection, host: Host, name: str, session: str, token: str | None) -> str:
    """Start the container; returns its id. The token travels on stdin into the environment of `docker run`."""
    script = 'IFS= read -r HF_TOKEN; export HF_TOKEN HUGGING_FACE_HUB_TOKEN="$HF_TOKEN"; exec "$@"'
    if not token:
        script = 'unset HF_TOKEN HUGGING_FACE_HUB_TOKEN; exec "$@"'
    out = run(conn, "sh", "-c", script, "gpubench-start", *tgi.docker_run_args(host, name, session),
              stdin=(token or "") + "\n", timeout=300)
    return out.strip().splitlines()[-1] if out.strip() else name


def logs_tail(conn: Connection, name: str, lines: int = LOG_TAIL_LINES) -> str:
    return run(conn, "sh", "-c", 'docker logs --tail "$1" "$2" 2>&1', "gpubench-logs", lines, name,
               check=False, timeout=60)


def state_and_last_log_line(conn: Connection, name: str) -> tuple[dict | None, str]:
    """The container's state and its newest log line, in one command on the host."""
    script = ('docker container inspect --format "{{json .State}}" "$1" 2>/dev/null || echo null; '
              'docker logs --tail 1 "$1" 2>&1 | tail -n 1')
    out = run(conn, "sh", "-c", script, "gpubench-state", name, check=False).splitlines()
    try:
        state = json.loads(out[0]) if out else None
    except json.JSONDecodeError:
        state = None
    return (state if isinstance(state, dict) else None), (out[1].strip() if len(out) > 1 else "")


def remove_container(conn: Connection, name: str) -> None:
    """Remove a container, running or not; one that is already gone counts as removed."""
    result = conn.run(command("docker", "rm", "--force", "--volumes", name), hide=True, warn=True, timeout=120)
    if result.exited != 0 and "No such container" not in result.stderr:
        raise GpubenchError(f"docker rm {name} failed: {result.stderr.strip()[-200:]}")


def list_gpubench_containers(conn: Connection, host_name: str | None = None) -> list[dict]:
    label = f"{LABEL}.host={host_name}" if host_name else f"{LABEL}=1"
    out = run(conn, "docker", "ps", "--all", "--filter", f"label={label}", "--format", "{{json .}}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]
