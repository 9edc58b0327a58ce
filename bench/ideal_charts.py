"""The best case of charts drawn in the browser, for `bench/site_speed.py --ideal`.

A copy of a built page (beside it, at the same depth: `<page>-ideal/`) whose charts are compiled to Vega beforehand,
each chart's Vega spec and data in the page, at the width a 1280 px screen gives it, and drawn by Vega alone: no
Vega-Lite, no vega-embed, so no compile in the browser, a third less script to load, and none of what the site gives
on top (export menu, tooltips, theme, palette and width changes). It keeps charts.js's order: the charts near the
screen first, then the others, with the main thread given back after the first ones and every 50 ms. What such a
page still takes on a first visit is what the browser route cannot go below, whatever is done to charts.js.

This is a measuring device, not a way to build the site: compiling at build time costs more than the site's build
target allows (bench/chart_prerender.py).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import vl_convert
from sitetest import chart_specs

from site_src.bundle import COMPILE_HINT, vega_lite_version

WIDTH = 487  # px: a chart's width on a 1280 px screen (Material's content column)
VEGA_ONLY = "assets/vendor/bench-vega-only.js"
DRAW = """<script>
(function () {
  "use strict";
  const charts = [...document.querySelectorAll(".gb-chart[data-vg]")];
  const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  const top = target && window.scrollY === 0 ? target.getBoundingClientRect().top : 0;
  const near = (el) => { const r = el.getBoundingClientRect();
    return r.bottom > top - 400 && r.top < top + window.innerHeight + 400; };
  const first = charts.filter(near);
  const yieldNow = () => new Promise((done) => { const c = new MessageChannel(); c.port1.onmessage = done;
    c.port2.postMessage(null); });
  (async () => {
    let slice = performance.now();
    for (const [i, el] of [...first, ...charts.filter((e) => !first.includes(e))].entries()) {
      const spec = vega.parse(JSON.parse(el.getAttribute("data-vg")));
      await new vega.View(spec, { renderer: "svg", container: el, hover: false }).runAsync();
      el.style.minHeight = "";
      el.setAttribute("data-rendered", "default");
      if (i === first.length - 1 || performance.now() - slice > 50) { await yieldNow(); slice = performance.now(); }
    }
  })();
})();
</script>"""


def vega_only_bundle() -> str:
    """Vega alone, shipped as the site's bundle is (compile hint, classic script). vl-convert resolves the module
    from its own copy: nothing is downloaded. (Bound as V: vl-convert's own module already has a name vega.)"""
    url = f"https://cdn.jsdelivr.net/npm/vega@{vl_convert.get_vega_version()}/+esm"
    source = vl_convert.javascript_bundle(f'import * as V from "{url}";\nwindow.vega = V;',
                                          vl_version=vega_lite_version())
    return f'{COMPILE_HINT}\n(function () {{\n"use strict";\n{source}\n}})();\n'


def at_screen_width(spec: dict) -> dict:
    """The spec at a 1280 px screen's chart width, as charts.js sets a 'container' width before drawing."""
    if spec.get("width") == "container":
        spec = {**spec, "width": WIDTH, "autosize": {"type": "fit-x", "contains": "padding"}}
    return spec


def compiled(spec: dict) -> dict:
    return vl_convert.vegalite_to_vega(at_screen_width(spec), vl_version=vega_lite_version())


def make_ideal(site: Path, rel: str) -> str:
    """Writes the ideal copy of the page at rel ('reports/x/') and returns its path ('reports/x-ideal/')."""
    if not (site / VEGA_ONLY).exists():
        (site / VEGA_ONLY).write_text(vega_only_bundle(), encoding="utf-8")
    page = (site / rel / "index.html").read_text(encoding="utf-8")
    specs = iter(compiled(s) for s in chart_specs(page))

    def with_vega(tag: re.Match) -> str:
        vg = html.escape(json.dumps(next(specs), separators=(",", ":")), quote=True)
        return tag.group(0)[:-1] + f' data-vg="{vg}">'

    page = re.sub(r'<div class="gb-chart"[^>]*>', with_vega, page)
    scripts = re.compile(r'<script src="([^"]*)vendor/vega-bundle\.js"></script>\s*<script src="[^"]*charts\.js">'
                         r'</script>')
    page, found = scripts.subn(lambda m: f'<script src="{m.group(1)}vendor/{Path(VEGA_ONLY).name}"></script>'
                               + DRAW, page)
    if found != 1:
        raise SystemExit(f"{rel}: the chart scripts are not where bench/ideal_charts.py expects them")
    out = rel.rstrip("/") + "-ideal/"
    (site / out).mkdir(parents=True, exist_ok=True)
    (site / out / "index.html").write_text(page, encoding="utf-8")
    return out
