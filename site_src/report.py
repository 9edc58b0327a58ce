"""The static-batch report of one model: results per setup, the comparison, cost, every run and the history of
setups that ran more than once.

Every chart of the page reads one table (``chart_table``: a row per setup and batch size, a column per metric and
the cost), and a metric has one scale (log or linear) on all of them, chosen from all its values.
"""

from __future__ import annotations

import posixpath
from collections import Counter

from site_src import analysis as an
from site_src import charts, history, run_pages
from site_src import model_info as mi
from site_src.dataset import SCREEN_METRICS, ModelData, Series, SiteData
from site_src.prices import price_sources, priced_view
from site_src.render import Page, Renderer, num, usd
from site_src.report_parts import command_groups, memory_rows, metric_caption, model_headline, short_caption
from site_src.sources import provenance

COST = "usd_per_m"  # the chart table's cost column: $ per million output tokens at each batch size
# The chart table's columns are short (it holds a row per setup and batch size, thousands at most); the CSV
# downloads name them in full.
COLUMNS = {"prefill_latency_ms": "pl", "decode_token_latency_ms": "dl", "prefill_throughput_tok_per_s": "pt",
           "decode_throughput_tok_per_s": "dt", COST: "c"}


def report_path(model: ModelData) -> str:
    return f"reports/{model.slug}.md"


def chart_table(model: ModelData) -> list[dict]:
    """The page's one chart dataset: per setup and batch size, the averages of the four screen metrics and the cost
    per million output tokens (priced setups only). Missing values are left out of the row."""
    rows = []
    for s in model.series:
        for b in model.batch_sizes():
            row = {"setup": s.label, "batch": b}
            for metric, *_ in SCREEN_METRICS:
                v = charts.clean_value(s.value(metric, b))
                if v is not None:
                    row[COLUMNS[metric]] = v
            tps = s.value(an.DECODE, b)
            if s.price and tps:
                row[COLUMNS[COST]] = charts.clean_value(an.usd_per_million(s.price, tps))
            rows.append(row)
    return rows


def scales(table: list[dict]) -> dict[str, bool]:
    """Per metric (and the cost): a log scale or not, the same on every chart of the page."""
    return {m: charts.needs_log([r.get(c) for r in table]) for m, c in COLUMNS.items()}


def _setup(data: SiteData, model: ModelData, s: Series) -> dict:
    """One setup (a version or precision of a GPU setup): its price and provenance, and its table of values."""
    rows = []
    for b in model.batch_sizes():
        st = s.status(b)
        rows.append({"batch": b, "status": st,
                     "cells": [num(s.value(m, b)) if st == "ok" else st for m, *_ in SCREEN_METRICS]})
    return {"s": s, "rows": rows, "colour": data.colours[s.label], "price": priced_view(s.priced, s.gpu_count),
            "url": s.run.source_url, "shard": s.run.num_shard or s.gpu_count,
            "run_href": run_pages.run_path(s.run.run_id)}


def section_title(key: tuple, engines: int) -> str:
    """A GPU setup's heading: '8x A30', with the engine when the model ran on several, and the precision."""
    gpu, count, engine, precision = key
    return f"{count}x {gpu}" + (f" · {mi.engine_name(engine)}" if engines > 1 else "") + \
        (f" · {precision}" if precision else "")


def _gpu_sections(data: SiteData, model: ModelData, setups: dict[str, dict], table: list[dict], logs: dict,
                  empty: bool) -> list[dict]:
    """One section per GPU setup: each of its setups (engine versions, precisions) with its price, the four
    charts with a line per setup, and how many runs its history holds."""
    by_key: dict[tuple, list[Series]] = {}
    for s in model.series:
        by_key.setdefault(history.group_key(s.run), []).append(s)
    runs = history.groups(model)
    engines = len({k[2] for k in by_key})
    out = []
    for key, series in by_key.items():
        labels = [s.label for s in series]
        title_ = section_title(key, engines)
        charts_ = []
        if not empty:
            for metric, title, unit, better in SCREEN_METRICS:
                spec = charts.line_chart(table, COLUMNS[metric], metric, title=title, unit=unit, log=logs[metric],
                                         colours=data.colour_scale(labels), height=170 if len(labels) == 1 else 220)
                charts_.append((spec, short_caption(series, metric, title, unit, better, title_)))
        mine = runs.get(key, [])
        out.append({"title": title_, "setups": [setups[lab] for lab in labels],
                    "charts": charts_, "runs": len(mine), "versions": sorted({str(r.engine_version or "")
                                                                              for r in mine}),
                    "anchor": history.group_label(key)})
    return out


def _comparison(data: SiteData, model: ModelData, table: list[dict], logs: dict) -> list[tuple[dict, str]]:
    out = []
    for metric, title, unit, better in SCREEN_METRICS:
        labels = [s.label for s in model.series if any(s.value(metric, b) is not None for b in s.batch_sizes)]
        spec = charts.line_chart(table, COLUMNS[metric], metric, title=title, unit=unit, log=logs[metric],
                                 colours=data.colour_scale(labels))
        out.append((spec, metric_caption(model, metric, title, unit, better, "every setup")))
    return out


def _cost_charts(data: SiteData, cost: list[an.CostRow], table: list[dict], logs: dict) -> tuple:
    ranked = [c for c in cost if c.rank is not None]
    fast = [c for c in ranked if c.series.value(an.DECODE, 1)]
    scatter = charts.cost_scatter(
        [(c.series.label, c.usd_per_m_best, c.series.value(an.DECODE, 1), c.best_batch) for c in fast],
        colours=data.colour_scale([c.series.label for c in fast])) if fast else None
    line = charts.line_chart(table, COLUMNS[COST], "usd_per_million_output_tokens", title="$ per million output tokens",
                             unit="$", fmt=",.3f", log=logs[COST],
                             colours=data.colour_scale([c.series.label for c in ranked])) if ranked else None
    return scatter, line


def report(data: SiteData, model: ModelData, *, empty: bool = False) -> list[Page]:
    """The report, and its page of every run with the setups' histories."""
    return [_report(data, model, empty), history.page(data, model, report_path(model), empty=empty)]


def _report(data: SiteData, model: ModelData, empty: bool) -> Page:
    r = Renderer(Page(report_path(model), model.name), empty=empty)
    table = chart_table(model)
    logs = scales(table)
    cost = an.cost_rows(model)
    mem_rows, weights = memory_rows(model)
    scatter, cost_line = (None, None) if empty else _cost_charts(data, cost, table, logs)
    engines = Counter((str(x.engine), x.engine_version, x.image, x.image_digest)
                      for x in (s.run for s in model.series))
    setups = {s.label: _setup(data, model, s) for s in model.series}
    path = report_path(model)
    ctx = {
        "model": model, "sections": list(setups.values()),
        "gpu_sections": _gpu_sections(data, model, setups, table, logs, empty),
        "runs_page": posixpath.relpath(history.runs_path(path), posixpath.dirname(path)),  # as a Markdown link
        "comparison": [] if empty else _comparison(data, model, table, logs), "cost": _cost_view(cost, model),
        "scatter": scatter, "cost_line": cost_line, "h": model_headline(model), "batches": model.batch_sizes(),
        "groups": command_groups(model), "mem_rows": mem_rows,
        "w": weights[0] if weights else an.weights(model), "assumed": any(w.precision.assumed for w in weights),
        "weights_vary": len({(w.gb, w.precision.label) for w in weights}) > 1,
        "engines": [{"engine": e, "version": v, "image": i, "digest": d, "n": n}
                    for (e, v, i, d), n in engines.items()],
        "sources": provenance(model.runs), "formulas": Counter(str(s.run.prefill_throughput_formula or "")
                                                               for s in model.series),
        "derived": [s.label for s in model.series if s.derived_prefill_tok],
        "earlier": sum(s.earlier_runs for s in model.series), "data": data,
        "metrics": SCREEN_METRICS, "params_text": params_text(model),
        "n_runs": len(model.runs),
    }
    return r.render("report.md.j2", **ctx)


def params_text(model: ModelData) -> str | None:
    if not model.info:
        return None
    return f"{model.info.params / 1e9:,.1f} billion"


def _best(values, lowest: bool):
    vals = [v for v in values if v is not None]
    return (min(vals) if lowest else max(vals)) if vals else None


def _cost_view(rows: list[an.CostRow], model: ModelData) -> dict:
    """The cost table: the $ per million tokens first (what the table is for), then tokens per dollar, the prices
    and the throughput per batch size; the best value of each column marked."""
    batches = model.batch_sizes()
    ranked = [r for r in rows if r.rank is not None]
    best = {name: _best([getattr(r, name) for r in (rows if name == "tok_per_s" else ranked)], low)
            for name, low in (("usd_per_m_best", True), ("usd_per_m_b1", True), ("tokens_per_usd", False),
                              ("tokens_per_usd_b1", False), ("price", True), ("price_per_gpu", True),
                              ("usd_per_m_today", True))}
    best_tps = {b: _best([r.tok_per_s.get(b) for r in rows], False) for b in batches}

    def cell(r: an.CostRow, name: str, fmt) -> tuple[str, bool]:
        v = getattr(r, name)
        return fmt(v), v is not None and v == best[name]

    out = []
    for r in rows:
        s = r.series
        out.append({
            "rank": r.rank, "label": s.label, "priced": r.price is not None, "best_batch": r.best_batch,
            "m_best": cell(r, "usd_per_m_best", lambda v: usd(v, 3)), "m_b1": cell(r, "usd_per_m_b1",
                                                                                   lambda v: usd(v, 3)),
            "m_today": cell(r, "usd_per_m_today", lambda v: usd(v, 3)),
            "tokens_per_usd": cell(r, "tokens_per_usd", lambda v: num(v, 0)),
            "tokens_per_usd_b1": cell(r, "tokens_per_usd_b1", lambda v: num(v, 0)),
            "price": cell(r, "price", usd), "gpu_price": cell(r, "price_per_gpu", lambda v: usd(v, 3)),
            "tps": [(num(r.tok_per_s.get(b)) if r.tok_per_s.get(b) is not None else s.status(b),
                     r.tok_per_s.get(b) is not None and r.tok_per_s.get(b) == best_tps[b]) for b in batches],
        })
    priced = [(s.label, s.priced) for s in model.series]
    return {"rows": out, "batches": batches, "unpriced": [r.series.label for r in rows if r.price is None],
            "today": any(r.usd_per_m_today is not None for r in rows),
            "prices": price_sources(priced), "newer": price_sources(priced, "today")}
