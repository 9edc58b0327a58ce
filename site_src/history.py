"""A model's history and every run (``reports/<model>/runs/``): per GPU setup, every run of it in a table (date,
engine version, key figures, validity, a link to the run's page), and for a setup that ran more than once a chart
of decode throughput against the run's date, labelled with the engine versions. Nothing is hidden: the report shows
each setup's newest run and links here.

A change of method between two runs is annotated where it happens: TGI 2.4.1 changed what
text-generation-benchmark's prefill "tokens/secs" counts (sequences/s before, prompt tokens/s from then on).
"""

from __future__ import annotations

import itertools
import posixpath

import altair as alt
from markupsafe import Markup

from site_src import charts
from site_src import model_info as mi
from site_src.chart_data import template
from site_src.dataset import ModelData, SiteData, run_date
from site_src.render import Page, Renderer
from site_src.run_pages import load_text, run_path
from site_src.serving_rows import validity

DECODE = "decode_throughput_tok_per_s"
FORMULA_WORDS = {"seq_per_s": "sequences/s (before TGI 2.4.1)", "tok_per_s": "prompt tokens/s (TGI 2.4.1 on)"}
_PH = {k: f"__{k.upper()}__" for k in ("group", "domain", "range", "first", "ytitle", "title", "series", "unit")}
GREY = "#8a8f98"


def group_key(run) -> tuple:
    """A GPU setup across engine versions: GPU model and count, engine, precision."""
    return (run.gpu, run.gpu_count, run.engine or "", mi.precision_text(run))


def group_label(key: tuple) -> str:
    gpu, count, engine, precision = key
    return f"{count}x {gpu} · {mi.engine_name(engine)}" + (f" · {precision}" if precision else "")


def _prefill(values: dict, run) -> tuple[str, float | None, float | None]:
    """At batch 1: what the tool printed as prefill throughput (unit words, value) and that in prompt tokens/s."""
    seq, tok = values.get(("prefill_throughput_seq_per_s", 1)), values.get(("prefill_throughput_tok_per_s", 1))
    printed = seq if run.prefill_throughput_formula == "seq_per_s" else tok
    tokens = tok if tok is not None else (seq * run.sequence_length if seq is not None and run.sequence_length
                                          else None)
    return FORMULA_WORDS.get(run.prefill_throughput_formula or "", "not recorded"), printed, tokens


def _rows(model: ModelData, runs: list, top: int) -> list[dict]:
    out = []
    for run in runs:
        values = model.values.get(run.run_id, {})
        words, printed, tokens = _prefill(values, run)
        out.append({"run": run.run_id, "date": run_date(run)[:10] or "n/a", "load": load_text(run),
                    "version": mi.engine_version_text(run.engine, run.engine_version), "formula": words,
                    "b1": charts.clean_value(values.get((DECODE, 1))),
                    "top": charts.clean_value(values.get((DECODE, top))),
                    "printed": charts.clean_value(printed), "tokens": charts.clean_value(tokens),
                    "validity": validity(run), "path": run_path(run.run_id)})
    return out


def _changes(runs: list) -> list[dict]:
    """Where the prefill formula changes between consecutive runs (oldest first)."""
    out = []
    for before, after in itertools.pairwise(runs):
        a, b = before.prefill_throughput_formula, after.prefill_throughput_formula
        if a and b and a != b:
            version = mi.engine_version_text(after.engine, after.engine_version)
            out.append({"date": run_date(after)[:10], "text": f"{version}: prefill counts "
                        + ("prompt tokens/s" if b == "tok_per_s" else "sequences/s")})
    return out


def _template(log: bool) -> str:
    return template(f"history|{'log' if log else 'lin'}", lambda: _build(log))


def _build(log: bool) -> dict:
    x = alt.X("date:T", title="Run date", axis=alt.Axis(format="%Y-%m-%d", labelOverlap=True, grid=False))
    y = alt.Y("value:Q", title=_PH["ytitle"], scale=charts.log_scale() if log else alt.Scale(zero=True),
              axis=charts.value_axis(log))
    mine = alt.FieldEqualPredicate(field="group", equal=_PH["group"])
    colour = alt.Color("which:N", title=None, scale=alt.Scale(domain=[_PH["domain"]], range=[_PH["range"]]),
                       legend=alt.Legend(orient="bottom"))
    tips = [alt.Tooltip("date:T", title="Run date", format="%Y-%m-%d"), alt.Tooltip("version:N", title="Engine"),
            alt.Tooltip("which:N", title=_PH["series"]), alt.Tooltip("value:Q", title=_PH["unit"], format=",.2f"),
            alt.Tooltip("run:N", title="Run")]
    base = alt.Chart(alt.Data(name="rows")).transform_filter(mine).encode(x=x, y=y)
    lines = base.mark_line(strokeWidth=2).encode(color=colour, detail="which:N")
    points = base.mark_point(filled=True, size=55).encode(color=colour, tooltip=tips)
    labels = base.mark_text(dy=-10, fontSize=10).encode(text="version:N").transform_filter(
        alt.FieldEqualPredicate(field="which", equal=_PH["first"]))
    marks = alt.Chart(alt.Data(name="changes")).transform_filter(mine).encode(x=x)
    rule = marks.mark_rule(strokeDash=[4, 3], color=GREY, strokeWidth=1.5)
    note = marks.mark_text(align="left", baseline="top", dx=4, fontSize=10, color=GREY).encode(
        y=alt.value(2), text="text:N")
    chart = alt.layer(lines, points, labels, rule, note).properties(
        width="container", height=200, title=charts.title(_PH["title"]))
    spec = chart.to_dict(validate=True)
    spec.pop("config", None)
    return spec


def _chart(label: str, colour: str, rows: list[dict], changes: list[dict], top: int, shared: tuple) -> dict:
    which = ["batch 1", f"batch {top}"] if top != 1 else ["batch 1"]
    values = [r[k] for r in rows for k in ("b1", "top") if r[k] is not None]
    return chart(label, which, [colour, GREY][:len(which)], values, shared, title="Decode throughput across runs",
                 series="Decode throughput", unit="tokens/s")


def chart(label: str, which: list[str], colours: list[str], values: list[float], shared: tuple, *, title: str,
          series: str, unit: str) -> dict:
    """A setup's history chart: shared[0] holds rows {group, date, version, run, which, value} (every setup's: the
    chart keeps its group's), shared[1] the method changes {group, date, text}; one line per ``which``, labelled
    with engine versions along the first."""
    log = charts.needs_log(values)
    subs = {_PH["group"]: label, _PH["domain"]: which, _PH["range"]: colours, _PH["first"]: which[0],
            _PH["ytitle"]: unit + (" (log scale)" if log else ""), _PH["title"]: title, _PH["series"]: series,
            _PH["unit"]: unit}
    return {"gbTemplate": _template(log), "gbSubs": subs, "gbRows": {"rows": shared[0], "changes": shared[1]},
            "height": 200, "usermeta": charts.csv_meta("history", ["run", "date", "version", "which", "value"],
                                                      group=label)}


def runs_path(report_path: str) -> str:
    """'reports/x.md' -> 'reports/x/runs.md' (URL reports/x/runs/)."""
    return report_path[:-3] + "/runs.md"


def groups(model: ModelData) -> dict[tuple, list]:
    """The model's runs by GPU setup (GPU model and count, engine, precision), oldest first, in the report's order
    of setups."""
    order = {group_key(s.run): i for i, s in enumerate(model.series)}
    out: dict[tuple, list] = {}
    for run in model.runs:
        out.setdefault(group_key(run), []).append(run)
    return {k: sorted(out[k], key=lambda r: (run_date(r), r.run_id))
            for k in sorted(out, key=lambda k: order.get(k, 0))}


def _top(model: ModelData, runs: list) -> int:
    """The largest batch size with a decode result among the runs."""
    return max((b for r in runs for (m, b), v in model.values.get(r.run_id, {}).items()
                if m == DECODE and v is not None), default=1)


def sections(data: SiteData, model: ModelData, *, empty: bool = False) -> list[dict]:
    """One section per GPU setup: its runs (oldest first) as table rows, and a chart when it ran more than once."""
    out, chart_rows, change_rows = [], [], []
    for key, runs in groups(model).items():
        top = _top(model, runs)
        label, rows, changes = group_label(key), _rows(model, runs, top), _changes(runs)
        if len(runs) > 1:
            for r in rows:
                chart_rows += [{"group": label, "date": r["date"], "version": r["version"], "run": r["run"],
                                "which": f"batch {b}", "value": r[k]}
                               for k, b in (("b1", 1), ("top", top)) if r[k] is not None and (k == "b1" or top != 1)]
            change_rows += [{"group": label, **c} for c in changes]
        colour = next((data.colours[s.label] for s in model.series if group_key(s.run) == key), GREY)
        out.append({"label": label, "rows": rows, "top": top, "changes": changes, "colour": colour,
                    "chart": None, "key": key})
    shared = (chart_rows, change_rows)
    if not empty:
        for section in out:
            if len(section["rows"]) > 1:
                section["chart"] = _chart(section["label"], section["colour"], section["rows"], section["changes"],
                                          section["top"], shared)
    return out


def page(data: SiteData, model: ModelData, report_path: str, *, empty: bool = False) -> Page:
    """The model's page of every run, by GPU setup, with each setup's history."""
    r = Renderer(Page(runs_path(report_path), f"{model.name}: every run"), empty=empty)
    dates = sorted(d for d in (run_date(x)[:10] for x in model.runs) if d)
    back = Markup(posixpath.relpath(report_path, posixpath.dirname(runs_path(report_path))))  # a slug: safe
    return r.render("runs.md.j2", model=model, report=back, sections=sections(data, model, empty=empty),
                    first=dates[0] if dates else None, last=dates[-1] if dates else None)
