"""The stand-in TGI image (built with `docker import`, no registry) and the
stand-in `nvidia-smi` of each host. Knobs: standin/README.md."""
from __future__ import annotations

import io
import shlex
import subprocess
import tarfile
from pathlib import Path

STANDIN = Path(__file__).with_name("standin")
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

# Defaults of the knobs in <cache>/standin.conf (see README.md).
KNOBS = {
    "STARTUP_SECONDS": "1",
    "FAIL_AT_START": "",
    "REQUIRE_TOKEN": "",
    "RUN_SECONDS": "0.05",
    "HANG": "",
    "FAIL_BATCH": "",
    "TGI_VERSION": "3.3.5",
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


def rootfs_tarball() -> bytes:
    """The image's root filesystem: busybox-static, its applets, the stand-in scripts."""
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "usr", "usr/local", "usr/local/bin", "usr/local/lib",
                  "usr/local/lib/standin", "usr/src", "etc", "root", "data",
                  "proc", "sys", "dev"):
            _add(tar, d, kind=tarfile.DIRTYPE, mode=0o755)
        _add(tar, "tmp", kind=tarfile.DIRTYPE, mode=0o1777)
        _add(tar, "bin/busybox", data=Path(BUSYBOX).read_bytes(), mode=0o755)
        for applet in applets.stdout.split():
            if applet != "busybox":
                _add(tar, f"bin/{applet}", kind=tarfile.SYMTYPE, target="busybox")
        _add(tar, "etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\n")
        _add(tar, "etc/group", data=b"root:x:0:\n")
        for path in sorted((STANDIN / "rootfs").rglob("*")):
            if path.is_file():
                rel = path.relative_to(STANDIN / "rootfs").as_posix()
                _add(tar, rel, data=path.read_bytes(), mode=0o755)
    return buf.getvalue()


def load_image(engine, tarball: bytes | None = None) -> str:
    """Import the stand-in image into a DockerEngine under IMAGE_TAGS; return its id."""
    args = ["import"]
    for change in IMPORT_CHANGES:
        args += ["--change", change]
    image_id = engine.docker(*args, "-", IMAGE_TAGS[0], input=tarball or rootfs_tarball()).stdout
    for tag in IMAGE_TAGS[1:]:
        engine.docker("tag", IMAGE_TAGS[0], tag)
    return image_id.decode().strip()


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
