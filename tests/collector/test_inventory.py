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
    assert [h.name for h in hosts] == ["h100-sxm", "l40s", "mi300x-tgi"]
    h100, l40s, mi300x = hosts
    assert (h100.num_shard, h100.price.usd_per_hr, h100.price.date) == (8, 23.92, "2025-01-15")
    assert l40s.num_shard == 4 and l40s.jump == "ops@bastion.example.com"
    assert mi300x.gpu_access == "rocm" and mi300x.price.usd_per_hr is None
    assert (h100.provider, l40s.provider, mi300x.provider) == ("Example Cloud", None, None)
    assert h100.benchmark.batch_sizes == (1, 2, 4, 8, 16, 32)
    vllm, sglang = h100.per_engine()  # engine: [vllm, sglang] in the defaults
    assert (vllm.engine, vllm.image, vllm.port, vllm.tool) == ("vllm", "vllm/vllm-openai:v0.33.0", 8000,
                                                               "vllm bench serve")
    assert (sglang.engine, sglang.image, sglang.port, sglang.tool) == ("sglang", "lmsysorg/sglang:v0.5.14", 30000,
                                                                       "sglang.bench_serving")
    w = h100.workload
    assert (w.input_len, w.output_len, w.ignore_eos, w.concurrency) == (128, 128, True, (1, 8, 32, 64))
    assert [(p.max_concurrency, p.num_prompts) for p in w.points()] == [(1, 20), (8, 80), (32, 320), (64, 640)]
    (tgi,) = mi300x.per_engine()
    assert (tgi.engine, tgi.image, tgi.port) == ("tgi", "ghcr.io/huggingface/text-generation-inference:3.3.5-rocm",
                                                 8080)


def test_defaults_and_overrides(tmp_path):
    path = write(tmp_path, """
defaults:
  model: org/model
  provider: Massed Compute
  benchmark: {batch_sizes: [1, 4], runs: 3}
hosts:
  - {name: a, ssh: root@10.0.0.1:2200, gpu: A10, gpus: 2}
  - {name: b, ssh: b-alias, gpu: A10, gpus: 4, shards: 2, model: org/other, benchmark: {runs: 5}, provider: Lambda}
""")
    a, b = load_inventory(path)
    assert (a.provider, b.provider) == ("Massed Compute", "Lambda")
    assert (a.model, a.per_engine()[0].image, a.pull, a.network, a.num_shard) == ("org/model", DEFAULT_IMAGE, "missing", "host", 2)
    assert (a.engine, a.per_engine()[0].port) == ("tgi", 8080)
    assert a.benchmark.batch_sizes == (1, 4) and a.benchmark.runs == 3 and a.benchmark.decode_length == 8
    assert (b.model, b.num_shard, b.benchmark.runs, b.benchmark.batch_sizes) == ("org/other", 2, 5, (1, 4))
    assert [h.name for h in select_hosts([a, b], "b")] == ["b"]
    with pytest.raises(GpubenchError, match="no host named 'c'"):
        select_hosts([a, b], "c")


@pytest.mark.parametrize("body, message", [
    ("defaults:\n  engine: vllm\n  image: vllm/vllm-openai:latest\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "pin a version tag or a digest; 'latest'"),
    ("defaults:\n  engine: vllm\n  image: vllm/vllm-openai\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "pin a version tag or a digest"),
    ("defaults:\n  engine: [vllm, sglang]\n  image: vllm/vllm-openai:v0.8.5\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "one image for several engines"),
    ("defaults:\n  engine: [vllm, tensorrt]\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "each must be one of tgi, vllm, sglang"),
    ("defaults:\n  engine: [vllm, vllm]\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "names an engine twice"),
    ("defaults:\n  engine: vllm\n  images: {sglang: lmsysorg/sglang:v0.5.14}\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "'sglang' is not an engine of this host"),
    ("defaults:\n  engine: tgi\n  workload: {tool: vllm bench serve}\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "cannot measure tgi"),
    ("defaults:\n  engine: vllm\n  workload: {concurrency: [1, 0]}\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "workload.concurrency: must be a list of whole numbers"),
    ("defaults:\n  engine: vllm\n  workload: {range_ratio: 2}\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "workload.range_ratio: must be between 0 and 1"),
    ("defaults:\n  engine: vllm\n  workload: {ignore_eos: maybe}\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "workload.ignore_eos: 'maybe' is not true or false"),
    ("defaults:\n  gpu_count: 2\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "unknown field 'gpu_count' (did you mean 'gpus'?)"),
    ("defaults:\n  engines: [vllm]\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n", "unknown field 'engines' (did you mean 'engine'?)"),
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
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m, provder: Lambda}\n",
     "host 'a': unknown field 'provder' (did you mean 'provider'?)"),
    ("defaults: {cloud: Lambda}\nhosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m}\n",
     "defaults: unknown field 'cloud' (did you mean 'provider'?)"),
    ("hosts:\n  - {name: a, ssh: x, gpu: A10, gpus: 1, model: m, provider: [Lambda]}\n",
     "host 'a': field provider: ['Lambda'] is not text"),
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
