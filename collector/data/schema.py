"""The data/ contract: which files exist, their columns, types and meaning.

This module is the single source of the schema: the store validates against it, and the site's Data page is
generated from it. Bump SCHEMA_VERSION whenever a column is added, removed or changes meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 3
VERSION_FILE = "SCHEMA_VERSION"

SOURCES = ("collected", "imported", "transcribed")
# Static batches (TGI's text-generation-benchmark: prefill and decode per batch size) or serving (requests sent to
# an OpenAI-compatible server at a concurrency or rate: TTFT, TPOT, ITL, end-to-end latency, throughput).
BENCHMARK_KINDS = ("static_batch", "serving")
RUN_STATUSES = ("ok", "failed")
STATIC_BATCH_METRICS = (
    "prefill_latency_ms",
    "decode_token_latency_ms",
    "decode_total_latency_ms",
    "prefill_throughput_seq_per_s",
    "prefill_throughput_tok_per_s",
    "decode_throughput_tok_per_s",
)
# Serving metrics: latency distributions (stats below) and per-run totals (stat "value").
SERVING_LATENCY_METRICS = ("ttft_ms", "tpot_ms", "itl_ms", "e2el_ms")
SERVING_VALUE_METRICS = (
    "request_throughput_req_per_s",
    "request_goodput_req_per_s",
    "output_throughput_tok_per_s",
    "input_throughput_tok_per_s",
    "total_throughput_tok_per_s",
    "max_output_throughput_tok_per_s",
    "completed_requests",
    "failed_requests",
    "input_tokens",
    "input_text_tokens",
    "input_vision_tokens",
    "output_tokens",
    "output_tokens_retokenized",
    "duration_s",
    "concurrency_mean",
    "max_concurrency_observed",
    "spec_accept_length",
    "rtfx",
)
METRICS = STATIC_BATCH_METRICS + SERVING_LATENCY_METRICS + SERVING_VALUE_METRICS
STATIC_BATCH_STATS = ("avg", "min", "max", "p50", "p90", "p99")
# Serving tools print any percentile asked for (--metric-percentiles): p<number> is a stat too.
SERVING_STATS = ("mean", "median", "std", "p25", "p50", "p75", "p90", "p95", "p99", "p99.9", "value")
PERCENTILE_STAT = r"p\d+(\.\d+)?"
STATS = tuple(dict.fromkeys(STATIC_BATCH_STATS + SERVING_STATS))
# text-generation-benchmark reads its percentiles by index from partly sorted arrays: p90 often equals p99 and
# falls below p50. For static-batch runs they are kept for completeness but never ranked on or charted as if exact.
# (Serving benchmarks compute percentiles with numpy over every request: those are exact.)
UNRELIABLE_STATS = ("p50", "p90", "p99")
PREFILL_FORMULAS = ("seq_per_s", "tok_per_s")
# What can make a run's numbers misleading; computed at import, stored per run, shown on every point.
VALIDITY_FLAGS = (
    "output_short",  # fewer output tokens than asked (ignore-EOS off: requests stopped at EOS)
    "failed_requests",  # some requests failed
    "concurrency_not_reached",  # the observed concurrency stayed far below the target
    "no_steady_state",  # the tool warned that the run had no steady-state window
    "no_results",  # a capture whose benchmark never produced results
    "failed_batches",  # a static batch size failed (NaN)
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # str | int | float | rate (a number or inf) | bool | date | datetime | intlist | enum | flaglist |
    #            stat (an enum that also admits any percentile p<number>)
    doc: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None  # what a new run gets when its maker says nothing


RUN_COLUMNS: tuple[Column, ...] = (
    Column("run_id", "str", "Stable id derived from the run's content: importing the same output twice adds nothing.", True),
    Column("source", "enum", "How the numbers reached data/: collected by gpubench, imported from a file, or "
           "transcribed from a publication.", True, SOURCES),
    Column("source_url", "str", "Where a transcribed or imported result was published."),
    Column("raw_path", "str", "The raw output(s) under data/ the numbers were parsed from, unchanged."),
    Column("measured_at", "datetime", "When the benchmark ran (ISO 8601, UTC), if known."),
    Column("published_at", "date", "When the source published the result, for transcribed runs."),
    Column("host", "str", "Host label (inventory name), if known."),
    Column("provider", "str", "Who ran the host and sold its GPU hours (a cloud: Massed Compute, Lambda, ...); empty "
           "when unknown. A run with a provider is priced only by that provider's snapshots (or ones naming none)."),
    Column("gpu", "str", "GPU model, as reported by the host or the publication.", True),
    Column("gpu_count", "int", "GPUs in the instance.", True),
    Column("gpu_name_reported", "str", "GPU name exactly as the host reported it (nvidia-smi), when collected."),
    Column("gpu_memory_mib", "int", "Memory of one GPU in MiB, as reported by nvidia-smi."),
    Column("num_shard", "int", "Tensor-parallel shards the server ran (TGI --num-shard)."),
    Column("engine", "str", "Inference server (tgi, vllm, sglang).", True),
    Column("engine_version", "str", "Server version (from its version endpoint, the result file or the image), if "
           "known."),
    Column("benchmark_kind", "enum", "static_batch (text-generation-benchmark: prefill and decode per batch size) or "
           "serving (requests to an OpenAI-compatible server at a concurrency or rate).", True, BENCHMARK_KINDS),
    Column("benchmark_tool", "str", "The benchmark client: text-generation-benchmark, vllm bench serve, "
           "sglang.bench_serving."),
    Column("benchmark_tool_version", "str", "Version of the benchmark client, if known."),
    Column("sweep_id", "str", "Runs of one server start (one setup, one sweep of loads) share this id."),
    Column("status", "enum", "ok, or failed (no numbers, or only some: see failure_reason).", True, RUN_STATUSES,
           default="ok"),
    Column("failure_reason", "str", "Why the run failed, from the tool's output or the server's log."),
    Column("image", "str", "Container image reference."),
    Column("image_digest", "str", "Content digest of the image that ran."),
    Column("driver_version", "str", "GPU driver version."),
    Column("cuda_version", "str", "CUDA version reported by the driver."),
    Column("model_id", "str", "Served model (Hugging Face id)."),
    Column("model_revision", "str", "Model revision or commit sha."),
    Column("tokenizer", "str", "Tokenizer the benchmark used (its Model parameter)."),
    Column("dtype", "str", "Weights precision (--dtype), if known."),
    Column("quantize", "str", "Quantization (--quantize), if any."),
    Column("launcher_args", "str", "Extra launcher flags, space separated."),
    Column("sequence_length", "int", "Prompt length in tokens (benchmark -s)."),
    Column("decode_length", "int", "New tokens per request (benchmark -d); decode steps = decode_length - 1."),
    Column("n_runs", "int", "Measured runs per batch size (benchmark -r)."),
    Column("warmups", "int", "Warm-up runs per batch size (benchmark -w)."),
    Column("batch_sizes", "intlist", "Batch sizes, space separated, in the order they ran."),
    Column("failed_batch_sizes", "intlist", "Batch sizes whose numbers came out NaN (e.g. out of memory)."),
    Column("temperature", "float", "Sampling temperature, empty when off."),
    Column("top_k", "int", "Top-k sampling, empty when off."),
    Column("top_p", "float", "Top-p sampling, empty when off."),
    Column("typical_p", "float", "Typical-p sampling, empty when off."),
    Column("repetition_penalty", "float", "Repetition penalty, empty when off."),
    Column("frequency_penalty", "float", "Frequency penalty, empty when off."),
    Column("top_n_tokens", "int", "Top-n tokens returned, empty when off."),
    Column("watermark", "bool", "Watermarking on (true/false)."),
    Column("do_sample", "bool", "Sampling on (true/false)."),
    Column("dataset", "str", "Serving workload: the prompt dataset (random, sharegpt, ...)."),
    Column("input_len", "int", "Serving workload: prompt tokens asked per request (--random-input-len)."),
    Column("output_len", "int", "Serving workload: output tokens asked per request (--random-output-len)."),
    Column("range_ratio", "float", "Serving workload: --random-range-ratio; its meaning differs between tools and "
           "versions (see Methodology)."),
    Column("ignore_eos", "bool", "Serving workload: generation ignored end-of-sequence, so every request produced "
           "output_len tokens (true/false; empty when unknown)."),
    Column("num_prompts", "int", "Serving workload: requests sent."),
    Column("request_rate", "rate", "Serving workload: requests per second the client aimed at; inf = all at once."),
    Column("max_concurrency", "int", "Serving workload: most requests in flight at once (the load level)."),
    Column("seed", "int", "Serving workload: random seed of the prompts."),
    Column("validity_flags", "flaglist", "What may make the numbers misleading, space separated: "
           + ", ".join(VALIDITY_FLAGS) + ".", False, VALIDITY_FLAGS),
    Column("validity_notes", "str", "The figures behind the validity flags (e.g. 133 of 640 output tokens)."),
    Column("prefill_throughput_formula", "enum", "What the tool's prefill 'tokens/secs' really counted: seq_per_s "
           "(before TGI 2.4.1: batch / latency) or tok_per_s (from 2.4.1: batch x sequence length / latency).",
           False, PREFILL_FORMULAS),
    Column("price_usd_per_hr", "float", "Instance price in US$ per hour when measured; empty when unknown."),
    Column("price_date", "date", "Date of that price."),
    Column("price_source", "str", "Where that price was read."),
    Column("notes", "str", "Free text: caveats of this run."),
)

RESULT_COLUMNS: tuple[Column, ...] = (
    Column("run_id", "str", "The run (runs.csv) this value belongs to.", True),
    Column("batch_size", "int", "Static batches: concurrent sequences. Empty for serving runs, whose load is the "
           "run's max_concurrency and request_rate."),
    Column("metric", "enum", "What was measured; the unit is the name's suffix (ms, s, seq_per_s, tok_per_s, "
           "req_per_s; counts have none).", True, METRICS),
    Column("stat", "stat", "Static batches: avg, min, max are exact; p50/p90/p99 from text-generation-benchmark are "
           "not trustworthy (see Methodology). Serving: mean, median, std and percentiles over every request; "
           "value for totals.", True, STATS),
    Column("value", "float", "The number; empty when the batch size failed (NaN) or was not reported."),
)

PRICE_COLUMNS: tuple[Column, ...] = (
    Column("gpu", "str", "GPU model.", True),
    Column("gpu_count", "int", "GPUs in the instance.", True),
    Column("price_usd_per_hr", "float", "Instance price in US$ per hour.", True),
    Column("price_date", "date", "Date the price was read.", True),
    Column("provider", "str", "Who sells it (runs.csv's provider): a run with a provider is priced only by its "
           "provider's snapshots and by snapshots naming none."),
    Column("source_url", "str", "Where the price was read."),
)

GPU_SPEC_COLUMNS: tuple[Column, ...] = (
    Column("gpu", "str", "GPU model.", True),
    Column("memory_gb", "float", "Memory per GPU, GB.", True),
    Column("mem_bw_gbps", "float", "Memory bandwidth per GPU, GB/s.", True),
    Column("bf16_dense_tflops", "float", "Dense BF16 tensor TFLOPS (no sparsity)."),
    Column("fp8_dense_tflops", "float", "Dense FP8 tensor TFLOPS; empty where FP8 is not supported."),
    Column("tdp_w", "float", "Board power, W."),
    Column("interconnect", "str", "GPU-to-GPU and host links."),
    Column("source_url", "str", "Where the figures were read (nominal datasheet values)."),
)

RUNS_CSV, RESULTS_CSV, PRICES_CSV, GPU_SPECS_CSV = "runs.csv", "results.csv", "prices.csv", "gpu_specs.csv"
# In write order: runs.csv last, as the commit point of a write.
TABLES: dict[str, tuple[Column, ...]] = {
    GPU_SPECS_CSV: GPU_SPEC_COLUMNS,
    PRICES_CSV: PRICE_COLUMNS,
    RESULTS_CSV: RESULT_COLUMNS,
    RUNS_CSV: RUN_COLUMNS,
}


def column_names(table: str) -> list[str]:
    return [c.name for c in TABLES[table]]
