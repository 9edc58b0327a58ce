"""The serving pages built from the bundled data state the numbers of the raw outputs.

Expected values are typed from the files under data/raw/imported/mc2026 (each named with the key it comes from) and
the provider's catalog-gpus.json (H100 2.73, RTX PRO 6000 Blackwell 2.19 $/GPU-hour, 2026-07-16); the arithmetic
is written out here by hand. Nothing is computed with the site's code.
"""

from __future__ import annotations

from sitetest import chart_specs, page_text, read, table_with, tables

LLAMA33 = "serving/llama-3-3-70b-instruct/index.html"
H100_PRICE, RTX_PRICE = 2 * 2.73, 2 * 2.19  # catalog-gpus.json per-GPU prices x 2 GPUs
# llama-3-3-70b-instruct/gpu_2x_h100/20260716T150819Z/{vllm,sglang}-c32.json
H100_VLLM_C32 = {"tok_s": 415.5240460132559, "ttft": 309.9051590002091, "tpot": 66.5871906141733,
                 "ttft_p99": 1594.588451760128, "tpot_p99": 97.25358054909678}
H100_SGLANG_C32 = {"tok_s": 339.42553289879913, "ttft": 198.9135725000324, "tpot": 82.4072404322031}
# llama-3-3-70b-instruct/gpu_2x_pro_6000_blackwell/20260716T145431Z/{vllm,sglang}-c32.json
RTX_VLLM_C32 = {"tok_s": 461.8375497491146, "ttft": 1244.114767499923, "tpot": 62.06132828346536}
RTX_SGLANG_C32 = {"tok_s": 326.8748500416797, "ttft": 185.1274650000505, "tpot": 84.31584619491377}


def per_million(price: float, tok_s: float) -> float:
    return price / (tok_s * 3600 / 1e6)


def money(x: float) -> str:
    return f"${x:,.2f}"


def test_every_serving_page_is_built(bundled_site):
    for rel in ("serving/index.html", LLAMA33, "serving/llama-3-1-8b-instruct/index.html",
                "serving/llama-3-1-nemotron-70b-instruct/index.html",
                "serving/deepseek-r1-distill-llama-70b/index.html"):
        assert (bundled_site / rel).is_file(), rel


def test_summary_mirrors_the_write_up_table(bundled_site):
    t = table_with(read(bundled_site, LLAMA33), "Output tok/s at concurrency 32")
    head = t[0]
    assert head == ["Engine", "GPU setup", "$/h", "Output tok/s at concurrency 32", "TTFT p50 (ms)", "TPOT p50 (ms)",
                    "$ per M output tokens", "Validity"]
    rows = {(r[0].split()[0], r[1]): dict(zip(head, r, strict=True)) for r in t[1:]}
    expect = {("vLLM", "2x H100"): (H100_PRICE, H100_VLLM_C32), ("SGLang", "2x H100"): (H100_PRICE, H100_SGLANG_C32),
              ("vLLM", "2x RTX PRO 6000 Blackwell"): (RTX_PRICE, RTX_VLLM_C32),
              ("SGLang", "2x RTX PRO 6000 Blackwell"): (RTX_PRICE, RTX_SGLANG_C32)}
    assert set(rows) == set(expect)
    for key, (price, v) in expect.items():
        row = rows[key]
        assert row["$/h"] == money(price), key
        assert row["Output tok/s at concurrency 32"] == f"{v['tok_s']:,.1f}", key
        assert row["TTFT p50 (ms)"] == f"{v['ttft']:,.1f}", key
        assert row["TPOT p50 (ms)"] == f"{v['tpot']:,.1f}", key
        assert row["$ per M output tokens"] == money(per_million(price, v["tok_s"])), key
    # The brief's figures, typed: 415.5 tok/s, TTFT 309.9 ms, 5.46 / (415.52... x 3600 / 1e6) = $3.65
    h100_vllm = rows[("vLLM", "2x H100")]
    assert (h100_vllm["Output tok/s at concurrency 32"], h100_vllm["TTFT p50 (ms)"],
            h100_vllm["$ per M output tokens"]) == ("415.5", "309.9", "$3.65")
    h100_sglang = rows[("SGLang", "2x H100")]
    assert (h100_sglang["Output tok/s at concurrency 32"], h100_sglang["TTFT p50 (ms)"],
            h100_sglang["TPOT p50 (ms)"]) == ("339.4", "198.9", "82.4")
    # Cheapest first: 2.63 (RTX vLLM), 3.65 (H100 vLLM), 3.72 (RTX SGLang), 4.47 (H100 SGLang)
    assert [r[6] for r in t[1:]] == ["$2.63", "$3.65", "$3.72", "$4.47"]
    # vllm-c32.json: total_output_tokens 19229 of 160 x 128 asked (vllm-c32.txt: ignore_eos=False)
    assert "output short 19229 of 20480 output tokens asked (93.9%)" in h100_vllm["Validity"]
    assert "not like for like" in h100_vllm["Validity"]
    # The engines' versions: SGLang's server_info.version; vLLM's JSON has none (the site says so)
    assert h100_sglang["Engine"] == "SGLang version 0.5.14"
    assert h100_vllm["Engine"].startswith("vLLM version not recorded")


def test_sources_are_named_and_linked(bundled_site):
    page = read(bundled_site, LLAMA33)
    assert '<a href="https://github.com/Massed-Compute/gpu-benchmark">github.com/Massed-Compute/gpu-benchmark</a>' in page
    assert ('href="https://github.com/Massed-Compute/gpu-benchmark/tree/2889e80/results/raw/llama-3-3-70b-instruct/'
            'gpu_2x_h100/20260716T150819Z"') in page
    text = page_text(page)
    # prices.csv: 2x H100 5.46, 2x RTX PRO 6000 Blackwell 4.38 $/h on 2026-07-16 from Massed Compute, source the
    # provider's API
    assert ("Priced at the snapshot of 2026-07-16 from Massed Compute (snapshot at the run's date), source "
            "Massed Compute gpu_inventory_list API: 2x H100 · vLLM $5.46/h, 2x H100 · SGLang $5.46/h, "
            "2x RTX PRO 6000 Blackwell · vLLM $4.38/h, 2x RTX PRO 6000 Blackwell · SGLang $4.38/h.") in text
    t = table_with(page, "Engine and benchmark client")
    rows = {r[0]: r for r in t[1:]}
    assert rows["2x H100 · SGLang"][1] == "SGLang 0.5.14 measured with sglang.bench_serving"
    assert rows["2x H100 · vLLM"][2] == "unsloth/Llama-3.3-70B-Instruct"
    assert rows["2x H100 · vLLM"][4] == "$5.46/h 2026-07-16"


def test_like_for_like_warning_names_the_figures(bundled_site):
    text = page_text(read(bundled_site, LLAMA33))
    start = text.index("Not like for like: vLLM and SGLang on 2x H100")
    warning = text[start:text.index("Max concurrency", start)]
    # vllm-c32.json total_input_tokens 20480 / completed 160; sglang-c32.json 10064 / 160 = 62.9
    assert "concurrency 32: vLLM 20,480/160 = 128.0, SGLang 10,064/160 = 62.9" in warning
    # output: 19229 / 160 = 120.2 against 10566 / 160 = 66.0; c1: 365 / 5 = 73.0 input tokens for SGLang
    assert "concurrency 32: vLLM 19,229/160 = 120.2, SGLang 10,566/160 = 66.0" in warning
    assert "concurrency 1: vLLM 640/5 = 128.0, SGLang 365/5 = 73.0" in warning
    # vllm-c32.txt Namespace: random_range_ratio=1.0, ignore_eos=False; sglang-c32.json: random_range_ratio 0.0;
    # sglang-c32.txt Namespace: disable_ignore_eos=False (SGLang sends ignore_eos)
    assert "Random range ratio: vLLM 1, SGLang 0" in warning
    assert "ignore-EOS is off or not recorded on one side: vLLM off, SGLang on" in warning
    assert "sglang.bench_serving" in warning and "vllm bench serve" in warning


def test_engine_against_engine_table(bundled_site):
    page = read(bundled_site, LLAMA33)
    pairs = [t for t in tables(page) if t and len(t[0]) == 4 and t[0][:2] == ["Max concurrency", "Output tok/s"]]
    assert len(pairs) == 2  # 2x H100 and 2x RTX PRO 6000 Blackwell ran both engines
    h100 = pairs[0]
    assert h100[1] == ["vLLM", "SGLang"] * 3
    # vllm-c8.json 133.17103813611874 / 280.072050499939 / 54.227261188978765;
    # sglang-c8.json 131.19189566306716 / 178.65021649981827 / 53.50479510770419
    assert h100[3] == ["8", "133.2", "131.2", "280.1", "178.7", "54.2", "53.5"]
    assert h100[4] == ["32", "415.5", "339.4", "309.9", "198.9", "66.6", "82.4"]


def test_failed_runs_are_shown_as_failed_with_their_reason(bundled_site):
    page = read(bundled_site, LLAMA33)
    t = table_with(page, "Status and reason")
    failed = [r for r in t[1:] if "failed" in r[4]]
    assert len(failed) == 6  # 20260716T144235Z: vllm-c{1,8,32}.txt on 2x H100 and on 2x RTX PRO 6000 Blackwell
    assert {r[2] for r in failed} == {"meta-llama/Llama-3.3-70B-Instruct"}
    # gpu_2x_h100/20260716T144235Z/vllm-c1.txt line 2
    assert any("Error response from daemon: container e0f7c9b2fa45c210bff2319227bf74d5f0ee351be0a2200ce47ac792dc7defc3 "
               "is not running" in r[4] for r in failed)
    for r in failed:
        assert not any(cell in ("0", "0.0", "$0.00") for cell in r)
    assert "unsloth/Llama-3.3-70B-Instruct (12 runs) and meta-llama/Llama-3.3-70B-Instruct (6 runs, all failed)" in (
        page_text(page))


def test_every_value_with_units_and_unknowns(bundled_site):
    page = read(bundled_site, LLAMA33)
    t = table_with(page, "Tok/s per user")
    head = t[1]  # row 0 is the header; each series starts with a group row
    assert head[0] == "2x H100 · vLLM"
    c32 = dict(zip(t[0], t[4], strict=True))
    assert c32["Max concurrency"] == "32" and c32["Requests completed"] == "160"
    assert c32["Output tok/s per GPU"] == f"{H100_VLLM_C32['tok_s'] / 2:,.1f}"  # 207.8
    assert c32["Tok/s per user"] == f"{1000 / H100_VLLM_C32['tpot']:,.1f}"  # 15.0
    assert c32["TTFT p99 (ms)"] == "1,594.6" and c32["TPOT p99 (ms)"] == "97.3"
    assert c32["E2EL p50 (ms)"] == "n/a"  # vllm 0.8.5: percentile_metrics='ttft,tpot,itl', no e2el in the file
    # sglang-c32.json median_e2e_latency_ms 5452.166096499923
    sglang = t[t.index(["2x H100 · SGLang"]) + 3]
    assert dict(zip(t[0], sglang, strict=True))["E2EL p50 (ms)"] == "5,452.2"


def test_cost_at_the_default_latency_target(bundled_site):
    page = read(bundled_site, LLAMA33)
    text = page_text(page)
    # Meets TTFT p50 <= 1000 ms and TPOT p50 <= 50 ms: 2x H100 SGLang c1 (sglang-c1.json: 117.49704500016378 ms,
    # 41.5367402833302 ms, 23.48719802211078 tok/s) and 2x H100 vLLM c1 (vllm-c1.json: 45.19741059842513 ms); the
    # RTX PRO 6000 c1 runs miss by a little (vllm-c1.json 50.16939800787183, sglang-c1.json 51.31652454545564).
    cost = per_million(H100_PRICE, 23.48719802211078)
    assert (f"At the defaults, 2x H100 · SGLang at concurrency 1 is the cheapest setup within the limits: "
            f"{money(cost)} per million output tokens (TTFT p50 117.5 ms, TPOT p50 41.5 ms); 2 points meet the "
            f"limits.") in text
    assert "TTFT p50 ≤ 1,000 ms and TPOT p50 ≤ 50 ms" in text
    assert "2x H100: $2.730 per GPU-hour, 2x RTX PRO 6000 Blackwell: $2.190 per GPU-hour" in text
    t = table_with(page, "Meets the limits")
    meeting = [(r[0], r[1]) for r in t[1:] if r[7] == "yes"]
    assert meeting == [("2x H100 · vLLM", "1"), ("2x H100 · SGLang", "1")]


def test_target_chart_has_controls_and_the_same_rows(bundled_site):
    spec = next(s for s in chart_specs(read(bundled_site, LLAMA33)) if s["usermeta"]["gpubench"] == "target")
    params = {p["name"]: p for p in spec["params"]}
    assert params["ttft_limit"]["value"] == 1000 and params["ttft_limit"]["bind"]["input"] == "range"
    assert params["tpot_limit"]["value"] == 50
    assert params["skip_flagged"]["bind"]["input"] == "checkbox"
    assert (params["price_0"]["value"], params["price_1"]["value"]) == (2.73, 2.19)
    assert params["price_0"]["bind"]["name"].startswith("2x H100")
    rows = {(r["series"], r["concurrency"]): r for r in spec["datasets"]["rows"]}
    assert rows[("2x H100 · vLLM", 32)]["tok_s"] == round(H100_VLLM_C32["tok_s"], 6)
    assert rows[("2x H100 · vLLM", 32)]["flagged"] is True
    assert rows[("2x H100 · SGLang", 1)]["tpot"] == round(41.5367402833302, 6)


def test_pareto_front(bundled_site):
    t = table_with(read(bundled_site, LLAMA33), "Tokens/s per user (1000 / TPOT p50)")
    front = [(r[0], r[1]) for r in t[1:]]
    # By hand from the files (per GPU = output_throughput / 2, per user = 1000 / median_tpot_ms): the RTX PRO vLLM
    # c32 point (230.9, 16.1) beats H100 vLLM c32 (207.8, 15.0); the c8 points of three series and H100 SGLang c1
    # (11.7 per GPU, 24.1 per user: the most interactive) are beaten by no other point.
    assert front == [("2x RTX PRO 6000 Blackwell · vLLM", "32"), ("2x RTX PRO 6000 Blackwell · vLLM", "8"),
                     ("2x H100 · vLLM", "8"), ("2x H100 · SGLang", "8"), ("2x H100 · SGLang", "1")]
    assert t[1][2:4] == [f"{1000 / RTX_VLLM_C32['tpot']:,.1f}", f"{RTX_VLLM_C32['tok_s'] / 2:,.1f}"]


def test_charts_hold_the_table_values_and_mark_validity(bundled_site):
    specs = chart_specs(read(bundled_site, LLAMA33))
    throughput = next(s for s in specs if s.get("title", {}).get("text") == "Output throughput")
    # one table of points for every chart of the page; each chart picks its column
    assert throughput["transform"][0] == {"calculate": 'datum["tok_s"]', "as": "value"}
    rows = {(r["series"], r["concurrency"]): r for r in throughput["datasets"]["rows"]}
    assert rows[("2x H100 · vLLM", 32)]["tok_s"] == round(H100_VLLM_C32["tok_s"], 6)
    assert rows[("2x H100 · vLLM", 32)]["validity"] == "flagged"
    assert "19229 of 20480" in rows[("2x H100 · vLLM", 32)]["notes"]
    assert rows[("2x H100 · SGLang", 32)]["validity"] == "no flags"
    assert len(rows) == 12  # 4 series x 3 load levels; the failed runs are not drawn
    ttft99 = next(s for s in specs if s.get("title", {}).get("text") == "TTFT p99")
    assert ttft99["transform"][0] == {"calculate": 'datum["ttft_p99"]', "as": "value"}
    assert {(r["series"], r["concurrency"]): r["ttft_p99"] for r in ttft99["datasets"]["rows"]}[
        ("2x H100 · vLLM", 32)] == round(H100_VLLM_C32["ttft_p99"], 6)
    assert ttft99["datasets"]["rows"] == throughput["datasets"]["rows"]  # shared, not a copy per chart
    page = read(bundled_site, LLAMA33)
    assert page.count("data-datasets='") == 1
    tooltip = [t["title"] for t in throughput["encoding"]["tooltip"]]
    assert tooltip == ["Setup · engine", "Max concurrency", "Output throughput (tokens/s)", "Validity flags",
                       "Validity notes"]


def test_series_keep_their_colour_on_every_serving_page(bundled_site):
    colour_of: dict[str, str] = {}
    for rel in ("serving/llama-3-3-70b-instruct/index.html", "serving/llama-3-1-nemotron-70b-instruct/index.html",
                "serving/deepseek-r1-distill-llama-70b/index.html", "serving/llama-3-1-8b-instruct/index.html"):
        for spec in chart_specs(read(bundled_site, rel)):
            for scale in _scales(spec):
                for name, colour in zip(scale["domain"], scale["range"], strict=True):
                    assert colour_of.setdefault(name, colour) == colour, (name, rel)
    # 1x L40S, 2x H100, 2x H200 NVL, 2x RTX PRO 6000 Blackwell, each with vLLM and SGLang
    assert len(colour_of) == 8 and len(set(colour_of.values())) == 8


def _scales(spec):
    if isinstance(spec, dict):
        for channel in ("color", "stroke"):
            scale = spec.get("encoding", {}).get(channel, {}).get("scale")
            if scale and "domain" in scale and "range" in scale:
                yield scale
        for v in spec.values():
            yield from _scales(v)
    elif isinstance(spec, list):
        for v in spec:
            yield from _scales(v)


def test_overview_and_home_lead_to_both_views(bundled_site):
    overview = read(bundled_site, "serving/index.html")
    t = table_with(overview, "Most output at the highest concurrency")
    rows = {r[0]: r for r in t[1:]}
    assert rows["Llama 3.3 70B Instruct"][2] == (f"2x RTX PRO 6000 Blackwell · vLLM {RTX_VLLM_C32['tok_s']:,.1f} "
                                                  f"tokens/s at concurrency 32")
    assert rows["Llama 3.3 70B Instruct"][4].startswith(
        f"2x H100 · SGLang {money(per_million(H100_PRICE, 23.48719802211078))} per million output tokens at "
        f"concurrency 1")
    assert "51 serving runs (9 failed) of 4 models on 4 GPU setups" in page_text(overview)
    home = read(bundled_site, "index.html")
    assert 'class="gb-view" href="#static-batch-reports"' in home
    assert 'class="gb-view" href="serving/"' in home
    text = page_text(home)
    assert "Static-batch reports" in text and "51 serving runs of 4 models" in text


def test_methodology_counts_the_serving_pitfalls(bundled_site):
    text = page_text(read(bundled_site, "methodology/index.html"))
    start = text.index("Serving benchmarks")
    serving = text[start:text.index("Sources", start)]
    assert "51 serving runs, 9 of them failed" in serving
    # flagged output_short: Nemotron 2x H100 vLLM c1/c8/c32, Llama 3.3 2x H100 vLLM c8/c32, 8B L40S vLLM c8/c32;
    # lowest share: llama-3-1-nemotron-70b-instruct/gpu_2x_h100/20260716T163619Z/vllm-c1.json 133 of 5 x 128
    assert "7 runs are flagged output short; the lowest share of the asked output tokens a run produced is " \
           f"{133 / 640 * 100:.1f}%" in serving
    # 14 runs at c1 with numbers (4 models: 4 + 4 + 4 + 2), each with 5 prompts
    assert "14 runs at concurrency 1, with 5 completed requests (14 runs)" in serving
    # Peak concurrent requests: SGLang (21 runs) and vLLM nightly (12 runs) report it, always above the cap;
    # gpu_2x_pro_6000_blackwell/20260716T145431Z/vllm-c32.json max_concurrent_requests 64 at max_concurrency 32
    assert "of 33 runs that report it, 33 show a peak above their cap" in serving
    assert "64 at a cap of 32" in serving
    assert "TTFT, time to first token" in serving and "Percentiles are exact here" in serving
