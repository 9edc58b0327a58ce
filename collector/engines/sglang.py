"""SGLang (`lmsysorg/sglang`): an OpenAI-compatible server, measured with `python3 -m sglang.bench_serving`.

The image has no entrypoint: the command is `python3 -m sglang.launch_server --model-path M --tp-size N`. Its
host defaults to 127.0.0.1 (so it is given explicitly). `/v1/models` answers as soon as the HTTP server is up,
before the warm-up request completes; `/health` answers 200 only then, so readiness is `/health`. There is no
`/version`: `/server_info` carries `version` (see docs/reference/serving-benchmarks.md, section 3.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.engines.common import HF_CACHE, model_flags
from collector.parsers.serving import TOOL_SGLANG, TOOL_VLLM

if TYPE_CHECKING:  # the inventory imports the engines for their defaults
    from collector.fleet.inventory import Host

NAME = "sglang"
DEFAULT_IMAGE = "lmsysorg/sglang:v0.5.14"
DEFAULT_PORT = 30000
CONTAINER_PORT = 30000
CACHE_DIR = HF_CACHE
READY_PATH = "/health"
INFO_PATH = "/server_info"
CLIENTS = (TOOL_SGLANG, TOOL_VLLM)
SHM_SIZE = "16g"


def extra_args(host: Host) -> list[str]:
    return list(host.launcher_args)


def server_command(host: Host, port: int) -> list[str]:
    bind = "127.0.0.1" if host.network == "host" else "0.0.0.0"
    args = ["python3", "-m", "sglang.launch_server", "--model-path", host.model, "--tp-size", str(host.num_shard),
            "--host", bind, "--port", str(port)]
    return args + model_flags(host)


def server_version(info: dict) -> str | None:
    return info.get("version")


def served_model(info: dict) -> str | None:
    return info.get("model_path") or info.get("served_model_name")
