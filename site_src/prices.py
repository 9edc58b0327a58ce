"""Every cost figure on the site comes from prices.csv, through ``collector.data.pricing``: a run is priced by the
snapshot of its setup at its date (``price_at_run``), and a later snapshot is shown beside it as today's price
(``price_today``). A run with no snapshot and no recorded price is unpriced: "n/a", never zero, never ranked.

``PriceBook`` indexes the snapshots by GPU model and count once, so pricing thousands of runs stays linear; the
pricing then keeps, for a run that names its provider, that provider's snapshots and unnamed ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collector.data.pricing import PriceQuote, price_at_run, price_today
from collector.data.records import Run
from collector.data.tables import Record
from site_src.render import safe_url, usd

_GITHUB = re.compile(r"^https://github\.com/([^/]+)/([^/]+)(?:/(?:blob|tree)/[^/]+/(.+))?")


@dataclass(frozen=True)
class Priced:
    """What a run costs per hour: the snapshot it is priced at, and a newer one (today's) if there is one."""

    at_run: PriceQuote | None
    today: PriceQuote | None = None

    @property
    def usd_per_hr(self) -> float | None:
        return self.at_run.usd_per_hr if self.at_run else None

    @property
    def today_usd_per_hr(self) -> float | None:
        return self.today.usd_per_hr if self.today else None


UNPRICED = Priced(None, None)


class PriceBook:
    """The snapshots of prices.csv by setup, and the price of each run (cached by run id)."""

    def __init__(self, prices: list[Record]):
        self._by_setup: dict[tuple, list[Record]] = {}
        for p in prices:
            self._by_setup.setdefault((p["gpu"], p["gpu_count"]), []).append(p)
        self._cache: dict[str, Priced] = {}

    def price(self, run: Run | None) -> Priced:
        if run is None:
            return UNPRICED
        hit = self._cache.get(run.run_id)
        if hit is None:
            snapshots = _own_source_last(self._by_setup.get((run.gpu, run.gpu_count), []), run.price_source)
            hit = Priced(price_at_run(run, snapshots), price_today(run, snapshots))
            self._cache[run.run_id] = hit
        return hit


def _own_source_last(snapshots: list[Record], source: str | None) -> list[Record]:
    """Snapshots of one day are equals; the one the run was imported with (same source) is put last so that it is
    the one chosen (pricing takes the last of the newest day)."""
    if not source or not any(p.get("source_url") == source for p in snapshots):
        return snapshots
    return [p for p in snapshots if p.get("source_url") != source] + \
        [p for p in snapshots if p.get("source_url") == source]


# ---------------------------------------------------------------- for the pages


def source_name(source: str | None) -> str:
    """A readable name for a price or result source: 'llama-3.1-70B.md in github.com/Massed-Compute/gpu-benchmark'
    for a GitHub file, the host and path for other URLs, the text itself otherwise."""
    if not source:
        return "source not recorded"
    m = _GITHUB.match(source)
    if m:
        owner, repo, path = m.groups()
        repo_name = f"github.com/{owner}/{repo}"
        return f"{path.rsplit('/', 1)[-1]} in {repo_name}" if path else repo_name
    if safe_url(source):
        return source.split("://", 1)[1].rstrip("/")
    return source


def quote_view(q: PriceQuote | None) -> dict | None:
    """A quote for the templates: the price, its date, provider, source (named, and linked when it is a URL), and
    what the run's date had to do with it."""
    if q is None:
        return None
    return {"usd": usd(q.usd_per_hr), "value": q.usd_per_hr, "date": q.date or "undated", "provider": q.provider,
            "source": source_name(q.source), "url": safe_url(q.source), "basis": q.basis,
            "describe": q.describe()}


def priced_view(p: Priced, gpu_count: int | None = None) -> dict:
    """Both quotes of a run, with the price per GPU-hour when the GPU count is given."""
    at_run, today = quote_view(p.at_run), quote_view(p.today)
    if gpu_count and p.at_run:
        at_run["per_gpu"] = usd(p.at_run.usd_per_hr / gpu_count, 3)
    return {"at_run": at_run, "today": today}


def price_sources(items: list[tuple[str, Priced]], which: str = "at_run") -> list[dict]:
    """The snapshots a page's setups are priced at (``which="today"``: the newer ones), grouped by date, provider
    and source, each with its setups and their prices: what the page's price list says."""
    groups: dict[tuple, dict] = {}
    for label, priced in items:
        q = quote_view(getattr(priced, which))
        if q is None:
            continue
        key = (q["date"], q["provider"] or "", q["source"], q["url"] or "", q["basis"])
        groups.setdefault(key, {**q, "setups": []})["setups"].append({"label": label, "usd": q["usd"]})
    return [groups[k] for k in sorted(groups)]
