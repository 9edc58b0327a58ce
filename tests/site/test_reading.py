"""Pages that read well, in a real browser (Debian's Chromium) on the bundled data's site: the key columns of the
tables in view at 1280 px, a sticky setup column and charts within the screen at 390 px (light and dark), one
scale per metric, sources named, readable search results, printing, the site opened from disk, and each chart's
downloads. Screenshots go to test-output/site/ (<page>_<width>_<scheme>.png)."""

from __future__ import annotations

import json

import pytest
from sitetest import (
    OUTPUT,
    Watch,
    build_for_port,
    chart_specs,
    copy_data,
    new_page,
    page_text,
    read,
    serve,
    table_with,
    tables,
    wait_for_charts,
)

REPORT = "reports/llama-3-1-70b-instruct/"
SERVING = "serving/llama-3-3-70b-instruct/"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("reading")
    site = base / "site"
    port = build_for_port(copy_data(base / "data", raw=True), site)
    with serve(site, port) as url:
        yield site, url


def _open(browser, url: str, width: int, scheme: str = "default", height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    watch = Watch(page)
    page.goto(url, wait_until="load")
    if scheme == "slate":
        page.click("label.md-header__button[for='__palette_1']")
    wait_for_charts(page, scheme)
    return context, page, watch


# Header of a column that must be in view at 1280 px, without scrolling its table: (page, header).
KEY_COLUMNS = ((REPORT, "$/M tokens (best batch)"), (REPORT, "$/M tokens (batch 1)"),
               (REPORT, "Decode throughput (tokens/s)"), (REPORT, "Left for KV cache etc. (GB)"),
               ("efficiency/", "Measured (ms/token)"), ("efficiency/", "Efficiency"),
               (SERVING, "$ per M output tokens"))
IN_VIEW = """(header) => {
  for (const d of document.querySelectorAll('details')) d.open = true;  // the values tables fold
  const th = [...document.querySelectorAll('.gb-table th')].find(t => t.textContent.trim() === header);
  if (!th) return 'missing';
  const box = th.closest('.gb-table').getBoundingClientRect(), r = th.getBoundingClientRect();
  return r.right <= box.right + 1 && r.left >= box.left - 1 && r.right <= window.innerWidth;
}"""


def test_key_columns_in_view_at_1280(served, browser):
    _, url = served
    for rel in dict.fromkeys(p for p, _ in KEY_COLUMNS):
        context, page, _ = _open(browser, url + rel, 1280)
        for _, header in (k for k in KEY_COLUMNS if k[0] == rel):
            assert page.evaluate(IN_VIEW, header) is True, f"{rel}: {header} is not in view at 1280 px"
        context.close()


CHARTS_FIT = """() => [...document.querySelectorAll('.gb-chart svg.marks')].map(svg => {
  const box = svg.getBoundingClientRect(), chart = svg.closest('.gb-chart').getBoundingClientRect();
  const out = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => t.getBoundingClientRect())
      .filter(r => r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 || r.right > window.innerWidth));
  return {id: svg.closest('.gb-chart').id, fits: box.right <= window.innerWidth + 1 && box.width <= chart.width + 1,
          clipped: out.length};
})"""


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_phone_sticky_setup_column_and_charts_within_the_screen(served, browser, scheme):
    _, url = served
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for rel in (REPORT, SERVING, "efficiency/", ""):
        context, page, watch = _open(browser, url + rel, 390, scheme, height=844)
        for c in page.evaluate(CHARTS_FIT):
            assert c["fits"] and c["clipped"] == 0, f"{rel or 'home'} at 390 px: {c}"
        name = (rel.strip("/").replace("/", "_") or "home") + f"_390_{scheme}.png"
        page.screenshot(path=str(OUTPUT / name), full_page=True)
        if rel == REPORT:  # the cost table scrolls sideways under a setup column that stays in view
            first = page.locator(".gb-cost tbody tr:first-child td:first-child")
            assert first.evaluate("e => getComputedStyle(e).position") == "sticky"
            left = first.bounding_box()["x"]
            scrolled = page.locator(".gb-cost").evaluate("""e => {
                const box = [e, ...e.querySelectorAll('*')].find(x => x.scrollWidth > x.clientWidth + 1);
                box.scrollLeft = 300;
                return box.scrollLeft; }""")
            assert scrolled > 0
            assert abs(first.bounding_box()["x"] - left) < 2  # stays put while the table moves 300 px
        assert watch.errors == []
        context.close()


def test_screenshots_at_1280_light_and_dark(served, browser):
    _, url = served
    for scheme in ("default", "slate"):
        for rel in (REPORT, SERVING):
            context, page, watch = _open(browser, url + rel, 1280, scheme)
            for c in page.evaluate(CHARTS_FIT):
                assert c["fits"] and c["clipped"] == 0, f"{rel} at 1280 px: {c}"
            page.screenshot(path=str(OUTPUT / f"{rel.strip('/').replace('/', '_')}_1280_{scheme}.png"),
                            full_page=True)
            assert watch.errors == []
            context.close()


def _scale_type(spec: dict, channel: str = "y") -> str:
    for part in [spec, *spec.get("layer", [])]:
        scale = part.get("encoding", {}).get(channel, {}).get("scale")
        if scale is not None:
            return scale.get("type", "linear")
    return "linear"


def test_one_scale_per_metric_and_log_axes_span_the_data(served):
    site, _ = served
    specs = chart_specs(read(site, REPORT + "index.html"))
    by_metric: dict[str, set[str]] = {}
    for s in specs:
        if "csv" in s["usermeta"] and "names" in s["usermeta"]["csv"]:  # a column of the model's table
            by_metric.setdefault(s["usermeta"]["csv"]["names"][2], set()).add(_scale_type(s))
    # decode throughput: 15.96 (4x RTX A6000, batch 1) to 565.81 tokens/s (2x A100 SXM4, batch 32): log on every
    # chart of it, each setup's and the comparison
    assert by_metric["decode_throughput_tok_per_s"] == {"log"}
    assert len(by_metric) == 5  # the four screen metrics and the cost
    assert all(len(types) == 1 for types in by_metric.values()), by_metric
    for s in specs:
        for part in [s, *s.get("layer", [])]:
            for channel in ("x", "y"):
                scale = part.get("encoding", {}).get(channel, {}).get("scale", {})
                if scale.get("type") == "log" and scale.get("base") != 2:
                    assert scale.get("nice") is False, s["usermeta"]


def test_efficiency_chart_keeps_its_sort(served):
    site, _ = served
    page = read(site, "efficiency/index.html")
    for spec, table in zip([s for s in chart_specs(page) if s["usermeta"]["gpubench"] == "bars"],
                           [t for t in tables(page) if t and "Efficiency" in t[0]], strict=True):
        pct = {r[0]: float(r[-1].rstrip("%")) for r in table[1:] if r[-1] != "n/a"}
        assert spec["encoding"]["y"]["sort"] == sorted(pct, key=lambda k: -pct[k])


def test_headlines_say_what_and_where(served):
    site, _ = served
    text = page_text(read(site, REPORT + "index.html"))
    # the card says what its number is, and the batch size and workload it holds at (the figures: test_numbers)
    assert "Lowest cost per million output tokens" in text
    assert "batch 32 (the largest tested), 10-token prompts, 8 new tokens per sequence" in text
    home = page_text(read(site, "index.html"))
    assert "Lowest $ per million output tokens" in home and "batch 32 (the largest tested)" in home


def test_sources_are_named_and_linked_in_the_text(served):
    site, _ = served
    page = read(site, REPORT + "index.html")
    text = page_text(page)
    assert ("Source: 5 runs transcribed from a publication, published 2024-08-01, from the repository "
            "github.com/Massed-Compute/gpu-benchmark: post llama-3.1-70B.md; screenshots ") in text
    assert "8xA30-llama3.1-70b.png" in text
    assert '<a href="https://github.com/Massed-Compute/gpu-benchmark">github.com/Massed-Compute/gpu-benchmark</a>' \
        in page
    assert ('<a href="https://github.com/Massed-Compute/gpu-benchmark/blob/17df70e33e143fb4f8ec5a873b9e3bb5f592fb9a/'
            'llama-3/llama-3.1-70B.md">llama-3.1-70B.md</a>') in page
    # prices.csv: the 2024-08-01 snapshots of Massed Compute, read from the same post
    assert ("Priced at the snapshot of 2024-08-01 from Massed Compute (snapshot at the run's date), source "
            "llama-3.1-70B.md in github.com/Massed-Compute/gpu-benchmark: ") in text


def test_search_results_quote_prose(served, browser):
    site, url = served
    docs = json.loads((site / "search" / "search_index.json").read_text())["docs"]
    assert not any("<td" in d["text"] or "<table" in d["text"] or "gb-slot" in d["text"] for d in docs)
    assert not any(d["location"].startswith("runs/") for d in docs)
    context, page, watch = _open(browser, url, 1280)
    page.click(".md-search__input")
    page.locator(".md-search__input").press_sequentially("prefill", delay=20)
    page.wait_for_selector(".md-search-result__item", timeout=10_000)
    teaser = " ".join(page.locator(".md-search-result__article").all_inner_texts())
    assert "prefill" in teaser.lower()
    assert "RunSetup" not in teaser and "tok/s @" not in teaser  # no table cells run together
    assert watch.errors == []
    context.close()


def test_printing_expands_tables(served, browser):
    _, url = served
    context, page, _ = _open(browser, url + REPORT, 1280)
    assert page.locator("details.gb-values:not([open])").count() > 0
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details:not([open])").count() == 0
    assert page.locator(".gb-cost").evaluate("e => getComputedStyle(e).overflowX") == "visible"
    assert len(page.pdf()) > 10_000  # Chromium prints it
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.locator("details.gb-values:not([open])").count() > 0
    context.close()


def test_site_opened_from_disk(served, browser):
    site, _ = served
    context, page, watch = new_page(browser)
    page.goto((site / "index.html").as_uri(), wait_until="load")
    wait_for_charts(page)
    page.click(f"a.gb-card[href$='{REPORT}index.html']")  # a folder link, pointed at its index.html
    page.wait_for_url(f"**/{REPORT}index.html")
    charts = wait_for_charts(page)
    assert len(charts) == 26 and all(c["state"] == "default" and c["marks"] > 0 for c in charts)
    page.click("a.md-nav__link[href$='efficiency/index.html']")
    page.wait_for_url("**/efficiency/index.html")
    assert all(c["marks"] > 0 for c in wait_for_charts(page))
    # search works from disk too (its worker runs in an iframe there), and a result opens its page
    page.click(".md-search__input")
    page.locator(".md-search__input").press_sequentially("2741", delay=20)  # TGI's pull request: one page says it
    result = page.locator(".md-search-result__link:visible", has_text="Methodology").first
    result.wait_for(timeout=10_000)
    result.click()
    page.wait_for_url(lambda u: "/methodology/index.html" in u)  # a page, not the folder's listing
    assert "TGI 2.4.1" in page.locator("article").inner_text()
    assert watch.errors == []
    assert not [u for u in watch.requests if not u.startswith(("file:", "data:", "blob:"))]
    context.close()


def test_each_chart_downloads_as_svg_png_and_csv(served, browser):
    _, url = served
    context, page, _ = _open(browser, url + REPORT, 1280)
    chart = page.locator(".gb-chart").first  # 8x A30's prefill latency (the cheapest setup's section comes first)
    chart.scroll_into_view_if_needed()
    menu = chart.locator("details").first
    menu.evaluate("d => { d.open = true; }")
    links = chart.locator(".vega-actions a").all_inner_texts()
    assert {"Save as SVG", "Save as PNG", "Save data as CSV"} <= set(links), links
    with page.expect_download() as got:
        chart.locator(".vega-actions a", has_text="Save data as CSV").click()
    csv_text = open(got.value.path(), encoding="utf-8").read()
    lines = csv_text.splitlines()
    assert lines[0] == "setup,batch,prefill_latency_ms"
    # the post's 8x A30 prefill latency, batch 1 and 32: 73.86 and 774.18 ms
    assert "8x A30,1,73.86" in lines and "8x A30,32,774.18" in lines and len(lines) == 7
    menu.evaluate("d => { d.open = true; }")
    with page.expect_download() as got:
        chart.locator(".vega-actions a", has_text="Save as SVG").click()
    assert open(got.value.path(), encoding="utf-8").read().lstrip().startswith("<svg")
    context.close()


def test_cost_table_order(served):
    site, _ = served
    head = table_with(read(site, REPORT + "index.html"), "Tokens per $")[0]
    assert head[:4] == ["Setup", "Rank", "$/M tokens (best batch)", "$/M tokens (batch 1)"]


# Records how each chart is handed to vega-embed: compiled from Vega-Lite, or as a Vega spec kept from a visit before.
EMBED_MODES = """
window.__gbModes = [];
let embed;
Object.defineProperty(window, "vegaEmbed", {configurable: true, get() { return embed; }, set(f) {
  embed = (el, spec, opts) => { window.__gbModes.push(opts.mode); return f(el, spec, opts); };
}});
"""
DRAWN = """() => [...document.querySelectorAll('.gb-chart svg.marks')].map(s =>
  [s.querySelectorAll('path').length, [...s.querySelectorAll('text')].map(t => t.textContent).join('|')])"""


def test_a_page_seen_before_draws_its_charts_without_compiling_them_again(served, browser):
    """The second visit draws every chart from the Vega specs kept at the first (no Vega-Lite compile), and draws
    exactly what the first visit drew: the same marks and the same texts."""
    _, url = served
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(EMBED_MODES)
    drawn = []
    for _ in range(2):
        page.goto(url + REPORT, wait_until="load")
        wait_for_charts(page)
        drawn.append((page.evaluate("window.__gbModes"), page.evaluate(DRAWN)))
    (first_modes, first), (second_modes, second) = drawn
    assert len(first) == 26
    assert first_modes == ["vega-lite"] * len(first_modes) and len(first_modes) >= 26
    assert second_modes == ["vega"] * len(second_modes) and len(second_modes) >= 26
    assert second == first
    context.close()
