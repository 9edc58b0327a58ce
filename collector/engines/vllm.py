"""vLLM (`vllm/vllm-openai`): an OpenAI-compatible server, measured with `vllm bench serve` (in its own image).

The image's entrypoint is `vllm serve`; the model goes as `--model`, tensor parallelism as `--tensor-parallel-size`.
The HTTP socket serves nothing until the model is loaded, profiled and warmed up, so `/health` answering 200 means
ready; `/version` tells the version (see docs/reference/serving-benchmarks.md, section 3.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.engines.common import HF_CACHE, model_flags
from collector.parsers.serving import TOOL_SGLANG, TOOL_VLLM

if TYPE_CHECKING:  # the inventory imports the engines for their defaults
    from collector.fleet.inventory import Host

NAME = "vllm"
DEFAULT_IMAGE = "vllm/vllm-openai:v0.33.0"
DEFAULT_PORT = 8000
CONTAINER_PORT = 8000
CACHE_DIR = HF_CACHE
READY_PATH = "/health"
INFO_PATH = "/version"
CLIENTS = (TOOL_VLLM, TOOL_SGLANG)
SHM_SIZE = "16g"


def extra_args(host: Host) -> list[str]:
    return list(host.launcher_args)


def server_command(host: Host, port: int) -> list[str]:
    args = ["--model", host.model, "--tensor-parallel-size", str(host.num_shard), "--port", str(port)]
    if host.network == "host":
        args += ["--host", "127.0.0.1"]
    return args + model_flags(host)


def server_version(info: dict) -> str | None:
    return info.get("version")


def served_model(info: dict) -> str | None:
    return None  # /version does not say; /v1/models does, and the readiness check reads it
