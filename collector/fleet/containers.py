"""Containers on a host's Docker engine, through docker-py (collector.fleet.docker_api): image, start, state,
logs, files, removal. No docker command line is built anywhere: structured answers, and the token travels in the
API request that creates the container."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from types import ModuleType

import docker
from docker.types import DeviceRequest

from collector.data.errors import GpubenchError
from collector.engines import LABEL
from collector.fleet.docker_api import explain
from collector.fleet.inventory import Host
from collector.settings import TOKEN_ENVS

LOG_TAIL_LINES = 200
PULL_TIMEOUT_S = 3600


@dataclass
class ImageInfo:
    reference: str
    digest: str | None
    image_id: str | None
    version_label: str | None


def image_info(client: docker.DockerClient, reference: str) -> ImageInfo | None:
    """What the host has under this reference (None: not there)."""
    try:
        image = client.images.get(reference)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as e:
        raise GpubenchError(f"image {reference}: {explain(e)}") from None
    digests = image.attrs.get("RepoDigests") or []
    labels = (image.attrs.get("Config") or {}).get("Labels") or {}
    return ImageInfo(reference, digests[0].split("@", 1)[-1] if digests else None, image.id,
                     labels.get("org.opencontainers.image.version"))


def ensure_image(client: docker.DockerClient, host: Host) -> ImageInfo:
    """Make sure the image is on the host per the pull policy and return its digest."""
    assert host.image  # resolved by Host.per_engine
    present = image_info(client, host.image)
    if host.pull == "always" or (present is None and host.pull == "missing"):
        repository, _, tag = host.image.rpartition(":") if "@" not in host.image else (host.image, "", "")
        try:
            client.api.pull(repository or host.image, tag=tag or None)
        except docker.errors.APIError as e:
            raise GpubenchError(f"cannot pull {host.image}: {explain(e)}") from None
        present = image_info(client, host.image)
    if present is None:
        raise GpubenchError(f"image {host.image} is not on the host and pull policy is {host.pull!r}")
    return present


@dataclass(frozen=True)
class ServerContainer:
    """Everything `docker run` would be told, as data."""

    name: str
    image: str
    command: list[str]
    port: int
    labels: dict[str, str]


def server_container(host: Host, engine: ModuleType, name: str, session: str) -> ServerContainer:
    labels = {LABEL: "1", f"{LABEL}.host": host.name, f"{LABEL}.session": session, f"{LABEL}.engine": engine.NAME}
    assert host.image and host.port
    return ServerContainer(name, host.image, engine.server_command(host, host.port), host.port, labels)


def start_server(client: docker.DockerClient, host: Host, engine: ModuleType, spec: ServerContainer,
                 token: str | None) -> None:
    """Create and start the server's container. The token is in the environment of the create request only."""
    options: dict = dict(
        name=spec.name, command=spec.command, labels=spec.labels, detach=True,
        shm_size=host.shm_size or engine.SHM_SIZE,
        volumes={host.weights_cache: {"bind": engine.CACHE_DIR, "mode": "rw"}},
        environment={var: token for var in TOKEN_ENVS} if token else {},
    )
    if host.gpu_access == "nvidia":
        options["device_requests"] = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    elif host.gpu_access == "rocm":
        options.update(devices=["/dev/kfd", "/dev/dri"], group_add=["video"], security_opt=["seccomp=unconfined"])
    if host.network == "host":
        options["network_mode"] = "host"
    else:
        options["ports"] = {f"{engine.CONTAINER_PORT}/tcp": ("127.0.0.1", spec.port)}
    try:
        client.containers.run(spec.image, **options)
    except docker.errors.APIError as e:
        raise GpubenchError(f"Docker could not start the server: {explain(e)}") from None


def container_state(client: docker.DockerClient, name: str) -> dict | None:
    try:
        return client.api.inspect_container(name).get("State")
    except docker.errors.NotFound:
        return None


def logs_tail(client: docker.DockerClient, name: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return client.api.logs(name, tail=lines).decode("utf-8", "replace")
    except docker.errors.NotFound:
        return ""


def read_file(client: docker.DockerClient, name: str, path: str) -> bytes:
    """One file out of a container (docker cp), e.g. a benchmark's result JSON."""
    try:
        stream, _ = client.api.get_archive(name, path)
    except docker.errors.NotFound:
        raise GpubenchError(f"no file {path} in container {name}") from None
    archive = tarfile.open(fileobj=io.BytesIO(b"".join(stream)))
    member = next((m for m in archive.getmembers() if m.isfile()), None)
    content = archive.extractfile(member) if member is not None else None
    if content is None:
        raise GpubenchError(f"{path} in container {name} is not a file")
    return content.read()


def remove_container(client: docker.DockerClient, name: str) -> None:
    """Remove a container, running or not; one that is already gone counts as removed."""
    try:
        client.api.remove_container(name, force=True, v=True)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as e:
        if "No such container" in explain(e) or "is already in progress" in explain(e):
            return
        raise GpubenchError(f"cannot remove container {name}: {explain(e)}") from None


def gpubench_containers(client: docker.DockerClient, host_name: str | None = None) -> list[dict]:
    """Containers carrying gpubench's label (of one inventory host, when named): name and labels."""
    label = f"{LABEL}.host={host_name}" if host_name else f"{LABEL}=1"
    found = client.api.containers(all=True, filters={"label": label})
    return [{"name": c["Names"][0].lstrip("/"), "labels": c.get("Labels") or {}, "state": c.get("State")}
            for c in found]
