"""data/ shaped for the site: per model, one series per setup (its newest run speaks for it; every run of it is
kept, for its history and its own page), with its averages and its price from prices.csv.

A setup is GPU model and count, engine, engine version and precision (--quantize, else --dtype). Only exact
statistics are used here (``avg``): p50/p90/p99 from text-generation-benchmark are unreliable and are never charted
or ranked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.records import Run
from collector.data.schema import GPU_SPECS_CSV, PRICES_CSV, RESULTS_CSV, RUNS_CSV, UNRELIABLE_STATS
from collector.data.units import prefill_tok_per_s
from site_src import model_info as mi
from site_src.prices import UNPRICED, PriceBook, Priced

# The four views of the tool's screen, in its order: (metric, title, unit, better).
SCREEN_METRICS = (
    ("prefill_latency_ms", "Prefill latency", "ms", "lower"),
    ("decode_token_latency_ms", "Decode token latency", "ms", "lower"),
    ("prefill_throughput_tok_per_s", "Prefill throughput", "prompt tokens/s", "higher"),
    ("decode_throughput_tok_per_s", "Decode throughput", "tokens/s", "higher"),
)
METRIC_TITLES = {m: (t, u, b) for m, t, u, b in SCREEN_METRICS}

# Colours that read on white and on Material's slate background; beyond them, hues spread by the golden angle.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#86bcb6",
    "#d37295", "#8cd17d", "#a0cbe8", "#f1ce63", "#fabfd2", "#499894", "#d4a6c8", "#b6992d", "#79706e", "#e49444",
)


@dataclass
class GpuSpec:
    gpu: str
    memory_gb: float
    mem_bw_gbps: float
    source_url: str | None


@dataclass
class Series:
    """One setup of one model: its newest run with its average values, and all its runs (newest first)."""

    label: str  # "4x RTX A6000", plus precision and engine version where the model's setups differ in them
    run: Run
    spec: GpuSpec | None
    values: dict[tuple[str, int], float | None]  # (metric, batch) -> avg; None = failed
    batch_sizes: list[int]  # as run
    failed: set[int]
    runs: list[Run] = field(default_factory=list)
    derived_prefill_tok: bool = False  # prompt tokens/s computed here from seq/s x sequence length
    priced: Priced = UNPRICED  # from prices.csv, at the newest run's date

    @property
    def gpu(self) -> str:
        return str(self.run.gpu)

    @property
    def gpu_count(self) -> int:
        return int(self.run.gpu_count)

    @property
    def price(self) -> float | None:
        """$ per instance-hour from prices.csv at the run's date (None: unknown, never ranked)."""
        return self.priced.usd_per_hr

    @property
    def earlier_runs(self) -> int:
        return max(0, len(self.runs) - 1)

    def value(self, metric: str, batch: int) -> float | None:
        v = self.values.get((metric, batch))
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

    def status(self, batch: int) -> str:
        """'ok', 'failed' (ran, numbers NaN) or 'not run'."""
        if batch in self.failed:
            return "failed"
        if batch not in self.batch_sizes and not any(k[1] == batch for k in self.values):
            return "not run"
        return "ok" if self.value("decode_throughput_tok_per_s", batch) is not None else "failed"

    @property
    def memory_per_gpu_gb(self) -> float | None:
        mib = self.run.gpu_memory_mib
        if mib:
            return mib * 1024 * 1024 / 1e9
        return self.spec.memory_gb if self.spec else None

    @property
    def memory_source(self) -> str:
        if self.run.gpu_memory_mib:
            return "nvidia-smi"
        return "datasheet" if self.spec else "unknown"


@dataclass
class ModelData:
    model_id: str
    slug: str
    name: str
    info: mi.ModelInfo | None
    series: list[Series]
    runs: list[Run]  # every run of the model, newest first
    values: dict[str, dict[tuple[str, int], float | None]] = field(default_factory=dict)  # run_id -> averages

    def batch_sizes(self) -> list[int]:
        return sorted({b for s in self.series for b in s.batch_sizes} |
                      {k[1] for s in self.series for k in s.values})


@dataclass
class SiteData:
    root: Path
    models: list[ModelData]
    labels: list[str]  # every series label, sorted: the one colour domain of the site
    colours: dict[str, str]
    gpu_specs: list[dict]
    counts: dict[str, int]
    newest: str | None  # newest measured_at / published_at date
    warnings: list[str] = field(default_factory=list)
    store: store.Dataset | None = None  # everything in data/, for the views beyond static batches
    prices: PriceBook = field(default_factory=lambda: PriceBook([]))

    def colour_scale(self, labels: list[str]) -> tuple[list[str], list[str]]:
        """Domain and range for a chart showing these labels, in the site's order and colours."""
        present = [lab for lab in self.labels if lab in set(labels)]
        return present, [self.colours[lab] for lab in present]


def colour(i: int) -> str:
    if i < len(PALETTE):
        return PALETTE[i]
    hue = (i * 137.508) % 360
    return f"hsl({hue:.0f}, 55%, 55%)"


def match_spec(gpu: str, specs: list[GpuSpec]) -> GpuSpec | None:
    """The datasheet row of a GPU: exact name, else the one row whose name starts with it ("A100 SXM4" ->
    "A100 SXM4 80GB"). Ambiguous or unknown -> None (efficiency n/a)."""
    norm = gpu.strip().lower()
    for s in specs:
        if s.gpu.strip().lower() == norm:
            return s
    hits = [s for s in specs if s.gpu.strip().lower().startswith(norm + " ")]
    return hits[0] if len(hits) == 1 else None


def run_date(run: Run) -> str:
    """The run's date for ordering: measured, else published, else empty."""
    return str(run.measured_at or run.published_at or "")


def load(root: Path) -> SiteData:
    """Read and validate data/ and shape it for the pages. Raises GpubenchError on bad data."""
    ds = store.load(root)
    specs = [GpuSpec(str(r["gpu"]), float(r["memory_gb"]), float(r["mem_bw_gbps"]), r.get("source_url"))
             for r in ds.gpu_specs]

    # The static-batch (text-generation-benchmark) view; serving runs have their own (site_src.serving_data).
    static = [r for r in ds.runs if r.benchmark_kind == "static_batch"]
    static_ids = {r.run_id for r in static}
    static_results = [r for r in ds.results if r["run_id"] in static_ids]
    avg: dict[str, dict[tuple[str, int], float | None]] = {}
    for r in static_results:
        if r["stat"] != "avg":
            continue
        avg.setdefault(str(r["run_id"]), {})[(str(r["metric"]), int(r["batch_size"]))] = r["value"]

    prices = PriceBook(ds.prices)
    by_model: dict[str, list[Run]] = {}
    for run in static:
        by_model.setdefault(run.model_id or "", []).append(run)
    models: list[ModelData] = []
    used_slugs: set[str] = set()
    for model_id in sorted(by_model):
        model = _model(model_id, by_model[model_id], avg, specs, prices)
        slug, n = model.slug, 2
        while slug in used_slugs:
            slug, n = f"{model.slug}-{n}", n + 1
        used_slugs.add(slug)
        model.slug = slug
        models.append(model)
    models.sort(key=lambda m: m.name)

    labels = sorted({s.label for m in models for s in m.series}, key=_label_order)
    dates = [d[:10] for d in (run_date(r) for r in ds.runs) if d]
    return SiteData(
        root=Path(root),
        models=models,
        labels=labels,
        colours={lab: colour(i) for i, lab in enumerate(labels)},
        gpu_specs=ds.gpu_specs,
        counts={RUNS_CSV: len(ds.runs), RESULTS_CSV: len(ds.results), PRICES_CSV: len(ds.prices),
                GPU_SPECS_CSV: len(ds.gpu_specs),
                "percentile_rows": sum(1 for r in static_results if r["stat"] in UNRELIABLE_STATS),
                **_percentile_checks(static_results)},
        newest=max(dates) if dates else None,
        warnings=list(ds.warnings),
        store=ds,
        prices=prices,
    )


def _percentile_checks(results: list[dict]) -> dict[str, int]:
    """How often the tool's percentiles contradict themselves in data/: p90 equal to p99, p90 below p50."""
    cells: dict[tuple, dict[str, float]] = {}
    for r in results:
        if r["stat"] in UNRELIABLE_STATS and r["value"] is not None:
            cells.setdefault((r["run_id"], r["batch_size"], r["metric"]), {})[str(r["stat"])] = r["value"]
    full = [c for c in cells.values() if len(c) == 3]
    return {"percentile_sets": len(full),
            "p90_eq_p99": sum(1 for c in full if c["p90"] == c["p99"]),
            "p90_below_p50": sum(1 for c in full if c["p90"] < c["p50"])}


def setup_key(run: Run) -> tuple:
    """What makes a setup: GPU model and count, engine, engine version, precision."""
    return (run.gpu, run.gpu_count, run.engine or "", run.engine_version or "", mi.precision_text(run))


def _labels(keys: list[tuple]) -> dict[tuple, str]:
    """'4x RTX A6000', with the precision and the engine version added where one model's setups on the same GPUs
    differ in them (a quantized setup always says so)."""
    variants: dict[tuple, set] = {}
    for gpu, count, engine, version, precision in keys:
        variants.setdefault((gpu, count), set()).add((engine, version, precision))
    out = {}
    for key in keys:
        gpu, count, engine, version, precision = key
        same = variants[(gpu, count)]
        label = f"{count}x {gpu}"
        if len({v[2] for v in same}) > 1 or mi.is_quantized(precision):
            label += f" · {precision or 'unquantized'}"
        if len({v[:2] for v in same}) > 1:
            label += f" · {mi.engine_version_text(engine, version)}"
        out[key] = label
    return out


def _model(model_id: str, runs: list[Run], avg: dict, specs: list[GpuSpec], prices: PriceBook) -> ModelData:
    runs = sorted(runs, key=lambda r: (run_date(r), r.run_id), reverse=True)
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault(setup_key(run), []).append(run)
    labels = _labels(list(groups))
    series = []
    for key, group in groups.items():
        s = _series(labels[key], group[0], avg.get(group[0].run_id, {}), specs, group)
        s.priced = prices.price(s.run)
        series.append(s)
    series.sort(key=_series_order)
    name = mi.display_name(model_id or None)
    return ModelData(model_id, mi.slug(name), name, mi.model_info(model_id or None), series, runs,
                     {r.run_id: avg.get(r.run_id, {}) for r in runs})


def _series(label: str, run: Run, values: dict, specs: list[GpuSpec], runs: list[Run]) -> Series:
    values = dict(values)
    derived = False
    seq = run.sequence_length
    for (metric, batch), v in list(values.items()):
        if metric == "prefill_throughput_seq_per_s" and ("prefill_throughput_tok_per_s", batch) not in values:
            if seq:
                values[("prefill_throughput_tok_per_s", batch)] = prefill_tok_per_s(v, seq)
                derived = True
    return Series(
        label=label,
        run=run,
        spec=match_spec(run.gpu, specs),
        values=values,
        batch_sizes=list(run.batch_sizes or sorted({b for _, b in values})),
        failed=set(run.failed_batch_sizes),
        runs=runs,
        derived_prefill_tok=derived,
    )


def _series_order(s: Series) -> tuple:
    # Priced setups first, cheapest first (the reference post's order is close to that); unknown prices last.
    return (s.price is None, s.price or 0.0, s.label)


def _label_order(label: str) -> tuple:
    count, _, rest = label.partition("x ")
    return (rest.lower(), int(count) if count.isdigit() else 0, label)


__all__ = ["GpubenchError", "GpuSpec", "ModelData", "SCREEN_METRICS", "Series", "SiteData",
           "load", "match_spec"]
