"""Upgrades of older data/ folders, one step per schema version (asv's update_to_N): a user's own data keeps working.

A step only adds columns, with the value every older row had by definition (a version-1 run was a static-batch
run of text-generation-benchmark) or empty where older rows never said (a version-2 run named no provider), so it
loses nothing. `load` applies the steps in memory and says so; `migrate` writes the upgraded files, keeping the old
ones in a backup folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

from collector.data.errors import GpubenchError
from collector.data.schema import RUNS_CSV, SCHEMA_VERSION, TABLES, VERSION_FILE
from collector.data.tables import write_atomic

# version -> table -> {column added by that version: the value of every older row ("" = unknown)}
UPGRADES: dict[int, dict[str, dict[str, str]]] = {
    2: {RUNS_CSV: {
        "benchmark_kind": "static_batch", "benchmark_tool": "text-generation-benchmark", "status": "ok",
        **dict.fromkeys(("benchmark_tool_version", "sweep_id", "failure_reason", "dataset", "input_len", "output_len",
                         "range_ratio", "ignore_eos", "num_prompts", "request_rate", "max_concurrency", "seed",
                         "validity_flags", "validity_notes"), ""),
    }},
    # Who ran the host: older runs never said, so unknown (they are then priced by any provider's snapshot).
    3: {RUNS_CSV: {"provider": ""}},
}


def added_columns(from_version: int, table: str) -> dict[str, str]:
    """The columns the versions after `from_version` added to `table`, with the value older rows get."""
    added: dict[str, str] = {}
    for version in range(from_version + 1, SCHEMA_VERSION + 1):
        added.update(UPGRADES.get(version, {}).get(table, {}))
    return added


def upgrade_text(text: str, table: str, from_version: int) -> str:
    """The CSV text of an older table with the columns later versions added (existing columns untouched)."""
    first = next(csv.reader(io.StringIO(text, newline="")), None)  # the header decides; the rows only if needed
    if not first:
        return text
    header = [h.strip() for h in first]
    fills = {name: value for name, value in added_columns(from_version, table).items() if name not in header}
    if not fills:
        return text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header + list(fills))
    for cells in rows[1:]:
        writer.writerow(cells + list(fills.values()) if any(c.strip() for c in cells) else cells)
    return out.getvalue()


def migrate(root: Path, from_version: int) -> Path:
    """Write data/ at the current schema version; the old files go to a backup folder, whose path is returned."""
    if from_version > SCHEMA_VERSION:
        raise GpubenchError(f"schema version {from_version} is newer than this gpubench ({SCHEMA_VERSION}): "
                            "upgrade gpubench instead", path=str(root / VERSION_FILE))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backup = root / "backup" / f"schema-v{from_version}-{stamp}"
    backup.mkdir(parents=True, exist_ok=False)
    for name in (VERSION_FILE, *TABLES):
        if (root / name).exists():
            shutil.copy2(root / name, backup / name)
    for table in TABLES:  # runs.csv last: the commit point
        path = root / table
        if path.exists():
            write_atomic(path, upgrade_text(path.read_text(encoding="utf-8"), table, from_version).encode())
    write_atomic(root / VERSION_FILE, f"{SCHEMA_VERSION}\n".encode())
    return backup
