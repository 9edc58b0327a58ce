"""Hugging Face TGI: what gpubench needs to know to run it and its static-batch benchmark.

The server is `text-generation-launcher` (the image's entrypoint) with `--num-shard` = GPUs; it opens its port only
when every shard is loaded, so `/health` answering 200 means ready; `/info` tells its version, model and dtype. The
benchmark, `text-generation-benchmark`, runs inside the server's container (see docs/reference/tgi-benchmark.md).
"""

from __future__ import annotations

from collector.fleet.inventory import Host
from collector.parsers.tgi_benchmark import (
    BATCH_SIZE_FLAG,
    REVISION_FLAG,
    parameter_flags,
)
from collector.settings import TOKEN_ENVS

NAME = "tgi"
LABEL = "gpubench"
HEALTH_PATH = "/health"
INFO_PATH = "/info"


def extra_launcher_args(host: Host) -> list[str]:
    """The launcher flags a reader needs besides model, revision, precision and shards (which have columns)."""
    return (["--sharded", "true"] if host.num_shard > 1 else []) + list(host.launcher_args)


def launcher_args(host: Host) -> list[str]:
    args = ["--model-id", host.model, "--num-shard", str(host.num_shard)]
    if host.num_shard > 1:
        args += ["--sharded", "true"]
    if host.revision:
        args += ["--revision", host.revision]
    if host.dtype:
        args += ["--dtype", host.dtype]
    if host.quantize:
        args += ["--quantize", host.quantize]
    if host.network == "host":
        args += ["--hostname", "127.0.0.1", "--port", str(host.port)]
    return args + list(host.launcher_args)


def docker_run_args(host: Host, name: str, session: str) -> list[str]:
    """`docker run` for the server. The token is passed by name only (`-e HF_TOKEN`): its value comes from the
    environment of the docker process, filled from stdin, so it is on no command line of either machine."""
    args = ["docker", "run", "--detach", "--name", name, "--label", f"{LABEL}=1", "--label", f"{LABEL}.host={host.name}",
            "--label", f"{LABEL}.session={session}", "--shm-size", host.shm_size,
            "--volume", f"{host.weights_cache}:/data"]
    if host.gpu_access == "nvidia":
        args += ["--gpus", "all"]
    elif host.gpu_access == "rocm":
        args += ["--device", "/dev/kfd", "--device", "/dev/dri", "--group-add", "video",
                 "--security-opt", "seccomp=unconfined"]
    if host.network == "host":
        args += ["--network", "host"]
    else:
        args += ["--publish", f"127.0.0.1:{host.port}:80"]
    for var in TOKEN_ENVS:
        args += ["--env", var]
    return args + [host.image] + launcher_args(host)


def benchmark_args(host: Host) -> list[str]:
    b = host.benchmark
    args = ["text-generation-benchmark"]
    if host.revision:
        args += [REVISION_FLAG, host.revision]
    for size in b.batch_sizes:
        args += [BATCH_SIZE_FLAG, str(size)]
    values = {"tokenizer": host.model, "sequence_length": b.sequence_length, "decode_length": b.decode_length,
              "n_runs": b.runs, "warmups": b.warmups}
    return args + [part for flag in parameter_flags(values) for part in flag]
