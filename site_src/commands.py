"""The commands that reproduce a run, generated from its recorded parameters.

The Hugging Face token is always the shell variable ``$token``; its value never reaches data/ or the site.
What data/ does not record (shared memory size, the weights folder, the container name) is a variable too,
explained on the page, rather than a guess typed into the command.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from collector.parsers.tgi_benchmark import BATCH_SIZE_FLAG, PARAMETERS, REVISION_FLAG, parameter_flags

SHARD_VAR = "$shard"
TOKEN_VAR = "$token"


def _q(value: object) -> str:
    return shlex.quote(str(value))


@dataclass(frozen=True)
class Commands:
    server: str  # docker run ...
    benchmark: str  # docker exec ... text-generation-benchmark ...

    def text(self) -> str:
        return self.server + "\n\n" + self.benchmark


def server_command(run) -> str:
    """`docker run` for the TGI launcher, with the shard count as $shard."""
    image = str(run.image or "ghcr.io/huggingface/text-generation-inference")
    if image.rsplit(":", 1)[-1].endswith("-rocm") or "-rocm" in image:
        devices = ["--device /dev/kfd --device /dev/dri"]  # AMD GPUs are passed as devices, not --gpus
    else:
        devices = ["--gpus all"]
    lines = ["docker run " + " ".join(devices) + " --shm-size $shm",
             f"    -e HF_TOKEN={TOKEN_VAR} -p 8080:80 -v $volume:/data",
             f"    {_q(image)}"]
    flags: list[str] = []
    if run.model_id:
        flags.append(f"--model-id {_q(run.model_id)}")
    if run.model_revision:
        flags.append(f"--revision {_q(run.model_revision)}")
    if run.dtype:
        flags.append(f"--dtype {_q(run.dtype)}")
    if run.quantize:
        flags.append(f"--quantize {_q(run.quantize)}")
    extra = str(run.launcher_args or "").strip()
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


def benchmark_command(run) -> str:
    """`text-generation-benchmark` inside the server's container, with every recorded parameter spelled out."""
    tokenizer = run.tokenizer or run.model_id or "MODEL"
    args = [f"--tokenizer-name {_q(tokenizer)}"]
    if run.model_revision and not run.tokenizer:
        args.append(f"{REVISION_FLAG} {_q(run.model_revision)}")
    batch_sizes = run.batch_sizes or []
    if batch_sizes:
        args.append(" ".join(f"{BATCH_SIZE_FLAG} {int(b)}" for b in batch_sizes))
    values = {p.name: getattr(run, p.name) for p in PARAMETERS if p.name != "tokenizer"}
    flags = [" ".join(_q(part) if part[:2] != "--" else part for part in f) for f in parameter_flags(values)]
    # the workload a line per flag, sampling together on the last line: as a reader scans it
    workload = {"--sequence-length", "--decode-length", "--runs", "--warmups"}
    args += [f for f in flags if f.split()[0] in workload]
    sampling = " ".join(f for f in flags if f.split()[0] not in workload)
    if sampling:
        args.append(sampling)
    lines = ["docker exec -it $container text-generation-benchmark"] + [f"    {a}" for a in args]
    return " \\\n".join(lines)


def commands(run) -> Commands:
    return Commands(server_command(run), benchmark_command(run))
