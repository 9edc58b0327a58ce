"""Managing data/ as a user does: prices (add, list, remove, conflicts), runs (list, show, remove), what an import
refuses, and the command line's small courtesies. Real processes on a copy of the bundled data."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from collector.data import store
from collector.data.pricing import price_at_run, price_today

ROOT = Path(__file__).resolve().parents[2]
LLAMA = ROOT / "tests" / "fixtures" / "tgi" / "llama2-7b_1shard_tgi-pr868.txt"
NO_TABLE = ROOT / "tests" / "fixtures" / "tgi" / "rocm-gfx90a_llama2-13b_no-parameter-table.txt"
# data/raw/imported/mc2026/llama-3-3-70b-instruct/gpu_2x_h100/20260716T150819Z/vllm-c32.json: vLLM on 2x H100
VLLM_C32 = "raw/imported/mc2026/llama-3-3-70b-instruct/gpu_2x_h100/20260716T150819Z/vllm-c32.json"


def gpubench(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "collector.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, input=stdin, timeout=120)


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != ".lock"}


@pytest.fixture
def data(tmp_path):
    shutil.copytree(ROOT / "data", tmp_path / "data", ignore=shutil.ignore_patterns(".lock"))
    return tmp_path / "data"


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_price_add_list_remove_and_conflicts(data):
    out = gpubench("price", "add", "--gpu", "H100", "--gpu-count", 2, "--price", "5.10", "--date", "2026-11-01",
                   "--provider", "Massed Compute", "--source", "https://example.com/prices", "--data", data)
    assert out.returncode == 0 and "added 2x H100 at 5.1 $/h on 2026-11-01" in out.stdout
    again = gpubench("price", "add", "--gpu", "H100", "--gpu-count", 2, "--price", "5.10", "--date", "2026-11-01",
                     "--provider", "Massed Compute", "--data", data)
    assert again.returncode == 0 and "already there" in again.stdout
    before = snapshot(data)
    conflict = gpubench("price", "add", "--gpu", "H100", "--gpu-count", 2, "--price", "6", "--date", "2026-11-01",
                        "--provider", "Massed Compute", "--data", data)
    assert conflict.returncode == 1 and "Traceback" not in conflict.stderr
    assert "conflicting price for 2x H100 on 2026-11-01 from Massed Compute: 6 $/h" in conflict.stderr
    assert "already has 5.1 $/h" in conflict.stderr and snapshot(data) == before  # refused, nothing dropped
    listed = gpubench("price", "list", "--gpu", "h100", "--data", data)
    assert [(r["gpu"], r["price_usd_per_hr"], r["price_date"]) for r in csv.DictReader(listed.stdout.splitlines())] \
        == [("H100", "5.46", "2026-07-16"), ("H100", "5.1", "2026-11-01"), ("H100 PCIe", "5.98", "2024-08-01")]
    bad = gpubench("price", "add", "--gpu", "H100", "--gpu-count", 2, "--price", "-1", "--date", "2026-11-01",
                   "--data", data)
    assert bad.returncode == 2 and "must be a finite number >= 0" in bad.stderr
    removed = gpubench("price", "remove", "--gpu", "H100", "--gpu-count", 2, "--date", "2026-11-01", "--data", data)
    assert removed.returncode == 0 and "removed 2x H100 at 5.1 $/h on 2026-11-01" in removed.stdout
    missing = gpubench("price", "remove", "--gpu", "H100", "--gpu-count", 2, "--date", "2026-11-01", "--data", data)
    assert missing.returncode == 1 and "no price snapshot for 2x H100 on 2026-11-01" in missing.stderr


def test_a_run_is_priced_by_the_snapshot_of_its_date_and_shows_todays(data):
    assert gpubench("price", "add", "--gpu", "H100", "--gpu-count", 2, "--price", "4.80", "--date", "2026-10-01",
                    "--data", data).returncode == 0
    ds = store.load(data)
    (run,) = [r for r in ds.runs if r.raw_path.startswith(VLLM_C32)]
    at_run, today = price_at_run(run, ds.prices), price_today(run, ds.prices)
    # measured 2026-07-16: the catalog snapshot of that day (2 x 2.73), and the later one as today's price
    assert (at_run.usd_per_hr, at_run.date) == (5.46, "2026-07-16")
    assert (today.usd_per_hr, today.date) == (4.8, "2026-10-01")
    shown = gpubench("runs", "show", run.run_id[:8], "--data", data)
    assert "$5.46/h as of 2026-07-16 (snapshot at the run's date)" in shown.stdout


def test_runs_list_show_and_remove(data):
    listed = list(csv.DictReader(gpubench("runs", "list", "--engine", "vllm", "--gpu", "H100", "--data", data)
                                 .stdout.splitlines()))
    assert {r["engine"].split()[0] for r in listed} == {"vllm"} and all("H100" in r["setup"] for r in listed)
    ds = store.load(data)
    (run,) = [r for r in ds.runs if r.raw_path.startswith(VLLM_C32)]
    shown = gpubench("runs", "show", run.run_id, "--data", data)
    assert "output_throughput_tok_per_s,value,415.5240460132559" in shown.stdout.replace(",,", ",")
    out = gpubench("runs", "remove", run.run_id, "--data", data)
    assert out.returncode == 0 and f"removed {run.run_id}" in out.stdout
    after = store.load(data)
    assert run.run_id not in {r.run_id for r in after.runs}
    assert not [r for r in after.results if r["run_id"] == run.run_id]
    assert not (data / VLLM_C32).exists()  # its raw files went with it, the sweep's others stay
    assert (data / VLLM_C32.replace("vllm-c32", "vllm-c8")).exists()
    assert len(after.runs) == len(ds.runs) - 1
    unknown = gpubench("runs", "remove", "feedbeef", "--data", data)
    assert unknown.returncode == 1 and "no run with id 'feedbeef'" in unknown.stderr


def test_import_refuses_what_would_mislead(data):
    before = snapshot(data)
    no_model = gpubench("import", NO_TABLE, "--gpu", "MI250", "--gpu-count", 1, "--sequence-length", 10,
                        "--data", data)
    assert no_model.returncode == 1 and "no model" in no_model.stderr and "--model" in no_model.stderr
    shards = gpubench("import", LLAMA, "--gpu", "A10G", "--gpu-count", 1, "--num-shard", 2, "--data", data)
    assert shards.returncode == 1 and "--num-shard 2 is more than the 1 GPU(s)" in shards.stderr
    assert snapshot(data) == before
    first = gpubench("import", LLAMA, "--gpu", "A10G", "--gpu-count", 1, "--data", data)
    assert first.returncode == 0, first.stderr
    run_id = first.stdout.split("added")[-1].split()[0]
    relabelled = gpubench("import", LLAMA, "--gpu", "L4", "--gpu-count", 1, "--data", data)
    assert relabelled.returncode == 1
    assert f"already in data/ as run {run_id} on 1x A10G" in relabelled.stderr
    # the model came from the output's own Model row: "| Model | hf-internal-testing/llama-tokenizer |"
    assert [r["model_id"] for r in rows(data / "runs.csv") if r["run_id"] == run_id] == [
        "hf-internal-testing/llama-tokenizer"]


def test_parse_reads_stdin_and_json_is_a_list_and_warns_once():
    text = LLAMA.read_text()
    out = gpubench("parse", "-", "--format", "json", stdin=text)
    (doc,) = json.loads(out.stdout)
    assert doc["file"] == "<stdin>" and doc["parameters"]["sequence_length"] == 10
    two = gpubench("parse", LLAMA, LLAMA, "--format", "json")
    assert len(json.loads(two.stdout)) == 2
    assert two.stderr.count("p50/p90/p99 are kept but not trustworthy") == 1


def test_a_mistyped_flag_shows_the_commands_usage():
    out = gpubench("import", LLAMA, "--gpu-cuont", 2)
    assert out.returncode == 2 and out.stderr.startswith("usage: gpubench import")
    assert "unrecognized arguments: --gpu-cuont" in out.stderr
