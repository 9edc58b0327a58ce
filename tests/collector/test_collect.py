"""`gpubench collect` against real SSH servers and Docker engines running the stand-in TGI image."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

from tests.simfleet import TOKEN, benchmark_running, collect, collect_command, files_containing, inventory


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_three_hosts_in_parallel(fleet, tmp_path):
    hosts = fleet(3)
    hosts[1].set_gpus(name="NVIDIA L40S", count=4, memory_mib=46068, driver="535.183.01", cuda="12.2")
    for h in hosts:
        h.set_standin(STARTUP_SECONDS=2, REQUIRE_TOKEN=TOKEN)
    inv = inventory(tmp_path, hosts, **{hosts[1].alias: {"gpu": "L40S", "gpus": 4, "provider": "Lambda"}})
    data = tmp_path / "data"
    out = collect(fleet, inv, data)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 of 3 host(s) collected" in out.stdout
    runs = read_csv(data / "runs.csv")
    assert sorted(r["host"] for r in runs) == sorted(h.alias for h in hosts)
    by_host = {r["host"]: r for r in runs}
    l40s = by_host[hosts[1].alias]
    assert (l40s["gpu"], l40s["gpu_count"], l40s["gpu_name_reported"], l40s["gpu_memory_mib"]) == \
        ("L40S", "4", "NVIDIA L40S", "46068")
    assert (l40s["driver_version"], l40s["cuda_version"]) == ("535.183.01", "12.2")
    assert [r["provider"] for r in runs if r["host"] != hosts[1].alias] == ["", ""]  # the inventory did not say
    assert l40s["provider"] == "Lambda"
    # its price (the inventory's 23.92 $/h of 2025-01-15) is Lambda's: the snapshot names it, the others' none
    assert sorted((p["gpu"], p["gpu_count"], p["price_usd_per_hr"], p["provider"])
                  for p in read_csv(data / "prices.csv")) == [("H100 SXM", "8", "23.92", ""),
                                                              ("L40S", "4", "23.92", "Lambda")]
    h100 = by_host[hosts[0].alias]
    assert h100["gpu_name_reported"] == "NVIDIA H100 80GB HBM3" and h100["gpu_count"] == "8"
    assert h100["engine_version"] == "3.3.5" and h100["source"] == "collected"
    assert h100["num_shard"] == "8" and h100["batch_sizes"] == "1 2 4" and h100["failed_batch_sizes"] == ""
    assert h100["launcher_args"] == "--sharded true"  # model, shards and precision have their own columns
    assert h100["image"] == "ghcr.io/huggingface/text-generation-inference:3.3.5"
    assert h100["image_digest"].startswith("sha256:")
    assert (h100["sequence_length"], h100["decode_length"], h100["n_runs"], h100["warmups"]) == ("10", "8", "3", "1")
    assert h100["prefill_throughput_formula"] == "tok_per_s"  # TGI 3.3.5 counts prompt tokens
    assert h100["price_usd_per_hr"] == "23.92" and h100["measured_at"]
    raw_dir = data / h100["raw_path"].rsplit("/", 1)[0]
    assert {p.name for p in raw_dir.iterdir()} == {"benchmark.txt", "info.json", "nvidia-smi.txt", "server.log"}
    assert b"\x1b[?1049h" in (raw_dir / "benchmark.txt").read_bytes()  # the full capture, screen included
    # Expected numbers from the stand-in's documented model (tests/simfleet/standin/README.md), batch 1, 3 runs:
    # prefill latency (20 + 0.15*1*10) * (1 + k1/100), k1(r) = (7r mod 11) - 5 -> r=1..3: 2, -2, 5
    expected = sum(21.5 * (1 + k / 100) for k in (2, -2, 5)) / 3
    results = read_csv(data / "results.csv")
    value = [float(r["value"]) for r in results if r["run_id"] == h100["run_id"] and r["batch_size"] == "1"
             and r["metric"] == "prefill_latency_ms" and r["stat"] == "avg"]
    assert value == [round(expected, 2)]
    assert fleet.gpubench_containers() == {}
    assert files_containing(tmp_path, TOKEN) == []


def test_server_dies_at_start_up_others_finish(fleet, tmp_path):
    good, bad = fleet(2)
    good.set_standin(STARTUP_SECONDS=1)
    bad.set_standin(STARTUP_SECONDS=1, FAIL_AT_START="oom")
    data = tmp_path / "data"
    out = collect(fleet, inventory(tmp_path, [good, bad]), data)
    assert out.returncode == 1
    assert "1 of 2 host(s) collected" in out.stdout
    assert f"host {bad.alias}: server exited at start-up" in out.stderr
    assert "CUDA out of memory" in out.stderr
    assert "Traceback" not in out.stderr
    assert [r["host"] for r in read_csv(data / "runs.csv")] == [good.alias]
    assert fleet.gpubench_containers() == {}
    assert files_containing(tmp_path, TOKEN) == []


def test_failed_batch_is_recorded_as_empty_values(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1, FAIL_BATCH=4)
    data = tmp_path / "data"
    out = collect(fleet, inventory(tmp_path, [host], batch_sizes=(1, 4, 8)), data)
    assert out.returncode == 0, out.stderr
    (run,) = read_csv(data / "runs.csv")
    assert run["batch_sizes"] == "1 4 8" and run["failed_batch_sizes"] == "4 8"
    values = {(r["batch_size"], r["metric"]): r["value"] for r in read_csv(data / "results.csv") if r["stat"] == "avg"}
    assert values[("8", "decode_throughput_tok_per_s")] == ""  # never ran: empty, not zero
    assert float(values[("1", "decode_throughput_tok_per_s")]) > 0
    assert fleet.gpubench_containers() == {}


def test_hung_benchmark_keeps_the_batches_done_before(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=1, HANG="2")  # stalls in batch size 2, after half its runs
    data = tmp_path / "data"
    out = collect(fleet, inventory(tmp_path, [host], batch_sizes=(1, 2, 4), benchmark_timeout_s=6), data)
    assert out.returncode == 1
    assert "benchmark hung" in out.stderr and "time limit of 6 s" in out.stderr and "were kept" in out.stderr
    (run,) = read_csv(data / "runs.csv")
    # on q the tool prints the runs done so far: batch 1 whole, batch 2 partly, batch 4 as NaN
    assert run["batch_sizes"] == "1 2 4" and run["failed_batch_sizes"] == "4"
    assert "hung in batch size 2" in run["failure_reason"] and run["validity_flags"] == "failed_batches"
    results = read_csv(data / "results.csv")
    assert {r["batch_size"] for r in results if r["value"]} == {"1", "2"}
    assert b"NaN" in (data / run["raw_path"]).read_bytes()
    assert fleet.gpubench_containers() == {}


def test_start_up_time_limit(fleet, tmp_path):
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=30)
    out = collect(fleet, inventory(tmp_path, [host], startup_timeout_s=3), tmp_path / "data")
    assert out.returncode == 1 and "not ready after 3 s" in out.stderr
    assert fleet.gpubench_containers() == {}


def test_host_down_and_unknown_host_key(fleet, tmp_path):
    (up,) = fleet(1)
    down = fleet.down_host()
    data = tmp_path / "data"
    out = collect(fleet, inventory(tmp_path, [up, down]), data)
    assert out.returncode == 1
    assert f"host {down.alias}: cannot reach" in out.stderr or f"host {down.alias}: SSH to" in out.stderr
    assert (data / "runs.csv").exists(), out.stdout[-3000:] + out.stderr
    assert [r["host"] for r in read_csv(data / "runs.csv")] == [up.alias]

    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    args = ["--known-hosts", str(empty)]
    out = collect(fleet, inventory(tmp_path, [up]), tmp_path / "data2", *args)
    assert out.returncode == 1
    assert "host key of" in out.stderr and "is unknown" in out.stderr and "ssh-ed25519 SHA256:" in out.stderr
    assert "--accept-new-host-keys" in out.stderr
    assert not (tmp_path / "data2" / "runs.csv").exists()
    out = collect(fleet, inventory(tmp_path, [up]), tmp_path / "data2", *args, "--accept-new-host-keys")
    assert out.returncode == 0, out.stderr
    assert up.address in empty.read_text()  # remembered for next time
    assert fleet.gpubench_containers() == {}


def test_resume_skips_what_is_in_data(fleet, tmp_path):
    a, b = fleet(2)
    data = tmp_path / "data"
    assert collect(fleet, inventory(tmp_path, [a]), data).returncode == 0
    out = collect(fleet, inventory(tmp_path, [a, b]), data, "--resume")
    assert out.returncode == 0, out.stderr
    assert "skipped" in out.stdout
    assert sorted(r["host"] for r in read_csv(data / "runs.csv")) == sorted([a.alias, b.alias])


def test_cleanup_removes_labelled_containers(fleet, tmp_path):
    a, b = fleet(2)
    for h in (a, b):
        h.docker("run", "-d", "--network", "host", "--label", "gpubench=1", "--label", f"gpubench.host={h.alias}",
                 "--name", f"gpubench-left-{h.alias}", "ghcr.io/huggingface/text-generation-inference:3.3.5",
                 "--model-id", "x", "--port", "8099")
        h.docker("run", "-d", "--network", "host", "--name", f"other-{h.alias}",
                 "ghcr.io/huggingface/text-generation-inference:3.3.5", "--model-id", "x", "--port", "8098")
    assert set(fleet.gpubench_containers()) == {a.alias, b.alias}
    out = subprocess.run([sys.executable, "-m", "collector.cli", "cleanup", str(inventory(tmp_path, [a, b])),
                          "--ssh-config", str(fleet.ssh_config), "--known-hosts", str(fleet.known_hosts)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"{a.alias}: removed 1 container(s): gpubench-left-{a.alias}" in out.stdout
    assert fleet.gpubench_containers() == {}
    assert f"other-{a.alias}" in a.docker("ps", "--format", "{{.Names}}").stdout  # not ours: left alone


def test_ctrl_c_removes_every_container(fleet, tmp_path):
    hosts = fleet(2)
    for h in hosts:
        h.set_standin(STARTUP_SECONDS=1, RUN_SECONDS=2)
    data = tmp_path / "data"
    env = {**os.environ, "HF_TOKEN": TOKEN}
    proc = subprocess.Popen(collect_command(fleet, inventory(tmp_path, hosts), data), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until both benchmarks run
        running = [h for h in hosts if benchmark_running(h)]
        if len(running) == len(hosts):
            break
        time.sleep(0.3)
    else:
        proc.kill()
        raise AssertionError("benchmarks never started")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Ctrl-C" in stdout and "cancelled" in stdout
    assert fleet.gpubench_containers() == {}
    assert not (data / "runs.csv").exists() or read_csv(data / "runs.csv") == []


def test_preflight_stops_hosts_with_fewer_gpus_or_no_driver(fleet, tmp_path):
    short, nodriver = fleet(2)
    short.set_gpus(count=4)
    nodriver.remove_nvidia_smi()
    out = collect(fleet, inventory(tmp_path, [short, nodriver]), tmp_path / "data")
    assert out.returncode == 1
    assert f"host {short.alias}: nvidia-smi shows 4 GPU(s), the inventory expects 8" in out.stderr
    assert f"host {nodriver.alias}: nvidia-smi" in out.stderr and "failed" in out.stderr
    assert fleet.gpubench_containers() == {}


def command_lines() -> list[bytes]:
    lines = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    lines.append(f.read())
            except OSError:
                pass
    return lines


def test_token_is_on_no_command_line_of_either_machine(fleet, tmp_path):
    # The collector and the simulated hosts share this machine's /proc: one scan sees both sides.
    (host,) = fleet(1)
    host.set_standin(STARTUP_SECONDS=2, REQUIRE_TOKEN=TOKEN, RUN_SECONDS=0.2)
    env = {**os.environ, "HF_TOKEN": TOKEN}
    proc = subprocess.Popen(collect_command(fleet, inventory(tmp_path, [host]), tmp_path / "data"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    scans = hits = 0
    while proc.poll() is None:
        hits += sum(TOKEN.encode() in line for line in command_lines())
        scans += 1
        time.sleep(0.02)
    out, err = proc.communicate()
    assert proc.returncode == 0, err.decode()  # the gated stand-in got the token
    assert scans > 20 and hits == 0
    assert files_containing(tmp_path, TOKEN) == []
    assert TOKEN.encode() not in out + err
