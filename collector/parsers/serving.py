"""The shared vocabulary of serving benchmarks (`vllm bench serve`, `python -m sglang.bench_serving`) and the reader
that finds their results in a file: saved JSON, JSON lines, or the printed "Serving Benchmark Result" block inside a
terminal capture (read by serving_capture; each tool's meaning given by vllm_bench_serve and sglang_bench_serving).

Facts this module relies on (see docs/reference/serving-benchmarks.md):
- Keys differ between tools and versions, so values are read by name and unknown keys are ignored. SGLang writes
  `request_rate` as the bare token `Infinity`, which Python's json accepts.
- Floats print with two decimals, so a printed value is the JSON value rounded to 0.01. Label case differs between
  versions (`Total Token`/`Total token`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from collector.data.errors import GpubenchError
from collector.parsers.secrets import decode_text, one_line
from collector.parsers.serving_capture import (
    PrintedBlock,
    Segment,
    json_documents,
    json_number,
    printed_load_value,
    printed_number,
    scan_capture,
    why_no_result,
)

TOOL_VLLM = "vllm bench serve"
TOOL_SGLANG = "sglang.bench_serving"

# Latency metrics (milliseconds) with stats mean, median, std, p90, p95, p99 -- and whatever other percentiles
# (p25, p99.9, ...) or max the file has, named as the file names them.
LATENCY_METRICS = ("ttft_ms", "tpot_ms", "itl_ms", "e2el_ms")
LATENCY_STATS = ("mean", "median", "std", "p90", "p95", "p99")
VALUE = "value"  # the stat of a single-number metric

# Single-number metrics, keyed by the JSON key that holds them (both tools, all versions seen).
JSON_METRICS = {
    "completed": "completed_requests",
    "failed": "failed_requests",  # vLLM >= 0.12 only; nobody else counts failures
    "duration": "duration_s",
    "total_input_tokens": "input_tokens",
    "total_input_text_tokens": "input_text_tokens",
    "total_input_vision_tokens": "input_vision_tokens",
    "total_output_tokens": "output_tokens",
    "total_output_tokens_retokenized": "output_tokens_retokenized",
    "request_throughput": "request_throughput_req_per_s",
    "request_goodput": "request_goodput_req_per_s",
    "request_goodput:": "request_goodput_req_per_s",  # the colon typo of the vLLM 0.8.5 wheel
    "input_throughput": "input_throughput_tok_per_s",
    "output_throughput": "output_throughput_tok_per_s",
    "total_token_throughput": "total_throughput_tok_per_s",  # vLLM's name
    "total_throughput": "total_throughput_tok_per_s",  # SGLang's name
    "max_output_tokens_per_s": "max_output_throughput_tok_per_s",  # busiest 1-second bucket
    "max_concurrent_requests": "max_concurrency_observed",  # 1-second buckets: can exceed --max-concurrency
    "concurrency": "concurrency_mean",  # SGLang: sum of latencies / duration
    "accept_length": "spec_accept_length",
    "rtfx": "rtfx",
}
# The same metrics by printed label, compared in lower case (labels changed case between versions).
PRINTED_METRICS = {
    "successful requests": "completed_requests",
    "failed requests": "failed_requests",
    "benchmark duration (s)": "duration_s",
    "total input tokens": "input_tokens",
    "total input text tokens": "input_text_tokens",
    "total input vision tokens": "input_vision_tokens",
    "total generated tokens": "output_tokens",
    "total generated tokens (retokenized)": "output_tokens_retokenized",
    "request throughput (req/s)": "request_throughput_req_per_s",
    "request goodput (req/s)": "request_goodput_req_per_s",
    "input token throughput (tok/s)": "input_throughput_tok_per_s",
    "output token throughput (tok/s)": "output_throughput_tok_per_s",
    "total token throughput (tok/s)": "total_throughput_tok_per_s",
    "peak output token throughput (tok/s)": "max_output_throughput_tok_per_s",
    "peak concurrent requests": "max_concurrency_observed",
    "concurrency": "concurrency_mean",
    "accept length": "spec_accept_length",
    "rtfx (inverse real-time factor)": "rtfx",
}
# Printed rows that describe the load rather than measure it.
PRINTED_LOAD = {
    "backend": "backend",
    "traffic request rate": "request_rate",
    "request rate configured (rps)": "request_rate",
    "max request concurrency": "max_concurrency",
    "max reqeuest concurrency": "max_concurrency",  # SGLang 0.4.6 spelling
    "maximum request concurrency": "max_concurrency",
}
LATENCY_NAMES = {"ttft": "ttft_ms", "tpot": "tpot_ms", "itl": "itl_ms", "e2el": "e2el_ms", "e2e_latency": "e2el_ms",
                 "e2e latency": "e2el_ms"}
JSON_LATENCY_KEY = re.compile(r"(mean|median|std|max|min|p\d+(?:\.\d+)?)_(ttft|tpot|itl|e2el|e2e_latency)_ms")
PRINTED_LATENCY_LABEL = re.compile(r"(mean|median|std|max|min|p\d+(?:\.\d+)?) (ttft|tpot|itl|e2el|e2e latency) \(ms\)")
PRINTED_TOLERANCE = 0.005 + 1e-9  # a .2f print is within half a cent of the saved value


@dataclass(frozen=True)
class MetricValue:
    metric: str
    stat: str
    value: int | float  # exactly as the file has it: the JSON number, or the printed number


@dataclass
class Workload:
    """What load the run put on the server. None means the file does not say."""

    dataset_name: str | None = None
    input_len: int | None = None  # requested per prompt (random datasets)
    output_len: int | None = None
    range_ratio: float | str | None = None  # as given; its meaning differs per tool and version (see the doc, 5.2)
    output_len_range: tuple[int, int] | None = None  # per-request output length bounds, when the file fixes them
    ignore_eos: bool | None = None  # effective value: vLLM >= 0.12 forces it on for random datasets
    num_prompts: int | None = None
    request_rate: float | None = None  # requests/s; inf = all released at t=0; None = not recorded, or a trace
    max_concurrency: int | None = None  # None = not set (unlimited) or not recorded
    seed: int | None = None


@dataclass
class ServingResult:
    """One benchmark invocation: who ran it, what load, and its values."""

    tool: str  # TOOL_VLLM | TOOL_SGLANG
    path: str
    line: int | None = None  # where in the file this run's output starts
    source: str = "json"  # json | printed | json+printed (a capture holding both, values from the JSON)
    tool_version: str | None = None  # SGLang: server_info.version of the install that served; vLLM files never say
    version_hint: str | None = None  # what the key set or printed labels tell about the version
    backend: str | None = None
    model_id: str | None = None
    tokenizer: str | None = None
    date: str | None = None  # as written (vLLM: client-local %Y%m%d-%H%M%S, no zone)
    workload: Workload = field(default_factory=Workload)
    requested_output_tokens: int | None = None  # over all prompts, when the file says or the workload fixes it
    values: list[MetricValue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def value(self, metric: str, stat: str = VALUE) -> int | float | None:
        return next((v.value for v in self.values if v.metric == metric and v.stat == stat), None)

    @property
    def output_tokens(self) -> int | float | None:
        return self.value("output_tokens")

    def to_rows(self) -> list[dict]:
        """Tidy rows: metric, stat, value, and the load they were measured under (request_rate inf stays inf)."""
        load = {"max_concurrency": self.workload.max_concurrency, "request_rate": self.workload.request_rate}
        return [{"metric": v.metric, "stat": v.stat, "value": v.value, **load} for v in self.values]

    csv_header = ("metric", "stat", "value", "max_concurrency", "request_rate")

    def csv_rows(self) -> list[tuple]:
        return [tuple(r[k] for k in self.csv_header) for r in self.to_rows()]

    def to_document(self) -> dict:
        """The JSON document of `gpubench parse --format json` for one run."""
        w = self.workload
        return {
            "file": self.path, "line": self.line, "tool": self.tool, "tool_version": self.tool_version,
            "version_hint": self.version_hint, "backend": self.backend, "model_id": self.model_id,
            "tokenizer": self.tokenizer, "date": self.date, "read_from": self.source,
            "workload": {"dataset": w.dataset_name, "input_len": w.input_len, "output_len": w.output_len,
                         "range_ratio": w.range_ratio, "ignore_eos": w.ignore_eos, "num_prompts": w.num_prompts,
                         "request_rate": _json_rate(w.request_rate), "max_concurrency": w.max_concurrency,
                         "seed": w.seed},
            "requested_output_tokens": self.requested_output_tokens, "warnings": self.warnings,
            "rows": [{"metric": v.metric, "stat": v.stat, "value": v.value} for v in self.values],
        }


def random_workload_args(workload, point, range_ratio: float) -> list[str]:
    """The workload flags both serving clients spell alike (random dataset, lengths, prompts, rate, seed, load);
    `workload` is the inventory's Workload and `point` one LoadPoint of its sweep."""
    args = ["--dataset-name", workload.dataset, "--random-input-len", str(workload.input_len),
            "--random-output-len", str(workload.output_len), "--random-range-ratio", f"{range_ratio:g}",
            "--num-prompts", str(point.num_prompts), "--request-rate", f"{point.request_rate:g}",
            "--seed", str(workload.seed)]
    return args + (["--max-concurrency", str(point.max_concurrency)] if point.max_concurrency else [])


def _json_rate(rate: float | None) -> float | str | None:
    return "inf" if rate is not None and math.isinf(rate) else rate  # JSON has no infinity


# --------------------------------------------------------------------------------------------- values

def metric_of(key: str, names: dict[str, str], latency: re.Pattern) -> tuple[str, str] | None:
    """(metric, stat) of a JSON key or lower-case printed label: a single-number metric by name, or a latency
    statistic by pattern; None if the key is not in the vocabulary."""
    if key in names:
        return names[key], VALUE
    if match := latency.fullmatch(key):
        return LATENCY_NAMES[match.group(2)], match.group(1)
    return None


def values_from_json(obj: dict, path: str, line: int | None) -> tuple[list[MetricValue], list[str]]:
    """Every metric the object holds, by key name; unknown keys are ignored."""
    values, warnings = [], []
    for key, raw in obj.items():
        named = metric_of(key, JSON_METRICS, JSON_LATENCY_KEY)
        if named is None or raw is None:
            continue  # not a metric; or e.g. goodput without --goodput, accept_length without speculative decoding
        metric, stat = named
        value = json_number(raw, key, path, line)
        if not math.isfinite(value):
            warnings.append(f"{key} is {value} (no successful requests?); left out")
        elif not (metric == "rtfx" and value == 0):  # 0 = not an audio run; the tool prints it only when > 0
            values.append(MetricValue(metric, stat, value))
    return values, warnings


def per_request_warnings(obj: dict) -> list[str]:
    """What the per-request arrays show (vLLM 0.8.5 always, later vLLM with --save-detailed, SGLang with
    --output-details): uneven output lengths, requests that returned an error."""
    warnings = []
    lengths = obj.get("output_lens")
    counts = isinstance(lengths, list) and lengths and all(type(n) is int for n in lengths)
    if counts and min(lengths) != max(lengths):
        short = sum(1 for n in lengths if n < max(lengths))
        warnings.append(f"output lengths vary from {min(lengths)} to {max(lengths)} tokens per request "
                        f"({short} of {len(lengths)} below the longest): outputs were not forced to a fixed "
                        "length (ignore_eos off?)")
    errors = obj.get("errors")
    if isinstance(errors, list):
        failed = [e for e in errors if isinstance(e, str) and e.strip()]
        if failed:
            warnings.append(f"{len(failed)} request(s) returned an error, first: "
                            f"{one_line(failed[0], 120)}")
    return warnings


def values_from_block(block: PrintedBlock, path: str) -> tuple[list[MetricValue], dict[str, str], list[str]]:
    """Metrics (printed numbers), load rows (label -> text) and notes of one printed block."""
    values, load, notes = [], {}, []
    for line, label, text in block.rows:
        key = label.lower()
        if key in PRINTED_LOAD:
            load[PRINTED_LOAD[key]] = text
            continue
        named = metric_of(key, PRINTED_METRICS, PRINTED_LATENCY_LABEL)
        if named is None:
            continue  # rows of newer versions (queueing, goodput, cache details): not part of the vocabulary
        metric, stat = named
        value = printed_number(text, label, path, line)
        if math.isfinite(value):
            values.append(MetricValue(metric, stat, value))
        else:
            notes.append(f"line {line}: {label} is {text} (no successful requests?); left out")
    return values, load, notes


def result_from_printed(block: PrintedBlock, path: str, tool: str) -> ServingResult | None:
    """A tool's result from its printed block: the values, the load rows, and a warning if the block is cut off;
    None if the block has no metric. (Only SGLang's block has a Backend row.)"""
    values, load, notes = values_from_block(block, path)
    if not values:
        return None
    result = ServingResult(tool=tool, path=path, line=block.line, source="printed", values=values, warnings=notes)
    result.backend = load.get("backend")
    result.workload.max_concurrency = printed_load_value(load.get("max_concurrency"), "int")
    result.workload.request_rate = printed_load_value(load.get("request_rate"), "float")
    if not block.closed:
        result.warnings.append(f"the printed block (line {block.line}) is cut off; kept the rows before the cut")
    return result


# --------------------------------------------------------------------------------------------- dispatch

def _tools():
    # Imported here: the tool modules import this one for the vocabulary.
    from collector.parsers import sglang_bench_serving, vllm_bench_serve

    return vllm_bench_serve, sglang_bench_serving


def parse_tool_output(text: str | bytes, path: str, tool: str) -> list[ServingResult]:
    """parse_serving_output, refusing a file that holds output of another tool than `tool`."""
    results = parse_serving_output(text, path)
    other = [r for r in results if r.tool != tool]
    if other:
        raise GpubenchError(f"holds output of {other[0].tool}, not of {tool} (line {other[0].line})", path=path)
    return results


def json_tool(obj: dict, path: str, line: int | None):
    """The tool module whose keys the object has; an error naming what the object is otherwise."""
    scores = [(tool.json_score(obj), tool) for tool in _tools()]
    best, tool = max(scores, key=lambda s: s[0])
    if "completed" not in obj or "duration" not in obj or best == 0 or [s for s, _ in scores].count(best) > 1:
        keys = ", ".join(list(obj)[:8]) + (", ..." if len(obj) > 8 else "")
        raise GpubenchError(f"JSON object without the result keys of vllm bench serve or sglang.bench_serving "
                            f"(has: {one_line(keys, 120) or 'no keys'}); a summary or another tool's file?",
                            path=path, line=line)
    return tool


def block_tool(block: PrintedBlock, namespace_tool):
    """SGLang's block has rows vLLM's never has (Backend, Concurrency, E2E Latency); else trust the arguments."""
    vllm, sglang = _tools()
    if sglang.claims_block(block.labels()):
        return sglang
    return namespace_tool if namespace_tool is not None else vllm


def agree(a: ServingResult, b: ServingResult, metrics=None) -> list[str]:
    """Metrics both have whose values differ by more than printing rounds (with `metrics`, those must exist)."""
    differ = []
    for v in b.values:
        if metrics is not None and v.metric not in metrics:
            continue
        other = a.value(v.metric, v.stat)
        if other is not None and abs(other - v.value) > PRINTED_TOLERANCE:
            differ.append(f"{v.metric} {v.stat}: printed {v.value}, saved {other}")
    if metrics is not None and any(a.value(m) is None or b.value(m) is None for m in metrics):
        differ.append("not the same run")
    return differ


def merge_printed(saved: ServingResult, printed: ServingResult) -> None:
    """One run printed and saved: keep the saved (exact) numbers, add rows only printed (SGLang's Max ITL)."""
    for text in agree(saved, printed):
        saved.warnings.append(f"the printed block (line {printed.line}) disagrees with the saved JSON: {text}")
    for v in printed.values:
        if saved.value(v.metric, v.stat) is None:
            saved.values.append(v)
    for name in ("request_rate", "max_concurrency"):
        if getattr(saved.workload, name) is None:
            setattr(saved.workload, name, getattr(printed.workload, name))
    saved.backend = saved.backend or printed.backend
    saved.version_hint = saved.version_hint or printed.version_hint
    saved.line, saved.source = printed.line, "json+printed"
    saved.warnings += printed.warnings


def results_of_segment(seg: Segment, path: str) -> list[ServingResult]:
    namespace_tool = next((t for t in _tools() if seg.namespace and t.claims_namespace(seg.namespace)), None)
    saved = [json_tool(obj, path, n).result_from_json(obj, path, n) for n, obj in seg.jsons]
    results: list[ServingResult] = []
    for block in seg.blocks:
        printed = block_tool(block, namespace_tool).result_from_block(block, path)
        if printed is None:
            continue
        twin = next((s for s in saved if s.tool == printed.tool and s.source == "json" and
                     not agree(s, printed, ("completed_requests", "duration_s"))), None)
        if twin is None:
            results.append(printed)
        else:
            merge_printed(twin, printed)
    results = sorted(results + saved, key=lambda r: r.line or 0)
    # The arguments belong to this invocation's result; old JSON lines `cat`-ed along with it are not theirs.
    own = [r for r in results if r.source != "json"] or results
    for result in own if len(own) == 1 else []:
        tool = next(t for t in _tools() if t.TOOL == result.tool)
        if namespace_tool in (None, tool):
            tool.apply_context(result, seg.namespace, seg.announced)
        result.warnings = seg.notes + result.warnings
    for result in results:
        result.warnings += [f"ignored {bad}" for bad in seg.bad_json]
    return results


def parse_serving_output(text: str | bytes, path: str) -> list[ServingResult]:
    """All serving-benchmark runs in one file: a saved JSON (object or lines) of vllm bench serve or
    sglang.bench_serving, or a capture holding their printed block and/or JSON. Anything else raises
    GpubenchError naming the file and what is wrong."""
    text = decode_text(text, path)
    json_error = None
    if text.lstrip().startswith(("{", "[")):
        try:
            documents = json_documents(text, path)
        except GpubenchError as e:
            json_error = e  # maybe a capture that starts with a `cat` of the JSON: try that before giving up
        else:
            results = [json_tool(obj, path, n).result_from_json(obj, path, n) for n, obj in documents]
    if json_error is not None or not text.lstrip().startswith(("{", "[")):
        segments = scan_capture(text)
        results = [r for seg in segments for r in results_of_segment(seg, path)]
        if not results:
            raise json_error or GpubenchError(why_no_result(segments), path=path)
    for result in results:
        check_result(result)
    return results



def check_result(result: ServingResult) -> None:
    """Warnings every reader of the numbers should see: failures, and outputs shorter than asked for."""
    if not result.values:
        raise GpubenchError("a result without any metric", path=result.path, line=result.line)
    failed, completed = result.value("failed_requests"), result.value("completed_requests")
    prompts = result.workload.num_prompts
    if failed:
        result.warnings.append(f"{failed} request(s) failed; they are missing from every latency statistic")
    elif completed is not None and prompts is not None and completed < prompts:
        result.warnings.append(f"only {completed} of {prompts} requests completed; the rest failed silently and "
                               "are missing from every statistic")
    wanted, got = result.requested_output_tokens, result.output_tokens
    if wanted and got is not None and got != wanted:
        share = f"{100 * got / wanted:.1f}%"
        result.warnings.append(f"generated {got} output tokens, {share} of the {wanted} requested" +
                               (" (outputs stopped early: EOS not ignored)" if got < wanted else ""))
