"""`gpubench price add|list|remove`: the dated price snapshots of prices.csv, where every cost figure comes from."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.schema import PRICES_CSV
from collector.data.tables import Record, check_rows


def snapshot(gpu: str, gpu_count: int, usd_per_hr: float, day: str, provider: str | None,
             source: str | None) -> Record:
    """A price snapshot, checked as prices.csv checks it (a date that is a date, a price >= 0)."""
    try:
        if dt.date.fromisoformat(day) > dt.date.today():
            raise GpubenchError(f"--date {day} is in the future: a snapshot records a price seen on that day")
    except ValueError:
        raise GpubenchError(f"--date {day!r} is not a date (YYYY-MM-DD)") from None
    row = {"gpu": gpu.strip(), "gpu_count": gpu_count, "price_usd_per_hr": usd_per_hr, "price_date": day,
           "provider": provider or None, "source_url": source or None}
    if not row["gpu"]:
        raise GpubenchError("--gpu must name a GPU model")
    check_rows([row], PRICES_CSV, display="price")
    return row


def add_price(data_dir: Path, row: Record) -> bool:
    """Add a snapshot; False when the same one is already there. A different price for the same setup, day and
    provider is refused."""
    def change(ds: store.Dataset) -> bool:
        ds.prices, added = store.merge_prices(ds.prices, [row])
        return added == 1

    return bool(store.rewrite(data_dir, change))


def remove_price(data_dir: Path, gpu: str, gpu_count: int, day: str, provider: str | None) -> Record:
    """Remove one snapshot (named by setup, day and provider); refuses when none or several match."""
    def change(ds: store.Dataset) -> Record:
        matches = [p for p in ds.prices if (p["gpu"], p["gpu_count"], p["price_date"]) == (gpu, gpu_count, day)
                   and (provider is None or p.get("provider") == provider)]
        if not matches:
            raise GpubenchError(f"no price snapshot for {gpu_count}x {gpu} on {day}"
                                + (f" from {provider}" if provider else "") + " ('gpubench price list' shows them)")
        if len(matches) > 1:
            raise GpubenchError(f"{len(matches)} snapshots for {gpu_count}x {gpu} on {day}: say which with "
                                "--provider (" + ", ".join(str(p.get("provider")) for p in matches) + ")")
        ds.prices.remove(matches[0])
        return matches[0]

    return store.rewrite(data_dir, change)


def list_prices(data_dir: Path, gpu: str | None = None) -> list[Record]:
    prices = store.load(data_dir).prices
    if gpu:
        prices = [p for p in prices if gpu.lower() in str(p["gpu"]).lower()]
    return sorted(prices, key=lambda p: (str(p["gpu"]), p["gpu_count"], str(p["price_date"])))
