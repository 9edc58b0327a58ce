"""The pieces of a static-batch report that are tables and sentences: the headline figures with the workload they
hold at, the commands that reproduce the runs, the memory a model needs, and the charts' captions.
"""

from __future__ import annotations

from dataclasses import dataclass

from site_src import analysis as an
from site_src import commands
from site_src.dataset import ModelData, Series
from site_src.render import num, pct, usd


def leader_dict(ld: an.Leader | None, unit: str, digits: int = 2) -> dict | None:
    if ld is None:
        return None
    return {"label": ld.series.label, "value": num(ld.value, digits), "unit": unit,
            "runner": ld.runner_up.label if ld.runner_up else None,
            "runner_value": num(ld.runner_value, digits) if ld.runner_up else None,
            "margin": pct(ld.margin_pct) if ld.margin_pct is not None else None}


def workload_text(model: ModelData, s: Series, batch: int | None) -> str:
    """At which batch size and workload a static-batch figure holds: 'batch 32 (the largest tested), 10-token
    prompts, 8 new tokens per sequence'."""
    if batch is None:
        return "n/a"
    largest = max(model.batch_sizes(), default=None)
    run = s.run
    parts = [f"batch {batch}" + (" (the largest tested)" if batch == largest and largest != 1 else "")]
    if run.sequence_length:
        parts.append(f"{run.sequence_length}-token prompts")
    if run.decode_length:
        parts.append(f"{run.decode_length} new tokens per sequence")
    return ", ".join(parts)


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
                   "workload": workload_text(model, cheap.series, cheap.best_batch),
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


def short_caption(series: list[Series], metric: str, title: str, unit: str, better: str, group: str = "") -> str:
    """The caption of a GPU setup's chart: of its one setup, or of the GPU setup with a line per version."""
    n = _one({s.run.n_runs for s in series})
    avg = f"average of {n} runs" if n else "average"
    who = series[0].label if len(series) == 1 else f"{group}, a line per setup,"
    return (f"{title} of {who} ({unit}, {avg}) against batch size: {SHORT_WHAT[metric]}. "
            f"{better.capitalize()} is better.")


def _one(values: set):
    values = {v for v in values if v is not None}
    return next(iter(values)) if len(values) == 1 else None
