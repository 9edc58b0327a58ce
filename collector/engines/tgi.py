"""Hugging Face TGI: what gpubench needs to know to run it and its static-batch benchmark.

The server is `text-generation-launcher` (the image's entrypoint) with `--num-shard` = GPUs; it opens its port only
when every shard is loaded, so `/health` answering 200 means ready; `/info` tells its version, model and dtype. The
benchmark, `text-generation-benchmark`, runs inside the server's container under a terminal
(see docs/reference/tgi-benchmark.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.parsers.tgi_benchmark import BATCH_SIZE_FLAG, REVISION_FLAG, TOOL, parameter_flags

if TYPE_CHECKING:  # the inventory imports the engines for their defaults
    from collector.fleet.inventory import Host

NAME = "tgi"
DEFAULT_IMAGE = "ghcr.io/huggingface/text-generation-inference:3.3.5"
DEFAULT_PORT = 8080
CONTAINER_PORT = 80  # the image's own port (PORT=80), used when the port is published instead of host network
CACHE_DIR = "/data"  # HF_HOME of the image
READY_PATH = "/health"
INFO_PATH = "/info"
CLIENTS = (TOOL,)
SHM_SIZE = "4g"


def extra_args(host: Host) -> list[str]:
    """The launcher flags a reader needs besides model, revision, precision and shards (which have columns)."""
    return (["--sharded", "true"] if host.num_shard > 1 else []) + list(host.launcher_args)


def server_command(host: Host, port: int) -> list[str]:
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
        args += ["--hostname", "127.0.0.1", "--port", str(port)]
    return args + list(host.launcher_args)


def server_version(info: dict) -> str | None:
    return info.get("version")


def served_model(info: dict) -> str | None:
    return info.get("model_id")


def benchmark_command(host: Host) -> list[str]:
    """text-generation-benchmark with the inventory's parameters (it talks to the server's shard sockets)."""
    b = host.benchmark
    args = [TOOL]
    if host.revision:
        args += [REVISION_FLAG, host.revision]
    for size in b.batch_sizes:
        args += [BATCH_SIZE_FLAG, str(size)]
    values = {"tokenizer": host.model, "sequence_length": b.sequence_length, "decode_length": b.decode_length,
              "n_runs": b.runs, "warmups": b.warmups}
    return args + [part for flag in parameter_flags(values) for part in flag]
