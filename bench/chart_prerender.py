"""Benchmark: what drawing the charts at build time would cost, against the site's own build and its floor.

Charts are drawn in the browser (site_src/docs/assets/javascripts/charts.js). On a first visit that costs the chart
library's compile and Vega's first, not yet optimised, charts; bench/site_speed.py measures it. Drawing every chart
at build time instead (SVG, replaced by the live chart once the library is up) would put charts on screen with the
page itself. This bench measures the price of that, and of its half-way house (Vega-Lite compiled to Vega at build
time, leaving only Vega for the browser), on the site bench/site_build.py measures:

- it generates a data/ folder of --runs runs with bench/site_build.py's generator (or takes --data), builds the site
  and the bare-MkDocs floor with the same pages, alternating, --repeat times each;
- it times vl-convert (the renderer the site's bundle comes from) on --sample charts of every page with charts,
  spread over the page, each resolved as the browser resolves it and at the width a 1280 px screen gives it;
- it prints ms per chart and the build time each way would take at this many charts, as a ratio to the floor (the
  site's target is 1.5x the floor; bench/site_build.py).

Usage: python bench/chart_prerender.py [--runs 1000 | --data DIR] [--sample 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "site"))

import vl_convert  # noqa: E402
from ideal_charts import at_screen_width  # noqa: E402
from site_build import build, generate  # noqa: E402
from sitetest import chart_specs, site_pages  # noqa: E402

from site_src.bundle import vega_lite_version  # noqa: E402

TARGET = 1.5  # the site build's limit, as a multiple of the floor (bench/site_build.py)


def spread(items: list, k: int) -> list:
    """k items spread over the list (the first and the last among them)."""
    if len(items) <= k:
        return items
    step = (len(items) - 1) / (k - 1)
    return [items[round(i * step)] for i in range(k)]


def time_per_chart(specs: list[dict], convert) -> tuple[float, float]:
    """Median ms per chart of convert(spec, vl_version=...), and the median size of its output in KB."""
    version = vega_lite_version()
    times, sizes = [], []
    for spec in specs:
        start = time.perf_counter()
        out = convert(spec, vl_version=version)
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(len(out if isinstance(out, str) else json.dumps(out, separators=(",", ":"))) / 1000)
    return statistics.median(times), statistics.median(sizes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="runs in the generated data/ folder (default 1000)")
    ap.add_argument("--data", type=Path, help="build from this data/ folder instead of generated runs")
    ap.add_argument("--sample", type=int, default=4, help="charts timed per page (default 4)")
    ap.add_argument("--repeat", type=int, default=3, help="site and floor builds each; the median counts")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="gpubench-prerender-") as tmp:
        work = Path(tmp)
        data = args.data
        if data is None:
            data = work / "data"
            print(f"generating {args.runs:,} runs ...", flush=True)
            generate(data, args.runs)
        site, floor = work / "site", work / "floor"
        times: dict[str, list[float]] = {"site": [], "floor": []}
        for i in range(args.repeat):
            print(f"build {i + 1}/{args.repeat}: site and floor ...", flush=True)
            times["site"].append(build(data, site, empty=False))
            times["floor"].append(build(data, floor, empty=True))
        site_s, floor_s = statistics.median(times["site"]), statistics.median(times["floor"])

        per_page = {rel: chart_specs((site / rel / "index.html").read_text(encoding="utf-8"))
                    for rel in site_pages(site, runs=True)}
        per_page = {rel: specs for rel, specs in per_page.items() if specs}
        charts = sum(len(specs) for specs in per_page.values())
        sample = [at_screen_width(s) for specs in per_page.values() for s in spread(specs, args.sample)]
        vl_convert.vegalite_to_svg(sample[0], vl_version=vega_lite_version())  # starts vl-convert's engine
        svg_ms, svg_kb = time_per_chart(sample, vl_convert.vegalite_to_svg)
        vega_ms, _ = time_per_chart(sample, vl_convert.vegalite_to_vega)
        most = max(per_page, key=lambda rel: len(per_page[rel]))
        most_kb = (site / most / "index.html").stat().st_size / 1000

    print(f"\nsite: {charts:,} charts on {len(per_page)} pages; {len(sample)} timed")
    print(f"site build {site_s:.2f} s, bare-MkDocs floor {floor_s:.2f} s: {site_s / floor_s:.2f}x "
          f"(median of {args.repeat} each)")
    for name, ms in (("SVG drawn at build time", svg_ms), ("Vega-Lite compiled to Vega at build time", vega_ms)):
        total = site_s + charts * ms / 1000
        verdict = "within" if total / floor_s <= TARGET else "over"
        print(f"{name}: {ms:.1f} ms per chart, +{charts * ms / 1000:.1f} s for the site -> {total:.1f} s, "
              f"{total / floor_s:.2f}x the floor ({verdict} the {TARGET}x target)")
    n_most = len(per_page[most])
    print(f"the page with the most charts, {most} ({n_most} charts, {most_kb:.0f} KB), with its SVGs inline "
          f"({svg_kb:.0f} KB each): {(most_kb + n_most * svg_kb) / 1000:.2f} MB (the limit is 1 MB a page)")


if __name__ == "__main__":
    main()
