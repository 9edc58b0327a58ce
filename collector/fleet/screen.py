"""Follow text-generation-benchmark's full-screen display through a terminal emulator (pyte).

The tool never exits on its own: it keeps its screen up until `q`. After the first frame it only redraws changed
cells, so the raw byte stream cannot be searched for progress; an emulated screen can. What we read:
- the "Total Progress" gauge, labelled `<completed batches> / <batch sizes>`: all done when both numbers are equal;
- the gauges turn red when a batch fails (e.g. out of memory): the tool then stops running batches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyte

COLUMNS, LINES = 160, 50
LABEL = re.compile(r"(\d+)\s*/\s*(\d+)")
RED = {"red", "cd0000", "800000", "ff0000", "brightred"}


@dataclass(frozen=True)
class Progress:
    batches_done: int
    batches_total: int
    failed: bool
    runs: tuple[int, int] | None = None  # the current batch's completed and total runs

    def describe(self) -> str:
        text = f"batches {self.batches_done}/{self.batches_total} done"
        if self.runs and not self.finished:
            text += f", current batch run {self.runs[0]}/{self.runs[1]}"
        return text + (" (a batch failed)" if self.failed else "")

    @property
    def finished(self) -> bool:
        return self.failed or (self.batches_total > 0 and self.batches_done >= self.batches_total)


class AlternateScreen(pyte.Screen):
    """pyte ignores the alternate screen; a real terminal shows it blank. Clear it on entry, or cells the program
    never writes (ratatui skips unchanged blanks) would still show the log lines printed before."""

    def set_mode(self, *modes, **kwargs):
        if kwargs.get("private") and 1049 in modes:
            self.erase_in_display(2)
            self.cursor_position()
        super().set_mode(*modes, **kwargs)


class BenchmarkScreen:
    def __init__(self, columns: int = COLUMNS, lines: int = LINES):
        self.screen = AlternateScreen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        self.stream.feed(data)

    def _title(self, title: str) -> tuple[int, int] | None:
        for row, text in enumerate(self.screen.display):
            col = text.find(title)
            if col >= 0:
                return row, col
        return None

    def gauge(self, title: str) -> tuple[tuple[int, int] | None, bool]:
        """The label numbers of the gauge under `title` and whether the gauge is red."""
        where = self._title(title)
        if where is None:
            return None, False
        row, col = where
        others = [c for t in ("Total Progress", "Batch Progress") if t != title
                  for (r, c) in [self._title(t) or (-1, -1)] if r == row and c > col]
        end = min(others) if others else self.screen.columns
        start = max(0, col - 2)
        for r in range(row + 1, min(row + 3, self.screen.lines)):
            line = self.screen.buffer[r]
            text = "".join(line[c].data for c in range(start, end))
            match = LABEL.search(text)
            if match:
                red = any(line[c].fg in RED or line[c].bg in RED for c in range(start, end))
                return (int(match.group(1)), int(match.group(2))), red
        return None, False

    def progress(self) -> Progress | None:
        label, red = self.gauge("Total Progress")
        if label is None:
            return None
        runs, _ = self.gauge("Batch Progress")
        return Progress(label[0], label[1], red, runs)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)
