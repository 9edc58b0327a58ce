"""Vega-Lite chart specs, written with Altair.

Each kind of chart is built with Altair once (validated against the schema) with placeholders for what varies
(rows, colour domain, axis values and titles) and filled in per chart: building a fresh Altair object for each of
hundreds of charts would dominate the build. Rows are inlined and hold only what the chart shows.

Colours: every chart maps setups through the site's one domain/range (``SiteData.colours``), restricted to the
setups the chart shows, so a setup has the same colour everywhere.
"""

from __future__ import annotations

import functools
import json
import math

import altair as alt

LOG_RATIO = 20  # use a log scale when a chart's largest value is this many times its smallest
BATCH_TITLE = "Batch size (log scale)"

_ROWS = "rows"
_PH = {k: f"__{k.upper()}__" for k in ("domain", "range", "xvalues", "ytitle", "yformat", "title", "ttitle")}


def needs_log(values: list[float]) -> bool:
    vals = [v for v in values if v is not None and v > 0]
    return bool(vals) and max(vals) / min(vals) >= LOG_RATIO


def fill_placeholders(obj, subs: dict):
    """A spec with its placeholder strings (and placeholder lists) replaced by their values."""
    if isinstance(obj, dict):
        return {k: fill_placeholders(v, subs) for k, v in obj.items()}
    if isinstance(obj, list):
        if len(obj) == 1 and isinstance(obj[0], str) and obj[0] in subs:  # a placeholder list: ["__DOMAIN__"]
            return subs[obj[0]]
        return [fill_placeholders(v, subs) for v in obj]
    if isinstance(obj, str) and obj in subs:
        return subs[obj]
    return obj


def _y_scale(log: bool) -> alt.Scale:
    return alt.Scale(type="log") if log else alt.Scale(zero=True)


def _colour() -> alt.Scale:
    return alt.Scale(domain=[_PH["domain"]], range=[_PH["range"]])


def _batch_x() -> alt.X:
    return alt.X("batch:Q", title=BATCH_TITLE, scale=alt.Scale(type="log", base=2),
                 axis=alt.Axis(values=[_PH["xvalues"]], format="d", grid=False))


def _tooltip():
    return [alt.Tooltip("setup:N", title="Setup"), alt.Tooltip("batch:Q", title="Batch size"),
            alt.Tooltip("value:Q", title=_PH["ttitle"], format=_PH["yformat"])]


@functools.lru_cache(maxsize=None)
def _template(kind: str, log: bool) -> str:
    data = alt.Data(name=_ROWS)
    y = alt.Y("value:Q", title=_PH["ytitle"], scale=_y_scale(log))
    if kind in ("line", "line1"):
        # Value against batch size; with several setups, clicking a legend entry highlights one.
        enc = dict(x=_batch_x(), y=y, tooltip=_tooltip())
        if kind == "line":
            pick = alt.selection_point(fields=["setup"], bind="legend")
            enc["color"] = alt.Color("setup:N", scale=_colour(), title="Setup",
                                     legend=alt.Legend(orient="bottom", columns=3, symbolLimit=0))
            enc["opacity"] = alt.condition(pick, alt.value(1.0), alt.value(0.15))
        else:
            enc["color"] = alt.Color("setup:N", scale=_colour(), legend=None)
        chart = alt.layer(alt.Chart().mark_line(strokeWidth=2), alt.Chart().mark_point(filled=True, size=45),
                          data=data).encode(**enc)
        if kind == "line":
            chart = chart.add_params(pick)
        chart = chart.properties(title=alt.TitleParams(_PH["title"], anchor="start", fontSize=13, offset=8))
    elif kind == "bars":
        # One bar per setup (rows: setup, value) on a 0-100 scale, sorted by value, labelled with the value.
        enc = dict(
            y=alt.Y("setup:N", title=None, sort=alt.EncodingSortField("value", order="descending"),
                    axis=alt.Axis(labelLimit=220)),
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
        chart = chart.properties(title=alt.TitleParams(_PH["title"], anchor="start", fontSize=13, offset=8))
    elif kind == "scatter":
        # Cost against speed (rows: setup, cost, speed, batch), each point labelled with its setup.
        enc = dict(
            x=alt.X("cost:Q", title="$ per million output tokens at the best batch size" + (" (log scale)" if log else ""),
                    scale=alt.Scale(type="log") if log else alt.Scale(zero=False, nice=True),
                    axis=alt.Axis(tickCount=6, labelOverlap=True, format="$,.2f")),
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
        chart = chart.properties(title=alt.TitleParams("Cost against speed", anchor="start", fontSize=13, offset=8))
    else:
        raise ValueError(kind)
    chart = chart.properties(width="container", height=240)
    return json.dumps(chart.to_dict(validate=True))


def _spec(kind: str, log: bool, rows: list[dict], subs: dict) -> dict:
    spec = fill_placeholders(json.loads(_template(kind, log)), subs)
    spec.pop("config", None)  # Altair's default view size; the page's script sets the theme
    spec.setdefault("datasets", {})[_ROWS] = rows
    spec["usermeta"] = {"gpubench": kind}
    return spec


def clean_value(v: float | None) -> float | None:
    """A number for a chart row: NaN as None, rounded to keep specs small."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(v, 6)


def line_chart(points: list[tuple[str, int, float | None]], *, title: str, unit: str, colours: tuple[list, list],
               fmt: str = ",.2f", height: int = 240) -> dict:
    """Value against batch size, one line per setup. points: (setup, batch, value); None values are left out."""
    rows = [{"setup": s, "batch": b, "value": clean_value(v)} for s, b, v in points if clean_value(v) is not None]
    log = needs_log([r["value"] for r in rows])
    batches = sorted({r["batch"] for r in rows}) or [1]
    subs = {_PH["domain"]: colours[0], _PH["range"]: colours[1], _PH["xvalues"]: batches, _PH["title"]: title,
            _PH["ytitle"]: f"{unit}{' (log scale)' if log else ''}", _PH["ttitle"]: f"{title} ({unit})",
            _PH["yformat"]: fmt}
    spec = _spec("line" if len(colours[0]) > 1 else "line1", log, rows, subs)
    spec["height"] = height
    return spec


def bar_chart(values: list[tuple[str, float | None]], *, title: str, axis: str, colours: tuple[list, list],
              fmt: str = ".1f") -> dict:
    """Percentages (0-100), one bar per setup."""
    rows = [{"setup": s, "value": clean_value(v)} for s, v in values if clean_value(v) is not None]
    subs = {_PH["domain"]: colours[0], _PH["range"]: colours[1], _PH["title"]: title, _PH["ytitle"]: axis,
            _PH["ttitle"]: axis, _PH["yformat"]: fmt}
    spec = _spec("bars", False, rows, subs)
    spec["height"] = max(60, 28 * len(rows))
    return spec


def cost_scatter(points: list[tuple[str, float, float, int]], *, colours: tuple[list, list]) -> dict:
    """points: (setup, $ per million tokens at best batch, batch-1 tokens/s, best batch)."""
    rows = [{"setup": s, "cost": clean_value(c), "speed": clean_value(v), "batch": b} for s, c, v, b in points]
    log = needs_log([r["cost"] for r in rows])
    subs = {_PH["domain"]: colours[0], _PH["range"]: colours[1]}
    return _spec("scatter", log, rows, subs)
