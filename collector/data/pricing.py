"""Where a run's cost comes from: the dated price snapshots of prices.csv, not a price frozen into the run.

A run is priced by the snapshot for its GPU model and count that is newest at or before the run's date; a later
snapshot is "today's price". A run that names its provider (runs.csv's provider: who ran the host) is priced only by
that provider's snapshots and by snapshots naming none, never by another provider's (the same GPUs cost differently
elsewhere); a run naming none (unknown) by any provider's. A run with no snapshot at all keeps the price it was
imported with (runs.csv's own columns), and says so; none at all is unknown (n/a), never zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from collector.data.records import Run
from collector.data.tables import Record


@dataclass(frozen=True)
class PriceQuote:
    usd_per_hr: float
    date: str | None
    provider: str | None
    source: str | None
    basis: str  # "snapshot at the run's date" | "snapshot after the run" | "recorded with the run"

    def describe(self) -> str:
        parts = [f"${self.usd_per_hr:,.2f}/h", f"as of {self.date}" if self.date else "undated",
                 f"from {self.provider}" if self.provider else ""]
        return " ".join(p for p in parts if p) + f" ({self.basis})"


def run_date(run: Run) -> str | None:
    """The day a run's numbers are from: when it was measured, else when they were published."""
    stamp = run.measured_at or run.published_at
    return stamp[:10] if stamp else None


def snapshots_for(run: Run, prices: list[Record]) -> list[Record]:
    """The price snapshots of the run's setup (GPU model and count; its provider's or unnamed ones when it has a
    provider), oldest first. On one day, a snapshot naming the run's provider comes after one naming none, so that
    it is the one chosen (pricing takes the last of a day); other ties keep the order of prices.csv."""
    provider = run.provider
    same = [p for p in prices if p["gpu"] == run.gpu and p["gpu_count"] == run.gpu_count
            and (provider is None or p.get("provider") in (None, provider))]
    return sorted(same, key=lambda p: (str(p["price_date"]), provider is not None and p.get("provider") == provider))


def price_at_run(run: Run, prices: list[Record]) -> PriceQuote | None:
    """The price the run is costed at: the newest snapshot at or before its date; without a dated run, or
    without such a snapshot, the earliest one after it; else what was recorded with the run."""
    day = run_date(run)
    snapshots = snapshots_for(run, prices)
    before = [p for p in snapshots if day is None or str(p["price_date"]) <= day]
    if before:
        return _quote(before[-1], "snapshot at the run's date")
    if snapshots:
        return _quote(snapshots[0], "snapshot after the run")
    if run.price_usd_per_hr is not None:
        return PriceQuote(run.price_usd_per_hr, run.price_date, None, run.price_source, "recorded with the run")
    return None


def price_today(run: Run, prices: list[Record]) -> PriceQuote | None:
    """The newest snapshot of the run's setup, when it is newer than the one the run is costed at."""
    snapshots = snapshots_for(run, prices)
    at_run = price_at_run(run, prices)
    if not snapshots or at_run is None:
        return None
    newest = snapshots[-1]
    if at_run.date is not None and str(newest["price_date"]) <= at_run.date:
        return None
    return _quote(newest, "today's price")


def _quote(snapshot: Record, basis: str) -> PriceQuote:
    return PriceQuote(float(snapshot["price_usd_per_hr"]), str(snapshot["price_date"]), snapshot.get("provider"),
                      snapshot.get("source_url"), basis)
