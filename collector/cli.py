"""The `gpubench` command: each subcommand parses its arguments, calls one plain function, and reports."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from collector import __version__, settings
from collector.data.errors import GpubenchError


def data_options() -> argparse.ArgumentParser:
    """The --data option every command that reads or writes data/ shares."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help=f"data directory (default: ${settings.DATA_ENV} or ./{settings.DATA_DIR_NAME})")
    return parent


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


# ---------------------------------------------------------------- commands


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
        "measured_at": args.measured_at, "sequence_length": args.sequence_length,
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
    from site_src.serve import serve

    print(f"serving the site from {args.data} at http://{args.dev_addr}/ (Ctrl-C stops; editing data/ rebuilds)")
    serve(data_dir=args.data, dev_addr=args.dev_addr, open_in_browser=args.open)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from site_src.publish import pages_url, publish

    publish(args.remote, message=args.message, site_url=args.site_url, data_dir=args.data)
    url = args.site_url or pages_url(args.remote)
    print(f"site pushed to the gh-pages branch of {args.remote}" + (f"; it will appear at {url}" if url else ""))
    return 0


def new_command(sub, func, name: str, *, help: str, description: str, parents=()) -> argparse.ArgumentParser:
    """A subcommand that calls `func(args)`."""
    p = sub.add_parser(name, parents=list(parents), help=help, description=description)
    p.set_defaults(func=func, parser=p)
    return p


def add_ssh_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inventory", type=Path, metavar="HOSTS_YAML", help="the inventory (see examples/hosts.yaml)")
    p.add_argument("--hosts", metavar="A,B", help="only these hosts (comma-separated names)")
    p.add_argument("--ssh-config", type=Path, metavar="FILE", help="ssh config file (default: ~/.ssh/config)")
    p.add_argument("--known-hosts", type=Path, metavar="FILE",
                   help="known_hosts file (default: the ssh config's UserKnownHostsFile, else ~/.ssh/known_hosts)")
    p.add_argument("--accept-new-host-keys", action="store_true",
                   help="trust hosts seen for the first time and remember their keys (a changed key is always "
                        "refused)")


# ---------------------------------------------------------------- argument parsing


def add_parse(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, cmd_parse, "parse",
        help="print the normalized rows of text-generation-benchmark outputs",
        description="Parse text-generation-benchmark outputs (pastes or terminal captures) and print their rows to "
                    "stdout. Writes nothing. p50/p90/p99 are printed but not trustworthy (see the Methodology page).")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--format", choices=("csv", "json"), default="csv",
                   help="csv: header batch_size,metric,stat,value, one block per file (preceded by '# file: NAME' "
                        "when several files are given); json: rows plus parameters and warnings")
    p.add_argument("--sequence-length", type=positive_int, metavar="N",
                   help="prompt tokens (benchmark -s) when the output lacks its parameter table")
    p.add_argument("--engine-version", metavar="V",
                   help="TGI version that printed the output (decides the prefill throughput formula when the "
                        "latency table is missing)")


def add_import(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, cmd_import, "import", parents=[data],
        help="add benchmark outputs or a results tree to data/ with their provenance",
        description="Parse outputs of text-generation-benchmark, vllm bench serve or sglang.bench_serving (saved "
                    "JSON, JSON lines, printed results, terminal captures) and add each run to data/, with the raw "
                    "file kept under data/raw/ (secrets redacted, and said so). A folder is a results tree laid out "
                    "<model>/<sku>/<timestamp>/{vllm,sglang}-c<N>.json, priced by its catalog-gpus.json. Importing "
                    "the same output again changes nothing.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="output files, or results-tree folders")
    p.add_argument("--gpu", metavar="NAME", help="GPU model, e.g. 'H100 SXM' (needed for files)")
    p.add_argument("--gpu-count", type=positive_int, metavar="N", help="GPUs in the instance (needed for files)")
    p.add_argument("--engine", choices=("tgi", "vllm", "sglang"),
                   help="inference server (default: the one whose benchmark wrote the file)")
    p.add_argument("--num-shard", type=positive_int, metavar="N", help="tensor-parallel shards (default: unknown)")
    p.add_argument("--model", metavar="ID", help="served model id (the output names only the tokenizer)")
    p.add_argument("--model-revision", metavar="REV")
    p.add_argument("--host", metavar="LABEL", help="where it ran")
    p.add_argument("--measured-at", metavar="DATE", help="when it ran (ISO 8601)")
    p.add_argument("--engine-version", metavar="V", help="server version, e.g. TGI 3.3.5 or vLLM 0.8.5")
    p.add_argument("--image", metavar="REF", help="container image that ran")
    p.add_argument("--dtype", metavar="DTYPE", help="weights precision, e.g. bfloat16")
    p.add_argument("--quantize", metavar="METHOD", help="quantization, e.g. fp8")
    p.add_argument("--sequence-length", type=positive_int, metavar="N",
                   help="prompt tokens when the output lacks its parameter table")
    p.add_argument("--price", type=non_negative_float, metavar="USD_PER_HOUR", help="instance price per hour")
    p.add_argument("--price-date", metavar="YYYY-MM-DD", help="date of that price (required with --price)")
    p.add_argument("--price-source", metavar="URL", help="where the price was read")
    p.add_argument("--source-url", metavar="URL",
                   help="where the output was published (for a results tree: the URL of its root folder)")
    p.add_argument("--notes", metavar="TEXT", help="caveats worth keeping with the run")


def add_import_table(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, cmd_import_table, "import-table", parents=[data],
        help="add a table of averages transcribed from a publication",
        description="Import a CSV of averages read off a publication (columns model, config, num_shard, "
                    "price_usd_per_hr, batch_size, <metrics>, source_url) with a YAML file stating the setup the "
                    "publication used for every row.")
    p.add_argument("table", type=Path, metavar="CSV")
    p.add_argument("--meta", type=Path, required=True, metavar="YAML",
                   help="publisher, published_at, reports (model id -> URL), run (engine, image, parameters)")


def add_import_specs(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, cmd_import_specs, "import-specs", parents=[data],
        help="replace data/'s reference GPU datasheet figures",
        description="Copy a GPU datasheet table (gpu, memory_gb, mem_bw_gbps, ...; NA = not supported) into "
                    "data/gpu_specs.csv, keeping the original under data/raw/.")
    p.add_argument("specs", type=Path, metavar="CSV")


def add_check(sub, data: argparse.ArgumentParser) -> None:
    new_command(sub, cmd_check, "check", parents=[data],
        help="validate data/ (columns, types, units, schema version)",
        description="Load data/ the way the site does and report the first problem, with its file and line.")


def add_migrate(sub, data: argparse.ArgumentParser) -> None:
    new_command(sub, cmd_migrate, "migrate", parents=[data],
        help="upgrade data/ written by an older gpubench to this schema",
        description="Rewrite data/ at the current schema version (columns added with the value older rows had; "
                    "nothing lost), keeping the old files under data/backup/. Other commands read older folders as "
                    "they are and say so.")


def add_price(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, None, "price", parents=[data],
        help="the dated price snapshots every cost figure comes from: add, list, remove",
        description="A run is priced by the snapshot for its GPU model and count that is newest at or before the "
                    "run's date; a later one shows as today's price.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = new_command(actions, cmd_price_add, "add", parents=[data], help="add a snapshot",
                    description="Add a price snapshot. The same one again changes nothing; another price for the "
                                "same setup, day and provider is refused.")
    a.add_argument("--gpu", required=True, metavar="NAME", help="GPU model, as the runs name it")
    a.add_argument("--gpu-count", required=True, type=positive_int, metavar="N")
    a.add_argument("--price", required=True, type=non_negative_float, metavar="USD_PER_HOUR", help="instance price")
    a.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the day the price was read")
    a.add_argument("--provider", metavar="NAME", help="who sells it")
    a.add_argument("--source", metavar="URL", help="where the price was read")
    ls = new_command(actions, cmd_price_list, "list", parents=[data], help="list the snapshots (CSV)",
                     description="Print prices.csv's snapshots, by setup and date.")
    ls.add_argument("--gpu", metavar="TEXT", help="only GPU models containing this")
    rm = new_command(actions, cmd_price_remove, "remove", parents=[data], help="remove a snapshot",
                     description="Remove the snapshot of a setup on a day (and provider, when several).")
    rm.add_argument("--gpu", required=True, metavar="NAME")
    rm.add_argument("--gpu-count", required=True, type=positive_int, metavar="N")
    rm.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    rm.add_argument("--provider", metavar="NAME")


def add_runs(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, None, "runs", parents=[data], help="the runs of data/: list, show, remove",
                    description="Every run, with its provenance, numbers, validity flags and raw files.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = new_command(actions, cmd_runs_list, "list", parents=[data], help="one line per run (CSV)",
                     description="List the runs: id, source, date, model, setup, engine, load, status, flags.")
    ls.add_argument("--model", metavar="TEXT", help="only models containing this")
    ls.add_argument("--gpu", metavar="TEXT", help="only GPU models containing this")
    ls.add_argument("--engine", metavar="NAME", help="only this engine")
    show = new_command(actions, cmd_runs_show, "show", parents=[data], help="a run's provenance and numbers",
                       description="Print every recorded field of a run, the price it is costed at, and its results.")
    show.add_argument("run_id", metavar="RUN_ID", help="a run id, or an unambiguous prefix of one")
    rm = new_command(actions, cmd_runs_remove, "remove", parents=[data], help="remove runs",
                     description="Remove runs with their results and the raw files no other run uses, at once "
                                 "and under data/'s lock.")
    rm.add_argument("run_ids", nargs="+", metavar="RUN_ID")


def add_summary(sub, data: argparse.ArgumentParser) -> None:
    new_command(sub, cmd_summary, "summary", parents=[data],
        help="print what data/ holds: runs per model and setup, speed and price",
        description="Print a table per model: setups, batch sizes, decode throughput at batch 1 and at the largest "
                    "batch, and the instance price (n/a when unknown).")


def add_collect(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, cmd_collect, "collect", parents=[data],
        help="benchmark every host of an inventory over SSH, in parallel",
        description="On each host: check SSH, Docker, GPUs and disk; start TGI in Docker; wait until it is ready; run"
                    " text-generation-benchmark under a pseudo-terminal; keep the raw output; add the run to data/; "
                    "always remove the container. The Hugging Face token is read from $HF_TOKEN and never written "
                    "anywhere.")
    add_ssh_arguments(p)
    p.add_argument("--resume", action="store_true", help="skip hosts whose run (same model, image, shards and "
                                                        "benchmark parameters) is already in data/")
    p.add_argument("--concurrency", type=positive_int, default=16, metavar="N",
                   help="hosts benchmarked at once (default 16)")
    p.add_argument("--logs", type=Path, default=Path("logs"), metavar="DIR",
                   help="where raw captures of failed hosts go (default ./logs)")


def add_cleanup(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, cmd_cleanup, "cleanup",
        help="remove every gpubench container from the inventory's hosts",
        description="Remove any container carrying the gpubench label on each host, e.g. after a collector was killed"
                    " or lost its connection.")
    add_ssh_arguments(p)


def add_build(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, cmd_build, "build", parents=[data],
        help="build the report site from data/ into site/",
        description="Run 'mkdocs build --strict' with the hooks that turn data/ into pages, charts and cost tables. "
                    "The result works offline (no CDN).")
    p.add_argument("--site-dir", type=Path, default=None, metavar="DIR", help="output folder (default: site/)")


def add_serve(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, cmd_serve, "serve", parents=[data],
        help="preview the report site with live reload",
        description="Run 'mkdocs serve': the site rebuilds when data/ or site_src/ changes.")
    p.add_argument("--dev-addr", default="127.0.0.1:8000", metavar="HOST:PORT",
                   help="address to serve on (default 127.0.0.1:8000)")
    p.add_argument("--open", action="store_true", help="open the site in a browser")


def add_publish(sub, data: argparse.ArgumentParser) -> None:
    p = new_command(sub, cmd_publish, "publish", parents=[data],
        help="build the site and push it to the gh-pages branch of a git remote",
        description="Build the site (strict) and push it to the gh-pages branch of REMOTE, as 'mkdocs gh-deploy' "
                    "does. REMOTE is a remote name (origin) or a URL/path. GitHub Pages then serves it.")
    p.add_argument("remote", metavar="REMOTE")
    p.add_argument("--message", metavar="TEXT", help="commit message of the deploy commit")
    p.add_argument("--site-url", metavar="URL", help="public URL of the site (default: derived from a GitHub remote)")


COMMANDS = (add_parse, add_import, add_import_table, add_import_specs, add_check, add_migrate, add_price, add_runs,
            add_summary, add_collect,
            add_cleanup, add_build, add_serve, add_publish)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpubench",
        description="Benchmark LLM inference servers on GPU hosts and publish speed and cost reports. "
                    "Collect runs over SSH, import published outputs, and build the site from data/.",
        epilog="Run 'gpubench COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"gpubench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    data = data_options()
    for add in COMMANDS:
        add(sub, data)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # a mistyped flag: show the usage of the command it was given to, not gpubench's
        getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if getattr(args, "data", "absent") is None:
        args.data = settings.data_dir()
    try:
        return args.func(args)
    except GpubenchError as e:
        print(f"gpubench: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gpubench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
