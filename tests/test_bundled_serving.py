"""The Massed Compute 2026 serving results bundled in data/: numbers and provenance checked against values read by
hand from the raw files under data/raw/imported/mc2026 (and its catalog-gpus.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.data import store

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "data" / "raw" / "imported" / "mc2026"


@pytest.fixture(scope="module")
def ds():
    return store.load(ROOT / "data")


def run_of(ds, model, gpu, count, engine, concurrency):
    runs = [r for r in ds.runs if r.benchmark_kind == "serving" and r.model_id == model and r.gpu == gpu
            and r.gpu_count == count and r.engine == engine and r.max_concurrency == concurrency
            and r.status == "ok"]
    assert len(runs) == 1, (model, gpu, engine, concurrency, len(runs))
    return runs[0]


def values(ds, run):
    return {(r["metric"], r["stat"]): r["value"] for r in ds.results if r["run_id"] == run.run_id}


def test_vllm_085_on_2x_h100_at_concurrency_32(ds):
    # llama-3-3-70b-instruct/gpu_2x_h100/20260716T150819Z/vllm-c32.json: output_throughput 415.5240460132559,
    # median_ttft_ms 309.9051590002091, total_output_tokens 19229 of 160 prompts x 128 (vllm-c32.txt: ignore_eos=False)
    run = run_of(ds, "unsloth/Llama-3.3-70B-Instruct", "H100", 2, "vllm", 32)
    v = values(ds, run)
    assert v[("output_throughput_tok_per_s", "value")] == 415.5240460132559
    assert v[("ttft_ms", "median")] == 309.9051590002091
    assert v[("output_tokens", "value")] == 19229
    assert (run.input_len, run.output_len, run.ignore_eos, run.num_prompts) == (128, 128, False, 160)
    assert run.validity_flags == ("output_short",) and "19229 of 20480" in run.validity_notes
    # catalog-gpus.json: H100 at 2.73 $/GPU-hour on 2026-07-16; gpu_2x_h100 = 2 GPUs
    assert (run.price_usd_per_hr, run.price_date) == (5.46, "2026-07-16")
    assert run.measured_at == "2026-07-16T15:08:19+00:00" and run.benchmark_tool == "vllm bench serve"
    assert run.raw_path.split() == [
        "raw/imported/mc2026/llama-3-3-70b-instruct/gpu_2x_h100/20260716T150819Z/vllm-c32.json",
        "raw/imported/mc2026/llama-3-3-70b-instruct/gpu_2x_h100/20260716T150819Z/vllm-c32.txt"]


def test_sglang_on_2x_h100_at_concurrency_32(ds):
    # sglang-c32.json (last line): output_throughput 339.42553289879913, median_ttft_ms 198.9135725000324,
    # median_tpot_ms 82.4072404322031, p99_ttft_ms 285.29564717013267, server_info.version 0.5.14
    run = run_of(ds, "unsloth/Llama-3.3-70B-Instruct", "H100", 2, "sglang", 32)
    v = values(ds, run)
    assert v[("output_throughput_tok_per_s", "value")] == 339.42553289879913
    assert v[("ttft_ms", "median")] == 198.9135725000324
    assert v[("tpot_ms", "median")] == 82.4072404322031
    assert v[("ttft_ms", "p99")] == 285.29564717013267
    assert run.engine_version == "0.5.14" and run.validity_flags == ()


def test_short_outputs_are_flagged(ds):
    # llama-3-1-nemotron-70b-instruct/gpu_2x_h100/20260716T163619Z: vllm-c1.json total_output_tokens 133, and
    # run.log's Namespace: 5 prompts, random_output_len=128, ignore_eos=False
    run = run_of(ds, "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF", "H100", 2, "vllm", 1)
    assert run.validity_flags == ("output_short",)
    assert run.validity_notes.startswith("133 of 640 output tokens asked")


def test_runs_of_one_server_start_form_a_sweep(ds):
    runs = [r for r in ds.runs if r.benchmark_kind == "serving" and r.engine == "sglang" and r.gpu == "L40S"]
    assert sorted(r.max_concurrency for r in runs) == [1, 8, 32]
    assert len({r.sweep_id for r in runs}) == 1


def test_captures_whose_benchmark_never_ran_are_failed_runs(ds):
    # the 20260716T144235Z folders hold only vllm-c{1,8,32}.txt with "Error response from daemon: container ... is
    # not running": three models x three concurrencies
    failed = [r for r in ds.runs if r.status == "failed"]
    assert len(failed) == 9
    assert all("144235Z" in r.raw_path and r.validity_flags == ("no_results",) for r in failed)
    assert all(r.model_id.startswith("meta-llama/") for r in failed)  # from each capture's command line
    assert not [x for x in ds.results if x["run_id"] in {r.run_id for r in failed}]


def test_every_raw_file_is_kept_unchanged(ds):
    for run in ds.runs:
        if run.benchmark_kind == "serving":
            for path in run.raw_path.split():
                assert (ROOT / "data" / path).is_file(), path
    prices = {(p["gpu"], p["gpu_count"]): p["price_usd_per_hr"] for p in ds.prices if p["price_date"] == "2026-07-16"}
    # catalog: H200 NVL 3.62, RTX PRO 6000 Blackwell 2.19, H100 2.73, L40S 0.88 per GPU-hour
    assert prices == {("H200 NVL", 2): 7.24, ("RTX PRO 6000 Blackwell", 2): 4.38, ("H100", 2): 5.46, ("L40S", 1): 0.88}


def test_runs_and_catalog_prices_name_the_provider(ds):
    # scripts/bundle-data.sh imports the tree with --provider "Massed Compute" (the catalog names none): its runs
    # and the snapshots made from the catalog say so alike, so these runs are priced by Massed Compute's prices only
    serving = [r for r in ds.runs if r.benchmark_kind == "serving"]
    assert len(serving) == 51 and {r.provider for r in serving} == {"Massed Compute"}
    assert {p["provider"] for p in ds.prices if p["price_date"] == "2026-07-16"} == {"Massed Compute"}
