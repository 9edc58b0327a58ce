"""What the person running a collect sees: a live table of the hosts while it runs, and the outcome at the end."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from collector.fleet.hostrun import HostStatus

PHASE_STYLE = {"done": "green", "failed": "red", "cancelled": "yellow", "skipped": "dim"}


def status_table(statuses: list[HostStatus], title: str = "gpubench collect") -> Table:
    """One line per host. Host and phase never shrink (at 80 columns the message gives way, cut with an
    ellipsis)."""
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("host", no_wrap=True, min_width=max([4] + [len(s.name) for s in statuses]))
    table.add_column("phase", no_wrap=True, min_width=9)
    table.add_column("elapsed", justify="right", no_wrap=True, min_width=6)
    table.add_column("last message", overflow="ellipsis", no_wrap=True, max_width=100)
    for s in statuses:
        style = PHASE_STYLE.get(s.phase, "cyan")
        table.add_row(s.name, f"[{style}]{s.phase}[/]", f"{s.elapsed:5.0f}s", _message(s))
    return table


def _message(s: HostStatus) -> str:
    message = s.error or s.message
    return f"{message} | {s.leftover}" if s.leftover else message


class Progress:
    """While a collect runs: the live table on a terminal; elsewhere (CI, a pipe) a plain line each time a host
    changes phase, so the log tells what happened when."""

    def __init__(self, statuses: list[HostStatus], console: Console):
        self.statuses, self.console = statuses, console
        self.live = Live(status_table(statuses), console=console, refresh_per_second=4, transient=False) \
            if console.is_terminal else None
        self.shown: dict[str, int] = {}  # per host, how many of its phases were printed

    def __enter__(self) -> "Progress":
        if self.live:
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.update()
        if self.live:
            self.live.__exit__(*exc)

    def update(self) -> None:
        if self.live:
            self.live.update(status_table(self.statuses))
            return
        for s in self.statuses:
            # every phase the host went through since the last look (its timeline), not only where it is now
            phases = [("queued", None), *s.timeline]
            new, self.shown[s.name] = phases[self.shown.get(s.name, 0):], len(phases)
            for i, (phase, _) in enumerate(new):
                message = _message(s) if i == len(new) - 1 and phase == s.phase else ""
                line = f"{time.strftime('%H:%M:%S')} {s.name}: {phase}" + (f" ({message[:160]})" if message else "")
                self.console.print(line, markup=False, highlight=False, soft_wrap=True)


def print_outcome(statuses: list[HostStatus], data_dir: Path, *, live_drawn: bool) -> int:
    """The end of a collect: the final table (unless the live display left it on screen), what each host did, and
    the exit status (0 all done, 1 a host failed, 130 cancelled)."""
    if not live_drawn:
        Console().print(status_table(statuses, "gpubench collect: summary"))
    done = [s for s in statuses if s.phase == "done"]
    runs = [r for s in done for r in s.run_ids]
    print(f"{len(done)} of {len(statuses)} host(s) collected; data in {data_dir}"
          + (f"; {len(runs)} run(s): {', '.join(runs)}" if runs else ""))
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
