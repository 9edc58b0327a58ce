"""data/: round trip, merge without loss or duplicates, validation with file and line, schema version."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from collector.data import store
from collector.data.errors import GpubenchError
from collector.data.records import new_run
from collector.data.schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]
# The columns schema version 2 added to runs.csv (serving benchmarks); version 3 added provider.
V2_COLUMNS = ("benchmark_kind", "benchmark_tool", "benchmark_tool_version", "sweep_id", "status", "failure_reason",
              "dataset", "input_len", "output_len", "range_ratio", "ignore_eos", "num_prompts", "request_rate",
              "max_concurrency", "seed", "validity_flags", "validity_notes")


def run(run_id: str, **extra) -> dict:
    return new_run({"run_id": run_id, "source": "imported", "gpu": "H100 SXM", "gpu_count": 8,
                          "engine": "tgi", "benchmark_kind": "static_batch", **extra}, where="test")


def results(run_id: str, batches=(1, 2)) -> list[dict]:
    return [{"run_id": run_id, "batch_size": b, "metric": "decode_throughput_tok_per_s", "stat": "avg",
             "value": 10.5 * b} for b in batches]


def test_round_trip_keeps_values_and_unknowns(tmp_path):
    r = run("a1", batch_sizes=[1, 2], failed_batch_sizes=[], price_usd_per_hr=2.5, price_date="2024-08-01",
            watermark=False, notes='quotes " and, commas\nand a newline')
    rows = results("a1") + [{"run_id": "a1", "batch_size": 4, "metric": "prefill_latency_ms", "stat": "avg",
                             "value": None}]
    store.add(tmp_path, [r], rows)
    ds = store.load(tmp_path)
    assert ds.runs == [r]
    assert ds.runs[0].host is None and ds.runs[0].gpu_memory_mib is None
    assert ds.results == rows
    line = (tmp_path / "results.csv").read_text().splitlines()[-1]
    assert line == "a1,4,prefill_latency_ms,avg,"  # unknown stays empty, never zero
    assert (tmp_path / "SCHEMA_VERSION").read_text().strip() == str(SCHEMA_VERSION)


def test_merge_never_loses_or_duplicates(tmp_path):
    store.add(tmp_path, [run("a1")], results("a1"))
    report = store.add(tmp_path, [run("a1"), run("b2")], results("a1", (1, 2, 4)) + results("b2"))
    assert report.added == ["b2"] and report.skipped == ["a1"]
    ds = store.load(tmp_path)
    assert [r.run_id for r in ds.runs] == ["a1", "b2"]
    assert len(ds.results) == 4  # a1's first two results kept as they were; b2's two added
    again = store.add(tmp_path, [run("a1"), run("b2")], results("a1") + results("b2"))
    assert again.added == [] and (tmp_path / "runs.csv").read_text().count("\n") == 3


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
    store.add(tmp_path, [run("a1")], results("a1"), raw_files={"raw/a1/out.txt": b"raw bytes"})
    assert (tmp_path / "raw/a1/out.txt").read_bytes() == b"raw bytes"
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_results_of_an_unlisted_run_are_ignored_with_a_warning(tmp_path):
    # What an interrupted write leaves: results written, runs.csv (the commit point) not yet.
    store.add(tmp_path, [run("a1")], results("a1"))
    with open(tmp_path / "results.csv", "a") as f:
        f.write("zz9,1,decode_throughput_tok_per_s,avg,3\n")
    ds = store.load(tmp_path)
    assert [r["run_id"] for r in ds.results] == ["a1", "a1"]
    assert "ignored 1 row" in ds.warnings[0]
    store.add(tmp_path, [run("b2")], results("b2"))
    assert "zz9" not in (tmp_path / "results.csv").read_text()


@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(ROOT / "data", target)
    return target


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text().split("\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines))


@pytest.mark.parametrize("file, line, old, new, message", [
    ("runs.csv", 3, ",RTX A6000,4,", ",RTX A6000,four,", "runs.csv:3: column gpu_count: 'four' is not a whole number"),
    ("results.csv", 4, ",393.25", ",393.25 ms", "results.csv:4: column value: '393.25 ms' is not a number"),
    ("results.csv", 2, "prefill_latency_ms", "prefill_latency_s", "results.csv:2: column metric: "
     "'prefill_latency_s' is not one of"),
    ("results.csv", 2, ",avg,", ",average,", "results.csv:2: column stat: 'average' is not one of"),
    ("prices.csv", 2, "2024-08-01", "01/08/2024", "prices.csv:2: column price_date: '01/08/2024' is not a date"),
    ("runs.csv", 1, "gpu_count", "gpus", "runs.csv:1: missing column(s) gpu_count; unknown column(s) gpus"),
])
def test_hand_edited_csv_errors_name_file_line_and_column(data_copy, file, line, old, new, message):
    edit_line(data_copy / file, line, old, new)
    with pytest.raises(GpubenchError) as err:
        store.load(data_copy)
    assert str(err.value).startswith(str(data_copy / message.split(":")[0]))
    assert message.split(":", 1)[1] in str(err.value)


def test_unknown_schema_version_is_refused_with_advice(data_copy):
    (data_copy / "SCHEMA_VERSION").write_text(f"{SCHEMA_VERSION + 1}\n")
    with pytest.raises(GpubenchError, match="upgrade gpubench"):
        store.load(data_copy)


def test_a_version_1_folder_still_loads(data_copy):
    # gpubench before serving benchmarks: static-batch runs only, without the columns versions 2 and 3 added
    with open(data_copy / "runs.csv", newline="") as f:
        reader = csv.DictReader(f)
        static = [r for r in reader if r["benchmark_kind"] == "static_batch"]
    v1_columns = [c for c in reader.fieldnames or () if c not in V2_COLUMNS + ("provider",)]
    with open(data_copy / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, v1_columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(static)
    ids = {r["run_id"] for r in static}
    with open(data_copy / "results.csv", newline="") as f:
        kept = [r for r in csv.DictReader(f) if r["run_id"] in ids]
    with open(data_copy / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(kept[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    (data_copy / "SCHEMA_VERSION").write_text("1\n")
    ds = store.load(data_copy)
    assert "schema version 1 read as version 3" in ds.warnings[0]
    assert len(ds.runs) == len(static) == 10
    assert {(r.benchmark_kind, r.benchmark_tool, r.status, r.provider) for r in ds.runs} == {
        ("static_batch", "text-generation-benchmark", "ok", None)}


def test_missing_file_is_named(data_copy):
    (data_copy / "prices.csv").unlink()
    with pytest.raises(GpubenchError, match=r"prices.csv: file is missing"):
        store.load(data_copy)


def test_a_failed_add_leaves_data_untouched(data_copy):
    (data_copy / "SCHEMA_VERSION").write_text("99\n")
    before = {p: p.read_bytes() for p in data_copy.rglob("*") if p.is_file() and p.name != ".lock"}
    with pytest.raises(GpubenchError):
        store.add(data_copy, [run("new")], results("new"))
    after = {p: p.read_bytes() for p in data_copy.rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == before


def test_frames_use_nullable_types(tmp_path):
    store.add(tmp_path, [run("a1", price_usd_per_hr=None)], results("a1"))
    runs, res, prices, specs = store.load(tmp_path).frames()
    assert str(runs["gpu_count"].dtype) == "Int64"
    assert runs["price_usd_per_hr"].isna().all()
    assert res["value"].tolist() == [10.5, 21.0]
