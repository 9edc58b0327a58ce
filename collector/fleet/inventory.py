"""The inventory (hosts.yaml): which GPU hosts to benchmark and how. `defaults` apply to every host; each entry
of `hosts` may override any of them. See examples/hosts.yaml for every field with its meaning."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from collector.data.errors import GpubenchError
from collector.engines import ENGINES

DEFAULT_ENGINE = "tgi"
DEFAULT_IMAGE = ENGINES[DEFAULT_ENGINE].DEFAULT_IMAGE
DEFAULT_CONCURRENCY = (1, 8, 32, 64)
PULL_POLICIES = ("missing", "always", "never")
GPU_ACCESS = ("nvidia", "rocm", "none")  # none: CPU-only hosts and the test fleet's stand-in engine
NETWORKS = ("host", "published")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
SSH_TARGET = re.compile(r"^(?:(?P<user>[A-Za-z0-9._-]+)@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)"
                        r"(?::(?P<port>\d{1,5}))?$")


@dataclass(frozen=True)
class Benchmark:
    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    sequence_length: int = 10
    decode_length: int = 8
    runs: int = 10
    warmups: int = 1


@dataclass(frozen=True)
class Workload:
    """A serving benchmark's load: requests of random tokens sent at each max-concurrency level (or request rate)
    of the sweep, all against one server start."""

    tool: str | None = None  # vllm bench serve | sglang.bench_serving (default: the engine's own client)
    dataset: str = "random"
    input_len: int = 128
    output_len: int = 128
    range_ratio: float | None = None  # None: fixed lengths, written as each tool means it (vLLM 0, SGLang 1)
    ignore_eos: bool = True  # every request generates output_len tokens, so engines are compared like for like
    seed: int = 0
    num_prompts: int | None = None  # None: 10 per concurrent request, at least 20
    concurrency: tuple[int, ...] = DEFAULT_CONCURRENCY
    request_rates: tuple[float, ...] = ()  # instead of concurrency levels: requests/s (Poisson), inf = all at once
    client_image: str | None = None  # the client's own image when the server's does not ship the tool

    def points(self) -> list["LoadPoint"]:
        if self.request_rates:
            return [LoadPoint(None, rate, self.num_prompts or 200) for rate in self.request_rates]
        return [LoadPoint(c, float("inf"), self.num_prompts or max(20, 10 * c)) for c in self.concurrency]


@dataclass(frozen=True)
class LoadPoint:
    max_concurrency: int | None
    request_rate: float
    num_prompts: int

    def label(self) -> str:
        return f"c{self.max_concurrency}" if self.max_concurrency else f"r{self.request_rate:g}"


@dataclass(frozen=True)
class Price:
    usd_per_hr: float | None = None
    date: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Host:
    name: str
    ssh: str
    gpu: str
    gpus: int
    model: str
    shards: int | None = None  # None: all the host's GPUs
    revision: str | None = None
    identity_file: str | None = None
    jump: str | None = None
    engine: str = DEFAULT_ENGINE  # tgi | vllm | sglang; a list in the inventory runs them one after the other
    engines: tuple[str, ...] = ()
    image: str | None = None  # None: the engine's pinned default
    images: tuple[tuple[str, str], ...] = ()  # per engine, for hosts running several
    pull: str = "missing"
    gpu_access: str = "nvidia"
    shm_size: str | None = None  # None: the engine's default (TGI 4g, vLLM and SGLang 16g)
    weights_cache: str = "/var/lib/gpubench/hf-cache"
    min_free_gb: float = 10.0
    port: int | None = None  # None: the engine's default port
    network: str = "host"
    dtype: str | None = None
    quantize: str | None = None
    launcher_args: tuple[str, ...] = ()
    benchmark: Benchmark = field(default_factory=Benchmark)
    workload: Workload = field(default_factory=Workload)
    startup_timeout_s: float = 1800.0
    benchmark_timeout_s: float = 1800.0
    price: Price = field(default_factory=Price)
    provider: str | None = None  # who runs the host and sells its GPU hours: recorded with its runs and prices

    @property
    def num_shard(self) -> int:
        return self.shards or self.gpus

    def per_engine(self) -> list["Host"]:
        """This host once per engine to run, each with its image and port resolved."""
        out = []
        for name in self.engines or (self.engine,):
            spec = ENGINES[name]
            image = dict(self.images).get(name) or self.image or spec.DEFAULT_IMAGE
            out.append(replace(self, engine=name, engines=(name,), image=image,
                               port=self.port or spec.DEFAULT_PORT))
        return out

    @property
    def tool(self) -> str:
        """The benchmark client of this (single-engine) host."""
        return self.workload.tool or ENGINES[self.engine].CLIENTS[0]


HOST_FIELDS = {f.name for f in fields(Host)} - {"engines"}
NESTED = {"benchmark": Benchmark, "price": Price, "workload": Workload}
REQUIRED = ("name", "ssh", "gpu", "gpus", "model")


def _suggest(key: str, known) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _where(path: str, index: int | None, name: str | None) -> str:
    if index is None:
        return f"{path}: defaults"
    return f"{path}: host {name!r}" if name else f"{path}: hosts[{index}]"


def _check_type(value: Any, expected: type, where: str, key: str) -> Any:
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is str and isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        names = {int: "a whole number", float: "a number", str: "text", list: "a list", dict: "a mapping",
                 bool: "true or false", (str, list): "a name or a list of names"}
        raise GpubenchError(f"{where}: field {key}: {value!r} is not {names.get(expected, 'valid')}")
    return value


TYPES: dict[str, type] = {
    "name": str, "ssh": str, "gpu": str, "gpus": int, "model": str, "shards": int, "revision": str,
    "identity_file": str, "jump": str, "image": str, "pull": str, "gpu_access": str, "shm_size": str,
    "weights_cache": str, "min_free_gb": float, "port": int, "network": str, "dtype": str, "quantize": str,
    "launcher_args": list, "benchmark": dict, "startup_timeout_s": float, "benchmark_timeout_s": float,
    "price": dict, "engine": (str, list), "images": dict, "workload": dict, "provider": str,
}
NESTED_TYPES: dict[str, dict[str, type]] = {
    "benchmark": {"batch_sizes": list, "sequence_length": int, "decode_length": int, "runs": int, "warmups": int},
    "price": {"usd_per_hr": float, "date": str, "source": str},
    "workload": {"tool": str, "dataset": str, "input_len": int, "output_len": int, "range_ratio": float,
                 "ignore_eos": bool, "seed": int, "num_prompts": int, "concurrency": list, "request_rates": list,
                 "client_image": str},
}
# Fields people write from habit or other tools, and what gpubench calls them.
ALIASES = {"gpu_count": "gpus", "num_gpus": "gpus", "tp": "shards", "tensor_parallel_size": "shards",
           "num_shard": "shards", "engines": "engine", "cloud": "provider"}


def _validate_entry(entry: Any, where: str, *, is_default: bool) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise GpubenchError(f"{where}: expected a mapping of fields, got {type(entry).__name__}")
    allowed = HOST_FIELDS - ({"name", "ssh"} if is_default else set())
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key not in allowed:
            hint = f" (did you mean '{ALIASES[key]}'?)" if key in ALIASES else _suggest(str(key), allowed)
            raise GpubenchError(f"{where}: unknown field {key!r}{hint}")
        if value is None:
            continue
        value = _check_type(value, TYPES[key], where, key)
        if key in NESTED:
            nested_types = NESTED_TYPES[key]
            for sub, sub_value in value.items():
                if sub not in nested_types:
                    raise GpubenchError(f"{where}: unknown field {key}.{sub}{_suggest(str(sub), nested_types)}")
                if sub_value is not None:
                    value[sub] = _check_type(sub_value, nested_types[sub], where, f"{key}.{sub}")
        if key == "launcher_args":
            value = [_check_type(v, str, where, "launcher_args[]") for v in value]
        out[key] = value
    return out


def _check_values(host: Host, where: str) -> None:
    def bad(key: str, why: str) -> GpubenchError:
        return GpubenchError(f"{where}: field {key}: {why}")

    if not NAME.match(host.name):
        raise bad("name", f"{host.name!r} must be letters, digits, '.', '_' or '-' (it names containers and files)")
    if not SSH_TARGET.match(host.ssh):
        raise bad("ssh", f"{host.ssh!r} is not an ssh alias or user@host[:port]")
    port = SSH_TARGET.match(host.ssh).group("port")  # type: ignore[union-attr]
    if port and not 0 < int(port) < 65536:
        raise bad("ssh", f"port {port} is out of range")
    if host.gpus < 1:
        raise bad("gpus", "must be at least 1")
    if host.shards is not None and not 1 <= host.shards <= host.gpus:
        raise bad("shards", f"must be between 1 and gpus ({host.gpus})")
    if host.pull not in PULL_POLICIES:
        raise bad("pull", f"{host.pull!r} is not one of {', '.join(PULL_POLICIES)}")
    if host.gpu_access not in GPU_ACCESS:
        raise bad("gpu_access", f"{host.gpu_access!r} is not one of {', '.join(GPU_ACCESS)}")
    if host.network not in NETWORKS:
        raise bad("network", f"{host.network!r} is not one of {', '.join(NETWORKS)}")
    if host.port is not None and not 0 < host.port < 65536:
        raise bad("port", f"{host.port} is out of range")
    if host.shm_size is not None and not re.fullmatch(r"\d+[bkmg]?", host.shm_size):
        raise bad("shm_size", f"{host.shm_size!r} is not a size like 4g or 512m")
    if not host.weights_cache.startswith("/"):
        raise bad("weights_cache", "must be an absolute path on the host")
    if any(c in host.weights_cache for c in "\n\r\0:"):
        raise bad("weights_cache", "must not contain newlines or ':' (Docker volume syntax)")
    if host.startup_timeout_s <= 0 or host.benchmark_timeout_s <= 0:
        raise bad("startup_timeout_s" if host.startup_timeout_s <= 0 else "benchmark_timeout_s", "must be positive")
    b = host.benchmark
    if not b.batch_sizes or any(not isinstance(x, int) or isinstance(x, bool) or x < 1 for x in b.batch_sizes):
        raise bad("benchmark.batch_sizes", "must be a list of whole numbers >= 1")
    for key in ("sequence_length", "decode_length", "runs"):
        if getattr(b, key) < 1:
            raise bad(f"benchmark.{key}", "must be at least 1")
    if b.decode_length < 2:
        raise bad("benchmark.decode_length", "must be at least 2 (decode steps = decode_length - 1)")
    if b.warmups < 0:
        raise bad("benchmark.warmups", "must be 0 or more")
    _check_engines(host, bad)
    _check_workload(host.workload, bad)
    p = host.price
    if p.usd_per_hr is not None:
        if p.usd_per_hr < 0:
            raise bad("price.usd_per_hr", "must be 0 or more")
        if not p.date:
            raise bad("price.date", "a price needs its date (prices change)")
    if p.date:
        try:
            dt.date.fromisoformat(p.date)
        except ValueError:
            raise bad("price.date", f"{p.date!r} is not a date (YYYY-MM-DD)") from None


def _check_engines(host: Host, bad) -> None:
    if not host.engines or any(not isinstance(e, str) or e not in ENGINES for e in host.engines):
        raise bad("engine", f"{list(host.engines) or host.engine!r}: each must be one of {', '.join(ENGINES)}")
    if len(set(host.engines)) != len(host.engines):
        raise bad("engine", "names an engine twice")
    if host.image and len(host.engines) > 1:
        raise bad("image", "one image for several engines: give images: {engine: image, ...} instead")
    for name, image in host.images:
        if name not in host.engines:
            raise bad("images", f"{name!r} is not an engine of this host ({', '.join(host.engines)})")
    for image in [host.image, host.workload.client_image, *(i for _, i in host.images)]:
        if image and (image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]) and "@sha256:" not in image:
            raise bad("image", f"{image!r}: pin a version tag or a digest; 'latest' changes under you (one "
                               "provider's latest moved from SGLang 0.5.14 to 0.5.15 within a day)")
    tools = {t for name in host.engines for t in ENGINES[name].CLIENTS}
    if host.workload.tool and host.workload.tool not in tools:
        raise bad("workload.tool", f"{host.workload.tool!r} cannot measure {', '.join(host.engines)}: one of "
                                   f"{', '.join(sorted(tools))}")


def _check_workload(w: Workload, bad) -> None:
    for key in ("input_len", "output_len"):
        if getattr(w, key) < 1:
            raise bad(f"workload.{key}", "must be at least 1")
    if w.range_ratio is not None and not 0 <= w.range_ratio <= 1:
        raise bad("workload.range_ratio", "must be between 0 and 1")
    if w.num_prompts is not None and w.num_prompts < 1:
        raise bad("workload.num_prompts", "must be at least 1")
    if not w.concurrency and not w.request_rates:
        raise bad("workload.concurrency", "give concurrency levels or request_rates")
    if any(not isinstance(c, int) or isinstance(c, bool) or c < 1 for c in w.concurrency):
        raise bad("workload.concurrency", "must be a list of whole numbers >= 1")
    if any(not isinstance(r, (int, float)) or isinstance(r, bool) or not r > 0 for r in w.request_rates):
        raise bad("workload.request_rates", "must be a list of numbers > 0 (.inf for all at once)")


def load_inventory(path: Path) -> list[Host]:
    """Read and validate an inventory. Every error names the file, the host and the field."""
    display = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GpubenchError("no such file", path=display) from None
    except (OSError, UnicodeDecodeError) as e:
        raise GpubenchError(f"cannot read: {e}", path=display) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise GpubenchError(f"invalid YAML: {getattr(e, 'problem', None) or e}", path=display,
                            line=mark.line + 1 if mark else None) from None
    if not isinstance(doc, dict):
        raise GpubenchError("expected a mapping with 'hosts' (and optional 'defaults')", path=display)
    unknown = set(doc) - {"defaults", "hosts"}
    if unknown:
        key = str(sorted(map(str, unknown))[0])
        raise GpubenchError(f"unknown top-level key {key!r}{_suggest(key, ['defaults', 'hosts'])}", path=display)
    if "hosts" not in doc:
        raise GpubenchError("expected a mapping with 'hosts' (and optional 'defaults')", path=display)
    defaults = _validate_entry(doc.get("defaults") or {}, _where(display, None, None), is_default=True)
    entries = doc["hosts"]
    if not isinstance(entries, list) or not entries:
        raise GpubenchError("'hosts' must be a non-empty list", path=display)
    hosts: list[Host] = []
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        where = _where(display, index, name if isinstance(name, str) else None)
        values = _validate_entry(entry, where, is_default=False)
        merged = {**defaults, **values}
        for key in NESTED:
            merged[key] = {**(defaults.get(key) or {}), **(values.get(key) or {})}
        missing = [k for k in REQUIRED if k not in merged]
        if missing:
            raise GpubenchError(f"{where}: missing field(s) {', '.join(missing)}")
        merged["benchmark"] = Benchmark(**{k: tuple(v) if k == "batch_sizes" else v
                                           for k, v in merged["benchmark"].items()})
        merged["price"] = Price(**merged["price"])
        merged["workload"] = Workload(**{k: tuple(v) if k in ("concurrency", "request_rates") else v
                                         for k, v in merged["workload"].items()})
        engines = merged.get("engine", DEFAULT_ENGINE)
        engines = [engines] if isinstance(engines, str) else engines
        merged["engine"], merged["engines"] = (engines[0] if engines else ""), tuple(engines)
        merged["images"] = tuple((merged.get("images") or {}).items())
        merged["launcher_args"] = tuple(merged.get("launcher_args", ()))
        host = Host(**merged)
        _check_values(host, where)
        hosts.append(host)
    names = [h.name for h in hosts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise GpubenchError(f"host name {duplicates[0]!r} appears more than once", path=display)
    return hosts


def select_hosts(hosts: list[Host], wanted: str | None) -> list[Host]:
    """The hosts named in a comma-separated list (all when None), refusing unknown names."""
    if not wanted:
        return hosts
    names = [n.strip() for n in wanted.split(",") if n.strip()]
    known = {h.name: h for h in hosts}
    for n in names:
        if n not in known:
            raise GpubenchError(f"--hosts: no host named {n!r} in the inventory{_suggest(n, known)}")
    return [known[n] for n in names]
