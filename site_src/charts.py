"""Vega-Lite chart specs, written with Altair.

Each kind of chart is built with Altair once (validated against the schema) with placeholders for what varies
(colour domain, axis values and titles) and registered as a page template (``site_src.chart_data``); a chart is the
template's name, its placeholders' values and its transforms. Rows come from a dataset the page shares between its
charts: the static-batch charts of a model read one table (a row per setup and batch size, a column per metric)
and pick their setup and metric with transforms.

Colours: every chart maps setups through the site's one domain/range (``SiteData.colours``), restricted to the
setups the chart shows, so a setup has the same colour everywhere. Scales: a metric has one scale type (log or
linear) on every chart of a model, chosen from all its values; log scales span the data, not whole decades.
"""

from __future__ import annotations

import json
import math

import altair as alt

from site_src.chart_data import template

LOG_RATIO = 20  # use a log scale when a metric's largest value is this many times its smallest
BATCH_TITLE = "Batch size (log scale)"

_ROWS = "rows"
_PH = {k: f"__{k.upper()}__" for k in ("domain", "range", "xvalues", "ytitle", "yformat", "title", "ttitle", "sort",
                                        "column", "name")}


def needs_log(values: list[float]) -> bool:
    vals = [v for v in values if v is not None and v > 0]
    return bool(vals) and max(vals) / min(vals) >= LOG_RATIO


def log_scale(padding: int = 8, **extra) -> alt.Scale:
    """A log scale over the data's own range (nice=False: no decades of empty space), a little padded."""
    return alt.Scale(type="log", nice=False, padding=padding, **extra)


LOG_TICKS = 5  # a log axis labels only 1, 2, 3 (and 10, 20, 30, ...) of each decade: readable, still a log axis


def _y_scale(log: bool) -> alt.Scale:
    return log_scale() if log else alt.Scale(zero=True)


def value_axis(log: bool) -> alt.Axis:
    return alt.Axis(tickCount=LOG_TICKS) if log else alt.Axis()


def _colour() -> alt.Scale:
    return alt.Scale(domain=[_PH["domain"]], range=[_PH["range"]])


def _batch_x() -> alt.X:
    return alt.X("batch:Q", title=BATCH_TITLE, scale=alt.Scale(type="log", base=2),
                 axis=alt.Axis(values=[_PH["xvalues"]], format="d", grid=False))


def _tooltip():
    return [alt.Tooltip("setup:N", title="Setup"), alt.Tooltip("batch:Q", title="Batch size"),
            alt.Tooltip("value:Q", title=_PH["ttitle"], format=_PH["yformat"])]


def title(text: str = _PH["title"]) -> alt.TitleParams:
    return alt.TitleParams(text, anchor="start", fontSize=13, offset=8)


def valid(field: str = "value") -> dict:
    return {"filter": f"isValid(datum[{json.dumps(field)}]) && isFinite(datum[{json.dumps(field)}])"}


def column_value(field: str, as_: str = "value") -> dict:
    """A transform that reads one column of a shared table as the chart's value (column names are fixed
    vocabulary: metric names)."""
    return {"calculate": f"datum[{json.dumps(field)}]", "as": as_}


def csv_meta(kind: str, columns: list[str], **equal) -> dict:
    """What the chart's "Save data as CSV" writes: the rows of its dataset whose fields have these values (a list:
    one of them; the chart's own field filters apply too), these columns."""
    return {"gpubench": kind, "csv": {"filter": equal, "columns": columns}}


def _template(kind: str, log: bool) -> str:
    """The registered name of a kind of chart with a log or linear value scale."""
    return template(f"{kind}|{'log' if log else 'lin'}", lambda: _build(kind, log))


def _line(kind: str, y: alt.Y) -> alt.LayerChart:
    """Value against batch size; with several setups ("line"), clicking a legend entry highlights one."""
    enc = dict(x=_batch_x(), y=y, tooltip=_tooltip())
    pick = alt.selection_point(fields=["setup"], bind="legend")
    if kind == "line":
        enc["color"] = alt.Color("setup:N", scale=_colour(), title="Setup",
                                 legend=alt.Legend(orient="bottom", symbolLimit=0))
        enc["opacity"] = alt.condition(pick, alt.value(1.0), alt.value(0.15))
    else:
        enc["color"] = alt.Color("setup:N", scale=_colour(), legend=None)
    # Its setups (the colour domain) and its column of the model's table (a parameter: the template stays the same
    # for every metric), so that a chart's own spec is small.
    column = alt.param(name="gbColumn", value=_PH["column"])
    chart = alt.layer(alt.Chart().mark_line(strokeWidth=2), alt.Chart().mark_point(filled=True, size=45),
                      data=alt.Data(name=_ROWS)).encode(**enc).add_params(column).transform_filter(
        alt.FieldOneOfPredicate(field="setup", oneOf=[_PH["domain"]])).transform_calculate(
        value="datum[gbColumn]").transform_filter("isValid(datum.value) && isFinite(datum.value)")
    if kind == "line":
        chart = chart.add_params(pick)
    return chart.properties(title=title(), usermeta={"gpubench": kind, "csv": {
        "columns": ["setup", "batch", _PH["column"]], "names": ["setup", "batch", _PH["name"]]}})


def _build(kind: str, log: bool) -> dict:
    data = alt.Data(name=_ROWS)
    y = alt.Y("value:Q", title=_PH["ytitle"], scale=_y_scale(log), axis=value_axis(log))
    if kind in ("line", "line1"):
        chart = _line(kind, y)
    elif kind == "bars":
        # One bar per setup (rows: setup, value) on a 0-100 scale, sorted by value, labelled with the value.
        enc = dict(
            # An explicit order (highest first): a sort by field is dropped when the layers' domains are unioned.
            y=alt.Y("setup:N", title=None, sort=[_PH["sort"]], axis=alt.Axis(labelLimit=220)),
            x=alt.X("value:Q", title=_PH["ytitle"], scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(tickCount=10)),
            tooltip=[alt.Tooltip("setup:N", title="Setup"),
                     alt.Tooltip("value:Q", title=_PH["ttitle"], format=_PH["yformat"])],
        )
        chart = alt.layer(
            alt.Chart().mark_bar(cornerRadiusEnd=3, height={"band": 0.75}).encode(
                color=alt.Color("setup:N", scale=_colour(), legend=None)),
            alt.Chart().mark_text(align="left", dx=4, fontSize=11).encode(
                text=alt.Text("value:Q", format=_PH["yformat"])),
            data=data).encode(**enc)
        chart = chart.properties(title=title())
    elif kind == "scatter":
        # Cost against speed (rows: setup, cost, speed, batch), each point labelled with its setup.
        enc = dict(
            x=alt.X("cost:Q", title="$ per million output tokens at the best batch size"
                    + (" (log scale)" if log else ""),
                    # padding: room for the labels right of the points at the edges
                    scale=log_scale(padding=70) if log else alt.Scale(zero=False, nice=True, padding=70),
                    axis=alt.Axis(tickCount=LOG_TICKS if log else 6, labelOverlap=True, format="$,.2f")),
            y=alt.Y("speed:Q", title="tokens/s per sequence at batch 1", scale=alt.Scale(zero=False, nice=True),
                    axis=alt.Axis(tickCount=6)),
            color=alt.Color("setup:N", scale=_colour(), legend=None),
            tooltip=[alt.Tooltip("setup:N", title="Setup"),
                     alt.Tooltip("cost:Q", title="$ per million output tokens", format=",.3f"),
                     alt.Tooltip("batch:Q", title="at batch size"),
                     alt.Tooltip("speed:Q", title="tokens/s at batch 1", format=",.2f")],
        )
        chart = alt.layer(alt.Chart().mark_point(filled=True, size=120, opacity=0.95),
                          alt.Chart().mark_text(align="left", dx=9, fontSize=11).encode(text="setup:N"),
                          data=data).encode(**enc)
        chart = chart.properties(title=title("Cost against speed"))
    else:
        raise ValueError(kind)
    spec = chart.properties(width="container", height=240).to_dict(validate=True)
    spec.pop("config", None)  # Altair's default view size; the page's script sets the theme
    return spec


def clean_value(v: float | None) -> float | None:
    """A number for a chart row: NaN as None, rounded to keep specs small."""
    return None if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))) else round(v, 6)


def line_chart(rows: list[dict], column: str, name: str, *, title: str, unit: str, colours: tuple[list, list],
               log: bool, fmt: str = ",.2f", height: int = 240) -> dict:
    """One column of the model's shared table (rows: setup, batch, a short column per metric; a missing value is
    left out) against batch size, a line per setup of ``colours`` (its domain: the setups it shows). ``name`` is
    the column's full name (the metric), for the CSV download."""
    mine = [r for r in rows if r.get(column) is not None and r["setup"] in set(colours[0])]
    subs = {_PH["domain"]: colours[0], _PH["range"]: colours[1],
            _PH["xvalues"]: sorted({r["batch"] for r in mine}) or [1], _PH["title"]: title,
            _PH["ytitle"]: f"{unit}{' (log scale)' if log else ''}", _PH["ttitle"]: f"{title} ({unit})",
            _PH["yformat"]: fmt, _PH["column"]: column, _PH["name"]: name}
    kind = "line" if len(colours[0]) > 1 else "line1"
    return {"gbTemplate": _template(kind, log), "gbSubs": subs, "gbRows": {_ROWS: rows}, "height": height}


def bar_chart(values: list[tuple[str, float | None]], *, title: str, axis: str, colours: tuple[list, list],
              fmt: str = ".1f") -> dict:
    """Percentages (0-100), one bar per setup, highest first."""
    rows = [{"setup": s, "value": clean_value(v)} for s, v in values if clean_value(v) is not None]
    rows.sort(key=lambda r: (-r["value"], r["setup"]))
    subs = {_PH["domain"]: colours[0], _PH["range"]: colours[1], _PH["title"]: title, _PH["ytitle"]: axis,
            _PH["ttitle"]: axis, _PH["yformat"]: fmt, _PH["sort"]: [r["setup"] for r in rows]}
    return {"gbTemplate": _template("bars", False), "gbSubs": subs, "gbRows": {_ROWS: rows},
            "height": max(60, 28 * len(rows)), "usermeta": csv_meta("bars", ["setup", "value"])}


def cost_scatter(points: list[tuple[str, float, float, int]], *, colours: tuple[list, list]) -> dict:
    """points: (setup, $ per million tokens at best batch, batch-1 tokens/s, best batch)."""
    rows = [{"setup": s, "cost": clean_value(c), "speed": clean_value(v), "batch": b} for s, c, v, b in points]
    log = needs_log([r["cost"] for r in rows])
    subs = {_PH["domain"]: colours[0], _PH["range"]: colours[1]}
    return {"gbTemplate": _template("scatter", log), "gbSubs": subs, "gbRows": {_ROWS: rows},
            "usermeta": csv_meta("scatter", ["setup", "cost", "speed", "batch"])}
