"""The generated pages: home, one report per model, the serving reports, a page per run, decode efficiency,
methodology and data.

``build_pages(data)`` is the whole step: plain data in, rendered pages out; the MkDocs hooks only hand them over.
"""

from __future__ import annotations

from collections import Counter

from collector.data import schema
from site_src import analysis as an
from site_src import charts, run_pages, serving_data, serving_methodology, serving_pages
from site_src.dataset import SiteData
from site_src.raw_files import RawFiles
from site_src.render import Page, Renderer, num, pct, sig
from site_src.report import params_text, report, report_path
from site_src.report_parts import model_headline
from site_src.sources import provenance

CSV_FILES = (schema.RUNS_CSV, schema.RESULTS_CSV, schema.PRICES_CSV, schema.GPU_SPECS_CSV)


def build_pages(data: SiteData, raw: RawFiles | None = None, *, empty: bool = False) -> list[Page]:
    """Every generated page, in navigation order (the run pages last: they are not in the navigation). ``empty``
    keeps pages and headings but drops tables and charts (the floor the build benchmark compares against)."""
    serving = serving_data.load(data.store, data.prices)
    pages = [home(data, serving, empty=empty)]
    pages += [p for m in data.models for p in report(data, m, empty=empty)]
    pages += serving_pages.build(serving, empty=empty)
    pages += [efficiency(data, empty=empty), methodology(data, serving, empty=empty), data_page(data, empty=empty)]
    pages += run_pages.build(data, serving, raw or RawFiles(data.root, []), empty=empty)
    return pages


NAV_GROUPS = (("reports/", "Static-batch reports"), ("serving/", "Serving reports"))


def nav(pages: list[Page]) -> list:
    """MkDocs nav: Home, the static-batch reports (one per model), the serving reports, then the other pages."""
    entries: list = []
    groups: dict[str, list] = {prefix: [] for prefix, _ in NAV_GROUPS}
    for p in pages:
        if p.path.startswith(run_pages.RUNS_DIR + "/") or p.path.endswith("/runs.md"):
            continue  # the runs (thousands) and each report's list of them: reached from the reports
        prefix = next((g for g in groups if p.path.startswith(g)), None)
        if prefix:
            groups[prefix].append({p.title: p.path})
        else:
            entries.append({p.title: p.path})
    at = 1  # after Home
    for prefix, title in NAV_GROUPS:
        if groups[prefix]:
            entries.insert(at, {title: groups[prefix]})
            at += 1
    return entries


# ---------------------------------------------------------------- shared pieces


def setup_word(n: int) -> str:
    return "setup" if n == 1 else "setups"


# ---------------------------------------------------------------- home


def home(data: SiteData, serving: serving_data.ServingData, *, empty: bool = False) -> Page:
    runs = [r for m in data.models for r in m.runs]
    gpus = sorted({str(r.gpu) for r in runs})
    engines = sorted({str(r.engine) for r in runs})
    cards = []
    for m in data.models:
        cards.append({"model": m, "path": report_path(m), "h": model_headline(m),
                      "setups": [s.label for s in m.series], "runs": len(m.runs)})
    ctx = {
        "data": data, "cards": cards, "n_runs": len(runs), "gpus": gpus, "engines": engines,
        "setups": data.labels, "sources": provenance(runs),
        "serving": serving_pages.home_cards(serving), "serving_runs": serving.runs,
        "serving_index": serving_pages.INDEX_PATH,
    }
    return Renderer(Page("index.md", "Home"), empty=empty).render("home.md.j2", **ctx)


# ---------------------------------------------------------------- decode efficiency


def efficiency(data: SiteData, *, empty: bool = False) -> Page:
    page = Page("efficiency.md", "Decode efficiency")
    r = Renderer(page, empty=empty)
    models = []
    for m in data.models:
        effs = [an.efficiency(m, s) for s in m.series]
        rows = [{
            "label": e.series.label, "gpus": e.series.gpu_count,
            "spec": e.series.spec.gpu if e.series.spec else None,
            "bw_per_gpu": num(e.series.spec.mem_bw_gbps, 0) if e.series.spec else "n/a",
            "bw": num(e.total_bw_gbps, 0), "weights": num(e.weights.gb, 1),
            "precision": e.weights.precision.label, "floor": num(e.floor_ms, 2), "measured": num(e.measured_ms, 2),
            "pct": pct(e.pct), "pct_value": e.pct,
        } for e in effs]
        rated = [e for e in effs if e.pct is not None]
        best = max(rated, key=lambda e: e.pct) if rated else None
        for row in rows:
            row["best"] = best is not None and row["pct_value"] == best.pct
        spec = None
        if rated and not empty:
            spec = charts.bar_chart([(e.series.label, e.pct) for e in rated], title="Decode efficiency at batch 1",
                                    axis="floor / measured time per token (%)",
                                    colours=data.colour_scale([e.series.label for e in rated]))
        models.append({"m": m, "rows": rows, "spec": spec, "best": best, "params": params_text(m),
                       "assumed": any(e.weights.precision.assumed for e in effs),
                       "unmatched": [e.series.label for e in effs if e.series.spec is None]})
    return r.render("efficiency.md.j2", models=models, data=data)


# ---------------------------------------------------------------- methodology and data


def methodology(data: SiteData, serving: serving_data.ServingData, *, empty: bool = False) -> Page:
    runs = [r for m in data.models for r in m.runs]
    ctx = {
        "n_runs": len(runs),
        "formulas": Counter(str(r.prefill_throughput_formula or "unknown") for r in runs),
        "seq": Counter(r.sequence_length for r in runs),
        "dec": Counter(r.decode_length for r in runs),
        "nruns": Counter(r.n_runs for r in runs),
        "sources": Counter(str(r.source) for r in runs + serving.runs),
        "pct_rows": data.counts.get("percentile_rows", 0),
        "pct_sets": data.counts.get("percentile_sets", 0),
        "p90_eq_p99": data.counts.get("p90_eq_p99", 0),
        "p90_below_p50": data.counts.get("p90_below_p50", 0),
        "steps": Counter((r.decode_length or 0) - 1 for r in runs if r.decode_length),
        "unreliable": schema.UNRELIABLE_STATS,
        "serving": serving_methodology.facts(serving),
    }
    return Renderer(Page("methodology.md", "Methodology"), empty=empty).render("methodology.md.j2", **ctx)


def data_page(data: SiteData, *, empty: bool = False) -> Page:
    tables = []
    for name in CSV_FILES:
        tables.append({"name": name, "rows": data.counts.get(name, 0),
                       "columns": [{"name": c.name, "type": c.type, "required": c.required, "doc": c.doc,
                                    "choices": ", ".join(c.choices)} for c in schema.TABLES[name]]})
    ctx = {"tables": tables, "version": schema.SCHEMA_VERSION, "newest": data.newest}
    return Renderer(Page("data.md", "Data"), empty=empty).render("data.md.j2", **ctx)


__all__ = ["CSV_FILES", "build_pages", "nav", "report_path", "sig"]
