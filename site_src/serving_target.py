"""The cost-at-a-latency-target chart: which setup serves the model cheapest while keeping median TTFT and TPOT
within limits the reader sets, at $/GPU-hour prices the reader can change.

Everything that depends on a control is computed by Vega-Lite in the browser (parameters bound to input elements,
``calculate`` / ``joinaggregate`` / ``window`` transforms), so the static page recomputes without a server. The
page's table holds the same computation at the default limits and the prices in data/.
"""

from __future__ import annotations

import altair as alt

from site_src.chart_data import template
from site_src.charts import LOG_TICKS, log_scale

TTFT, TPOT, SKIP_FLAGGED = "ttft_limit", "tpot_limit", "skip_flagged"
BEST_COLOUR = "#2ea043"
WIDE_ONLY = "gb_wide_only"  # a layer the page's script leaves out on narrow screens (the table holds the same)
HEADLINE = "gb_headline"  # text the page's script moves over the axis labels on narrow screens, for its width
# A point no limit lets through sorts after every real cost (Vega sorts nulls unpredictably across versions).
_NEVER = 1e300


def price_param(i: int) -> str:
    return f"price_{i}"


def _controls(ttft, tpot, ttft_max, tpot_max, sliders: list[tuple]) -> list:
    """The inputs: latency limits, leaving flagged runs out, and one $/GPU-hour slider per GPU model (its label,
    value and top)."""
    params = [
        alt.param(name=TTFT, value=ttft, bind=alt.binding_range(min=10, max=ttft_max, step=10,
                                                                  name="TTFT p50 limit (ms) ")),
        alt.param(name=TPOT, value=tpot, bind=alt.binding_range(min=1, max=tpot_max, step=1,
                                                                  name="TPOT p50 limit (ms) ")),
        alt.param(name=SKIP_FLAGGED, value=False, bind=alt.binding_checkbox(name="Leave out runs with validity flags ")),
    ]
    for i, (label, value, top) in enumerate(sliders):
        # Bind names are set as text by vega (textContent): a GPU name from data/ stays text.
        params.append(alt.param(name=price_param(i), value=value,
                                bind=alt.binding_range(min=0, max=top, step=0.01, name=label)))
    return params


def _price_expr(n: int) -> str:
    """The $/GPU-hour of a row's GPU model: the slider of its index (``gpu_key``)."""
    expr = "0"
    for i in reversed(range(n)):
        expr = f"datum.gpu_key === {i} ? {price_param(i)} : ({expr})"
    return expr


def _transforms(chart: alt.Chart, n_gpus: int) -> alt.Chart:
    meets = f"datum.ttft <= {TTFT} && datum.tpot <= {TPOT} && !({SKIP_FLAGGED} && datum.flagged)"
    return chart.transform_calculate(
        gpu_price=_price_expr(n_gpus),
    ).transform_calculate(
        hourly="datum.gpu_price * datum.gpu_count",
    ).transform_calculate(
        cost="datum.hourly > 0 ? datum.hourly / (datum.tok_s * 3600 / 1e6) : null",
        meets=meets,
    ).transform_calculate(
        met_cost="datum.meets && datum.cost != null ? datum.cost : null",
        verdict="datum.meets ? 'meets the limits' : 'misses the limits'",
    ).transform_calculate(
        sort_key=f"datum.met_cost != null ? datum.met_cost : {_NEVER}",
    ).transform_window(
        series_rank="row_number()", groupby=["series"], sort=[alt.SortField("sort_key"), alt.SortField("concurrency")],
    ).transform_window(
        overall_rank="row_number()", sort=[alt.SortField("sort_key"), alt.SortField("series"),
                                           alt.SortField("concurrency")],
    )


def _layers(series: list[str], colours: tuple[list, list]) -> list:
    x = alt.X("cost:Q", title="$ per million output tokens (log scale)", scale=log_scale(),
              axis=alt.Axis(format="$,.2f", tickCount=LOG_TICKS, labelOverlap=True))
    y = alt.Y("series:N", title=None, scale=alt.Scale(domain=series))  # label width: the page's script, by width
    scale = alt.Scale(domain=colours[0], range=colours[1])
    colour = alt.Color("series:N", scale=scale, legend=None)
    tips = [alt.Tooltip("series:N", title="Setup · engine"), alt.Tooltip("concurrency:Q", title="Max concurrency"),
            alt.Tooltip("ttft:Q", title="TTFT p50 (ms)", format=",.1f"),
            alt.Tooltip("tpot:Q", title="TPOT p50 (ms)", format=",.1f"),
            alt.Tooltip("tok_s:Q", title="Output tokens/s", format=",.1f"),
            alt.Tooltip("hourly:Q", title="Instance $/hour", format="$,.2f"),
            alt.Tooltip("cost:Q", title="$ per million output tokens", format="$,.2f"),
            alt.Tooltip("verdict:N", title="Latency limits"),
            alt.Tooltip("flags:N", title="Validity flags"), alt.Tooltip("notes:N", title="Validity notes")]
    points = alt.Chart().mark_point(size=110, strokeWidth=1.8, filled=True).encode(
        x=x, y=y, color=colour, stroke=alt.Stroke("series:N", scale=scale, legend=None), tooltip=tips,
        shape=alt.Shape("validity:N", scale=alt.Scale(domain=["no flags", "flagged"], range=["circle", "diamond"]),
                        legend=alt.Legend(title="Validity", orient="bottom", symbolFillColor="#8a8f98",
                                          symbolStrokeColor="#8a8f98")),
        fillOpacity=alt.condition("datum.meets", alt.value(0.95), alt.value(0.06)),
        strokeOpacity=alt.condition("datum.meets", alt.value(1.0), alt.value(0.6)))
    levels = alt.Chart().mark_text(dy=-11, fontSize=9, opacity=0.8).encode(x=x, y=y, text="level:N")
    ring = alt.Chart().mark_point(size=520, shape="circle", filled=False, strokeWidth=2.5, color=BEST_COLOUR) \
        .encode(x=x, y=y).transform_filter("datum.overall_rank === 1 && datum.met_cost != null")
    verdict = alt.Chart().mark_text(align="left", dx=10, fontSize=11).encode(
        x=alt.value("width"), y=y, text="series_verdict:N").transform_filter("datum.series_rank === 1") \
        .transform_calculate(series_verdict="datum.met_cost != null ? format(datum.met_cost, '$,.2f') + "
                                            "' at concurrency ' + datum.concurrency : (datum.hourly > 0 ? "
                                            "'no load level meets the limits' : 'no price')") \
        .properties(name=WIDE_ONLY)
    # Three lines, so that it fits a phone's width: what, which setup and load, the cost.
    headline = alt.Chart().mark_text(align="left", baseline="bottom", fontSize=12.5, fontWeight="bold",
                                     lineBreak="\n", lineHeight=16).encode(
        x=alt.value(0), y=alt.value(-42), text="headline:N").transform_filter("datum.overall_rank === 1") \
        .transform_calculate(headline="datum.met_cost != null ? 'Cheapest within the limits:\\n' + datum.series + "
                                      "'\\nat c' + datum.concurrency + ', ' + format(datum.met_cost, '$,.2f') + "
                                      "' per M output tokens' : 'No setup meets these limits'") \
        .properties(name=HEADLINE)
    return [points, levels, ring, verdict, headline]


def _chart(series, colours: tuple, ttft, tpot, ttft_max, tpot_max, sliders: list[tuple], height) -> alt.LayerChart:
    chart = alt.layer(*_layers(series, colours), data=alt.Data(name="rows"))
    chart = _transforms(chart, len(sliders)).add_params(*_controls(ttft, tpot, ttft_max, tpot_max, sliders))
    # Room above for the headline; the verdicts right of the plot count in its bounds, so autosize makes room.
    return chart.properties(width="container", height=height, padding={"top": 62, "right": 5, "left": 5, "bottom": 5})


def _build(n_gpus: int) -> dict:
    """The chart with n_gpus price sliders, its values as placeholders (filled per page), checked against the schema.
    The schema wants numbers where some placeholders go: the chart is built with a distinct odd number in each such
    place, which is then swapped for its placeholder. Cached on disk like every template."""
    numbers = {_ph(k): 101.125 + n for n, k in enumerate(("ttft", "tpot", "ttft_max", "tpot_max"))}
    for i in range(n_gpus):
        numbers.update({_ph(f"price_{i}"): 201.125 + i, _ph(f"top_{i}"): 301.125 + i})
    sliders = [(_ph(f"gpu_{i}"), numbers[_ph(f"price_{i}")], numbers[_ph(f"top_{i}")]) for i in range(n_gpus)]
    limits = [numbers[_ph(k)] for k in ("ttft", "tpot", "ttft_max", "tpot_max")]
    spec = _chart([_ph("series")], ([_ph("cdomain")], [_ph("crange")]), *limits, sliders,
                  100).to_dict(validate=True)  # each chart's own height replaces 100
    spec.pop("config", None)
    return _swap(spec, {number: name for name, number in numbers.items()})


def _swap(obj, names: dict[float, str]):
    if isinstance(obj, dict):
        return {k: _swap(v, names) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_swap(v, names) for v in obj]
    return names.get(obj, obj) if isinstance(obj, float) else obj


def _ph(name: str) -> str:
    """A placeholder of the template, filled per page."""
    return f"__{name.upper()}__"


def target_chart(rows: list[dict], *, series: list[str], colours: tuple[list, list],
                 gpus: list[tuple[str, float | None]], ttft: float, tpot: float) -> dict:
    """rows: the report's points (series, gpu_key: index into gpus, gpu_count, concurrency, level, ttft, tpot,
    tok_s, validity, flagged, flags, notes). gpus: (GPU model, $/GPU-hour from prices.csv or None)."""
    ttft_max = max([5000.0, 2 * ttft] + [2 * (r["ttft"] or 0) for r in rows])
    tpot_max = max([200.0, 2 * tpot] + [2 * (r["tpot"] or 0) for r in rows])
    subs = {_ph("series"): series, _ph("cdomain"): colours[0], _ph("crange"): colours[1], _ph("ttft"): ttft,
            _ph("tpot"): tpot, _ph("ttft_max"): round(ttft_max, -2), _ph("tpot_max"): round(tpot_max)}
    for i, (gpu, price) in enumerate(gpus):
        subs.update({_ph(f"gpu_{i}"): f"{gpu}: $/GPU-hour ", _ph(f"price_{i}"): round(price, 4) if price else 0,
                     _ph(f"top_{i}"): max(10.0, round((price or 0) * 3, 0))})
    columns = ["series", "concurrency", "ttft", "tpot", "tok_s", "gpu_count", "flags", "notes"]
    return {"gbTemplate": template(f"target|{len(gpus)}", lambda: _build(len(gpus))), "gbSubs": subs,
            "gbRows": {"rows": rows}, "height": 44 * len(series) + 30,
            "usermeta": {"gpubench": "target", "csv": {"filter": {}, "columns": columns}}}
