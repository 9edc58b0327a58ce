"""The numbers the pages state: cost per token, rankings, conclusions, memory needs and decode efficiency.

Every function takes the shaped data (``site_src.dataset``) and returns plain values; the pages format them.
Costs use decode throughput (the tokens a user waits for) and the price prices.csv gives the setup at its run's date
(``Series.priced``); unknown prices stay None and are never ranked.
"""

from __future__ import annotations

from dataclasses import dataclass

from site_src import model_info as mi
from site_src.dataset import ModelData, Series

DECODE = "decode_throughput_tok_per_s"
TOKEN_LATENCY = "decode_token_latency_ms"


def usd_per_million(price: float, tok_per_s: float) -> float:
    """$ per million output tokens: the instance price over the tokens it produces in an hour."""
    return price / (tok_per_s * 3600 / 1e6)


def tokens_per_usd(price: float, tok_per_s: float) -> float:
    return tok_per_s * 3600 / price


@dataclass
class CostRow:
    series: Series
    price: float | None
    price_per_gpu: float | None
    tok_per_s: dict[int, float | None]  # per batch size of the model (None: failed or not run)
    best_batch: int | None  # batch with the highest decode throughput
    best_tok_per_s: float | None
    tokens_per_usd: float | None  # at the best batch
    usd_per_m_best: float | None
    usd_per_m_b1: float | None
    tokens_per_usd_b1: float | None = None
    rank: int | None = None  # by $ per million tokens at the best batch; None without a price
    usd_per_m_today: float | None = None  # at the best batch, at a newer snapshot's price (None: no newer one)


def cost_rows(model: ModelData) -> list[CostRow]:
    """One row per setup, ranked by $ per million output tokens at its best batch size; unpriced rows last."""
    batches = model.batch_sizes()
    rows = []
    for s in model.series:
        tps = {b: s.value(DECODE, b) for b in batches}
        measured = {b: v for b, v in tps.items() if v is not None and v > 0}
        best = max(measured, key=lambda b: (measured[b], -b)) if measured else None
        price = s.price
        row = CostRow(
            series=s,
            price=price,
            price_per_gpu=None if price is None else price / s.gpu_count,
            tok_per_s=tps,
            best_batch=best,
            best_tok_per_s=measured.get(best) if best else None,
            tokens_per_usd=None, usd_per_m_best=None, usd_per_m_b1=None,
        )
        if price is not None and price > 0 and best is not None:
            row.tokens_per_usd = tokens_per_usd(price, measured[best])
            row.usd_per_m_best = usd_per_million(price, measured[best])
            if measured.get(1):
                row.usd_per_m_b1 = usd_per_million(price, measured[1])
                row.tokens_per_usd_b1 = tokens_per_usd(price, measured[1])
            today = s.priced.today_usd_per_hr
            if today:
                row.usd_per_m_today = usd_per_million(today, measured[best])
        rows.append(row)
    ranked = sorted((r for r in rows if r.usd_per_m_best is not None), key=lambda r: (r.usd_per_m_best, r.series.label))
    for i, r in enumerate(ranked, 1):
        r.rank = i
    return ranked + [r for r in rows if r.usd_per_m_best is None]


@dataclass
class Leader:
    series: Series
    value: float
    runner_up: Series | None
    runner_value: float | None

    @property
    def margin_pct(self) -> float | None:
        """How much better the leader is than the runner-up, in percent of the runner-up's value."""
        if self.runner_value is None or self.runner_value == 0:
            return None
        return abs(self.value / self.runner_value - 1) * 100


def leader(model: ModelData, metric: str, batch: int, *, higher: bool = True) -> Leader | None:
    """The best setup on one metric at one batch size, with the runner-up."""
    vals = [(s, s.value(metric, batch)) for s in model.series]
    vals = [(s, v) for s, v in vals if v is not None]
    if not vals:
        return None
    vals.sort(key=lambda sv: (-sv[1] if higher else sv[1], sv[0].label))
    (s, v), rest = vals[0], vals[1:]
    return Leader(s, v, rest[0][0] if rest else None, rest[0][1] if rest else None)


def largest_common_batch(model: ModelData) -> int | None:
    """The largest batch size with a decode result on at least two setups (or the largest at all with one)."""
    counts: dict[int, int] = {}
    for s in model.series:
        for b in model.batch_sizes():
            if s.value(DECODE, b) is not None:
                counts[b] = counts.get(b, 0) + 1
    if not counts:
        return None
    need = 2 if len(model.series) > 1 else 1
    shared = [b for b, n in counts.items() if n >= need]
    return max(shared) if shared else max(counts)


@dataclass
class Headline:
    fastest_b1: Leader | None
    largest_batch: int | None
    fastest_large: Leader | None
    cheapest: CostRow | None
    runner_up_cost: CostRow | None
    unpriced: list[Series]


def headline(model: ModelData) -> Headline:
    rows = cost_rows(model)
    ranked = [r for r in rows if r.rank is not None]
    big = largest_common_batch(model)
    return Headline(
        fastest_b1=leader(model, DECODE, 1),
        largest_batch=big,
        fastest_large=leader(model, DECODE, big) if big and big != 1 else None,
        cheapest=ranked[0] if ranked else None,
        runner_up_cost=ranked[1] if len(ranked) > 1 else None,
        unpriced=[r.series for r in rows if r.price is None],
    )


# ---------------------------------------------------------------- memory and bandwidth


@dataclass
class Weights:
    params: float | None
    precision: mi.Precision
    gb: float | None  # params x bytes / 1e9


def weights(model: ModelData, series: Series | None = None) -> Weights:
    run = series.run if series else (model.runs[0] if model.runs else None)
    p = mi.precision(run.dtype, run.quantize) if run else mi.precision(None, None)
    params = model.info.params if model.info else None
    gb = params * p.bytes_per_param / 1e9 if params and p.bytes_per_param else None
    return Weights(params, p, gb)


@dataclass
class Efficiency:
    series: Series
    weights: Weights
    total_bw_gbps: float | None
    floor_ms: float | None  # model bytes / total bandwidth
    measured_ms: float | None  # batch-1 decode token latency
    pct: float | None  # floor / measured


def efficiency(model: ModelData, s: Series) -> Efficiency:
    """Batch-1 decode time per token against the time to read the weights once from every GPU's memory."""
    w = weights(model, s)
    bw = s.spec.mem_bw_gbps * s.gpu_count if s.spec else None
    floor = w.gb / bw * 1000 if (w.gb and bw) else None
    measured = s.value(TOKEN_LATENCY, 1)
    pct = floor / measured * 100 if (floor and measured) else None
    return Efficiency(s, w, bw, floor, measured, pct)
