"""What data/ does not record about a model: its parameter count, and what a precision costs in bytes.

Parameter counts are the exact totals Hugging Face shows for the safetensors weights on each model card
(huggingface.co/<model id>, "Model size"). Add a row when a new model appears in data/; a model without a row is
reported with "parameter count unknown" and its memory and efficiency figures are n/a.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    name: str  # short display name
    params: float  # total parameters
    source: str  # where the count was read


_LLAMA3_70B = 70_553_706_496  # huggingface.co/meta-llama/Meta-Llama-3-70B-Instruct: "70.6B params" (safetensors)
_LLAMA3_8B = 8_030_261_248  # huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct: "8.03B params" (safetensors)
_LLAMA31_405B = 405_853_388_800  # huggingface.co/meta-llama/Llama-3.1-405B-Instruct: "406B params" (safetensors)

MODELS: dict[str, ModelInfo] = {
    "meta-llama/Meta-Llama-3-70B-Instruct": ModelInfo(
        "Llama 3 70B Instruct", _LLAMA3_70B, "https://huggingface.co/meta-llama/Meta-Llama-3-70B-Instruct"),
    "meta-llama/Meta-Llama-3.1-70B-Instruct": ModelInfo(
        "Llama 3.1 70B Instruct", _LLAMA3_70B, "https://huggingface.co/meta-llama/Llama-3.1-70B-Instruct"),
    "meta-llama/Llama-3.1-70B-Instruct": ModelInfo(
        "Llama 3.1 70B Instruct", _LLAMA3_70B, "https://huggingface.co/meta-llama/Llama-3.1-70B-Instruct"),
    "meta-llama/Llama-3.3-70B-Instruct": ModelInfo(
        "Llama 3.3 70B Instruct", _LLAMA3_70B, "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct"),
    "meta-llama/Meta-Llama-3-8B-Instruct": ModelInfo(
        "Llama 3 8B Instruct", _LLAMA3_8B, "https://huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct"),
    "meta-llama/Meta-Llama-3.1-8B-Instruct": ModelInfo(
        "Llama 3.1 8B Instruct", _LLAMA3_8B, "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"),
    "meta-llama/Llama-3.1-8B-Instruct": ModelInfo(
        "Llama 3.1 8B Instruct", _LLAMA3_8B, "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"),
    "meta-llama/Llama-3.1-405B-Instruct": ModelInfo(
        "Llama 3.1 405B Instruct", _LLAMA31_405B, "https://huggingface.co/meta-llama/Llama-3.1-405B-Instruct"),
    # Fine-tunes and distills of Llama 3.1 / 3.3 70B keep its architecture, hence its parameter count.
    "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF": ModelInfo(
        "Llama 3.1 Nemotron 70B Instruct", _LLAMA3_70B, "https://huggingface.co/nvidia/Llama-3.1-Nemotron-70B-Instruct-HF"),
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B": ModelInfo(
        "DeepSeek R1 Distill Llama 70B", _LLAMA3_70B, "https://huggingface.co/deepseek-ai/DeepSeek-R1-Distill-Llama-70B"),
}

# Ungated copies of gated repositories, same weights: their runs belong to the original's report. (Massed Compute
# reran its 2026 benchmarks on these mirrors when the gated meta-llama repositories were not accessible.)
MIRRORS: dict[str, str] = {
    "unsloth/Llama-3.3-70B-Instruct": "meta-llama/Llama-3.3-70B-Instruct",
    "unsloth/Meta-Llama-3.1-8B-Instruct": "meta-llama/Meta-Llama-3.1-8B-Instruct",
    "unsloth/Llama-3.1-8B-Instruct": "meta-llama/Llama-3.1-8B-Instruct",
}

# TGI loads these models in their checkpoint's 16-bit type (bfloat16) unless --dtype or --quantize says otherwise.
DEFAULT_BYTES = 2.0
DEFAULT_PRECISION = "16-bit (assumed)"

# Bytes per parameter of the weights for TGI --dtype / --quantize values. Quantized formats store scales too;
# these are the payload sizes, a floor.
_DTYPE_BYTES = {"float16": 2.0, "bfloat16": 2.0, "float32": 4.0, "fp16": 2.0, "bf16": 2.0}
_QUANT_BYTES = {
    "fp8": 1.0, "eetq": 1.0, "bitsandbytes": 1.0, "compressed-tensors": None,
    "awq": 0.5, "gptq": 0.5, "marlin": 0.5, "bitsandbytes-nf4": 0.5, "bitsandbytes-fp4": 0.5, "exl2": None,
}


@dataclass(frozen=True)
class Precision:
    label: str
    bytes_per_param: float | None
    assumed: bool


def precision(dtype: str | None, quantize: str | None) -> Precision:
    """The weights' bytes per parameter from the run's --quantize / --dtype, or the stated 16-bit assumption."""
    if quantize:
        q = quantize.strip().lower()
        if q in _QUANT_BYTES:
            b = _QUANT_BYTES[q]
            bits = "size unknown" if b is None else f"{b * 8:g}-bit"
            return Precision(f"{quantize} ({bits})", b, False)
        return Precision(f"{quantize} (size unknown)", None, False)
    if dtype:
        b = _DTYPE_BYTES.get(dtype.strip().lower())
        return Precision(dtype if b is None else f"{dtype} ({b * 8:g}-bit)", b, False)
    return Precision(DEFAULT_PRECISION, DEFAULT_BYTES, True)


def precision_text(run) -> str:
    """What a run's weights ran in, as recorded: its --quantize, else its --dtype, else empty (not recorded)."""
    return str(run.quantize or run.dtype or "")


def is_quantized(precision: str) -> bool:
    return bool(precision) and precision.strip().lower() not in _DTYPE_BYTES


ENGINE_NAMES = {"vllm": "vLLM", "sglang": "SGLang", "tgi": "TGI"}


def engine_name(engine: str | None) -> str:
    return ENGINE_NAMES.get((engine or "").lower(), engine or "engine not recorded")


def engine_version_text(engine: str | None, version: str | None) -> str:
    """'TGI 2.4.1', or 'TGI (version not recorded)'."""
    return f"{engine_name(engine)} {version}" if version else f"{engine_name(engine)} (version not recorded)"


def canonical_id(model_id: str | None) -> str:
    """The repository whose weights a model id serves: the original for a known mirror, else the id itself."""
    return MIRRORS.get(model_id or "", model_id or "")


def model_info(model_id: str | None) -> ModelInfo | None:
    return MODELS.get(model_id or "")


def display_name(model_id: str | None) -> str:
    """A short name: the table's, else the id without its organisation."""
    info = model_info(model_id)
    if info:
        return info.name
    if not model_id:
        return "Model not recorded"
    return model_id.rsplit("/", 1)[-1]


def slug(text: str) -> str:
    """A URL-safe file name (letters, digits, dashes) for any text, including hostile text."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "model"
