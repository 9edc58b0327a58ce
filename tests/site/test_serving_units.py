"""The rules behind the serving pages, on runs made up here: the Pareto front, the latency target, what makes two
engines' runs not like for like, versions, mirrors of a model, and failed runs that stay failed."""

from __future__ import annotations

from collector.data.records import new_run
from site_src import model_info as mi
from site_src import serving_analysis as sa
from site_src.prices import PriceBook
from site_src.serving_data import Point, ServingSeries

BASE = {"source": "imported", "gpu": "H100", "gpu_count": 2, "benchmark_kind": "serving", "model_id": "m/x",
        "price_usd_per_hr": 4.0}


def point(i: int, engine: str, level: int, *, tok_s=None, tpot=None, ttft=None, status="ok", **run) -> Point:
    r = new_run({**BASE, "run_id": f"r{i}", "engine": engine, "max_concurrency": level, "status": status, **run},
                where="test")
    values = {("output_throughput_tok_per_s", "value"): tok_s, ("tpot_ms", "median"): tpot,
              ("ttft_ms", "median"): ttft, ("completed_requests", "value"): 10.0}
    return Point(r, {k: v for k, v in values.items() if v is not None} if status == "ok" else {})


def series(engine: str, *points: Point) -> ServingSeries:
    """A series priced as the site prices it: here no prices.csv snapshot, so the price recorded with the run."""
    s = ServingSeries("2x H100", engine, "H100", 2, list(points))
    s.priced = PriceBook([]).price(s.run)
    return s


def test_pareto_front_keeps_the_points_nothing_beats():
    s = series("vllm", point(1, "vllm", 1, tok_s=40, tpot=20), point(2, "vllm", 8, tok_s=200, tpot=25),
               point(3, "vllm", 32, tok_s=500, tpot=50))
    t = series("sglang", point(4, "sglang", 1, tok_s=30, tpot=40), point(5, "sglang", 8, tok_s=220, tpot=30))
    model = type("M", (), {"series": [s, t]})()
    front = sa.pareto_front(sa.frontier_candidates(model))
    # per GPU / per user: (20, 50), (100, 40), (250, 20), (15, 25) beaten by (20, 50), (110, 33.3) on the front
    assert [(f.per_gpu, round(f.interactivity, 1)) for f in front] == [(250, 20.0), (110, 33.3), (100, 40.0),
                                                                       (20, 50.0)]


def test_latency_target_and_unknown_values():
    p = point(1, "vllm", 8, tok_s=360, tpot=40, ttft=900)
    assert sa.meets(p, 1000, 50) is True and sa.meets(p, 800, 50) is False
    assert sa.meets(point(2, "vllm", 8, tok_s=360, tpot=40), 1000, 50) is None  # TTFT unknown: not "meets"
    s = series("vllm", p)
    assert sa.cost_per_million(s, p) == 4.0 / (360 * 3600 / 1e6)
    unpriced = series("vllm", point(3, "vllm", 8, tok_s=360, tpot=40, ttft=900, price_usd_per_hr=None))
    assert sa.cost_per_million(unpriced, unpriced.points[0]) is None  # unknown price: never $0


def test_failed_runs_have_no_numbers():
    failed = point(1, "vllm", 8, status="failed", failure_reason="server gone", validity_flags=["no_results"])
    assert not failed.ok and failed.value("output_throughput_tok_per_s") is None
    assert series("vllm", failed).ok_points == []


def test_like_for_like_differences_name_their_figures():
    a = series("vllm", point(1, "vllm", 32, tok_s=400, tpot=60, input_len=128, range_ratio=1.0, ignore_eos=False))
    b = series("sglang", point(2, "sglang", 32, tok_s=300, tpot=80, input_len=128, range_ratio=0.0))
    a.points[0].values[("input_tokens", "value")] = 1280.0
    b.points[0].values[("input_tokens", "value")] = 640.0
    text = " | ".join(sa.workload_differences(a, b))
    assert "concurrency 32: vLLM 1,280/10 = 128.0, SGLang 640/10 = 64.0" in text
    assert "Random range ratio: vLLM 1, SGLang 0" in text
    assert "ignore-EOS is off or not recorded on one side: vLLM off, SGLang not recorded" in text
    assert "Input tokens asked" not in text  # both asked 128
    same = series("vllm", point(3, "vllm", 32, tok_s=1, tpot=1, input_len=128, range_ratio=0.0, ignore_eos=True,
                                engine_version="0.11.0", benchmark_tool="vllm bench serve"))
    twin = series("vllm", point(4, "vllm", 32, tok_s=1, tpot=1, input_len=128, range_ratio=0.0, ignore_eos=True,
                                engine_version="0.11.0", benchmark_tool="vllm bench serve"))
    assert sa.workload_differences(same, twin) == []


def test_versions_and_mirrors():
    assert sa.version_text("0.5.14", None, "sglang.bench_serving") == "0.5.14"
    assert sa.version_text(None, "vllm bench serve version hint: 0.8.x key set (best_of)", "vllm bench serve") == (
        "version not recorded (output keys of 0.8.x)")
    assert sa.version_text(None, None, None) == "version not recorded"
    assert mi.canonical_id("unsloth/Llama-3.3-70B-Instruct") == "meta-llama/Llama-3.3-70B-Instruct"
    assert mi.canonical_id("nvidia/Llama-3.1-Nemotron-70B-Instruct-HF") == "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF"
