"""Fault-injection report: every case of tests.simfleet.CASES against a stand-in fleet (real sshd and dockerd per
host, stand-in TGI image), as a table: case, expected outcome, observed outcome, containers left, rows lost.
Every row must read "as expected, 0, 0".

Usage (as root, with openssh-server, docker.io and busybox-static installed):  python bench/faults.py [-k WORD]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tests.simfleet import CASES, Fleet, FleetFactory  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", metavar="WORD", help="only cases whose name contains WORD")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.k or args.k in c.name]
    table = Table(title="gpubench fault injection", show_lines=True)
    for name in ("case", "expected", "observed", "result", "containers left", "rows lost", "s"):
        table.add_column(name, overflow="fold")
    pool = Fleet()
    failures = 0
    try:
        for case in cases:
            factory = FleetFactory(pool)
            start = time.monotonic()
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    outcome = case.run(factory, Path(tmp))
                    observed, good, left, lost = (outcome.observed, outcome.as_expected, outcome.containers_left,
                                                  outcome.rows_lost)
                except Exception as e:  # a case that breaks is reported, not hidden
                    observed, good, left, lost = f"case crashed: {type(e).__name__}: {e}", False, -1, -1
                finally:
                    factory.cleanup()
            ok = good and left == 0 and lost == 0
            failures += not ok
            table.add_row(case.name, case.expected, observed, "as expected" if ok else "[red]NOT as expected[/]",
                          str(left), str(lost), f"{time.monotonic() - start:.0f}")
            print(f"{'ok  ' if ok else 'FAIL'} {case.name}", file=sys.stderr)
    finally:
        pool.close()
    Console(width=200).print(table)
    print(f"{len(cases) - failures} of {len(cases)} cases as expected, containers left and rows lost 0")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
