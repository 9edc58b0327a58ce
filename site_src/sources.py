"""Where numbers come from, named in the text: the repository a URL points into, and each document by its file
name and kind (the post, its screenshots, a results folder), each linked. Numbered links ("1, 2, 3") tell a reader
nothing before they click.
"""

from __future__ import annotations

import re

from site_src.render import safe_url

SOURCE_WORDS = {"collected": "measured by gpubench", "imported": "imported from a benchmark output",
                "transcribed": "transcribed from a publication"}
_GITHUB = re.compile(r"^https://github\.com/([^/?#]+)/([^/?#]+)(?:/(blob|tree)/[^/]+/([^?#]*))?")
_IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_KINDS = ("post", "screenshots", "results folders", "files")  # the order they are named in


def _kind(path: str, tree: bool) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if tree:
        return "results folders"
    if name.endswith(_IMAGES):
        return "screenshots"
    if name.endswith((".md", ".html", ".htm")) or "." not in name:
        return "post"
    return "files"


def named_links(urls: list[str], max_links: int = 12) -> list[dict]:
    """URLs grouped by repository (GitHub) or site, each document named by its file name: [{"name", "url",
    "kinds": [{"kind", "links": [{"name", "url"}], "more"}]}]. Non-http(s) text is kept as a name without a link."""
    groups: dict[str, dict] = {}
    for url in dict.fromkeys(u for u in urls if u):
        href = safe_url(url)
        m = _GITHUB.match(href or "")
        if m:
            owner, repo, mode, path = m.groups()
            group = groups.setdefault(f"github.com/{owner}/{repo}", {
                "name": f"github.com/{owner}/{repo}", "url": f"https://github.com/{owner}/{repo}", "kinds": {}})
            if path:
                group["kinds"].setdefault(_kind(path, mode == "tree"), []).append(
                    {"name": path.rstrip("/").rsplit("/", 1)[-1], "url": href})
            continue
        site = href.split("://", 1)[1].split("/", 1)[0] if href else "other sources"
        group = groups.setdefault(site, {"name": site, "url": None, "kinds": {}})
        group["kinds"].setdefault("files", []).append({"name": href.split("://", 1)[1] if href else url,
                                                      "url": href})
    out = []
    for g in groups.values():
        kinds = [{"kind": k, "links": g["kinds"][k][:max_links], "more": max(0, len(g["kinds"][k]) - max_links)}
                 for k in _KINDS if k in g["kinds"]]
        out.append({"name": g["name"], "url": g["url"], "kinds": kinds})
    return out


def provenance(runs: list, prices: list | None = None) -> list[dict]:
    """Where a set of runs came from: one entry per kind of source and publication date, with its documents named
    and linked (the runs' source URLs and, for transcribed runs, the price sources: the post the prices are read
    from)."""
    seen: dict[tuple, dict] = {}
    for r in runs:
        key = (str(r.source), str(r.published_at or ""))
        entry = seen.setdefault(key, {"source": r.source, "words": SOURCE_WORDS.get(str(r.source), r.source),
                                      "published": r.published_at, "runs": 0, "urls": [], "measured": set()})
        entry["runs"] += 1
        entry["urls"] += [u for u in (r.source_url, r.price_source if r.source == "transcribed" else None) if u]
        if r.measured_at:
            entry["measured"].add(str(r.measured_at)[:10])
    out = list(seen.values())
    for e in out:
        e["measured"] = sorted(e["measured"])
        e["documents"] = named_links(e.pop("urls"))
    return out
