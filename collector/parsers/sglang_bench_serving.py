"""Parse what `python -m sglang.bench_serving` (from 0.5.15 a shim for `sglang.benchmark.serving`) saves and prints.

Facts this parser relies on (see docs/reference/serving-benchmarks.md, section 2):
- --output-file is opened in append mode: one JSON object per line, one line per run, oldest first.
- `request_rate` is written by json.dumps as the bare token `Infinity` (or a number, or "trace").
- Latency keys are `{mean,median,std,p90,p95,p99}_{ttft,tpot,itl}_ms` and `*_e2e_latency_ms` (vLLM: `*_e2el_ms`);
  older versions write fewer stats. `total_throughput` is vLLM's `total_token_throughput`.
- No `num_prompts` and no failure count in the JSON: failed requests just vanish from the statistics. The printed
  arguments (`Namespace(...)`) of a capture give num_prompts, seed and `disable_ignore_eos`.
- `server_info` is the server's /server_info: its version, model and every server argument, secrets included.
- --random-range-ratio r draws lengths from U[max(int(L*r), 1), L] (default 0: mean about L/2); only r = 1 fixes
  them. A capture's `#Output tokens: N` line is the planned total over all prompts.
- The printed block has rows vLLM's never has: `Backend:`, `Concurrency:`, the `End-to-End Latency` section,
  `Max ITL (ms):` (not saved in the JSON).
"""

from __future__ import annotations

from collector.data.errors import GpubenchError
from collector.parsers import serving
from collector.parsers.serving import ServingResult, per_request_warnings, values_from_json
from collector.parsers.serving_capture import PrintedBlock, arg_integer, arg_text, json_integer, json_text, request_rate

TOOL = serving.TOOL_SGLANG

# Keys only SGLang writes; one is enough to tell its JSON from vLLM's.
OWN_KEYS = frozenset({"server_info", "total_output_tokens_retokenized", "input_throughput", "total_throughput",
                      "concurrency", "accept_length", "dataset_name", "random_input_len", "random_output_len",
                      "random_range_ratio", "sharegpt_output_len", "tag", "total_input_text_tokens"})
OWN_ARGUMENTS = frozenset({"disable_ignore_eos", "output_file", "warmup_requests", "sharegpt_context_len",
                           "output_details", "extra_request_body"})
OWN_LABELS = frozenset({"backend", "concurrency", "total generated tokens (retokenized)", "max itl (ms)",
                        "mean e2e latency (ms)"})


def json_score(obj: dict) -> int:
    return sum(1 for key in obj if key in OWN_KEYS or key.endswith("_e2e_latency_ms"))


def claims_block(labels: set[str]) -> bool:
    return bool(labels & OWN_LABELS)


def claims_namespace(args: dict) -> bool:
    return any(key in args for key in OWN_ARGUMENTS)


def result_from_json(obj: dict, path: str, line: int | None) -> ServingResult:
    result = ServingResult(tool=TOOL, path=path, line=line, source="json")
    result.backend = json_text(obj, "backend", path, line)
    workload = result.workload
    workload.dataset_name = json_text(obj, "dataset_name", path, line)
    workload.request_rate = request_rate(obj.get("request_rate"), "request_rate", path, line)
    workload.max_concurrency = json_integer(obj, "max_concurrency", path, line)
    if (workload.dataset_name or "").startswith("random"):
        workload.input_len = json_integer(obj, "random_input_len", path, line)
        workload.output_len = json_integer(obj, "random_output_len", path, line)
        ratio = obj.get("random_range_ratio")
        workload.range_ratio = float(ratio) if isinstance(ratio, (int, float)) and not isinstance(ratio, bool) \
            else None
        if workload.range_ratio == 1.0 and workload.output_len is not None:
            workload.output_len_range = (workload.output_len, workload.output_len)
    info = obj.get("server_info")
    if isinstance(info, dict):
        result.tool_version = arg_text(info.get("version"))
        result.model_id = arg_text(info.get("model_path")) or arg_text(info.get("served_model_name"))
        result.tokenizer = arg_text(info.get("tokenizer_path"))
    elif info is not None:
        raise GpubenchError("key 'server_info': expected an object or null", path=path, line=line)
    result.version_hint = version_hint(obj)
    result.values, result.warnings = values_from_json(obj, path, line)
    result.warnings += per_request_warnings(obj)  # with --output-details
    return result


def version_hint(obj: dict) -> str | None:
    """Which release's key set this is, when server_info does not say (doc section 2.3)."""
    if "server_info" in obj:
        return ">=0.5.8 key set (server_info)"
    if "p95_itl_ms" in obj:
        return "0.4.6-0.5.2 key set (p95_itl_ms, no server_info)"
    if "request_throughput" in obj:
        return "0.4.3 key set"
    return "0.3.x key set (no request_throughput)"


def result_from_block(block: PrintedBlock, path: str) -> ServingResult | None:
    return serving.result_from_printed(block, path, TOOL)  # with the Backend row


def apply_context(result: ServingResult, args: dict, announced: dict[str, str]) -> None:
    """Fill in from the capture around the result what the JSON or block does not say."""
    workload = result.workload
    if args:
        result.model_id = result.model_id or arg_text(args.get("model"))
        result.tokenizer = result.tokenizer or arg_text(args.get("tokenizer")) or arg_text(args.get("model"))
        result.backend = result.backend or arg_text(args.get("backend"))
        workload.dataset_name = workload.dataset_name or arg_text(args.get("dataset_name"))
        workload.num_prompts = arg_integer(args.get("num_prompts"))
        workload.seed = arg_integer(args.get("seed"))
        disable = args.get("disable_ignore_eos")
        workload.ignore_eos = (not disable) if isinstance(disable, bool) else None
        if workload.max_concurrency is None:
            workload.max_concurrency = arg_integer(args.get("max_concurrency"))
        if (workload.dataset_name or "").startswith("random") and workload.output_len is None:
            workload.input_len = arg_integer(args.get("random_input_len"))
            workload.output_len = arg_integer(args.get("random_output_len"))
            ratio = args.get("random_range_ratio")
            workload.range_ratio = float(ratio) if isinstance(ratio, (int, float)) and \
                not isinstance(ratio, bool) else None
    if "Output tokens" in announced:
        result.requested_output_tokens = int(announced["Output tokens"])
    elif workload.output_len_range and workload.num_prompts:
        low, high = workload.output_len_range
        result.requested_output_tokens = low * workload.num_prompts if low == high else None


def parse_sglang_bench_serving(text: str | bytes, path: str) -> list[ServingResult]:
    """Every sglang.bench_serving run in a file (saved JSON, JSON lines, or a capture of the printed block)."""
    return serving.parse_tool_output(text, path, TOOL)


# ------------------------------------------------------------------------------------------ the command line

FIXED_RANGE_RATIO = 1.0  # lengths are drawn from U[max(int(L*r), 1), L]: only 1 fixes them
BACKEND_OF_SERVER = {"sglang": "sglang", "vllm": "vllm", "tgi": "vllm"}  # OpenAI-style streaming for the others


def command(*, base_url: str, model: str, workload, point, result_path: str, server: str) -> list[str]:
    """`python3 -m sglang.bench_serving` for one point of a sweep; its result line is appended to `result_path`.
    `workload` is the inventory's Workload, `point` a LoadPoint; `server` the engine it measures."""
    ratio = FIXED_RANGE_RATIO if workload.range_ratio is None else workload.range_ratio
    argv = ["python3", "-m", "sglang.bench_serving", "--backend", BACKEND_OF_SERVER.get(server, "sglang"),
            "--base-url", base_url, "--model", model, *serving.random_workload_args(workload, point, ratio),
            "--output-file", result_path]
    if not workload.ignore_eos:
        argv.append("--disable-ignore-eos")  # SGLang sends ignore_eos unless told not to
    return argv
