"""What the OpenAI-compatible servers (vLLM, SGLang) share: the Hugging Face cache they use, and the flags of the
model they serve."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collector.fleet.inventory import Host

HF_CACHE = "/root/.cache/huggingface"  # where both images look for (and download) weights


def model_flags(host: "Host") -> list[str]:
    """Revision, precision and quantization as vLLM and SGLang spell them, plus the inventory's extra flags."""
    args: list[str] = []
    for flag, value in (("--revision", host.revision), ("--dtype", host.dtype), ("--quantization", host.quantize)):
        if value:
            args += [flag, value]
    return args + list(host.launcher_args)
