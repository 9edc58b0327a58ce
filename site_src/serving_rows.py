"""Rows of the serving pages' tables and charts: formatted strings for the HTML tables, plain numbers for the chart
specs, both from the same values so that a table holds the numbers its chart draws.

Unknown values are "n/a", failed runs "failed" with their reason; neither is ever a zero.
"""

from __future__ import annotations

import re
from collections import Counter

from collector.data.records import Run
from site_src import serving_analysis as sa
from site_src.prices import price_sources, priced_view
from site_src.render import num, usd
from site_src.serving_data import OUTPUT, Point, ServingModel, ServingSeries

STAT_WORDS = {"median": "median (p50)", "p99": "99th percentile", "mean": "mean", "value": "value"}
FLAG_WORDS = {
    "output_short": "output short", "failed_requests": "failed requests",
    "concurrency_not_reached": "concurrency not reached", "no_steady_state": "no steady state",
    "no_results": "no results", "failed_batches": "failed batches",
}
_REPO = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)")


def flags_text(run: Run) -> str:
    return ", ".join(FLAG_WORDS.get(f, f) for f in run.validity_flags) or "none"


def validity(run: Run) -> dict:
    """The flags of a run with their figures, for a table cell."""
    return {"flags": flags_text(run), "notes": run.validity_notes or "", "flagged": bool(run.validity_flags),
            "failed": run.status == "failed", "reason": run.failure_reason or ""}


def _fmt_flag(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return "all at once" if v == float("inf") else f"{v:g}"
    return str(v)


# ---------------------------------------------------------------- summary (the write-ups' table)


def _summary_row(s: ServingSeries, top: int | None) -> dict:
    p = s.point(top)
    version = sa.version_text(s.run.engine_version, s.run.notes, s.run.benchmark_tool)
    row = {"series": s, "engine": s.engine_label,
           "version": version if version.startswith("version") else f"version {version}",
           "setup": s.setup, "price": usd(s.price), "colour": s.colour, "cost_value": None}
    if p is None or not p.ok:
        word = "not run" if p is None else "failed"
        row.update(tok_s=word, ttft=word, tpot=word, cost=word, validity=validity(p.run) if p else None,
                   values=(None, None, None, None))
        return row
    cost = sa.cost_per_million(s, p)
    values = (p.value(OUTPUT), p.value("ttft_ms", "median"), p.value("tpot_ms", "median"), cost)
    row.update(tok_s=num(values[0], 1), ttft=num(values[1], 1), tpot=num(values[2], 1), cost=usd(cost),
               validity=validity(p.run), values=values, cost_value=cost)
    return row


def summary(model: ServingModel, top: int | None) -> dict:
    """One row per series at the highest concurrency, cheapest first; the best value of each column marked."""
    out = [_summary_row(s, top) for s in model.series]
    out.sort(key=lambda r: (r["cost_value"] is None, r["cost_value"] or 0, r["series"].label))
    best = []
    for i, higher in enumerate((True, False, False, False)):
        vals = [r["values"][i] for r in out if r["values"][i] is not None]
        best.append((max(vals) if higher else min(vals)) if vals else None)
    for r in out:
        r["best"] = [v is not None and v == b for v, b in zip(r["values"], best, strict=True)]
    warned = {s.label for _, group in sa.engine_pairs(model) for s in group
              if any(sa.workload_differences(group[0], other) for other in group[1:])}
    for r in out:
        r["unlike"] = r["series"].label in warned
    return {"rows": out, "top": top}


# ---------------------------------------------------------------- sources and workload


def repositories(runs: list[Run]) -> list[dict]:
    """The GitHub repositories the runs' source URLs point into, with how many runs each."""
    counts: Counter = Counter()
    for r in runs:
        m = _REPO.match(str(r.source_url or ""))
        if m:
            counts[(m.group(1), m.group(2))] += 1
    return [{"name": f"{owner}/{name}", "url": f"https://github.com/{owner}/{name}", "runs": n}
            for (owner, name), n in sorted(counts.items())]


def sources(model: ServingModel) -> dict:
    """Where each series' numbers and price come from."""
    series = []
    for s in model.series:
        run = s.run
        urls = list(dict.fromkeys(str(p.run.source_url) for p in s.points if p.run.source_url))
        series.append({
            "label": s.label, "colour": s.colour, "engine": sa.engine_text(s), "tool": sa.tool_text(s),
            "model_ids": sorted({str(p.run.model_id or "n/a") for p in s.points}),
            "measured": sorted({str(p.run.measured_at)[:16].replace("T", " ") for p in s.points if p.run.measured_at}),
            "urls": urls, "price": priced_view(s.priced, s.gpu_count), "source": run.source,
        })
    return {"series": series, "repos": repositories(model.runs),
            "prices": price_sources([(s.label, s.priced) for s in model.series]),
            "today": price_sources([(s.label, s.priced) for s in model.series], "today")}


def model_ids(model: ServingModel) -> list[dict]:
    """Each model id the runs recorded, with its runs and how many failed (mirrors of one model are listed)."""
    counts: dict[str, Counter] = {}
    for r in model.runs:
        counts.setdefault(str(r.model_id or "n/a"), Counter())[r.status] += 1
    return [{"id": i, "runs": sum(c.values()), "failed": c["failed"]}
            for i, c in sorted(counts.items(), key=lambda ic: (-ic[1]["ok"], ic[0]))]


def workload_summary(model: ServingModel) -> list[dict]:
    """The workload each series ran, as recorded (n/a where the tool's output did not say)."""
    out = []
    for s in model.series:
        def one(name: str, s=s) -> str:
            vals = {getattr(p.run, name) for p in s.points}
            return _fmt_flag(vals.pop()) if len(vals) == 1 else "varies"

        out.append({"label": s.label, "colour": s.colour, "dataset": one("dataset"), "input": one("input_len"),
                    "output": one("output_len"), "range": one("range_ratio"), "eos": one("ignore_eos"),
                    "rate": one("request_rate"), "seed": one("seed"),
                    "prompts": ", ".join(_fmt_flag(p.run.num_prompts) for p in s.points),
                    "levels": ", ".join(_fmt_flag(p.concurrency) for p in s.points)})
    return out


# ---------------------------------------------------------------- every value


def _point_row(s: ServingSeries, p: Point) -> dict:
    cells = [
        (p.value("completed_requests"), 0), (p.value(OUTPUT), 1), (sa.per_gpu(s, p), 1), (sa.interactivity(p), 1),
        (p.value("ttft_ms", "median"), 1), (p.value("ttft_ms", "p99"), 1), (p.value("tpot_ms", "median"), 1),
        (p.value("tpot_ms", "p99"), 1), (p.value("itl_ms", "median"), 1), (p.value("e2el_ms", "median"), 1),
    ]
    if not p.ok:
        return {"series": s, "level": _fmt_flag(p.concurrency), "cells": ["failed"] * (len(cells) + 1),
                "validity": validity(p.run)}
    return {"series": s, "level": _fmt_flag(p.concurrency), "validity": validity(p.run),
            "cells": [num(v, d) for v, d in cells] + [usd(sa.cost_per_million(s, p))]}


def points(model: ServingModel) -> list[dict]:
    return [_point_row(s, p) for s in model.series for p in s.points]


def failed(model: ServingModel) -> list[dict]:
    """Runs not shown on the charts: failed points of the series, and the runs of older sweeps."""
    out = []
    for s in model.series:
        shown = [p.run for p in s.points if not p.ok]
        earlier = sorted(s.earlier, key=lambda r: (str(r.measured_at or ""), r.max_concurrency or 0))
        for run in shown + earlier:
            out.append({"label": s.label, "colour": s.colour, "level": _fmt_flag(run.max_concurrency),
                        "model_id": run.model_id or "n/a", "measured": str(run.measured_at or "n/a")[:16].replace(
                            "T", " "), "status": run.status, "why": run.failure_reason or "",
                        "validity": validity(run), "earlier": run in s.earlier, "url": run.source_url})
    return out


# ---------------------------------------------------------------- Pareto front


def front_rows(model: ServingModel) -> list[dict]:
    """The Pareto front as a table, most interactive last (the chart's left to right)."""
    return [{"label": f.series.label, "colour": f.series.colour, "level": f.point.concurrency,
             "interactivity": num(f.interactivity, 1), "per_gpu": num(f.per_gpu, 1),
             "validity": validity(f.point.run)} for f in sa.pareto_front(sa.frontier_candidates(model))]


# ---------------------------------------------------------------- engine against engine


def engine_pairs(model: ServingModel) -> list[dict]:
    """Per GPU setup with several engines: the figures side by side, and why they may not be like for like."""
    out = []
    for setup, group in sa.engine_pairs(model):
        levels = sorted({p.concurrency for s in group for p in s.points if p.concurrency is not None})
        table = []
        for level in levels:
            cells = []
            for metric, stat in ((OUTPUT, "value"), ("ttft_ms", "median"), ("tpot_ms", "median")):
                for s in group:
                    p = s.point(level)
                    cells.append(num(p.value(metric, stat), 1) if p and p.ok else ("failed" if p else "not run"))
            table.append({"level": level, "cells": cells})
        warnings = [(other.engine_label, sa.workload_differences(group[0], other)) for other in group[1:]]
        out.append({"setup": setup, "engines": [s.engine_label for s in group], "rows": table,
                    "first": group[0].engine_label, "warnings": [w for w in warnings if w[1]]})
    return out


# ---------------------------------------------------------------- cost at a latency target


def target(model: ServingModel, setups: list[str]) -> dict:
    """The static table at the default limits and prices, and the price sliders of the chart (one per GPU setup,
    in ``setups`` order, starting at the $/GPU-hour prices.csv gives the setup)."""
    sliders = []
    for setup in setups:
        priced = [s for s in model.series if s.setup == setup and s.price is not None]
        sliders.append((setup, priced[0].price / priced[0].gpu_count if priced else None))
    table = []
    for s in model.series:
        for p in s.ok_points:
            ttft, tpot = p.value("ttft_ms", "median"), p.value("tpot_ms", "median")
            ok = sa.meets(p, sa.DEFAULT_TTFT_MS, sa.DEFAULT_TPOT_MS)
            table.append({"label": s.label, "colour": s.colour, "level": p.concurrency, "ttft": num(ttft, 1),
                          "tpot": num(tpot, 1), "tok_s": num(p.value(OUTPUT), 1), "price": usd(s.price),
                          "cost": usd(sa.cost_per_million(s, p)), "meets": {True: "yes", False: "no"}.get(ok, "n/a"),
                          "validity": validity(p.run)})
    hits = sa.cheapest_meeting(model)
    best = hits[0] if hits else None
    return {"table": table, "sliders": sliders,
            "prices": [{"setup": st, "per_gpu": usd(p, 3)} for st, p in sliders],
            "best": best and {"label": best.series.label, "level": best.point.concurrency, "cost": usd(best.cost),
                              "ttft": num(best.point.value("ttft_ms", "median"), 1),
                              "tpot": num(best.point.value("tpot_ms", "median"), 1)},
            "n_meeting": len(hits), "ttft": num(sa.DEFAULT_TTFT_MS, 0), "tpot": num(sa.DEFAULT_TPOT_MS, 0)}
