"""The site built from the bundled data states the right numbers.

Expected values are computed here, by hand-written arithmetic, from the published figures the bundled data was
transcribed from (data/raw/transcribed/.../massed_compute_2024_tgi_llama70b.csv), not from the site's code.
"""

from __future__ import annotations

import filecmp
import re
from collections import defaultdict

import pytest
from sitetest import DATA, chart_specs, page_text, read, source_rows, table_with, tables

REPORTS = {
    "meta-llama/Meta-Llama-3.1-70B-Instruct": "reports/llama-3-1-70b-instruct/index.html",
    "meta-llama/Meta-Llama-3-70B-Instruct": "reports/llama-3-70b-instruct/index.html",
}
BATCHES = [1, 2, 4, 8, 16, 32]
PARAMS_70B = 70_553_706_496  # Llama 3 / 3.1 70B, Hugging Face model card
BANDWIDTH_GBPS = {"A30": 933, "RTX A6000": 768, "L40": 864, "A100 SXM4": 2039, "A100 PCIe": 1935, "H100 PCIe": 2000}


def label(config: str) -> str:
    """'4xRTX A6000' -> '4x RTX A6000' (the site's setup label)."""
    count, gpu = config.split("x", 1)
    return f"{count}x {gpu}"


@pytest.fixture(scope="module")
def src():
    """model -> setup label -> {'price': float|None, 'gpus': int, batch: row}"""
    out: dict = defaultdict(dict)
    for r in source_rows():
        s = out[r["model"]].setdefault(label(r["config"]), {
            "price": float(r["price_usd_per_hr"]) if r["price_usd_per_hr"] else None, "gpus": int(r["num_shard"])})
        s[int(r["batch_size"])] = {k: float(v) for k, v in r.items()
                                   if k not in ("model", "config", "num_shard", "price_usd_per_hr", "batch_size",
                                                "source_url")}
    return out


def money(x: float, digits: int = 2) -> str:
    return f"${x:,.{digits}f}"


def per_million(price: float, tok_s: float) -> float:
    return price / (tok_s * 3600 / 1e6)


def test_every_page_and_download_is_built(bundled_site):
    for rel in ["index.html", *REPORTS.values(), "efficiency/index.html", "methodology/index.html",
                "data/index.html", "assets/vendor/vega-bundle.js", "assets/javascripts/charts.js"]:
        assert (bundled_site / rel).is_file(), rel
    for name in ("runs.csv", "results.csv", "prices.csv", "gpu_specs.csv"):
        assert filecmp.cmp(bundled_site / "data" / name, DATA / name, shallow=False), name


def test_cost_table(bundled_site, src):
    for model, rel in REPORTS.items():
        t = table_with(read(bundled_site, rel), "Tokens per $")
        head, rows = t[0], {r[0]: dict(zip(t[0], r)) for r in t[1:]}
        # the $ per million tokens first, where a 1280 px screen shows them without scrolling
        assert head[:4] == ["Setup", "Rank", "$/M tokens (best batch)", "$/M tokens (batch 1)"]
        assert set(rows) == set(src[model])
        assert [h for h in head if h.startswith("tok/s @")] == [f"tok/s @{b}" for b in BATCHES]
        for setup, s in src[model].items():
            row = rows[setup]
            for b in BATCHES:
                assert row[f"tok/s @{b}"] == f"{s[b]['decode_throughput_avg_tok_per_s']:,.2f}"
            best = max(BATCHES, key=lambda b: s[b]["decode_throughput_avg_tok_per_s"])
            assert row["Best batch"] == str(best)
            if s["price"] is None:
                for col in ("Rank", "$/instance-hour", "$/GPU-hour", "Tokens per $", "$/M tokens (best batch)",
                            "Tokens per $ (batch 1)", "$/M tokens (batch 1)"):
                    assert row[col] == "n/a", (setup, col)
                continue
            tps = s[best]["decode_throughput_avg_tok_per_s"]
            assert row["$/instance-hour"] == money(s["price"])
            assert row["$/GPU-hour"] == money(s["price"] / s["gpus"], 3)
            assert row["Tokens per $"] == f"{tps * 3600 / s['price']:,.0f}"
            assert row["$/M tokens (best batch)"] == money(per_million(s["price"], tps), 3)
            b1 = s[1]["decode_throughput_avg_tok_per_s"]
            assert row["$/M tokens (batch 1)"] == money(per_million(s["price"], b1), 3)
            assert row["Tokens per $ (batch 1)"] == f"{b1 * 3600 / s['price']:,.0f}"


def test_cost_ranking_leaves_unpriced_setups_out(bundled_site, src):
    for model, rel in REPORTS.items():
        t = table_with(read(bundled_site, rel), "Tokens per $")
        priced = {k: v for k, v in src[model].items() if v["price"] is not None}
        expect = sorted(priced, key=lambda k: per_million(
            priced[k]["price"], max(priced[k][b]["decode_throughput_avg_tok_per_s"] for b in BATCHES)))
        ranked = [r[0] for r in t[1:] if r[1] != "n/a"]
        assert ranked == expect
        assert [r[1] for r in t[1:len(expect) + 1]] == [str(i) for i in range(1, len(expect) + 1)]
        unpriced = [r[0] for r in t[1:] if r[1] == "n/a"]
        assert unpriced == ["2x A100 SXM4"]  # the post lists it as N/A: unknown, never $0


def _leader(values: dict[str, float]) -> tuple[str, float, str, float]:
    order = sorted(values, key=lambda k: -values[k])
    return order[0], values[order[0]], order[1], values[order[1]]


def test_conclusion(bundled_site, src):
    for model, rel in REPORTS.items():
        text = page_text(read(bundled_site, rel))
        conclusion = text[text.index("Conclusion"):]
        s = src[model]
        win, v, run, rv = _leader({k: x[1]["decode_throughput_avg_tok_per_s"] for k, x in s.items()})
        assert (f"Fastest at batch size 1: {win}, {v:,.2f} tokens/s for one sequence, "
                f"{(v / rv - 1) * 100:.1f}% more than the runner-up {run} ({rv:,.2f} tokens/s).") in conclusion
        win, v, run, rv = _leader({k: x[32]["decode_throughput_avg_tok_per_s"] for k, x in s.items()})
        assert (f"Fastest at batch size 32: {win}, {v:,.2f} tokens/s over the batch, "
                f"{(v / rv - 1) * 100:.1f}% more than the runner-up {run} ({rv:,.2f} tokens/s).") in conclusion
        tpd = {k: max(x[b]["decode_throughput_avg_tok_per_s"] for b in BATCHES) * 3600 / x["price"]
               for k, x in s.items() if x["price"]}
        win, v, run, rv = _leader(tpd)
        best = max(BATCHES, key=lambda b: s[win][b]["decode_throughput_avg_tok_per_s"])
        # the workload it holds at: batch 32 is the largest batch size of the posts, with 10-token prompts and 8 new
        # tokens per sequence (text-generation-benchmark -s 10 -d 8 in the posts' commands)
        assert best == 32
        assert (f"Most tokens per dollar: {win}, {v:,.0f} tokens per $ at batch 32 (the largest tested), 10-token "
                f"prompts, 8 new tokens per sequence (${1e6 / v:,.3f} per million output tokens at "
                f"{money(s[win]['price'])}/h), {(v / rv - 1) * 100:.1f}% more tokens per dollar than the runner-up "
                f"{run}") in conclusion
        assert "2x A100 SXM4 has no price in prices.csv and is left out of the cost ranking." in conclusion


def test_home_headline(bundled_site, src):
    page = read(bundled_site, "index.html")
    t = table_with(page, "Lowest $ per million output tokens")
    rows = {r[0]: r for r in t[1:]}
    names = {"meta-llama/Meta-Llama-3.1-70B-Instruct": "Llama 3.1 70B Instruct",
             "meta-llama/Meta-Llama-3-70B-Instruct": "Llama 3 70B Instruct"}
    for model, name in names.items():
        s = src[model]
        win, v, run, rv = _leader({k: x[1]["decode_throughput_avg_tok_per_s"] for k, x in s.items()})
        assert rows[name][2] == f"{win} {v:,.2f} tokens/s +{(v / rv - 1) * 100:.1f}% vs {run}"
        peak = {k: max(x[b]["decode_throughput_avg_tok_per_s"] for b in BATCHES) for k, x in s.items()}
        win, v, _, _ = _leader(peak)
        assert rows[name][3] == f"{win} {v:,.2f} tokens/s at batch 32"
        cost = {k: per_million(x["price"], max(x[b]["decode_throughput_avg_tok_per_s"] for b in BATCHES))
                for k, x in s.items() if x["price"]}
        win = min(cost, key=cost.get)
        assert rows[name][4].startswith(f"{win} {money(cost[win], 3)} per million tokens")
    text = page_text(page)
    # The newest date of data/ as a whole: the serving runs of data/raw/imported/mc2026 ran on 2026-07-16 (their
    # folders' UTC stamps); the TGI figures above are those of the posts of 2024-08-01, unchanged.
    assert "Newest data: 2026-07-16" in text
    assert "10 benchmark runs of 2 models on 6 GPU setups" in text


def test_decode_efficiency(bundled_site, src):
    page = read(bundled_site, "efficiency/index.html")
    assert "floor (ms per token) = model bytes / (GPU count × memory bandwidth per GPU) × 1000" in page_text(page)
    effs = [t for t in tables(page) if t and "Efficiency" in t[0]]
    assert len(effs) == 2
    by_model = dict(zip(sorted(src, key=lambda m: m.replace("3-", "3.0-")), effs))  # page order: 3 then 3.1
    for model, t in by_model.items():
        rows = {r[0]: dict(zip(t[0], r)) for r in t[1:]}
        for setup, s in src[model].items():
            gpu = setup.split("x ", 1)[1]
            floor_ms = PARAMS_70B * 2 / (s["gpus"] * BANDWIDTH_GBPS[gpu] * 1e9) * 1000
            measured = s[1]["decode_token_latency_ms_avg"]
            row = rows[setup]
            assert row["Floor (ms/token)"] == f"{floor_ms:.2f}"
            assert row["Measured (ms/token)"] == f"{measured:.2f}"
            assert row["Efficiency"] == f"{floor_ms / measured * 100:.1f}%"
            assert row["Total bandwidth (GB/s)"] == f"{s['gpus'] * BANDWIDTH_GBPS[gpu]:,}"
    assert "in 16-bit, assumed: the runs do not record the precision" in page_text(page)


def test_memory_needed(bundled_site, src):
    for model, rel in REPORTS.items():
        page = read(bundled_site, rel)
        weights_gb = PARAMS_70B * 2 / 1e9
        assert f"its weights take {weights_gb:.1f} GB" in page_text(page)
        assert "Precision assumed" in page_text(page)
        t = table_with(page, "Total GPU memory (GB)")
        rows = {r[0]: dict(zip(t[0], r)) for r in t[1:]}
        per_gpu = {"A30": 24, "RTX A6000": 48, "L40": 48, "A100 SXM4": 80, "A100 PCIe": 80, "H100 PCIe": 80}
        for setup, s in src[model].items():
            total = s["gpus"] * per_gpu[setup.split("x ", 1)[1]]
            assert rows[setup]["Total GPU memory (GB)"] == f"{total:,}"
            assert rows[setup]["Left for KV cache etc. (GB)"] == f"{total - weights_gb:.1f}"


def test_results_sections(bundled_site, src):
    for model, rel in REPORTS.items():
        page = read(bundled_site, rel)
        text = page_text(page)
        for setup, s in src[model].items():
            if s["price"] is None:
                assert f"{setup} instance: n/a (no price in prices.csv" in text
            else:
                assert f"{setup} instance: {money(s['price'])}/hr ({money(s['price'] / s['gpus'], 3)} per GPU-hour" in text
        # Every setup's values table: the four screen metrics, prefill throughput in prompt tokens (10-token prompt)
        values = [t for t in tables(page) if t and t[0][0] == "Batch size"]
        assert len(values) == len(src[model])
        for (setup, s), t in zip(_page_order(page, src[model]), values):
            for row in t[1:]:
                b = int(row[0])
                assert row[1:] == [f"{s[b]['prefill_latency_ms_avg']:,.2f}", f"{s[b]['decode_token_latency_ms_avg']:,.2f}",
                                   f"{s[b]['prefill_throughput_avg_seq_per_s'] * 10:,.2f}",
                                   f"{s[b]['decode_throughput_avg_tok_per_s']:,.2f}"]


def _page_order(page: str, setups: dict) -> list:
    pos = {k: page.index(f"Values of {k} ") for k in setups}
    return sorted(setups.items(), key=lambda kv: pos[kv[0]])


def test_chart_data_and_colours(bundled_site, src):
    colour_of: dict[str, str] = {}
    for rel in ["index.html", *REPORTS.values(), "efficiency/index.html"]:
        for spec in chart_specs(read(bundled_site, rel)):
            scales = list(_colour_scales(spec))
            assert scales, rel
            for scale in scales:
                for name, colour in zip(scale["domain"], scale["range"], strict=True):
                    assert colour_of.setdefault(name, colour) == colour, f"{name} changes colour on {rel}"
    assert len(set(colour_of.values())) == len(colour_of) == 6
    for model, rel in REPORTS.items():
        specs = chart_specs(read(bundled_site, rel))
        comparison = [s for s in specs if len(s["encoding"]["color"]["scale"]["domain"]) == len(src[model])
                      and s["title"]["text"] == "Decode throughput"]
        assert comparison, "no comparison chart of decode throughput"
        # the model's one table of chart rows; the chart reads its column (a parameter of the template)
        column = next(p["value"] for p in comparison[0]["params"] if p["name"] == "gbColumn")
        assert comparison[0]["usermeta"]["csv"]["names"][2] == "decode_throughput_tok_per_s"
        rows = {(r["setup"], r["batch"]): r[column] for r in comparison[0]["datasets"]["rows"]}
        expect = {(k, b): x[b]["decode_throughput_avg_tok_per_s"] for k, x in src[model].items() for b in BATCHES}
        assert rows == expect
        assert "log" in comparison[0]["encoding"]["y"]["title"]  # 15 to 566 tokens/s spans more than 20x


def _colour_scales(spec):
    if isinstance(spec, dict):
        colour = spec.get("encoding", {}).get("color", {})
        if "scale" in colour:
            yield colour["scale"]
        for v in spec.values():
            yield from _colour_scales(v)
    elif isinstance(spec, list):
        for v in spec:
            yield from _colour_scales(v)


def test_running_the_test_commands(bundled_site, src):
    for model, rel in REPORTS.items():
        page = read(bundled_site, rel)
        code = re.search(r"<code>(token=.*?)</code>", page, re.S).group(1)
        assert "docker run --gpus all --shm-size $shm" in code
        assert "-e HF_TOKEN=$token" in code
        assert f"--model-id {model}" in code
        assert "--sharded true" in code and "--num-shard $shard" in code
        assert "ghcr.io/huggingface/text-generation-inference:latest" in code
        assert ("docker exec -it $container text-generation-benchmark \\\n"
                "    --tokenizer-name meta-llama/Meta-Llama-3-70B-Instruct \\\n"
                "    --batch-size 1 --batch-size 2 --batch-size 4 --batch-size 8 --batch-size 16 --batch-size 32 \\\n"
                "    --sequence-length 10 \\\n    --decode-length 8 \\\n    --runs 10 \\\n    --warmups 1") in code
        text = page_text(page)
        for setup, s in src[model].items():
            assert f"{setup}: shard={s['gpus']}" in text
        assert "Engine: Hugging Face Text Generation Inference (TGI), version not recorded" in text


def test_methodology_and_data_pages(bundled_site):
    text = page_text(read(bundled_site, "methodology/index.html"))
    assert "10 runs with the older formula (sequences/s)" in text
    assert "10 runs with 10-token prompts; 10 runs with 8 new tokens." in text
    assert "p90 always equals p99" in text
    data = read(bundled_site, "data/index.html")
    for name in ("runs.csv", "results.csv", "prices.csv", "gpu_specs.csv"):
        assert f'href="{name}" download' in data
    schemas = [t for t in tables(data) if t and t[0] == ["Column", "Type", "Required", "Meaning"]]
    assert [t[1][0] for t in schemas] == ["run_id", "run_id", "gpu", "gpu"]  # runs, results, prices, gpu_specs
    assert ["price_usd_per_hr", "float", "", "Instance price in US$ per hour when measured; empty when unknown."] in (
        schemas[0])
