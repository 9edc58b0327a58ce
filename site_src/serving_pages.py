"""The serving view: an overview and one report per model, in the shape of the Massed Compute 2026 write-ups
(engine, GPU setup, price, output throughput at the highest concurrency, TTFT and TPOT medians, cost per token),
with the charts and checks people who compare GPUs and engines expect.

``build(serving, empty=...)`` renders the pages; ``home_cards`` feeds the home page. Row shaping for the tables is
in ``site_src.serving_rows``, chart specs in ``site_src.serving_charts`` and ``site_src.serving_target``.
"""

from __future__ import annotations

from markupsafe import Markup

from site_src import run_pages, serving_history
from site_src import serving_analysis as sa
from site_src import serving_charts as sc
from site_src import serving_points as points
from site_src import serving_rows as rows
from site_src.render import Page, Renderer, num, usd
from site_src.serving_data import OUTPUT, ServingData, ServingModel
from site_src.serving_target import target_chart

INDEX_PATH = "serving/index.md"
LATENCY_CHARTS = (  # (column of the points table, stat, title)
    ("ttft", "median", "TTFT p50"), ("ttft_p99", "p99", "TTFT p99"),
    ("tpot", "median", "TPOT p50"), ("tpot_p99", "p99", "TPOT p99"),
)


def serving_path(model: ServingModel) -> str:
    return f"serving/{model.slug}.md"


def build(data: ServingData, *, empty: bool = False) -> list[Page]:
    """The overview and every model's report; nothing when data/ holds no serving runs."""
    if not data.models:
        return []
    return [overview(data, empty=empty)] + [p for m in data.models for p in report(data, m, empty=empty)]


# ---------------------------------------------------------------- overview and home


def _headline(series, point, value: str) -> dict:
    return {"label": series.label, "value": value, "level": point.concurrency,
            "flags": rows.flags_text(point.run) if point.flags else None}


def model_card(model: ServingModel) -> dict:
    """A model's headline: fastest and cheapest at its highest concurrency, cheapest within the default limits."""
    top = model.top_concurrency()
    at_top = [(s, s.point(top)) for s in model.series]
    at_top = [(s, p) for s, p in at_top if p is not None and p.ok]
    fastest = max(at_top, key=lambda sp: (sp[1].value(OUTPUT), sp[0].label), default=None)
    priced = [(s, p, sa.cost_per_million(s, p)) for s, p in at_top]
    priced = [x for x in priced if x[2] is not None]
    cheapest = min(priced, key=lambda x: (x[2], x[0].label), default=None)
    hits = sa.cheapest_meeting(model)
    return {
        "model": model, "path": serving_path(model), "top": top, "runs": len(model.runs),
        "series": [s.label for s in model.series],
        "failed": sum(1 for r in model.runs if r.status == "failed"),
        "fastest": fastest and _headline(*fastest, num(fastest[1].value(OUTPUT), 1)),
        "cheapest": cheapest and _headline(cheapest[0], cheapest[1], usd(cheapest[2])),
        "target": hits and _headline(hits[0].series, hits[0].point, usd(hits[0].cost)),
        "ttft": num(sa.DEFAULT_TTFT_MS, 0), "tpot": num(sa.DEFAULT_TPOT_MS, 0),
    }


def home_cards(data: ServingData) -> list[dict]:
    return [model_card(m) for m in data.models]


def overview(data: ServingData, *, empty: bool = False) -> Page:
    runs = data.runs
    ctx = {
        "cards": home_cards(data), "n_runs": len(runs),
        "n_failed": sum(1 for r in runs if r.status == "failed"),
        "setups": sorted({s.setup for m in data.models for s in m.series}),
        "engines": sorted({s.engine_label for m in data.models for s in m.series}),
        "tools": sorted({str(r.benchmark_tool) for r in runs if r.benchmark_tool}),
        "levels": sorted({r.max_concurrency for r in runs if r.max_concurrency is not None}),
        "dates": sorted({str(r.measured_at)[:10] for r in runs if r.measured_at}),
        "ttft": num(sa.DEFAULT_TTFT_MS, 0), "tpot": num(sa.DEFAULT_TPOT_MS, 0),
        "sources": rows.repositories(runs),
    }
    return Renderer(Page(INDEX_PATH, "Overview"), empty=empty).render("serving_index.md.j2", **ctx)


# ---------------------------------------------------------------- one model


def runs_path(model: ServingModel) -> str:
    return f"serving/{model.slug}/runs.md"


def report(data: ServingData, model: ServingModel, *, empty: bool = False) -> list[Page]:
    """The model's serving report, and its page of every run."""
    runs = Renderer(Page(runs_path(model), f"{model.name}: every serving run"), empty=empty).render(
        "serving_runs.md.j2", model=model, report=Markup(f"../{model.slug}.md"),  # a slug: safe
        sections=serving_history.sections(data, model, empty=empty),
        runs=run_pages.list_rows(model.runs, {run.run_id: s.label for s in model.series
                                              for run in [p.run for p in s.points] + s.earlier}))
    return [_report(data, model, empty), runs]


def _report(data: ServingData, model: ServingModel, empty: bool) -> Page:
    r = Renderer(Page(serving_path(model), model.name), empty=empty)
    top = model.top_concurrency()
    ctx = {
        "model": model, "card": model_card(model), "top": top, "levels": model.concurrencies(),
        "ids": rows.model_ids(model),
        "workload": rows.workload_summary(model), "summary": rows.summary(model, top),
        "sources": rows.sources(model), "points": rows.points(model), "failed": rows.failed(model),
        "pairs": rows.engine_pairs(model), "spread": sa.version_spread(model),
        "front": rows.front_rows(model), "target": rows.target(model, points.gpu_keys(model)),
        "charts": {} if empty else charts(data, model), "runs_page": Markup(f"{model.slug}/runs.md"),
    }
    return r.render("serving.md.j2", **ctx)


def charts(data: ServingData, model: ServingModel) -> dict:
    """Every chart of a model's report, with its caption."""
    labels = [s.label for s in model.series]
    colours = data.colour_scale(labels)
    engines = sorted({s.engine_label for s in model.series})
    flagged = " Hollow diamonds mark runs with validity flags (the tooltip names them); failed runs are not drawn."

    table = points.chart_points(model)  # the one dataset of the page's charts

    def by_load(column: str, title: str, unit: str, caption: str, fmt: str = ",.1f"):
        spec = sc.by_load_chart(table, column, title=title, unit=unit, colours=colours, engines=engines, fmt=fmt)
        return spec, caption + flagged

    latency = [by_load(col, title, "ms", f"{title} in ms against max concurrency, per GPU setup and engine: "
                                         f"{rows.STAT_WORDS[st]} over the requests of each run. Lower is better.")
               for col, st, title in LATENCY_CHARTS]
    throughput = [
        by_load("tok_s", "Output throughput", "tokens/s",
                "Output tokens per second of the whole instance (total output tokens / benchmark duration) against "
                "max concurrency. Higher is better."),
        by_load("usd_per_m", "$ per million output tokens", "$",
                "Cost per million output tokens against max concurrency: instance price (prices.csv, at the run's "
                "date) / (output tokens/s x 3600 / 1,000,000). Lower is better; setups without a price are not "
                "drawn.", fmt="$,.2f"),
    ]
    frontier = sc.frontier_chart(table, points.front_line(model), colours=colours, engines=engines)
    target = rows.target(model, points.gpu_keys(model))
    return {
        "frontier": (frontier, "Output tokens/s per GPU (instance throughput / GPUs) against tokens/s each user sees "
                               "(1000 / median TPOT), one point per max concurrency (labelled c1, c8, ...), joined "
                               "per GPU setup and engine. Up is more throughput per GPU, right is faster for each "
                               "user; the wide grey band is the Pareto front, through the points no other point beats "
                               "on both." + flagged),
        "latency": latency, "throughput": throughput,
        "target": target_chart(table, series=labels, colours=colours, gpus=target["sliders"],
                               ttft=sa.DEFAULT_TTFT_MS, tpot=sa.DEFAULT_TPOT_MS),
    }
