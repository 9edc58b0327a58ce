"""Parse what `vllm bench serve` (and its predecessor `benchmarks/benchmark_serving.py`) saves and prints.

Facts this parser relies on (see docs/reference/serving-benchmarks.md, sections 1 and 6):
- The saved JSON has no version and its keys drift: `best_of` and the typo key `request_goodput:` only in 0.8.x;
  `backend` in the legacy script and from 0.11; `failed` from 0.12; `max_output_tokens_per_s` /
  `max_concurrent_requests` from 0.11; `rtfx` from 0.20; per-request arrays (`input_lens`, `output_lens`, `ttfts`,
  `itls`, `generated_texts`, `errors`) always in 0.8.5, only with --save-detailed later. Nothing is required beyond
  `completed` and `duration`, which every version writes.
- `request_rate` is the string "inf" or a number; `max_concurrency` is null when unset; `date` is client-local
  time `%Y%m%d-%H%M%S` without a zone. The JSON names neither dataset nor lengths: those come from the printed
  `Namespace(...)` of a capture, when there is one.
- `--random-range-ratio` r: 0.8.5 `bench serve` draws lengths from U[int(L*r), L] (default 1 = fixed); from 0.9 on
  from U[L(1-r), L(1+r)] (default 0 = fixed). vLLM >= 0.20 logs the bounds it drew from (`Sampling input_len from
  [127, 127] and output_len from [128, 128]`).
- `--ignore-eos` is off by default, but from 0.12 the client forces it on for the random datasets.
- The printed block: `Failed requests:` from 0.12, `Peak ...` rows from 0.11, `Total Token throughput` with a
  capital T through 0.12, lower case from 0.13.
"""

from __future__ import annotations

from collector.parsers import serving
from collector.parsers.serving import ServingResult, per_request_warnings, values_from_json
from collector.parsers.serving_capture import (
    PrintedBlock,
    arg_integer,
    arg_text,
    json_integer,
    json_text,
    printed_load_value,
    request_rate,
)

TOOL = serving.TOOL_VLLM

# Keys only vLLM writes; one is enough to tell its JSON from SGLang's.
OWN_KEYS = frozenset({"model_id", "tokenizer_id", "burstiness", "num_prompts", "endpoint_type", "label", "best_of",
                      "total_token_throughput", "date", "request_goodput:", "rtfx", "failed", "input_lens"})
# Arguments only vLLM's clients have (bench serve: subparser; legacy script: save_result, percentile_metrics).
OWN_ARGUMENTS = frozenset({"subparser", "bench_type", "endpoint_type", "save_result", "percentile_metrics",
                           "metric_percentiles", "result_filename"})
RANDOM_DATASETS = ("random", "random-mm")


def json_score(obj: dict) -> int:
    return sum(1 for key in obj if key in OWN_KEYS or key.endswith("_e2el_ms"))


def claims_block(labels: set[str]) -> bool:
    return "backend" not in labels and "successful requests" in labels


def claims_namespace(args: dict) -> bool:
    return any(key in args for key in OWN_ARGUMENTS)


def version_hint_from_keys(obj: dict) -> str | None:
    if "best_of" in obj or "request_goodput:" in obj:
        return "0.8.x key set (best_of, 'request_goodput:')"
    for key, hint in (("rtfx", ">=0.20 key set (rtfx)"), ("failed", ">=0.12 key set (failed)"),
                      ("max_output_tokens_per_s", ">=0.11 key set (max_output_tokens_per_s)")):
        if key in obj:
            return hint
    if "endpoint_type" in obj and "backend" not in obj:
        return "0.9-0.10 key set (endpoint_type, no backend)"
    if "backend" in obj and "endpoint_type" not in obj:
        return "legacy benchmark_serving.py key set (backend, no endpoint_type)"
    return None


def version_hint_from_labels(labels: set[str], printed: list[str]) -> str | None:
    if "rtfx (inverse real-time factor)" in labels:
        return ">=0.20 printed block (RTFx row)"
    if "total token throughput (tok/s)" in labels:
        capital = "Total Token throughput (tok/s)" in printed
        if "failed requests" in labels:
            return "0.12 printed block (Failed requests, 'Total Token')" if capital else \
                ">=0.13 printed block (Failed requests, 'Total token')"
        if "peak output token throughput (tok/s)" in labels:
            return "0.11 printed block (Peak rows, no Failed requests)"
        return "<=0.10 printed block (no Peak rows)"
    return None


def result_from_json(obj: dict, path: str, line: int | None) -> ServingResult:
    result = ServingResult(tool=TOOL, path=path, line=line, source="json")
    result.model_id = json_text(obj, "model_id", path, line)
    result.tokenizer = json_text(obj, "tokenizer_id", path, line)
    result.date = json_text(obj, "date", path, line)
    result.backend = json_text(obj, "backend", path, line) or json_text(obj, "endpoint_type", path, line)
    result.version_hint = version_hint_from_keys(obj)
    workload = result.workload
    workload.num_prompts = json_integer(obj, "num_prompts", path, line)
    workload.max_concurrency = json_integer(obj, "max_concurrency", path, line)
    workload.request_rate = request_rate(obj.get("request_rate"), "request_rate", path, line)
    result.values, result.warnings = values_from_json(obj, path, line)
    result.warnings += per_request_warnings(obj)
    return result


def result_from_block(block: PrintedBlock, path: str) -> ServingResult | None:
    result = serving.result_from_printed(block, path, TOOL)
    if result is not None:
        result.version_hint = version_hint_from_labels(block.labels(), [label for _, label, _ in block.rows])
    return result


def apply_context(result: ServingResult, args: dict, announced: dict[str, str]) -> None:
    """Fill in from the capture around the result what the JSON or block does not say."""
    workload = result.workload
    if "Traffic request rate" in announced and workload.request_rate is None:
        workload.request_rate = printed_load_value(announced["Traffic request rate"], "float")
    if "Maximum request concurrency" in announced and workload.max_concurrency is None:
        workload.max_concurrency = printed_load_value(announced["Maximum request concurrency"], "int")
    if args:
        apply_arguments(result, args)
    if "sampling" in announced:
        _, _, low, high = (int(n) for n in announced["sampling"].split(","))
        workload.output_len_range = (low, high)
    low_high = workload.output_len_range
    if low_high and low_high[0] == low_high[1] and workload.num_prompts:
        result.requested_output_tokens = low_high[0] * workload.num_prompts


def apply_arguments(result: ServingResult, args: dict) -> None:
    """The printed Namespace: model, dataset, lengths, range ratio, EOS handling, seed."""
    workload = result.workload
    result.model_id = result.model_id or arg_text(args.get("model"))
    result.tokenizer = result.tokenizer or arg_text(args.get("tokenizer")) or arg_text(args.get("model"))
    result.backend = result.backend or arg_text(args.get("backend")) or arg_text(args.get("endpoint_type"))
    workload.dataset_name = arg_text(args.get("dataset_name"))
    workload.seed = arg_integer(args.get("seed"))
    workload.num_prompts = workload.num_prompts or arg_integer(args.get("num_prompts"))
    if workload.max_concurrency is None:
        workload.max_concurrency = arg_integer(args.get("max_concurrency"))
    if workload.request_rate is None and isinstance(args.get("request_rate"), (int, float)):
        workload.request_rate = float(args["request_rate"])
    if workload.dataset_name in RANDOM_DATASETS:
        # >= 0.20: --input-len / --output-len override the dataset-specific lengths when given.
        workload.input_len = arg_integer(args.get("input_len")) or arg_integer(args.get("random_input_len"))
        workload.output_len = arg_integer(args.get("output_len")) or arg_integer(args.get("random_output_len"))
        workload.range_ratio = _ratio(args.get("random_range_ratio"))
        workload.output_len_range = output_len_range(workload.output_len, workload.range_ratio, args)
    ignore_eos = args.get("ignore_eos")
    workload.ignore_eos = ignore_eos if isinstance(ignore_eos, bool) else None
    # 0.12 added --num-warmups and made the client force ignore_eos on for the random datasets.
    if "num_warmups" in args and workload.dataset_name in RANDOM_DATASETS:
        workload.ignore_eos = True


def output_len_range(length: int | None, ratio, args: dict) -> tuple[int, int] | None:
    """Per-request output bounds where the version's formula is certain: 0.8.5 bench (U[int(L*r), L]) and, for
    the symmetric formula of later versions, only r = 0 (fixed length)."""
    if length is None or not isinstance(ratio, float):
        return None
    if args.get("subparser") == "bench" and "best_of" in args and "backend" not in args:  # 0.8.x bench serve
        return (int(length * ratio), length) if 0 <= ratio <= 1 else None
    if "backend" in args and ratio == 0:
        return (length, length)
    return None


def _ratio(value) -> float | str | None:
    """A float, or a JSON text such as '{"input": 0.1, "output": 0.2}' (>= 0.20) kept as given."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def parse_vllm_bench_serve(text: str | bytes, path: str) -> list[ServingResult]:
    """Every vllm bench serve run in a file (saved JSON, JSON lines, or a capture of the printed block)."""
    return serving.parse_tool_output(text, path, TOOL)


# ------------------------------------------------------------------------------------------ the command line

FIXED_RANGE_RATIO = 0.0  # from 0.9 lengths are drawn from U[L(1-r), L(1+r)]: 0 fixes them (0.8.5 needed 1.0)


def command(*, base_url: str, model: str, workload, point, result_path: str, server: str) -> list[str]:
    """`vllm bench serve` for one point of a sweep; the result JSON goes to `result_path` in the container.
    `workload` is the inventory's Workload, `point` a LoadPoint; `server` the engine it measures."""
    directory, _, filename = result_path.rpartition("/")
    ratio = FIXED_RANGE_RATIO if workload.range_ratio is None else workload.range_ratio
    argv = ["vllm", "bench", "serve", "--base-url", base_url, "--model", model,
            *serving.random_workload_args(workload, point, ratio), "--percentile-metrics", "ttft,tpot,itl,e2el",
            "--metric-percentiles", "50,90,95,99", "--save-result", "--result-dir", directory or "/",
            "--result-filename", filename]
    if workload.ignore_eos:
        argv.append("--ignore-eos")
    return argv
