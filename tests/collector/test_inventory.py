"""The inventory: defaults and per-host overrides, and errors that name the file, the host and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.data.errors import GpubenchError
from collector.fleet.inventory import DEFAULT_IMAGE, load_inventory, select_hosts

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    return path


def test_documented_example_loads():
    hosts = load_inventory(ROOT / "examples/hosts.yaml")
    assert [h.name for h in hosts] == ["h100-sxm", "l40s", "mi300x"]
    h100, l40s, mi300x = hosts
    assert (h100.num_shard, h100.price.usd_per_hr, h100.price.date) == (8, 23.92, "2025-01-15")
    assert l40s.num_shard == 4 and l40s.jump == "ops@bastion.example.com"
    assert mi300x.gpu_access == "rocm" and mi300x.price.usd_per_hr is None
    assert h100.benchmark.batch_sizes == (1, 2, 4, 8, 16, 32)
    assert h100.launcher_args == ("--max-input-tokens", "1024", "--max-total-tokens", "2048")


def test_defaults_and_overrides(tmp_path):
    path = write(tmp_path, """
defaults:
  model: org/model
  benchmark: {batch_sizes: [1, 4], runs: 3}
hosts:
  - {name: a, ssh: root@10.0.0.1:2200, gpu: A10, gpus: 2}
  - {name: b, ssh: b-alias, gpu: A10, gpus: 4, shards: 2, model: org/other, benchmark: {runs: 5}}
""")
    a, b = load_inventory(path)
    assert (a.model, a.per_engine()[0].image, a.pull, a.network, a.num_shard) == ("org/model", DEFAULT_IMAGE, "missing", "host", 2)
    assert (a.engine, a.per_engine()[0].port) == ("tgi", 8080)
    assert a.benchmark.batch_sizes == (1, 4) and a.benchmark.runs == 3 and a.benchmark.decode_length == 8
    assert (b.model, b.num_shard, b.benchmark.runs, b.benchmark.batch_sizes) == ("org/other", 2, 5, (1, 4))
    assert [h.name for h in select_hosts([a, b], "b")] == ["b"]
    with pytest.raises(GpubenchError, match="no host named 'c'"):
        select_hosts([a, b], "c")


@pytest.mark.parametrize("body, message", [
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, modle: m}\n",
     "host 'a': unknown field 'modle' (did you mean 'model'?)"),
    ("defaults: {imgae: x}\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n",
     "defaults: unknown field 'imgae' (did you mean 'image'?)"),
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: two, model: m}\n", "host 'a': field gpus: 'two' is not a whole"),
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 2, model: m, shards: 4}\n", "field shards: must be between 1"),
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m, pull: sometimes}\n", "field pull: 'sometimes'"),
    ("hosts:\n  - {name: 'a;rm -rf /', ssh: x, gpu: A10, gpus: 1, model: m}\n", "field name:"),
    ("hosts:\n  - {name: a, ssh: 'x; rm -rf /', gpu: A10, gpus: 1, model: m}\n", "field ssh:"),
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1}\n", "host 'a': missing field(s) model"),
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m, price: {usd_per_hr: 2}}\n",
     "field price.date: a price needs its date"),
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m, benchmark: {batch_size: [1]}}\n",
     "unknown field benchmark.batch_size (did you mean 'batch_sizes'?)"),
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n  - {name: a, ssh: y, gpu: A10, gpus: 1, model: m}\n",
     "host name 'a' appears more than once"),
    ("hosts: [\n", "invalid YAML"),
    ("hostz: []\n", "unknown top-level key 'hostz' (did you mean 'hosts'?)"),
])
def test_errors_name_file_host_and_field(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(GpubenchError) as err:
        load_inventory(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


def test_shell_metacharacters_are_accepted_as_data(tmp_path):
    # Such values are legal (a model id or flag may contain anything); they are quoted on every command line.
    path = write(tmp_path, """
hosts:
  - name: a
    ssh: x
    gpu: "A10 $(touch /tmp/pwned)"
    gpus: 1
    model: "m; rm -rf /"
    launcher_args: ["--x", "`id`", "a'b\\"c\\nd"]
""")
    (host,) = load_inventory(path)
    assert host.model == "m; rm -rf /" and host.launcher_args[2] == "a'b\"c\nd"
