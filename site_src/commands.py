"""The commands that reproduce a run, generated from its recorded parameters.

The Hugging Face token is always the shell variable ``$token``; its value never reaches data/ or the site.
What data/ does not record (shared memory size, the weights folder, the container name) is a variable too,
explained on the page, rather than a guess typed into the command.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

SHARD_VAR = "$shard"
TOKEN_VAR = "$token"


def _q(value: object) -> str:
    return shlex.quote(str(value))


def _fmt_num(v: float) -> str:
    return format(v, "g")


@dataclass(frozen=True)
class Commands:
    server: str  # docker run ...
    benchmark: str  # docker exec ... text-generation-benchmark ...

    def text(self) -> str:
        return self.server + "\n\n" + self.benchmark


def server_command(run: dict) -> str:
    """`docker run` for the TGI launcher, with the shard count as $shard."""
    image = str(run.get("image") or "ghcr.io/huggingface/text-generation-inference")
    if image.rsplit(":", 1)[-1].endswith("-rocm") or "-rocm" in image:
        devices = ["--device /dev/kfd --device /dev/dri"]  # AMD GPUs are passed as devices, not --gpus
    else:
        devices = ["--gpus all"]
    lines = ["docker run " + " ".join(devices) + " --shm-size $shm",
             f"    -e HF_TOKEN={TOKEN_VAR} -p 8080:80 -v $volume:/data",
             f"    {_q(image)}"]
    flags: list[str] = []
    if run.get("model_id"):
        flags.append(f"--model-id {_q(run['model_id'])}")
    if run.get("model_revision"):
        flags.append(f"--revision {_q(run['model_revision'])}")
    if run.get("dtype"):
        flags.append(f"--dtype {_q(run['dtype'])}")
    if run.get("quantize"):
        flags.append(f"--quantize {_q(run['quantize'])}")
    extra = str(run.get("launcher_args") or "").strip()
    if extra:
        try:
            tokens = shlex.split(extra)
        except ValueError:
            tokens = extra.split()
        tokens = _drop_flag(tokens, "--num-shard")
        if tokens:
            flags.append(" ".join(_q(t) if not t.startswith("--") else t for t in tokens))
    flags.append(f"--num-shard {SHARD_VAR}")
    lines += [f"    {f}" for f in flags]
    return " \\\n".join(lines)


def _drop_flag(tokens: list[str], flag: str) -> list[str]:
    out, skip = [], False
    for t in tokens:
        if skip:
            skip = False
            continue
        if t == flag:
            skip = True
            continue
        if t.startswith(flag + "="):
            continue
        out.append(t)
    return out


def benchmark_command(run: dict) -> str:
    """`text-generation-benchmark` inside the server's container, with every recorded parameter spelled out."""
    tokenizer = run.get("tokenizer") or run.get("model_id") or "MODEL"
    args = [f"--tokenizer-name {_q(tokenizer)}"]
    if run.get("model_revision") and not run.get("tokenizer"):
        args.append(f"--revision {_q(run['model_revision'])}")
    batch_sizes = run.get("batch_sizes") or []
    if batch_sizes:
        args.append(" ".join(f"--batch-size {int(b)}" for b in batch_sizes))
    for col, flag in (("sequence_length", "--sequence-length"), ("decode_length", "--decode-length"),
                      ("n_runs", "--runs"), ("warmups", "--warmups")):
        if run.get(col) is not None:
            args.append(f"{flag} {int(run[col])}")
    sampling = []
    for col, flag in (("temperature", "--temperature"), ("top_k", "--top-k"), ("top_p", "--top-p"),
                      ("typical_p", "--typical-p"), ("repetition_penalty", "--repetition-penalty"),
                      ("frequency_penalty", "--frequency-penalty"), ("top_n_tokens", "--top-n-tokens")):
        v = run.get(col)
        if v is not None:
            sampling.append(f"{flag} {_fmt_num(v) if isinstance(v, float) else int(v)}")
    if run.get("watermark"):
        sampling.append("--watermark")
    if run.get("do_sample"):
        sampling.append("--do-sample")
    if sampling:
        args.append(" ".join(sampling))
    lines = ["docker exec -it $container text-generation-benchmark"] + [f"    {a}" for a in args]
    return " \\\n".join(lines)


def commands(run: dict) -> Commands:
    return Commands(server_command(run), benchmark_command(run))
