"""One module per benchmark tool's output. `parse_output` finds which tool wrote a file and parses it.

Every parsed output offers the same face to the command line: `path`, `warnings`, `csv_header`, `csv_rows()` and
`to_document()` (what `gpubench parse --format json` prints).
"""

from __future__ import annotations

import re

from collector.data.errors import GpubenchError
from collector.parsers.serving import ServingResult, parse_serving_output
from collector.parsers.text_input import decode_input
from collector.parsers.tgi_benchmark import ParsedBenchmark, parse_tgi_benchmark

# text-generation-benchmark's tables start with one of these header rows; serving tools print no Markdown table.
NOT_SERVING = "not an output of vllm bench serve or sglang.bench_serving"
TGI_TABLE = re.compile(r"^\W*\|\s*(Parameter|Step)\s*\|", re.M)


def parse_output(data: bytes | str, path: str, *, sequence_length: int | None = None,
                 engine_version: str | None = None) -> list[ParsedBenchmark | ServingResult]:
    """The results in one file: a text-generation-benchmark output, or one or more serving benchmark runs.
    Raises GpubenchError (naming the file) for anything else."""
    text = decode_input(data, path, "a text-generation-benchmark output or a serving benchmark result")
    if TGI_TABLE.search(text):
        return [parse_tgi_benchmark(data, path=path, sequence_length=sequence_length, engine_version=engine_version)]
    try:
        return list(parse_serving_output(data, path))
    except GpubenchError as e:
        if e.message.endswith(NOT_SERVING):  # nothing of either kind: say what was looked for
            raise GpubenchError("no latency or throughput table of text-generation-benchmark and no result of vllm "
                                "bench serve or sglang.bench_serving found", path=path) from None
        raise


__all__ = ["ParsedBenchmark", "ServingResult", "parse_output", "parse_serving_output", "parse_tgi_benchmark"]
