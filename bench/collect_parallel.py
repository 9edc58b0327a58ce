"""How well `gpubench collect` runs hosts in parallel: 1, 4 and 8 simulated hosts (real sshd and dockerd each,
stand-in TGI image) whose benchmark takes a fixed time T. Prints the wall time of the whole collect divided by T;
1.0 would be a collector with no overhead at all. Target: at most 1.25 at 8 hosts.

Usage (as root, with openssh-server, docker.io and busybox-static installed):
    python bench/collect_parallel.py [--seconds T] [--hosts 1,4,8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="benchmark time T per host (default 20)")
    parser.add_argument("--hosts", default="1,4,8")
    args = parser.parse_args()
    counts = [int(x) for x in args.hosts.split(",")]
    fleet = Fleet()
    try:
        started = time.monotonic()
        fleet.hosts(max(counts))
        print(f"fleet of {max(counts)} hosts up in {time.monotonic() - started:.1f} s")
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
    finally:
        fleet.close()


if __name__ == "__main__":
    main()
