"""Jinja2 rendering of generated pages, safe for any text found in data/.

A generated page is Markdown (headings and prose, so MkDocs builds the table of contents) plus HTML fragments
(tables, charts, code) kept out of Markdown in "slots": the Markdown holds a placeholder comment and the hook
puts the fragment back into the page's HTML after Markdown ran (``prose``) or into the final HTML after search
indexed the page (``html``, ``chart``: tables, cards and charts are not search text). That keeps large specs out
of the Markdown parser and keeps the two escaping rules apart:

- ``*.md.j2`` templates: every ``{{ value }}`` that is not already markup is HTML-escaped *and* its Markdown
  punctuation backslash-escaped (``finalize``), so a label like ``<img src=x onerror=alert(1)>`` or ``*bold*``
  reaches the page as the same text.
- ``*.html.j2`` fragments: Jinja2's HTML autoescaping; chart specs go into single-quoted ``data-spec`` attributes
  as JSON with ``& ' < >`` escaped (``single_quoted``).
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from markdown.extensions.toc import slugify
from markupsafe import Markup
from mkdocs.utils import get_relative_url

from site_src.chart_data import PageCharts, reserved_height

TEMPLATES = Path(__file__).parent / "templates"
SLOT_RE = re.compile(r"<!--gb-slot:(\d+)-->")
_MD_SPECIALS = set("\\`*_{}[]()#+-.!|")  # what Python-Markdown (with tables) unescapes


def md_escape(value: object) -> Markup:
    """Text for Markdown: HTML-escaped, Markdown punctuation backslash-escaped, line breaks flattened."""
    if isinstance(value, Markup):
        return value
    out = []
    for ch in " ".join(str(value).split()):
        if ch in "&<>\"'":
            out.append(html.escape(ch, quote=True))
        elif ch in _MD_SPECIALS:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return Markup("".join(out))


def _finalize_md(value: object) -> object:
    if value is None:
        return "n/a"
    return md_escape(value)


# ---------------------------------------------------------------- number formatting


def _bad(v: object) -> bool:
    return v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v)))


def num(v: float | None, digits: int = 2, na: str = "n/a") -> str:
    """1234.5 -> '1,234.50'; None -> 'n/a'."""
    return na if _bad(v) else f"{v:,.{digits}f}"


def usd(v: float | None, digits: int = 2, na: str = "n/a") -> str:
    return na if _bad(v) else f"${v:,.{digits}f}"


def pct(v: float | None, digits: int = 1, na: str = "n/a") -> str:
    return na if _bad(v) else f"{v:,.{digits}f}%"


def sig(v: float | None, na: str = "n/a") -> str:
    """A value shown with about four significant digits (costs span orders of magnitude)."""
    if _bad(v):
        return na
    if v == 0:
        return "0"
    digits = max(0, 3 - int(math.floor(math.log10(abs(v)))))
    return f"{v:,.{min(digits, 6)}f}"


def safe_url(url: object) -> str | None:
    """The URL if it is http(s), else None (a javascript: or data: URL from data/ is shown as text only)."""
    if not url:
        return None
    text = str(url).strip()
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return None
    return text if scheme in ("http", "https") else None


_PATH_RE = re.compile(r"^[a-z0-9][a-z0-9/._#-]*$")


def site_path(path: str) -> Markup:
    """A link target inside the site (generated from slugs): checked, then used as is in Markdown."""
    if not _PATH_RE.match(path) or ".." in path:
        raise ValueError(f"not a site path: {path!r}")
    return Markup(path)


def md_link(text: object, url: object) -> Markup:
    """An external link inside Markdown: inline HTML with an escaped href, or plain text if the URL is not http(s)."""
    href = safe_url(url)
    if href is None:
        return md_escape(text)
    return Markup(f'<a href="{html.escape(href, quote=True)}">') + md_escape(text) + Markup("</a>")


def spec_attr(spec: dict) -> str:
    return json.dumps(spec, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def single_quoted(text: str) -> Markup:
    """Text for an attribute written in single quotes (JSON's many double quotes then need no escaping, which
    keeps chart specs small); &, ', < and > are escaped, so the value cannot end the attribute or the tag."""
    return Markup(text.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;"))


# ---------------------------------------------------------------- pages


def page_url(src: str) -> str:
    """The URL MkDocs gives a source page with use_directory_urls (its default): 'a/b.md' -> 'a/b/'."""
    stem = src[:-3] if src.endswith(".md") else src
    if stem == "index" or stem.endswith("/index"):
        stem = stem[: -len("index")]
        return stem
    return stem + "/"


@dataclass
class Page:
    """A generated page: Markdown with slot placeholders, and the slots' HTML."""

    path: str
    title: str  # plain text; escaped wherever it is shown
    markdown: str = ""
    slots: list[str] = field(default_factory=list)
    late: set[int] = field(default_factory=set)  # slots filled in the final HTML (charts)
    charts: int = 0
    chart_data: PageCharts = field(default_factory=PageCharts)  # the templates and datasets of its charts

    def fill(self, html_text: str, *, late: bool = False) -> str:
        """The page's HTML with its slot placeholders replaced by their fragments: the early ones (tables, code)
        in the page content, the late ones (chart specs) in the final HTML, after the search plugin has indexed
        the content; the specs are data for the browser, not text to search, and parsing them is costly."""
        def put(m: re.Match) -> str:
            i = int(m.group(1))
            return self.slots[i] if (i in self.late) == late else m.group(0)

        return SLOT_RE.sub(put, html_text)


def _env(suffix: str) -> jinja2.Environment:
    if suffix == "md":
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                                 finalize=_finalize_md, undefined=jinja2.StrictUndefined,
                                 trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    else:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                 undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=num, usd=usd, pct=pct, sig=sig, safe_url=safe_url, md=md_escape, spec=spec_attr,
                       path=site_path, sq=lambda v: single_quoted(spec_attr(v)),
                       slug=lambda v: Markup(slugify(str(v), "-")))  # a heading's anchor, as the toc makes it
    env.globals.update(link=md_link)
    return env


_MD_ENV = _env("md")
_HTML_ENV = _env("html")


class Renderer:
    """Renders one page: the Markdown template, with ``html(...)`` and ``chart(...)`` storing fragments in slots."""

    def __init__(self, page: Page, *, empty: bool = False):
        self.page = page
        self.empty = empty  # the benchmark's floor: same pages and headings, no tables or charts

    def slot(self, fragment: str, *, late: bool = False) -> Markup:
        if self.empty:
            return Markup("")
        self.page.slots.append(fragment)
        if late:
            self.page.late.add(len(self.page.slots) - 1)
        return Markup(f"\n\n<!--gb-slot:{len(self.page.slots) - 1}-->\n\n")

    def href(self, target: str) -> str:
        """The URL of another source page (e.g. 'reports/x.md'), relative to this page, for HTML fragments
        (MkDocs rewrites links in Markdown, not in slots)."""
        return get_relative_url(page_url(target), page_url(self.page.path)) or "./"

    def html(self, template: str, **context) -> Markup:
        """A fragment (tables, cards): put in the final HTML, after the search plugin has indexed the page, so that
        search results quote prose, not table cells run together (and the build does not parse big tables)."""
        if self.empty:
            return Markup("")
        return self.slot(_HTML_ENV.get_template(template).render(href=self.href, **context), late=True)

    def fragment(self, markup: Markup) -> Markup:
        """Ready HTML (built in Python where a template loop would be slow: a run's hundreds of numbers)."""
        if self.empty:
            return Markup("")
        return self.slot(str(markup), late=True)

    def prose(self, template: str, **context) -> Markup:
        """A fragment that reads as text (a setup's price and provenance): in the page content, searchable."""
        if self.empty:
            return Markup("")
        return self.slot(_HTML_ENV.get_template(template).render(href=self.href, **context))

    def _figure(self, spec: dict, caption: str, kind: str) -> str:
        self.page.charts += 1
        return _HTML_ENV.get_template("_chart.html.j2").render(spec=self.page.chart_data.share(spec),
                                                               caption=caption, kind=kind, n=self.page.charts,
                                                               reserve=reserved_height(spec))

    def chart(self, spec: dict, caption: str, *, kind: str = "") -> Markup:
        if self.empty:
            return Markup("")
        return self.slot(self._figure(spec, caption, kind), late=True)

    def chart_grid(self, items: list[tuple[dict, str]], *, kind: str = "", cols: int = 2) -> Markup:
        """Several charts side by side (``cols`` columns on wide screens, fewer on narrow ones), one slot."""
        if self.empty or not items:
            return Markup("")
        figures = [self._figure(spec, caption, kind) for spec, caption in items]
        return self.slot(f'<div class="gb-grid gb-grid--{cols}">\n' + "".join(figures) + "</div>", late=True)

    def render(self, template: str, **context) -> Page:
        self.page.markdown = _MD_ENV.get_template(template).render(
            html=self.html, prose=self.prose, fragment=self.fragment, chart=self.chart, chart_grid=self.chart_grid,
            empty=self.empty, **context)
        shared = self.page.chart_data.fragment()
        if shared:  # after every chart: the templates and datasets they share
            self.page.markdown += str(self.slot(shared, late=True))  # str: Markup would escape the page
        return self.page
