"""What a page ships for its charts: each Vega-Lite template once, each dataset once, and per chart only what is its
own (the template's name, the values of its placeholders, its transforms).

A chart spec as the chart modules write it::

    {"gbTemplate": "line|log", "gbSubs": {"__TITLE__": ...}, "gbRows": {"rows": [...]}, "transform": [...], ...}

``PageCharts.share`` moves ``gbRows`` (or plain ``datasets``) into the page's datasets, storing identical ones once
(the same list object handed to several charts is serialized once), and leaves ``gbData`` (the spec's data name ->
the page's dataset id). The page's script (assets/javascripts/charts.js) rebuilds the full spec in the browser:
template with its placeholders filled, the other keys on top, and the datasets attached.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

TEMPLATES: dict[str, str] = {}  # template name -> Vega-Lite JSON with placeholders, registered by the chart modules
# The modules whose code writes templates: a change to any of them (or to Altair) makes new templates.
_WRITERS = ("charts.py", "serving_charts.py", "history.py", "serving_target.py")
_disk: dict[str, str] | None = None


def register(name: str, template_json: str) -> str:
    TEMPLATES[name] = template_json
    return name


def _cache_path() -> Path:
    import altair as alt

    from collector import settings

    h = hashlib.sha256(alt.__version__.encode())
    for name in _WRITERS:
        h.update((Path(__file__).parent / name).read_bytes())
    return settings.bundle_cache_dir().expanduser() / f"chart-templates-{h.hexdigest()[:16]}.json"


def template(name: str, build: Callable[[], dict]) -> str:
    """Register the template ``name``: built by ``build()`` (Altair, validated against the schema: slow) once per
    version of the code, then read from a cache on disk (beside the chart bundle's)."""
    global _disk
    if name in TEMPLATES:
        return name
    if _disk is None:
        try:
            _disk = json.loads(_cache_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            _disk = {}
    if name not in _disk:
        _disk[name] = json.dumps(build())
        try:
            from collector.data.store import write_atomic

            write_atomic(_cache_path(), json.dumps(_disk).encode("utf-8"))
        except OSError:
            pass  # an unwritable cache only costs time
    return register(name, _disk[name])


# What a drawn chart adds to its plot's height at the least (title, x axis; legends add more): the room reserved for
# it before it is drawn, so that the page does not shift as charts appear and the charts on screen are known first.
FRAME_PX = 56


def reserved_height(spec: dict) -> int | None:
    """The height (px) to reserve for a chart not drawn yet: its plot's height plus the least frame around it."""
    height = spec.get("height")
    if height is None and spec.get("gbTemplate") in TEMPLATES:
        height = _template_height(spec["gbTemplate"])
    return height + FRAME_PX if isinstance(height, int) else None


_heights: dict[str, object] = {}


def _template_height(name: str) -> object:
    if name not in _heights:
        _heights[name] = json.loads(TEMPLATES[name]).get("height")
    return _heights[name]


def to_json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class PageCharts:
    """The templates and datasets of one page's charts."""

    def __init__(self):
        self.templates: dict[str, str] = {}
        self.datasets: dict[str, str] = {}  # id -> JSON text
        self._ids: dict[str, str] = {}  # JSON text -> id
        self._objects: dict[int, tuple[object, str]] = {}  # id(list) -> (the list, dataset id)

    def _dataset(self, rows: list) -> str:
        seen = self._objects.get(id(rows))
        if seen is not None and seen[0] is rows:
            return seen[1]
        text = to_json(rows)
        key = self._ids.get(text)
        if key is None:
            key = f"d{len(self._ids)}"
            self._ids[text] = key
            self.datasets[key] = text
        self._objects[id(rows)] = (rows, key)
        return key

    def share(self, spec: dict) -> dict:
        """The chart's own part of a spec; its template and datasets are kept by the page."""
        own = dict(spec)
        rows = own.pop("gbRows", None) or own.pop("datasets", None) or {}
        own["gbData"] = {name: self._dataset(values) for name, values in rows.items()}
        name = own.get("gbTemplate")
        if name is not None:
            self.templates[name] = TEMPLATES[name]
        return own

    def fragment(self) -> str:
        """The hidden element holding the page's templates and datasets (data- attributes, escaped JSON)."""
        if not self.templates and not self.datasets:
            return ""
        templates = "{" + ",".join(f"{to_json(k)}:{v}" for k, v in self.templates.items()) + "}"
        datasets = "{" + ",".join(f"{to_json(k)}:{v}" for k, v in self.datasets.items()) + "}"
        return (f"<div class='gb-page-data' hidden data-templates='{_sq(templates)}' data-datasets='{_sq(datasets)}'>"
                "</div><noscript><p>The charts need JavaScript; the tables on this page hold the same numbers.</p>"
                "</noscript>")


def _sq(text: str) -> str:
    """For an attribute in single quotes: JSON's double quotes stay as they are (see render.single_quoted)."""
    return text.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;")


def fill_placeholders(obj, subs: dict):
    """A template with its placeholder strings (and placeholder lists) replaced by their values."""
    if isinstance(obj, dict):
        return {k: fill_placeholders(v, subs) for k, v in obj.items()}
    if isinstance(obj, list):
        if len(obj) == 1 and isinstance(obj[0], str) and obj[0] in subs:  # a placeholder list: ["__DOMAIN__"]
            return subs[obj[0]]
        return [fill_placeholders(v, subs) for v in obj]
    if isinstance(obj, str) and obj in subs:
        return subs[obj]
    return obj


def resolve(own: dict, templates: dict, datasets: dict) -> dict:
    """The full spec of a chart, as the page's script builds it (used by tests and tools; the browser does the same
    in charts.js)."""
    spec = fill_placeholders(templates[own["gbTemplate"]], own.get("gbSubs", {})) if "gbTemplate" in own else {}
    spec.update({k: v for k, v in own.items() if not k.startswith("gb")})
    spec["datasets"] = {name: datasets[key] for name, key in own.get("gbData", {}).items()}
    return spec
