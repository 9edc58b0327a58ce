"""The numbers the serving pages state: per-GPU throughput, interactivity, cost per token, the Pareto front, the
cheapest setup under a latency target, and what keeps two runs from being like for like.

Plain values in, plain values out; ``site_src.serving_pages`` formats them. Latencies use the median (p50) over
requests, which serving tools compute exactly; costs use the whole instance's price over its output throughput.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from site_src.analysis import usd_per_million
from site_src.serving_data import OUTPUT, Point, ServingModel, ServingSeries

# The limits the cost-at-target view starts from (the page states them; the reader moves them).
DEFAULT_TTFT_MS = 1000.0
DEFAULT_TPOT_MS = 50.0
# Token counts per request that differ by more than this share are not the same workload.
WORKLOAD_TOLERANCE = 0.05

_VERSION_HINT = re.compile(r"version hint: (.+?) key set")


def per_gpu(series: ServingSeries, point: Point) -> float | None:
    v = point.value(OUTPUT)
    return v / series.gpu_count if v is not None and series.gpu_count else None


def interactivity(point: Point) -> float | None:
    """Tokens per second one user sees while generating: 1000 / median TPOT."""
    tpot = point.value("tpot_ms", "median")
    return 1000 / tpot if tpot else None


def cost_per_million(series: ServingSeries, point: Point) -> float | None:
    """$ per million output tokens at this load: instance price / (output tok/s x 3600 / 1e6)."""
    v, price = point.value(OUTPUT), series.price
    return usd_per_million(price, v) if v and price is not None and price > 0 else None


def version_text(version: str | None, notes: str | None, tool: str | None) -> str:
    """A recorded version, else what the result file's keys hint at (importers note it), else "not recorded"."""
    if version:
        return version
    hint = _VERSION_HINT.search(notes or "") if tool else None
    return f"version not recorded (output keys of {hint.group(1)})" if hint else "version not recorded"


def engine_text(series: ServingSeries) -> str:
    """The engine and its version: 'SGLang 0.5.14', 'vLLM version not recorded (output keys of 0.8.x)'."""
    run = series.run
    return f"{series.engine_label} {version_text(run.engine_version, run.notes, run.benchmark_tool)}"


def tool_text(series: ServingSeries) -> str:
    """The benchmark client, with its version when it is recorded and differs from the engine's."""
    run = series.run
    tool = run.benchmark_tool or "a benchmark tool not recorded"
    if run.benchmark_tool_version and run.benchmark_tool_version != run.engine_version:
        return f"{tool} {run.benchmark_tool_version}"
    return tool


# ---------------------------------------------------------------- Pareto front


@dataclass(frozen=True)
class FrontPoint:
    series: ServingSeries
    point: Point
    interactivity: float
    per_gpu: float


def frontier_candidates(model: ServingModel) -> list[FrontPoint]:
    out = []
    for s in model.series:
        for p in s.ok_points:
            x, y = interactivity(p), per_gpu(s, p)
            if x is not None and y is not None:
                out.append(FrontPoint(s, p, x, y))
    return out


def pareto_front(points: list[FrontPoint]) -> list[FrontPoint]:
    """The points no other point beats on both interactivity and throughput per GPU, by interactivity."""
    ordered = sorted(points, key=lambda f: (-f.interactivity, -f.per_gpu))
    front, best = [], float("-inf")
    for f in ordered:  # from the most interactive down: keep each point that adds throughput
        if f.per_gpu > best:
            front.append(f)
            best = f.per_gpu
    return sorted(front, key=lambda f: f.interactivity)


# ---------------------------------------------------------------- cost at a latency target


@dataclass(frozen=True)
class TargetHit:
    series: ServingSeries
    point: Point
    cost: float


def meets(point: Point, ttft_ms: float, tpot_ms: float) -> bool | None:
    """Median TTFT and TPOT within the limits; None when either is unknown."""
    ttft, tpot = point.value("ttft_ms", "median"), point.value("tpot_ms", "median")
    if ttft is None or tpot is None:
        return None
    return ttft <= ttft_ms and tpot <= tpot_ms


def cheapest_meeting(model: ServingModel, ttft_ms: float = DEFAULT_TTFT_MS,
                     tpot_ms: float = DEFAULT_TPOT_MS) -> list[TargetHit]:
    """Every priced point that meets the limits, cheapest first (ties: the series label, then concurrency)."""
    hits = []
    for s in model.series:
        for p in s.ok_points:
            cost = cost_per_million(s, p)
            if cost is not None and meets(p, ttft_ms, tpot_ms):
                hits.append(TargetHit(s, p, cost))
    return sorted(hits, key=lambda h: (h.cost, h.series.label, h.point.concurrency or 0))


# ---------------------------------------------------------------- like for like


def engine_pairs(model: ServingModel) -> list[tuple[str, list[ServingSeries]]]:
    """GPU setups that ran more than one engine, with their series in engine order."""
    by_setup: dict[str, list[ServingSeries]] = {}
    for s in model.series:
        by_setup.setdefault(s.setup, []).append(s)
    return [(setup, group) for setup, group in by_setup.items() if len(group) > 1]


def _tokens_text(series: ServingSeries, point: Point, metric: str) -> str:
    total, done = point.value(metric), point.value("completed_requests")
    return f"{series.engine_label} {total:,.0f}/{done:,.0f} = {total / done:,.1f}"


def _token_difference(a: ServingSeries, b: ServingSeries, metric: str, what: str) -> str | None:
    """Measured tokens per request that differ by more than the tolerance at a shared load level, with figures."""
    parts = []
    for pa in a.ok_points:
        pb = b.point(pa.concurrency)
        if pb is None or not pb.ok:
            continue
        va, vb = pa.per_request(metric), pb.per_request(metric)
        if va is None or vb is None:
            continue
        if abs(va - vb) > WORKLOAD_TOLERANCE * max(va, vb):
            parts.append(f"concurrency {pa.concurrency}: {_tokens_text(a, pa, metric)}, "
                         f"{_tokens_text(b, pb, metric)}")
    if not parts:
        return None
    return f"{what} per request differ (measured {metric.replace('_', ' ')} / completed requests): " + "; ".join(parts)


def _setting(series: ServingSeries, name: str) -> object:
    values = {getattr(p.run, name) for p in series.points}
    return values.pop() if len(values) == 1 else None


def _fmt(v: object) -> str:
    if v is None:
        return "not recorded"
    if isinstance(v, bool):
        return "on" if v else "off"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _ignore_eos_difference(a: ServingSeries, b: ServingSeries) -> str | None:
    ea, eb = _setting(a, "ignore_eos"), _setting(b, "ignore_eos")
    if ea is True and eb is True:
        return None
    return (f"ignore-EOS is off or not recorded on one side: {a.engine_label} {_fmt(ea)}, {b.engine_label} {_fmt(eb)}; "
            "with it off, requests stop at the end-of-sequence token and produce fewer tokens than asked")


def _same_setting(a: ServingSeries, b: ServingSeries, name: str, what: str) -> str | None:
    va, vb = _setting(a, name), _setting(b, name)
    if va == vb and va is not None:
        return None
    if va is None and vb is None and name != "range_ratio":
        return None  # both unknown: nothing to compare (range ratio is flagged anyway: its meaning differs)
    return f"{what}: {a.engine_label} {_fmt(va)}, {b.engine_label} {_fmt(vb)}"


def workload_differences(a: ServingSeries, b: ServingSeries) -> list[str]:
    """Why two series on one GPU setup did not run the same workload, each reason with its figures."""
    out = [
        _token_difference(a, b, "input_tokens", "Input tokens"),
        _token_difference(a, b, "output_tokens", "Output tokens"),
        _same_setting(a, b, "input_len", "Input tokens asked per request"),
        _same_setting(a, b, "output_len", "Output tokens asked per request"),
        _range_ratio_difference(a, b),
        _ignore_eos_difference(a, b),
        _same_setting(a, b, "dataset", "Dataset"),
    ]
    ea, eb = engine_text(a), engine_text(b)
    if tool_text(a) != tool_text(b) or "not recorded" in ea + eb:
        out.append(f"Benchmark clients and versions: {ea} measured with {tool_text(a)}; {eb} measured with "
                   f"{tool_text(b)}; each client counts tokens and times requests its own way")
    return [x for x in out if x]


def _range_ratio_difference(a: ServingSeries, b: ServingSeries) -> str | None:
    ra, rb = _setting(a, "range_ratio"), _setting(b, "range_ratio")
    same_tool = a.run.benchmark_tool == b.run.benchmark_tool and a.run.benchmark_tool_version == \
        b.run.benchmark_tool_version
    if ra == rb and ra is not None and same_tool:
        return None
    return (f"Random range ratio: {a.engine_label} {_fmt(ra)}, {b.engine_label} {_fmt(rb)}; the same number means "
            "different length ranges in different tools and versions (see Methodology)")


def version_spread(model: ServingModel) -> list[str]:
    """Engines that ran different versions (or result key sets) on different GPU setups of this model."""
    out = []
    by_engine: dict[str, dict[str, list[str]]] = {}
    for s in model.series:
        by_engine.setdefault(s.engine_label, {}).setdefault(engine_text(s), []).append(s.setup)
    for engine, versions in by_engine.items():
        if len(versions) > 1:
            listed = "; ".join(f"{v.removeprefix(engine + ' ')} on {', '.join(setups)}"
                               for v, setups in versions.items())
            out.append(f"{engine} ran different versions on different GPU setups: {listed}")
    return out
