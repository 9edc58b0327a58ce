"""The raw files runs refer to (``raw_path``), copied into the built site so that each run's page links to them
and the links work offline.

Only files runs refer to are copied, each once (twenty runs transcribed from one table share it), and none over
``MAX_BYTES``: the site stays the size of what it cites. A file whose type a browser would run or render as a page
(.html, .svg, .js, .md, ...) is published with ``.txt`` added, so a raw output is always shown as text. A path
that leaves data/raw/ is never followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

MAX_BYTES = 20_000_000
SITE_DIR = "data"  # the site mirrors data/: data/runs.csv, data/raw/...
SAFE_SUFFIXES = (".txt", ".json", ".jsonl", ".csv", ".tsv", ".log", ".out", ".err", ".yaml", ".yml", ".png",
                 ".jpg", ".jpeg", ".gif", ".webp")


@dataclass(frozen=True)
class RawFile:
    rel: str  # as runs.csv names it, relative to data/
    site_path: str | None  # where the site publishes it (None: not published)
    size: int | None  # bytes; None when the file is missing
    why_not: str = ""  # why it is not published

    @property
    def name(self) -> str:
        return self.rel.rsplit("/", 1)[-1]

    @property
    def url_path(self) -> str | None:
        return quote(self.site_path) if self.site_path else None


def site_path(rel: str) -> str:
    name = rel if rel.lower().endswith(SAFE_SUFFIXES) else rel + ".txt"
    return f"{SITE_DIR}/{name}"


def _inspect(root: Path, rel: str) -> RawFile:
    raw = (root / "raw").resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(raw) or rel.startswith("/"):
        return RawFile(rel, None, None, "outside data/raw/: not published")
    try:
        size = path.stat().st_size
    except OSError:
        return RawFile(rel, None, None, "not found in data/")
    if not path.is_file():
        return RawFile(rel, None, None, "not a file")
    if size > MAX_BYTES:
        return RawFile(rel, None, size, f"{size / 1e6:,.0f} MB: too large to publish; it is in data/")
    return RawFile(rel, site_path(rel), size)


class RawFiles:
    """Every raw file the runs refer to, inspected once."""

    def __init__(self, root: Path, runs: list):
        self.root = Path(root)
        self.files: dict[str, RawFile] = {}
        for run in runs:
            for rel in (run.raw_path or "").split():
                if rel not in self.files:
                    self.files[rel] = _inspect(self.root, rel)

    def of(self, run) -> list[RawFile]:
        return [self.files[rel] for rel in dict.fromkeys((run.raw_path or "").split())]

    def published(self) -> list[tuple[str, Path]]:
        """(site path, file on disk) of every file to copy."""
        return [(f.site_path, self.root / f.rel) for f in self.files.values() if f.site_path]
