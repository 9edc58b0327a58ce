"""The built site in a real browser (Debian's Chromium, headless), served on 127.0.0.1 with no network beyond it:
every chart renders with marks, nothing is fetched from elsewhere, no console errors, charts survive Material's
instant navigation and the light/dark switch, and the serving reports' controls recompute the cost at a latency
target in the page. Screenshots go to test-output/site/."""

from __future__ import annotations

import pytest
from sitetest import OUTPUT, Watch, build_for_port, charts_in, copy_data, new_page, serve, site_pages, wait_for_charts


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The bundled data's site, built for and served at its own 127.0.0.1 address (sitemap URLs must match it
    for instant navigation)."""
    base = tmp_path_factory.mktemp("browser")
    site = base / "site"
    port = build_for_port(copy_data(base / "data"), site)
    with serve(site, port) as url:
        yield site, url


def _check_charts(charts: list[dict], where: str, scheme: str = "default") -> None:
    for c in charts:
        assert c["state"] == scheme, f"{where}: chart {c['id']} is {c['state']}"
        assert c["marks"] > 0, f"{where}: chart {c['id']} has no marks"
        assert c["width"] > 150, f"{where}: chart {c['id']} is {c['width']}px wide"


def test_every_page_renders_offline(served, browser):
    site, url = served
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    watch = Watch(page)
    total = 0
    pages = site_pages(site)
    # home, 2 static-batch reports and their pages of every run, efficiency, methodology, data; the serving
    # overview and 4 serving reports with theirs
    assert len(pages) == 17
    assert len([p for p in pages if p.startswith("serving/")]) == 9
    # and a page per run: runs.csv holds 61 (10 transcribed static-batch runs, 51 serving runs)
    runs = [p for p in site_pages(site, runs=True) if p.startswith("runs/")]
    assert len(runs) == 61
    for rel in pages + runs[:2]:
        page.goto(url + rel, wait_until="load")
        charts = wait_for_charts(page)
        _check_charts(charts, rel or "home")
        total += len(charts)
        name = (rel.strip("/").replace("/", "_") or "home")
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
    # 4 per setup + 4 comparison + 2 cost per static-batch report, 1 per model on efficiency; per serving report
    # the frontier, 4 latency, throughput, cost and the cost at a latency target
    assert total >= 2 * 26 + 2 + 4 * 8
    assert watch.errors == []
    assert watch.dialogs == []
    assert watch.foreign(url) == [], "requests left 127.0.0.1"
    assert any(u.endswith("assets/vendor/vega-bundle.js") for u in watch.requests)
    context.close()


def test_charts_survive_instant_navigation_and_dark_mode(served, browser):
    site, url = served
    context, page, watch = new_page(browser)
    page.goto(url, wait_until="load")
    wait_for_charts(page)
    page.evaluate("window.__gbMarker = 42")  # survives only if the next page comes without a reload

    page.click("a.gb-card >> nth=0")
    page.wait_for_url("**/reports/**")
    report = page.url[len(url):]
    charts = wait_for_charts(page, count=charts_in(site, report))
    assert page.evaluate("window.__gbMarker") == 42, "the click reloaded the page: instant navigation is off"
    _check_charts(charts, "report after instant navigation")
    assert len(charts) == 26

    page.click("label.md-header__button[for='__palette_1']")  # Material's palette toggle
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    charts = wait_for_charts(page, "slate")
    _check_charts(charts, "report in dark mode", "slate")
    page.screenshot(path=str(OUTPUT / "report_dark.png"), full_page=False)

    page.click("a.md-nav__link[href$='efficiency/']")
    page.wait_for_url("**/efficiency/")
    charts = wait_for_charts(page, "slate", count=charts_in(site, "efficiency/"))
    assert page.evaluate("window.__gbMarker") == 42
    _check_charts(charts, "efficiency after instant navigation, dark", "slate")

    page.go_back()  # history navigation is instant too
    page.wait_for_url("**/reports/**")
    _check_charts(wait_for_charts(page, "slate", count=charts_in(site, report)), "report after going back", "slate")

    page.click("label.md-header__button[for='__palette_0']")
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'default'")
    _check_charts(wait_for_charts(page), "report back in light mode")
    # A vega view that left with its page is finalized, not kept alive behind the new one.
    assert page.evaluate("document.querySelectorAll('.gb-chart[data-rendered]').length") == 26
    assert watch.errors == []
    assert watch.foreign(url) == []
    context.close()


def test_tooltip_shows_exact_values(served, browser):
    site, url = served
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url + "reports/llama-3-1-70b-instruct/", wait_until="load")
    wait_for_charts(page)
    chart = page.locator(".gb-chart").nth(3)  # 8x A30's decode throughput
    chart.scroll_into_view_if_needed()
    points = chart.locator("g.mark-symbol path")
    points.nth(0).hover(force=True)
    tip = page.locator("#vg-tooltip-element")
    tip.wait_for(state="visible", timeout=5000)
    text = " ".join(tip.inner_text().split())
    assert "8x A30" in text and "Batch size 1" in text and "17.80" in text, text
    context.close()


SERVING = "serving/llama-3-3-70b-instruct/"
# llama-3-3-70b-instruct/gpu_2x_h100/20260716T150819Z: sglang-c1.json and vllm-c32.json output_throughput, and
# gpu_2x_pro_6000_blackwell/20260716T145431Z/vllm-c32.json, sglang-c32.json; 2.73 and 2.19 $/GPU-hour (catalog)
H100_SGLANG_C1, H100_VLLM_C32, H100_SGLANG_C32 = 23.48719802211078, 415.5240460132559, 339.42553289879913
RTX_VLLM_C32 = 461.8375497491146


def _per_million(price: float, tok_s: float) -> str:
    return f"${price / (tok_s * 3600 / 1e6):,.2f}"


def _expect_headline(page, text: str) -> None:
    """The chart's headline (drawn on three lines: each line a tspan) reads `text`."""
    page.wait_for_function(
        """(want) => [...document.querySelectorAll('.gb-chart svg text')].some(t => {
              const lines = [...t.querySelectorAll('tspan')].map(s => s.textContent);
              return (lines.length ? lines.join(' ') : t.textContent) === want; })""",
        arg=text, timeout=10_000)


def _set(page, name: str, value: str) -> None:
    page.locator(f".vega-bindings input[name='{name}']").fill(value)


def test_latency_target_controls_recompute_in_the_page(served, browser):
    _, url = served
    context, page, watch = new_page(browser)
    page.goto(url + SERVING, wait_until="load")
    wait_for_charts(page)
    # Defaults: TTFT p50 <= 1000 ms, TPOT p50 <= 50 ms; only the c1 runs of 2x H100 keep TPOT under 50 ms
    # (sglang-c1.json 41.5367402833302 ms, the cheaper of the two)
    _expect_headline(page, "Cheapest within the limits: 2x H100 · SGLang at c1, "
                           f"{_per_million(5.46, H100_SGLANG_C1)} per M output tokens")
    page.locator(".gb-chart", has=page.locator("input[name='tpot_limit']")).scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / "serving_target_default.png"))
    # TPOT p50 <= 100 ms lets every c32 run in; RTX PRO 6000 vLLM c32 has TTFT p50 1244.1 ms (vllm-c32.json
    # median_ttft_ms 1244.114767499923), so the cheapest within 1000 ms is 2x H100 vLLM c32
    _set(page, "tpot_limit", "100")
    _expect_headline(page, "Cheapest within the limits: 2x H100 · vLLM at c32, "
                           f"{_per_million(5.46, H100_VLLM_C32)} per M output tokens")
    _set(page, "ttft_limit", "2000")
    _expect_headline(page, "Cheapest within the limits: 2x RTX PRO 6000 Blackwell · vLLM at c32, "
                           f"{_per_million(4.38, RTX_VLLM_C32)} per M output tokens")
    # The RTX PRO 6000 at 3.50 $/GPU-hour: 7.00 / (461.84 x 3600 / 1e6) = $4.21, dearer than the H100's $3.65
    _set(page, "price_1", "3.5")
    _expect_headline(page, "Cheapest within the limits: 2x H100 · vLLM at c32, "
                           f"{_per_million(5.46, H100_VLLM_C32)} per M output tokens")
    # Leaving out flagged runs drops 2x H100 vLLM c32 (output short): the RTX PRO 6000 vLLM c32 comes back at its
    # new price, 7.00 / (461.84 x 3600 / 1e6) = $4.21, still below 2x H100 SGLang c32 ($4.47)
    page.locator(".vega-bindings input[name='skip_flagged']").check()
    moved = ("Cheapest within the limits: 2x RTX PRO 6000 Blackwell · vLLM at c32, "
             f"{_per_million(7.00, RTX_VLLM_C32)} per M output tokens")
    _expect_headline(page, moved)
    assert _per_million(7.00, RTX_VLLM_C32) == "$4.21" and _per_million(5.46, H100_SGLANG_C32) == "$4.47"
    page.screenshot(path=str(OUTPUT / "serving_target_moved.png"))
    # The controls survive the switch to dark mode (the chart re-renders with the reader's values)
    page.click("label.md-header__button[for='__palette_1']")
    wait_for_charts(page, "slate")
    _expect_headline(page, moved)
    assert page.locator(".vega-bindings input[name='skip_flagged']").is_checked()
    assert page.locator(".vega-bindings input[name='tpot_limit']").input_value() == "100"
    _set(page, "tpot_limit", "10")
    _expect_headline(page, "No setup meets these limits")
    page.click("label.md-header__button[for='__palette_0']")
    wait_for_charts(page)
    assert watch.errors == []
    assert watch.foreign(url) == []
    context.close()


def test_serving_pages_light_and_dark(served, browser):
    """Every serving page at 1280 px in both palettes (screenshots to look at), reached by instant navigation."""
    site, url = served
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context, page, watch = new_page(browser)
    page.goto(url, wait_until="load")
    wait_for_charts(page)
    page.evaluate("window.__gbMarker = 7")
    page.click("a.gb-view[href$='serving/']")
    page.wait_for_url("**/serving/")
    page.click("a.gb-card--serving >> nth=0")
    page.wait_for_url("**/serving/*/")
    first = page.url[len(url):]
    charts = wait_for_charts(page, count=charts_in(site, first))
    assert page.evaluate("window.__gbMarker") == 7, "the click reloaded the page: instant navigation is off"
    _check_charts(charts, first)
    for rel in [p for p in site_pages(site) if p.startswith("serving/")]:
        name = rel.strip("/").replace("/", "_")
        for scheme, toggle in (("default", "__palette_0"), ("slate", "__palette_1")):
            page.goto(url + rel, wait_until="load")
            if page.evaluate("document.body.getAttribute('data-md-color-scheme')") != scheme:
                page.click(f"label.md-header__button[for='{toggle}']")
            charts = wait_for_charts(page, scheme)
            _check_charts(charts, rel, scheme)
            suffix = "" if scheme == "default" else "_dark"
            page.screenshot(path=str(OUTPUT / f"{name}{suffix}.png"), full_page=True)
    assert watch.errors == []
    assert watch.foreign(url) == []
    context.close()
