"""The `gpubench` command: each subcommand parses its arguments, calls one plain function, and reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from collector import __version__, settings
from collector.commands import (
    cmd_build,
    cmd_check,
    cmd_cleanup,
    cmd_collect,
    cmd_import,
    cmd_import_specs,
    cmd_import_table,
    cmd_migrate,
    cmd_parse,
    cmd_price_add,
    cmd_price_list,
    cmd_price_remove,
    cmd_publish,
    cmd_runs_list,
    cmd_runs_remove,
    cmd_runs_show,
    cmd_serve,
    cmd_summary,
)
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
        help="print the normalized rows of benchmark outputs (any supported tool)",
        description="Parse outputs of text-generation-benchmark, vllm bench serve or sglang.bench_serving (result "
                    "JSON, JSON lines, printed results, terminal captures) and print their rows to stdout. Writes "
                    "nothing. text-generation-benchmark's p50/p90/p99 are printed but not trustworthy.")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="output files; - reads standard input")
    p.add_argument("--format", choices=("csv", "json"), default="csv",
                   help="csv: a header (batch_size,metric,stat,value for static batches; metric,stat,value,"
                        "max_concurrency,request_rate for serving runs) and a block per run, preceded by '# file: "
                        "NAME' when there are several; json: a list, one document per run")
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
    p.add_argument("--provider", metavar="NAME",
                   help="who ran the host and sold its GPU hours, e.g. 'Massed Compute' (also for a results tree; "
                        "the price snapshot names it too, and only its snapshots price these runs; default: unknown)")
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
                   help="publisher, provider (who ran the GPUs; default: the publisher), published_at, reports "
                        "(model id -> URL), run (engine, image, parameters)")


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
                    "run's date (a run that names its provider: only that provider's snapshots, or ones naming "
                    "none); a later one shows as today's price.")
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
