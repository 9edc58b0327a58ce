"""Import a results tree laid out as `<model>/<sku>/<timestamp>/{vllm,sglang}-c<N>.{json,txt}` (the Massed Compute
2026 layout), with a `catalog-gpus.json` at its root giving each SKU's GPU and dated per-GPU price.

Each timestamp folder is one server start per engine: its runs form a sweep. The catalog names no provider (its
`source` is free text): who ran the hosts is what the importer is told (`gpubench import --provider`), else unknown,
and it goes to the runs and to the snapshots made from the catalog alike. Every file is kept under data/raw/ (with
secrets redacted, and said so); a capture whose benchmark never ran becomes a failed run with its reason.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.records import Run, content_id
from collector.data.tables import Record
from collector.importers.runs import price_snapshot, safe_name
from collector.importers.serving import complete_from, failed_run, serving_run
from collector.parsers.secrets import redact_text
from collector.parsers.serving import parse_serving_output
from collector.parsers.text_input import read_output

SKU = re.compile(r"^gpu_(\d+)x_(\w+)$")
RUN_FILE = re.compile(r"^(vllm|sglang)-c(\d+)\.(json|txt)$")
TIMESTAMP = re.compile(r"^\d{8}T\d{6}Z$")
CATALOG = "catalog-gpus.json"


@dataclass(frozen=True)
class SkuPrice:
    gpu: str
    count: int
    usd_per_hr: float | None
    date: str | None
    source: str | None


def load_catalog(root: Path) -> dict[str, SkuPrice]:
    """SKU -> GPU label, count and instance price (the catalog's per-GPU price x count)."""
    path = root / CATALOG
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        date, source = doc.get("updated"), doc.get("source")
        skus = {}
        for gpu in doc["gpus"]:
            for sku in gpu.get("skus", []):
                match = SKU.match(sku)
                if not match:
                    continue
                count, per_gpu = int(match.group(1)), gpu.get("price_usd_per_hour_1x")
                skus[sku] = SkuPrice(gpu["name"], count, None if per_gpu is None else round(per_gpu * count, 4),
                                     date if per_gpu is not None else None, source if per_gpu is not None else None)
        return skus
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise GpubenchError(f"not a GPU catalog (gpus[].name, skus, price_usd_per_hour_1x): {e}",
                            path=str(path)) from None


def sku_setup(sku: str, catalog: dict[str, SkuPrice], where: str) -> SkuPrice:
    if sku in catalog:
        return catalog[sku]
    match = SKU.match(sku)
    if not match:
        raise GpubenchError(f"folder {sku!r} is not a SKU like gpu_2x_h100", path=where)
    return SkuPrice(match.group(2).replace("_", " ").upper(), int(match.group(1)), None, None, None)


@dataclass
class TreeImport:
    runs: list[Run]
    results: list[Record]
    raw_files: dict[str, bytes]
    prices: list[Record]
    redactions: list[str]


def read_results_tree(root: Path, *, source_url: str | None = None, provider: str | None = None) -> TreeImport:
    """Parse every run of the tree (nothing is written): a bad file stops the import with its path."""
    catalog = load_catalog(root)
    out = TreeImport([], [], {}, [], [])
    sweeps = sorted(p for p in root.glob("*/*/*") if p.is_dir() and TIMESTAMP.match(p.name))
    if not sweeps:
        raise GpubenchError("no <model>/<sku>/<timestamp>/ folders found: not a results tree", path=str(root))
    for folder in sweeps:
        _read_sweep(root, folder, sku_setup(folder.parent.name, catalog, str(folder.parent)), source_url, provider,
                    out)
    if catalog:  # where the prices came from
        out.raw_files[str(Path("raw") / "imported" / safe_name(root.name) / CATALOG)] = (root / CATALOG).read_bytes()
    return out


def _read_sweep(root: Path, folder: Path, setup: SkuPrice, source_url: str | None, provider: str | None,
                out: TreeImport) -> None:
    rel = folder.relative_to(root)
    measured_at = dt.datetime.strptime(folder.name, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc).isoformat()
    base = Path("raw") / "imported" / safe_name(root.name) / rel
    kept: dict[str, bytes] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file():
            text, redacted = redact_text(read_output(path))
            kept[path.name] = text.encode("utf-8")
            out.redactions += [f"{rel / path.name}: {r}" for r in redacted]
    out.raw_files.update({str(base / safe_name(name)): data for name, data in kept.items()})
    invocations: dict[tuple[str, int], dict[str, str]] = {}
    for name in kept:
        match = RUN_FILE.match(name)
        if match:
            invocations.setdefault((match.group(1), int(match.group(2))), {})[match.group(3)] = name
    context = _captured_results(kept, rel)
    for (engine, concurrency), files in sorted(invocations.items()):
        name = files.get("json") or files["txt"]
        raw_paths = " ".join(str(base / safe_name(files[k])) for k in ("json", "txt") if k in files)
        provenance = dict(
            source="imported", source_url=f"{source_url.rstrip('/')}/{rel}" if source_url else None,
            measured_at=measured_at, gpu=setup.gpu, gpu_count=setup.count, host=None, provider=provider,
            sweep_id=content_id(str(rel), engine), price_usd_per_hr=setup.usd_per_hr, price_date=setup.date,
            price_source=setup.source, max_concurrency=concurrency)
        run_id = content_id(kept[name], str(rel), name)
        try:
            results = parse_serving_output(kept[name], str(rel / name))
        except GpubenchError as e:
            out.runs.append(failed_run(kept[name].decode("utf-8"), e.message, run_id=run_id, raw_path=raw_paths,
                                       engine=engine, **provenance))
            continue
        for i, result in enumerate(results):
            provenance.pop("max_concurrency", None)  # the file says
            complete_from(result, context)
            run, rows = serving_run(result, run_id=run_id if i == 0 else content_id(run_id, str(i)),
                                    raw_path=raw_paths, **provenance)
            out.runs.append(run)
            out.results += rows
            if run.price_usd_per_hr is not None:
                snapshot = price_snapshot(run)
                if snapshot not in out.prices:
                    out.prices.append(snapshot)


def _captured_results(kept: dict[str, bytes], rel: Path) -> list:
    """What the printed captures and logs of a sweep tell (workload flags, requested lengths), to complete the
    saved results; captures without results are skipped here."""
    found = []
    for name, data in kept.items():
        if name.endswith((".txt", ".log")):
            try:
                found += parse_serving_output(data, str(rel / name))
            except GpubenchError:
                pass
    return found


def import_results_tree(data_dir: Path, root: Path, *, source_url: str | None = None,
                        provider: str | None = None) -> store.AddReport:
    tree = read_results_tree(root, source_url=source_url, provider=provider)
    report = store.add(data_dir, tree.runs, tree.results, raw_files=tree.raw_files, prices=tree.prices)
    report.redactions = tree.redactions
    return report
