"""Import reference GPU datasheet figures into data/gpu_specs.csv."""

from __future__ import annotations

from pathlib import Path

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.schema import GPU_SPECS_CSV
from collector.data.tables import read_table_text
from collector.importers.runs import safe_name


def import_gpu_specs(data_dir: Path, specs_path: Path) -> int:
    """Replace data/'s reference GPU figures with a datasheet table (`NA` means not supported: kept empty)."""
    raw = specs_path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise GpubenchError("not UTF-8 text", path=str(specs_path)) from None
    rows = read_table_text(text, GPU_SPECS_CSV, display=str(specs_path), missing_marks=("NA",))
    for row in rows:
        row.pop("_line")
    base = Path("raw") / "reference"
    store.add(data_dir, [], [], raw_files={str(base / safe_name(specs_path.name)): raw}, gpu_specs=rows)
    return len(rows)
