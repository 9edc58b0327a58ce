"""The gpubench command as users run it: a real process, its output, its exit status, and what it writes."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "tgi"
LLAMA = FIXTURES / "llama2-7b_1shard_tgi-pr868.txt"
SUBCOMMANDS = ["parse", "import", "import-table", "import-specs", "check", "migrate", "summary", "collect", "cleanup",
               "build", "serve", "publish", "price", "price add", "price list", "price remove", "runs", "runs list",
               "runs show", "runs remove"]


def gpubench(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "collector.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != ".lock"}


@pytest.fixture
def data_copy(tmp_path):
    shutil.copytree(ROOT / "data", tmp_path / "data", ignore=shutil.ignore_patterns(".lock"))
    return tmp_path / "data"


@pytest.mark.parametrize("command", [[]] + [c.split() for c in SUBCOMMANDS])
def test_help_explains_every_command(command):
    out = gpubench(*command, "--help")
    assert out.returncode == 0
    assert "usage: gpubench" in out.stdout
    if not command:
        for sub in SUBCOMMANDS:
            assert sub.split()[0] in out.stdout


def test_parse_prints_csv_and_writes_nothing(tmp_path):
    before = snapshot(ROOT / "data")
    out = gpubench("parse", LLAMA)
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["batch_size", "metric", "stat", "value"]
    assert ["1", "prefill_latency_ms", "avg", "31.83"] in rows
    assert ["32", "decode_throughput_tok_per_s", "max", "849.62"] in rows
    assert "p50/p90/p99" in out.stderr  # marked unreliable where shown
    assert snapshot(ROOT / "data") == before


def test_parse_several_files_one_block_each_and_nan_empty():
    nan_file = FIXTURES / "bloomz-7b1_tp2_nan-and-blank-rows.txt"
    out = gpubench("parse", LLAMA, nan_file)
    assert out.returncode == 0, out.stderr
    blocks = out.stdout.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [f"# file: {LLAMA}", f"# file: {nan_file}"]
    assert "16,prefill_latency_ms,avg,\n" in blocks[1]


def test_parse_json_marks_percentiles_unreliable():
    out = gpubench("parse", LLAMA, "--format", "json")
    (doc,) = json.loads(out.stdout)  # a list, whether one file or many
    assert doc["parameters"]["sequence_length"] == 10
    p90 = [r for r in doc["rows"] if r["stat"] == "p90"]
    assert p90 and all(r["reliable"] is False for r in p90)
    assert all(r["reliable"] for r in doc["rows"] if r["stat"] == "avg")


def test_import_adds_run_with_raw_file_and_is_idempotent(data_copy):
    args = ["import", LLAMA, "--gpu", "A10G", "--gpu-count", "1", "--model", "meta-llama/Llama-2-7b-hf",
            "--price", "1.21", "--price-date", "2024-05-01", "--source-url", "https://example.org/post",
            "--data", data_copy]
    before = len(list(csv.DictReader(open(data_copy / "runs.csv"))))
    first = gpubench(*args)
    assert first.returncode == 0, first.stderr
    assert "1 run(s) added" in first.stdout
    runs = list(csv.DictReader(open(data_copy / "runs.csv")))
    mine = [r for r in runs if r["gpu"] == "A10G"]
    assert len(mine) == 1 and len(runs) == before + 1
    run = mine[0]
    assert (run["source"], run["gpu_count"], run["sequence_length"], run["decode_length"]) == ("imported", "1", "10", "8")
    assert run["batch_sizes"] == "1 2 4 8 16 32" and run["prefill_throughput_formula"] == "seq_per_s"
    assert run["host"] == "" and run["measured_at"] == ""  # not given: empty, not invented
    assert (data_copy / run["raw_path"]).read_bytes() == LLAMA.read_bytes()
    results = [r for r in csv.DictReader(open(data_copy / "results.csv")) if r["run_id"] == run["run_id"]]
    assert {"batch_size": "8", "metric": "decode_token_latency_ms", "stat": "p50", "value": "31.4",
            "run_id": run["run_id"]} in results
    assert any(p["gpu"] == "A10G" and p["price_usd_per_hr"] == "1.21" for p in csv.DictReader(open(data_copy / "prices.csv")))
    before = snapshot(data_copy)
    second = gpubench(*args)
    assert second.returncode == 0 and "0 run(s) added" in second.stdout and "already" in second.stdout
    assert snapshot(data_copy) == before
    assert gpubench("check", "--data", data_copy).returncode == 0


BAD_INPUTS = {
    "empty.txt": (b"", "empty file"),
    "binary.bin": (bytes(range(256)) * 4, "binary"),
    "notes.txt": (b"we ran the benchmark and it was fast\n", "no latency or throughput table"),
    "garbled.txt": (b"| Step | Batch Size | Average | Lowest | Highest |\n|--|--|--|--|--|\n| Prefill | 1 | 3 |\n"
                    b"| Decode | 1 | 2.00 tokens/secs | 1.00 tokens/secs | 3.00 tokens/secs |\n", ":3: garbled row"),
    "header.txt": (b"| Step | Size | Mean |\n|--|--|--|\n| Prefill | 1 | 3 ms |\n", ":1: unknown table header"),
    "unit.txt": (b"| Step | Batch Size | Average | Lowest | Highest |\n|--|--|--|--|--|\n"
                 b"| Decode | 1 | 2.00 tok/min | 1.00 tok/min | 3.00 tok/min |\n", ":3: column Average: unknown unit"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
@pytest.mark.parametrize("command", ["parse", "import"])
def test_bad_input_gives_one_clear_line_and_leaves_data_untouched(tmp_path, data_copy, name, command):
    content, message = BAD_INPUTS[name]
    bad = tmp_path / name
    bad.write_bytes(content)
    before = snapshot(data_copy)
    args = [command, LLAMA, bad]
    if command == "import":
        args += ["--gpu", "A10G", "--gpu-count", "1", "--data", data_copy]
    out = gpubench(*args)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    error_lines = [l for l in out.stderr.splitlines() if l.startswith("gpubench: error:")]
    assert len(error_lines) == 1 and str(bad) in error_lines[0] and message in error_lines[0], out.stderr
    assert out.stdout == ""
    assert snapshot(data_copy) == before  # the good file before it was not imported either


def test_missing_file_and_bad_flags_are_clear(data_copy):
    out = gpubench("parse", "/nonexistent/out.txt")
    assert out.returncode == 1 and "gpubench: error: /nonexistent/out.txt: no such file" in out.stderr
    out = gpubench("import", LLAMA, "--gpu", "A10G", "--gpu-count", "zero", "--data", data_copy)
    assert out.returncode == 2 and "'zero' is not a whole number" in out.stderr
    out = gpubench("import", LLAMA, "--gpu", "A10G", "--gpu-count", "1", "--price", "2", "--data", data_copy)
    assert out.returncode == 1 and "--price-date" in out.stderr


def test_check_reports_bad_data_with_file_and_line(data_copy):
    text = (data_copy / "runs.csv").read_text().replace(",A30,8,", ",A30,eight,", 1)
    (data_copy / "runs.csv").write_text(text)
    out = gpubench("check", "--data", data_copy)
    assert out.returncode == 1
    assert f"{data_copy / 'runs.csv'}:2: column gpu_count: 'eight' is not a whole number" in out.stderr


def test_summary_lists_every_setup():
    out = gpubench("summary", env={"COLUMNS": "160"})
    assert out.returncode == 0, out.stderr
    for setup in ("8x A30", "4x RTX A6000", "4x L40", "2x A100 SXM4", "2x H100 PCIe", "2x A100 PCIe"):
        assert setup in out.stdout
    assert "n/a" in out.stdout  # 2x A100 SXM4 has no published price
    assert "meta-llama/Meta-Llama-3.1-70B-Instruct: static batches (at Massed Compute)" in out.stdout


def test_bundled_data_can_be_rebuilt_identically(tmp_path):
    target = tmp_path / "rebuilt"
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = subprocess.run(["bash", str(ROOT / "scripts/bundle-data.sh"), str(target)], capture_output=True, text=True,
                         env={**os.environ, **env}, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert snapshot(target) == snapshot(ROOT / "data")
