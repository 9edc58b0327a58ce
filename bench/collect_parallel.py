"""How well `gpubench collect` uses the GPU time it bills, on simulated hosts (real sshd and dockerd each, stand-in
server images).

1. TGI on 1, 4 and 8 hosts whose benchmark takes a fixed time T: the wall time of the whole collect divided by T
   (1.0 would be a collector with no overhead at all; target at most 1.25 at 8 hosts).
2. A vLLM serving sweep (concurrency 1, 8, 32) on 4 hosts: per host, the time beyond server loading and the
   benchmark itself (connecting, preflight, image, start, the client's start per point, copying results out,
   saving, cleanup; target under 3 s per host), and the saving of one server start per sweep against one start per
   point (what the sweep would have cost with a server started for each point, at the measured start-up time and
   at a 70B model's typical 5 minutes).

Usage (as root, with openssh-server, docker.io and busybox-static installed):
    python bench/collect_parallel.py [--seconds T] [--hosts 1,4,8] [--serving-hosts 4] [--startup S]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from rich.console import Console  # noqa: E402

from collector.fleet.inventory import load_inventory  # noqa: E402
from collector.fleet.parallel import run_all  # noqa: E402
from collector.fleet.ssh import SshOptions  # noqa: E402
from tests.simfleet import Fleet, inventory  # noqa: E402

PHASES = ("connecting", "preflight", "image", "starting", "loading", "benchmark", "cleanup", "saving")


def phase_medians(statuses) -> str:
    """Median seconds per phase over the hosts, from the timeline each host's status recorded."""
    import statistics

    spans: dict[str, list[float]] = {}
    for s in statuses:
        timeline = s.timeline + [("end", s.elapsed)]
        for (name, start), (_, end) in zip(timeline, timeline[1:]):
            spans.setdefault(name, []).append(end - start)
    return "  ".join(f"{p} {statistics.median(spans[p]):.1f}" for p in PHASES if p in spans)


def collect(fleet: Fleet, inventory_path: Path, data: Path):
    """The collect as `gpubench collect` runs it (run_all), in this process, so each host's timeline is at hand."""
    ssh = SshOptions(ssh_config=fleet.ssh_config, known_hosts=fleet.known_hosts, accept_new_host_keys=False)
    return run_all(load_inventory(inventory_path), data_dir=data, logs_dir=data.parent / "logs", ssh=ssh,
                   console=Console(file=open("/dev/null", "w")), token="")

RUNS, WARMUPS = 9, 1  # one batch size: (warm-ups + runs) x RUN_SECONDS = T


def phase_seconds(status) -> dict[str, float]:
    """Seconds a host spent in each phase (summed over engines and points)."""
    timeline = status.timeline + [("end", status.elapsed)]
    spent: dict[str, float] = {}
    for (name, start), (_, end) in zip(timeline, timeline[1:]):
        spent[name] = spent.get(name, 0.0) + end - start
    return spent


SWEEP = (1, 8, 32)
LOAD_70B_S = 300.0  # a 70B model's download-free load, profiling and warm-up: minutes


def serving_sweep(fleet: Fleet, n: int, startup_s: float) -> None:
    hosts = fleet.hosts(n)
    for h in hosts:
        h.reset()
        h.set_standin(STARTUP_SECONDS=startup_s, BENCH_SECONDS=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = inventory(Path(tmp), hosts, model="unsloth/Llama-3.3-70B-Instruct", benchmark_timeout_s=600)
        doc = yaml.safe_load(path.read_text())
        doc["defaults"].update(engine="vllm", workload={"concurrency": list(SWEEP), "num_prompts": 64})
        path.write_text(yaml.safe_dump(doc))
        result = collect(fleet, path, Path(tmp) / "data")
    if not result.ok:
        raise SystemExit("serving collect failed: " + "; ".join(f"{s.name}: {s.error}" for s in result.statuses
                                                                 if s.error))
    print(f"\nvLLM sweep at concurrency {', '.join(map(str, SWEEP))} on {n} hosts, server start-up {startup_s:g} s")
    print(f"{'host':>6}  {'elapsed':>8}  {'loading':>8}  {'benchmark':>9}  {'beyond':>7}")
    beyond_all, loads = [], []
    for s in result.statuses:
        spent = phase_seconds(s)
        load = spent.get("starting", 0) + spent.get("loading", 0)
        beyond = s.elapsed - spent.get("loading", 0) - spent.get("benchmark", 0)
        beyond_all.append(beyond)
        loads.append(load)
        print(f"{s.name:>6}  {s.elapsed:8.1f}  {spent.get('loading', 0):8.1f}  {spent.get('benchmark', 0):9.1f}  "
              f"{beyond:7.2f}")
    worst = max(beyond_all)
    print(f"GPU time beyond loading and benchmark: median {statistics.median(beyond_all):.2f} s, worst {worst:.2f} s "
          f"per host; target < 3 s: {'met' if worst < 3 else 'NOT met'}")
    extra = len(SWEEP) - 1
    load = statistics.median(loads)
    print(f"one start per sweep instead of one per point saves {extra} starts: {extra * load:.1f} s per host here "
          f"(start-up {load:.1f} s); with a 70B model's {LOAD_70B_S:.0f} s load, {extra * LOAD_70B_S / 60:.0f} min "
          "of GPU time per host and engine")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="benchmark time T per host (default 20)")
    parser.add_argument("--hosts", default="1,4,8")
    parser.add_argument("--serving-hosts", type=int, default=4, help="hosts for the serving sweep (0: skip it)")
    parser.add_argument("--startup", type=float, default=5.0, help="stand-in server start-up, s (default 5)")
    args = parser.parse_args()
    counts = [int(x) for x in args.hosts.split(",") if x]
    fleet = Fleet()
    try:
        started = time.monotonic()
        fleet.hosts(max(counts + [args.serving_hosts]))
        print(f"fleet of {max(counts + [args.serving_hosts])} hosts up in {time.monotonic() - started:.1f} s")
        print(f"T = {args.seconds:.1f} s of benchmark per host ({WARMUPS + RUNS} runs x "
              f"{args.seconds / (WARMUPS + RUNS):.2f} s), server start-up 1 s")
        print(f"{'hosts':>5}  {'wall (s)':>9}  {'wall / T':>8}")
        for n in counts:
            hosts = fleet.hosts(n)
            for h in hosts:
                h.reset()
                h.set_standin(STARTUP_SECONDS=1, RUN_SECONDS=args.seconds / (WARMUPS + RUNS))
            with tempfile.TemporaryDirectory() as tmp:
                inv = inventory(Path(tmp), hosts, batch_sizes=(1,), runs=RUNS, benchmark_timeout_s=600)
                start = time.monotonic()
                result = collect(fleet, inv, Path(tmp) / "data")
                wall = time.monotonic() - start
            if not result.ok:
                raise SystemExit(f"collect failed with {n} hosts: " + "; ".join(
                    f"{s.name}: {s.error}" for s in result.statuses if s.error))
            phases = phase_medians(result.statuses)
            print(f"{n:>5}  {wall:9.1f}  {wall / args.seconds:8.2f}   median s per phase: {phases}")
            if n == 8:
                verdict = "met" if wall / args.seconds <= 1.25 else "NOT met"
                print(f"       target wall / T <= 1.25 at 8 hosts: {verdict}")
        if args.serving_hosts:
            serving_sweep(fleet, args.serving_hosts, args.startup)
    finally:
        fleet.close()


if __name__ == "__main__":
    main()
