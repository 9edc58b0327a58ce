"""What the person running a collect sees: a live table of the hosts while it runs, and the outcome at the end."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.table import Table

from collector.fleet.hostrun import HostStatus

PHASE_STYLE = {"done": "green", "failed": "red", "cancelled": "yellow", "skipped": "dim"}


def status_table(statuses: list[HostStatus], title: str = "gpubench collect") -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("host")
    table.add_column("phase")
    table.add_column("elapsed", justify="right")
    table.add_column("last message", overflow="ellipsis", no_wrap=True, max_width=100)
    for s in statuses:
        style = PHASE_STYLE.get(s.phase, "cyan")
        message = s.error or s.message
        if s.leftover:
            message = f"{message} | {s.leftover}"
        table.add_row(s.name, f"[{style}]{s.phase}[/]", f"{s.elapsed:6.0f}s", message, )
    return table


def print_outcome(statuses: list[HostStatus], data_dir: Path, *, live_drawn: bool) -> int:
    """The end of a collect: the final table (unless the live display left it on screen), what each host did, and
    the exit status (0 all done, 1 a host failed, 130 cancelled)."""
    if not live_drawn:
        from rich.console import Console

        Console().print(status_table(statuses, "gpubench collect: summary"))
    done = [s for s in statuses if s.phase == "done"]
    print(f"{len(done)} of {len(statuses)} host(s) collected; data in {data_dir}"
          + (f"; runs {', '.join(s.run_id for s in done if s.run_id)}" if done else ""))
    for s in statuses:
        for note in s.notes:
            print(f"{s.name}: {note}")
        if s.leftover:
            print(f"warning: {s.leftover}", file=sys.stderr)
        if s.phase in ("failed", "cancelled"):
            print(f"gpubench: error: host {s.name}: {s.error}", file=sys.stderr)
    if any(s.phase == "cancelled" for s in statuses):
        return 130
    return 0 if all(s.phase in ("done", "skipped") for s in statuses) else 1
