"""Parse throughput of text-generation-benchmark outputs, against the floor of just reading the same bytes.

Generates a corpus of realistic outputs (full tables with random values, half of them as terminal captures with log
lines, screen escapes and CRLF line ends), then times reading all files, and reading plus parsing them.
Usage: python bench/parse_speed.py [--files N] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collector.parsers.tgi_benchmark import parse_tgi_benchmark  # noqa: E402

PARAMS = [("Model", "meta-llama/Meta-Llama-3.1-70B-Instruct"), ("Sequence Length", "10"), ("Decode Length", "8"),
          ("Top N Tokens", "None"), ("N Runs", "10"), ("Warmups", "1"), ("Temperature", "None"), ("Top K", "None"),
          ("Top P", "None"), ("Typical P", "None"), ("Repetition Penalty", "None"), ("Frequency Penalty", "None"),
          ("Watermark", "false"), ("Do Sample", "false")]


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def merged(rows: list[list[str]], merge_from: int = 0) -> list[list[str]]:
    """Blank every cell equal to the one above, as the tool's tables do."""
    out, previous = [], None
    for row in rows:
        out.append([("" if previous and c == previous[i] and i >= merge_from else c) for i, c in enumerate(row)])
        previous = row
    return out


def output(rng: random.Random, batches=(1, 2, 4, 8, 16, 32, 64, 128)) -> str:
    lat_rows, thr_rows = [], []
    stats = {}
    for b in batches:
        prefill = 20 + 1.7 * b * rng.uniform(0.9, 1.1)
        token = 15 + 0.2 * b * rng.uniform(0.9, 1.1)
        stats[b] = (prefill, token, token * 7)
    for step, idx in (("Prefill", 0), ("Decode (token)", 1), ("Decode (total)", 2)):
        for b in batches:
            v = stats[b][idx]
            cells = [f"{v:.2f} ms", f"{v * 0.97:.2f} ms", f"{v * 1.05:.2f} ms", f"{v:.2f} ms", f"{v * 1.04:.2f} ms",
                     f"{v * 1.04:.2f} ms"]
            lat_rows.append([step, str(b), *cells])
    for step in ("Prefill", "Decode"):
        for b in batches:
            v = b * 10 * 1000 / stats[b][0] if step == "Prefill" else b * 7 * 1000 / stats[b][2]
            thr_rows.append([step, str(b), f"{v:.2f} tokens/secs", f"{v * 0.95:.2f} tokens/secs",
                             f"{v * 1.03:.2f} tokens/secs"])
    return "\n\n\n".join([
        markdown_table(["Parameter", "Value"], [list(p) for p in PARAMS]),
        markdown_table(["Step", "Batch Size", "Average", "Lowest", "Highest", "p50", "p90", "p99"], merged(lat_rows)),
        markdown_table(["Step", "Batch Size", "Average", "Lowest", "Highest"], merged(thr_rows)),
    ]) + "\n"


def capture(rng: random.Random, text: str) -> str:
    screen = "".join(f"\x1b[{rng.randint(1, 40)};{rng.randint(1, 120)}H{rng.randint(0, 9)} / 10" for _ in range(400))
    logs = "INFO text_generation_benchmark: Loading tokenizer\nINFO text_generation_benchmark: Connected\n"
    return (logs + "\x1b[?1049h\x1b[?25l" + screen + "\x1b[?25h\x1b[?1049l" + text).replace("\n", "\r\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(args.files):
            text = output(rng)
            if i % 2:
                text = capture(rng, text)
            path = Path(tmp) / f"out{i}.txt"
            path.write_text(text)
            paths.append(path)
        size = sum(p.stat().st_size for p in paths)
        read_times, parse_times = [], []
        rows = 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            for p in paths:
                p.read_bytes()
            read_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            rows = 0
            for p in paths:
                rows += len(parse_tgi_benchmark(p.read_bytes(), path=str(p)).rows)
            parse_times.append(time.perf_counter() - start)
    read_s, parse_s = min(read_times), min(parse_times)
    mb = size / 1e6
    print(f"corpus: {args.files} outputs, {mb:.1f} MB (half terminal captures), {rows} rows parsed per pass")
    print(f"read only (floor):  {mb / read_s:10.1f} MB/s  ({read_s:.3f} s, best of {args.repeat})")
    print(f"read + parse:       {mb / parse_s:10.1f} MB/s  ({parse_s:.3f} s, best of {args.repeat})")
    print(f"ratio parse/floor:  {parse_s / read_s:10.1f}x slower   ({args.files / parse_s:,.0f} outputs/s)")


if __name__ == "__main__":
    main()
