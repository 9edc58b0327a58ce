"""The data/ that ships with the repository loads and holds exactly the published numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from collector.data import store

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "raw"  # the published tables, kept unchanged (data/raw/SOURCES.md); bundle-data.sh reads them
SOURCE = SOURCES / "transcribed" / "massed_compute_2024_tgi_llama70b" / "massed_compute_2024_tgi_llama70b.csv"
SPECS = SOURCES / "reference" / "gpu_specs.csv"
METRICS = {
    "prefill_latency_ms_avg": "prefill_latency_ms",
    "decode_token_latency_ms_avg": "decode_token_latency_ms",
    "decode_total_latency_ms_avg": "decode_total_latency_ms",
    "prefill_throughput_avg_seq_per_s": "prefill_throughput_seq_per_s",
    "decode_throughput_avg_tok_per_s": "decode_throughput_tok_per_s",
}


@pytest.fixture(scope="module")
def ds():
    return store.load(ROOT / "data")


@pytest.fixture(scope="module")
def source_rows():
    with open(SOURCE, newline="") as f:
        return list(csv.DictReader(f))


def run_for(ds, model, config):
    count, gpu = config.split("x", 1)
    runs = [r for r in ds.runs if r.model_id == model and r.gpu == gpu and r.gpu_count == int(count)]
    assert len(runs) == 1, (model, config)
    return runs[0]


def test_two_reports_five_setups_each(ds, source_rows):
    static = [r for r in ds.runs if r.benchmark_kind == "static_batch"]
    assert len(static) == 10
    by_model = {}
    for r in static:
        by_model.setdefault(r.model_id, set()).add(f"{r.gpu_count}x{r.gpu}")
    assert by_model == {
        "meta-llama/Meta-Llama-3.1-70B-Instruct": {"8xA30", "4xRTX A6000", "4xL40", "2xA100 SXM4", "2xH100 PCIe"},
        "meta-llama/Meta-Llama-3-70B-Instruct": {"4xRTX A6000", "4xL40", "2xA100 PCIe", "2xA100 SXM4",
                                                 "2xH100 PCIe"},
    }


def test_every_published_average_is_in_results(ds, source_rows):
    values = {(r["run_id"], r["batch_size"], r["metric"], r["stat"]): r["value"] for r in ds.results}
    for row in source_rows:
        run = run_for(ds, row["model"], row["config"])
        batch = int(row["batch_size"])
        for column, metric in METRICS.items():
            assert values[(run.run_id, batch, metric, "avg")] == float(row[column]), (row["config"], column)
        # The post's tool predates TGI 2.4.1: prefill "tokens/secs" are sequences/s; x 10 prompt tokens.
        assert values[(run.run_id, batch, "prefill_throughput_tok_per_s", "avg")] == pytest.approx(
            float(row["prefill_throughput_avg_seq_per_s"]) * 10)
    transcribed = {r.run_id for r in ds.runs if r.source == "transcribed"}
    mine = [r for r in ds.results if r["run_id"] in transcribed]
    assert len(mine) == len(source_rows) * 6
    assert {r["stat"] for r in mine} == {"avg"}  # only averages were transcribed


def test_provenance_and_prices(ds, source_rows):
    for row in source_rows:
        run = run_for(ds, row["model"], row["config"])
        assert run.source == "transcribed"
        assert run.source_url == row["source_url"]
        assert run.num_shard == int(row["num_shard"])
        assert (run.sequence_length, run.decode_length, run.n_runs, run.warmups) == (10, 8, 10, 1)
        assert run.batch_sizes == (1, 2, 4, 8, 16, 32)
        assert run.tokenizer == "meta-llama/Meta-Llama-3-70B-Instruct"
        assert run.image == "ghcr.io/huggingface/text-generation-inference:latest"
        assert run.engine_version is None and run.dtype is None  # not stated in the post
        assert run.provider == "Massed Compute"  # the meta file's provider: the posts benchmark its own cloud
        if row["price_usd_per_hr"]:
            assert run.price_usd_per_hr == float(row["price_usd_per_hr"])
            assert run.price_date == "2024-08-01"
        else:
            assert run.price_usd_per_hr is None  # "N/A" in the post: unknown, never zero
    a100_sxm = [p for p in ds.prices if p["gpu"] == "A100 SXM4"]
    assert a100_sxm == []
    assert {(p["gpu"], p["gpu_count"], p["price_usd_per_hr"], p["provider"]) for p in ds.prices
            if p["price_date"] == "2024-08-01"} == {
        ("A30", 8, 2.0, "Massed Compute"), ("RTX A6000", 4, 2.5, "Massed Compute"), ("L40", 4, 3.96, "Massed Compute"),
        ("H100 PCIe", 2, 5.98, "Massed Compute"), ("A100 PCIe", 2, 3.44, "Massed Compute")}


def test_raw_sources_are_kept_unchanged(ds):
    # data/raw holds the source tables themselves (only scripts/refresh-reference-copies.sh changes them): every run
    # points at its table, and the meta file kept beside it is the one scripts/bundle-data.sh imports with.
    assert {ROOT / "data" / run.raw_path for run in ds.runs if run.source == "transcribed"} == {SOURCE}
    meta = "massed_compute_2024_tgi_llama70b.meta.yaml"
    assert (SOURCE.parent / meta).read_bytes() == (ROOT / "scripts" / "bundled" / meta).read_bytes()


def test_gpu_specs_copied_with_not_supported_as_empty(ds):
    with open(SPECS, newline="") as f:
        source = list(csv.DictReader(f))
    assert [s["gpu"] for s in ds.gpu_specs] == [s["gpu"] for s in source]
    for mine, theirs in zip(ds.gpu_specs, source):
        assert mine["mem_bw_gbps"] == float(theirs["mem_bw_gbps"])
        assert mine["memory_gb"] == float(theirs["memory_gb"])
        assert mine["source_url"] == theirs["source_url"]
        if theirs["fp8_dense_tflops"] == "NA":
            assert mine["fp8_dense_tflops"] is None
