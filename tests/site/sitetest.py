"""Helpers of the site tests: building the site from a copy of data/, reading tables back out of the HTML,
serving a built site on 127.0.0.1 and watching a browser page. (A module of its own: the name `conftest` is
taken by tests/conftest.py.)"""

from __future__ import annotations

import contextlib
import csv
import html.parser
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
SOURCE_CSV = DATA / "raw" / "transcribed" / "massed_compute_2024_tgi_llama70b" / "massed_compute_2024_tgi_llama70b.csv"
OUTPUT = REPO / "test-output" / "site"
DATA_FILES = ("SCHEMA_VERSION", "runs.csv", "results.csv", "prices.csv", "gpu_specs.csv")


def copy_data(target: Path, *, raw: bool = False) -> Path:
    """The bundled data/ (its CSV files; with ``raw`` its raw/ folder too) copied to a folder the test may change."""
    target.mkdir(parents=True, exist_ok=True)
    for name in DATA_FILES:
        shutil.copy2(DATA / name, target / name)
    if raw:
        shutil.copytree(DATA / "raw", target / "raw")
    return target


def add_csv_rows(path: Path, rows: list[dict]) -> None:
    """Append rows (dicts; missing columns empty) to a CSV file of data/."""
    edit_csv(path, lambda existing: existing.extend({k: "" for k in existing[0]} | r for r in rows))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(data_dir: Path, site_dir: Path, *, site_url: str | None = None, env: dict | None = None,
          check: bool = True, config: Path = REPO / "mkdocs.yml", cwd: Path = REPO) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of the repo's site from data_dir, as a user runs it."""
    full_env = {**os.environ, "GPUBENCH_DATA": str(data_dir), "NO_MKDOCS_2_WARNING": "1",
                "GPUBENCH_CACHE": str(OUTPUT.parent / ".cache"), **(env or {})}
    full_env.pop("GPUBENCH_SITE_URL", None)
    if site_url:
        full_env["GPUBENCH_SITE_URL"] = site_url
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site_dir)],
                          cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "WARNING" not in proc.stderr, proc.stderr
    return proc


def build_for_port(data_dir: Path, site_dir: Path) -> int:
    """Builds the site for a free port on 127.0.0.1 and returns the port: `serve(site_dir, port)` then serves it at
    the address it was built for (the sitemap's URLs must match it for Material's instant navigation)."""
    port = free_port()
    build(data_dir, site_dir, site_url=f"http://127.0.0.1:{port}/")
    return port


def source_rows() -> list[dict]:
    """The published figures the bundled data was transcribed from, one row per model, setup and batch size."""
    with SOURCE_CSV.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class _Tables(html.parser.HTMLParser):
    """Every <table> of a page as rows of cell texts; also the page's text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        self.text.append(data)


def tables(page_html: str) -> list[list[list[str]]]:
    p = _Tables()
    p.feed(page_html)
    return p.tables


def page_text(page_html: str) -> str:
    """The visible text of a page's article, whitespace collapsed."""
    start = page_html.find("<article")
    end = page_html.find("</article>")
    p = _Tables()
    p.feed(page_html[start:end])
    return " ".join("".join(p.text).split())


def table_with(page_html: str, header: str) -> list[list[str]]:
    """The first table whose header row contains the given heading."""
    for t in tables(page_html):
        if t and header in t[0]:
            return t
    raise AssertionError(f"no table with header {header!r}")


def chart_specs(page_html: str) -> list[dict]:
    """The Vega-Lite specs of the page's charts as the browser gets them: each chart's data-spec with the page's
    shared templates and datasets (.gb-page-data) put together (site_src.chart_data.resolve, as charts.js does)."""
    from site_src.chart_data import resolve

    class P(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.own: list[dict] = []
            self.templates: dict = {}
            self.datasets: dict = {}

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if "data-spec" in a:
                self.own.append(json.loads(a["data-spec"]))
            if "data-templates" in a:
                self.templates = json.loads(a["data-templates"])
                self.datasets = json.loads(a["data-datasets"])

    p = P()
    p.feed(page_html)
    return [resolve(own, p.templates, p.datasets) for own in p.own]


@contextlib.contextmanager
def serve(site_dir: Path, port: int):
    """`python -m http.server` on 127.0.0.1:port, serving site_dir, until the block ends."""
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(site_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("http.server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def read(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


# ---------------------------------------------------------------- browser

CHROMIUM = "/usr/bin/chromium"
MARKS = "svg g.mark-line path, svg g.mark-symbol path, svg g.mark-rect path"


class Watch:
    """Everything a page does that the tests judge: requests, console errors, uncaught errors, dialogs."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

        def dialog(d):
            self.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", dialog)

    def foreign(self, base: str) -> list[str]:
        return [u for u in self.requests if not (u.startswith(base) or u.startswith(("data:", "blob:")))]


def charts_in(site: Path, rel: str) -> int:
    """How many chart containers the built page holds (read from its HTML, not from the browser)."""
    return (site / rel / "index.html").read_text(encoding="utf-8").count('class="gb-chart"')


def new_page(browser, width: int = 1280, height: int = 900):
    """A fresh browser context (empty cache and storage), its page at this viewport, and a Watch on the page."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    return context, page, Watch(page)


def wait_for_charts(page, scheme: str = "default", timeout: float = 60_000, count: int | None = None) -> list[dict]:
    """Wait until every chart container of the page is rendered in the given palette; return, per chart, its
    id, state, number of drawn marks and width. After an instant navigation pass `count`: until the new content
    is swapped in, the page may hold no chart at all, and "every chart rendered" would hold at once."""
    page.wait_for_function(
        """([scheme, count]) => {
              const charts = [...document.querySelectorAll('.gb-chart[data-spec]')];
              return (count === null || charts.length === count) && charts.every(e =>
                  e.getAttribute('data-rendered') === scheme || e.getAttribute('data-rendered') === 'error');
           }""",
        arg=[scheme, count], timeout=timeout)
    return page.evaluate(
        """(marks) => [...document.querySelectorAll('.gb-chart[data-spec]')].map(e => ({
              id: e.id, state: e.getAttribute('data-rendered'), marks: e.querySelectorAll(marks).length,
              width: (e.querySelector('svg') || {getBoundingClientRect: () => ({width: 0})}).getBoundingClientRect().width,
           }))""", MARKS)


def site_pages(site: Path, *, runs: bool = False) -> list[str]:
    """Every page of a built site, as a path relative to its root ('' for home, 'reports/x/' ...); the run pages
    (runs/<id>/) only with ``runs``."""
    out = []
    for f in sorted(site.rglob("index.html")):
        rel = f.parent.relative_to(site).as_posix()
        if rel.startswith("runs/") and not runs:
            continue
        out.append("" if rel == "." else rel + "/")
    return out


def edit_csv(path: Path, change) -> None:
    """Rewrite a CSV file of data/, applying change(rows) to its rows (dicts) in place."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    change(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
