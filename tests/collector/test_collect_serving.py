"""`gpubench collect` with vLLM and SGLang on simulated hosts (real sshd and Docker engines, stand-in server images:
tests/simfleet/standin_serving/README.md): a host running two engines, one server start per sweep, a failing
point, and --resume."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from tests.simfleet import TOKEN, collect, files_containing, inventory

MODEL = "unsloth/Llama-3.3-70B-Instruct"


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def serving_inventory(tmp_path: Path, hosts, **workload) -> Path:
    path = inventory(tmp_path, hosts, model=MODEL)
    doc = yaml.safe_load(path.read_text())
    doc["defaults"]["engine"] = ["vllm", "sglang"]
    doc["defaults"]["workload"] = {"concurrency": [1, 4], "num_prompts": 8, **workload}
    path.write_text(yaml.safe_dump(doc))
    return path


def values(data: Path, run_id: str) -> dict[tuple[str, str], float]:
    return {(r["metric"], r["stat"]): float(r["value"]) for r in read_csv(data / "results.csv")
            if r["run_id"] == run_id and r["value"]}


def test_one_host_two_engines_one_server_start_per_sweep(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1, BENCH_SECONDS=0.2)
    data = tmp_path / "data"
    inv = serving_inventory(tmp_path, [host])
    doc = yaml.safe_load(inv.read_text())
    doc["defaults"]["provider"] = "Example Cloud"  # in the defaults: every host's
    inv.write_text(yaml.safe_dump(doc))
    out = collect(fleet, inv, data)
    assert out.returncode == 0, out.stderr
    assert [line.split(": ")[1].split(" ")[0] for line in out.stdout.splitlines()
            if f" {host.alias}: starting" in line] == ["starting", "starting"]  # one start per engine
    runs = read_csv(data / "runs.csv")
    assert sorted((r["engine"], r["max_concurrency"]) for r in runs) == [
        ("sglang", "1"), ("sglang", "4"), ("vllm", "1"), ("vllm", "4")]
    by_engine = {e: [r for r in runs if r["engine"] == e] for e in ("vllm", "sglang")}
    for engine, (tool, version) in {"vllm": ("vllm bench serve", "0.33.0"),
                                    "sglang": ("sglang.bench_serving", "0.5.14")}.items():
        mine = by_engine[engine]
        assert len({r["sweep_id"] for r in mine}) == 1  # one server start served the whole sweep
        for r in mine:
            assert (r["benchmark_kind"], r["benchmark_tool"], r["engine_version"], r["status"]) == (
                "serving", tool, version, "ok")  # the version from the server's own endpoint
            assert (r["model_id"], r["input_len"], r["output_len"], r["num_prompts"], r["ignore_eos"]) == (
                MODEL, "128", "128", "8", "true")
            assert r["validity_flags"] == "" and r["image"].endswith(("v0.33.0", "v0.5.14"))
            v = values(data, r["run_id"])
            # ignore-EOS on and fixed lengths: every request generated all it asked, 8 x 128 tokens each way
            assert v[("completed_requests", "value")] == 8 and v[("output_tokens", "value")] == 8 * 128
            assert v[("input_tokens", "value")] == 8 * 128
        log = (data / mine[0]["raw_path"].split()[0]).parent / "server.log"
        started = {"vllm": "vLLM server version 0.33.0", "sglang": "The server is fired up"}[engine]
        assert log.read_text().count(started) == 1
    assert all((data / p).is_file() for r in runs for p in r["raw_path"].split())
    assert {r["provider"] for r in runs} == {"Example Cloud"}
    assert [(p["gpu"], p["price_usd_per_hr"], p["provider"]) for p in read_csv(data / "prices.csv")] == [
        ("H100 SXM", "23.92", "Example Cloud")]  # tests.simfleet.inventory's price for every host
    assert files_containing(data, TOKEN) == [] and fleet.gpubench_containers() == {}


def test_a_failing_point_is_stored_as_failed_and_the_others_kept(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1, BENCH_SECONDS=0.2, FAIL_CONCURRENCY=4)
    data = tmp_path / "data"
    out = collect(fleet, serving_inventory(tmp_path, [host]), data)
    assert out.returncode == 0, out.stderr
    runs = {(r["engine"], r["max_concurrency"]): r for r in read_csv(data / "runs.csv")}
    assert runs[("vllm", "1")]["status"] == runs[("sglang", "1")]["status"] == "ok"
    # vLLM's client records every request's error and writes a result with completed 0 (standin README)
    vllm = runs[("vllm", "4")]
    assert (vllm["status"], vllm["failure_reason"]) == ("failed", "no request completed (8 failed)")
    assert "failed_requests" in vllm["validity_flags"]
    assert set(values(data, vllm["run_id"])) <= {("completed_requests", "value"), ("failed_requests", "value"),
                                                 ("duration_s", "value")}  # no zero latencies
    # SGLang's client crashes (IndexError in calculate_metrics) and appends nothing
    sglang = runs[("sglang", "4")]
    assert sglang["status"] == "failed" and "exited 1 without a result" in sglang["failure_reason"]
    assert "IndexError" in sglang["failure_reason"] and values(data, sglang["run_id"]) == {}
    assert "1 failed" in out.stdout and fleet.gpubench_containers() == {}


def test_resume_skips_engines_already_in_data(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1, BENCH_SECONDS=0.1)
    data = tmp_path / "data"
    path = serving_inventory(tmp_path, [host], concurrency=[2])
    doc = yaml.safe_load(path.read_text())
    doc["defaults"]["engine"] = "vllm"
    path.write_text(yaml.safe_dump(doc))
    assert collect(fleet, path, data).returncode == 0
    doc["defaults"]["engine"] = ["vllm", "sglang"]
    path.write_text(yaml.safe_dump(doc))
    out = collect(fleet, path, data, "--resume")
    assert out.returncode == 0, out.stderr
    assert "vllm: runs" not in out.stdout and "sglang: runs" in out.stdout  # only the engine not done yet ran
    assert sorted(r["engine"] for r in read_csv(data / "runs.csv")) == ["sglang", "vllm"]
    again = collect(fleet, path, data, "--resume")
    assert again.returncode == 0 and "skipped" in again.stdout


def test_a_client_the_servers_image_lacks_runs_in_its_own_container(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1, BENCH_SECONDS=0.1)
    path = serving_inventory(tmp_path, [host], concurrency=[2], tool="sglang.bench_serving")
    doc = yaml.safe_load(path.read_text())
    doc["defaults"]["engine"] = "vllm"  # vLLM's image has no sglang.bench_serving: SGLang's image runs it
    path.write_text(yaml.safe_dump(doc))
    data = tmp_path / "data"
    out = collect(fleet, path, data)
    assert out.returncode == 0, out.stderr
    (run,) = read_csv(data / "runs.csv")
    assert (run["engine"], run["engine_version"], run["benchmark_tool"], run["status"]) == (
        "vllm", "0.33.0", "sglang.bench_serving", "ok")
    assert values(data, run["run_id"])[("completed_requests", "value")] == 8
    assert fleet.gpubench_containers() == {}
