"""Serving-benchmark parsers on real Massed Compute 2026 outputs (and a few hand-made ones for other versions).

Expected numbers were typed after reading the fixture files (see tests/fixtures/serving/SOURCES.md)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest

from collector.data.errors import GpubenchError
from collector.parsers.secrets import is_secret_name, redact_secrets, redact_text
from collector.parsers.serving import (
    LATENCY_METRICS,
    TOOL_SGLANG,
    TOOL_VLLM,
    MetricValue,
    ServingResult,
    parse_serving_output,
)
from collector.parsers.sglang_bench_serving import parse_sglang_bench_serving
from collector.parsers.vllm_bench_serve import parse_vllm_bench_serve

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "serving"
VLLM085_C32_JSON = "vllm-0.8.5_llama-3.3-70b_2xh100_c32.json"
VLLM085_C32_TXT = "vllm-0.8.5_llama-3.3-70b_2xh100_c32.txt"
VLLM085_C1_TXT = "vllm-0.8.5_llama-3.3-70b_2xh100_c1.txt"
NIGHTLY_C32_JSON = "vllm-nightly_llama-3.3-70b_2xpro6000_c32.json"
NIGHTLY_C32_TXT = "vllm-nightly_llama-3.3-70b_2xpro6000_c32.txt"
SGLANG_C32_JSON = "sglang-0.5.14_llama-3.3-70b_2xh100_c32.json"
SGLANG_C32_TXT = "sglang-0.5.14_llama-3.3-70b_2xh100_c32.txt"
SGLANG_C1_JSON = "sglang-0.5.14_llama-3.3-70b_2xh100_c1.json"
SUMMARY = "summary_llama-3.3-70b_2xh100.json"
RUN_LOG = "run-log_nemotron-70b_2xh100.log"
NEVER_RAN = "never-ran_llama-3.3-70b_2xh100_vllm-c8.txt"


def raw(name: str) -> str:
    """The file exactly as stored (\\r kept: captures carry tqdm updates separated by \\r)."""
    return (FIXTURES / name).read_bytes().decode("utf-8")


def parse_one(name: str, text: str | None = None) -> ServingResult:
    results = parse_serving_output(raw(name) if text is None else text, name)
    assert len(results) == 1
    return results[0]


def printed_agrees(saved: float, printed: float) -> bool:
    return abs(saved - printed) <= 0.005 + 1e-9


# ------------------------------------------------------------------------------------------ vLLM 0.8.5


def test_vllm_085_json_values_exactly_as_saved():
    r = parse_one(VLLM085_C32_JSON)
    assert (r.tool, r.source, r.line) == (TOOL_VLLM, "json", 1)
    assert r.model_id == r.tokenizer == "unsloth/Llama-3.3-70B-Instruct"
    assert r.date == "20260716-081055"
    assert r.backend == "openai-comp"
    assert r.version_hint.startswith("0.8.x key set")
    assert r.value("output_throughput_tok_per_s") == 415.5240460132559
    assert r.value("ttft_ms", "median") == 309.9051590002091
    assert r.value("ttft_ms", "mean") == 761.0483184874994
    assert r.value("ttft_ms", "p99") == 1594.588451760128
    assert r.value("tpot_ms", "mean") == 76.89166888188008
    assert r.value("itl_ms", "p99") == 198.1317435998062
    assert r.value("duration_s") == 46.276503573000355
    assert r.value("completed_requests") == 160
    assert (r.value("input_tokens"), r.output_tokens) == (20480, 19229)
    assert r.value("request_goodput_req_per_s") is None  # "request_goodput:": null
    assert r.value("failed_requests") is None  # 0.8.5 does not count failures
    w = r.workload
    assert (w.num_prompts, w.max_concurrency, w.request_rate) == (160, 32, math.inf)
    assert w.ignore_eos is None and w.input_len is None  # the JSON does not say
    assert any("output lengths vary from 1 to 128 tokens" in x for x in r.warnings)


def test_vllm_085_capture_whose_json_was_split_by_a_shell_trace_falls_back_to_the_printed_block():
    r = parse_one(VLLM085_C32_TXT)
    assert (r.tool, r.source, r.line) == (TOOL_VLLM, "printed", 10)
    assert r.value("output_throughput_tok_per_s") == 415.52
    assert r.value("ttft_ms", "median") == 309.91
    assert r.value("ttft_ms", "p99") == 1594.59
    assert r.value("total_throughput_tok_per_s") == 858.08  # printed "Total Token throughput"
    assert r.output_tokens == 19229
    assert any(x.startswith("ignored line 33: JSON that does not parse") for x in r.warnings)
    # From the printed Namespace: 0.8.5 `bench serve` draws from U[int(128 * 1.0), 128] = fixed 128 tokens.
    w = r.workload
    assert (w.dataset_name, w.input_len, w.output_len, w.range_ratio, w.seed) == ("random", 128, 128, 1.0, 0)
    assert (w.ignore_eos, w.output_len_range, w.num_prompts) == (False, (128, 128), 160)
    assert r.requested_output_tokens == 20480
    assert "generated 19229 output tokens, 93.9% of the 20480 requested" in " ".join(r.warnings)


def test_vllm_085_printed_block_agrees_with_the_json_of_the_same_run():
    saved, printed = parse_one(VLLM085_C32_JSON), parse_one(VLLM085_C32_TXT)
    assert len(printed.values) == 16
    for v in printed.values:
        assert printed_agrees(saved.value(v.metric, v.stat), v.value), v


def test_vllm_085_capture_with_intact_json_keeps_the_saved_numbers():
    r = parse_one(VLLM085_C1_TXT)
    assert (r.source, r.line, r.date) == ("json+printed", 10, "20260716-080902")
    assert r.value("output_throughput_tok_per_s") == 21.87039373883057  # not the printed 21.87
    assert r.value("ttft_ms", "median") == 112.44085900034406
    assert r.value("duration_s") == 29.263304887999766
    assert r.workload.max_concurrency == 1 and r.workload.ignore_eos is False
    assert (r.requested_output_tokens, r.output_tokens) == (640, 640)
    assert not [x for x in r.warnings if "disagrees" in x or "generated" in x]
    # The printed block (Median TTFT 112.44) was checked against the JSON and agreed.
    printed_only = parse_one(VLLM085_C1_TXT, raw(VLLM085_C1_TXT).split("+ cat /tmp/vllm-c1.json")[0])
    assert printed_only.source == "printed" and printed_only.value("ttft_ms", "median") == 112.44


# ------------------------------------------------------------------------------------------ vLLM nightly


def test_vllm_nightly_json_key_set():
    r = parse_one(NIGHTLY_C32_JSON)
    assert r.backend == "openai" and r.version_hint == ">=0.20 key set (rtfx)"
    assert r.value("failed_requests") == 0
    assert r.value("output_throughput_tok_per_s") == 461.8375497491146
    assert r.value("ttft_ms", "median") == 1244.114767499923
    assert r.value("max_output_throughput_tok_per_s") == 544.0
    assert r.value("max_concurrency_observed") == 64  # 1-second buckets: twice --max-concurrency 32
    assert r.value("rtfx") is None  # 0.0 = not an audio run; the tool prints it only when > 0
    assert r.output_tokens == 20480 and not r.warnings


def test_vllm_nightly_capture_ignore_eos_forced_and_temperature_warning():
    r = parse_one(NIGHTLY_C32_TXT)
    assert (r.source, r.line) == ("json+printed", 16)
    assert r.value("output_throughput_tok_per_s") == 461.8375497491146
    w = r.workload
    # Namespace says ignore_eos=False, but >= 0.12 forces it on for the random dataset: exactly 128 per request.
    assert w.ignore_eos is True
    assert (w.range_ratio, w.output_len_range) == (0.0, (128, 128))  # from "Sampling ... output_len from [128, 128]"
    assert (r.requested_output_tokens, r.output_tokens) == (20480, 20480)
    assert any(x.startswith("WARNING: vllm bench serve no longer sets temperature==0") for x in r.warnings)
    assert not [x for x in r.warnings if "disagrees" in x]


# ------------------------------------------------------------------------------------------ SGLang


def test_sglang_json_e2e_latency_is_e2el():
    r = parse_one(SGLANG_C32_JSON)
    assert (r.tool, r.tool_version, r.backend) == (TOOL_SGLANG, "0.5.14", "sglang")
    assert r.model_id == "unsloth/Llama-3.3-70B-Instruct"
    assert r.value("e2el_ms", "mean") == 5457.875519799993
    assert r.value("e2el_ms", "p90") == 9606.353506699998
    assert r.value("ttft_ms", "median") == 198.9135725000324
    assert r.value("output_throughput_tok_per_s") == 339.42553289879913
    assert r.value("total_throughput_tok_per_s") == 662.724658688456
    assert r.value("concurrency_mean") == 28.052883691893587
    assert r.value("max_concurrency_observed") == 41
    assert r.value("output_tokens_retokenized") == 10563
    assert {v.metric for v in r.values if v.stat != "value"} == set(LATENCY_METRICS)
    assert {v.stat for v in r.values if v.metric == "ttft_ms"} == {"mean", "median", "std", "p90", "p95", "p99"}
    w = r.workload
    assert (w.dataset_name, w.input_len, w.output_len, w.range_ratio) == ("random", 128, 128, 0.0)
    assert (w.request_rate, w.max_concurrency, w.num_prompts, w.ignore_eos) == (math.inf, 32, None, None)


def test_sglang_capture_adds_printed_max_itl_and_the_arguments():
    r = parse_one(SGLANG_C32_TXT)
    assert (r.source, r.line) == ("json+printed", 14)
    assert r.value("e2el_ms", "mean") == 5457.875519799993
    assert r.value("itl_ms", "max") == 271.29  # printed only
    w = r.workload
    assert (w.num_prompts, w.seed, w.ignore_eos) == (160, 42, True)
    assert (r.requested_output_tokens, r.output_tokens) == (10566, 10566)  # "#Output tokens: 10566"
    assert r.warnings == []


def test_sglang_json_lines_give_one_result_per_run():
    text = raw(SGLANG_C1_JSON) + raw(SGLANG_C32_JSON)
    results = parse_sglang_bench_serving(text, "appended.jsonl")
    assert [(r.line, r.workload.max_concurrency) for r in results] == [(1, 1), (2, 32)]
    assert results[0].value("output_throughput_tok_per_s") == 23.48719802211078
    assert results[0].value("e2el_ms", "p90") == 4836.684484200123


# ------------------------------------------------------------------------------------------ captures


def test_run_log_with_six_invocations():
    results = parse_serving_output(raw(RUN_LOG), RUN_LOG)
    assert [(r.tool, r.workload.max_concurrency) for r in results] == [
        (TOOL_VLLM, 1), (TOOL_VLLM, 8), (TOOL_VLLM, 32), (TOOL_SGLANG, 1), (TOOL_SGLANG, 8), (TOOL_SGLANG, 32)]
    vllm_c1, sglang_c32 = results[0], results[5]
    assert vllm_c1.model_id == "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF"
    assert (vllm_c1.output_tokens, vllm_c1.requested_output_tokens) == (133, 640)
    assert vllm_c1.value("output_throughput_tok_per_s") == 21.37
    assert "generated 133 output tokens, 20.8% of the 640 requested" in " ".join(vllm_c1.warnings)
    assert results[1].workload.num_prompts == 40  # its Namespace was glued to a progress fragment
    assert sglang_c32.value("output_throughput_tok_per_s") == 368.49
    assert sglang_c32.value("itl_ms", "max") == 224.22
    assert (sglang_c32.requested_output_tokens, sglang_c32.output_tokens) == (10566, 10566)


def test_capture_read_with_universal_newlines_or_dressed_in_escapes_gives_the_same_numbers():
    expected = parse_one(SGLANG_C32_TXT).values
    universal = (FIXTURES / SGLANG_C32_TXT).read_text()  # \r -> \n
    dressed = "\r\n".join("\x1b[1m" + line + "\x1b[0m" for line in raw(SGLANG_C32_TXT).split("\n"))
    assert parse_one(SGLANG_C32_TXT, universal).values == expected
    assert parse_one(SGLANG_C32_TXT, dressed).values == expected


def test_to_rows_carry_the_load():
    rows = parse_one(SGLANG_C32_JSON).to_rows()
    assert {"metric": "e2el_ms", "stat": "mean", "value": 5457.875519799993, "max_concurrency": 32,
            "request_rate": math.inf} in rows
    assert all(set(row) == {"metric", "stat", "value", "max_concurrency", "request_rate"} for row in rows)


def test_metric_value_is_frozen():
    v = MetricValue("ttft_ms", "mean", 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.value = 2.0  # type: ignore[misc]


# ------------------------------------------------------------------------------------------ hand-made versions


def test_vllm_010_percentiles_and_e2el():
    r = parse_one("handmade_vllm-0.10_e2el-percentiles.json")
    assert r.version_hint == "0.9-0.10 key set (endpoint_type, no backend)"
    assert r.value("ttft_ms", "p25") == 38.0 and r.value("ttft_ms", "p50") == 41.25
    assert r.value("e2el_ms", "p99.9") == 2050.75
    assert r.value("request_goodput_req_per_s") == 3.5
    assert (r.workload.request_rate, r.workload.max_concurrency) == (4.0, None)


def test_vllm_012_printed_failures_and_load():
    r = parse_one("handmade_vllm-0.12_failed-requests.txt")
    assert (r.source, r.line) == ("printed", 6)
    assert (r.value("completed_requests"), r.value("failed_requests")) == (97, 3)
    assert (r.workload.max_concurrency, r.workload.request_rate) == (16, 8.0)
    assert r.value("max_concurrency_observed") == 19.0
    assert "3 request(s) failed" in " ".join(r.warnings)
    assert r.version_hint.startswith("0.12 printed block")


def test_sglang_046_json_lines():
    results = parse_sglang_bench_serving(raw("handmade_sglang-0.4.6_two-runs.jsonl"), "two-runs.jsonl")
    assert [r.workload.request_rate for r in results] == [2.0, math.inf]
    assert results[1].value("itl_ms", "p95") == 48.0
    assert results[0].workload.output_len_range == (256, 256)  # range ratio 1: fixed lengths
    assert results[0].tool_version is None and results[0].version_hint.startswith("0.4.6-0.5.2")
    assert results[0].value("spec_accept_length") is None  # accept_length: null


# ------------------------------------------------------------------------------------------ not outputs


@pytest.mark.parametrize("name, text, expected", [
    (SUMMARY, None, "JSON object without the result keys"),
    (NEVER_RAN, None, "Error response from daemon: container e0f7c9b2fa45"),
    ("empty.txt", "", "empty file"),
    ("blank.txt", "\n  \r\n", "empty file"),
    ("prose.txt", "the benchmark was great\nsee the chart\n", "no 'Serving Benchmark Result' block"),
    ("cut.json", raw(SGLANG_C32_JSON)[:5000], "not valid JSON"),
    ("list.json", "[1, 2, 3]", "JSON list"),
    ("binary.bin", b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    ("latin1.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
    ("bad-number.txt", "=== Serving Benchmark Result ===\nSuccessful requests:  many\n", "is not a number"),
])
def test_not_an_output_is_one_clear_error_naming_the_file(name, text, expected):
    text = raw(name) if text is None else text
    with pytest.raises(GpubenchError) as caught:
        parse_serving_output(text, name)
    message = str(caught.value)
    assert message.startswith(name + ":")
    assert expected in message
    assert "\n" not in message


def test_entry_points_refuse_the_other_tool():
    with pytest.raises(GpubenchError, match="holds output of sglang.bench_serving, not of vllm bench serve"):
        parse_vllm_bench_serve(raw(SGLANG_C32_JSON), "x.json")
    with pytest.raises(GpubenchError, match="holds output of vllm bench serve"):
        parse_sglang_bench_serving(raw(NIGHTLY_C32_JSON), "y.json")
    assert parse_vllm_bench_serve(raw(NIGHTLY_C32_TXT), "z.txt")[0].tool == TOOL_VLLM


# ------------------------------------------------------------------------------------------ secrets


def with_secrets(text: str) -> str:
    """The real SGLang file with an API key and an HF token set, as a server started with them would report."""
    return text.replace('"api_key": null', '"api_key": "sk-local-0123456789abcdefghij"') \
        .replace('"ssl_keyfile_password": null', '"ssl_keyfile_password": "hunter2-pw"', 1)


def test_redact_text_removes_only_the_secrets():
    original = with_secrets(raw(SGLANG_C32_JSON))
    assert original.count("sk-local-0123456789abcdefghij") == 2  # server_info and server_info.internal_states[0]
    redacted, paths = redact_text(original)
    assert paths == ["line 1: server_info.ssl_keyfile_password", "line 1: server_info.api_key",
                     "line 1: server_info.internal_states[0].api_key"]
    assert "sk-local" not in redacted and "hunter2" not in redacted
    assert redacted == original.replace("sk-local-0123456789abcdefghij", "<redacted>") \
        .replace("hunter2-pw", "<redacted>")
    assert parse_one(SGLANG_C32_JSON, redacted).values == parse_one(SGLANG_C32_JSON).values


def test_redact_text_in_a_capture_also_catches_command_lines_and_reprs():
    capture = with_secrets(raw(SGLANG_C32_TXT)).replace(
        "+ sudo docker exec sglang-bench", "+ sudo docker exec -e HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz sglang-bench")
    redacted, paths = redact_text(capture)
    assert "sk-local" not in redacted and "hf_abcdef" not in redacted and "hunter2" not in redacted
    assert "line 1: HF_TOKEN" in paths
    assert redacted.count("\r") == capture.count("\r")  # progress updates untouched
    assert len(parse_serving_output(redacted, "c.txt")) == 1


def test_real_files_have_no_secrets_and_stay_byte_identical():
    for name in (SGLANG_C32_JSON, SGLANG_C32_TXT, NIGHTLY_C32_TXT, RUN_LOG, SUMMARY):
        assert redact_text(raw(name)) == (raw(name), [])


def test_redact_secrets_returns_a_copy():
    info = json.loads(with_secrets(raw(SGLANG_C32_JSON)))
    copy, paths = redact_secrets(info)
    assert copy["server_info"]["api_key"] == "<redacted>"
    assert info["server_info"]["api_key"] == "sk-local-0123456789abcdefghij"
    assert copy["server_info"]["tokenizer_path"] == "unsloth/Llama-3.3-70B-Instruct"
    assert copy["server_info"]["max_total_num_tokens"] == 20620
    assert len(paths) == 3


@pytest.mark.parametrize("name, secret", [
    ("api_key", True), ("admin_api_key", True), ("hf_token", True), ("HUGGING_FACE_HUB_TOKEN", True),
    ("ssl_keyfile_password", True), ("X-Api-Key", True), ("clientSecret", True), ("auth", True),
    ("tokenizer_path", False), ("max_total_tokens", False), ("ssl_keyfile", False), ("author", False),
])
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


def test_error_messages_quote_no_secret():
    text = '{"completed": 1, "duration": "sk-local-0123456789abcdefghij", "model_id": "m", "num_prompts": 1}'
    with pytest.raises(GpubenchError) as caught:
        parse_serving_output(text, "x.json")
    assert re.search(r"key 'duration': expected a number", str(caught.value))
    assert "sk-local" not in str(caught.value)


def test_other_json_in_a_capture_is_not_a_result():
    models = '{"object": "list", "data": [{"id": "unsloth/Llama-3.3-70B-Instruct", "object": "model"}]}\n'
    capture = models + raw(NIGHTLY_C32_TXT)
    assert parse_one(NIGHTLY_C32_TXT, capture).value("output_throughput_tok_per_s") == 461.8375497491146
    with pytest.raises(GpubenchError, match=r"line 2 holds JSON that is not a result \(object, data\)"):
        parse_serving_output("+ curl -sf http://127.0.0.1:8000/v1/models\n" + models, "poll.txt")


def test_json_lines_with_a_broken_line_keep_the_intact_runs_and_say_so():
    for text, line, kept in ((raw(SGLANG_C1_JSON) + raw(SGLANG_C32_JSON)[:20000], 2, 1),
                             (raw(SGLANG_C1_JSON)[:20000] + "\n" + raw(SGLANG_C32_JSON), 1, 32)):
        results = parse_serving_output(text, "appended.jsonl")
        assert [r.workload.max_concurrency for r in results] == [kept]
        assert results[0].warnings[-1].startswith(f"ignored line {line}: JSON that does not parse")
