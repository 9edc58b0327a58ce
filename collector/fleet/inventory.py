"""The inventory (hosts.yaml): which GPU hosts to benchmark and how. `defaults` apply to every host; each entry
of `hosts` may override any of them. See examples/hosts.yaml for every field with its meaning."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from collector.data.errors import GpubenchError

DEFAULT_IMAGE = "ghcr.io/huggingface/text-generation-inference:3.3.5"
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
    image: str = DEFAULT_IMAGE
    pull: str = "missing"
    gpu_access: str = "nvidia"
    shm_size: str = "4g"
    weights_cache: str = "/var/lib/gpubench/hf-cache"
    min_free_gb: float = 10.0
    port: int = 8080
    network: str = "host"
    dtype: str | None = None
    quantize: str | None = None
    launcher_args: tuple[str, ...] = ()
    benchmark: Benchmark = field(default_factory=Benchmark)
    startup_timeout_s: float = 1800.0
    benchmark_timeout_s: float = 1800.0
    price: Price = field(default_factory=Price)

    @property
    def num_shard(self) -> int:
        return self.shards or self.gpus


HOST_FIELDS = {f.name for f in fields(Host)}
NESTED = {"benchmark": Benchmark, "price": Price}
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
        names = {int: "a whole number", float: "a number", str: "text", list: "a list", dict: "a mapping"}
        raise GpubenchError(f"{where}: field {key}: {value!r} is not {names.get(expected, expected.__name__)}")
    return value


TYPES: dict[str, type] = {
    "name": str, "ssh": str, "gpu": str, "gpus": int, "model": str, "shards": int, "revision": str,
    "identity_file": str, "jump": str, "image": str, "pull": str, "gpu_access": str, "shm_size": str,
    "weights_cache": str, "min_free_gb": float, "port": int, "network": str, "dtype": str, "quantize": str,
    "launcher_args": list, "benchmark": dict, "startup_timeout_s": float, "benchmark_timeout_s": float,
    "price": dict,
}
NESTED_TYPES: dict[str, dict[str, type]] = {
    "benchmark": {"batch_sizes": list, "sequence_length": int, "decode_length": int, "runs": int, "warmups": int},
    "price": {"usd_per_hr": float, "date": str, "source": str},
}


def _validate_entry(entry: Any, where: str, *, is_default: bool) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise GpubenchError(f"{where}: expected a mapping of fields, got {type(entry).__name__}")
    allowed = HOST_FIELDS - ({"name", "ssh"} if is_default else set())
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key not in allowed:
            raise GpubenchError(f"{where}: unknown field {key!r}{_suggest(str(key), allowed)}")
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
    if not 0 < host.port < 65536:
        raise bad("port", f"{host.port} is out of range")
    if not re.fullmatch(r"\d+[bkmg]?", host.shm_size):
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
