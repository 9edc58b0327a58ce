"""What each `gpubench` command does: a few lines that call one plain function (in collector/ or site_src/) and
report its outcome. Argument parsing is collector/cli.py's."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from collector.data.errors import GpubenchError


def cmd_parse(args: argparse.Namespace) -> int:
    from collector.data.values import format_value
    from collector.parsers import parse_output

    parsed = [p for path in args.files for p in parse_output(_read(path), _name(path),
              sequence_length=args.sequence_length, engine_version=args.engine_version)]
    print_warnings(w for p in parsed for w in p.warnings)
    if args.format == "json":  # always a list, one document per run: the same shape for one file or many
        json.dump([p.to_document() for p in parsed], sys.stdout, indent=2)
        print()
        return 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    for i, p in enumerate(parsed):
        if len(parsed) > 1:
            if i:
                print()
            print(f"# file: {p.path}" + (f" (run at line {p.line})" if getattr(p, "line", None) else ""))
        writer.writerow(p.csv_header)
        for row in p.csv_rows():
            writer.writerow([format_value(v) for v in row])
    return 0


STDIN = Path("-")


def _name(path: Path) -> str:
    return "<stdin>" if path == STDIN else str(path)


def _read(path: Path) -> bytes:
    from collector.parsers.text_input import MAX_INPUT_BYTES, read_output

    if path == STDIN:
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise GpubenchError(f"larger than {MAX_INPUT_BYTES >> 20} MiB: not a benchmark output", path="<stdin>")
        return data
    return read_output(path)


PERCENTILES_WARNING = "p50/p90/p99 are kept but not trustworthy"


def print_warnings(warnings) -> None:
    """Warnings on stderr, the one about text-generation-benchmark's percentiles once per command, not per file."""
    seen_percentiles = False
    for warning in warnings:
        if PERCENTILES_WARNING in warning:
            if seen_percentiles:
                continue
            seen_percentiles = True
            warning = warning[warning.index(PERCENTILES_WARNING):]
        print(f"warning: {warning}", file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> int:
    from collector.importers.files import import_paths

    for path in args.paths:
        if not path.is_dir():
            _read(path)
    provenance = {
        "gpu": args.gpu, "gpu_count": args.gpu_count, "num_shard": args.num_shard, "host": args.host,
        "model_id": args.model, "model_revision": args.model_revision, "engine": args.engine,
        "engine_version": args.engine_version, "image": args.image, "dtype": args.dtype, "quantize": args.quantize,
        "measured_at": args.measured_at, "sequence_length": args.sequence_length, "provider": args.provider,
        "price_usd_per_hr": args.price, "price_date": args.price_date, "price_source": args.price_source,
        "notes": args.notes,
    }
    if args.price is not None and not args.price_date:
        raise GpubenchError("--price needs --price-date (prices change; the date says when it was true)")
    warnings: list[str] = []
    report = import_paths(args.data, args.paths, on_warning=warnings.append, source_url=args.source_url,
                          **provenance)
    print_warnings(w.removeprefix("warning: ") for w in warnings)
    _print_report(report, args.data)
    return 0


def cmd_import_table(args: argparse.Namespace) -> int:
    from collector.importers.transcribed_table import import_transcribed_table

    _read(args.table)
    report = import_transcribed_table(args.data, args.table, args.meta)
    _print_report(report, args.data)
    return 0


def cmd_import_specs(args: argparse.Namespace) -> int:
    from collector.importers.gpu_specs import import_gpu_specs

    count = import_gpu_specs(args.data, args.specs)
    print(f"{count} GPU models written to {args.data}/gpu_specs.csv")
    return 0


def _print_report(report, data_dir: Path) -> None:
    print(f"{len(report.added)} run(s) added to {data_dir}, {len(report.skipped)} already there"
          + (f", {report.prices_added} price snapshot(s) added" if report.prices_added else ""))
    for run_id in report.added:
        print(f"  added   {run_id}")
    for run_id in report.skipped:
        print(f"  skipped {run_id} (already in data/)")
    for redaction in report.redactions:
        print(f"  redacted {redaction} in the raw copy (a secret must not be published)")


def cmd_check(args: argparse.Namespace) -> int:
    from collector.data import store

    ds = store.load(args.data)
    for warning in ds.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{args.data}: OK: {len(ds.runs)} runs, {len(ds.results)} results, {len(ds.prices)} prices, "
          f"{len(ds.gpu_specs)} GPU models")
    return 0


def cmd_price_add(args: argparse.Namespace) -> int:
    from collector.prices import add_price, snapshot

    row = snapshot(args.gpu, args.gpu_count, args.price, args.date, args.provider, args.source)
    added = add_price(args.data, row)
    print(("added" if added else "already there:") + f" {row['gpu_count']}x {row['gpu']} at {row['price_usd_per_hr']:g} "
          f"$/h on {row['price_date']}" + (f" from {row['provider']}" if row["provider"] else ""))
    return 0


def cmd_price_list(args: argparse.Namespace) -> int:
    from collector.data.values import format_value
    from collector.prices import list_prices

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["gpu", "gpu_count", "price_usd_per_hr", "price_date", "provider", "source_url"])
    for p in list_prices(args.data, args.gpu):
        writer.writerow([format_value(p[k]) for k in ("gpu", "gpu_count", "price_usd_per_hr", "price_date",
                                                       "provider", "source_url")])
    return 0


def cmd_price_remove(args: argparse.Namespace) -> int:
    from collector.prices import remove_price

    gone = remove_price(args.data, args.gpu, args.gpu_count, args.date, args.provider)
    print(f"removed {gone['gpu_count']}x {gone['gpu']} at {gone['price_usd_per_hr']:g} $/h on {gone['price_date']}")
    return 0


def cmd_runs_list(args: argparse.Namespace) -> int:
    from collector.runs import list_runs

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["run_id", "source", "date", "model", "setup", "engine", "load", "status", "flags"])
    for r in list_runs(args.data, model=args.model, gpu=args.gpu, engine=args.engine):
        load = (f"c{r.max_concurrency}" if r.max_concurrency else "") if r.benchmark_kind == "serving" \
            else " ".join(map(str, r.batch_sizes))
        writer.writerow([r.run_id, r.source, (r.measured_at or r.published_at or "")[:10], r.model_id or "",
                         f"{r.gpu_count}x {r.gpu}", f"{r.engine} {r.engine_version or ''}".strip(), load, r.status,
                         " ".join(r.validity_flags)])
    return 0


def cmd_runs_show(args: argparse.Namespace) -> int:
    from collector.data.values import format_value
    from collector.runs import show_run

    run, results, price = show_run(args.data, args.run_id)
    for name, value in run.to_row().items():
        if value not in (None, (), ""):
            print(f"{name:28} {format_value(value)}")
    print(f"{'priced at':28} {price}")
    print()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["batch_size", "metric", "stat", "value"])
    for r in results:
        writer.writerow([format_value(r[k]) for k in ("batch_size", "metric", "stat", "value")])
    return 0


def cmd_runs_remove(args: argparse.Namespace) -> int:
    from collector.runs import remove_runs

    for run in remove_runs(args.data, args.run_ids):
        print(f"removed {run.run_id} ({run.gpu_count}x {run.gpu}, {run.engine}, {run.model_id or 'no model'}) with "
              "its results and the raw files no other run uses")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from collector.data import store
    from collector.data.migrate import migrate

    version = store.load(args.data).version  # refuses what it cannot read, before anything is written
    if version == store.SCHEMA_VERSION:
        print(f"{args.data}: already at schema version {version}; nothing to do")
        return 0
    backup = migrate(args.data, version)
    store.load(args.data)
    print(f"{args.data}: upgraded from schema version {version} to {store.SCHEMA_VERSION}; the old files are in "
          f"{backup}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from collector.summary import print_summary

    print_summary(args.data)
    return 0


def _ssh_options(args: argparse.Namespace):
    from collector.fleet.ssh import SshOptions

    return SshOptions(ssh_config=args.ssh_config, known_hosts=args.known_hosts,
                      accept_new_host_keys=args.accept_new_host_keys)


def cmd_collect(args: argparse.Namespace) -> int:
    from rich.console import Console

    from collector.data.store import collect_lock
    from collector.fleet.display import print_outcome
    from collector.fleet.inventory import load_inventory, select_hosts
    from collector.fleet.parallel import run_all

    hosts = select_hosts(load_inventory(args.inventory), args.hosts)
    console = Console(stderr=False)
    with collect_lock(args.data):
        result = run_all(hosts, data_dir=args.data, logs_dir=args.logs, ssh=_ssh_options(args),
                         resume=args.resume, concurrency=args.concurrency, console=console)
    return print_outcome(result.statuses, args.data, live_drawn=console.is_terminal)


def cmd_cleanup(args: argparse.Namespace) -> int:
    from collector.fleet.inventory import load_inventory, select_hosts
    from collector.fleet.parallel import cleanup_all

    hosts = select_hosts(load_inventory(args.inventory), args.hosts)
    failed = False
    for name, outcome in cleanup_all(hosts, _ssh_options(args)):
        print(f"{name}: {outcome}")
        failed |= outcome.startswith("failed")
    return 1 if failed else 0


def cmd_build(args: argparse.Namespace) -> int:
    from site_src.serve import build

    site = build(site_dir=args.site_dir, data_dir=args.data, strict=True)
    print(f"site built from {args.data} into {site}; open {site / 'index.html'} or run 'gpubench serve'")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from site_src.serve import check_port, serve

    check_port(args.dev_addr)  # a busy port is said in one line before anything claims to be serving
    print(f"serving the site from {args.data} at http://{args.dev_addr}/ (Ctrl-C stops; editing data/ rebuilds)")
    serve(data_dir=args.data, dev_addr=args.dev_addr, open_in_browser=args.open)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from site_src.publish import pages_url, publish

    publish(args.remote, message=args.message, site_url=args.site_url, data_dir=args.data)
    url = args.site_url or pages_url(args.remote)
    print(f"site pushed to the gh-pages branch of {args.remote}" + (f"; it will appear at {url}" if url else ""))
    return 0
