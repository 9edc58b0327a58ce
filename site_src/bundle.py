"""The chart libraries shipped with the site: Vega, Vega-Lite and vega-embed in one JavaScript file.

vl-convert-python bundles them (``vl_convert.javascript_bundle``); that takes seconds, so the result is cached on
disk, keyed by the vl-convert version and the Vega-Lite version Altair writes, and reused by every build.

The bundle is an ES module without imports or exports (it sets window.vegaEmbed). The site loads it as a classic
script, wrapped in a strict function: browsers refuse module scripts from file://, and the wrapper keeps its
top-level names out of the page's global scope.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import altair as alt
import vl_convert

from collector import settings
from collector.data.store import write_atomic

SITE_PATH = "assets/vendor/vega-bundle.js"
COMPILE_HINT = "//# allFunctionsCalledOnLoad"  # Chromium 136+; other browsers read a comment


def vega_lite_version() -> str:
    """The Vega-Lite minor version Altair's specs declare, as vl-convert names it ('v6.4')."""
    return ".".join(alt.SCHEMA_VERSION.split(".")[:2])


def cache_dir() -> Path:
    return settings.bundle_cache_dir().expanduser()


def _key() -> str:
    version = getattr(vl_convert, "__version__", "unknown")
    return hashlib.sha256(f"{version}|{vega_lite_version()}".encode()).hexdigest()[:16]


def javascript_bundle() -> str:
    """The bundle as the site serves it: a classic script (see above)."""
    # The first line is V8's explicit compile hint: every function is compiled while the file streams in, on a
    # background thread, instead of lazily on the main thread when the first chart calls it (that first chart took
    # 200-330 ms on a first visit, 100-130 ms with the hint; bench/site_speed.py). The bundle's version names the
    # compiled chart specs charts.js keeps between visits.
    return (f'{COMPILE_HINT}\n(function () {{\n"use strict";\n' + _module_source()
            + f'\nwindow.__gpubenchBundle = "{_key()}";\n}})();\n')


def _module_source() -> str:
    """The bundle's source: from the cache, or built once and cached (atomically: parallel builds are safe)."""
    path = cache_dir() / f"vega-bundle-{_key()}.js"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    source = vl_convert.javascript_bundle(vl_version=vega_lite_version())
    try:
        write_atomic(path, source.encode("utf-8"))
    except OSError:
        pass  # an unwritable cache only costs time
    return source
