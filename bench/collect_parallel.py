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

from tests.simfleet import Fleet, collect, inventory  # noqa: E402

PHASES = ("connecting", "preflight", "image", "starting", "loading", "benchmark", "cleanup", "saving")


def phase_medians(data: Path) -> str:
    """Median seconds per phase over the hosts, from the timeline each run's status recorded."""
    import json
    import statistics

    timelines = json.loads((data.parent / "timelines.json").read_text())
    spans: dict[str, list[float]] = {}
    for timeline in timelines:
        for (name, start), (_, end) in zip(timeline, timeline[1:]):
            spans.setdefault(name, []).append(end - start)
    return "  ".join(f"{p} {statistics.median(spans[p]):.1f}" for p in PHASES if p in spans)

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
                out = collect(fleet, inv, Path(tmp) / "data", token=None, timeout=1200,
                              env={"GPUBENCH_TIMELINES": str(Path(tmp) / "timelines.json")})
                wall = time.monotonic() - start
                phases = phase_medians(Path(tmp) / "data") if out.returncode == 0 else ""
            if out.returncode != 0:
                print(out.stdout[-2000:], out.stderr[-2000:])
                raise SystemExit(f"collect failed with {n} hosts")
            print(f"{n:>5}  {wall:9.1f}  {wall / args.seconds:8.2f}   median s per phase: {phases}")
            if n == 8:
                verdict = "met" if wall / args.seconds <= 1.25 else "NOT met"
                print(f"       target wall / T <= 1.25 at 8 hosts: {verdict}")
    finally:
        fleet.close()


if __name__ == "__main__":
    main()
