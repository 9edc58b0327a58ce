"""A page per run (``runs/<run_id>/``): what ran and where it came from, its validity flags, every number it
recorded, its price, and links to its raw files (published with the site: see ``site_src.raw_files``).

Run pages are not in the navigation (there can be thousands) and not in the search index; the reports link to them.
"""

from __future__ import annotations

import hashlib
import html
import re

from markupsafe import Markup

from collector.data.schema import METRICS, RUN_COLUMNS, STATS, UNRELIABLE_STATS
from site_src import model_info as mi
from site_src.raw_files import RawFiles
from site_src.render import Page, Renderer, safe_url
from site_src.serving_rows import FLAG_WORDS, validity

RUNS_DIR = "runs"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_METRIC_ORDER = {m: i for i, m in enumerate(METRICS)}
_STAT_ORDER = {s: i for i, s in enumerate(STATS)}
_URL_FIELDS = ("source_url", "price_source")
# Results that count things (requests, tokens): shown whole; every other value with two decimals.
_COUNTS = {"completed_requests", "failed_requests", "input_tokens", "input_text_tokens", "input_vision_tokens",
           "output_tokens", "output_tokens_retokenized", "max_concurrency_observed"}


def run_path(run_id: str) -> str:
    """The run's page; ids that are not plain (letters, digits, - and _) get a slug plus a hash, so two ids never
    share a page."""
    text = str(run_id)
    if _SAFE_ID.match(text):
        return f"{RUNS_DIR}/{text.lower()}.md" if text == text.lower() else \
            f"{RUNS_DIR}/{text.lower()}-{hashlib.sha1(text.encode()).hexdigest()[:8]}.md"
    return f"{RUNS_DIR}/{mi.slug(text)[:40]}-{hashlib.sha1(text.encode()).hexdigest()[:8]}.md"


def load_text(run) -> str:
    """What load a run measured: its batch sizes, or its max concurrency and request rate."""
    if run.benchmark_kind == "serving":
        level = f"concurrency {run.max_concurrency}" if run.max_concurrency is not None else "concurrency n/a"
        rate = run.request_rate
        return level if rate in (None, float("inf")) else f"{level}, {rate:g} requests/s"
    sizes = list(run.batch_sizes)
    return f"batch {sizes[0]} to {sizes[-1]}" if len(sizes) > 1 else (f"batch {sizes[0]}" if sizes else "n/a")


def list_rows(runs: list, labels: dict[str, str]) -> list[dict]:
    """A report's list of its runs, newest first: each with its date, setup, load, status and a link to its page."""
    return [{"id": r.run_id, "date": str(r.measured_at or r.published_at or "n/a")[:16].replace("T", " "),
             "label": labels.get(r.run_id, f"{r.gpu_count}x {r.gpu}"),
             "engine": mi.engine_version_text(r.engine, r.engine_version), "load": load_text(r),
             "formula": r.prefill_throughput_formula, "validity": validity(r), "path": run_path(r.run_id)}
            for r in runs]


def _value_text(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return " ".join(FLAG_WORDS.get(str(x), str(x)) if isinstance(x, str) else str(x) for x in v)
    if isinstance(v, float):
        return "all at once (inf)" if v == float("inf") else f"{v:g}"
    return str(v)


def provenance_rows(run) -> list[dict]:
    """Every recorded field of the run (empty ones left out), links where the value is an http(s) URL."""
    out = []
    for col in RUN_COLUMNS:
        v = getattr(run, col.name)
        if v is None or v == () or v == "":
            continue
        out.append({"name": col.name, "value": _value_text(v),
                    "url": safe_url(v) if col.name in _URL_FIELDS else None})
    return out


def number_rows(results: list[dict]) -> tuple[list[str], list[dict]]:
    """The run's results as a table: a row per metric (and batch size), a column per statistic."""
    stats = sorted({str(r["stat"]) for r in results}, key=lambda s: (_STAT_ORDER.get(s, len(STATS)), s))
    cells: dict[tuple, dict] = {}
    for r in results:
        cells.setdefault((str(r["metric"]), r["batch_size"]), {})[str(r["stat"])] = r["value"]
    rows = []
    for (metric, batch) in sorted(cells, key=lambda k: (_METRIC_ORDER.get(k[0], len(METRICS)), k[0], k[1] or 0)):
        values = cells[(metric, batch)]
        rows.append({"metric": metric, "batch": batch,
                     "cells": [_number(values[s], metric in _COUNTS) if s in values else "" for s in stats]})
    return stats, rows


def numbers_html(stats: list[str], rows: list[dict], static: bool) -> Markup:
    """The numbers table, joined in Python: a run holds up to hundreds of values, a template loop would dominate the
    build. Metric and stat names are schema vocabulary; they are escaped all the same."""
    if not rows:
        return Markup("<p>No numbers: the run produced none.</p>")
    esc = html.escape
    head = "".join(f"<th>{esc(s)}"
                   + (' <span class="gb-muted">(unreliable)</span>' if static and s in UNRELIABLE_STATS else "")
                   + "</th>" for s in stats)
    # .gb-numbers right-aligns every column but the first: no class per cell (thousands of cells per run)
    out = ['<div data-search-exclude class="gb-table gb-table--compact gb-numbers"><table><thead><tr><th>Metric</th>',
           "<th>Batch size</th>" if static else "", head, "</tr></thead><tbody>"]
    for r in rows:
        batch = f'<td>{"" if r["batch"] is None else int(r["batch"])}</td>' if static else ""
        cells = "".join(f"<td>{c}</td>" for c in r["cells"])
        out.append(f"<tr><td><code>{esc(r['metric'])}</code></td>{batch}{cells}</tr>")
    out.append("</tbody></table></div>")
    if static:
        out.append('<p class="gb-legend">p50, p90 and p99 of text-generation-benchmark are read from partly sorted '
                   "samples: never rank on them (see Methodology). n/a: the batch size failed.</p>")
    return Markup("".join(out))


def fields_html(fields: list[dict]) -> Markup:
    """Every recorded field of the run as a table (values from data/ are escaped; URLs are http(s) only)."""
    esc = html.escape
    rows = "".join(f"<tr><td><code>{esc(f['name'])}</code></td><td class=\"gb-id\">"
                   + (f'<a href="{esc(f["url"], quote=True)}">{esc(f["value"])}</a>' if f["url"] else esc(f["value"]))
                   + "</td></tr>" for f in fields)
    return Markup('<div data-search-exclude class="gb-table gb-table--compact"><table><thead><tr><th>Field</th>'
                  f"<th>Value</th></tr></thead><tbody>{rows}</tbody></table></div>"
                  '<p class="gb-legend">Fields left out are not recorded (unknown, never zero). What each field '
                  "means: the Data page.</p>")


def _number(v: float | None, count: bool = False) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if count and float(v).is_integer() else f"{v:,.2f}"


def _reports(data, serving) -> dict[str, tuple[str, str, str]]:
    """run_id -> (report title, report page, the run's setup label)."""
    from site_src.report import report_path
    from site_src.serving_pages import serving_path

    out = {}
    for m in data.models:
        for s in m.series:
            for run in s.runs:
                out[run.run_id] = (m.name, report_path(m), s.label)
    for m in serving.models:
        for s in m.series:
            for run in [p.run for p in s.points] + s.earlier:
                out[run.run_id] = (f"{m.name} (serving)", serving_path(m), s.label)
    return out


def build(data, serving, raw: RawFiles, *, empty: bool = False) -> list[Page]:
    """A page per run of data/."""
    ds = data.store
    if ds is None:
        return []
    results: dict[str, list[dict]] = {}
    for row in ds.results:
        results.setdefault(str(row["run_id"]), []).append(row)
    reports = _reports(data, serving)
    pages = []
    for run in ds.runs:
        title, report, label = reports.get(run.run_id, (None, None, f"{run.gpu_count}x {run.gpu}"))
        stats, rows = ([], []) if empty else number_rows(results.get(run.run_id, []))
        page = Page(run_path(run.run_id), f"Run {run.run_id}")
        pages.append(Renderer(page, empty=empty).render(
            "run.md.j2", run=run, label=label, report_title=title, report=report, load=load_text(run),
            engine=mi.engine_version_text(run.engine, run.engine_version), model=mi.display_name(run.model_id),
            fields=None if empty else fields_html(provenance_rows(run)),
            numbers=None if empty else numbers_html(stats, rows, run.benchmark_kind == "static_batch"),
            validity=validity(run), raw=raw.of(run),
            price=data.prices.price(run), flag_words=FLAG_WORDS))
    return pages
