"""Text from data/ is text: a GPU label, a model id, notes and URLs written as HTML reach every page, chart and
tooltip as the same characters, and nothing runs."""

from __future__ import annotations

import json

import pytest
from sitetest import build_for_port, copy_data, edit_csv, new_page, page_text, serve, site_pages, wait_for_charts

LABEL = "<img src=x onerror=alert(1)>"
MODEL_TAIL = "<b onmouseover=alert(2)>Evil*_model_"
NOTES = "</div><script>alert(3)</script> *not emphasis* [not a link](javascript:alert(4))"
# Serving runs: the GPU label reaches tables, legends, tooltips and the label of a price slider (vega binding).
SERVING_LABEL = "<img src=y onerror=alert(7)>"
SERVING_MODEL = "evil/<svg onload=alert(8)>serve_model"
SERVING_NOTES = "</td><script>alert(9)</script> *x* [y](javascript:alert(10))"


def hostile(rows):
    for r in rows:
        if r["gpu"] == "A30":
            r["gpu"] = LABEL
            r["notes"] = NOTES
            r["source_url"] = "javascript:alert(5)"
            r["engine_version"] = '"><svg onload=alert(6)>'
        if r["model_id"] == "meta-llama/Meta-Llama-3-70B-Instruct":
            r["model_id"] = "evil/" + MODEL_TAIL
            r["image"] = "ghcr.io/x/y:1 `touch /tmp/pwned` $(id)"
        if r["gpu"] == "L40S":
            r["gpu"] = SERVING_LABEL
            r["model_id"] = SERVING_MODEL
            r["validity_notes"] = SERVING_NOTES
            r["failure_reason"] = SERVING_NOTES if r["status"] == "failed" else ""
            r["notes"] = "vllm bench serve version hint: <i>x</i> key set"
            r["price_source"] = SERVING_NOTES
            r["source_url"] = "javascript:alert(11)"
            r["engine_version"] = '"><svg onload=alert(12)>'


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    base = tmp_path_factory.mktemp("xss")
    data = copy_data(base / "data")
    edit_csv(data / "runs.csv", hostile)
    site = base / "site"
    return site, build_for_port(data, site)


def test_html_holds_the_label_as_escaped_text(hostile_site):
    site, _ = hostile_site
    for f in site.rglob("*.html"):
        html = f.read_text(encoding="utf-8")
        for raw in ("<img src=x", "<img src=y", "<script>alert", "<svg onload", "<b onmouseover", 'href="javascript:',
                    "<i>x</i>"):
            assert raw not in html, f"{f}: {raw}"
    pages = {p: (site / p / "index.html").read_text(encoding="utf-8") for p in
             ("", "reports/llama-3-1-70b-instruct/", "efficiency/")}
    for p, html in pages.items():
        assert LABEL in page_text(html), p  # shown as the same characters, not dropped
    report = page_text(pages["reports/llama-3-1-70b-instruct/"])
    assert f"8x {LABEL} instance: $2.00/hr" in report
    assert NOTES in report
    assert "8x " + LABEL + ": shard=8" in report
    docs = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    assert any("&lt;img src=x" in d["text"] for d in docs)  # Material renders these as HTML: escaped
    assert not any("<img src=x" in d["text"] or "<img" in d["title"] for d in docs)


def test_serving_pages_hold_the_text_as_text(hostile_site):
    site, _ = hostile_site
    pages = [p for p in site_pages(site) if p.startswith("serving/svg-onload-alert-8") and not p.endswith("/runs/")]
    assert len(pages) == 1
    report = page_text((site / pages[0] / "index.html").read_text(encoding="utf-8"))
    assert SERVING_MODEL in report
    assert f"1x {SERVING_LABEL} · vLLM" in report and f"1x {SERVING_LABEL} · SGLang" in report
    assert SERVING_NOTES in report
    overview = page_text((site / "serving" / "index.html").read_text(encoding="utf-8"))
    assert SERVING_LABEL in overview
    methodology = page_text((site / "methodology" / "index.html").read_text(encoding="utf-8"))
    assert "<i>x</i>" in methodology  # a version hint from notes, shown as text


def test_model_id_is_text_in_nav_title_and_commands(hostile_site):
    site, _ = hostile_site
    slug_pages = [p for p in site_pages(site) if p.startswith("reports/b-onmouseover") and not p.endswith("/runs/")]
    assert len(slug_pages) == 1
    html = (site / slug_pages[0] / "index.html").read_text(encoding="utf-8")
    text = page_text(html)
    assert MODEL_TAIL in text
    assert "--model-id 'evil/<b onmouseover=alert(2)>Evil*_model_'" in text  # shell-quoted, HTML-escaped
    assert "'ghcr.io/x/y:1 `touch /tmp/pwned` $(id)'" in text


def test_browser_shows_text_and_runs_nothing(hostile_site, browser):
    site, port = hostile_site
    with serve(site, port) as url:
        context, page, watch = new_page(browser)
        hostile_runs = [p for p in site_pages(site, runs=True) if p.startswith("runs/")
                        and "&lt;img src=" in (site / p / "index.html").read_text(encoding="utf-8")]
        assert len(hostile_runs) >= 2  # the A30 run (static) and the L40S runs (serving) carry the label
        for rel in site_pages(site) + hostile_runs[:3]:
            page.goto(url + rel, wait_until="load")
            charts = wait_for_charts(page)
            assert all(c["state"] == "default" and c["marks"] > 0 for c in charts), rel
            injected = page.evaluate(
                """document.querySelectorAll('img[src="x"], [onerror], [onmouseover], [onload]').length
                   + [...document.scripts].filter(s => s.textContent.includes('alert(')).length""")
            assert injected == 0, rel
            body = page.inner_text("body")
            if rel in ("", "reports/llama-3-1-70b-instruct/", "efficiency/"):
                assert LABEL in body, rel
            if page.locator("nav.md-nav").count():  # (a run's page has no site navigation)
                page.hover("nav.md-nav")  # the nav's titles, hovered: no onmouseover anywhere
        # The setup's own charts: its tooltip shows the label as text.
        page.goto(url + "reports/llama-3-1-70b-instruct/", wait_until="load")
        wait_for_charts(page)
        chart = page.locator(".gb-chart", has=page.locator("svg")).nth(0)
        chart.scroll_into_view_if_needed()
        chart.locator("g.mark-symbol path").nth(0).hover(force=True)
        tip = page.locator("#vg-tooltip-element")
        tip.wait_for(state="visible", timeout=5000)
        assert LABEL in tip.inner_text()
        assert tip.locator("img").count() == 0
        # A serving report: the price slider's label and a tooltip show the GPU label as text.
        rel = next(p for p in site_pages(site) if p.startswith("serving/svg-onload-alert-8") and "/runs/" not in p)
        page.goto(url + rel, wait_until="load")
        wait_for_charts(page)
        names = page.locator(".vega-bind-name").all_inner_texts()
        assert any(SERVING_LABEL in n for n in names), names
        assert page.locator(".vega-bindings img, .vega-bindings svg").count() == 0
        chart = page.locator(".gb-chart", has=page.locator("svg")).nth(1)
        chart.scroll_into_view_if_needed()
        chart.locator("g.mark-symbol path").nth(0).hover(force=True)
        tip = page.locator("#vg-tooltip-element")
        tip.wait_for(state="visible", timeout=5000)
        assert SERVING_LABEL in tip.inner_text() and tip.locator("img").count() == 0
        # Search results render titles and text from the index: still text.
        page.click(".md-search__input")
        page.locator(".md-search__input").press_sequentially("setups", delay=20)  # results quote the label
        page.wait_for_selector(".md-search-result__item", timeout=10000)
        assert page.locator(".md-search-result img[src='x']").count() == 0
        page.wait_for_timeout(300)
        assert watch.dialogs == []
        assert watch.errors == []
        assert watch.foreign(url) == []
        context.close()
