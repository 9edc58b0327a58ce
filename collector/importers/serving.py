"""From a parsed serving-benchmark result (`vllm bench serve`, `sglang.bench_serving`) to a run of data/, with the
validity flags that say when its numbers may mislead."""

from __future__ import annotations

import shlex

from collector.data.records import Run, new_run
from collector.data.tables import Record
from collector.parsers.serving import TOOL_SGLANG, TOOL_VLLM, ServingResult

ENGINE_OF_TOOL = {TOOL_VLLM: "vllm", TOOL_SGLANG: "sglang"}
COUNTS = ("completed_requests", "failed_requests", "duration_s")  # what a run whose requests all failed still says
LOW_CONCURRENCY = 0.5  # observed mean concurrency below this share of the target: the load was not what it says


def serving_run(result: ServingResult, *, run_id: str, raw_path: str, **provenance: object) -> tuple[Run, list[Record]]:
    """The run and result rows of one serving benchmark invocation. What the file says wins over `provenance`
    for the workload; the engine follows from the tool unless given."""
    w = result.workload
    flags, notes = validity(result)
    values: dict[str, object] = {k: v for k, v in provenance.items() if v is not None}
    values.setdefault("engine", ENGINE_OF_TOOL[result.tool])
    if result.tool == TOOL_SGLANG and result.tool_version:  # server_info.version: the install that served
        values.setdefault("engine_version", result.tool_version)
    values.setdefault("model_id", result.model_id)
    values.setdefault("tokenizer", result.tokenizer)
    values.update(
        run_id=run_id, raw_path=raw_path, benchmark_kind="serving", benchmark_tool=result.tool,
        benchmark_tool_version=result.tool_version, dataset=w.dataset_name, input_len=w.input_len,
        output_len=w.output_len, range_ratio=w.range_ratio if isinstance(w.range_ratio, (int, float)) else None,
        ignore_eos=w.ignore_eos, num_prompts=w.num_prompts, request_rate=w.request_rate,
        max_concurrency=w.max_concurrency, seed=w.seed, validity_flags=flags,
        validity_notes="; ".join(notes) or None,
        notes="; ".join(filter(None, [str(values.get("notes") or ""), _version_note(result)])) or None,
    )
    kept = result.values
    if result.value("completed_requests") == 0:  # every request failed: its latencies and rates are not zero, but
        failed = result.value("failed_requests")  # unknown; the counts stay
        values.update(status="failed", failure_reason=f"no request completed ({failed:g} failed)" if failed is not None
                      else "no request completed")
        kept = [v for v in result.values if v.metric in COUNTS]
    run = new_run(values, where=result.path)
    rows = [{"run_id": run_id, "batch_size": None, "metric": v.metric, "stat": v.stat, "value": float(v.value)}
            for v in kept]
    return run, rows


def _version_note(result: ServingResult) -> str:
    return f"{result.tool} version hint: {result.version_hint}" if result.version_hint else ""


def validity(result: ServingResult) -> tuple[list[str], list[str]]:
    """Validity flags and the figures behind them, from the result itself."""
    flags: list[str] = []
    notes: list[str] = []
    produced, asked = result.output_tokens, result.requested_output_tokens
    if produced is not None and asked and produced < asked:  # with ignore-EOS on, every request gives all it asked
        flags.append("output_short")
        eos = "" if result.workload.ignore_eos else " (ignore-EOS off: requests stopped at end-of-sequence)"
        notes.append(f"{produced:g} of {asked:g} output tokens asked ({produced / asked:.1%}){eos}")
    failed = result.value("failed_requests")
    completed = result.value("completed_requests")
    if failed:
        flags.append("failed_requests")
        notes.append(f"{failed:g} failed requests" + (f", {completed:g} completed" if completed is not None else ""))
    observed, target = observed_concurrency(result), result.workload.max_concurrency
    if observed is not None and target:
        reachable = min(target, result.workload.num_prompts or target)
        if observed < LOW_CONCURRENCY * reachable:
            flags.append("concurrency_not_reached")
            notes.append(f"mean concurrency {observed:.1f} for a target of {target}")
    steady = [w for w in result.warnings if "steady" in w.lower()]
    if steady:
        flags.append("no_steady_state")
        notes.append(steady[0])
    return flags, notes


def observed_concurrency(result: ServingResult) -> float | None:
    """Requests in flight on average: the tool's own figure, else Little's law (completed requests x mean
    end-to-end latency / duration)."""
    reported = result.value("concurrency_mean")
    if reported is not None:
        return float(reported)
    completed, e2el, duration = (result.value("completed_requests"), result.value("e2el_ms", "mean"),
                                 result.value("duration_s"))
    if completed and e2el is not None and duration:
        return completed * e2el / 1000.0 / duration
    return None


def complete_from(result: ServingResult, others: list[ServingResult]) -> None:
    """Fill what a saved result does not record (vLLM's JSON has no input or output length, no ignore-EOS) from the
    same invocation's printed capture or log, matched by tool, concurrency and number of prompts."""
    w = result.workload
    for other in others:
        o = other.workload
        if other.tool != result.tool or not _same(o.max_concurrency, w.max_concurrency) \
                or not _same(o.num_prompts, w.num_prompts):
            continue
        for name in ("dataset_name", "input_len", "output_len", "range_ratio", "output_len_range", "ignore_eos",
                     "seed", "num_prompts"):
            if getattr(w, name) is None:
                setattr(w, name, getattr(o, name))
        if result.requested_output_tokens is None:
            result.requested_output_tokens = other.requested_output_tokens
        result.warnings += [x for x in other.warnings if x not in result.warnings and "JSON" not in x]
        return


def _same(a, b) -> bool:
    return a is None or b is None or a == b  # unknown on one side is no contradiction


# Flags of a benchmark command line that name its workload (both tools spell them alike).
COMMAND_FLAGS = {"--model": "model_id", "--dataset-name": "dataset", "--random-input-len": "input_len",
                 "--random-output-len": "output_len", "--num-prompts": "num_prompts",
                 "--max-concurrency": "max_concurrency", "--request-rate": "request_rate", "--seed": "seed"}


def workload_from_command(capture: str) -> dict[str, object]:
    """The workload of a benchmark that never produced results, from the shell trace of its command (`+ ...
    bench serve --model ... --max-concurrency 8 ...`): all that is known of it."""
    for line in capture.splitlines():
        if not line.startswith("+ ") or "bench" not in line:
            continue
        try:
            words = shlex.split(line[2:])
        except ValueError:
            continue
        found: dict[str, object] = {}
        for flag, value in zip(words, words[1:]):
            if flag in COMMAND_FLAGS:
                found[COMMAND_FLAGS[flag]] = value
        if "--ignore-eos" in words:
            found["ignore_eos"] = True
        if found:
            return found
    return {}


def failed_run(capture: str, reason: str, *, run_id: str, raw_path: str, engine: str,
               **provenance: object) -> Run:
    """A benchmark invocation whose capture holds no results: kept as a failed run, with its reason."""
    values = {k: v for k, v in provenance.items() if v is not None}
    values.update(workload_from_command(capture))
    values.update(run_id=run_id, raw_path=raw_path, engine=engine, benchmark_kind="serving",
                  benchmark_tool=TOOL_VLLM if engine == "vllm" else TOOL_SGLANG, status="failed",
                  failure_reason=reason, validity_flags=["no_results"],
                  validity_notes="the capture holds no benchmark results")
    return new_run(values, where=raw_path)
