"""One module per inference server (tgi, vllm, sglang), each exposing the same names:

- NAME, DEFAULT_IMAGE (a pinned tag), DEFAULT_PORT, CACHE_DIR (where the weights cache is mounted in the
  container), READY_PATH (200 means loaded and serving), INFO_PATH (what the server says about itself),
  CLIENTS (the benchmark tools it can be measured with, the first being the default), SHM_SIZE;
- server_command(host, port) -> the container's command line (tensor parallel over the host's GPUs);
- server_version(info) and served_model(info) read INFO_PATH's answer;
- extra_args(host) -> the launcher flags worth recording besides those with a column.

The fleet code only talks to these names, so adding a server is adding a module here (and its tests).
"""

from __future__ import annotations

from types import ModuleType

from collector.data.errors import GpubenchError
from collector.engines import sglang, tgi, vllm

ENGINES: dict[str, ModuleType] = {m.NAME: m for m in (tgi, vllm, sglang)}
LABEL = "gpubench"  # every container gpubench starts carries it (and gpubench.host, gpubench.session)


def engine(name: str) -> ModuleType:
    try:
        return ENGINES[name]
    except KeyError:
        raise GpubenchError(f"unknown engine {name!r}: one of {', '.join(ENGINES)}") from None
