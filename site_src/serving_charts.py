"""Vega-Lite specs of the serving pages, written with Altair: values against load level, throughput per GPU against
interactivity with its Pareto front, and the cost at a latency target that the reader can adjust.

Like ``site_src.charts``: each kind is built with Altair once, with placeholders for what varies, and registered
as a page template; every chart of a report reads the report's one table of points (``serving_rows.chart_points``:
a row per run with numbers, a column per metric) and picks its column with a transform. Every point carries its
run's validity: flagged runs are drawn as hollow diamonds, and the tooltip names the flags and their figures.
Colours map series (GPU setup · engine) through ``ServingData.colours``.
"""

from __future__ import annotations

import altair as alt

from site_src.chart_data import template
from site_src.charts import LOG_TICKS, column_value, csv_meta, log_scale, needs_log, valid

_ROWS, _FRONT = "rows", "front"
_PH = {k: f"__{k.upper()}__" for k in ("domain", "range", "edomain", "erange", "xvalues", "ytitle", "yformat",
                                        "title", "ttitle", "xtitle")}
VALIDITY = ["no flags", "flagged"]
CONCURRENCY_TITLE = "Max concurrency (log scale)"
FRONT_COLOUR = "#8a8f98"  # neutral: reads on white and on slate
LEGEND_SYMBOL = dict(symbolFillColor=FRONT_COLOUR, symbolStrokeColor=FRONT_COLOUR)  # black is lost on slate
DASHES = ([1, 0], [6, 3], [2, 2], [8, 2, 2, 2])  # one per engine: solid, dashed, dotted, dash-dot


def _scale() -> alt.Scale:
    return alt.Scale(domain=[_PH["domain"]], range=[_PH["range"]])


def _colour() -> alt.Color:
    legend = alt.Legend(orient="bottom", symbolLimit=0)  # columns and label width: the page's script, by width
    return alt.Color("series:N", title="Setup · engine", scale=_scale(), legend=legend)


def _validity_marks() -> dict:
    """Filled circles for clean runs, hollow diamonds (outlined in the series colour) for flagged ones."""
    return dict(
        shape=alt.Shape("validity:N", title="Validity", scale=alt.Scale(domain=VALIDITY, range=["circle", "diamond"]),
                        legend=alt.Legend(orient="bottom", **LEGEND_SYMBOL)),
        fillOpacity=alt.FillOpacity("validity:N", title="Validity", scale=alt.Scale(domain=VALIDITY, range=[1, 0.1]),
                                    legend=alt.Legend(orient="bottom", **LEGEND_SYMBOL)),
        stroke=alt.Stroke("series:N", scale=_scale(), legend=None),
    )


def _dash() -> alt.StrokeDash:
    return alt.StrokeDash("engine:N", scale=alt.Scale(domain=[_PH["edomain"]], range=[_PH["erange"]]), legend=None)


def _flag_tooltips() -> list:
    return [alt.Tooltip("flags:N", title="Validity flags"), alt.Tooltip("notes:N", title="Validity notes")]


def _title(text: str = _PH["title"]) -> alt.TitleParams:
    return alt.TitleParams(text, anchor="start", fontSize=13, offset=8)


def _template(kind: str, log: bool) -> str:
    """The registered name of a kind of chart, with a log or linear y scale."""
    return template(f"{kind}|{'log' if log else 'lin'}", lambda: _build(kind, log))


def _build(kind: str, log: bool) -> dict:
    chart = {"by_load": _by_load, "frontier": _frontier}[kind]()
    spec = chart.properties(width="container", height=260).to_dict(validate=True)
    spec.pop("config", None)  # the page's script sets the theme
    if log:
        _set_log(spec, "y")
    return spec


def _set_log(spec: dict, channel: str) -> None:
    """Switch a channel to a log scale over the data's range, in the spec and in each of its layers."""
    for part in [spec, *spec.get("layer", [])]:
        enc = part.get("encoding", {}).get(channel)
        if enc is not None:
            enc.setdefault("scale", {}).update(log_scale().to_dict())
            enc["scale"].pop("zero", None)
            if enc.get("axis", {}) is not None:
                enc.setdefault("axis", {})["tickCount"] = LOG_TICKS


def _by_load() -> alt.LayerChart:
    """A value against max concurrency, one line per series (rows: series, engine, concurrency, value, ...)."""
    pick = alt.selection_point(fields=["series"], bind="legend")
    enc = dict(
        x=alt.X("concurrency:Q", title=CONCURRENCY_TITLE, scale=alt.Scale(type="log", base=2, padding=12),
                axis=alt.Axis(values=[_PH["xvalues"]], format="d", grid=False)),
        y=alt.Y("value:Q", title=_PH["ytitle"], scale=alt.Scale(zero=True)),
        color=_colour(),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=[alt.Tooltip("series:N", title="Setup · engine"), alt.Tooltip("concurrency:Q", title="Max concurrency"),
                 alt.Tooltip("value:Q", title=_PH["ttitle"], format=_PH["yformat"]), *_flag_tooltips()],
    )
    lines = alt.Chart().mark_line(strokeWidth=2).encode(strokeDash=_dash())
    points = alt.Chart().mark_point(filled=True, size=70, strokeWidth=1.8).encode(**_validity_marks())
    return alt.layer(lines, points, data=alt.Data(name=_ROWS)).encode(**enc).add_params(pick).properties(
        title=_title())


def _frontier() -> alt.LayerChart:
    """Throughput per GPU against tokens/s per user; the Pareto front as a dashed line (dataset "front")."""
    x = alt.X("interactivity:Q", title=_PH["xtitle"], scale=alt.Scale(zero=False, padding=14))
    y = alt.Y("per_gpu:Q", title=_PH["ytitle"], scale=alt.Scale(zero=False, nice=False, padding=14))
    tips = [alt.Tooltip("series:N", title="Setup · engine"), alt.Tooltip("concurrency:Q", title="Max concurrency"),
            alt.Tooltip("interactivity:Q", title="Tokens/s per user (1000 / TPOT p50)", format=",.1f"),
            alt.Tooltip("tpot:Q", title="TPOT p50 (ms)", format=",.1f"),
            alt.Tooltip("per_gpu:Q", title="Output tokens/s per GPU", format=",.1f"),
            alt.Tooltip("tok_s:Q", title="Output tokens/s (instance)", format=",.1f"),
            alt.Tooltip("front:N", title="On the Pareto front"), *_flag_tooltips()]
    # A wide translucent band under the series, so the front stays visible where a series runs along it.
    front = alt.Chart(alt.Data(name=_FRONT)).mark_line(strokeWidth=9, opacity=0.35, color=FRONT_COLOUR,
                                                       strokeCap="round", strokeJoin="round").encode(
        x=x, y=y, order="interactivity:Q")
    pick = alt.selection_point(fields=["series"], bind="legend")
    series = alt.Chart(alt.Data(name=_ROWS)).encode(
        x=x, y=y, color=_colour(), detail="series:N", order="concurrency:Q",
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)))
    lines = series.mark_line(strokeWidth=1.5).encode(strokeDash=_dash())
    points = series.mark_point(filled=True, size=80, strokeWidth=1.8).encode(**_validity_marks(), tooltip=tips)
    labels = series.mark_text(align="left", dx=7, dy=-7, fontSize=10).encode(text="level:N")
    return alt.layer(front, lines, points, labels).add_params(pick).properties(
        title=_title("Throughput per GPU against interactivity"))


def _engine_dashes(engines: list[str]) -> list:
    return [DASHES[i % len(DASHES)] for i in range(len(engines))]


def by_load_chart(rows: list[dict], column: str, *, title: str, unit: str, colours: tuple[list, list],
                  engines: list[str], fmt: str = ",.1f", height: int = 240) -> dict:
    """One column of the report's points (rows: series, engine, concurrency, validity, flags, notes and the metric
    columns) against max concurrency; points without a value are left out."""
    values = [r[column] for r in rows if r.get(column) is not None]
    log = needs_log(values)
    subs = {_PH["domain"]: colours[0], _PH["range"]: colours[1], _PH["edomain"]: engines,
            _PH["erange"]: _engine_dashes(engines),
            _PH["xvalues"]: sorted({r["concurrency"] for r in rows if r.get(column) is not None}) or [1],
            _PH["title"]: title, _PH["ytitle"]: f"{unit}{' (log scale)' if log else ''}",
            _PH["ttitle"]: f"{title} ({unit})", _PH["yformat"]: fmt}
    return {"gbTemplate": _template("by_load", log), "gbSubs": subs, "gbRows": {_ROWS: rows},
            "transform": [column_value(column), valid()], "height": height,
            "usermeta": csv_meta("by_load", ["series", "concurrency", column, "flags", "notes"])}


def frontier_chart(rows: list[dict], front: list[dict], *, colours: tuple[list, list], engines: list[str]) -> dict:
    """rows: the report's points (interactivity, per_gpu, tpot, tok_s, front, label, ...); front: interactivity,
    per_gpu of the Pareto-optimal points."""
    ylog = needs_log([r["per_gpu"] for r in rows if r.get("per_gpu") is not None])
    subs = {_PH["domain"]: colours[0], _PH["range"]: colours[1], _PH["edomain"]: engines,
            _PH["erange"]: _engine_dashes(engines),
            _PH["xtitle"]: "Interactivity: output tokens/s per user (1000 / TPOT p50)",
            _PH["ytitle"]: "Output tokens/s per GPU" + (" (log scale)" if ylog else "")}
    return {"gbTemplate": _template("frontier", ylog), "gbSubs": subs, "gbRows": {_ROWS: rows, _FRONT: front},
            "transform": [valid("interactivity"), valid("per_gpu")], "height": 360,
            "usermeta": csv_meta("frontier", ["series", "concurrency", "interactivity", "per_gpu", "front", "flags",
                                              "notes"])}
