"""The one table every chart of a serving report reads: a row per run with numbers, a column per value the charts
draw (each chart picks its column). Values are the same numbers as the report's tables (``serving_rows``), rounded
only to keep the page small.
"""

from __future__ import annotations

from site_src import serving_analysis as sa
from site_src.charts import clean_value
from site_src.serving_data import OUTPUT, Point, ServingModel, ServingSeries
from site_src.serving_rows import flags_text

# column -> (metric, stat) of a point
LATENCY_COLUMNS = {"ttft": ("ttft_ms", "median"), "ttft_p99": ("ttft_ms", "p99"), "tpot": ("tpot_ms", "median"),
                   "tpot_p99": ("tpot_ms", "p99")}


def gpu_keys(model: ServingModel) -> list[str]:
    """The GPU setups of a model in page order: the cost-at-target chart has a price slider for each."""
    return list(dict.fromkeys(s.setup for s in model.series))


def _row(s: ServingSeries, p: Point, setups: list[str], on_front: set[int]) -> dict:
    row = {"series": s.label, "engine": s.engine_label, "concurrency": p.concurrency, "level": f"c{p.concurrency}",
           "validity": "flagged" if p.flags else "no flags", "flagged": bool(p.flags), "flags": flags_text(p.run),
           "notes": p.run.validity_notes or "", "gpu_key": setups.index(s.setup), "gpu_count": s.gpu_count,
           "tok_s": clean_value(p.value(OUTPUT)), "per_gpu": clean_value(sa.per_gpu(s, p)),
           "interactivity": clean_value(sa.interactivity(p)), "usd_per_m": clean_value(sa.cost_per_million(s, p)),
           "front": "yes" if id(p) in on_front else "no"}
    row.update({col: clean_value(p.value(metric, stat)) for col, (metric, stat) in LATENCY_COLUMNS.items()})
    return row


def chart_points(model: ServingModel) -> list[dict]:
    """Every point with numbers, with the values its charts draw (None: not reported, left out of the chart)."""
    front = {id(f.point) for f in sa.pareto_front(sa.frontier_candidates(model))}
    setups = gpu_keys(model)
    return [_row(s, p, setups, front) for s in model.series for p in s.ok_points]


def front_line(model: ServingModel) -> list[dict]:
    """The Pareto front's points, for the band drawn under the series."""
    return [{"interactivity": clean_value(f.interactivity), "per_gpu": clean_value(f.per_gpu)}
            for f in sa.pareto_front(sa.frontier_candidates(model))]
