"""Benchmark: how long `mkdocs build` of the report site takes as data/ grows, against a floor.

For 1,000 and 10,000 runs it generates a data/ folder (realistic models, GPU setups, batch sizes, failed batches and
all six statistics per metric; setups that ran several times over the months, across TGI versions before and after
2.4.1's prefill formula change; a third of the runs are serving sweeps of vLLM and SGLang at four load levels, with
failed and flagged runs; a raw output file per run; a dated price snapshot per priced run in prices.csv; written
through collector.data.store), then times

- the site:  `mkdocs build` with every page, table and chart, every run visible (a page per run, the setups'
  histories) and the runs' raw files copied into the site;
- the floor: the same pages and headings with the tables and charts left out (GPUBENCH_SITE_EMPTY=1), i.e.
  bare MkDocs, Material, search and loading data/ without the site's own work;

and prints the times, the site/floor ratio, the 10,000-run time over the 1,000-run time, and the largest page (its
HTML with its charts' specs and data; the shared chart bundle is one separate file and not counted).

Targets: at 1,000 runs the site within 1.5x the floor; 10,000 runs within 10x the 1,000-run time; no page over 1 MB.

Usage: python bench/site_build.py [--runs 1000 10000] [--repeat 3] [--repeat-large 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from collector.data import store  # noqa: E402
from collector.data.records import new_run  # noqa: E402
from collector.data.store import read_table  # noqa: E402

MODELS = [  # (model id, weights in GB at 16-bit): what decides which setups can serve it
    ("meta-llama/Meta-Llama-3.1-70B-Instruct", 141), ("meta-llama/Meta-Llama-3-70B-Instruct", 141),
    ("meta-llama/Llama-3.3-70B-Instruct", 141), ("meta-llama/Meta-Llama-3.1-8B-Instruct", 16),
    ("meta-llama/Meta-Llama-3-8B-Instruct", 16), ("meta-llama/Llama-3.1-405B-Instruct", 812),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", 94), ("Qwen/Qwen2.5-72B-Instruct", 145),
]
PRICE_PER_GPU_HR = {"A30": 0.25, "RTX A6000": 0.63, "L40": 0.99, "L40S": 1.10, "A100 SXM4 80GB": 1.60,
                    "A100 PCIe 80GB": 1.72, "H100 PCIe": 2.99, "H100 SXM": 3.29, "H200 SXM": 4.10,
                    "B200 (HGX)": 6.20, "MI300X": 3.20, "RTX 4090": 0.45, "A10": 0.60, "L4": 0.52}
COUNTS = (1, 2, 4, 8)
BATCHES = [1, 2, 4, 8, 16, 32]
# TGI versions in the order the runs of a setup come (one every few months): the prefill formula changes at 2.4.1.
TGI_VERSIONS = ("2.3.0", "2.4.1", "3.3.5")
RATIO_TARGET, SCALE_TARGET, PAGE_TARGET = 1.5, 10.0, 1_000_000


def _specs() -> dict[str, dict]:
    rows = read_table(REPO / "data" / "gpu_specs.csv", "gpu_specs.csv")
    for r in rows:
        r.pop("_line", None)
    return {str(r["gpu"]): r for r in rows}


def _combos(rng: random.Random, specs: dict, n_runs: int) -> list[tuple]:
    """(model, weights GB, GPU, count) setups that fit the model: a few models, several setups each."""
    combos = []
    for model, weights_gb in MODELS:
        for gpu, spec in specs.items():
            for count in COUNTS:
                total = spec["memory_gb"] * count
                if weights_gb * 1.15 < total <= weights_gb * 8 + 200:
                    combos.append((model, weights_gb, gpu, count))
    rng.shuffle(combos)
    models_needed = min(len(MODELS), max(2, round(math.sqrt(n_runs) / 3)))
    chosen_models = {m for m, _ in MODELS[:models_needed]}
    combos = [c for c in combos if c[0] in chosen_models]
    per_model_setups = max(5, min(40, n_runs // (models_needed * 3) or 5))
    picked: list[tuple] = []
    for model in sorted(chosen_models):
        picked += [c for c in combos if c[0] == model][:per_model_setups]
    return picked


def _price(rng: random.Random, i: int, gpu: str, count: int) -> float | None:
    return None if i % 11 == 5 else round(PRICE_PER_GPU_HR[gpu] * count * rng.uniform(0.9, 1.15), 2)


def _static_run(rng, i: int, combo: tuple, repeat: int, specs: dict) -> tuple[dict, list[dict], float | None]:
    """One text-generation-benchmark run: every batch size, all six statistics per metric."""
    model, weights_gb, gpu, count = combo
    spec = specs[gpu]
    run_id = f"bench{i:05d}"
    quantize = "fp8" if (i % 7 == 3 and spec.get("fp8_dense_tflops")) else None
    bytes_gb = weights_gb / (2 if quantize else 1)
    batches = BATCHES + ([64, 128] if i % 5 == 0 else [])
    free_gb = spec["memory_gb"] * count - bytes_gb
    failed = [b for b in batches if b * 0.35 > free_gb]  # KV cache does not fit: the tool prints NaN
    price = _price(rng, i, gpu, count)
    # the setup's runs come months apart, the engine upgraded every few runs
    day, year_month = 1 + i % 28, 2024 * 12 + 5 + repeat * 2 + i % 2
    date = f"{year_month // 12}-{year_month % 12 + 1:02d}-{day:02d}"
    version = TGI_VERSIONS[min(repeat // 3, len(TGI_VERSIONS) - 1)]
    run = {
        "run_id": run_id, "source": "collected", "raw_path": f"raw/collected/{run_id}.txt",
        "measured_at": f"{date}T10:00:00Z", "host": f"host-{i % 23}", "gpu": gpu,
        "gpu_count": count, "num_shard": count, "engine": "tgi", "engine_version": version,
        "benchmark_kind": "static_batch", "benchmark_tool": "text-generation-benchmark",
        "image": "ghcr.io/huggingface/text-generation-inference:3.3.5", "model_id": model, "tokenizer": model,
        "quantize": quantize, "sequence_length": 10, "decode_length": 8, "n_runs": 10, "warmups": 1,
        "batch_sizes": batches, "failed_batch_sizes": failed or None, "watermark": False, "do_sample": False,
        "prefill_throughput_formula": "seq_per_s" if version < "2.4.1" else "tok_per_s", "price_usd_per_hr": price,
        "price_date": date if price else None,
    }
    floor_ms = bytes_gb / (spec["mem_bw_gbps"] * count) * 1000
    step1 = floor_ms / rng.uniform(0.35, 0.8) + 2.5 * math.log2(count + 1)
    results = []
    for b in batches:
        ok = b not in failed
        token = step1 * (1 + 0.018 * b ** 1.1)
        prefill = token * (1.1 + 0.09 * b)
        values = {
            "prefill_latency_ms": prefill, "decode_token_latency_ms": token,
            "decode_total_latency_ms": token * 7, "prefill_throughput_tok_per_s": b * 10 / prefill * 1000,
            "prefill_throughput_seq_per_s": b / prefill * 1000, "decode_throughput_tok_per_s": b * 1000 / token,
        }
        for metric, v in values.items():
            for stat, f in (("avg", 1), ("min", 0.96), ("max", 1.07), ("p50", 0.99), ("p90", 1.03), ("p99", 1.03)):
                results.append({"run_id": run_id, "batch_size": b, "metric": metric, "stat": stat,
                                "value": round(v * f, 2) if ok else None})
    return run, results, price


SERVING_ENGINES = (("vllm", "vllm bench serve", "0.11.0"), ("sglang", "sglang.bench_serving", "0.5.14"))
LEVELS = (1, 8, 32, 64)


def _serving_sweep(rng, first: int, size: int, combo: tuple, engine: tuple, specs: dict) -> tuple[list, list, list]:
    """One server start of vllm/sglang: up to four load levels, TTFT/TPOT/ITL/E2EL statistics and totals;
    some runs failed (no numbers) and some flagged (short outputs), as real sweeps have."""
    model, weights_gb, gpu, count = combo
    name, tool, version = engine
    spec = specs[gpu]
    price = _price(rng, first, gpu, count)
    tpot1 = weights_gb / (spec["mem_bw_gbps"] * count) * 1000 / rng.uniform(0.4, 0.8)
    runs, results, prices = [], [], []
    for k, level in enumerate(LEVELS[:size]):
        run_id = f"serve{first + k:05d}"
        failed = (first + k) % 13 == 7
        short = not failed and name == "vllm" and (first + k) % 5 == 1
        runs.append({
            "run_id": run_id, "source": "collected", "raw_path": f"raw/collected/{run_id}.json",
            "measured_at": f"2026-{1 + first % 12:02d}-{1 + first % 28:02d}T12:00:00Z", "gpu": gpu, "gpu_count": count,
            "engine": name, "engine_version": version, "benchmark_kind": "serving", "benchmark_tool": tool,
            "benchmark_tool_version": version, "sweep_id": f"sweep{first:05d}", "status": "failed" if failed else "ok",
            "failure_reason": "the server stopped answering" if failed else None, "model_id": model,
            "tokenizer": model, "dataset": "random", "input_len": 1024, "output_len": 128,
            "range_ratio": 0.0, "ignore_eos": name == "sglang" or None, "num_prompts": 5 * level,
            "request_rate": "inf", "max_concurrency": level, "seed": 0,
            "validity_flags": ["no_results"] if failed else (["output_short"] if short else None),
            "validity_notes": "the run produced no results" if failed else (
                f"{int(0.9 * 640 * level)} of {640 * level} output tokens asked (90.0%)" if short else None),
            "price_usd_per_hr": price, "price_date": "2026-01-15" if price else None,
            "price_source": "bench" if price else None,
        })
        if failed:
            continue
        tpot = tpot1 * (1 + 0.03 * level)
        ttft = tpot * (3 + 0.4 * level)
        tok_s = level * 1000 / tpot * 0.92
        latencies = (("ttft_ms", ttft), ("tpot_ms", tpot), ("itl_ms", tpot * 0.98), ("e2el_ms", ttft + 127 * tpot))
        for metric, v in latencies:
            for stat, f in (("mean", 1.02), ("median", 1), ("std", 0.2), ("p90", 1.3), ("p95", 1.45), ("p99", 1.8)):
                results.append({"run_id": run_id, "batch_size": None, "metric": metric, "stat": stat,
                                "value": v * f})
        done = 5 * level
        for metric, v in (("output_throughput_tok_per_s", tok_s), ("total_throughput_tok_per_s", tok_s * 9),
                          ("request_throughput_req_per_s", tok_s / 128), ("completed_requests", done),
                          ("input_tokens", done * 1024), ("output_tokens", done * (115 if short else 128)),
                          ("duration_s", done * 128 / tok_s)):
            results.append({"run_id": run_id, "batch_size": None, "metric": metric, "stat": "value", "value": v})
    if price:
        prices.append({"gpu": gpu, "gpu_count": count, "price_usd_per_hr": price, "price_date": "2026-01-15",
                       "provider": "bench"})
    return runs, results, prices


def _raw_text(run: dict, rows: list[dict]) -> bytes:
    """A raw output of about the size of a real one (a few kB): the run's averages, one line each."""
    lines = [f"# {run['run_id']} {run['gpu_count']}x {run['gpu']} {run['engine']} {run.get('engine_version')}"]
    lines += [f"{r.get('batch_size') or ''} {r['metric']} {r['stat']} {r['value']}" for r in rows if r["stat"] in (
        "avg", "median", "value")]
    return ("\n".join(lines) + "\n").encode()


def _unique_prices(prices: list[dict]) -> list[dict]:
    """One snapshot per setup, day and provider (store.add refuses two prices for the same)."""
    seen: dict[tuple, dict] = {}
    for p in prices:
        seen.setdefault((p["gpu"], p["gpu_count"], p["price_date"], p.get("provider")), p)
    return list(seen.values())


def generate(root: Path, n_runs: int, seed: int = 1) -> None:
    """A data/ folder with n_runs runs: two thirds static batches (several runs per setup over time), one third
    serving sweeps of vLLM and SGLang over the same setups (four load levels each, some failed or flagged)."""
    rng = random.Random(seed)
    specs = _specs()
    picked = _combos(rng, specs, n_runs)
    n_serving = n_runs // 3
    runs, results, prices = [], [], []
    for i in range(n_runs - n_serving):
        run, rows, price = _static_run(rng, i, picked[i % len(picked)], i // len(picked), specs)
        runs.append(run)
        results += rows
        if price:
            prices.append({"gpu": run["gpu"], "gpu_count": run["gpu_count"], "price_usd_per_hr": price,
                           "price_date": run["price_date"], "provider": "bench"})
    done, sweep = 0, 0
    while done < n_serving:
        size = min(len(LEVELS), n_serving - done)
        engine = SERVING_ENGINES[sweep % len(SERVING_ENGINES)]
        more = _serving_sweep(rng, done, size, picked[(sweep // 2) % len(picked)], engine, specs)
        runs += more[0]
        results += more[1]
        prices += more[2]
        done, sweep = done + size, sweep + 1
    checked = [new_run(r, where=f"bench run {r['run_id']}") for r in runs]
    by_run: dict[str, list[dict]] = {}
    for row in results:
        by_run.setdefault(row["run_id"], []).append(row)
    raw = {r["raw_path"]: _raw_text(r, by_run.get(r["run_id"], [])) for r in runs}
    store.add(root, checked, results, raw_files=raw, prices=_unique_prices(prices), gpu_specs=list(specs.values()))


def build(data: Path, site: Path, *, empty: bool) -> float:
    env = {**os.environ, "GPUBENCH_DATA": str(data), "NO_MKDOCS_2_WARNING": "1"}
    env.pop("GPUBENCH_SITE_URL", None)
    if empty:
        env["GPUBENCH_SITE_EMPTY"] = "1"
    else:
        env.pop("GPUBENCH_SITE_EMPTY", None)
    shutil.rmtree(site, ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
                          cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"mkdocs build failed:\n{proc.stdout}{proc.stderr}")
    return elapsed


def largest_page(site: Path) -> tuple[int, str]:
    pages = [(p.stat().st_size, p.relative_to(site).as_posix()) for p in site.rglob("*.html")]
    return max(pages)


def measure(work: Path, n: int, repeat: int) -> dict:
    """Site and floor builds of n runs, alternating (a busy machine then slows both alike); medians."""
    data = work / f"runs{n}" / "data"
    shutil.rmtree(data, ignore_errors=True)
    generate(data, n)
    site, floor = work / f"runs{n}" / "site", work / f"runs{n}" / "floor"
    times: dict[str, list[float]] = {"site": [], "floor": []}
    for _ in range(repeat):
        times["site"].append(build(data, site, empty=False))
        times["floor"].append(build(data, floor, empty=True))
    size, page = largest_page(site)
    return {"runs": n, "results": sum(1 for _ in (data / "results.csv").open()) - 1,
            "pages": len(list(site.rglob("index.html"))), "site": statistics.median(times["site"]),
            "floor": statistics.median(times["floor"]), "size": size, "page": page,
            "site_mb": sum(f.stat().st_size for f in site.rglob("*") if f.is_file()) / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--repeat", type=int, default=3, help="builds per variant below 10,000 runs; the median counts")
    ap.add_argument("--repeat-large", type=int, default=1, help="builds per variant from 10,000 runs")
    ap.add_argument("--keep", type=Path, help="keep the generated data and sites in this folder")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="gpubench-bench-"))
    # One build first so that the chart bundle is cached (as it is after the first build on any machine).
    gen0 = work / "warm" / "data"
    generate(gen0, 10)
    build(gen0, work / "warm" / "site", empty=False)

    print(f"{'runs':>6} {'results':>9} {'pages':>6} {'site s':>8} {'floor s':>8} {'ratio':>6} {'site MB':>8} "
          f"{'largest page':>13}  page")
    rows = {}
    for n in args.runs:
        m = measure(work, n, args.repeat if n < 10_000 else args.repeat_large)
        rows[n] = m
        print(f"{n:>6} {m['results']:>9} {m['pages']:>6} {m['site']:>8.2f} {m['floor']:>8.2f} "
              f"{m['site'] / m['floor']:>5.2f}x {m['site_mb']:>8.1f} {m['size'] / 1e6:>10.2f} MB  {m['page']}")
    verdicts = []
    if 1000 in rows:
        ratio = rows[1000]["site"] / rows[1000]["floor"]
        verdicts.append((f"1,000 runs: site / floor = {ratio:.2f}x (target <= {RATIO_TARGET}x)", ratio <= RATIO_TARGET))
    if 1000 in rows and 10000 in rows:
        scale = rows[10000]["site"] / rows[1000]["site"]
        verdicts.append((f"10,000 runs / 1,000 runs = {scale:.2f}x the time (target <= {SCALE_TARGET:g}x)",
                         scale <= SCALE_TARGET))
    biggest = max(rows.values(), key=lambda m: m["size"])
    verdicts.append((f"largest page {biggest['size'] / 1e6:.2f} MB at {biggest['runs']:,} runs, {biggest['page']} "
                     "(target <= 1 MB)", biggest["size"] <= PAGE_TARGET))
    for text, ok in verdicts:
        print(f"{'met' if ok else 'NOT met'}: {text}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
