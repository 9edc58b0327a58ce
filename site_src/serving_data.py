"""Serving runs (vllm bench serve, sglang.bench_serving) shaped for the site: per model, one series per GPU setup and
engine (its newest sweep), one point per load level (max concurrency).

Only ``benchmark_kind == "serving"`` runs are read here; the static-batch view is ``site_src.dataset``. Failed runs
stay in the series as points without numbers: the pages show them as failed, never as zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from collector.data import store
from collector.data.records import Run
from site_src import model_info as mi
from site_src.dataset import run_date

OUTPUT = "output_throughput_tok_per_s"
ENGINE_NAMES = {"vllm": "vLLM", "sglang": "SGLang", "tgi": "TGI"}
ENGINE_ORDER = ("vllm", "sglang", "tgi")

# Tableau's paired hues: a GPU setup keeps one hue, its engines take the dark and the light tone, so the two engines
# of one setup read as a pair on every chart. Both tones read on white and on Material's slate background.
PAIRS = (
    ("#4e79a7", "#a0cbe8"), ("#f28e2b", "#ffbe7d"), ("#59a14f", "#8cd17d"), ("#b6992d", "#f1ce63"),
    ("#499894", "#86bcb6"), ("#e15759", "#ff9d9a"), ("#79706e", "#bab0ac"), ("#d37295", "#fabfd2"),
    ("#b07aa1", "#d4a6c8"), ("#9d7660", "#d7b5a6"),
)


def engine_name(engine: str | None) -> str:
    return ENGINE_NAMES.get((engine or "").lower(), engine or "engine not recorded")


@dataclass(frozen=True)
class Point:
    """One run of a series: one load level. ``values`` maps (metric, stat) to the number (None: not reported)."""

    run: Run
    values: dict[tuple[str, str], float | None]

    @property
    def concurrency(self) -> int | None:
        return self.run.max_concurrency

    @property
    def ok(self) -> bool:
        """The run produced numbers: it did not fail and it reported an output throughput."""
        return self.run.status == "ok" and self.value(OUTPUT) is not None

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(self.run.validity_flags or ())

    def value(self, metric: str, stat: str = "value") -> float | None:
        v = self.values.get((metric, stat))
        if v is None and stat == "median":  # tools that print p50 but no median
            v = self.values.get((metric, "p50"))
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

    def per_request(self, metric: str) -> float | None:
        """A token total over the completed requests (what each request really carried)."""
        total, done = self.value(metric), self.value("completed_requests")
        return total / done if total is not None and done else None


@dataclass
class ServingSeries:
    """One GPU setup and engine of one model: the points of its newest sweep, and the runs of older sweeps."""

    setup: str  # "2x H100"
    engine: str  # as recorded: "vllm"
    gpu: str
    gpu_count: int
    points: list[Point]  # by concurrency
    earlier: list[Run] = field(default_factory=list)
    colour: str = "#888888"

    @property
    def label(self) -> str:
        return f"{self.setup} · {engine_name(self.engine)}"

    @property
    def engine_label(self) -> str:
        return engine_name(self.engine)

    @property
    def price(self) -> float | None:
        return next((p.run.price_usd_per_hr for p in self.points if p.run.price_usd_per_hr is not None), None)

    @property
    def run(self) -> Run:
        """The run that speaks for the series' provenance: its first point with numbers, else its first."""
        return next((p.run for p in self.points if p.ok), self.points[0].run)

    def point(self, concurrency: int | None) -> Point | None:
        return next((p for p in self.points if p.concurrency == concurrency), None)

    @property
    def ok_points(self) -> list[Point]:
        return [p for p in self.points if p.ok]


@dataclass
class ServingModel:
    model_id: str  # the repository whose weights ran (mirrors folded in: model_info.canonical_id)
    ids: list[str]  # every model id its runs recorded
    slug: str
    name: str
    series: list[ServingSeries]
    runs: list[Run]  # every serving run of the model, newest first

    def concurrencies(self) -> list[int]:
        return sorted({p.concurrency for s in self.series for p in s.points if p.concurrency is not None})

    def top_concurrency(self) -> int | None:
        """The highest load level with numbers on any series (the write-ups' headline level)."""
        levels = [p.concurrency for s in self.series for p in s.ok_points if p.concurrency is not None]
        return max(levels) if levels else None


@dataclass
class ServingData:
    models: list[ServingModel]
    colours: dict[str, str]  # series label -> colour, the same on every page
    values: dict[str, dict[tuple[str, str], float | None]] = field(default_factory=dict)  # run_id -> values

    def colour_scale(self, labels: list[str]) -> tuple[list[str], list[str]]:
        present = [lab for lab in self.colours if lab in set(labels)]
        return present, [self.colours[lab] for lab in present]

    @property
    def runs(self) -> list[Run]:
        return [r for m in self.models for r in m.runs]


def load(ds: store.Dataset | None) -> ServingData:
    """The serving view of a loaded data/ folder (``SiteData.store``)."""
    if ds is None:
        return ServingData([], {})
    runs = [r for r in ds.runs if r.benchmark_kind == "serving"]
    ids = {r.run_id for r in runs}
    values: dict[str, dict[tuple[str, str], float | None]] = {}
    for row in ds.results:
        if row["run_id"] in ids:
            values.setdefault(str(row["run_id"]), {})[(str(row["metric"]), str(row["stat"]))] = row["value"]
    by_model: dict[str, list[Run]] = {}
    for run in runs:
        by_model.setdefault(mi.canonical_id(run.model_id), []).append(run)
    models, used = [], set()
    for model_id in sorted(by_model):
        model = _model(model_id, by_model[model_id], values)
        model.slug = _unique(model.slug, used)
        models.append(model)
    models.sort(key=lambda m: m.name)
    colours = _colours([s for m in models for s in m.series])
    for m in models:
        for s in m.series:
            s.colour = colours[s.label]
    return ServingData(models, colours, values)


def _model(model_id: str, runs: list[Run], values: dict) -> ServingModel:
    runs = sorted(runs, key=lambda r: (run_date(r), r.run_id), reverse=True)
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault((run.gpu, run.gpu_count, run.quantize or "", run.engine), []).append(run)
    series = [_series(key, group, values) for key, group in groups.items()]
    series.sort(key=_series_order)
    name = mi.display_name(model_id or None)
    return ServingModel(model_id, sorted({str(r.model_id or "") for r in runs}), mi.slug(name), name, series, runs)


def _series(key: tuple, runs: list[Run], values: dict) -> ServingSeries:
    """The newest sweep (runs of one server start) is the series; the runs of older sweeps are kept as earlier."""
    gpu, count, quantize, engine = key
    newest_sweep = runs[0].sweep_id or runs[0].run_id  # runs arrive newest first
    current: dict[int | None, Run] = {}
    earlier = []
    for run in runs:
        in_sweep = (run.sweep_id or run.run_id) == newest_sweep
        if in_sweep and run.max_concurrency not in current:
            current[run.max_concurrency] = run
        else:
            earlier.append(run)
    points = [Point(r, values.get(r.run_id, {})) for r in current.values()]
    points.sort(key=lambda p: (p.concurrency is None, p.concurrency or 0))
    setup = f"{count}x {gpu}" + (f" · {quantize}" if quantize else "")
    return ServingSeries(setup, str(engine), str(gpu), int(count), points, earlier)


def _engine_rank(engine: str) -> tuple:
    e = engine.lower()
    return (ENGINE_ORDER.index(e) if e in ENGINE_ORDER else len(ENGINE_ORDER), e)


def _series_order(s: ServingSeries) -> tuple:
    return (s.gpu.lower(), s.gpu_count, s.setup, _engine_rank(s.engine))


def _colours(series: list[ServingSeries]) -> dict[str, str]:
    """One hue per GPU setup (site-wide, in setup order), one tone per engine within it."""
    setups = sorted({(s.gpu.lower(), s.gpu_count, s.setup) for s in series})
    hue = {setup: i for i, (_, _, setup) in enumerate(setups)}
    engines_of: dict[str, list[str]] = {}
    for s in sorted(series, key=_series_order):
        engines = engines_of.setdefault(s.setup, [])
        if s.engine not in engines:
            engines.append(s.engine)
    out: dict[str, str] = {}
    for s in sorted(series, key=_series_order):
        i, tone = hue[s.setup], engines_of[s.setup].index(s.engine)
        if i < len(PAIRS) and tone < 2:
            out[s.label] = PAIRS[i][tone]
        else:  # beyond the pairs: hues spread by the golden angle, tones by lightness
            out[s.label] = f"hsl({(i * 137.508) % 360:.0f}, 55%, {45 + 15 * (tone % 3)}%)"
    return out


def _unique(slug: str, used: set[str]) -> str:
    base, n = slug, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    return slug
