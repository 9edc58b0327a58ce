"""A serving model's history (on ``serving/<model>/runs/``): per GPU setup and engine, across engine versions, every
sweep in a table (date, engine version, output throughput at each load level, validity), and for a setup swept more
than once a chart of output throughput against the sweep's date, one line per load level, each point labelled with
its engine version. The report shows each setup's newest sweep (per engine version); nothing is hidden here.

A change of workload between two sweeps (dataset, prompt or output length, ignore-EOS, benchmark tool) is annotated
where it happens: throughputs on either side of it are not like for like.
"""

from __future__ import annotations

from site_src import charts, history
from site_src import model_info as mi
from site_src.dataset import run_date
from site_src.run_pages import run_path
from site_src.serving_data import OUTPUT, ServingData, ServingModel, engine_name
from site_src.serving_rows import validity

# One blue per load level, darkest for the highest (the level the write-ups quote).
BLUES = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
GREY = history.GREY
WORKLOAD = (("benchmark_tool", "tool"), ("dataset", "dataset"), ("input_len", "input tokens"),
            ("output_len", "output tokens"), ("ignore_eos", "ignore EOS"))


def setup_key(run) -> tuple:
    """A GPU setup and engine across engine versions: GPU model and count, precision, engine."""
    return (run.gpu, run.gpu_count, run.quantize or "", run.engine or "")


def setup_label(key: tuple) -> str:
    gpu, count, quantize, engine = key
    return f"{count}x {gpu}" + (f" · {quantize}" if quantize else "") + f" · {engine_name(engine)}"


def _sweeps(runs: list) -> list[list]:
    """The runs of one setup by sweep (one server start), oldest sweep first, each sweep's runs by load level."""
    by_sweep: dict[str, list] = {}
    for run in runs:
        by_sweep.setdefault(run.sweep_id or run.run_id, []).append(run)
    sweeps = [sorted(s, key=lambda r: (r.max_concurrency is None, r.max_concurrency or 0)) for s in by_sweep.values()]
    return sorted(sweeps, key=lambda s: (min(run_date(r) for r in s), s[0].run_id))


def _changes(sweeps: list[list]) -> list[dict]:
    """Where the workload changes from one sweep to the next, each field compared with the last sweep that recorded
    it (a sweep that failed early may not know its workload)."""
    out, known = [], {}
    for sweep in sweeps:
        now = {name: getattr(sweep[0], name) for name, _ in WORKLOAD}
        changed = [f"{words} {known[name]} → {now[name]}" for name, words in WORKLOAD
                   if now[name] is not None and known.get(name) is not None and known[name] != now[name]]
        if changed:
            out.append({"date": run_date(sweep[0]), "text": "workload: " + ", ".join(changed)})
        known.update({k: v for k, v in now.items() if v is not None})
    return out


def _row(sweep: list, values: dict, levels: list[int]) -> dict:
    first = sweep[0]
    by_level = {r.max_concurrency: r for r in sweep}
    cells = []
    for level in levels:
        run = by_level.get(level)
        value = values.get(run.run_id, {}).get((OUTPUT, "value")) if run else None
        cells.append({"value": charts.clean_value(value), "failed": bool(run and run.status == "failed"),
                      "path": run_path(run.run_id) if run else None})
    # Load levels with the same flags and notes (a sweep whose server never started fails every level alike) share
    # one line.
    same: dict[tuple, dict] = {}
    for run in sweep:
        if run.validity_flags or run.status == "failed":
            v = validity(run)
            entry = same.setdefault(tuple(v.values()), v | {"levels": []})
            entry["levels"].append(f"c{run.max_concurrency}" if run.max_concurrency is not None else "c n/a")
    return {"date": run_date(first)[:16].replace("T", " ") or "n/a", "when": run_date(first),
            "version": mi.engine_version_text(first.engine, first.engine_version),
            "sweep": first.sweep_id or first.run_id, "path": run_path(first.run_id), "cells": cells,
            "validity": [v | {"levels": ", ".join(v["levels"])} for v in same.values()]}


def sections(data: ServingData, model: ServingModel, *, empty: bool = False) -> list[dict]:
    """One section per setup and engine: its sweeps (oldest first) as table rows, and a chart when it was swept more
    than once."""
    groups: dict[tuple, list] = {}
    for run in model.runs:
        groups.setdefault(setup_key(run), []).append(run)
    out, chart_rows, change_rows = [], [], []
    for key in sorted(groups, key=lambda k: (str(k[0]).lower(), k[1], k[2], k[3])):
        sweeps, label = _sweeps(groups[key]), setup_label(key)
        levels = sorted({r.max_concurrency for r in groups[key] if r.max_concurrency is not None})
        rows, changes = [_row(s, data.values, levels) for s in sweeps], _changes(sweeps)
        if sum(any(c["value"] is not None for c in r["cells"]) for r in rows) > 1:  # two sweeps with numbers
            for row in rows:
                chart_rows += [{"group": label, "date": row["when"], "version": row["version"], "run": row["sweep"],
                                "which": f"concurrency {level}", "value": cell["value"]}
                               for level, cell in zip(levels, row["cells"]) if cell["value"] is not None]
            change_rows += [{"group": label, **c} for c in changes]
        out.append({"label": label, "levels": levels, "rows": rows, "changes": changes, "chart": None})
    if not empty:
        shared = (chart_rows, change_rows)
        for section in out:
            if any(r["group"] == section["label"] for r in chart_rows):
                which = [f"concurrency {level}" for level in reversed(section["levels"])]  # the highest first
                values = [r["value"] for r in chart_rows if r["group"] == section["label"]]
                section["chart"] = history.chart(section["label"], which, _colours(len(which)), values, shared,
                                                 title="Output throughput across sweeps",
                                                 series="Output throughput", unit="output tokens/s")
    return out


def _colours(n: int) -> list[str]:
    return list(BLUES[:n]) + [GREY] * max(0, n - len(BLUES))
