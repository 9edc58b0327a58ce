"""Every run is visible and every cost comes from prices.csv, on a copy of the bundled data with a setup that ran
three times (TGI 2.0.4, the published run, TGI 2.4.1) and prices changed in prices.csv only.

The added runs and prices are written here as a user's CSV rows would be; every expected number is typed from
those rows and from data/ (the published post's table, prices.csv), with the arithmetic written out.
"""

from __future__ import annotations

import urllib.request

import pytest
from sitetest import (
    DATA,
    add_csv_rows,
    build,
    build_for_port,
    chart_specs,
    copy_data,
    edit_csv,
    new_page,
    page_text,
    read,
    serve,
    table_with,
    tables,
    wait_for_charts,
)

REPORT = "reports/llama-3-1-70b-instruct/index.html"
RUNS = "reports/llama-3-1-70b-instruct/runs/index.html"  # the report's history and every run
SERVING = "serving/llama-3-3-70b-instruct/index.html"
A30_RUN = "015673c1d269d2fe"  # the post's 8x A30 run: decode 17.8 (batch 1) and 226.89 (batch 32) tokens/s
OLD, NEW = "a30tgi2040000001", "a30tgi2410000001"
OLD_RAW, NEW_RAW = "raw/collected/a30-tgi-2.0.4.txt", "raw/collected/a30-tgi-2.4.1.txt"
NEW_RAW_TEXT = b"| Step | Batch Size | Average |\n| Decode | 32 | 580.00 tokens/secs |\n"
# An earlier serving sweep of 2x H100 · vLLM for Llama 3.3 70B (the bundled ones are of 2026-07-16: 14:42, every
# level failed; 15:08, output 21.87 / 133.17 / 415.52 tokens/s at concurrency 1 / 8 / 32, results.csv), with 256
# output tokens where the bundled sweeps ask for 128.
H100_C1, H100_C32 = "d1bf314ec4fb2cff", "63628f97e1373cd3"  # the 15:08 sweep's c1 and c32 runs
EARLY_SWEEP, EARLY_C1, EARLY_C32 = "h100vllm0302swp", "h100vllm0302c01", "h100vllm0302c32"
SERVING_RUNS = "serving/llama-3-3-70b-instruct/runs/index.html"
LATER = {"gpu": "A30", "gpu_count": "8", "price_usd_per_hr": "1.5", "price_date": "2025-01-15",
         "provider": "Massed Compute", "source_url": "https://example.org/a30-prices"}
# Another provider's newer, cheaper 8x A30: the runs (all Massed Compute's, as the post's run they are copied from)
# are never priced by it.
OTHER = {"gpu": "A30", "gpu_count": "8", "price_usd_per_hr": "1.1", "price_date": "2025-02-01",
         "provider": "Example Cloud", "source_url": "https://example.org/other-prices"}


def _runs(rows: list[dict]) -> None:
    post = next(r for r in rows if r["run_id"] == A30_RUN)
    for run_id, version, day, formula, raw in ((OLD, "2.0.4", "2024-06-03", "seq_per_s", OLD_RAW),
                                               (NEW, "2.4.1", "2024-11-20", "tok_per_s", NEW_RAW)):
        rows.append({**post, "run_id": run_id, "source": "collected", "source_url": "", "raw_path": raw,
                     "measured_at": f"{day}T09:00:00Z", "published_at": "", "engine_version": version,
                     "batch_sizes": "1 32", "prefill_throughput_formula": formula, "price_usd_per_hr": "",
                     "price_date": "", "price_source": "", "notes": ""})


def _early_sweep(rows: list[dict]) -> None:
    for template, run_id in ((H100_C1, EARLY_C1), (H100_C32, EARLY_C32)):
        run = next(r for r in rows if r["run_id"] == template)
        rows.append({**run, "run_id": run_id, "sweep_id": EARLY_SWEEP, "measured_at": "2026-03-02T10:00:00+00:00",
                     "engine_version": "0.8.5", "output_len": "256", "validity_flags": "", "validity_notes": "",
                     "raw_path": "", "source": "collected", "source_url": ""})


def _results(run_id: str, decode_1: float, decode_32: float, prefill: tuple[str, float]) -> list[dict]:
    rows = [{"run_id": run_id, "batch_size": b, "metric": "decode_throughput_tok_per_s", "stat": "avg", "value": v}
            for b, v in ((1, decode_1), (32, decode_32))]
    return rows + [{"run_id": run_id, "batch_size": 1, "metric": prefill[0], "stat": "avg", "value": prefill[1]}]


def _prices(rows: list[dict]) -> None:
    for r in rows:
        if (r["gpu"], r["gpu_count"]) == ("H100 PCIe", "2"):
            r["price_usd_per_hr"] = "6.5"  # runs.csv still says 5.98: the site must read prices.csv
        if (r["gpu"], r["gpu_count"]) == ("H100", "2"):
            r["price_usd_per_hr"] = "6"  # the serving runs of 2026-07-16 (runs.csv: 5.46)
    rows[:] = [r for r in rows if (r["gpu"], r["gpu_count"]) != ("RTX A6000", "4")]
    rows += [LATER, OTHER]


def _no_recorded_price(rows: list[dict]) -> None:
    for r in rows:
        if (r["gpu"], r["gpu_count"]) == ("RTX A6000", "4"):
            r["price_usd_per_hr"] = r["price_date"] = r["price_source"] = ""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    data = copy_data(base / "data", raw=True)
    edit_csv(data / "runs.csv", _runs)
    edit_csv(data / "runs.csv", _no_recorded_price)
    edit_csv(data / "runs.csv", _early_sweep)
    add_csv_rows(data / "results.csv", [{"run_id": run_id, "metric": "output_throughput_tok_per_s", "stat": "value",
                                         "value": v} for run_id, v in ((EARLY_C1, 18.5), (EARLY_C32, 380.25))])
    add_csv_rows(data / "results.csv", _results(OLD, 16.0, 300.0, ("prefill_throughput_seq_per_s", 12.0))
                 + _results(NEW, 19.5, 580.0, ("prefill_throughput_tok_per_s", 150.0)))
    edit_csv(data / "prices.csv", _prices)
    (data / "raw" / "collected").mkdir()
    (data / OLD_RAW).write_bytes(b"an older output\n")
    (data / NEW_RAW).write_bytes(NEW_RAW_TEXT)
    out = base / "site"
    return out, build_for_port(data, out)


def test_cost_comes_from_prices_csv(site):
    out, _ = site
    page = read(out, REPORT)
    rows = {r[0]: r for r in table_with(page, "Tokens per $")[1:]}
    head = table_with(page, "Tokens per $")[0]
    col = {h: i for i, h in enumerate(head)}
    # 2x H100 PCIe at prices.csv's $6.50 (runs.csv: 5.98); its best batch is 32: 494.12 tokens/s (the post's table)
    h100 = rows["2x H100 PCIe"]
    assert h100[col["$/instance-hour"]] == "$6.50"
    assert h100[col["$/M tokens (best batch)"]] == f"${6.5 / (494.12 * 3600 / 1e6):,.3f}" == "$3.654"
    # 4x RTX A6000: no snapshot in prices.csv and no price recorded with its run: n/a, out of the ranking
    a6000 = rows["4x RTX A6000"]
    assert a6000[col["Rank"]] == "n/a" and a6000[col["$/M tokens (best batch)"]] == "n/a"
    assert a6000[col["$/instance-hour"]] == "n/a"
    # the newest 8x A30 setup (TGI 2.4.1, 2024-11-20): $2.00 of 2024-08-01 at its date, $1.50 of 2025-01-15 today
    new = rows["8x A30 · TGI 2.4.1"]
    assert new[col["$/instance-hour"]] == "$2.00"
    assert new[col["$/M tokens (best batch)"]] == f"${2.0 / (580 * 3600 / 1e6):,.3f}"
    assert new[col["$/M tokens at today's price"]] == f"${1.5 / (580 * 3600 / 1e6):,.3f}" == "$0.718"
    text = page_text(page)
    assert ("8x A30 · TGI 2.4.1 instance: $2.00/hr ($0.250 per GPU-hour, price of 2024-08-01 from Massed Compute: "
            "llama-3.1-70B.md in github.com/Massed-Compute/gpu-benchmark; snapshot at the run's date) · at today's "
            "price: $1.50/hr (2025-01-15, Massed Compute)") in text
    # the TGI 2.0.4 run (2024-06-03) predates every snapshot: priced at the first one after it, and says so
    assert "8x A30 · TGI 2.0.4 instance: $2.00/hr" in text and "snapshot after the run" in text
    assert ("At today's price, the snapshot of 2025-01-15 from Massed Compute, source example.org/a30-prices: "
            "8x A30 · TGI (version not recorded) $1.50/h, 8x A30 · TGI 2.0.4 $1.50/h, 8x A30 · TGI 2.4.1 $1.50/h."
            ) in text
    assert "Example Cloud" not in text  # its newer 1.10 $/h is another provider's: it prices none of these runs


def test_serving_cost_comes_from_prices_csv(site):
    out, _ = site
    t = table_with(read(out, SERVING), "Output tok/s at concurrency 32")
    rows = {(r[0].split()[0], r[1]): dict(zip(t[0], r, strict=True)) for r in t[1:]}
    h100 = rows[("vLLM", "2x H100")]
    # prices.csv's $6.00 for 2x H100 (runs.csv: 5.46); vllm-c32.json output_throughput 415.5240460132559
    assert h100["$/h"] == "$6.00"
    assert h100["$ per M output tokens"] == f"${6.0 / (415.5240460132559 * 3600 / 1e6):,.2f}" == "$4.01"
    spec = next(s for s in chart_specs(read(out, SERVING)) if s["usermeta"]["gpubench"] == "target")
    assert {p["name"]: p["value"] for p in spec["params"]}["price_0"] == 3.0  # $6.00 / 2 GPUs, the slider's start


def test_setup_history_with_the_formula_change(site):
    out, _ = site
    report = page_text(read(out, REPORT))
    # the report's 8x A30 section: a line per version, and where its history is
    assert "3 runs of 8x A30 · TGI (engine versions 2.0.4, 2.4.1): its history and every run." in report
    page = read(out, RUNS)
    t = table_with(page, "Prefill throughput as printed")
    head = t[0]
    assert head[:5] == ["Run", "Date", "Engine", "Load", "Decode tok/s, batch 1"]
    assert [r[:3] for r in t[1:]] == [[OLD, "2024-06-03", "TGI 2.0.4"],
                                     [A30_RUN, "2024-08-01", "TGI (version not recorded)"],
                                     [NEW, "2024-11-20", "TGI 2.4.1"]]
    assert [r[4:6] for r in t[1:]] == [["16.00", "300.00"], ["17.80", "226.89"], ["19.50", "580.00"]]
    # as printed, then in prompt tokens/s (10-token prompts: 12.0 and 13.6 sequences/s are 120 and 136 tokens/s)
    assert [r[6:8] for r in t[1:]] == [["12.00 sequences/s (before TGI 2.4.1)", "120.00"],
                                      ["13.60 sequences/s (before TGI 2.4.1)", "136.00"],
                                      ["150.00 prompt tokens/s (TGI 2.4.1 on)", "150.00"]]
    spec = next(s for s in chart_specs(page) if s["usermeta"]["gpubench"] == "history")
    assert {"group": "8x A30 · TGI", "date": "2024-11-20",
            "text": "TGI 2.4.1: prefill counts prompt tokens/s"} in spec["datasets"]["changes"]
    mine = [r for r in spec["datasets"]["rows"] if r["group"] == "8x A30 · TGI"]
    assert sorted((r["date"], r["which"], r["value"]) for r in mine) == [
        ("2024-06-03", "batch 1", 16.0), ("2024-06-03", "batch 32", 300.0), ("2024-08-01", "batch 1", 17.8),
        ("2024-08-01", "batch 32", 226.89), ("2024-11-20", "batch 1", 19.5), ("2024-11-20", "batch 32", 580.0)]


def test_serving_setup_history(site):
    """Every sweep of 2x H100 · vLLM, oldest first, with its output throughput per load level; the chart holds the
    two sweeps with numbers and marks the workload change (256 -> 128 output tokens) at the first 128-token sweep."""
    out, _ = site
    page = read(out, SERVING_RUNS)
    t = next(t for t in tables(page) if t[0][0] == "Sweep" and any(r[0] == EARLY_SWEEP for r in t[1:]))
    assert t[0][:6] == ["Sweep", "Date", "Engine", "Output tok/s, concurrency 1", "Output tok/s, concurrency 8",
                        "Output tok/s, concurrency 32"]
    assert [r[:6] for r in t[1:]] == [
        [EARLY_SWEEP, "2026-03-02 10:00", "vLLM 0.8.5", "18.50", "not run", "380.25"],
        ["0f2e6c6611d03d73", "2026-07-16 14:42", "vLLM (version not recorded)", "failed", "failed", "failed"],
        ["5348ad9bf8581e2d", "2026-07-16 15:08", "vLLM (version not recorded)", "21.87", "133.17", "415.52"]]
    assert t[2][6].startswith("c1, c8, c32: failed no 'Serving Benchmark Result' block")  # one line, not three
    spec = next(s for s in chart_specs(page) if s["usermeta"]["gpubench"] == "history")
    mine = [r for r in spec["datasets"]["rows"] if r["group"] == "2x H100 · vLLM"]
    assert sorted((r["date"][:16], r["which"], r["value"]) for r in mine) == [
        ("2026-03-02T10:00", "concurrency 1", 18.5), ("2026-03-02T10:00", "concurrency 32", 380.25),
        ("2026-07-16T15:08", "concurrency 1", 21.870394), ("2026-07-16T15:08", "concurrency 32", 415.524046),
        ("2026-07-16T15:08", "concurrency 8", 133.171038)]
    assert [(c["date"][:16], c["text"]) for c in spec["datasets"]["changes"] if c["group"] == "2x H100 · vLLM"] == [
        ("2026-07-16T14:42", "workload: output tokens 256 → 128")]
    assert f'href="../../../runs/{EARLY_C32}/"' in page


def test_every_run_listed_with_its_page(site):
    out, _ = site
    page = read(out, RUNS)
    listed = [r[0] for t in tables(page) for r in t[1:]]
    assert len(listed) == 7  # the post's 5 setups and the two added runs, each once
    for run_id in listed:
        assert f'href="../../../runs/{run_id}/"' in page
        assert (out / "runs" / run_id / "index.html").is_file()
    assert 'href="runs/"' in read(out, REPORT)  # the report links to it


def test_run_page(site):
    out, port = site
    page = read(out, f"runs/{NEW}/index.html")
    text = page_text(page)
    assert "Llama 3.1 70B Instruct on 8x A30 · TGI 2.4.1 · batch 1 to 32 · 2024-11-20 09:00 · none" in text
    assert "No validity flags" in text
    numbers = table_with(page, "Batch size")
    assert ["decode_throughput_tok_per_s", "32", "580.00"] in numbers
    assert ["prefill_throughput_tok_per_s", "1", "150.00"] in numbers
    assert ("Priced at $2.00/h per instance: the snapshot of 2024-08-01 from Massed Compute (snapshot at the run's "
            "date)") in text
    assert "At today's price: $1.50/h (snapshot of 2025-01-15 from Massed Compute" in text
    assert "Example Cloud" not in text and "$1.10" not in text  # another provider's price
    fields = {r[0]: r[1] for r in table_with(page, "Field")[1:]}
    assert fields["engine_version"] == "2.4.1" and fields["prefill_throughput_formula"] == "tok_per_s"
    assert 'href="../../data/raw/collected/a30-tgi-2.4.1.txt"' in page
    with serve(out, port) as url:  # the link works from the built site, offline
        body = urllib.request.urlopen(url + "data/raw/collected/a30-tgi-2.4.1.txt", timeout=5).read()
        assert body == NEW_RAW_TEXT
    # the post's run: its raw file is the transcribed table, published once however many runs cite it
    post = read(out, f"runs/{A30_RUN}/index.html")
    rel = "raw/transcribed/massed_compute_2024_tgi_llama70b/massed_compute_2024_tgi_llama70b.csv"
    assert f'href="../../data/{rel}"' in post
    assert (out / "data" / rel).read_bytes() == (DATA / rel).read_bytes()


def test_raw_files_are_shown_as_text_and_only_those_runs_cite(tmp_path):
    data = copy_data(tmp_path / "data")
    (data / "raw" / "collected").mkdir(parents=True)
    (data / "raw" / "collected" / "page.html").write_text("<script>alert(1)</script>")
    (data / "raw" / "collected" / "unused.txt").write_text("no run cites this")
    edit_csv(data / "runs.csv", lambda rows: rows[0].update(raw_path="raw/collected/page.html ../../etc/passwd"))
    out = tmp_path / "site"
    build(data, out)
    assert (out / "data" / "raw" / "collected" / "page.html.txt").read_text() == "<script>alert(1)</script>"
    assert not (out / "data" / "raw" / "collected" / "page.html").exists()
    assert not (out / "data" / "raw" / "collected" / "unused.txt").exists()
    run = next(p for p in (out / "runs").iterdir() if "page.html" in (p / "index.html").read_text())
    text = page_text((run / "index.html").read_text())
    assert "../../etc/passwd (outside data/raw/: not published)" in text


def test_history_chart_in_the_browser(site, browser):
    out, port = site
    with serve(out, port) as url:
        context, page, watch = new_page(browser)
        page.goto(url + "reports/llama-3-1-70b-instruct/runs/#8x-a30-tgi", wait_until="load")
        wait_for_charts(page)
        chart = page.locator(".gb-chart[data-rendered]", has_text="TGI 2.4.1: prefill counts prompt tokens/s")
        assert chart.count() == 1  # the annotation is drawn, beside its dashed rule at 2024-11-20
        assert chart.locator("g.mark-symbol.role-mark path").count() == 6  # 3 runs x (batch 1, batch 32)
        page.goto(url + "serving/llama-3-3-70b-instruct/runs/#2x-h100-vllm", wait_until="load")
        wait_for_charts(page)
        chart = page.locator(".gb-chart[data-rendered]", has_text="workload: output tokens 256 → 128")
        assert chart.count() == 1
        assert chart.locator("g.mark-symbol.role-mark path").count() == 5  # 2 + 3 load levels with numbers
        page.goto(url + f"runs/{NEW}/", wait_until="load")
        assert watch.errors == []
        page.click("a[href$='a30-tgi-2.4.1.txt']")
        page.wait_for_url("**/a30-tgi-2.4.1.txt")
        assert "580.00 tokens/secs" in page.content()  # (a text file: Chromium then asks for /favicon.ico)
        assert watch.foreign(url) == []
        context.close()
