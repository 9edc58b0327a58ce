"""The small rules the pages rely on: GPU datasheet matching, precision, escaping, URLs and commands."""

from __future__ import annotations

import markdown

from collector.data.records import new_run
from site_src import commands
from site_src import model_info as mi
from site_src.dataset import GpuSpec, match_spec
from site_src.render import md_escape, safe_url

SPECS = [GpuSpec("A100 SXM4 80GB", 80, 2039, None), GpuSpec("A100 PCIe 80GB", 80, 1935, None),
         GpuSpec("H100 PCIe", 80, 2000, None), GpuSpec("L40", 48, 864, None), GpuSpec("L40S", 48, 864, None)]


def test_gpu_names_match_exactly_then_by_unique_prefix():
    assert match_spec("H100 PCIe", SPECS).gpu == "H100 PCIe"
    assert match_spec("A100 SXM4", SPECS).gpu == "A100 SXM4 80GB"
    assert match_spec("l40", SPECS).gpu == "L40"  # exact (case-insensitive) wins over the L40S prefix
    assert match_spec("A100", SPECS) is None  # two rows start with it: ambiguous -> n/a
    assert match_spec("RTX 5090", SPECS) is None


def test_precision_from_dtype_and_quantize():
    assert mi.precision(None, None) == mi.Precision("16-bit (assumed)", 2.0, True)
    assert mi.precision("bfloat16", None).bytes_per_param == 2.0
    assert mi.precision(None, "fp8").bytes_per_param == 1.0
    assert mi.precision("float16", "awq").bytes_per_param == 0.5  # quantization decides the weights' size
    assert mi.precision(None, "exl2").bytes_per_param is None
    assert mi.slug("evil/<b onmouseover=alert(2)>") == "evil-b-onmouseover-alert-2"


def test_markdown_escaping_round_trips_to_the_same_text():
    md = markdown.Markdown(extensions=["tables", "attr_list", "toc"])
    for text in ("<img src=x onerror=alert(1)>", "*a* _b_ `c` [d](e) #f !g |h| \\i {j}", "4x A100 & <H100>"):
        html = md.reset().convert(f"x {md_escape(text)} y")
        assert html == "<p>x " + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
            .replace('"', "&quot;") + " y</p>", html


def test_only_http_urls_become_links():
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", " JAVASCRIPT:alert(1)", "data:text/html,<b>", "", None, "//evil"):
        assert safe_url(bad) is None


def test_commands_spell_out_every_recorded_parameter():
    run = {"image": "ghcr.io/huggingface/text-generation-inference:3.3.5-rocm", "model_id": "org/model x",
           "model_revision": "abc123", "dtype": "bfloat16", "quantize": "fp8",
           "launcher_args": "--sharded true --num-shard 4 --max-input-tokens 4096", "num_shard": 4,
           "tokenizer": None, "batch_sizes": [1, 8], "sequence_length": 512, "decode_length": 128, "n_runs": 5,
           "warmups": 2, "temperature": 0.7, "top_k": 50, "do_sample": True, "watermark": False}
    run = new_run({"run_id": "r1", "source": "imported", "gpu": "MI250", "gpu_count": 4, "engine": "tgi", "benchmark_kind": "static_batch", **run},
                  where="test")
    server = commands.server_command(run)
    assert "--device /dev/kfd --device /dev/dri" in server and "--gpus" not in server
    assert "-e HF_TOKEN=$token" in server
    assert "--model-id 'org/model x'" in server and "--revision abc123" in server
    assert "--dtype bfloat16" in server and "--quantize fp8" in server
    assert "--sharded true --max-input-tokens 4096" in server
    assert server.count("--num-shard") == 1 and server.endswith("--num-shard $shard")
    bench = commands.benchmark_command(run)
    assert "--tokenizer-name 'org/model x'" in bench and "--revision abc123" in bench
    assert "--batch-size 1 --batch-size 8" in bench
    assert "--sequence-length 512" in bench and "--decode-length 128" in bench
    assert "--runs 5" in bench and "--warmups 2" in bench
    assert "--temperature 0.7 --top-k 50 --do-sample" in bench and "--watermark" not in bench
