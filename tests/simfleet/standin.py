"""The stand-in images (built with `docker import`, no registry): TGI (standin/README.md), vLLM and SGLang
(standin_serving/README.md); and the stand-in `nvidia-smi` of each host. Knobs: those READMEs."""
from __future__ import annotations

import io
import json
import shlex
import subprocess
import tarfile
from pathlib import Path

STANDIN = Path(__file__).with_name("standin")
SERVING = Path(__file__).with_name("standin_serving")
BUSYBOX = "/bin/busybox"

TGI_REPOSITORY = "ghcr.io/huggingface/text-generation-inference"
STANDIN_IMAGE = f"{TGI_REPOSITORY}:3.3.5-standin"
# The pinned upstream tag too, so a collector using its default tag with pull
# policy "missing" finds the image locally.
IMAGE_TAGS = (STANDIN_IMAGE, f"{TGI_REPOSITORY}:3.3.5")

IMPORT_CHANGES = (
    'ENTRYPOINT ["/usr/local/bin/text-generation-launcher"]',
    "ENV PORT=80 HF_HOME=/data HUGGINGFACE_HUB_CACHE=/data",
    "WORKDIR /usr/src",
    "LABEL org.opencontainers.image.title=text-generation-inference-standin"
    " org.opencontainers.image.version=3.3.5",
)

PATH_ENV = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

VLLM_REPOSITORY = "vllm/vllm-openai"
VLLM_IMAGE = f"{VLLM_REPOSITORY}:v0.33.0-standin"
VLLM_IMAGE_TAGS = (VLLM_IMAGE, f"{VLLM_REPOSITORY}:v0.33.0")
VLLM_CHANGES = (
    'ENTRYPOINT ["vllm", "serve"]',
    PATH_ENV,
    "WORKDIR /vllm-workspace",
    "LABEL org.opencontainers.image.title=vllm-openai-standin org.opencontainers.image.version=0.33.0",
)

SGLANG_REPOSITORY = "lmsysorg/sglang"
SGLANG_IMAGE = f"{SGLANG_REPOSITORY}:v0.5.14-standin"
SGLANG_IMAGE_TAGS = (SGLANG_IMAGE, f"{SGLANG_REPOSITORY}:v0.5.14")
SGLANG_CHANGES = (
    PATH_ENV,
    "WORKDIR /sgl-workspace",
    "LABEL org.opencontainers.image.title=sglang-standin org.opencontainers.image.version=0.5.14",
)

# Defaults of the knobs in <cache>/standin.conf (standin/README.md; standin_serving/README.md for the last two).
KNOBS = {
    "STARTUP_SECONDS": "1",
    "FAIL_AT_START": "",
    "REQUIRE_TOKEN": "",
    "RUN_SECONDS": "0.05",
    "HANG": "",
    "FAIL_BATCH": "",
    "TGI_VERSION": "3.3.5",
    "BENCH_SECONDS": "0.5",
    "FAIL_CONCURRENCY": "",
}


def _add(tar: tarfile.TarFile, name: str, *, data: bytes | None = None, mode: int = 0o644,
         kind: bytes = tarfile.REGTYPE, target: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = 1700000000
    if kind == tarfile.SYMTYPE:
        info.linkname = target
        tar.addfile(info)
    elif kind == tarfile.DIRTYPE:
        tar.addfile(info)
    else:
        info.size = len(data or b"")
        tar.addfile(info, io.BytesIO(data or b""))


def _busybox_rootfs(tar: tarfile.TarFile, dirs: tuple[str, ...]) -> None:
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True)
    for d in ("bin", "usr", "usr/local", "usr/local/bin", "usr/local/lib", "usr/local/lib/standin", "etc", "root",
              "proc", "sys", "dev") + dirs:
        _add(tar, d, kind=tarfile.DIRTYPE, mode=0o755)
    _add(tar, "tmp", kind=tarfile.DIRTYPE, mode=0o1777)
    _add(tar, "bin/busybox", data=Path(BUSYBOX).read_bytes(), mode=0o755)
    for applet in applets.stdout.split():
        if applet != "busybox":
            _add(tar, f"bin/{applet}", kind=tarfile.SYMTYPE, target="busybox")
    _add(tar, "etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\n")
    _add(tar, "etc/group", data=b"root:x:0:\n")


def _add_tree(tar: tarfile.TarFile, root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            _add(tar, path.relative_to(root).as_posix(), data=path.read_bytes(), mode=0o755)


def rootfs_tarball() -> bytes:
    """The TGI image's root filesystem: busybox-static, its applets, the stand-in scripts."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _busybox_rootfs(tar, ("usr/src", "data"))
        _add_tree(tar, STANDIN / "rootfs")
    return buf.getvalue()


def serving_tarball(engine: str) -> bytes:
    """The root filesystem of the vLLM ("vllm") or SGLang ("sglang") image: busybox-static, the shared scripts
    (standin_serving/common) and the engine's own (standin_serving/<engine>)."""
    workdir = {"vllm": "vllm-workspace", "sglang": "sgl-workspace"}[engine]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _busybox_rootfs(tar, (workdir, "usr/bin", "root/.cache", "root/.cache/huggingface"))
        _add_tree(tar, SERVING / "common")
        _add_tree(tar, SERVING / engine)
        _add(tar, "usr/bin/python", kind=tarfile.SYMTYPE, target="python3")
    return buf.getvalue()


def tarballs() -> dict[str, bytes]:
    """Every stand-in image's root filesystem (build once, import into each engine with load_images)."""
    return {"tgi": rootfs_tarball(), "vllm": serving_tarball("vllm"), "sglang": serving_tarball("sglang")}


def _import(api, tarball: bytes, changes: tuple[str, ...], tags: tuple[str, ...]) -> str:
    """`docker import` through the Engine API (docker-py's APIClient: no CLI process per call)."""
    repository, tag = tags[0].rsplit(":", 1)
    answer = api.import_image_from_data(tarball, repository=repository, tag=tag, changes=list(changes))
    image_id = json.loads(answer.strip().splitlines()[-1])["status"]
    for other in tags[1:]:
        repository, tag = other.rsplit(":", 1)
        api.tag(image_id, repository, tag)
    return image_id


def load_image(engine, tarball: bytes | None = None) -> str:
    """Import the stand-in TGI image into a DockerEngine under IMAGE_TAGS; return its id."""
    return load_images(engine, {"tgi": tarball or rootfs_tarball()}, only=("tgi",))["tgi"]


def load_images(engine, built: dict[str, bytes] | None = None, only: tuple[str, ...] | None = None) -> dict[str, str]:
    """Import the TGI, vLLM and SGLang stand-in images into a DockerEngine; their ids by name."""
    import docker

    built = built or tarballs()
    jobs = {
        "tgi": (IMPORT_CHANGES, IMAGE_TAGS),
        "vllm": (VLLM_CHANGES, VLLM_IMAGE_TAGS),
        "sglang": (SGLANG_CHANGES, SGLANG_IMAGE_TAGS),
    }
    api = docker.APIClient(base_url=engine.docker_host, version="auto", timeout=120)
    try:
        return {name: _import(api, built[name], *jobs[name]) for name in (only or tuple(jobs))}
    finally:
        api.close()


def write_knobs(cache_dir: Path, **knobs: object) -> Path:
    """Write <cache_dir>/standin.conf; unknown knob names are refused."""
    unknown = set(knobs) - set(KNOBS)
    if unknown:
        raise ValueError(f"unknown stand-in knobs: {sorted(unknown)}")
    path = cache_dir / "standin.conf"
    lines = [f"{name}={shlex.quote(str(value))}" for name, value in knobs.items()]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
    return path


# ------------------------------------------------------------------ nvidia-smi

GPU_DEFAULTS = {
    "name": "NVIDIA H100 80GB HBM3",
    "count": 8,
    "memory_mib": 81559,
    "driver": "550.54.15",
    "cuda": "12.4",
}


def install_nvidia_smi(bin_dir: Path, conf: Path) -> Path:
    """Put the stand-in nvidia-smi in `bin_dir`, reading its GPUs from `conf`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = (STANDIN / "host" / "nvidia-smi").read_text()
    target = bin_dir / "nvidia-smi"
    target.write_text(script.replace("@CONF@", str(conf)))
    target.chmod(0o755)
    return target


def write_gpus(conf: Path, seed: str, **gpus: object) -> None:
    """GPU name, count, memory (MiB), driver and CUDA versions of one host."""
    unknown = set(gpus) - set(GPU_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown GPU settings: {sorted(unknown)}")
    values = {**GPU_DEFAULTS, **gpus}
    conf.write_text(
        f"GPU_NAME={shlex.quote(str(values['name']))}\n"
        f"GPU_COUNT={int(values['count'])}\n"
        f"GPU_MEMORY_MIB={int(values['memory_mib'])}\n"
        f"DRIVER_VERSION={shlex.quote(str(values['driver']))}\n"
        f"CUDA_VERSION={shlex.quote(str(values['cuda']))}\n"
        f"UUID_SEED={shlex.quote(seed)}\n"
    )
