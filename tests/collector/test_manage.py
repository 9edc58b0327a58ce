"""Managing data/ as a user does: prices (add, list, remove, conflicts), runs (list, show, remove), what an import
refuses, and the command line's small courtesies. Real processes on a copy of the bundled data."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from collector.data import store
from collector.data.pricing import price_at_run, price_today
from collector.data.records import new_run

ROOT = Path(__file__).resolve().parents[2]
LLAMA = ROOT / "tests" / "fixtures" / "tgi" / "llama2-7b_1shard_tgi-pr868.txt"
NO_TABLE = ROOT / "tests" / "fixtures" / "tgi" / "rocm-gfx90a_llama2-13b_no-parameter-table.txt"
VLLM_JSON = ROOT / "tests" / "fixtures" / "serving" / "handmade_vllm-0.10_e2el-percentiles.json"
# data/raw/imported/mc2026/llama-3-3-70b-instruct/gpu_2x_h100/20260716T150819Z/vllm-c32.json: vLLM on 2x H100
VLLM_C32 = "raw/imported/mc2026/llama-3-3-70b-instruct/gpu_2x_h100/20260716T150819Z/vllm-c32.json"


def gpubench(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "collector.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, input=stdin, timeout=120, env={**os.environ, **(env or {})})


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
    # measured 2026-07-16: the catalog snapshot of that day (2 x 2.73), and the later one (naming no provider, so
    # it may price any provider's run) as today's price
    assert (at_run.usd_per_hr, at_run.date) == (5.46, "2026-07-16")
    assert (today.usd_per_hr, today.date) == (4.8, "2026-10-01")
    shown = gpubench("runs", "show", run.run_id[:8], "--data", data)
    assert "$5.46/h as of 2026-07-16 from Massed Compute (snapshot at the run's date)" in shown.stdout


def test_a_run_is_priced_only_by_its_providers_snapshots(data):
    # Lambda's cheaper snapshots of 2x H100, one of the run's own day and one newer than every other
    for provider, price, day in (("Lambda", "3.99", "2026-07-16"), ("Massed Compute", "4.80", "2026-10-01"),
                                 ("Lambda", "3.50", "2026-11-01")):
        added = gpubench("price", "add", "--gpu", "H100", "--gpu-count", 2, "--price", price, "--date", day,
                         "--provider", provider, "--data", data)
        assert added.returncode == 0, added.stderr
    ds = store.load(data)
    (run,) = [r for r in ds.runs if r.raw_path.startswith(VLLM_C32)]
    # measured 2026-07-16 on Massed Compute's cloud: its catalog snapshot of that day (2 x 2.73), and its own later
    # price as today's; Lambda's prices are another provider's, at the run's date and today alike
    assert run.provider == "Massed Compute"
    at_run, today = price_at_run(run, ds.prices), price_today(run, ds.prices)
    assert (at_run.usd_per_hr, at_run.date, at_run.provider) == (5.46, "2026-07-16", "Massed Compute")
    assert (today.usd_per_hr, today.date, today.provider) == (4.8, "2026-10-01", "Massed Compute")
    shown = gpubench("runs", "show", run.run_id[:8], "--data", data)
    assert "provider                     Massed Compute\n" in shown.stdout
    assert "$5.46/h as of 2026-07-16 from Massed Compute (snapshot at the run's date)" in shown.stdout


def snapshot_row(provider: str | None, price: float, day: str) -> dict:
    return {"gpu": "L40S", "gpu_count": 4, "price_usd_per_hr": price, "price_date": day, "provider": provider,
            "source_url": None}


def test_pricing_by_provider():
    prices = [snapshot_row(None, 9.0, "2024-06-01"), snapshot_row("A", 2.0, "2025-01-01"),
              snapshot_row("B", 1.5, "2025-06-01"), snapshot_row("B", 1.2, "2025-09-01"),
              snapshot_row("A", 1.8, "2025-12-01")]
    run = new_run({"run_id": "r1", "source": "imported", "gpu": "L40S", "gpu_count": 4, "engine": "vllm",
                   "benchmark_kind": "serving", "measured_at": "2025-06-15T10:00:00Z", "provider": "A"}, where="test")

    def quotes(r):
        at, today = price_at_run(r, prices), price_today(r, prices)
        return (at.usd_per_hr, at.provider), (today.usd_per_hr, today.provider) if today else None

    # provider A: A's 2.0 of 2025-01-01 at the run's date (not B's newer 1.5 of 2025-06-01), A's 1.8 today
    assert quotes(run) == ((2.0, "A"), (1.8, "A"))
    # no provider: the newest of any at the run's date (B, 2025-06-01), the newest of all today (A, 2025-12-01)
    assert quotes(run.replace(provider=None)) == ((1.5, "B"), (1.8, "A"))
    # a provider without snapshots of its own: the one naming none (and no newer one of its own for today)
    assert quotes(run.replace(provider="C")) == ((9.0, None), None)
    # on one day, the run's provider's snapshot wins over one naming none, whatever their order in prices.csv
    prices.append(snapshot_row(None, 7.0, "2025-01-01"))
    assert quotes(run)[0] == (2.0, "A")


def test_import_provider_names_the_runs_and_their_price(data):
    out = gpubench("import", LLAMA, "--gpu", "A10G", "--gpu-count", 1, "--price", "1.10", "--price-date",
                   "2025-02-01", "--provider", "Lambda", "--data", data)
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.split("added")[-1].split()[0]
    assert [r["provider"] for r in rows(data / "runs.csv") if r["run_id"] == run_id] == ["Lambda"]
    assert [p for p in rows(data / "prices.csv") if p["gpu"] == "A10G"] == [
        {"gpu": "A10G", "gpu_count": "1", "price_usd_per_hr": "1.1", "price_date": "2025-02-01", "provider": "Lambda",
         "source_url": ""}]
    shown = gpubench("runs", "show", run_id, "--data", data)
    assert "provider                     Lambda\n" in shown.stdout and "from Lambda" in shown.stdout
    serving = gpubench("import", VLLM_JSON, "--gpu", "H100", "--gpu-count", 1, "--provider", "Lambda",
                       "--model", "unsloth/Llama-3.3-70B-Instruct", "--data", data)
    assert serving.returncode == 0, serving.stderr
    serving_id = serving.stdout.split("added")[-1].split()[0]
    assert [r["provider"] for r in rows(data / "runs.csv") if r["run_id"] == serving_id] == ["Lambda"]
    # the summary: a table of one provider's runs says it in its title, a table mixing providers on every setup
    summary = gpubench("summary", "--data", data, env={"COLUMNS": "200"})
    assert "hf-internal-testing/llama-tokenizer: static batches (at Lambda)" in summary.stdout
    assert "unsloth/Llama-3.3-70B-Instruct: serving" in [line.strip() for line in summary.stdout.splitlines()]
    assert "1x H100 at Lambda" in summary.stdout and "2x H100 at Massed Compute" in summary.stdout
    unknown = gpubench("import", NO_TABLE, "--gpu", "MI250", "--gpu-count", 1, "--sequence-length", 10,
                       "--model", "org/m", "--data", data)
    assert unknown.returncode == 0, unknown.stderr
    unknown_id = unknown.stdout.split("added")[-1].split()[0]
    assert [r["provider"] for r in rows(data / "runs.csv") if r["run_id"] == unknown_id] == [""]  # never guessed


TABLE = ("model,config,num_shard,price_usd_per_hr,batch_size,prefill_latency_ms_avg,decode_token_latency_ms_avg,"
         "decode_total_latency_ms_avg,prefill_throughput_avg_seq_per_s,decode_throughput_avg_tok_per_s,source_url\n"
         "org/m,2x H100,2,4.5,1,30,20,140,33.3,50,https://example.org/shot.png\n")


@pytest.mark.parametrize("provider_line, expected", [
    ("provider: Lambda\n", "Lambda"),  # the post of a blog that rented Lambda's GPUs
    ("", "Some Blog"),  # not said: the publisher, who benchmarked its own machines
    ("provider:\n", ""),  # said to be unknown: stays empty
])
def test_import_table_provider(tmp_path, provider_line, expected):
    table, meta = tmp_path / "post.csv", tmp_path / "post.meta.yaml"
    table.write_text(TABLE)
    meta.write_text(f"publisher: Some Blog\n{provider_line}published_at: 2025-03-01\n"
                    "reports: {org/m: https://example.org/post}\nrun: {engine: tgi}\n")
    out = gpubench("import-table", table, "--meta", meta, "--data", tmp_path / "data")
    assert out.returncode == 0, out.stderr
    (run,) = rows(tmp_path / "data" / "runs.csv")
    (price,) = rows(tmp_path / "data" / "prices.csv")
    assert (run["provider"], price["provider"], price["price_usd_per_hr"]) == (expected, expected, "4.5")


def write_rows(path: Path, header: list[str], table: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def test_a_version_2_folder_reads_as_3_and_migrate_adds_an_empty_provider(data):
    # data/ as gpubench wrote it before providers: runs.csv without the column, SCHEMA_VERSION 2
    old = rows(data / "runs.csv")
    v2_rows = [{k: v for k, v in r.items() if k != "provider"} for r in old]
    write_rows(data / "runs.csv", [k for k in old[0] if k != "provider"], v2_rows)
    (data / "SCHEMA_VERSION").write_text("2\n")
    v2_bytes = (data / "runs.csv").read_bytes()
    ds = store.load(data)
    assert ds.version == 2 and len(ds.runs) == len(v2_rows) == 61
    assert {r.provider for r in ds.runs} == {None}  # unknown, never guessed from anything else
    assert any("schema version 2 read as version 3" in w for w in ds.warnings)
    check = gpubench("check", "--data", data)
    assert check.returncode == 0 and "schema version 2 read as version 3" in check.stderr
    out = gpubench("migrate", "--data", data)
    assert out.returncode == 0 and "upgraded from schema version 2 to 3" in out.stdout, out.stderr
    assert (data / "SCHEMA_VERSION").read_text() == "3\n"
    migrated = rows(data / "runs.csv")
    assert [{k: v for k, v in r.items() if k != "provider"} for r in migrated] == v2_rows  # every row and value
    assert [r["provider"] for r in migrated] == [""] * 61
    (backup,) = (data / "backup").iterdir()
    assert (backup / "runs.csv").read_bytes() == v2_bytes and (backup / "SCHEMA_VERSION").read_text() == "2\n"
    assert store.load(data).warnings == []
    again = gpubench("migrate", "--data", data)
    assert again.returncode == 0 and "already at schema version 3; nothing to do" in again.stdout


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
