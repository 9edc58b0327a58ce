"""The built site in a real browser (Debian's Chromium, headless), served on 127.0.0.1 with no network beyond it:
every chart renders with marks, nothing is fetched from elsewhere, no console errors, charts survive Material's
instant navigation and the light/dark switch. Screenshots go to test-output/site/."""

from __future__ import annotations

import pytest

from sitetest import (OUTPUT, Watch, build, charts_in, copy_data, free_port, serve, site_pages,
                      wait_for_charts)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The bundled data's site, built for and served at its own 127.0.0.1 address (sitemap URLs must match it
    for instant navigation)."""
    base = tmp_path_factory.mktemp("browser")
    port = free_port()
    site = base / "site"
    build(copy_data(base / "data"), site, site_url=f"http://127.0.0.1:{port}/")
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
    assert len(pages) == 6  # home, 2 reports, efficiency, methodology, data
    for rel in pages:
        page.goto(url + rel, wait_until="load")
        charts = wait_for_charts(page)
        _check_charts(charts, rel or "home")
        total += len(charts)
        name = (rel.strip("/").replace("/", "_") or "home")
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
    assert total >= 2 * 26 + 2  # 4 per setup + 4 comparison + 2 cost per report, 1 per model on efficiency
    assert watch.errors == []
    assert watch.dialogs == []
    assert watch.foreign(url) == [], "requests left 127.0.0.1"
    assert any(u.endswith("assets/vendor/vega-bundle.js") for u in watch.requests)
    context.close()


def test_charts_survive_instant_navigation_and_dark_mode(served, browser):
    site, url = served
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page)
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
