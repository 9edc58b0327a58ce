"""Benchmark: how fast the report site draws its charts in a real browser, against an empty page's load.

It builds the site from data/ (or --data), serves it with `python -m http.server` on 127.0.0.1 and opens pages in
headless Chromium (/usr/bin/chromium, through Playwright). Per page, over --repeat loads (the median is printed), on
a first visit (empty browser cache) and on a return visit (the third load: files and compiled scripts cached), all
times from the start of the navigation:

- first screen: every chart that is in the first screen (1280 x 900) is drawn; a page whose first screen holds no
  chart is also opened at its first chart's heading, so that its first screen does;
- every chart: the last chart of the page is drawn;
- the floors: an empty HTML page's load event, and the load event of the site's 404 page with the chart scripts
  left out (Material's stylesheets and script, the navigation: the theme alone), on the same server, in the same
  run. The charts' own time is what a page's figures add to the theme's floor.

- scrolled to: a reader who, as soon as the first chart is drawn, jumps to the page's last chart: how long after
  the jump it is drawn (charts that come into view jump the queue).

Targets: first screen within 0.5 s of navigation, every chart within 1 s.

With --ideal, each page is also measured on first visits as the best case of charts drawn in the browser: compiled
to Vega beforehand and drawn by Vega alone (bench/ideal_charts.py).

Usage: python bench/site_speed.py [--data DIR] [--pages reports/llama-3-1-70b-instruct/ ...] [--repeat 5] [--ideal]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "site"))

sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from ideal_charts import make_ideal  # noqa: E402
from sitetest import CHROMIUM, build_for_port, serve, site_pages  # noqa: E402

VIEWPORT = {"width": 1280, "height": 900}
FIRST_SCREEN_S, EVERY_CHART_S = 0.5, 1.0
# Records when each chart container gets its data-rendered mark, in ms since the navigation started.
TIMES = """
window.__gbTimes = {};
new MutationObserver((changes) => {
  for (const c of changes) {
    const el = c.target;
    if (c.attributeName === 'data-rendered' && el.getAttribute('data-rendered') && !(el.id in window.__gbTimes))
      window.__gbTimes[el.id] = performance.now();
  }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-rendered']});
"""
DONE = """(n) => { const c = document.querySelectorAll('.gb-chart'); return c.length === n &&
    [...c].every(e => e.id in window.__gbTimes); }"""
MEASURE = """() => {
  const t = window.__gbTimes, h = window.innerHeight, w = window.innerWidth;
  const charts = [...document.querySelectorAll('.gb-chart')];
  const first = charts.filter(e => { const r = e.getBoundingClientRect();
      return r.bottom > 0 && r.top < h && r.right > 0 && r.left < w; });
  return {first: first.length ? Math.max(...first.map(e => t[e.id])) : null, n_first: first.length,
          all: charts.length ? Math.max(...charts.map(e => t[e.id])) : null, n: charts.length};
}"""


def theme_only(page: Path) -> str:
    """A page of the site with the chart scripts left out (what the theme costs on its own)."""
    html = page.read_text(encoding="utf-8")
    return re.sub(r'<script src="[^"]*(?:vega-bundle|charts)\.js"[^>]*></script>', "", html)


def chart_count(site: Path, rel: str) -> int:
    return (site / rel / "index.html").read_text(encoding="utf-8").count('class="gb-chart"')


def first_chart_anchor(site: Path, rel: str) -> str | None:
    """The id of the heading just before the page's first chart (where a reader lands from the table of
    contents)."""
    html = (site / rel / "index.html").read_text(encoding="utf-8")
    at = html.find('class="gb-chart"')
    if at < 0:
        return None
    head = html.rfind('<h', 0, at)
    while head >= 0 and not html[head + 2].isdigit():
        head = html.rfind('<h', 0, head)
    start = html.find('id="', head, at)
    return html[start + 4:html.find('"', start + 4)] if start >= 0 else None


def load_once(browser, url: str, count: int, visits: int) -> dict:
    """The figures of the last of ``visits`` loads of url in a fresh browser profile."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.add_init_script(TIMES)
    for i in range(visits):
        if i:
            page.goto("about:blank")
        page.goto(url, wait_until="load")
        page.wait_for_function(DONE, arg=count, timeout=60_000)
    out = page.evaluate(MEASURE)
    context.close()
    return out


# A reader who jumps to the page's last chart as soon as the first chart is drawn (set up before the page runs).
JUMP = """
window.__gbJump = null;
new MutationObserver((changes, observer) => {
  if (!changes.some((c) => c.target.getAttribute('data-rendered'))) return;
  observer.disconnect();
  const charts = document.querySelectorAll('.gb-chart');
  const last = charts[charts.length - 1];
  if (last.getAttribute('data-rendered')) return;
  last.scrollIntoView();
  window.__gbJump = {id: last.id, at: performance.now()};
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-rendered']});
"""


def jump_once(browser, url: str, count: int) -> float | None:
    """Return visit (third load): ms from the jump to the last chart until it is drawn."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.add_init_script(TIMES)
    for _ in range(2):
        page.goto(url, wait_until="load")
        page.wait_for_function(DONE, arg=count, timeout=60_000)
        page.goto("about:blank")
    page.add_init_script(JUMP)
    page.goto(url, wait_until="load")
    page.wait_for_function(DONE, arg=count, timeout=60_000)
    ms = page.evaluate("window.__gbJump && window.__gbTimes[window.__gbJump.id] - window.__gbJump.at")
    context.close()
    return ms


def empty_load(browser, url: str, visits: int) -> float:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    for i in range(visits):
        if i:
            page.goto("about:blank")
        page.goto(url, wait_until="load")
    ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    context.close()
    return ms


VISITS = (("first visit", 1), ("return visit", 3))


def measure(browser, base: str, site: Path, rel: str, repeat: int, visits=VISITS) -> list[tuple[str, dict]]:
    n = chart_count(site, rel)
    views = [("top", base + rel)]
    anchor = first_chart_anchor(site, rel)
    if anchor:
        views.append((f"#{anchor}", f"{base}{rel}#{anchor}"))
    out = []
    for (name, url), (visit, loads) in ((v, w) for v in views for w in visits):
        runs = [load_once(browser, url, n, loads) for _ in range(repeat)]
        firsts = [r["first"] for r in runs if r["first"] is not None]
        out.append((f"{name}, {visit}", {"n": n, "n_first": runs[0]["n_first"], "visit": visit,
                           "first": statistics.median(firsts) if firsts else None,
                           "all": statistics.median(r["all"] for r in runs) if n else None}))
    return out


def print_row(rel: str, view: str, m: dict, floors: dict, themed: dict) -> None:
    first = f"{m['first']:.0f} ms ({m['n_first']})" if m["first"] is not None else "no chart"
    every = f"{m['all']:.0f} ms" if m["all"] is not None else "n/a"
    ratio = f"{m['all'] / floors[m['visit']]:.1f}x" if m["all"] else ""
    beyond = f"+{m['all'] - themed[m['visit']]:.0f} ms" if m["all"] else ""
    print(f"{rel:<40} {view[:40]:<40} {m['n']:>6} {first:>13} {every:>12} {ratio:>8} {beyond:>13}")


def default_pages(site: Path) -> list[str]:
    """The pages with the most charts of each kind: a static-batch report and the largest serving report."""
    pages = [p for p in site_pages(site) if chart_count(site, p)]
    reports = [p for p in pages if p.startswith("reports/")]
    serving = [p for p in pages if p.startswith("serving/") and p != "serving/"]
    picked = []
    for group in (reports, serving):
        if group:
            picked.append(max(group, key=lambda p: ((site / p / "index.html").stat().st_size, p)))
    return picked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "data")
    ap.add_argument("--pages", nargs="+", help="pages to measure, as paths under the site (default: the largest "
                                               "static-batch and serving reports)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ideal", action="store_true", help="also measure each page's best case on first visits: "
                                                        "charts compiled beforehand, drawn by Vega alone")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="gpubench-speed-") as tmp:
        site = Path(tmp) / "site"
        port = build_for_port(args.data, site)
        (site / "bench-empty.html").write_text("<!doctype html><title>empty</title><p>empty</p>\n")
        (site / "bench-theme.html").write_text(theme_only(site / "404.html"))
        pages = args.pages or default_pages(site)
        with serve(site, port) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-background-networking", "--disable-component-update"])
            floors = {visit: statistics.median(empty_load(browser, base + "bench-empty.html", loads)
                                               for _ in range(args.repeat)) for visit, loads in VISITS}
            themed = {visit: statistics.median(empty_load(browser, base + "bench-theme.html", loads)
                                               for _ in range(args.repeat)) for visit, loads in VISITS}
            print("empty page load (the floor): " + ", ".join(f"{v} {ms:.0f} ms" for v, ms in floors.items())
                  + f"; median of {args.repeat} loads per figure")
            print("the site's 404 page without the chart scripts (the theme's floor: Material's CSS and script): "
                  + ", ".join(f"{v} {ms:.0f} ms" for v, ms in themed.items()))
            print(f"{'page':<40} {'view':<40} {'charts':>6} {'first screen':>13} {'every chart':>12} "
                  f"{'/ floor':>8} {'beyond theme':>13}")
            ok = {visit: True for visit, _ in VISITS}
            for rel in pages:
                n = chart_count(site, rel)
                jumps = [j for j in (jump_once(browser, base + rel, n) for _ in range(args.repeat)) if j is not None]
                if jumps:
                    print(f"{rel:<40} {'jump to the last chart, return visit':<40} {n:>6} "
                          f"{'drawn ' + format(statistics.median(jumps), '.0f') + ' ms after the jump':>35}")
                for view, m in measure(browser, base, site, rel, args.repeat):
                    print_row(rel, view, m, floors, themed)
                    ok[m["visit"]] &= (m["first"] is None or m["first"] <= FIRST_SCREEN_S * 1000) and (
                        m["all"] is None or m["all"] <= EVERY_CHART_S * 1000)
                if args.ideal:
                    ideal = make_ideal(site, rel)
                    for view, m in measure(browser, base, site, ideal, args.repeat, visits=VISITS[:1]):
                        print_row(ideal, "best case: " + view, m, floors, themed)
            browser.close()
        for visit, met in ok.items():
            print(f"target (first screen <= {FIRST_SCREEN_S} s, every chart <= {EVERY_CHART_S} s), {visit}: "
                  f"{'met' if met else 'NOT met'}" + ("" if met or visit != "first visit" else
                  f" (the theme alone: {themed[visit]:.0f} ms)"))


if __name__ == "__main__":
    main()
