"""MkDocs hooks (mkdocs.yml ``hooks:``): read data/ and hand the generated pages, CSV files, the raw files runs
refer to and the chart bundle to MkDocs. The work is in plain functions (``site_src.dataset.load``,
``site_src.pages.build_pages``, ``site_src.raw_files``).

Environment: ``GPUBENCH_DATA`` points the build at another data folder (tests, previews);
``GPUBENCH_SITE_EMPTY=1`` builds the same pages without tables and charts (the build benchmark's floor).
"""

from __future__ import annotations

import html
import json
import logging
import sys
from pathlib import Path

# MkDocs imports this file by path; make the project importable when it is not installed.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.structure.files import File, Files  # noqa: E402

from collector import settings  # noqa: E402
from collector.data.errors import GpubenchError  # noqa: E402
from site_src import bundle, dataset, pages  # noqa: E402
from site_src.raw_files import RawFiles  # noqa: E402
from site_src.render import Page  # noqa: E402

log = logging.getLogger("mkdocs.hooks.gpubench")


class _State:
    data_dir: Path
    site: dataset.SiteData
    pages: dict[str, Page]
    raw: RawFiles
    empty: bool


_state = _State()


def on_config(config):
    """Load data/, generate every page, and set the navigation."""
    root = Path(config.config_file_path or ".").resolve().parent
    data_dir = settings.data_dir(root)
    try:
        site = dataset.load(data_dir)
    except GpubenchError as e:
        raise PluginError(f"gpubench: cannot build the site from {data_dir}: {e}") from None
    for warning in site.warnings:
        log.info(warning)  # rows the store ignores; the next import cleans them up
    empty = settings.site_empty()
    raw = RawFiles(data_dir, site.store.runs if site.store else [])
    generated = pages.build_pages(site, raw, empty=empty)
    _state.data_dir, _state.site, _state.raw, _state.empty = data_dir, site, raw, empty
    _state.pages = {p.path: p for p in generated}
    # The run pages are left out of the navigation on purpose (thousands of them; the reports link to them).
    config.validation.nav.omitted_files = logging.DEBUG
    # Material shows nav titles as HTML: escape them (a model id from data/ is text, not markup).
    config.nav = _escaped_nav(pages.nav(generated))
    watch = [str(Path(w).resolve()) for w in config.watch]
    if str(data_dir) not in watch:
        config.watch.append(str(data_dir))
    return config


def _escaped_nav(entries: list) -> list:
    out = []
    for entry in entries:
        (title, target), = entry.items()
        out.append({html.escape(title): _escaped_nav(target) if isinstance(target, list) else target})
    return out


def on_files(files: Files, config) -> Files:
    """Add the generated pages, the CSV downloads and the chart bundle; hand-written pages join the nav."""
    for page in _state.pages.values():
        existing = files.get_file_from_path(page.path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, page.path, content=page.markdown))
    for name in pages.CSV_FILES:
        files.append(File.generated(config, f"data/{name}", abs_src_path=str(_state.data_dir / name)))
    if not _state.empty:  # the build benchmark's floor is MkDocs with the same pages, nothing else of ours
        for site_path, path in _state.raw.published():
            files.append(File.generated(config, site_path, abs_src_path=str(path)))
    files.append(File.generated(config, bundle.SITE_PATH, content=bundle.javascript_bundle()))
    handwritten = sorted(f.src_uri for f in files.documentation_pages() if f.src_uri not in _state.pages)
    config.nav = config.nav + handwritten
    return files


def on_page_content(html_text: str, page, config, files) -> str:
    """Put the tables and commands into the generated pages (see site_src.render)."""
    generated = _state.pages.get(page.file.src_uri)
    return generated.fill(html_text) if generated else html_text


def on_post_page(output: str, page, config) -> str:
    """Put the charts into the final HTML, after the search index has read the page."""
    generated = _state.pages.get(page.file.src_uri)
    return generated.fill(output, late=True) if generated else output


def on_post_build(config) -> None:
    """The search index as a script too: Material's search loads search/search_index.js when the site is opened
    from disk (file://), where it cannot fetch the JSON."""
    index = Path(config.site_dir) / "search" / "search_index.json"
    if index.is_file():
        text = index.read_text(encoding="utf-8")
        json.loads(text)  # only a valid index is wrapped
        (index.parent / "search_index.js").write_text(f"var __index = {text};\n", encoding="utf-8")
