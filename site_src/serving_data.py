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
from site_src.prices import UNPRICED, PriceBook, Priced

OUTPUT = "output_throughput_tok_per_s"
ENGINE_NAMES = mi.ENGINE_NAMES
engine_name = mi.engine_name
ENGINE_ORDER = ("vllm", "sglang", "tgi")

# Tableau's paired hues: a GPU setup keeps one hue, its engines take the dark and the light tone, so the two engines
# of one setup read as a pair on every chart. Both tones read on white and on Material's slate background.
PAIRS = (
    ("#4e79a7", "#a0cbe8"), ("#f28e2b", "#ffbe7d"), ("#59a14f", "#8cd17d"), ("#b6992d", "#f1ce63"),
    ("#499894", "#86bcb6"), ("#e15759", "#ff9d9a"), ("#79706e", "#bab0ac"), ("#d37295", "#fabfd2"),
    ("#b07aa1", "#d4a6c8"), ("#9d7660", "#d7b5a6"),
)


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
    priced: Priced = UNPRICED  # from prices.csv, for the run that speaks for the series
    version: str = ""  # the engine version, in the label when the setup ran several versions of its engine

    @property
    def label(self) -> str:
        return f"{self.setup} · {engine_name(self.engine)}" + (f" {self.version}" if self.version else "")

    @property
    def engine_label(self) -> str:
        return engine_name(self.engine)

    @property
    def price(self) -> float | None:
        """$ per instance-hour from prices.csv at the series' date (None: unknown)."""
        return self.priced.usd_per_hr

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


def load(ds: store.Dataset | None, prices: PriceBook | None = None) -> ServingData:
    """The serving view of a loaded data/ folder (``SiteData.store``), priced from prices.csv."""
    if ds is None:
        return ServingData([], {})
    prices = prices or PriceBook(ds.prices)
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
            s.priced = prices.price(s.run)
    return ServingData(models, colours, values)


def _model(model_id: str, runs: list[Run], values: dict) -> ServingModel:
    runs = sorted(runs, key=lambda r: (run_date(r), r.run_id), reverse=True)
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault((run.gpu, run.gpu_count, run.quantize or "", run.engine), []).append(run)
    series = [s for key, group in groups.items() for s in _by_version(key, group, values)]
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


def _by_version(key: tuple, runs: list[Run], values: dict) -> list[ServingSeries]:
    """A setup is GPU model and count, precision, engine and engine version: one series per recorded version (runs
    that recorded none, such as a start that failed before the server answered, join the newest version's)."""
    versions = list(dict.fromkeys(r.engine_version for r in runs if r.engine_version))  # newest first
    if len(versions) <= 1:
        return [_series(key, runs, values)]
    by_version: dict[str, list[Run]] = {}
    for run in runs:
        by_version.setdefault(run.engine_version or versions[0], []).append(run)
    out = []
    for version, group in by_version.items():
        s = _series(key, group, values)
        s.version = version
        out.append(s)
    return out


def _engine_rank(engine: str) -> tuple:
    e = engine.lower()
    return (ENGINE_ORDER.index(e) if e in ENGINE_ORDER else len(ENGINE_ORDER), e)


def _series_order(s: ServingSeries) -> tuple:
    return (s.gpu.lower(), s.gpu_count, s.setup, _engine_rank(s.engine), s.version)


def _colours(series: list[ServingSeries]) -> dict[str, str]:
    """One hue per GPU setup (site-wide, in setup order), one tone per engine within it."""
    setups = sorted({(s.gpu.lower(), s.gpu_count, s.setup) for s in series})
    hue = {setup: i for i, (_, _, setup) in enumerate(setups)}
    engines_of: dict[str, list[tuple[str, str]]] = {}
    for s in sorted(series, key=_series_order):
        engines = engines_of.setdefault(s.setup, [])
        if (s.engine, s.version) not in engines:
            engines.append((s.engine, s.version))
    out: dict[str, str] = {}
    for s in sorted(series, key=_series_order):
        i, tone = hue[s.setup], engines_of[s.setup].index((s.engine, s.version))
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
