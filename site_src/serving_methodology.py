"""The counts the Methodology page states about the serving runs in data/: how many ran with ignore-EOS off, what
the range ratio did to the prompts, how small the samples at concurrency 1 are, how far the observed concurrency
strays from the cap. Each is computed from data/, so the page never states a number the data does not hold.
"""

from __future__ import annotations

from collections import Counter

from collector.data.records import Run
from site_src import serving_analysis as sa
from site_src.render import num
from site_src.serving_data import ServingData


def _value(data: ServingData, run: Run, metric: str) -> float | None:
    return data.values.get(run.run_id, {}).get((metric, "value"))


def _per_request(data: ServingData, run: Run, metric: str) -> float | None:
    total, done = _value(data, run, metric), _value(data, run, "completed_requests")
    return total / done if total is not None and done else None


def _eos(runs: list[Run]) -> list[dict]:
    """Per tool: runs with ignore-EOS on, off and not recorded."""
    out: dict[str, Counter] = {}
    for r in runs:
        word = {True: "on", False: "off"}.get(r.ignore_eos, "not recorded")
        out.setdefault(str(r.benchmark_tool or "tool not recorded"), Counter())[word] += 1
    return [{"tool": tool, "on": c["on"], "off": c["off"], "unknown": c["not recorded"]} for tool, c in sorted(out.items())]


def _short_outputs(data: ServingData, runs: list[Run]) -> dict:
    """Runs flagged output_short, and the smallest share of the asked output tokens any run produced."""
    shares = []
    for r in runs:
        done, out = _value(data, r, "completed_requests"), _value(data, r, "output_tokens")
        if r.output_len and done and out is not None:
            shares.append(out / (r.output_len * done) * 100)
    flagged = sum(1 for r in runs if "output_short" in r.validity_flags)
    return {"flagged": flagged, "lowest": num(min(shares), 1) if shares else None}


def _range_ratios(data: ServingData, runs: list[Run]) -> list[dict]:
    """Per tool, version and range ratio: the runs, the input tokens asked and the input tokens measured."""
    groups: dict[tuple, list[Run]] = {}
    for r in runs:
        version = sa.version_text(r.benchmark_tool_version, r.notes, r.benchmark_tool)
        key = (str(r.benchmark_tool or "not recorded"), version, r.range_ratio, r.input_len)
        groups.setdefault(key, []).append(r)
    out = []
    for (tool, version, ratio, asked), group in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        measured = [v for v in (_per_request(data, r, "input_tokens") for r in group) if v is not None]
        out.append({"tool": tool, "version": version, "ratio": "n/a" if ratio is None else f"{ratio:g}",
                    "asked": asked if asked is not None else "n/a", "runs": len(group),
                    "measured": (f"{min(measured):,.1f} to {max(measured):,.1f}" if len(set(measured)) > 1
                                 else num(measured[0], 1)) if measured else "n/a"})
    return out


def _concurrency(data: ServingData, runs: list[Run]) -> dict:
    """Observed concurrency against the cap: peaks above it (1-second buckets) and the time average below it."""
    peaks = [(r, _value(data, r, "max_concurrency_observed")) for r in runs if r.max_concurrency]
    peaks = [(r, v) for r, v in peaks if v is not None]
    highest: dict[int, float] = {}
    for r, v in peaks:
        if v > r.max_concurrency:
            highest[r.max_concurrency] = max(v, highest.get(r.max_concurrency, 0))
    means = [(r, _value(data, r, "concurrency_mean")) for r in runs if r.max_concurrency]
    means = [(r, v) for r, v in means if v is not None]
    top = max((r.max_concurrency for r, _ in means), default=None)
    at_top = [v / top * 100 for r, v in means if r.max_concurrency == top]
    return {"with_peak": len(peaks), "above": sum(1 for r, v in peaks if v > r.max_concurrency),
            "highest": [{"cap": cap, "peak": num(v, 0)} for cap, v in sorted(highest.items())],
            "mean_top": top, "mean_share": f"{min(at_top):.0f}% to {max(at_top):.0f}%" if at_top else None,
            "with_mean": len(means)}


def facts(data: ServingData) -> dict | None:
    """Everything the serving section of the Methodology page counts; None without serving runs."""
    runs = data.runs
    if not runs:
        return None
    ok = [r for r in runs if r.status == "ok"]
    c1 = [r for r in ok if r.max_concurrency == 1]
    c1_requests = Counter(int(v) for v in (_value(data, r, "completed_requests") for r in c1) if v is not None)
    return {
        "runs": len(runs), "ok": len(ok), "failed": len(runs) - len(ok),
        "tools": sorted(Counter(str(r.benchmark_tool or "not recorded") for r in runs).items()),
        "eos": _eos(ok), "short": _short_outputs(data, ok), "ranges": _range_ratios(data, ok),
        "c1": len(c1), "c1_requests": sorted(c1_requests.items()),
        "concurrency": _concurrency(data, ok),
        "ttft": num(sa.DEFAULT_TTFT_MS, 0), "tpot": num(sa.DEFAULT_TPOT_MS, 0),
    }
