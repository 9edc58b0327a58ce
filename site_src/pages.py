"""The generated pages: home, one report per model, decode efficiency, methodology and data.

``build_pages(data)`` is the whole step: plain data in, rendered pages out; the MkDocs hooks only hand them over.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from collector.data import schema
from site_src import analysis as an
from site_src import charts, commands, serving_data, serving_methodology, serving_pages
from site_src.dataset import SCREEN_METRICS, ModelData, Series, SiteData
from site_src.render import Page, Renderer, num, pct, sig, usd

CSV_FILES = (schema.RUNS_CSV, schema.RESULTS_CSV, schema.PRICES_CSV, schema.GPU_SPECS_CSV)
SOURCE_WORDS = {"collected": "measured by gpubench", "imported": "imported from a benchmark output",
                "transcribed": "transcribed from a publication"}


def report_path(model: ModelData) -> str:
    return f"reports/{model.slug}.md"


def build_pages(data: SiteData, *, empty: bool = False) -> list[Page]:
    """Every generated page, in navigation order. ``empty`` keeps pages and headings but drops tables and charts
    (the floor the build benchmark compares against)."""
    serving = serving_data.load(data.store)
    pages = [home(data, serving, empty=empty)]
    pages += [report(data, m, empty=empty) for m in data.models]
    pages += serving_pages.build(serving, empty=empty)
    pages += [efficiency(data, empty=empty), methodology(data, serving, empty=empty), data_page(data, empty=empty)]
    return pages


NAV_GROUPS = (("reports/", "Static-batch reports"), ("serving/", "Serving reports"))


def nav(pages: list[Page]) -> list:
    """MkDocs nav: Home, the static-batch reports (one per model), the serving reports, then the other pages."""
    entries: list = []
    groups: dict[str, list] = {prefix: [] for prefix, _ in NAV_GROUPS}
    for p in pages:
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


def provenance(runs: list, max_links: int = 12) -> list[dict]:
    """Where a set of runs came from: one entry per kind of source and publication date, with the runs'
    source URLs (numbered links; at most ``max_links``, the rest counted)."""
    seen: dict[tuple, dict] = {}
    for r in runs:
        key = (str(r.source), str(r.published_at or ""))
        entry = seen.setdefault(key, {"source": r.source, "words": SOURCE_WORDS.get(str(r.source), r.source),
                                      "published": r.published_at, "runs": 0, "urls": [], "measured": set()})
        entry["runs"] += 1
        url = r.source_url
        if url and url not in entry["urls"]:
            entry["urls"].append(url)
        if r.measured_at:
            entry["measured"].add(str(r.measured_at)[:10])
    out = list(seen.values())
    for e in out:
        e["measured"] = sorted(e["measured"])
        e["more"] = max(0, len(e["urls"]) - max_links)
        e["urls"] = e["urls"][:max_links]
    return out


def leader_dict(ld: an.Leader | None, unit: str, digits: int = 2) -> dict | None:
    if ld is None:
        return None
    return {"label": ld.series.label, "value": num(ld.value, digits), "unit": unit,
            "runner": ld.runner_up.label if ld.runner_up else None,
            "runner_value": num(ld.runner_value, digits) if ld.runner_up else None,
            "margin": pct(ld.margin_pct) if ld.margin_pct is not None else None}


def model_headline(model: ModelData) -> dict:
    h = an.headline(model)
    cheap = h.cheapest
    runner = h.runner_up_cost
    cheap_d = None
    if cheap:
        margin = None
        if runner and runner.tokens_per_usd:
            margin = pct((cheap.tokens_per_usd / runner.tokens_per_usd - 1) * 100)
        cheap_d = {"label": cheap.series.label, "usd_per_m": usd(cheap.usd_per_m_best, 3),
                   "tokens_per_usd": num(cheap.tokens_per_usd, 0), "batch": cheap.best_batch,
                   "tok_s": num(cheap.best_tok_per_s), "price": usd(cheap.price),
                   "runner": runner.series.label if runner else None,
                   "runner_usd_per_m": usd(runner.usd_per_m_best, 3) if runner else None,
                   "runner_tokens_per_usd": num(runner.tokens_per_usd, 0) if runner else None,
                   "margin": margin}
    peak = None
    peaks = [(r.best_tok_per_s, r) for r in an.cost_rows(model) if r.best_tok_per_s]
    if peaks:
        v, r = max(peaks, key=lambda p: (p[0], p[1].series.label))
        peak = {"label": r.series.label, "value": num(v), "batch": r.best_batch}
    return {
        "fastest_b1": leader_dict(h.fastest_b1, "tokens/s"),
        "largest_batch": h.largest_batch,
        "fastest_large": leader_dict(h.fastest_large, "tokens/s"),
        "cheapest": cheap_d,
        "peak": peak,
        "unpriced": [s.label for s in h.unpriced],
    }


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


# ---------------------------------------------------------------- report


@dataclass
class CommandGroup:
    server: str
    benchmark: str
    series: list[Series]


def command_groups(model: ModelData) -> list[CommandGroup]:
    groups: dict[tuple[str, str], CommandGroup] = {}
    for s in model.series:
        c = commands.commands(s.run)
        groups.setdefault((c.server, c.benchmark), CommandGroup(c.server, c.benchmark, [])).series.append(s)
    return list(groups.values())


def memory_rows(model: ModelData) -> tuple[list[dict], list[an.Weights]]:
    rows, weights = [], []
    for s in model.series:
        w = an.weights(model, s)
        weights.append(w)
        per_gpu = s.memory_per_gpu_gb
        total = per_gpu * s.gpu_count if per_gpu else None
        rows.append({
            "label": s.label, "count": s.gpu_count, "per_gpu": num(per_gpu, 0), "total": num(total, 0),
            "source": s.memory_source, "weights": num(w.gb, 1),
            "share": pct(w.gb / total * 100) if (w.gb and total) else "n/a",
            "left": num(total - w.gb, 1) if (w.gb and total) else "n/a",
            "fits": None if not (w.gb and total) else w.gb < total,
        })
    return rows, weights


def metric_caption(model: ModelData, metric: str, title: str, unit: str, better: str, who: str) -> str:
    runs = model.runs
    seq = _one({r.sequence_length for r in runs})
    steps = _one({(r.decode_length or 0) - 1 for r in runs if r.decode_length})
    nruns = _one({r.n_runs for r in runs})
    what = {
        "prefill_latency_ms": f"time of one prefill call that processes every prompt of the batch"
                              f"{f' ({seq}-token prompts)' if seq else ''} and returns its first token",
        "decode_token_latency_ms": "time of one decode step, which adds one token to every sequence of the batch",
        "prefill_throughput_tok_per_s": "prompt tokens processed per second in prefill (batch size x sequence "
                                        "length / prefill latency)",
        "decode_throughput_tok_per_s": f"new tokens per second over the whole batch (batch size x "
                                       f"{steps if steps else 'decode steps'} decode steps / decode time)",
    }[metric]
    avg = f"average of {nruns} runs" if nruns else "average over the runs"
    return f"{title} ({unit}) of {who} against batch size: {what}; {avg} per batch size. {better.capitalize()} is better."


SHORT_WHAT = {
    "prefill_latency_ms": "one prefill call for the whole batch",
    "decode_token_latency_ms": "one decode step (a token for every sequence)",
    "prefill_throughput_tok_per_s": "prompt tokens per second in prefill",
    "decode_throughput_tok_per_s": "new tokens per second over the batch",
}


def short_caption(s: Series, metric: str, title: str, unit: str, better: str) -> str:
    n = s.run.n_runs
    avg = f"average of {n} runs" if n else "average"
    return f"{title} of {s.label} ({unit}, {avg}) against batch size: {SHORT_WHAT[metric]}. {better.capitalize()} is better."


def _one(values: set):
    values = {v for v in values if v is not None}
    return next(iter(values)) if len(values) == 1 else None


def _setup_section(data: SiteData, s: Series, batches: list[int], empty: bool) -> dict:
    """One GPU setup's section of a report: its four charts and its table of values."""
    charts_ = []
    if not empty:
        for metric, title, unit, better in SCREEN_METRICS:
            spec = charts.line_chart([(s.label, b, s.value(metric, b)) for b in batches], title=title,
                                     unit=unit, colours=data.colour_scale([s.label]), height=170)
            charts_.append((spec, short_caption(s, metric, title, unit, better)))
    rows = []
    for b in batches:
        st = s.status(b)
        rows.append({"batch": b, "status": st,
                     "cells": [num(s.value(m, b)) if st == "ok" else st for m, *_ in SCREEN_METRICS]})
    return {"s": s, "charts": charts_, "rows": rows, "colour": data.colours[s.label],
            "price_per_gpu": usd(s.price / s.gpu_count, 3) if s.price is not None else None,
            "url": s.run.source_url, "shard": s.run.num_shard or s.gpu_count}


def report(data: SiteData, model: ModelData, *, empty: bool = False) -> Page:
    page = Page(report_path(model), model.name)
    r = Renderer(page, empty=empty)
    batches = model.batch_sizes()
    cost = an.cost_rows(model)
    mem_rows, weights = memory_rows(model)
    w0 = weights[0] if weights else an.weights(model)
    assumed = any(w.precision.assumed for w in weights)

    colours = data.colour_scale
    sections = [_setup_section(data, s, batches, empty) for s in model.series]

    comparison = []
    if not empty:
        labels = [s.label for s in model.series]
        for metric, title, unit, better in SCREEN_METRICS:
            pts = [(s.label, b, s.value(metric, b)) for s in model.series for b in batches]
            comparison.append((charts.line_chart(pts, title=title, unit=unit, colours=colours(labels)),
                               metric_caption(model, metric, title, unit, better, "every setup")))

    cost_view = _cost_view(cost, batches)
    scatter = None
    priced = [c for c in cost if c.rank is not None and c.series.value(an.DECODE, 1)]
    if priced and not empty:
        scatter = charts.cost_scatter(
            [(c.series.label, c.usd_per_m_best, c.series.value(an.DECODE, 1), c.best_batch) for c in priced],
            colours=colours([c.series.label for c in priced]))
    cost_line = None
    if not empty and any(c.rank is not None for c in cost):
        pts = [(c.series.label, b, an.usd_per_million(c.price, v)) for c in cost if c.rank is not None
               for b, v in c.tok_per_s.items() if v]
        cost_line = charts.line_chart(pts, title="$ per million output tokens", unit="$", fmt=",.3f",
                                      colours=colours(sorted({p[0] for p in pts})))

    engines = Counter((str(x.engine), x.engine_version, x.image, x.image_digest)
                      for x in (s.run for s in model.series))
    ctx = {
        "model": model, "sections": sections, "comparison": comparison, "cost": cost_view,
        "scatter": scatter, "cost_line": cost_line, "h": model_headline(model), "batches": batches,
        "groups": command_groups(model), "mem_rows": mem_rows, "w": w0, "assumed": assumed,
        "weights_vary": len({(w.gb, w.precision.label) for w in weights}) > 1,
        "engines": [{"engine": e, "version": v, "image": i, "digest": d, "n": n}
                    for (e, v, i, d), n in engines.items()],
        "sources": provenance(model.runs), "formulas": Counter(str(s.run.prefill_throughput_formula or "")
                                                               for s in model.series),
        "derived": [s.label for s in model.series if s.derived_prefill_tok],
        "earlier": sum(s.earlier_runs for s in model.series), "data": data,
        "metrics": SCREEN_METRICS, "params_text": _params_text(model),
    }
    return r.render("report.md.j2", **ctx)


def _params_text(model: ModelData) -> str | None:
    if not model.info:
        return None
    return f"{model.info.params / 1e9:,.1f} billion"


def _cost_view(rows: list[an.CostRow], batches: list[int]) -> dict:
    ranked = [r for r in rows if r.rank is not None]

    def best(values, lowest):
        vals = [v for v in values if v is not None]
        return (min(vals) if lowest else max(vals)) if vals else None

    best_tps = {b: best([r.tok_per_s.get(b) for r in rows], False) for b in batches}
    best_m = best([r.usd_per_m_best for r in ranked], True)
    best_m1 = best([r.usd_per_m_b1 for r in ranked], True)
    best_tpu = best([r.tokens_per_usd for r in ranked], False)
    best_tpu1 = best([r.tokens_per_usd_b1 for r in ranked], False)
    best_price = best([r.price for r in ranked], True)
    best_gpu_price = best([r.price_per_gpu for r in ranked], True)
    out = []
    for r in rows:
        s = r.series
        out.append({
            "rank": r.rank, "label": s.label, "gpus": s.gpu_count,
            "price": (usd(r.price), r.price is not None and r.price == best_price),
            "gpu_price": (usd(r.price_per_gpu, 3), r.price_per_gpu is not None and r.price_per_gpu == best_gpu_price),
            "tps": [(num(r.tok_per_s.get(b)) if r.tok_per_s.get(b) is not None else s.status(b),
                     r.tok_per_s.get(b) is not None and r.tok_per_s.get(b) == best_tps[b]) for b in batches],
            "best_batch": r.best_batch,
            "tokens_per_usd": (num(r.tokens_per_usd, 0), r.tokens_per_usd is not None and r.tokens_per_usd == best_tpu),
            "tokens_per_usd_b1": (num(r.tokens_per_usd_b1, 0),
                                  r.tokens_per_usd_b1 is not None and r.tokens_per_usd_b1 == best_tpu1),
            "m_best": (usd(r.usd_per_m_best, 3), r.usd_per_m_best is not None and r.usd_per_m_best == best_m),
            "m_b1": (usd(r.usd_per_m_b1, 3), r.usd_per_m_b1 is not None and r.usd_per_m_b1 == best_m1),
            "priced": r.price is not None,
        })
    return {"rows": out, "batches": batches, "unpriced": [r.series.label for r in rows if r.price is None]}


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
        models.append({"m": m, "rows": rows, "spec": spec, "best": best, "params": _params_text(m),
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
